"""A missing indicator value (TA-Lib's NaN, None in the table) on both edges: JSON null on REST,
an unset optional on gRPC, never a 0."""

from __future__ import annotations

import orjson

from application.served import Served
from domain.indicator_table import IndicatorRow, IndicatorTable
from domain.interval import Interval
from domain.symbol import Symbol
from entrypoints.grpc.indicator_mapping import indicators_response
from entrypoints.rest import schemas
from entrypoints.rest.indicator_rendering import indicators_body
from protos.cryptodata.v1 import market_data_pb2 as pb

ROWS = (
    IndicatorRow(1_000, {"rsi_14": None, "macd": {"macd": None, "macdsignal": 0.0, "macdhist": -1.5}}),
    IndicatorRow(2_000, {"rsi_14": 0.0, "macd": {"macd": 2.5, "macdsignal": None, "macdhist": None}}),
)
TABLE = IndicatorTable(Symbol("BTC"), Interval("1h"), ROWS, 33, "kraken")


def test_rest_renders_none_as_null_and_keeps_zeros() -> None:
    body = orjson.loads(orjson.dumps(indicators_body(Served(TABLE, stale=True, fetched_at=1_700_000_000.0))))
    assert body["data"] == [
        {"timestamp": 1_000, "rsi_14": None, "macd": {"macd": None, "macdsignal": 0.0, "macdhist": -1.5}},
        {"timestamp": 2_000, "rsi_14": 0.0, "macd": {"macd": 2.5, "macdsignal": None, "macdhist": None}},
    ]
    assert (body["symbol"], body["interval"], body["count"], body["warmup"], body["source"]) == (
        "BTCUSDT", "1h", 2, 33, "kraken"
    )  # fmt: skip
    assert body["stale"] is True and body["dataTimestamp"] == 1_700_000_000_000 and body["live"] is False
    schemas.IndicatorsResponse.model_validate(body)


def test_grpc_leaves_none_unset_and_sets_zeros() -> None:
    message = indicators_response(Served(TABLE, stale=False, fetched_at=1.0, live=True))
    again = pb.GetIndicatorsResponse.FromString(message.SerializeToString())
    first, second = again.rows
    assert (first.timestamp, second.timestamp) == (1_000, 2_000)
    assert not first.values["rsi_14"].HasField("value") and not first.values["rsi_14"].outputs
    assert second.values["rsi_14"].HasField("value") and second.values["rsi_14"].value == 0.0
    macd = first.values["macd"].outputs
    assert set(macd) == {"macd", "macdsignal", "macdhist"}  # every output named, set or not
    assert not macd["macd"].HasField("value")
    assert macd["macdsignal"].HasField("value") and macd["macdsignal"].value == 0.0
    assert macd["macdhist"].value == -1.5
    assert not second.values["macd"].outputs["macdhist"].HasField("value")
    assert (again.symbol, again.interval, again.warmup, again.source, again.count) == ("BTCUSDT", "1h", 33, "kraken", 2)
    assert again.live and not again.stale and not again.HasField("data_timestamp")
