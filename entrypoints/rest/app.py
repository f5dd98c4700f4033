"""Building the aiohttp application around a container."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from entrypoints.container import Container, start, stop
from entrypoints.rest.keys import CONTAINER, SETTINGS, USE_CASES
from entrypoints.rest.middlewares import setup_middlewares
from entrypoints.rest.routes import setup_routes
from entrypoints.settings import Settings


async def _engine(app: web.Application) -> AsyncIterator[None]:
    app[USE_CASES] = await start(app[CONTAINER])
    yield
    await stop(app[CONTAINER])


def create_app(settings: Settings, container: Container) -> web.Application:
    """The REST application: routes, middlewares, and the container's lifecycle."""
    app = web.Application(client_max_size=64 * 1024)
    app[SETTINGS] = settings
    app[CONTAINER] = container
    setup_middlewares(app, settings.cors_origins, settings.trust_proxy)
    setup_routes(app)
    app.cleanup_ctx.append(_engine)
    return app
