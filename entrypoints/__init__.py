"""Entrypoints: settings, the composition root, logging, REST, gRPC and the CLI."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("crypto-data-engine")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+local"
