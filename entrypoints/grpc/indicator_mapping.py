"""GetIndicators: its request as the use case takes it, its answer as a message."""

from __future__ import annotations

from application.served import Served
from domain.candle import DEFAULT_CANDLES
from domain.indicator_table import IndicatorTable, IndicatorValue
from entrypoints.grpc.mapping import epoch_ms, now_ms
from protos.cryptodata.v1 import market_data_pb2 as pb


def indicators_query(request: pb.GetIndicatorsRequest) -> tuple[str, str | None, int, str | None]:
    """Symbol, interval (None: the use case's default), limit (unset: 100) and indicators
    (None when empty: the use case says it is required) of a GetIndicators request."""
    limit = request.limit if request.HasField("limit") else DEFAULT_CANDLES
    return request.symbol, request.interval or None, limit, request.indicators or None


def _value(value: IndicatorValue) -> pb.IndicatorValue:
    """One indicator at one candle: a single value (unset when None), or every output by name."""
    if isinstance(value, dict):
        return pb.IndicatorValue(outputs={
            name: pb.IndicatorOutput() if output is None else pb.IndicatorOutput(value=output)
            for name, output in value.items()
        })  # fmt: skip
    return pb.IndicatorValue() if value is None else pb.IndicatorValue(value=value)


def indicators_response(served: Served[IndicatorTable]) -> pb.GetIndicatorsResponse:
    """The rows oldest first, with the market, interval, warm-up and source."""
    table = served.value
    message = pb.GetIndicatorsResponse(
        symbol=table.symbol.pair,
        interval=table.interval.name,
        warmup=table.warmup,
        source=table.source,
        live=served.live,
        count=len(table.rows),
        stale=served.stale,
        timestamp=now_ms(),
    )
    if served.stale:
        message.data_timestamp = epoch_ms(served.fetched_at)
    for row in table.rows:
        message.rows.add(timestamp=row.timestamp, values={key: _value(v) for key, v in row.values.items()})
    return message
