"""The provider registry: each provider's id, capabilities, settings, adapter factory and
simulator counterpart (``providers.py``), and the configured lineup built from it."""
