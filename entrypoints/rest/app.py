"""Building the aiohttp application around a container."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from entrypoints.answer_memo.json_body import REST_BYTES, JsonBody
from entrypoints.answer_memo.memo import AnswerMemo
from entrypoints.container import Container, UseCases, start, stop
from entrypoints.rest.app_keys import ANSWERS, CONTAINER, SETTINGS, SHUTDOWN, USE_CASES
from entrypoints.rest.expectations import ignore_unknown_expectations
from entrypoints.rest.live.edge import setup_live
from entrypoints.rest.middlewares import setup_middlewares
from entrypoints.rest.routes import setup_routes
from entrypoints.rest.sandbox import marked, setup_sandbox_marks
from entrypoints.settings import Settings
from entrypoints.shutdown import ShutdownCoordinator


async def _engine(app: web.Application) -> AsyncIterator[None]:
    app[USE_CASES] = await start(app[CONTAINER])
    yield
    await stop(app[CONTAINER])


def create_app(
    settings: Settings,
    container: Container,
    use_cases: UseCases | None = None,
    shutdown: ShutdownCoordinator | None = None,
) -> web.Application:
    """The REST application: routes and middlewares.

    Without ``use_cases`` the app owns the container's lifecycle (starts it on startup,
    closes it on cleanup). With them, whoever resolved them owns it: the runner of
    ``entrypoints.serve`` shares one container between REST and gRPC and closes it only
    after both servers have stopped.

    With ``settings.sandbox`` every answer is marked as simulated (see ``rest.sandbox``);
    pointing the providers at the simulator is the runner's job (``entrypoints.serve``).

    ``shutdown``: the process's, which ``entrypoints.serve`` begins on SIGTERM and which cuts
    requests still running late in the grace (503); without one the app has its own, which
    nothing begins (tests, embedding).
    """
    ignore_unknown_expectations()  # before any route exists: aiohttp's answer is a 500 or a bare 417
    app = web.Application(client_max_size=64 * 1024)
    app[SETTINGS] = settings
    app[CONTAINER] = container
    app[ANSWERS] = AnswerMemo(JsonBody(mark=marked if settings.sandbox else None), REST_BYTES)
    shutdown = app[SHUTDOWN] = shutdown or ShutdownCoordinator(settings.shutdown_grace)
    setup_middlewares(app, settings.cors_origins, settings.trust_proxy, container.access_log(),
                      container.metrics(), shutdown)  # fmt: skip
    setup_routes(app, metrics=settings.metrics_enabled)
    setup_live(app)
    if settings.sandbox:
        setup_sandbox_marks(app)
    if use_cases is None:
        app.cleanup_ctx.append(_engine)
    else:
        app[USE_CASES] = use_cases
    return app
