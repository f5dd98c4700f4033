"""Live data at the REST edge: the WebSocket ``GET /ws`` and the Server-Sent Events routes
``GET /api/stream/candles`` and ``GET /api/stream/prices``, over the application's LiveFeed."""
