"""The JSON messages of the live streams (WebSocket and SSE) as pydantic models.

The same source of truth as ``entrypoints.rest.schemas``: ``messages`` renders every update
through these models and the OpenAPI document describes them from their JSON schemas.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from entrypoints.rest.schemas import ApiModel, Candle, ErrorDetail, Quote, _sandbox

UpdateType = Literal["snapshot", "update"]


class LiveCandle(Candle):
    """A candle as streamed: ``closed`` is true exactly once per candle, on its final values."""

    closed: bool = Field(description="True on the candle's final values (once per candle); false while in progress.")


class CandlesMessage(ApiModel):
    """Candles of one market and interval: a `snapshot` (the most recent candles, up to 100,
    oldest first, the newest in progress), then an `update` on every change."""

    type: UpdateType
    channel: Literal["candles"] = "candles"
    symbol: str = Field(examples=["BTCUSDT"])
    interval: str = Field(examples=["1m"])
    source: str = Field(description="The exchange the candles come from.", examples=["binance"])
    data: list[LiveCandle]
    timestamp: int = Field(description="When the service sent it, epoch milliseconds.")
    event_time: int | None = Field(
        default=None,
        description="The exchange's event time of the newest change, epoch milliseconds (absent when "
        "unknown, as in a snapshot built from REST candles): `timestamp - eventTime` is the delivery lag.",
    )
    sandbox: Literal[True] | None = _sandbox()


class PricesMessage(ApiModel):
    """Quotes: a `snapshot` of every watched asset, then an `update` with the assets that changed."""

    type: UpdateType
    channel: Literal["prices"] = "prices"
    data: list[Quote]
    timestamp: int = Field(description="When the service sent it, epoch milliseconds.")
    event_time: int | None = Field(default=None, description="The exchange's event time of the newest "
                                   "change, epoch milliseconds (absent when unknown).")  # fmt: skip
    sandbox: Literal[True] | None = _sandbox()


class IndicatorsMessage(ApiModel):
    """The indicators of one market and interval (channel `indicators`): a `snapshot` with the
    newest row, then an `update` with the newest row again on every change of the market's
    candles (the live candle moving, or closing). A row is a row of GET /api/indicators."""

    type: UpdateType
    channel: Literal["indicators"] = "indicators"
    symbol: str = Field(examples=["BTCUSDT"])
    interval: str = Field(examples=["1m"])
    indicators: str = Field(description="The indicators as subscribed.", examples=["rsi:14,macd"])
    source: str = Field(description="The exchange the candles come from.", examples=["binance"])
    warmup: int = Field(description="Candles before the row's that went into it (as GET /api/indicators).")
    data: list[dict[str, Any]] = Field(
        description="One row: `timestamp` (the candle's open time) and each indicator by its key.",
        examples=[[{"timestamp": 1717200000000, "rsi_14": 55.1,
                    "macd": {"macd": 12.5, "macdsignal": 10.1, "macdhist": 2.4}}]],
    )  # fmt: skip
    live: bool = Field(description="True when the row's candle is the live one (in progress).")
    timestamp: int = Field(description="When the service made it, epoch milliseconds.")
    event_time: int | None = Field(default=None, description="Updates: the exchange's event time of "
                                   "the candle change that made the row, epoch milliseconds.")  # fmt: skip
    sandbox: Literal[True] | None = _sandbox()


class ClientMessage(ApiModel):
    """What a WebSocket client sends: `subscribe` / `unsubscribe` a channel, or `ping`."""

    op: Literal["subscribe", "unsubscribe", "ping"]
    channel: Literal["candles", "prices", "indicators"] | None = Field(default=None, description="Not with `ping`.")
    symbol: str | None = Field(default=None, description="`candles`, `indicators`: base asset or pair.",
                               examples=["BTC"])  # fmt: skip
    interval: str | None = Field(default=None, description="`candles`, `indicators`: default `1h`.",
                                 examples=["1m"])  # fmt: skip
    indicators: str | None = Field(default=None, description="`indicators`: as GET /api/indicators takes it.",
                                   examples=["rsi:14,macd"])  # fmt: skip
    symbols: list[str] | None = Field(default=None, description="`prices`: none means every supported "
                                      "symbol.", examples=[["BTC", "ETH"]])  # fmt: skip
    id: int | str | None = Field(default=None, description="Optional; echoed in the answer (a string of "
                                 "at most 64 characters, or an integer).")  # fmt: skip


class SubscribedMessage(ApiModel):
    """The answer to `subscribe` / `unsubscribe`: the request's fields, echoed."""

    type: Literal["subscribed", "unsubscribed"]
    op: Literal["subscribe", "unsubscribe"]
    channel: Literal["candles", "prices", "indicators"]
    symbol: str | None = None
    interval: str | None = None
    symbols: list[str] | None = None
    indicators: str | None = None
    id: int | str | None = None


class PongMessage(ApiModel):
    """The answer to `ping` (with the ping's `id`, if it had one)."""

    type: Literal["pong"] = "pong"
    id: int | str | None = None


class ErrorMessage(ApiModel):
    """A request the server refused; the connection stays open. `error` is the REST error
    envelope's (`RATE_LIMITED` carries `retryAfter`)."""

    type: Literal["error"] = "error"
    id: int | str | None = Field(default=None, description="The refused request's `id`, if it had one.")
    error: ErrorDetail


class EndMessage(ApiModel):
    """SSE only (`event: end`): the server ends the stream, saying why; EventSource reconnects."""

    type: Literal["end"] = "end"
    reason: str = Field(examples=["server shutting down"])


LIVE_MODELS: tuple[type[ApiModel], ...] = (
    ClientMessage,
    SubscribedMessage,
    PongMessage,
    CandlesMessage,
    PricesMessage,
    IndicatorsMessage,
    ErrorMessage,
    EndMessage,
)


def without_absent(body: dict[str, Any], *names: str) -> dict[str, Any]:
    """``body`` without the keys among ``names`` whose value is None (absent rather than null)."""
    for name in names:
        if body.get(name, 0) is None:
            del body[name]
    return body
