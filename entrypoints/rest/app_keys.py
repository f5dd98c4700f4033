"""Typed application keys: what the REST app holds for its handlers and middlewares."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from entrypoints.answer_memo.memo import AnswerMemo
from entrypoints.container import Container, UseCases
from entrypoints.settings import Settings
from entrypoints.shutdown import ShutdownCoordinator

CONTAINER = web.AppKey("container", Container)
SETTINGS = web.AppKey("settings", Settings)
USE_CASES = web.AppKey("use_cases", UseCases)
# The JSON bodies of the data endpoints, kept per served answer.
ANSWERS: web.AppKey[AnswerMemo[dict[str, Any]]] = web.AppKey("answers", AnswerMemo)
# The process's shutdown: long-lived responses (WebSocket, SSE) end when it starts draining.
SHUTDOWN = web.AppKey("shutdown", ShutdownCoordinator)
