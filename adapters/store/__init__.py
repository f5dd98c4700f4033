"""Candle stores: the ``CandleStore`` port over SQLite (embedded) or PostgreSQL (shared)."""
