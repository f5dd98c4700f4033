"""The request id every log line of a request carries, bound once when the request starts.

Both edges call :func:`bind_request_id` as a request (or RPC) begins. The id lives in a
context variable of its own: the access log reads it with one ``get``, and
:func:`add_request_id`, a processor of every other logger, adds it to their lines. That is
cheaper on the hot path than structlog's ``bind_contextvars`` (a dict of tokens per call),
whose ``merge_contextvars`` stays in the chain for anything else bound that way.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from structlog.typing import EventDict

# A context variable, not a global: concurrent requests each see their own id (a task
# runs in a copy of the context it was created in).
_REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)

# The request id bound in this context, None outside a request. The context variable's own
# method, so reading it on the hot path costs no Python call of ours.
bound_request_id = _REQUEST_ID.get


def bind_request_id(request_id: str) -> None:
    """Make ``request_id`` the id of every line logged from here on in this context.

    Requests on one keep-alive connection share a task, hence a context: binding replaces
    the previous request's id.
    """
    _REQUEST_ID.set(request_id)


def add_request_id(logger: Any, method_name: str, event_dict: EventDict) -> EventDict:
    """structlog processor: the bound request id on the line, unless the line has one."""
    request_id = _REQUEST_ID.get()
    if request_id is not None:
        event_dict.setdefault("request_id", request_id)
    return event_dict
