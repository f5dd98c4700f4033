"""CoinGecko v3: ``/ping``, ``/simple/price``, ``/coins/markets`` and ``/global``.

Values are JSON numbers. Unknown ids are silently left out. Keys sent in
``x-cg-demo-api-key`` / ``x-cg-pro-api-key`` are only recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from .error_pages import cloudflare_page
from .faults import COMMON_KINDS, Fault
from .formatting import price_decimals
from .upstream import Rejection, Upstream, effects_of, json_answer


@dataclass(frozen=True)
class Coin:
    """A CoinGecko coin: its id, the market asset, its lower-case symbol and display name."""

    id: str
    asset: str
    symbol: str
    name: str


COINS: tuple[Coin, ...] = (
    Coin("bitcoin", "BTC", "btc", "Bitcoin"),
    Coin("ethereum", "ETH", "eth", "Ethereum"),
    Coin("solana", "SOL", "sol", "Solana"),
    Coin("ripple", "XRP", "xrp", "XRP"),
    Coin("binancecoin", "BNB", "bnb", "BNB"),
    Coin("cardano", "ADA", "ada", "Cardano"),
    Coin("polkadot", "DOT", "dot", "Polkadot"),
    Coin("chainlink", "LINK", "link", "Chainlink"),
    Coin("litecoin", "LTC", "ltc", "Litecoin"),
    Coin("bitcoin-cash", "BCH", "bch", "Bitcoin Cash"),
    Coin("avalanche-2", "AVAX", "avax", "Avalanche"),
    Coin("stellar", "XLM", "xlm", "Stellar"),
    Coin("tron", "TRX", "trx", "TRON"),
    Coin("matic-network", "MATIC", "matic", "Polygon"),
    Coin("polygon-ecosystem-token", "MATIC", "pol", "POL (ex-MATIC)"),
    Coin("dogecoin", "DOGE", "doge", "Dogecoin"),
)
COINS_BY_ID = {coin.id: coin for coin in COINS}

RATE_LIMIT_MESSAGE = (
    "You've exceeded the Rate Limit. Please visit https://www.coingecko.com/en/api/pricing "
    "to subscribe to our API plans for higher rate limits."
)
#: Share of the whole crypto market held by the assets simulated here.
_COVERED_SHARE = 0.88
_ORDERS = {
    "market_cap_desc": ("market_cap", True),
    "market_cap_asc": ("market_cap", False),
    "volume_desc": ("total_volume", True),
    "volume_asc": ("total_volume", False),
    "id_asc": ("id", False),
    "id_desc": ("id", True),
}


def gecko_error(message: str, status: int = 400) -> web.Response:
    """CoinGecko's plain error form ``{"error": "..."}``."""
    return json_answer({"error": message}, status=status)


def _flag(query: Any, name: str) -> bool:
    return str(query.get(name, "false")).lower() == "true"


