"""Typed application keys."""

from __future__ import annotations

from aiohttp import web

from entrypoints.container import Container, UseCases
from entrypoints.rest.rendered import RenderedBodies
from entrypoints.settings import Settings

CONTAINER = web.AppKey("container", Container)
SETTINGS = web.AppKey("settings", Settings)
USE_CASES = web.AppKey("use_cases", UseCases)
RENDERED = web.AppKey("rendered", RenderedBodies)
