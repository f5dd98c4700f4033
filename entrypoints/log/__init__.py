"""Logging: structlog configuration, the secret-masking safety net and the access log.

- :mod:`.configure`: :func:`configure_logging`, once per process, before the container;
- :mod:`.redaction`: :class:`SecretRedactor`, last before rendering in every line;
- :mod:`.secrets`: which values are secrets (:func:`secret_values`,
  :func:`secrets_from_environment`);
- :mod:`.stderr`: structlog's final logger, one line per event on stderr;
- :mod:`.request_context`: the request id bound once per request (:func:`bind_request_id`);
- :mod:`.access_log`: the access log the container hands to both edges;
- :mod:`.json_lines`: its hot path in the JSON format.

(``log``, not ``logging``: run with ``entrypoints/`` on ``sys.path``, a package named
``logging`` would shadow the standard library's for the whole process, as
``entrypoints/grpc`` already shadows grpcio then.)
"""

from entrypoints.log.access_log import AccessLog, open_access_log
from entrypoints.log.configure import configure_logging
from entrypoints.log.redaction import REDACTED, SecretRedactor
from entrypoints.log.request_context import bind_request_id
from entrypoints.log.secrets import secret_values, secrets_from_environment

__all__ = [
    "REDACTED",
    "AccessLog",
    "SecretRedactor",
    "bind_request_id",
    "configure_logging",
    "open_access_log",
    "secret_values",
    "secrets_from_environment",
]
