"""``cryptodata.v1``: generated messages and stubs; regenerate with ``python -m protos.generate``."""