def _iso(t: float) -> str:
    return datetime.fromtimestamp(int(t), tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


class CoinGeckoUpstream(Upstream):
    """CoinGecko v3, mounted at ``/coingecko/api/v3`` (the service's ``COINGECKO_BASE_URL``)."""

    name = "coingecko"
    prefix = "/coingecko/api/v3"
    host = "api.coingecko.com"
    fault_kinds = COMMON_KINDS | {"skew"}

    def routes(self) -> list[web.RouteDef]:
        """Ping, simple price, coin markets and global figures."""
        return [
            self.get("/ping", self.ping),
            self.get("/simple/price", self.simple_price),
            self.get("/coins/markets", self.coins_markets),
            self.get("/global", self.global_figures),
        ]

    def answer(self, fault: Fault, request: web.Request, path: str) -> web.Response:
        """CoinGecko's forms: JSON 429 with ``retry-after``, Cloudflare pages for 5xx."""
        kind = fault.kind
        if kind in ("http_500", "http_503"):
            return cloudflare_page(int(kind[-3:]), self.host)
        if kind == "rate_limit":
            body = {"status": {"error_code": 429, "error_message": RATE_LIMIT_MESSAGE}}
            retry_after = str(int(fault.params.get("retry_after", 30)))
            return json_answer(body, status=429, headers={"retry-after": retry_after})
        if kind == "empty":
            return json_answer([] if path.startswith("/coins/markets") else {})
        if kind == "wrong_shape":
            return json_answer(self._wrong_shape(path))
        raise ValueError(f"coingecko cannot answer fault {kind!r}")

    async def ping(self, request: web.Request) -> web.Response:
        """The famous greeting."""
        return json_answer({"gecko_says": "(V3) To the Moon!"})

    async def simple_price(self, request: web.Request) -> web.Response:
        """``{id: {"usd": .., "usd_market_cap": .., ...}}`` for the known ids asked for."""
        query = request.query
        ids = self._ids(query.get("ids", ""), required="ids")
        currencies = [c.strip().lower() for c in query.get("vs_currencies", "").split(",") if c.strip()]
        if not currencies:
            raise Rejection(gecko_error("Missing parameter vs_currencies"))
        if any(currency != "usd" for currency in currencies):
            raise Rejection(gecko_error("invalid vs_currency"))
        skew = effects_of(request).skew
        body: dict[str, dict[str, float | int]] = {}
        for coin in (COINS_BY_ID[i] for i in ids if i in COINS_BY_ID):
            figures = self._figures(coin, skew)
            entry: dict[str, float | int] = {"usd": figures["current_price"]}
            if _flag(query, "include_market_cap"):
                entry["usd_market_cap"] = figures["market_cap"]
            if _flag(query, "include_24hr_vol"):
                entry["usd_24h_vol"] = figures["total_volume"]
            if _flag(query, "include_24hr_change"):
                entry["usd_24h_change"] = figures["price_change_percentage_24h"]
            if _flag(query, "include_last_updated_at"):
                entry["last_updated_at"] = int(self.market.now())
            body[coin.id] = entry
        return json_answer(body)

    async def coins_markets(self, request: web.Request) -> web.Response:
        """Market rows, ordered (market cap by default) and paged like CoinGecko."""
        query = request.query
        currency = query.get("vs_currency", "").lower()
        if not currency:
            raise Rejection(gecko_error("Missing parameter vs_currency"))
        if currency != "usd":
            raise Rejection(gecko_error("invalid vs_currency"))
        try:
            per_page = min(250, max(1, int(query.get("per_page", "100"))))
            page = max(1, int(query.get("page", "1")))
        except ValueError:
            raise Rejection(gecko_error("invalid parameter")) from None
        order = _ORDERS.get(query.get("order", "market_cap_desc"))
        if order is None:
            raise Rejection(gecko_error("invalid order"))
        skew = effects_of(request).skew
        rows = self._ranked(skew)
        if query.get("ids"):
            wanted = set(self._ids(query["ids"], required="ids"))
            rows = [row for row in rows if row["id"] in wanted]
        field, descending = order
        rows.sort(key=lambda row: row[field], reverse=descending)
        return json_answer(rows[(page - 1) * per_page : page * per_page])

    async def global_figures(self, request: web.Request) -> web.Response:
        """Whole-market totals, wrapped in ``data``."""
        assets = self.market.assets
        caps = {a.symbol: self.market.price(a.symbol) * a.circulating_supply for a in assets}
        volumes = sum(self.market.day_stats(a.symbol, self.name).volume_usd for a in assets)
        total_cap = sum(caps.values()) / _COVERED_SHARE
        change = sum(
            caps[a.symbol] * self.market.day_stats(a.symbol, self.name).change_percent for a in assets
        ) / sum(caps.values())
        shares = {symbol.lower(): cap / total_cap * 100 for symbol, cap in caps.items()}
        top = dict(sorted(shares.items(), key=lambda item: item[1], reverse=True)[:10])
        data = {
            "active_cryptocurrencies": 15_212,
            "upcoming_icos": 0,
            "ongoing_icos": 49,
            "ended_icos": 3_376,
            "markets": 1_187,
            "total_market_cap": {"usd": round(total_cap, 2)},
            "total_volume": {"usd": round(volumes / _COVERED_SHARE, 2)},
            "market_cap_percentage": top,
            "market_cap_change_percentage_24h_usd": change,
            "updated_at": int(self.market.now()),
        }
        return json_answer({"data": data})

    def _ids(self, raw: str, *, required: str) -> list[str]:
        ids = [i.strip().lower() for i in raw.split(",") if i.strip()]
        if not ids:
            raise Rejection(gecko_error(f"Missing parameter {required}"))
        return ids

    def _figures(self, coin: Coin, skew: float) -> dict[str, Any]:
        asset = self.market.asset(coin.asset)
        stats = self.market.day_stats(coin.asset, self.name)
        places = price_decimals(self.market.price(coin.asset), significant=8, maximum=10)
        price = round(stats.last * skew, places)
        return {
            "current_price": price,
            "market_cap": round(price * asset.circulating_supply, 2),
            "total_volume": round(stats.volume_usd * skew, 2),
            "high_24h": round(stats.high * skew, places),
            "low_24h": round(stats.low * skew, places),
            "price_change_24h": round((stats.last - stats.open) * skew, places),
            "price_change_percentage_24h": round(stats.change_percent, 5),
        }

    def _ranked(self, skew: float) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        for coin in COINS:
            asset = self.market.asset(coin.asset)
            figures = self._figures(coin, skew)
            change = figures["price_change_percentage_24h"]
            rows.append(
                {
                    "id": coin.id,
                    "symbol": coin.symbol,
                    "name": coin.name,
                    "image": f"https://coin-images.coingecko.com/coins/images/1/large/{coin.id}.png",
                    "current_price": figures["current_price"],
                    "market_cap": figures["market_cap"],
                    "market_cap_rank": 0,
                    "fully_diluted_valuation": (
                        round(figures["current_price"] * asset.max_supply, 2) if asset.max_supply else None
                    ),
                    "total_volume": figures["total_volume"],
                    "high_24h": figures["high_24h"],
                    "low_24h": figures["low_24h"],
                    "price_change_24h": figures["price_change_24h"],
                    "price_change_percentage_24h": change,
                    "market_cap_change_24h": round(figures["market_cap"] * change / (100 + change), 2),
                    "market_cap_change_percentage_24h": change,
                    "circulating_supply": asset.circulating_supply,
                    "total_supply": asset.max_supply or asset.circulating_supply,
                    "max_supply": asset.max_supply,
                    "roi": None,
                    "last_updated": _iso(self.market.now()),
                }
            )
        for rank, row in enumerate(sorted(rows, key=lambda r: r["market_cap"], reverse=True), 1):
            row["market_cap_rank"] = rank
        return rows

    def _wrong_shape(self, path: str) -> Any:
        if path.startswith("/simple/price"):
            return [{"id": "bitcoin", "usd": 1.0}]
        if path.startswith("/coins/markets"):
            return {"bitcoin": {"usd": 1.0}}
        if path.startswith("/global"):
            return {"active_cryptocurrencies": 1, "total_market_cap": 1.0}
        return []
