"""The ``crypto-data-engine`` command."""

from __future__ import annotations

import argparse
import sys

from aiohttp import web
from pydantic import ValidationError

from entrypoints import __version__
from entrypoints.container import build_container
from entrypoints.logging_setup import configure_logging
from entrypoints.rest.app import create_app
from entrypoints.settings import Settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="crypto-data-engine", description="Crypto market data service")
    parser.add_argument("--version", action="version", version=__version__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the REST server")
    serve.add_argument("--host", help="REST bind address (default: HOST)")
    serve.add_argument("--port", type=int, help="REST port (default: PORT)")
    return parser


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment and .env; invalid ones end the program with a clear message."""
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})  # type: ignore[arg-type]
    except ValidationError as error:
        lines = [f"  {'.'.join(map(str, e['loc'])).upper() or 'settings'}: {e['msg']}" for e in error.errors()]
        sys.exit("invalid settings:\n" + "\n".join(lines))


def main(argv: list[str] | None = None) -> None:
    """Entry point of the console script."""
    args = _parser().parse_args(argv)
    settings = load_settings(host=args.host, port=args.port)
    configure_logging(settings.log_level, settings.log_format)
    app = create_app(settings, build_container(settings))
    web.run_app(app, host=settings.host, port=settings.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
