"""No API key or token reaches a log line: the redacting processor and its wiring."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog
from pydantic import SecretStr

from entrypoints.log import (
    REDACTED,
    SecretRedactor,
    configure_logging,
    secret_values,
    secrets_from_environment,
)
from entrypoints.settings import Settings
from tests.conftest import configure_test_logging

SECRET = "cde-sEcReT/key+0123456789"  # "/" and "+" change when URL-encoded
OTHER = "adm-sEcReT-token-abcdef"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def redact(**event: Any) -> Any:
    return SecretRedactor([SECRET, OTHER])(None, "info", dict(event))


def test_a_configured_secret_is_masked_wherever_it_appears() -> None:
    event = redact(
        event=f"calling with {SECRET}",
        path=f"/api/{OTHER}",
        nested={"deeper": [f"x{SECRET}y", (1, OTHER)]},
        encoded="https://example.test/assets?k=cde-sEcReT%2Fkey%2B0123456789",
        plus="k=cde-sEcReT%2Fkey%2B0123456789",
        error=ValueError(f"refused {SECRET}"),
    )
    rendered = json.dumps(event, default=repr)
    assert SECRET not in rendered and OTHER not in rendered and "0123456789" not in rendered
    assert event["path"] == f"/api/{REDACTED}"
    assert event["nested"] == {"deeper": [f"x{REDACTED}y", (1, REDACTED)]}
    assert event["error"] == f"ValueError('refused {REDACTED}')"  # what the renderers print, masked


def test_fields_named_like_credentials_are_masked_whatever_they_hold() -> None:
    event = redact(
        headers={
            "Authorization": "Bearer anything",
            "X-CG-Demo-API-Key": "CG-123",
            "Accept": "application/json",
        },
        api_key="k-1",
        admin_token="t-1",
        password=1234,
        has_token=True,
        apikey=None,
    )
    assert event["headers"] == {
        "Authorization": REDACTED,
        "X-CG-Demo-API-Key": REDACTED,
        "Accept": "application/json",
    }
    assert (event["api_key"], event["admin_token"], event["password"]) == (REDACTED, REDACTED, REDACTED)
    assert (event["has_token"], event["apikey"]) == (True, None)  # no value to hide


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("GET https://rest.coincap.io/v3/assets?ids=bitcoin&apiKey=abc123&x=1",
         f"GET https://rest.coincap.io/v3/assets?ids=bitcoin&apiKey={REDACTED}&x=1"),
        ("401, message='Unauthorized', url='https://h/v3/assets?api_key=abc123'",
         f"401, message='Unauthorized', url='https://h/v3/assets?api_key={REDACTED}'"),
        ("<CIMultiDict('Authorization': 'Bearer abc.def-123', 'Accept': 'application/json')>",
         f"<CIMultiDict('Authorization': 'Bearer {REDACTED}', 'Accept': 'application/json')>"),
        ("headers {'x-cg-pro-api-key': 'CG-xyz'}", f"headers {{'x-cg-pro-api-key': '{REDACTED}'}}"),
        ("sent bearer abc123 upstream", f"sent bearer {REDACTED} upstream"),
        ("COINCAP_API_KEY=abc123 PORT=1", f"COINCAP_API_KEY={REDACTED} PORT=1"),
        ("redis://:hunter22@redis:6379/0", f"redis://:{REDACTED}@redis:6379/0"),
        ("redis://app:hunter22@redis:6379/0", f"redis://app:{REDACTED}@redis:6379/0"),
    ],
)  # fmt: skip
def test_credential_looking_text_is_masked_even_when_not_configured(text: str, expected: str) -> None:
    assert redact(event=text)["event"] == expected


def test_an_ordinary_line_passes_untouched() -> None:
    event = {
        "event": "request", "method": "GET", "path": "/api/ohlcv", "status": 200, "duration_ms": 1.5,
        "client": "127.0.0.1", "request_id": "4f0c1b2a9d8e4f6a", "level": "info", "logger": "access",
        "timestamp": "2026-11-23T20:00:00.123456Z", "stale": False, "retry": None,
    }  # fmt: skip
    redactor = SecretRedactor([SECRET])
    for _ in range(2):  # the first line teaches it the field names; the second takes the fast path
        out = redactor(None, "info", dict(event))
        assert out == event
        assert all(out[key] is event[key] for key in event)


def test_a_masked_secret_is_not_masked_again() -> None:
    assert redact(event=f"?apiKey={SECRET}")["event"] == f"?apiKey={REDACTED}"
    assert SecretRedactor([SECRET]).mask(f"got 'x?apiKey={SECRET}'") == f"got 'x?apiKey={REDACTED}'"


def test_values_too_short_to_be_secrets_are_not_masked_everywhere() -> None:
    assert SecretRedactor(["abc", ""])(None, "info", {"event": "abcdef"}) == {"event": "abcdef"}


def test_the_secret_values_of_settings() -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, admin_token=SecretStr("adm-1234"), coingecko_api_key=SecretStr("cg-1234"),
        coincap_api_key=SecretStr(""), redis_url="redis://user:pw-1234@redis:6379/0",
    )  # fmt: skip
    assert set(secret_values(settings)) == {"adm-1234", "cg-1234", "", "pw-1234"}


def test_the_secrets_are_read_as_the_service_reads_them_even_next_to_an_invalid_setting(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("COINGECKO_API_KEY=cg-from-dotenv\nPORT=not-a-port\n")
    monkeypatch.setenv("admin_token", "adm-from-env")
    monkeypatch.setenv("REDIS_URL", "redis://:pw-from-env@localhost:6379/0")
    monkeypatch.delenv("COINCAP_API_KEY", raising=False)
    assert set(secrets_from_environment()) == {"cg-from-dotenv", "adm-from-env", "", "pw-from-env"}


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level, config = root.handlers[:], root.level, structlog.get_config()
    yield
    configure_test_logging()  # also how the access logs of containers built later will write
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.configure(**config)


@pytest.mark.usefixtures("restore_logging")
@pytest.mark.parametrize("fmt", ["json", "console"])
def test_every_logger_and_traceback_is_masked_in_both_formats(
    fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("INFO", fmt, secrets=[SECRET])
    log = structlog.get_logger("redaction-test")
    structlog.contextvars.bind_contextvars(request_id="req-1")
    try:
        log.info("request", path=f"/api/{SECRET}")
        logging.getLogger("aiohttp.server").error("Error handling request from %s", SECRET)
        try:
            raise RuntimeError(f"upstream refused https://h/assets?apiKey={SECRET}")
        except RuntimeError:
            log.exception("unhandled error")
    finally:
        structlog.contextvars.clear_contextvars()

    output = ANSI.sub("", capsys.readouterr().err)
    lines = output.strip().splitlines()
    assert SECRET not in output and "0123456789" not in output
    assert "Traceback (most recent call last)" in output and "RuntimeError: upstream refused" in output
    assert output.count(REDACTED) >= 4
    if fmt == "json":
        records = [json.loads(line) for line in lines if line.startswith("{")]
        assert len(records) == 3 and all(record["request_id"] == "req-1" for record in records)
        assert records[0]["path"] == f"/api/{REDACTED}"
    else:
        assert not lines[0].startswith("{")
        event_lines = [line for line in lines if re.match(r"^\d{4}-\d\d-\d\dT", line)]
        assert len(event_lines) == 3 and all("request_id=req-1" in line for line in event_lines)


def test_secrets_read_from_the_environment_are_masked_as_the_service_sends_them(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from entrypoints.log import SecretRedactor, secrets_from_environment

    monkeypatch.chdir(tmp_path)  # no .env
    monkeypatch.setenv("COINCAP_API_KEY", "cc-live-key-7Hq2\n")  # a secrets file's trailing newline
    redactor = SecretRedactor(secrets_from_environment())
    event = redactor(None, "info", {"event": "upstream said cc-live-key-7Hq2 is wrong"})
    assert "cc-live-key-7Hq2" not in event["event"]
