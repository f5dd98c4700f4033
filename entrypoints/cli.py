"""The ``crypto-data-engine`` command."""

from __future__ import annotations

import argparse
import sys

from entrypoints import __version__, event_loop
from entrypoints.backfill_command import (
    EXIT_USAGE,
    add_backfill_parser,
    backfill_overrides,
    run_backfill,
    with_budget_share,
)
from entrypoints.bootstrap import boot
from entrypoints.serve import run
from entrypoints.shutdown import exit_now
from entrypoints.workers import run_workers


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
    add_backfill_parser(commands)
    return parser


def backfill(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """``backfill``: fill the candle store, then exit with its code (see ``backfill_command``)."""
    if not 0 < args.budget_share <= 1:
        parser.exit(EXIT_USAGE, f"crypto-data-engine backfill: error: --budget-share must be in (0, 1], "
                                f"got {args.budget_share:g}\n")  # fmt: skip
    settings = with_budget_share(boot(backfill_overrides()), args.budget_share)
    code = event_loop.run(run_backfill(settings, args), settings.event_loop)
    exit_now(code)  # everything is closed: no slow interpreter teardown


def main(argv: list[str] | None = None) -> None:
    """Entry point of the console script."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "backfill":
        backfill(parser, args)
    overrides = {
        "host": args.host,
        "port": args.port,
        "grpc_port": args.grpc_port,
        "sandbox": True if args.sandbox else None,  # without the flag, SANDBOX decides
        "sandbox_seed": args.sandbox_seed,
    }
    settings = boot(overrides)
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    if args.sandbox_seed is not None and not settings.sandbox:
        parser.error("--sandbox-seed needs --sandbox (or SANDBOX=true)")
    if args.workers > 1:
        used_ports = ([settings.port] if not args.grpc_only else []) + (
            [settings.grpc_port] if not args.rest_only else []
        )
        if 0 in used_ports:
            parser.error("--workers needs fixed ports: with port 0 each worker would listen elsewhere")
        code = run_workers(
            args.workers, overrides, rest=not args.grpc_only, grpc=not args.rest_only,
            grace=settings.shutdown_grace, sandbox_seed=settings.sandbox_seed if settings.sandbox else None,
        )  # fmt: skip
        exit_now(code)  # the workers are gone and everything is closed: no slow teardown
    async def serve_then_exit() -> None:
        await run(settings, rest=not args.grpc_only, grpc=not args.rest_only, hard_stop=True)
        # Everything is closed: exit here, before the event loop's own teardown, which waits
        # without limit for executor threads (a resolver lookup, say).
        exit_now(0)

    try:
        event_loop.run(serve_then_exit(), settings.event_loop)
    except KeyboardInterrupt:  # a second Ctrl-C during the graceful shutdown
        sys.exit(130)
    exit_now(0)  # everything is closed: no slow teardown eating into SHUTDOWN_GRACE


if __name__ == "__main__":
    main()
