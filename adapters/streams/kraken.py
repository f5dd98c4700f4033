"""Kraken WebSocket v2 (``KRAKEN_WS_URL``): channels ``ohlc`` and ``ticker``, one
acknowledgement per symbol, snapshot then updates, heartbeats.

Kraken's ohlc has no closed flag and sends an update on every trade: a candle is final when
the first update of the next interval arrives, and is then emitted ``closed`` with the last
values it had (the values of its last trade)."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from random import Random
from typing import Any

import aiohttp
from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

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
from adapters.streams.timing import KRAKEN_TIMING, StreamTiming
from domain.candle import Candle
from domain.live import StreamKey
from domain.ports import Clock

NAME = "kraken"
_BASES = {"MATIC": "POL"}  # v2 names bitcoin BTC (not XBT); MATIC became POL
# Kraken's deep markets are USD: USDT keys are streamed from the USD market, as the REST
# adapter answers USDT requests from USD candles.
_QUOTES = {"USDT": "USD", "USD": "USD"}
# No 1w: Kraken's weeks open on Thursday, ours on Monday.
_MINUTES = {"1m": 1, "5m": 5, "15m": 15, "30m": 30, "1h": 60, "4h": 240, "1d": 1440}
_RFC3339 = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z$")


class _Ohlc(BaseModel):
    model_config = ConfigDict(extra="ignore")
    symbol: str
    open: Price
    high: Price
    low: Price
    close: Price
    volume: Amount
    interval_begin: str
    interval: int


class _Ticker(BaseModel):
    model_config = ConfigDict(extra="ignore")
    symbol: str
    last: Price
    change: Decimal | None = None
    high: Price | None = None
    low: Price | None = None
    volume: Amount | None = None
    vwap: Price | None = None


_OHLC = TypeAdapter(list[_Ohlc])
_TICKERS = TypeAdapter(list[_Ticker])


def rfc3339_ms(text: str) -> int:
    """``2024-05-24T05:20:00.000000000Z`` -> epoch ms (exact, any number of fraction digits)."""
    match = _RFC3339.match(text)
    if match is None:
        raise MalformedFrame(f"not an RFC 3339 UTC time: {text[:40]!r}")
    year, month, day, hour, minute, second = (int(part) for part in match.groups()[:6])
    fraction = (match.group(7) or "").ljust(3, "0")[:3]
    moment = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    return int(moment.timestamp()) * 1000 + int(fraction)


class KrakenDialect:
    """Topics (``ohlc:BTC/USD:1``, ``ticker:BTC/USD``), batched control messages (one per
    channel and interval) and frame reading of Kraken v2."""

    provider = NAME
    max_topics = 1024  # Kraken states no cap; shards keep each connection's load sane

    def __init__(self, ws_url: str, clock: Clock, batch: int = 200) -> None:
        self.url = ws_url
        self._clock = clock
        self._batch = batch

    def topic(self, key: StreamKey) -> str | None:
        """The topic of ``key``, or None (no 1w, no USDC)."""
        quote = _QUOTES.get(key.symbol.quote)
        if quote is None:
            return None
        symbol = f"{_BASES.get(key.symbol.base, key.symbol.base)}/{quote}"
        if key.interval is None:
            return f"ticker:{symbol}"
        minutes = _MINUTES.get(key.interval.name)
        return None if minutes is None else f"ohlc:{symbol}:{minutes}"

    def topic_symbol(self, topic: str) -> str:
        """``BTC/USD`` of ``ohlc:BTC/USD:1``: Kraken acknowledges each symbol on its own."""
        return topic.split(":")[1]

    def subscribe(self, topics: Sequence[str], first_id: int) -> list[ControlMessage]:
        """One subscribe per channel, interval and ``batch`` symbols, with snapshots."""
        return self._messages("subscribe", topics, first_id)

    def unsubscribe(self, topics: Sequence[str], first_id: int) -> list[ControlMessage]:
        """One unsubscribe per channel, interval and ``batch`` symbols."""
        return self._messages("unsubscribe", topics, first_id)

    def _messages(self, method: str, topics: Sequence[str], first_id: int) -> list[ControlMessage]:
        groups: dict[tuple[str, int | None], list[str]] = defaultdict(list)
        for topic in topics:
            parts = topic.split(":")
            groups[(parts[0], int(parts[2]) if len(parts) == 3 else None)].append(topic)
        messages: list[ControlMessage] = []
        for (channel, interval), members in sorted(groups.items(), key=lambda item: str(item[0])):
            for start in range(0, len(members), self._batch):
                chunk = members[start : start + self._batch]
                params: dict[str, Any] = {"channel": channel, "symbol": [self.topic_symbol(t) for t in chunk]}
                if interval is not None:
                    params["interval"] = interval
                if method == "subscribe":
                    params["snapshot"] = True
                request_id = first_id + len(messages)
                payload = {"method": method, "params": params, "req_id": request_id}
                messages.append(ControlMessage(request_id, payload, frozenset(chunk)))
        return messages

    def reader(self) -> KrakenReader:
        """A reader with no candle history: a new connection knows nothing of the old one's."""
        return KrakenReader(self._clock)


