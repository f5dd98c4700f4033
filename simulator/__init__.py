"""An upstream simulator for the Crypto Data Engine's provider adapters.

``UpstreamSimulator`` serves Binance spot, Kraken, CoinGecko v3, CoinCap v3 and the
alternative.me Fear & Greed index on one loopback aiohttp server, in their real wire
formats and error forms, from one deterministic market, with fault injection
(``set_fault``) and call recording (``calls``, ``requests``). Binance's and Kraken's
WebSocket market streams are served too (``streams``: ``ws_urls``, ``push``, stream faults
and a connection log). Run it standalone with
``python -m simulator --port 9100``.
"""

from .faults import Fault
from .market import Candle, Market
from .recording import RecordedRequest
from .server import UpstreamSimulator
from .stream_hub import ws_url_of
from .stream_log import ClientFrame, StreamConnection
from .stream_session import StreamSettings

__all__ = [
    "Candle", "ClientFrame", "Fault", "Market", "RecordedRequest", "StreamConnection", "StreamSettings",
    "UpstreamSimulator", "ws_url_of",
]  # fmt: skip
