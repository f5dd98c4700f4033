"""The access log object: the kind the logging configuration asks for, the bound request id on
every line, one write per turn of the event loop, and nothing lost when it is closed."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import structlog

from entrypoints.container import build_container, stop
from entrypoints.log import REDACTED, AccessLog, SecretRedactor, bind_request_id, configure_logging
from entrypoints.log.access_log import JsonAccessLog, StructlogAccessLog, access_log_for
from entrypoints.log.configure import LogOutput
from entrypoints.log.json_lines import JsonLines
from entrypoints.settings import Settings
from tests.conftest import configure_test_logging

SECRET = "acc-sEcReT-key-0123456789"


def json_log(secrets: tuple[str, ...] = (SECRET,)) -> JsonAccessLog:
    return JsonAccessLog(JsonLines(SecretRedactor(secrets)))


def lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in capsys.readouterr().err.splitlines()]


@pytest.fixture
def session_logging_after() -> Iterator[None]:
    yield
    configure_test_logging()


@pytest.mark.parametrize(
    ("output", "kind"),
    [
        (None, StructlogAccessLog),
        (LogOutput("console", logging.INFO, SecretRedactor()), StructlogAccessLog),
        (LogOutput("json", logging.INFO, SecretRedactor()), JsonAccessLog),
        (LogOutput("json", logging.DEBUG, SecretRedactor()), JsonAccessLog),
        (LogOutput("json", logging.WARNING, SecretRedactor()), AccessLog),
    ],
)
def test_the_kind_follows_the_logging_configuration(output: LogOutput | None, kind: type[AccessLog]) -> None:
    assert type(access_log_for(output)) is kind


async def test_a_json_line_carries_the_bound_request_id_and_is_redacted(
    capsys: pytest.CaptureFixture[str],
) -> None:
    access_log = json_log()
    bind_request_id("req-7")
    access_log.write("request", method="GET", path=f"/api/{SECRET}", status=200, duration_ms=0.5)
    await asyncio.sleep(0)  # the end of the turn writes the line

    [line] = lines(capsys)
    assert line == {
        **line, "method": "GET", "path": f"/api/{REDACTED}", "status": 200, "duration_ms": 0.5,
        "request_id": "req-7", "event": "request", "level": "info", "logger": "access",
    }  # fmt: skip
    assert line["timestamp"].endswith("Z")


async def test_lines_of_one_turn_are_written_together_at_its_end(capsys: pytest.CaptureFixture[str]) -> None:
    access_log = json_log()
    for number in range(3):
        access_log.write("request", number=number)
    assert capsys.readouterr().err == ""

    await asyncio.sleep(0)
    assert [line["number"] for line in lines(capsys)] == [0, 1, 2]


async def test_closing_writes_the_queued_lines_and_later_ones_at_once(
    capsys: pytest.CaptureFixture[str],
) -> None:
    access_log = json_log()
    access_log.write("request", number=1)
    access_log.close()  # the turn has not ended: shutdown must not lose the line
    assert [line["number"] for line in lines(capsys)] == [1]

    access_log.write("request", number=2)
    assert [line["number"] for line in lines(capsys)] == [2]


async def test_concurrent_requests_each_log_their_own_id(capsys: pytest.CaptureFixture[str]) -> None:
    access_log = json_log()

    async def request(request_id: str) -> None:
        bind_request_id(request_id)
        await asyncio.sleep(0)  # the other request binds its id meanwhile
        access_log.write("request", path=f"/{request_id}")

    await asyncio.gather(request("a"), request("b"))
    await asyncio.sleep(0)
    assert sorted((line["path"], line["request_id"]) for line in lines(capsys)) == [("/a", "a"), ("/b", "b")]


async def test_the_structlog_line_carries_the_bound_request_id() -> None:
    with structlog.testing.capture_logs() as logs:
        bind_request_id("req-9")
        StructlogAccessLog().write("rpc", method="/x.Y/Z", status="OK")

    assert logs == [{"event": "rpc", "method": "/x.Y/Z", "status": "OK", "request_id": "req-9",
                     "log_level": "info"}]  # fmt: skip


def test_above_info_nothing_is_written(capsys: pytest.CaptureFixture[str]) -> None:
    access_log = AccessLog()
    access_log.write("request", path="/")
    access_log.close()
    assert capsys.readouterr().err == ""


@pytest.mark.usefixtures("session_logging_after")
async def test_the_containers_access_log_writes_its_queued_lines_when_shut_down(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("INFO", "json", secrets=[SECRET])
    container = build_container(Settings(_env_file=None))  # type: ignore[call-arg]
    access_log = container.access_log()
    assert isinstance(access_log, JsonAccessLog)
    capsys.readouterr()

    bind_request_id("req-last")
    access_log.write("request", path="/api/health", status=200)
    await stop(container)  # within the same turn: only the shutdown can write it

    [line] = lines(capsys)
    assert (line["path"], line["request_id"]) == ("/api/health", "req-last")


@pytest.mark.usefixtures("session_logging_after")
async def test_every_other_line_of_the_request_carries_its_id(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", "json", secrets=[])
    bind_request_id("req-errors")
    structlog.get_logger("errors").error("unhandled error")
    logging.getLogger("aiohttp.server").error("Error handling request")

    assert [(line["logger"], line["request_id"]) for line in lines(capsys)] == [
        ("errors", "req-errors"),
        ("aiohttp.server", "req-errors"),
    ]
