"""The live routes in the OpenAPI document: ``GET /ws`` and the two SSE routes.

OpenAPI has no words for a WebSocket's messages or an event stream's events, so the routes
say it in prose, the message shapes are components (``schemas.LIVE_MODELS``), and the sample
stream is rendered by the code that renders real events (``messages``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from application.live.updates import CandleUpdate, LiveCandle, PriceUpdate
from domain.candle import Candle
from domain.interval import Interval
from domain.quote import CombinedQuote
from domain.symbol import Symbol
from entrypoints.rest.live.messages import LiveMessages

REF = "#/components/schemas/{model}"
NOW_MS = 1_780_000_000_000
_MINUTE = 60_000
_OPEN = NOW_MS - NOW_MS % _MINUTE

WS_DESCRIPTION = """Upgrades to a WebSocket carrying JSON text messages.

Client → server (`ClientMessage`): `{"op":"subscribe","channel":"candles","symbol":"BTC","interval":"1m","id":7}`,
`{"op":"subscribe","channel":"prices","symbols":["BTC","ETH"]}`, the same with `"op":"unsubscribe"`, and
`{"op":"ping"}`; `id` is optional and echoed.

Server → client: `SubscribedMessage` (the request's fields), then the subscription's snapshot and its
updates (`CandlesMessage`, `PricesMessage`), `PongMessage`, and `ErrorMessage` for a refused request
(REST codes; the connection stays open).

Limits per connection: WS_MAX_SUBSCRIPTIONS subscriptions and WS_MAX_MESSAGES_PER_SECOND client
messages (over either: `RATE_LIMITED`). Close codes: 1009 for a message over WS_MAX_MESSAGE_SIZE bytes,
1003 for a binary frame, 1013 for a client too slow to keep up (the reason says so), 1001 when the
server shuts down, 1006 when a server ping (every WS_HEARTBEAT seconds) goes unanswered."""

SSE_DESCRIPTION = """Server-Sent Events (`text/event-stream`): a `retry:` line, `event: snapshot`, then
`event: update` on every change, each `data:` line the JSON object the WebSocket sends
({schema}). A comment line `: keep-alive` every SSE_KEEPALIVE seconds of silence. {ids} The server
ends the stream with `event: end` (`EndMessage`: shutting down, or the client fell too far behind);
EventSource then reconnects. Bad parameters are answered in the error envelope before the stream
starts; opening a stream counts as one request against the client's limit of the `{group}` group."""

CANDLE_IDS = """Each event's `id:` is `<open time>-closed` or `<open time>-live` of its newest
candle: a reconnecting EventSource sends it as `Last-Event-ID` and receives only what it missed, as
one `update` (that candle again if it was in progress, and every later one), or the whole snapshot
when the server no longer holds the candle it names."""

PRICE_IDS = """Events carry `id:` lines (a sequence number); a reconnecting client receives a fresh
snapshot (a price board is a state, replaced whole)."""


def _sample_candles() -> tuple[CandleUpdate, CandleUpdate]:
    def live(open_ms: int, close: float, closed: bool) -> LiveCandle:
        return LiveCandle(Candle(open_ms, close - 12.5, close + 20.0, close - 30.5, close, 12.75), closed)

    symbol, interval = Symbol("BTC"), Interval("1m")
    snapshot = CandleUpdate("snapshot", symbol, interval, "binance",
                            (live(_OPEN - _MINUTE, 65020.1, True), live(_OPEN, 65050.2, False)), None, NOW_MS, 41)
    update = CandleUpdate("update", symbol, interval, "binance", (live(_OPEN, 65061.9, False),),
                          NOW_MS + 480, NOW_MS + 493, 42)  # fmt: skip
    return snapshot, update


def _sample_prices() -> tuple[PriceUpdate, PriceUpdate]:
    def quote(price: float) -> CombinedQuote:
        return CombinedQuote("BTC", "Bitcoin", price, 1.23, 28_500_000_000.0, 1_284_000_000_000.0,
                             NOW_MS / 1000, ("binance",))  # fmt: skip

    return (PriceUpdate("snapshot", (quote(65080.9),), None, NOW_MS, 7),
            PriceUpdate("update", (quote(65081.4),), NOW_MS + 700, NOW_MS + 712, 8))  # fmt: skip


def _stream_sample(updates: tuple[Any, Any], retry_ms: int = 3000) -> str:
    messages = LiveMessages()
    return f"retry: {retry_ms}\n\n" + "".join(messages.sse(u).decode() for u in updates) + ": keep-alive\n\n"


def live_paths(
    query: Callable[..., dict[str, Any]],
    interval: dict[str, Any],
    errors: Callable[[str, tuple[int, ...]], dict[str, Any]],
) -> dict[str, Any]:
    """The path items of the live routes; ``query`` builds a query parameter, ``errors`` the
    error responses of a path (the REST document's own helpers)."""
    symbol = query("symbol", "Base asset or pair, as for `/api/ohlcv`.", {"type": "string", "minLength": 1,
                                                                            "examples": ["BTC"]}, required=True)  # fmt: skip
    resume = {"name": "Last-Event-ID", "in": "header", "required": False, "schema": {"type": "string"},
              "description": "Sent by a reconnecting EventSource: resume after this event (see above)."}  # fmt: skip

    def stream(operation: str, summary: str, description: str, sample: str, path: str,
               params: list[Any]) -> dict[str, Any]:  # fmt: skip
        media = {"schema": {"type": "string"}, "examples": {"stream": {"summary": "The first events", "value": sample}}}
        responses = {"200": {"description": "The event stream.", "content": {"text/event-stream": media}}}
        responses.update(errors(path, (400, 404, 429, 503, 500)))
        return {"get": {"summary": summary, "description": description, "operationId": operation,
                        "tags": ["live data"], "parameters": params, "responses": responses}}  # fmt: skip

    ws_responses = {"101": {"description": "Switching Protocols: the WebSocket is open."}}
    ws_responses.update(errors("/ws", (400, 404, 503, 500)))
    prices = query("symbols", "Comma list of base assets (or pairs); none means every supported symbol.",
                   {"type": "string", "examples": ["BTC,ETH"]})  # fmt: skip
    return {
        "/ws": {"get": {"summary": "Live candles and prices over a WebSocket", "description": WS_DESCRIPTION,
                        "operationId": "get_ws", "tags": ["live data"], "parameters": [],
                        "responses": ws_responses}},  # fmt: skip
        "/api/stream/candles": stream(
            "get_stream_candles", "Live candles of one market (Server-Sent Events)",
            SSE_DESCRIPTION.format(schema="`CandlesMessage`", ids=CANDLE_IDS, group="ohlcv"),
            _stream_sample(_sample_candles()), "/api/stream/candles",
            [symbol, query("interval", "Candle interval.", interval),
             query("timeframe", "Alias of `interval`, used when `interval` is absent.", interval), resume],
        ),
        "/api/stream/prices": stream(
            "get_stream_prices", "Live prices (Server-Sent Events)",
            SSE_DESCRIPTION.format(schema="`PricesMessage`", ids=PRICE_IDS, group="prices"),
            _stream_sample(_sample_prices()), "/api/stream/prices", [prices],
        ),
    }
