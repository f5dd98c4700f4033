"""The backfill command's own parts: its share of the upstream budgets and its summary."""

from __future__ import annotations

from limits import parse

from application.history.backfill_report import BackfillJob, BackfillReport, MarketReport
from domain.candle_span import CandleSpan
from domain.interval import Interval
from domain.symbol import Symbol
from entrypoints.backfill_command import budget_share, with_budget_share
from entrypoints.backfill_output import summary
from entrypoints.settings import Settings

HOUR = 3_600_000
JAN_1 = 1_704_067_200_000  # 2024-01-01T00:00:00Z


def test_a_budget_share_keeps_the_period_and_never_drops_below_one_call() -> None:
    assert budget_share("4800/minute", 0.5, cost=2) == "2400/1 minute"
    assert budget_share("10/10 seconds", 0.5) == "5/10 second"
    assert budget_share("10/minute", 0.01, cost=2) == "2/1 minute"
    item = parse(budget_share("4800/minute", 0.25, cost=2))
    assert (item.amount, item.get_expiry()) == (1200, 60)


def test_every_provider_budget_is_cut_to_the_share() -> None:
    settings = Settings(_env_file=None, upstream_budget_kraken="20/10 seconds")  # type: ignore[call-arg]
    shared = with_budget_share(settings, 0.5)
    assert shared.upstream_budget_binance == "2400/1 minute"
    assert shared.upstream_budget_kraken == "10/10 second"
    assert shared.upstream_budget_coingecko == "5/1 minute"
    assert settings.upstream_budget_binance == "4800/minute"  # the settings given are left alone


def test_the_summary_says_candles_gaps_calls_and_what_was_left_undone() -> None:
    btc = MarketReport(BackfillJob(Symbol("BTC"), Interval("1h"), JAN_1, JAN_1 + 100 * HOUR), done=100,
                       candles=90, gaps=[CandleSpan(JAN_1 + 10 * HOUR, JAN_1 + 20 * HOUR)], source="binance")  # fmt: skip
    eth = MarketReport(BackfillJob(Symbol("ETH"), Interval("1d"), JAN_1, JAN_1 + 240 * HOUR), done=10,
                       candles=3, source="kraken", reason="kraken cannot reach all of it")  # fmt: skip
    report = BackfillReport([btc, eth], upstream_calls=4)

    assert summary(report) == [
        "  BTCUSDT 1h: 90 candles from binance, 1 gap: [2024-01-01T10:00:00Z, 2024-01-01T20:00:00Z)",
        "  ETHUSDT 1d: 3 candles from kraken, 0 gaps",
        "candles stored: 93; gaps found: 1 span; upstream calls: 4",
        "not completed:",
        "  ETHUSDT 1d: kraken cannot reach all of it",
    ]
    report.interrupted = True
    assert (
        summary(report)[-1] == "interrupted: run the same command again to resume (what was stored is kept)"
    )
