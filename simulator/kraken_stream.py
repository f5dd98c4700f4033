"""Kraken WebSocket v2 (``/kraken/v2``): ``status`` on connect, subscribe / unsubscribe of
``ohlc`` and ``ticker`` with one acknowledgement per symbol, snapshot then updates,
``heartbeat`` when nothing else flows, and ``{"method":"ping"}`` answered with a pong.

Kraken's ohlc has no closed flag and updates come on trades only: when a candle closes, the
simulator sends one more update of it with its final values (its last trade), then the
new candle's first update."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from .candle_feed import CandleFeed
from .formatting import price_decimals
from .kraken import INTERVALS, PAIRS, KrakenUpstream, canonical_pair
from .market import Market
from .stream_log import StreamConnection
from .stream_session import StreamSession, StreamSettings, compact

#: Candles in an ohlc snapshot, the one in progress included.
SNAPSHOT_CANDLES = 10
_CHANNELS = ("ohlc", "ticker")


def rfc3339(seconds: float, digits: int = 6) -> str:
    """``2024-05-24T05:20:00.000000Z`` (Kraken prints 6 or 9 fractional digits)."""
    whole = int(seconds // 1)
    moment = datetime.fromtimestamp(whole, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S")
    fraction = f"{seconds - whole:.9f}"[2 : 2 + digits]
    return f"{moment}.{fraction}Z"


class KrakenStreamSession(StreamSession):
    """One Kraken v2 connection."""

    provider = "kraken"

    def __init__(
        self,
        request: web.Request,
        record: StreamConnection,
        market: Market,
        settings: StreamSettings,
        upstream: KrakenUpstream,
    ) -> None:
        super().__init__(request, record, market, settings)
        self.upstream = upstream
        # subscription name ("ohlc:BTC/USD:1", "ticker:BTC/USD") -> its candle feed (None: ticker)
        self.subscribed: dict[str, CandleFeed | None] = {}

    async def opened(self) -> None:
        """The status message every connection starts with."""
        status = {
            "api_version": "v2",
            "connection_id": 10**18 + self.record.id,
            "system": "online",
            "version": "2.0.10",
        }
        await self.send({"channel": "status", "type": "update", "data": [status]})

    def side_tasks(self) -> list[asyncio.Task[None]]:
        """The heartbeat."""
        return [asyncio.create_task(self._heartbeat())]

    async def on_text(self, text: str) -> None:
        """ping, subscribe and unsubscribe."""
        received = self._iso_now()
        try:
            request = json.loads(text)
        except ValueError:
            await self.send(
                {"error": "EGeneral:Invalid arguments", "success": False, **self._times(received)}
            )
            return
        if not isinstance(request, dict):
            await self.send(
                {"error": "EGeneral:Invalid arguments", "success": False, **self._times(received)}
            )
            return
        method = request.get("method")
        echo = {"req_id": request["req_id"]} if "req_id" in request else {}
        if method == "ping":
            await self.send({"method": "pong", **echo, **self._times(received)})
        elif method in ("subscribe", "unsubscribe"):
            await self._subscription(method, request.get("params"), echo, received)
        else:
            await self.send(
                {"error": f"Method {method!r} not found", "success": False, **echo, **self._times(received)}
            )

    async def _subscription(self, method: str, params: Any, echo: dict[str, Any], received: str) -> None:
        failure = {"method": method, "success": False, **echo}
        if not isinstance(params, dict) or params.get("channel") not in _CHANNELS:
            await self.send({"error": "EGeneral:Invalid arguments", **failure, **self._times(received)})
            return
        channel = params["channel"]
        symbols = params.get("symbol")
        interval = params.get("interval", 1)
        if not isinstance(symbols, list) or not symbols or not all(isinstance(s, str) for s in symbols):
            await self.send({"error": "EGeneral:Invalid arguments", **failure, **self._times(received)})
            return
        if channel == "ohlc" and interval not in INTERVALS:
            await self.send({"error": "EGeneral:Invalid arguments", **failure, **self._times(received)})
            return
        for symbol in symbols:
            key = canonical_pair(symbol.replace("/", ""))
            if key is None:
                error = f"Currency pair not supported {symbol}"
                await self.send({"error": error, **failure, "symbol": symbol, **self._times(received)})
                continue
            name = f"ohlc:{symbol}:{interval}" if channel == "ohlc" else f"ticker:{symbol}"
            result: dict[str, Any] = {"channel": channel, "symbol": symbol}
            if channel == "ohlc":
                result["interval"] = interval
            if method == "unsubscribe":
                self.subscribed.pop(name, None)
                self.record.subscriptions.pop(name, None)
                await self.send(
                    {"method": method, "result": result, "success": True, **echo, **self._times(received)}
                )
                continue
            snapshot = params.get("snapshot", True) is not False
            result["snapshot"] = snapshot
            await self.send(
                {"method": method, "result": result, "success": True, **echo, **self._times(received)}
            )
            if name not in self.subscribed:
                feed = CandleFeed(INTERVALS[interval], self.market.now()) if channel == "ohlc" else None
                self.subscribed[name] = feed
                self.record.subscriptions[name] = None
                if snapshot:
                    await self.send(self._snapshot(symbol, PAIRS[key], feed))

    # -- data --------------------------------------------------------------------------

    def _snapshot(self, symbol: str, asset: str, feed: CandleFeed | None) -> dict[str, Any]:
        if feed is None:
            return {"channel": "ticker", "type": "snapshot", "data": [self.ticker(symbol)]}
        now = self.market.now()
        _, current = feed.due(now)
        opens = [feed.timeframe.shift(current, -back) for back in reversed(range(SNAPSHOT_CANDLES))]
        key = canonical_pair(symbol.replace("/", "")) or ""
        opens = [t for t in opens if self.upstream.history.exists(key, feed.timeframe, t, now)]
        rows = [self.ohlc(symbol, asset, feed, t) for t in opens]
        return {"channel": "ohlc", "type": "snapshot", "timestamp": self._iso_now(9), "data": rows}

    def frames_due(self) -> list[Any]:
        """Per ohlc subscription: an update with the final values of every candle that closed
        since the last push, then the candle in progress; per ticker: the ticker."""
        frames: list[Any] = []
        now = self.market.now()
        for name, feed in list(self.subscribed.items()):
            symbol = name.split(":")[1]
            if feed is None:
                frames.append({"channel": "ticker", "type": "update", "data": [self.ticker(symbol)]})
                continue
            key = canonical_pair(symbol.replace("/", "")) or ""
            asset = PAIRS[key]
            closed, current = feed.due(now)
            for open_time in [*closed, current]:
                if not self.upstream.history.exists(key, feed.timeframe, open_time, now):
                    continue  # no trades, no update: nothing inside an outage
                row = self.ohlc(symbol, asset, feed, open_time)
                frames.append(
                    {"channel": "ohlc", "type": "update", "timestamp": self._iso_now(9), "data": [row]}
                )
        return frames

    def ohlc(self, symbol: str, asset: str, feed: CandleFeed, open_time: int) -> dict[str, Any]:
        """One ohlc entry, its numbers from the row the REST OHLC answers with (as floats)."""
        row = self.upstream.row(asset, feed.timeframe, open_time, 1.0)
        return {
            "symbol": symbol,
            "open": float(row[1]),
            "high": float(row[2]),
            "low": float(row[3]),
            "close": float(row[4]),
            "trades": row[7],
            "volume": float(row[6]),
            "vwap": float(row[5]),
            "interval_begin": rfc3339(open_time, 9),
            "interval": feed.timeframe.seconds // 60,
            "timestamp": rfc3339(feed.timeframe.shift(open_time, 1)),
        }

    def ticker(self, symbol: str) -> dict[str, Any]:
        """The v2 ticker of ``symbol`` from the REST ticker's figures."""
        key = canonical_pair(symbol.replace("/", "")) or ""
        rest = self.upstream.ticker_fields(key, 1.0)
        last, opened = float(rest["c"][0]), float(rest["o"])
        places = price_decimals(self.market.price(PAIRS[key]), significant=6)
        return {
            "symbol": symbol,
            "bid": float(rest["b"][0]),
            "bid_qty": float(rest["b"][2]),
            "ask": float(rest["a"][0]),
            "ask_qty": float(rest["a"][2]),
            "last": last,
            "volume": float(rest["v"][1]),
            "vwap": float(rest["p"][1]),
            "low": float(rest["l"][1]),
            "high": float(rest["h"][1]),
            "change": round(last - opened, places),
            "change_pct": round((last / opened - 1) * 100, 2),
        }

    def malformed_frames(self, shape: str) -> list[str]:
        """A truncated data frame, or an ohlc update whose numbers are not numbers."""
        if shape == "wrong_shape":
            data = [{"symbol": "BTC/USD", "open": "n/a", "interval_begin": "soon", "interval": 1}]
            return [compact({"channel": "ohlc", "type": "update", "data": data})]
        text = compact({"channel": "ohlc", "type": "update", "data": [{"symbol": "BTC/USD", "open": 1.0}]})
        return [text[: len(text) // 2]]

    def shutdown_notice(self) -> Any:
        """A status update: the system goes into maintenance."""
        status = {
            "api_version": "v2",
            "connection_id": 10**18 + self.record.id,
            "system": "maintenance",
            "version": "2.0.10",
        }
        return {"channel": "status", "type": "update", "data": [status]}

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(self.settings.heartbeat_interval / 4)
            if time.monotonic() - self.last_sent >= self.settings.heartbeat_interval:
                await self.send({"channel": "heartbeat"})

    def _iso_now(self, digits: int = 6) -> str:
        return rfc3339(self.market.now(), digits)

    def _times(self, received: str) -> dict[str, str]:
        return {"time_in": received, "time_out": self._iso_now()}
