"""History in the OpenAPI document: the range parameters of ``/api/ohlcv`` and the export.

The range page's JSON shape is a model of ``schemas`` (``OhlcvRangeResponse``) like every
other answer; the export answers CSV or NDJSON, which the document describes in prose with
a sample of each.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from domain.time_range import MAX_RANGE_CANDLES
from entrypoints.rest.candle_export import CSV_HEADER, csv_rows, ndjson_rows
from entrypoints.rest.examples import sample_candles

Query = Callable[..., dict[str, Any]]
_TIME = {"type": "string", "minLength": 1, "examples": ["2024-01-01T00:00:00Z", "1717200000000"]}

START = (
    "Start of a range: the candles whose open time is in `[start, end)`, oldest first. Epoch milliseconds "
    "or ISO 8601 UTC (`2024-01-01T00:00:00Z`, `2024-01-01`). Not in the future, before `end`. "
    "With it the answer is one page of the range, with `next`, `complete` and `gaps`."
)
END = "End of the range, exclusive (epoch ms or ISO 8601 UTC); default now, the candle in progress included."

EXPORT_DESCRIPTION = f"""The whole range `[start, end)` (no page cap), streamed as it is fetched: CSV with the
header `timestamp,open,high,low,close,volume` and one row per candle, or NDJSON with one object per line
with those keys. Oldest first; spans with no candle are simply absent (never filled in). `Content-Disposition:
attachment` names the file (`BTCUSDT-1m-20240101T000000Z-20240109T000000Z.csv`). Memory stays bounded: it
is fetched and written {MAX_RANGE_CANDLES} candles at a time, at the pace the client reads.

Bad parameters, and a range no provider can give any of, are answered before the first byte in the error
envelope. A provider failing once the 200 is sent cannot change the status: an NDJSON stream then ends with
one line `{{"error": {{"code","message","details","retryAfter"}}}}`, a CSV stream is cut without the chunked
transfer's last chunk, so the client sees a truncated transfer (curl exits with 18), never a file that looks
whole. Counts as one request of the client's `ohlcv` limit."""


def range_parameters(query: Query) -> list[dict[str, Any]]:
    """``start`` and ``end`` of ``/api/ohlcv``."""
    return [query("start", START, _TIME), query("end", END + " Only with `start`.", _TIME)]


def export_parameters(query: Query, symbol: dict[str, Any], interval: dict[str, Any]) -> list[dict[str, Any]]:
    """The query of ``/api/ohlcv/export``."""
    return [
        symbol,
        query("interval", "Candle interval.", interval),
        query("timeframe", "Alias of `interval`, used when `interval` is absent.", interval),
        query("start", START.split(" With it")[0], _TIME, required=True),
        query("end", END, _TIME),
        query("format", "`csv` or `ndjson`.",
              {"type": "string", "enum": ["csv", "ndjson"], "default": "csv"}),  # fmt: skip
    ]


def export_content() -> dict[str, Any]:
    """The 200's media types, each with a sample of two candles."""
    candles = sample_candles()
    return {
        "text/csv": {"schema": {"type": "string"}, "example": (CSV_HEADER + csv_rows(candles)).decode()},
        "application/x-ndjson": {"schema": {"type": "string"}, "example": ndjson_rows(candles).decode()},
    }
