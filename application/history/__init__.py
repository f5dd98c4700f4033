"""History: candle ranges of any length, kept in a candle store, exported and backfilled."""
