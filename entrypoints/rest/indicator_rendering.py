"""The body of GET /api/indicators (``schemas.IndicatorsResponse``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from application.served import Served
from domain.indicator_table import IndicatorRow, IndicatorTable
from entrypoints.rest import schemas
from entrypoints.rest.rendering import data_body, envelope_fields


def indicators(served: Served[IndicatorTable], rows: bool = True) -> schemas.IndicatorsResponse:
    """The rows oldest first, with the pair, interval, warm-up and source (``data`` left empty
    without ``rows``: see :func:`indicator_rows`)."""
    table = served.value
    return schemas.IndicatorsResponse(
        data=[schemas.IndicatorRow.model_validate(row) for row in indicator_rows(table.rows)] if rows else [],
        symbol=table.symbol.pair,
        interval=table.interval.name,
        count=len(table.rows),
        warmup=table.warmup,
        source=table.source,
        live=served.live,
        **envelope_fields(served),
    )


def indicator_rows(rows: Sequence[IndicatorRow]) -> list[dict[str, Any]]:
    """``schemas.IndicatorRow`` objects as JSON, written directly (as ``rendering.candle_rows``
    does, for the same reason: a model per row of a thousand is most of an answer's time).
    No key is ``timestamp``: no function has that name."""
    return [{"timestamp": row.timestamp, **row.values} for row in rows]


def indicators_body(served: Served[IndicatorTable]) -> dict[str, Any]:
    """The body of GET /api/indicators."""
    body = data_body(indicators(served, rows=False))
    body["data"] = indicator_rows(served.value.rows)
    return body
