"""The ``crypto-data-engine`` command."""

from __future__ import annotations

import argparse
import sys

from pydantic import ValidationError

from entrypoints import __version__, event_loop
from entrypoints.log import SecretRedactor, configure_logging, secrets_from_environment
from entrypoints.serve import run
from entrypoints.settings import Settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="crypto-data-engine", description="Crypto market data service")
    parser.add_argument("--version", action="version", version=__version__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the REST and gRPC servers in one process")
    serve.add_argument("--host", help="bind address of both servers (default: HOST)")
    serve.add_argument("--port", type=int, help="REST port (default: PORT)")
    serve.add_argument("--grpc-port", type=int, help="gRPC port (default: GRPC_PORT)")
    serve.add_argument(
        "--workers", type=int, default=1, metavar="N",
        help="worker processes sharing the ports via SO_REUSEPORT (default: 1)",
    )  # fmt: skip
    serve.add_argument(
        "--sandbox", action="store_true",
        help="serve simulated data from a built-in upstream simulator, offline (default: SANDBOX)",
    )  # fmt: skip
    serve.add_argument(
        "--sandbox-seed", type=int, metavar="SEED",
        help="market seed of the sandbox: one seed, the same data (default: SANDBOX_SEED)",
    )  # fmt: skip
    only = serve.add_mutually_exclusive_group()
    only.add_argument("--rest-only", action="store_true", help="serve REST without gRPC")
    only.add_argument("--grpc-only", action="store_true", help="serve gRPC without REST")
    return parser


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment and .env; invalid ones end the program with a clear message."""
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})  # type: ignore[arg-type]
    except ValidationError as error:
        # Some messages quote the refused value (a base URL, a budget): mask any key in it,
        # say a COINCAP_BASE_URL=...?apiKey=KEY.
        mask = SecretRedactor(secrets_from_environment()).mask
        lines = [
            f"  {'.'.join(map(str, e['loc'])).upper() or 'settings'}: {mask(e['msg'])}"
            for e in error.errors()
        ]
        sys.exit("invalid settings:\n" + "\n".join(lines))


def main(argv: list[str] | None = None) -> None:
    """Entry point of the console script."""
    parser = _parser()
    args = parser.parse_args(argv)
    overrides = {
        "host": args.host,
        "port": args.port,
        "grpc_port": args.grpc_port,
        "sandbox": True if args.sandbox else None,  # without the flag, SANDBOX decides
        "sandbox_seed": args.sandbox_seed,
    }
    settings = load_settings(**overrides)
    configure_logging(settings.log_level, settings.log_format)
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    if args.sandbox_seed is not None and not settings.sandbox:
        parser.error("--sandbox-seed needs --sandbox (or SANDBOX=true)")
    if args.workers > 1:
        used_ports = ([settings.port] if not args.grpc_only else []) + ([settings.grpc_port] if not args.rest_only else [])
        if 0 in used_ports:
            parser.error("--workers needs fixed ports: with port 0 each worker would listen elsewhere")
        from entrypoints.workers import run_workers

        code = run_workers(
            args.workers, overrides, rest=not args.grpc_only, grpc=not args.rest_only,
            grace=settings.shutdown_grace, sandbox_seed=settings.sandbox_seed if settings.sandbox else None,
        )  # fmt: skip
        sys.exit(code)
    try:
        event_loop.run(run(settings, rest=not args.grpc_only, grpc=not args.rest_only), settings.event_loop)
    except KeyboardInterrupt:  # a second Ctrl-C during the graceful shutdown
        sys.exit(130)


if __name__ == "__main__":
    main()
