"""Binance spot WebSocket market streams, combined form: ``{BINANCE_WS_URL}/stream`` with
SUBSCRIBE / UNSUBSCRIBE, ``<market>@kline_<interval>`` and ``<market>@miniTicker``."""

from __future__ import annotations

import json
from collections.abc import Sequence
from random import Random
from typing import Any, Literal

import aiohttp
from pydantic import BaseModel, ConfigDict, StrictBool, TypeAdapter, ValidationError

from adapters.providers.wire import Amount, Price
from adapters.streams.frames import (
    Ack,
    CandleFrame,
    ControlMessage,
    Frame,
    MalformedFrame,
    Notice,
    Rotate,
    TickerFrame,
)
from adapters.streams.market_stream import ShardedMarketStream
from adapters.streams.timing import BINANCE_TIMING, StreamTiming
from domain.candle import Candle
from domain.live import StreamKey
from domain.ports import Clock

NAME = "binance"
MAX_STREAMS = 1024  # per connection
_BASE_ALIASES = {"MATIC": "POL"}  # Binance lists POLUSDT, no longer MATICUSDT
_QUOTES = ("USDT", "USDC")
_INTERVALS = frozenset({"1m", "5m", "15m", "30m", "1h", "4h", "1d", "1w"})  # same names as ours


class _Kline(BaseModel):
    model_config = ConfigDict(extra="ignore")
    t: int
    i: str
    o: Price
    h: Price
    l: Price
    c: Price
    v: Amount
    x: StrictBool


class _KlineEvent(BaseModel):
    model_config = ConfigDict(extra="ignore")
    e: Literal["kline"]
    E: int
    k: _Kline


class _MiniTicker(BaseModel):
    model_config = ConfigDict(extra="ignore")
    e: Literal["24hrMiniTicker"]
    E: int
    c: Price
    o: Price
    h: Price
    l: Price
    v: Amount
    q: Amount


_KLINE = TypeAdapter(_KlineEvent)
_TICKER = TypeAdapter(_MiniTicker)


class BinanceDialect:
    """Topics, batched control messages and frame reading of Binance's combined streams."""

    provider = NAME

    def __init__(self, ws_url: str, batch: int = 200, max_streams: int = MAX_STREAMS) -> None:
        self.url = ws_url.rstrip("/") + "/stream"
        self.max_topics = max_streams
        self._batch = batch

    def topic(self, key: StreamKey) -> str | None:
        """``btcusdt@kline_1m`` / ``btcusdt@miniTicker``; None for quotes Binance lacks."""
        if key.symbol.quote not in _QUOTES:
            return None
        market = (_BASE_ALIASES.get(key.symbol.base, key.symbol.base) + key.symbol.quote).lower()
        if key.interval is None:
            return f"{market}@miniTicker"
        return f"{market}@kline_{key.interval.name}" if key.interval.name in _INTERVALS else None

    def topic_symbol(self, topic: str) -> str:
        """The market of ``topic`` (Binance acknowledges whole messages, so this is rarely used)."""
        return topic.split("@", 1)[0]

    def subscribe(self, topics: Sequence[str], first_id: int) -> list[ControlMessage]:
        """One SUBSCRIBE per ``batch`` streams."""
        return self._messages("SUBSCRIBE", topics, first_id)

    def unsubscribe(self, topics: Sequence[str], first_id: int) -> list[ControlMessage]:
        """One UNSUBSCRIBE per ``batch`` streams."""
        return self._messages("UNSUBSCRIBE", topics, first_id)

    def _messages(self, method: str, topics: Sequence[str], first_id: int) -> list[ControlMessage]:
        chunks = [list(topics[i : i + self._batch]) for i in range(0, len(topics), self._batch)]
        return [
            ControlMessage(
                first_id + n, {"method": method, "params": chunk, "id": first_id + n}, frozenset(chunk)
            )
            for n, chunk in enumerate(chunks)
        ]

    def reader(self) -> BinanceReader:
        """Binance frames carry everything they mean: one reader fits every connection."""
        return BinanceReader()


class BinanceReader:
    """Reads combined-stream frames: control replies, klines, mini tickers, serverShutdown."""

    def read(self, text: str) -> list[Frame]:
        """The frame ``text`` carries."""
        try:
            frame = json.loads(text)
        except ValueError:
            raise MalformedFrame("not JSON") from None
        if not isinstance(frame, dict):
            raise MalformedFrame("not a JSON object")
        if "id" in frame and ("result" in frame or "error" in frame):
            return [_ack(frame)]
        data = frame.get("data", frame)
        if not isinstance(data, dict):
            raise MalformedFrame("no event object")
        event = data.get("e")
        if event == "serverShutdown":
            return [Rotate("serverShutdown")]
        stream = frame.get("stream")
        if not isinstance(stream, str):
            raise MalformedFrame("an event outside a combined stream")
        if event == "kline":
            return [_kline(stream, data)]
        if event == "24hrMiniTicker":
            return [_mini_ticker(stream, data)]
        return [Notice(f"event {event!r}")]


def _ack(frame: dict[str, Any]) -> Ack:
    request_id = frame["id"] if isinstance(frame["id"], int) and not isinstance(frame["id"], bool) else None
    error = frame.get("error")
    if error is None:
        return Ack(request_id, ok=True)
    message = error.get("msg", "") if isinstance(error, dict) else str(error)
    return Ack(request_id, ok=False, reason=str(message))


def _kline(stream: str, data: dict[str, Any]) -> CandleFrame:
    try:
        event = _KLINE.validate_python(data)
    except ValidationError as error:
        raise MalformedFrame(f"kline: {str(error).splitlines()[0]}") from None
    k = event.k
    if k.l > k.h or not k.l <= k.o <= k.h or not k.l <= k.c <= k.h or not stream.endswith("@kline_" + k.i):
        raise MalformedFrame(f"inconsistent kline at {k.t}")
    return CandleFrame(stream, Candle(k.t, k.o, k.h, k.l, k.c, k.v), k.x, event.E)


def _mini_ticker(stream: str, data: dict[str, Any]) -> TickerFrame:
    try:
        t = _TICKER.validate_python(data)
    except ValidationError as error:
        raise MalformedFrame(f"miniTicker: {str(error).splitlines()[0]}") from None
    return TickerFrame(stream, t.c, t.o, t.h, t.l, t.v, t.q, t.E)


def binance_stream(
    session: aiohttp.ClientSession,
    ws_url: str,
    clock: Clock,
    timing: StreamTiming = BINANCE_TIMING,
    rng: Random | None = None,
    max_streams: int = MAX_STREAMS,
) -> ShardedMarketStream:
    """Binance's ``MarketStream`` at ``ws_url`` (the service opens ``{ws_url}/stream``), at
    most ``max_streams`` streams per connection."""
    dialect = BinanceDialect(ws_url, timing.batch, max_streams)
    return ShardedMarketStream(dialect, session, clock, timing, rng)
