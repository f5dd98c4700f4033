"""Adapters of the live-stream ports: the event bus, the stream lease and the stream demand,
in process (one replica) or on Redis (replicas sharing the upstream streams)."""
