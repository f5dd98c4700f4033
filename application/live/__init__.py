"""Live data inside the service: the live state, the upstream stream supervisor, and the
fan-out of updates to subscribers (WebSocket, SSE and gRPC clients)."""
