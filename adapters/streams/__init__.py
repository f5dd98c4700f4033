"""Exchange WebSocket market streams: the ``MarketStream`` adapters of Binance and Kraken and
the connection machinery they share (sharding, control-message pacing, liveness, rotation,
backoff)."""
