"""CoinCap v3: ``/assets`` and ``/assets/{id}``, behind an API key.

Every number is a decimal string (rank too), ``maxSupply`` may be null, and answers carry
a ``timestamp`` in milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web

from .error_pages import plain_text
from .faults import COMMON_KINDS, Fault
from .market import Market
from .upstream import Rejection, Upstream, effects_of, json_answer


@dataclass(frozen=True)
class CapAsset:
    """A CoinCap asset: its id, the market asset, its symbol, name and explorer link."""

    id: str
    asset: str
    symbol: str
    name: str
    explorer: str


CAP_ASSETS: tuple[CapAsset, ...] = (
    CapAsset("bitcoin", "BTC", "BTC", "Bitcoin", "https://blockchain.info/"),
    CapAsset("ethereum", "ETH", "ETH", "Ethereum", "https://etherscan.io/"),
    CapAsset("solana", "SOL", "SOL", "Solana", "https://explorer.solana.com/"),
    CapAsset("xrp", "XRP", "XRP", "XRP", "https://xrpcharts.ripple.com/#/graph/"),
    CapAsset("binance-coin", "BNB", "BNB", "BNB", "https://bscscan.com/"),
    CapAsset("cardano", "ADA", "ADA", "Cardano", "https://cardanoexplorer.com/"),
    CapAsset("polkadot", "DOT", "DOT", "Polkadot", "https://polkascan.io/polkadot"),
    CapAsset(
        "chainlink",
        "LINK",
        "LINK",
        "Chainlink",
        "https://etherscan.io/token/0x514910771af9ca656af840dff83e8264ecf986ca",
    ),
    CapAsset("litecoin", "LTC", "LTC", "Litecoin", "http://explorer.litecoin.net/chain/Litecoin"),
    CapAsset("bitcoin-cash", "BCH", "BCH", "Bitcoin Cash", "https://blockchair.com/bitcoin-cash/blocks"),
    CapAsset(
        "polygon",
        "MATIC",
        "MATIC",
        "Polygon",
        "https://etherscan.io/token/0x7d1afa7b718fb893db30a3abc0cfc608aacfebb0",
    ),
    CapAsset("avalanche", "AVAX", "AVAX", "Avalanche", "https://avascan.info/"),
    CapAsset("stellar", "XLM", "XLM", "Stellar", "https://dashboard.stellar.org/"),
    CapAsset("tron", "TRX", "TRX", "TRON", "https://tronscan.org/#/"),
    CapAsset("dogecoin", "DOGE", "DOGE", "Dogecoin", "http://dogechain.info/chain/Dogecoin"),
)
CAP_ASSETS_BY_ID = {entry.id: entry for entry in CAP_ASSETS}

DEPRECATED_MESSAGE = (
    "We are deprecating this version of the CoinCap API, please see the new version of the "
    "API at https://pro.coincap.io/api-docs."
)
UNAUTHORIZED_MESSAGE = "Unauthorized. Please provide a valid API key (https://pro.coincap.io/dashboard)."


def decimal_string(value: float) -> str:
    """CoinCap's long decimal strings ("65012.1234567890123456")."""
    return f"{value:.16f}"


