"""The ceiling of one Python process for gRPC: a bare grpc.aio server whose generic handler
returns the very serialized answer the service gave, for the same method names.

    python -m tests.benchmarks.bare_grpc --port P --method GetPrices=FILE [--method ...]

Requests are not parsed and answers not built: what is left is grpc.aio's own cost.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
from pathlib import Path

import grpc

SERVICE = "cryptodata.v1.MarketData"


def _raw(payload: bytes) -> bytes:
    return payload


def handlers(answers: dict[str, bytes]) -> grpc.GenericRpcHandler:
    """A generic handler answering each method with its bytes."""
    methods = {}
    for name, answer in answers.items():

        async def unary(request: bytes, context: grpc.aio.ServicerContext, answer: bytes = answer) -> bytes:
            return answer

        methods[name] = grpc.unary_unary_rpc_method_handler(
            unary, request_deserializer=_raw, response_serializer=_raw
        )
    return grpc.method_handlers_generic_handler(SERVICE, methods)


async def serve(host: str, port: int, answers: dict[str, bytes]) -> None:
    """Serve until SIGTERM/SIGINT; the service's server options (no SO_REUSEPORT)."""
    server = grpc.aio.server(options=[("grpc.so_reuseport", 0)])
    server.add_generic_rpc_handlers((handlers(answers),))
    server.add_insecure_port(f"{host}:{port}")
    await server.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        await server.stop(0.5)


def main() -> None:
    """Entry point."""
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.bare_grpc", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--method", action="append", required=True, metavar="NAME=FILE")
    arguments = parser.parse_args()
    answers = {}
    for spec in arguments.method:
        name, _, file = spec.partition("=")
        answers[name] = Path(file).read_bytes()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(arguments.host, arguments.port, answers))


if __name__ == "__main__":
    main()
