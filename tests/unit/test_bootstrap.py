"""How a process starts (``entrypoints.bootstrap``): settings from the environment with the
command line's overrides on top, or an end with a message that names each invalid setting."""

from __future__ import annotations

from pathlib import Path

import pytest

from entrypoints.bootstrap import load_settings

KEY = "cc-bootstrap-test-key"


@pytest.fixture(autouse=True)
def _no_dotenv(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # a developer's .env must not decide these tests


def test_overrides_win_over_the_environment_and_none_leaves_it_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "8123")
    monkeypatch.setenv("GRPC_PORT", "50123")
    settings = load_settings(port=9000, grpc_port=None)
    assert (settings.port, settings.grpc_port) == (9000, 50123)


def test_invalid_settings_end_the_process_naming_each_of_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOG_FORMAT", "yaml")
    with pytest.raises(SystemExit) as ended:
        load_settings(port=99999)
    message = str(ended.value.code)
    assert message.startswith("invalid settings:")
    assert "PORT" in message and "LOG_FORMAT" in message


def test_a_key_quoted_in_a_refused_value_is_masked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COINCAP_API_KEY", KEY)
    with pytest.raises(SystemExit) as ended:
        load_settings(coincap_base_url=f"rest.coincap.io/v3?apiKey={KEY}")
    message = str(ended.value.code)
    assert "COINCAP_BASE_URL must be an http(s) URL" in message
    assert KEY not in message
