"""Cache backends implementing the Cache port."""
