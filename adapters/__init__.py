"""Adapters: implementations of the domain ports (providers, caches, clock, HTTP)."""
