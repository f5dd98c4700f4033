"""Use cases: each takes ports in its constructor, applies domain policy and owns caching."""
