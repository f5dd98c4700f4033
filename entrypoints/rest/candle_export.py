"""GET /api/ohlcv/export: a whole candle range streamed as CSV or NDJSON, page by page.

Memory stays bounded by one page (10000 candles) and one chunk of encoded rows, whatever the
range: the use case fetches a page only when the previous one is written, and every write is
awaited, so a slow client slows the export down (back-pressure) instead of filling buffers.

Everything that can be refused is refused before the first byte, in the usual envelope: bad
parameters, a range no provider can give any of (the first page is fetched before the answer
starts). Once the 200 is sent a failure cannot change the status, so the end of the stream
says it: NDJSON ends with one line ``{"error": {code, message, details, retryAfter}}``; CSV
has no place for it, so the connection is closed without the chunked transfer's last chunk
and the client sees a truncated transfer (curl: exit 18, "transfer closed with outstanding
read data remaining"), never a file that looks whole.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
import structlog
from aiohttp import web

from domain.candle import Candle
from domain.client_input import quoted
from domain.errors import InvalidParameter
from entrypoints import edge_rules
from entrypoints.rest.app_keys import USE_CASES
from entrypoints.rest.errors import answer_for
from entrypoints.rest.handlers import interval_param, single_query
from entrypoints.rest.stream_headers import apply_stream_headers

CSV_HEADER = b"timestamp,open,high,low,close,volume\n"
ROWS_PER_CHUNK = 1000  # candles encoded and written at once (~60 KB of CSV)
log = structlog.get_logger("export")


def csv_rows(candles: Sequence[Candle]) -> bytes:
    """``candles`` as CSV rows, numbers as JSON writes them (shortest round-trip form)."""
    return "".join(
        f"{c.timestamp},{c.open!r},{c.high!r},{c.low!r},{c.close!r},{c.volume!r}\n" for c in candles
    ).encode()


def ndjson_rows(candles: Sequence[Candle]) -> bytes:
    """``candles`` as NDJSON, one object a line, keys as in the CSV header."""
    dumps = orjson.dumps
    return b"".join(
        dumps({"timestamp": c.timestamp, "open": c.open, "high": c.high, "low": c.low, "close": c.close,
               "volume": c.volume}) + b"\n"
        for c in candles
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class ExportFormat:
    """One format of the export: its media type, file extension, first bytes and rows."""

    content_type: str
    charset: str | None
    extension: str
    header: bytes
    rows: Callable[[Sequence[Candle]], bytes]


FORMATS = {
    "csv": ExportFormat("text/csv", "utf-8", "csv", CSV_HEADER, csv_rows),
    "ndjson": ExportFormat("application/x-ndjson", None, "ndjson", b"", ndjson_rows),  # JSON is UTF-8
}


def export_format(raw: str | None) -> ExportFormat:
    """The format asked for (``csv`` when absent), or ``InvalidParameter``."""
    name = "csv" if raw is None or raw == "" else raw
    found = FORMATS.get(name)
    if found is None:
        raise InvalidParameter(f"format must be csv or ndjson, got {quoted(name)}", field="format")
    return found


def _file_time(epoch_ms: int | None) -> str:
    if epoch_ms is None:
        return "now"
    return datetime.fromtimestamp(epoch_ms / 1000, tz=UTC).strftime("%Y%m%dT%H%M%SZ")


def file_name(pair: str, interval: str, start_ms: int, end_ms: int | None, extension: str) -> str:
    """``BTCUSDT-1m-20240101T000000Z-20240109T000000Z.csv`` (``-now`` for an open end)."""
    return f"{pair}-{interval}-{_file_time(start_ms)}-{_file_time(end_ms)}.{extension}"


def _error_line(error: Exception) -> bytes:
    """The last NDJSON line after a failure: the envelope's ``error`` object."""
    answer = answer_for(error)
    fields: dict[str, Any]
    if answer is None:  # a bug: no internals, as in every 500
        fields = {"code": "INTERNAL_ERROR", "message": edge_rules.INTERNAL_MESSAGE, "details": None,
                  "retryAfter": None}  # fmt: skip
    else:
        fields = {"code": answer.code, "message": answer.message, "details": answer.details,
                  "retryAfter": answer.retry_after}  # fmt: skip
    return orjson.dumps({"error": fields}) + b"\n"


async def export(request: web.Request) -> web.StreamResponse:
    """GET /api/ohlcv/export?symbol=BTC&interval=1m&start=...&end=...&format=csv|ndjson."""
    query = single_query(request)
    fmt = export_format(query.get("format"))
    opened = await request.app[USE_CASES].export_candles.open(
        query.get("symbol"), interval_param(query), query.get("start"), query.get("end")
    )
    name = file_name(opened.market.pair, opened.interval.name, opened.span.start_ms, opened.span.end_ms,
                     fmt.extension)  # fmt: skip
    response = web.StreamResponse(headers={"Content-Disposition": f'attachment; filename="{name}"'})
    response.content_type = fmt.content_type
    response.charset = fmt.charset
    apply_stream_headers(request, response)
    await response.prepare(request)
    rows = 0
    try:
        if fmt.header:
            await response.write(fmt.header)
        async for page in opened.pages():
            candles = page.series.candles
            for at in range(0, len(candles), ROWS_PER_CHUNK):
                await response.write(fmt.rows(candles[at : at + ROWS_PER_CHUNK]))
            rows += len(candles)
    except ConnectionError:  # the client went away: nothing left to tell it
        return response
    except Exception as error:  # noqa: BLE001 - after the 200: the stream's end says it
        if answer_for(error) is None:
            log.exception("export cut short by a bug", rows=rows, file=name)
        else:
            log.warning("export cut short", rows=rows, error=str(error), file=name)
        await _cut_short(request, response, fmt, error)
        return response
    await response.write_eof()
    return response


async def _cut_short(
    request: web.Request, response: web.StreamResponse, fmt: ExportFormat, error: Exception
) -> None:
    """End a stream that failed after its 200: NDJSON with the error line, CSV truncated."""
    if fmt is FORMATS["ndjson"]:
        try:
            await response.write(_error_line(error))
            await response.write_eof()
            return
        except ConnectionError:
            return
    if request.transport is not None:
        # Closed before write_eof: aiohttp's own write_eof then finds the transport closing,
        # so the chunked body never gets its terminating chunk (what was written is sent).
        request.transport.close()
