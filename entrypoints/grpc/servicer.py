"""The ``cryptodata.v1.MarketData`` servicer: parse, call one use case, map. No business rule."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Iterator, Sequence
from typing import TypeVar

from google.protobuf.message import Message

from domain.errors import FeatureDisabled, InvalidParameter
from domain.symbol import SymbolParser
from entrypoints.answer_memo.memo import AnswerMemo
from entrypoints.answer_memo.protobuf_answer import GRPC_BYTES, ProtobufAnswer
from entrypoints.container import UseCases
from entrypoints.edge_rules import STREAMS_OFF
from entrypoints.grpc import indicator_mapping, mapping
from entrypoints.grpc.edge import Context, Edge, client_of, server_stream, unary
from entrypoints.grpc.errors import TooManyStreams
from entrypoints.grpc.live import LiveStreams
from entrypoints.grpc.sandbox import SANDBOX_METADATA
from entrypoints.shutdown import ShutdownCoordinator
from entrypoints.stream_ends import StreamEnds
from protos.cryptodata.v1 import market_data_pb2 as pb
from protos.cryptodata.v1 import market_data_pb2_grpc as pb_grpc

SERVICE_NAME: str = pb.DESCRIPTOR.services_by_name["MarketData"].full_name
T = TypeVar("T")


class MarketDataServicer(pb_grpc.MarketDataServicer):
    """Serves the same use cases as REST, with the same client-limit groups.

    ``supported_symbols``: SUPPORTED_SYMBOLS, for the ``missing`` of live StreamPrices.
    With ``sandbox`` every call carries ``x-data-mode: sandbox`` and GetHealth says so.
    ``shutdown``: the process's; streams end when it starts draining, unary calls still
    running at its cut end UNAVAILABLE.
    """

    def __init__(
        self,
        use_cases: UseCases,
        stream_interval: float,
        trust_proxy: bool = False,
        *,
        shutdown: ShutdownCoordinator,
        supported_symbols: Sequence[str],
        sandbox: bool = False,
        max_streams: int = 10,
    ) -> None:
        self.edge = Edge(SERVICE_NAME, use_cases.client_limits, use_cases.access_log, trust_proxy,
                         use_cases.metrics, marks=SANDBOX_METADATA if sandbox else (),
                         shutdown=shutdown)  # fmt: skip
        self._sandbox = sandbox
        self._use_cases = use_cases
        self._stream_interval = stream_interval
        self._closing = shutdown.draining
        self._answers: AnswerMemo[Message] = AnswerMemo(ProtobufAnswer(), GRPC_BYTES)
        self._max_streams = max_streams
        self._streams: Counter[str] = Counter()  # open streams per client
        feed = use_cases.live
        self._live = None if feed is None else LiveStreams(
            feed, StreamEnds(shutdown.draining), stream_interval, SymbolParser(supported_symbols)
        )  # fmt: skip

    @unary("ohlcv")
    async def GetOhlcv(self, request: pb.GetOhlcvRequest, context: Context) -> bytes:
        """Candles of one market: the newest, or with ``start`` one page of a range (never
        kept in the answer memo: a range's ``Served`` names no request)."""
        if request.HasField("start"):
            served_page = await self._use_cases.get_ohlcv_range.execute(*mapping.ohlcv_range_query(request))
            return self._answers.answer(served_page, mapping.ohlcv_range_response)
        if request.HasField("end"):
            raise InvalidParameter("end needs start: set start to ask for a range", field="end")
        symbol, interval, limit = mapping.ohlcv_query(request)
        served = await self._use_cases.get_ohlcv.execute(symbol, interval, limit)
        return self._answers.answer(served, mapping.ohlcv_response)

    @unary("ohlcv")  # computed from the same candles, under the same limit as REST's /api/indicators
    async def GetIndicators(self, request: pb.GetIndicatorsRequest, context: Context) -> bytes:
        """Technical indicators over one market's candles (kept in the answer memo until its
        candles change)."""
        served = await self._use_cases.get_indicators.execute(*indicator_mapping.indicators_query(request))
        return self._answers.answer(served, indicator_mapping.indicators_response)

    @unary("prices")
    async def GetPrices(self, request: pb.GetPricesRequest, context: Context) -> bytes:
        """Combined spot prices."""
        served = await self._use_cases.get_prices.execute(mapping.symbols_query(request.symbols))
        return self._answers.answer(served, mapping.prices_response)

    @unary("sentiment")
    async def GetSentiment(self, request: pb.GetSentimentRequest, context: Context) -> bytes:
        """The Fear & Greed index and the overall sentiment."""
        served = await self._use_cases.get_sentiment.execute()
        return self._answers.answer(served, mapping.sentiment_response)

    @unary("market")
    async def GetMarketOverview(self, request: pb.GetMarketOverviewRequest, context: Context) -> bytes:
        """Totals of the whole market."""
        served = await self._use_cases.get_market_overview.execute()
        return self._answers.answer(served, mapping.overview_response)

    @unary(None)  # like /api/health: never rate limited, probes must always get through
    async def GetHealth(self, request: pb.GetHealthRequest, context: Context) -> pb.GetHealthResponse:
        """The health report."""
        report = await self._use_cases.get_health.execute()
        streams = self._use_cases.streams.statuses() if self._use_cases.streams is not None else ()
        return mapping.health_response(report, self._sandbox, streams)

    @server_stream("prices")
    async def StreamPrices(
        self, request: pb.StreamPricesRequest, context: Context
    ) -> AsyncIterator[pb.GetPricesResponse]:
        """The board at once, then updates until either side ends (``_polled_prices`` without
        live streams, ``LiveStreams.prices`` with them)."""
        symbols = mapping.symbols_query(request.symbols)
        with self._held_stream(context):
            live = self._live
            if live is None:
                messages = self._polled_prices(symbols)
            elif live.draining:
                return
            else:
                messages = live.prices(symbols)
            async with contextlib.aclosing(messages) as opened:  # its finally runs now, not when collected
                async for message in opened:
                    yield message

    @server_stream("ohlcv")
    async def StreamCandles(self, request: pb.StreamCandlesRequest, context: Context) -> AsyncIterator[bytes]:
        """Live candles of one market: a snapshot, then every change (live streams only)."""
        live = self._live
        if live is None:
            raise FeatureDisabled(STREAMS_OFF)
        with self._held_stream(context):
            if live.draining:
                return
            async with contextlib.aclosing(live.candles(request.symbol, request.interval)) as opened:
                async for message in opened:
                    yield message

    @contextlib.contextmanager
    def _held_stream(self, context: Context) -> Iterator[None]:
        """Count an open stream against the client's GRPC_MAX_STREAMS_PER_CLIENT (every
        streaming method together); over it, RESOURCE_EXHAUSTED."""
        client = client_of(context, self.edge.trust_proxy)
        if self._streams[client] >= self._max_streams:
            raise TooManyStreams(self._max_streams)
        self._streams[client] += 1
        try:
            yield
        finally:
            self._streams[client] -= 1
            if not self._streams[client]:
                del self._streams[client]

    async def _polled_prices(self, symbols: str | None) -> AsyncGenerator[pb.GetPricesResponse, None]:
        """Without live streams: the board at once, then every GRPC_STREAM_INTERVAL seconds.

        Each update goes through the cached, single-flight use case, so N subscribers cost
        what one REST client polling at the same pace would. When every provider fails and
        nothing (not even stale) is cached, the stream ends with UNAVAILABLE. When the server
        starts draining the stream ends at once with OK, even in the middle of a slow update:
        a stream must not hold the shutdown (its client reconnects elsewhere).
        """
        loop = asyncio.get_running_loop()
        due = loop.time()
        while not self._closing.is_set():
            served = await self._unless_closing(self._use_cases.get_prices.execute(symbols))
            if served is None:
                return
            yield mapping.prices_response(served)
            # On a fixed schedule: a slow fetch shortens the wait rather than stretching the
            # period past GRPC_STREAM_INTERVAL (clients are promised an update every 5 s).
            due = max(due + self._stream_interval, loop.time())
            if await self._closed_within(due - loop.time()):
                return

    async def _unless_closing(self, work: Awaitable[T]) -> T | None:
        """``work``'s result, or None (and ``work`` cancelled) if the server starts draining first."""
        working = asyncio.ensure_future(work)
        closing = asyncio.ensure_future(self._closing.wait())
        try:
            await asyncio.wait((working, closing), return_when=asyncio.FIRST_COMPLETED)
        finally:  # also when the client cancels: neither outlives this call
            closing.cancel()
            if not working.done():
                working.cancel()
        if working.cancelled() or not working.done():
            return None
        return working.result()

    async def _closed_within(self, seconds: float) -> bool:
        """Wait ``seconds`` or until shutdown, whichever comes first; True on shutdown.

        A client cancel still arrives here as CancelledError and propagates untouched: only
        this wait's own timeout is turned into False.
        """
        try:
            async with asyncio.timeout(seconds):
                await self._closing.wait()
        except TimeoutError:
            return False
        return True
