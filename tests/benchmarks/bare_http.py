"""The ceiling of one Python process for REST: a bare aiohttp handler returning the very
bytes the service answered, with the service's runner set-up (no aiohttp access log).

    python -m tests.benchmarks.bare_http --port P --route /api/prices=FILE [--route ...]

The query string is ignored: each path answers its file's bytes as application/json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
from pathlib import Path

from aiohttp import web


def build_app(routes: dict[str, bytes]) -> web.Application:
    """One GET handler per path, each returning its bytes."""
    app = web.Application()
    for path, body in routes.items():

        async def handler(request: web.Request, body: bytes = body) -> web.Response:
            return web.Response(body=body, content_type="application/json")

        app.router.add_get(path, handler)
    return app


async def serve(host: str, port: int, routes: dict[str, bytes]) -> None:
    """Serve until SIGTERM/SIGINT."""
    runner = web.AppRunner(build_app(routes), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def main() -> None:
    """Entry point."""
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.bare_http", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--route", action="append", required=True, metavar="PATH=FILE")
    arguments = parser.parse_args()
    routes = {}
    for spec in arguments.route:
        path, _, file = spec.partition("=")
        routes[path] = Path(file).read_bytes()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(arguments.host, arguments.port, routes))


if __name__ == "__main__":
    main()
