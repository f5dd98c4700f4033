"""Run the simulator standalone: ``python -m simulator --port 9100``.

Prints one ``PROVIDER_BASE_URL=...`` line per provider and one ``PROVIDER_WS_URL=...`` per
streaming provider (ready to paste into a ``.env``)
and serves until interrupted. Drive it through the ``/__sim`` control API.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal

from .server import UpstreamSimulator


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m simulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=9100, help="port (0: any free port)")
    parser.add_argument("--seed", type=int, default=7, help="market seed")
    parser.add_argument("--coincap-api-key", default=None, help="accept only this CoinCap key")
    parser.add_argument(
        "--stream-cadence", type=float, default=1.0, help="seconds between live WebSocket frames (0: off)"
    )
    return parser.parse_args()


async def _serve(arguments: argparse.Namespace) -> None:
    sim = UpstreamSimulator(
        seed=arguments.seed,
        coincap_api_key=arguments.coincap_api_key,
        stream_cadence=arguments.stream_cadence or None,
    )
    root = await sim.start(host=arguments.host, port=arguments.port)
    for provider, url in sim.base_urls.items():
        print(f"{provider.upper()}_BASE_URL={url}")
    for provider, url in sim.ws_urls.items():
        print(f"{provider.upper()}_WS_URL={url}")
    print(f"# control API: {root}/__sim  (Ctrl-C to stop)", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        await sim.stop()


def main() -> None:
    """Entry point."""
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(_arguments()))


if __name__ == "__main__":
    main()
