"""An upstream simulator for the Crypto Data Engine's provider adapters.

``UpstreamSimulator`` serves Binance spot, Kraken, CoinGecko v3, CoinCap v3 and the
alternative.me Fear & Greed index on one loopback aiohttp server, in their real wire
formats and error forms, from one deterministic market, with fault injection
(``set_fault``) and call recording (``calls``, ``requests``). Run it standalone with
``python -m simulator --port 9100``.
"""

from .faults import Fault
from .market import Candle, Market
from .recording import RecordedRequest
from .server import UpstreamSimulator

__all__ = ["Candle", "Fault", "Market", "RecordedRequest", "UpstreamSimulator"]
