"""The REST server's connections: who may hold how many, how long a request head may take,
and the error envelope for requests aiohttp's HTTP parser refuses (``guarded_runner``)."""

from entrypoints.rest.connections.registry import Admission, ConnectionLimits, ConnectionRegistry
from entrypoints.rest.connections.runner import CONNECTIONS, guarded_runner

__all__ = ["CONNECTIONS", "Admission", "ConnectionLimits", "ConnectionRegistry", "guarded_runner"]