class CoinCapUpstream(Upstream):
    """CoinCap v3, mounted at ``/coincap/v3`` (the service's ``COINCAP_BASE_URL``).

    With ``api_key`` set only that key is accepted; otherwise any non-empty key is.
    """

    name = "coincap"
    prefix = "/coincap/v3"
    host = "rest.coincap.io"
    fault_kinds = COMMON_KINDS | {"skew", "deprecated_v2"}

    def __init__(self, market: Market, api_key: str | None = None) -> None:
        super().__init__(market)
        self.api_key = api_key

    def routes(self) -> list[web.RouteDef]:
        """The asset list and single assets."""
        return [self.get("/assets", self.assets), self.get("/assets/{id}", self.asset)]

    def admit(self, request: web.Request, path: str) -> web.Response | None:
        """401 without a key (``Authorization: Bearer KEY`` or ``?apiKey=KEY``)."""
        key = request.query.get("apiKey", "")
        authorization = request.headers.get("Authorization", "")
        if not key and authorization[:7].lower() == "bearer ":
            key = authorization[7:].strip()
        if key and (self.api_key is None or key == self.api_key):
            return None
        return json_answer({"error": UNAUTHORIZED_MESSAGE}, status=401)

    def answer(self, fault: Fault, request: web.Request, path: str) -> web.Response:
        """CoinCap's forms: JSON 429s, the v2 deprecation notice, plain-text 5xx."""
        kind = fault.kind
        retry_after = str(int(fault.params.get("retry_after", 30)))
        if kind in ("http_500", "http_503"):
            return plain_text(int(kind[-3:]))
        if kind == "rate_limit":
            return json_answer(
                {"error": "rate limit exceeded"}, status=429, headers={"Retry-After": retry_after}
            )
        if kind == "deprecated_v2":
            return json_answer({"data": {"message": DEPRECATED_MESSAGE}}, status=429)
        if kind == "empty":
            return json_answer({"data": [], "timestamp": self._timestamp()})
        if kind == "wrong_shape":
            return json_answer(self._wrong_shape(path))
        raise ValueError(f"coincap cannot answer fault {kind!r}")

    async def assets(self, request: web.Request) -> web.Response:
        """Assets by rank, filtered by ``ids`` or ``search``, paged by ``limit``/``offset``."""
        query = request.query
        try:
            limit = min(2000, max(1, int(query.get("limit", "100"))))
            offset = max(0, int(query.get("offset", "0")))
        except ValueError:
            raise Rejection(json_answer({"error": "invalid limit or offset"}, status=400)) from None
        rows = self._ranked(effects_of(request).skew)
        if query.get("ids"):
            wanted = [i.strip().lower() for i in query["ids"].split(",") if i.strip()]
            rows = [row for row in rows if row["id"] in wanted]
        if query.get("search"):
            needle = query["search"].lower()
            rows = [
                r
                for r in rows
                if needle in r["id"] or needle in r["symbol"].lower() or needle in r["name"].lower()
            ]
        return json_answer({"data": rows[offset : offset + limit], "timestamp": self._timestamp()})

    async def asset(self, request: web.Request) -> web.Response:
        """One asset as an object; 404 for an unknown id."""
        asset_id = request.match_info["id"]
        for row in self._ranked(effects_of(request).skew):
            if row["id"] == asset_id:
                return json_answer({"data": row, "timestamp": self._timestamp()})
        raise Rejection(
            json_answer({"error": f"{asset_id} not found", "timestamp": self._timestamp()}, status=404)
        )

    def _timestamp(self) -> int:
        return int(self.market.now() * 1000)

    def _ranked(self, skew: float) -> list[dict[str, Any]]:
        rows: list[tuple[float, dict[str, Any]]] = []
        for entry in CAP_ASSETS:
            asset = self.market.asset(entry.asset)
            stats = self.market.day_stats(entry.asset, self.name)
            price = stats.last * skew
            cap = price * asset.circulating_supply
            row = {
                "id": entry.id,
                "rank": "0",
                "symbol": entry.symbol,
                "name": entry.name,
                "supply": decimal_string(asset.circulating_supply),
                "maxSupply": decimal_string(asset.max_supply) if asset.max_supply else None,
                "marketCapUsd": decimal_string(cap),
                "volumeUsd24Hr": decimal_string(stats.volume_usd * skew),
                "priceUsd": decimal_string(price),
                "changePercent24Hr": decimal_string(stats.change_percent),
                "vwap24Hr": decimal_string(stats.vwap * skew),
                "explorer": entry.explorer,
            }
            rows.append((cap, row))
        rows.sort(key=lambda item: item[0], reverse=True)
        for rank, (_, row) in enumerate(rows, 1):
            row["rank"] = str(rank)
        return [row for _, row in rows]

    def _wrong_shape(self, path: str) -> Any:
        if path.rstrip("/") == "/assets":
            return {"data": [{"id": "bitcoin", "symbol": "BTC"}], "timestamp": self._timestamp()}
        return {"data": [], "timestamp": self._timestamp()}
