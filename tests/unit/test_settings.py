"""Settings: every API.md variable from the environment, and clear refusals at start."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from entrypoints.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def test_defaults_match_the_contract(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HOST", "PORT", "CACHE_BACKEND", "OHLCV_PROVIDERS", "SUPPORTED_SYMBOLS"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert (settings.host, settings.port, settings.grpc_port) == ("0.0.0.0", 8000, 50051)
    assert settings.cache_backend == "memory"
    assert (settings.cache_ttl_prices, settings.cache_ttl_ohlcv, settings.cache_stale_ttl) == (30, 300, 3600)
    assert settings.ohlcv_providers == ["binance", "kraken"]
    assert settings.price_providers == ["coingecko", "coincap", "binance"]
    assert len(settings.supported_symbols) == 14 and settings.supported_intervals[-1] == "1w"
    assert settings.admin_token.get_secret_value() == ""


def test_comma_lists_and_numbers_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OHLCV_PROVIDERS", "Kraken, binance")
    monkeypatch.setenv("SUPPORTED_SYMBOLS", "btc,eth")
    monkeypatch.setenv("REQUEST_TIMEOUT", "2.5")
    monkeypatch.setenv("CORS_ORIGINS", "https://a.example,https://b.example")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.ohlcv_providers == ["kraken", "binance"]
    assert settings.supported_symbols == ["BTC", "ETH"]
    assert settings.request_timeout == 2.5
    assert settings.cors_origins == ["https://a.example", "https://b.example"]


@pytest.mark.parametrize(
    ("name", "value", "named"),
    [
        ("CACHE_BACKEND", "memcached", "cache_backend"),
        ("OHLCV_PROVIDERS", "binance,bitstamp", "OHLCV_PROVIDERS"),
        ("PRICE_PROVIDERS", "kraken", "PRICE_PROVIDERS"),
        ("SUPPORTED_INTERVALS", "1h,2h", "supported_intervals"),
        ("CIRCUIT_BREAKER_THRESHOLD", "0", "circuit_breaker_threshold"),
        ("REQUEST_TIMEOUT", "-1", "request_timeout"),
        ("BINANCE_BASE_URL", "api.binance.com", "BINANCE_BASE_URL"),
        ("UPSTREAM_BUDGET_KRAKEN", "lots", "upstream_budget_kraken"),
    ],
)
def test_invalid_values_are_refused_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, named: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as caught:
        Settings(_env_file=None)  # type: ignore[call-arg]
    assert named in str(caught.value)


def test_the_command_refuses_to_start_with_a_clear_message(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "entrypoints.cli", "serve"],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "CACHE_BACKEND": "memcached", "PORT": "99999"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.startswith("invalid settings:")
    assert "CACHE_BACKEND" in result.stderr and "PORT" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_stream_interval_cannot_exceed_the_five_seconds_clients_are_promised(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GRPC_STREAM_INTERVAL", "6")
    with pytest.raises(ValidationError, match="grpc_stream_interval"):
        Settings(_env_file=None)  # type: ignore[call-arg]


def test_secrets_lose_surrounding_whitespace_and_refuse_control_characters() -> None:
    import pytest
    from pydantic import ValidationError

    from entrypoints.settings import Settings

    settings = Settings(_env_file=None, coingecko_api_key="CG-key\n", admin_token="  tok  ")  # type: ignore[call-arg]
    assert settings.coingecko_api_key.get_secret_value() == "CG-key"
    assert settings.admin_token.get_secret_value() == "tok"
    with pytest.raises(ValidationError) as refused:
        Settings(_env_file=None, coincap_api_key="cc-\x07key")  # type: ignore[call-arg]
    message = refused.value.errors()[0]["msg"]  # what the command prints (it never prints the input)
    assert "control characters" in message
    assert "cc-" not in message
