"""Binance spot WebSocket market streams, combined form (``/stream``): SUBSCRIBE /
UNSUBSCRIBE / LIST_SUBSCRIPTIONS, ``<symbol>@kline_<interval>`` and ``<symbol>@miniTicker``
wrapped as ``{"stream","data"}``, server pings, the 5 messages per second limit and the
1024 streams per connection."""

from __future__ import annotations

import asyncio
import json
import re
from collections import deque
from typing import Any

from aiohttp import web

from .binance import BinanceUpstream
from .binance_params import INTERVALS, SYMBOLS
from .candle_feed import CandleFeed
from .market import Market
from .stream_log import ClientFrame, StreamConnection
from .stream_session import StreamSession, StreamSettings, compact

_STREAM = re.compile(r"^([a-z0-9]{2,20})@(?:kline_([0-9]{1,2}[smhdwM])|(miniTicker))$")
_METHODS = ("SUBSCRIBE", "UNSUBSCRIBE", "LIST_SUBSCRIPTIONS")


def error_reply(code: int, msg: str, request_id: Any) -> dict[str, Any]:
    """Binance's control error form."""
    return {"error": {"code": code, "msg": msg}, "id": request_id}


class BinanceStreamSession(StreamSession):
    """One combined-streams connection. ``initial`` are the streams of ``?streams=a/b``."""

    provider = "binance"

    def __init__(
        self,
        request: web.Request,
        record: StreamConnection,
        market: Market,
        settings: StreamSettings,
        upstream: BinanceUpstream,
        initial: list[str],
    ) -> None:
        super().__init__(request, record, market, settings)
        self.upstream = upstream
        self.streams: dict[str, CandleFeed | None] = {}
        self._initial = initial
        self._arrivals: deque[float] = deque()
        self._pong = asyncio.Event()
        self._pings = 0

    @staticmethod
    def valid(name: str) -> bool:
        """Whether ``name`` is a stream name this simulator knows the form of."""
        match = _STREAM.match(name)
        return match is not None and (match.group(3) is not None or match.group(2) in INTERVALS)

    async def opened(self) -> None:
        """Subscribe what the URL named."""
        self._subscribe([name for name in self._initial if self.valid(name)])

    def side_tasks(self) -> list[asyncio.Task[None]]:
        """The ping loop."""
        return [asyncio.create_task(self._ping_loop())]

    def on_frame(self, frame: ClientFrame) -> bool:
        """Every frame counts against the incoming message rate (pings and pongs too)."""
        window = 1.0
        self._arrivals.append(frame.at)
        while self._arrivals and self._arrivals[0] <= frame.at - window:
            self._arrivals.popleft()
        return len(self._arrivals) <= self.settings.message_rate

    def pong(self, payload: bytes) -> None:
        """A pong: the ping loop stops waiting."""
        self._pong.set()

    async def on_text(self, text: str) -> None:
        """SUBSCRIBE, UNSUBSCRIBE and LIST_SUBSCRIPTIONS, with Binance's error replies."""
        await self.send(self._control(text))

    def _control(self, text: str) -> dict[str, Any]:
        try:
            request = json.loads(text)
        except ValueError:
            return error_reply(3, "Invalid JSON: expected value at line 1 column 1", None)
        if not isinstance(request, dict):
            return error_reply(2, "Invalid request: expected an object", None)
        request_id = request.get("id")
        if request_id is not None and (
            isinstance(request_id, bool) or not isinstance(request_id, (int, str))
        ):
            return error_reply(2, "Invalid request: request ID must be an unsigned integer", None)
        method = request.get("method")
        if method not in _METHODS:
            variants = ", ".join(_METHODS)
            return error_reply(
                2, f"Invalid request: unknown variant {method!r}, expected one of {variants}", request_id
            )
        if method == "LIST_SUBSCRIPTIONS":
            return {"result": list(self.streams), "id": request_id}
        params = request.get("params")
        if not isinstance(params, list) or not all(isinstance(name, str) for name in params):
            return error_reply(2, "Invalid request: params must be a list of stream names", request_id)
        if method == "UNSUBSCRIBE":
            for name in params:
                self.streams.pop(name, None)
                self.record.subscriptions.pop(name, None)
            return {"result": None, "id": request_id}
        invalid = [name for name in params if not self.valid(name)]
        if invalid:
            return error_reply(2, f"Invalid request: invalid stream name {invalid[0]}", request_id)
        if len(self.streams.keys() | set(params)) > self.settings.max_streams:
            return error_reply(2, f"Invalid request: at most {self.settings.max_streams} streams", request_id)
        self._subscribe(params)
        return {"result": None, "id": request_id}

    def _subscribe(self, names: list[str]) -> None:
        for name in names:
            if name in self.streams:
                continue
            interval = _STREAM.match(name).group(2)  # type: ignore[union-attr]
            self.streams[name] = CandleFeed(INTERVALS[interval], self.market.now()) if interval else None
            self.record.subscriptions[name] = None

    # -- data --------------------------------------------------------------------------

    def frames_due(self) -> list[Any]:
        """Per kline stream: the final kline of every candle that closed since the last push,
        then the candle in progress; per miniTicker stream: the ticker."""
        frames: list[Any] = []
        now = self.market.now()
        for name, feed in list(self.streams.items()):
            symbol = name.split("@", 1)[0].upper()
            if symbol not in SYMBOLS:
                continue  # Binance accepts unknown symbols and never sends anything for them
            if feed is None:
                frames.append({"stream": name, "data": self.mini_ticker(symbol)})
                continue
            closed, current = feed.due(now)
            exists = self.upstream.history.exists  # no kline for a bar in an outage
            for open_time in closed:
                if exists(symbol, feed.timeframe, open_time, now):
                    frames.append({"stream": name, "data": self.kline(symbol, feed, open_time, final=True)})
            if exists(symbol, feed.timeframe, current, now):
                frames.append({"stream": name, "data": self.kline(symbol, feed, current, final=False)})
        return frames

    def kline(self, symbol: str, feed: CandleFeed, open_time: int, final: bool) -> dict[str, Any]:
        """A kline event, its fields from the same row the REST klines answer with."""
        row = self.upstream.kline_row(SYMBOLS[symbol], feed.timeframe, open_time, 1.0)
        interval = next(name for name, timeframe in INTERVALS.items() if timeframe == feed.timeframe)
        first_trade = row[0] // 10 + len(symbol) * 10**11
        return {
            "e": "kline",
            "E": self.now_ms(),
            "s": symbol,
            "k": {
                "t": row[0],
                "T": row[6],
                "s": symbol,
                "i": interval,
                "f": first_trade,
                "L": first_trade + row[8] - 1,
                "o": row[1],
                "c": row[4],
                "h": row[2],
                "l": row[3],
                "v": row[5],
                "n": row[8],
                "x": final,
                "q": row[7],
                "V": row[9],
                "Q": row[10],
                "B": "0",
            },
        }

    def mini_ticker(self, symbol: str) -> dict[str, Any]:
        """A 24hrMiniTicker event from the same figures as the REST 24-hour ticker."""
        ticker = self.upstream.ticker_fields(symbol, 1.0)
        return {
            "e": "24hrMiniTicker",
            "E": self.now_ms(),
            "s": symbol,
            "c": ticker["lastPrice"],
            "o": ticker["openPrice"],
            "h": ticker["highPrice"],
            "l": ticker["lowPrice"],
            "v": ticker["volume"],
            "q": ticker["quoteVolume"],
        }

    def malformed_frames(self, shape: str) -> list[str]:
        """A truncated data frame, or a kline whose prices are not numbers."""
        name = next(iter(self.streams), "btcusdt@kline_1m")
        if shape == "wrong_shape":
            data = {
                "e": "kline",
                "E": self.now_ms(),
                "s": "BTCUSDT",
                "k": {"t": "soon", "o": "n/a", "x": "maybe"},
            }
            return [compact({"stream": name, "data": data})]
        text = compact({"stream": name, "data": {"e": "kline", "E": self.now_ms(), "s": "BTCUSDT", "k": {}}})
        return [text[: len(text) // 2]]

    def shutdown_notice(self) -> Any:
        """``serverShutdown`` on the combined stream."""
        return {"stream": "!serverShutdown", "data": {"e": "serverShutdown", "E": self.now_ms()}}

    async def _ping_loop(self) -> None:
        while True:
            await asyncio.sleep(self.settings.ping_interval)
            if self.silent:
                continue
            self._pings += 1
            self._pong.clear()
            await self._guarded(self.ws.ping(str(self._pings).encode()))
            try:
                await asyncio.wait_for(self._pong.wait(), self.settings.pong_timeout)
            except TimeoutError:
                if not self.silent:
                    await self.close(1008, "pong timeout")
                    return