class KrakenReader:
    """Reads one connection's frames; remembers the newest candle per ohlc topic, to close
    it when the next interval's first update arrives."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._candles: dict[str, Candle] = {}

    def read(self, text: str) -> list[Frame]:
        """The frames ``text`` carries."""
        try:
            # Kraken sends numbers as JSON floats: keep their exact text as Decimal
            frame = json.loads(text, parse_float=Decimal)
        except ValueError:
            raise MalformedFrame("not JSON") from None
        if not isinstance(frame, dict):
            raise MalformedFrame("not a JSON object")
        method = frame.get("method")
        if method in ("subscribe", "unsubscribe"):
            return [_ack(frame)]
        if method == "pong":
            return [Notice("pong")]
        channel = frame.get("channel")
        if channel == "status":
            return [_status(frame)]
        if channel == "ohlc":
            return self._ohlc(frame)
        if channel == "ticker":
            return self._tickers(frame)
        return [Notice(str(channel or method))]

    def _event_time(self, frame: dict[str, Any]) -> int:
        stamp = frame.get("timestamp")
        return rfc3339_ms(stamp) if isinstance(stamp, str) else int(self._clock.now() * 1000)

    def _ohlc(self, frame: dict[str, Any]) -> list[Frame]:
        try:
            rows = _OHLC.validate_python(frame.get("data"))
        except ValidationError as error:
            raise MalformedFrame(f"ohlc: {str(error).splitlines()[0]}") from None
        event_time = self._event_time(frame)
        parsed = [(f"ohlc:{row.symbol}:{row.interval}", _candle(row)) for row in rows]
        if frame.get("type") == "snapshot":  # history comes over REST: only the newest counts
            newest: dict[str, Candle] = {}
            for topic, candle in parsed:
                if topic not in newest or candle.timestamp > newest[topic].timestamp:
                    newest[topic] = candle
            self._candles.update(newest)
            return [CandleFrame(topic, candle, False, event_time) for topic, candle in newest.items()]
        frames: list[Frame] = []
        for topic, candle in parsed:
            previous = self._candles.get(topic)
            if previous is not None and candle.timestamp < previous.timestamp:
                continue  # a late trade of a candle already closed
            if previous is not None and candle.timestamp > previous.timestamp:
                frames.append(CandleFrame(topic, previous, True, event_time))
            self._candles[topic] = candle
            frames.append(CandleFrame(topic, candle, False, event_time))
        return frames

    def _tickers(self, frame: dict[str, Any]) -> list[Frame]:
        try:
            tickers = _TICKERS.validate_python(frame.get("data"))
        except ValidationError as error:
            raise MalformedFrame(f"ticker: {str(error).splitlines()[0]}") from None
        event_time = self._event_time(frame)
        return [_ticker(ticker, event_time) for ticker in tickers]


def _candle(row: _Ohlc) -> Candle:
    if row.low > row.high or not row.low <= row.open <= row.high or not row.low <= row.close <= row.high:
        raise MalformedFrame(f"inconsistent ohlc at {row.interval_begin}")
    return Candle(rfc3339_ms(row.interval_begin), row.open, row.high, row.low, row.close, row.volume)


def _ticker(ticker: _Ticker, event_time: int) -> TickerFrame:
    last = Decimal(str(ticker.last))
    opened = float(last - ticker.change) if ticker.change is not None else None
    if opened is not None and opened <= 0:
        opened = None
    # vwap x volume is the 24-hour quote volume by definition of the vwap
    quote = ticker.volume * ticker.vwap if ticker.volume is not None and ticker.vwap is not None else None
    return TickerFrame(
        f"ticker:{ticker.symbol}",
        ticker.last,
        opened,
        ticker.high,
        ticker.low,
        ticker.volume,
        quote,
        event_time,
    )


def _ack(frame: dict[str, Any]) -> Ack:
    request_id = frame.get("req_id")
    result = frame.get("result")
    symbol = result.get("symbol") if isinstance(result, dict) else frame.get("symbol")
    return Ack(
        request_id if isinstance(request_id, int) and not isinstance(request_id, bool) else None,
        ok=frame.get("success") is True,
        symbol=symbol if isinstance(symbol, str) else None,
        reason=str(frame.get("error", "")),
    )


def _status(frame: dict[str, Any]) -> Frame:
    data = frame.get("data")
    system = data[0].get("system") if isinstance(data, list) and data and isinstance(data[0], dict) else None
    return Rotate(f"Kraken status {system}") if system == "maintenance" else Notice(f"status {system}")


def kraken_stream(
    session: aiohttp.ClientSession,
    ws_url: str,
    clock: Clock,
    timing: StreamTiming = KRAKEN_TIMING,
    rng: Random | None = None,
) -> ShardedMarketStream:
    """Kraken's ``MarketStream`` at ``ws_url`` (opened as it is)."""
    return ShardedMarketStream(KrakenDialect(ws_url, clock, timing.batch), session, clock, timing, rng)
