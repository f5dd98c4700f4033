"""The one mapping from errors to gRPC status codes, messages and trailing metadata.

The ``error-code`` trailer carries the REST error code (INVALID_SYMBOL, RATE_LIMITED, ...)
so clients of both transports can share their handling.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import grpc

from application.live.feed import SlowSubscriber
from domain.errors import (
    AllProvidersFailed,
    FeatureDisabled,
    InvalidInput,
    InvalidInterval,
    InvalidSymbol,
    RateLimited,
)
from entrypoints.edge_rules import INTERNAL_MESSAGE, bounded, retry_after_seconds
from entrypoints.shutdown import ShuttingDown

_MAX_REASON = 200  # keeps the trailers far below gRPC's default 8 KiB metadata limit

Metadata = tuple[tuple[str, str], ...]


class TooManyStreams(Exception):
    """A client already holds the most StreamPrices streams it may have open at once."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"too many open streams: at most {limit} per client (GRPC_MAX_STREAMS_PER_CLIENT)")
        self.limit = limit


@dataclass(frozen=True, slots=True)
class RpcFailure:
    """How an error leaves over gRPC."""

    code: grpc.StatusCode
    message: str
    trailers: Metadata = ()


def _invalid(error: InvalidInput) -> RpcFailure:
    if isinstance(error, InvalidSymbol):
        code = "INVALID_SYMBOL"
    elif isinstance(error, InvalidInterval):
        code = "INVALID_INTERVAL"
    else:
        code = "INVALID_PARAMETER"
    field = error.field or "request"
    # gRPC has no structured "field" in the status, so the message starts with it.
    message = error.message if error.message.startswith(field) else f"{field}: {error.message}"
    return RpcFailure(
        grpc.StatusCode.INVALID_ARGUMENT, bounded(message), (("error-code", code), ("error-field", field))
    )


def _providers_failed(error: AllProvidersFailed) -> RpcFailure:
    reasons = {name: why[:_MAX_REASON] for name, why in error.failures.items()}
    summary = "; ".join(f"{name}: {why}" for name, why in reasons.items()) or "no provider configured"
    retry = retry_after_seconds(error.retry_after)
    return RpcFailure(
        grpc.StatusCode.UNAVAILABLE,
        f"no provider could answer and nothing is cached ({summary})",
        (
            ("error-code", "PROVIDER_ERROR"),
            # ensure_ascii: metadata values must be printable ASCII whatever the upstream said
            ("error-details", json.dumps(reasons, ensure_ascii=True)),
            ("retry-after", str(retry)),
        ),
    )


def failure_for(error: BaseException) -> RpcFailure | None:
    """The status for a known error, or ``None`` for a bug (the caller answers INTERNAL)."""
    if isinstance(error, InvalidInput):
        return _invalid(error)
    if isinstance(error, RateLimited):
        return RpcFailure(
            grpc.StatusCode.RESOURCE_EXHAUSTED,
            str(error),
            (
                ("error-code", "RATE_LIMITED"),
                ("retry-after", str(max(1, math.ceil(error.retry_after)))),
                ("x-ratelimit-limit", str(error.limit)),
            ),
        )
    if isinstance(error, TooManyStreams):
        return RpcFailure(
            grpc.StatusCode.RESOURCE_EXHAUSTED,
            str(error),
            (("error-code", "RATE_LIMITED"), ("x-ratelimit-limit", str(error.limit))),
        )
    if isinstance(error, SlowSubscriber):
        return RpcFailure(
            grpc.StatusCode.RESOURCE_EXHAUSTED,
            f"stream dropped: {error.reason}"[:_MAX_REASON],
            (("error-code", "SLOW_SUBSCRIBER"),),
        )
    if isinstance(error, AllProvidersFailed):
        return _providers_failed(error)
    if isinstance(error, FeatureDisabled):
        return RpcFailure(grpc.StatusCode.UNIMPLEMENTED, str(error), (("error-code", "NOT_FOUND"),))
    if isinstance(error, ShuttingDown):
        return RpcFailure(
            grpc.StatusCode.UNAVAILABLE,
            str(error),
            (("error-code", error.code), ("retry-after", str(error.retry_after))),
        )
    return None


def internal_failure() -> RpcFailure:
    """A bug: a generic message, the details only in the logs."""
    return RpcFailure(grpc.StatusCode.INTERNAL, INTERNAL_MESSAGE, (("error-code", "INTERNAL_ERROR"),))
