"""Trading symbols (base + quote) and the parser that accepts the forms clients send."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from domain.client_input import quoted
from domain.errors import InvalidParameter, InvalidSymbol

DEFAULT_QUOTE = "USDT"
QUOTES: tuple[str, ...] = ("USDT", "USDC", "USD")
_TOKEN = re.compile(r"^[A-Z0-9]{1,15}$")
_MEMO_MAX = 4096  # distinct valid inputs remembered (the supported set is small)
_MEMO_LENGTH = 16  # longer inputs (padding, say) are parsed each time, never remembered
_SEPARATORS = re.compile(r"[/\-_:]")


@dataclass(frozen=True, slots=True)
class Symbol:
    """A market: ``base`` asset priced in ``quote`` (``BTC``/``USDT``)."""

    base: str
    quote: str = DEFAULT_QUOTE

    @property
    def pair(self) -> str:
        """The concatenated form clients see, e.g. ``BTCUSDT``."""
        return f"{self.base}{self.quote}"

    def __str__(self) -> str:
        return self.pair


class SymbolParser:
    """Parses ``BTC``, ``BTCUSDT``, ``BTC/USDT``, ``btc-usdt`` into a :class:`Symbol`.

    Bases outside the configured supported set are refused, so an unknown asset never costs
    an upstream call.
    """

    def __init__(self, supported_bases: Iterable[str]) -> None:
        self._order = tuple(dict.fromkeys(b.strip().upper() for b in supported_bases if b.strip()))
        self._bases = frozenset(self._order)
        if not self._bases:
            raise ValueError("at least one supported symbol is required")
        # Valid inputs already parsed: clients repeat the same few, on every request.
        self._parsed: dict[str, Symbol] = {}
        self._parsed_lists: dict[str, tuple[str, ...]] = {}

    @property
    def supported_bases(self) -> frozenset[str]:
        """Base assets this service serves."""
        return self._bases

    def parse(self, raw: str | None) -> Symbol:
        """Return the symbol for ``raw`` or raise :class:`InvalidSymbol`."""
        known = self._parsed.get(raw) if raw is not None else None
        if known is not None:
            return known
        symbol = self._parse(raw)
        if len(self._parsed) < _MEMO_MAX and len(raw) <= _MEMO_LENGTH:  # type: ignore[arg-type]
            self._parsed[raw] = symbol  # type: ignore[index]
        return symbol

    def _parse(self, raw: str | None) -> Symbol:
        if raw is None or not raw.strip():
            raise InvalidParameter("symbol is required", field="symbol")
        if not raw.isascii():  # before upper(): "ſol".upper() is "SOL"
            raise InvalidSymbol(f"malformed symbol {quoted(raw)}", field="symbol")
        text = raw.strip().upper()
        parts = _SEPARATORS.split(text)
        if len(parts) == 2:
            base, quote = parts
            self._check_token(raw, base)
            if quote not in QUOTES:
                raise InvalidSymbol(
                    f"unsupported quote currency in {quoted(raw)}; use one of {', '.join(QUOTES)}",
                    field="symbol",
                )
            return Symbol(self._known_base(raw, base), quote)
        if len(parts) != 1:
            raise InvalidSymbol(f"malformed symbol {quoted(raw)}", field="symbol")
        self._check_token(raw, text)
        if text in self._bases:
            return Symbol(text, DEFAULT_QUOTE)
        for quote in QUOTES:
            if text.endswith(quote) and text[: -len(quote)] in self._bases:
                return Symbol(text[: -len(quote)], quote)
        raise InvalidSymbol(
            f"unknown symbol {quoted(raw)}; supported bases: {', '.join(sorted(self._bases))}",
            field="symbol",
        )

    def parse_bases(self, raw: str | None) -> tuple[str, ...]:
        """Parse a comma list of symbols into unique base assets, in the order given.

        ``None`` or an empty string means every supported base, in configured order.
        """
        if raw is None or not raw.strip():
            return self._order
        known = self._parsed_lists.get(raw)
        if known is not None:
            return known
        seen: dict[str, None] = {}
        for item in raw.split(","):
            if not item.strip():
                raise InvalidSymbol(f"empty entry in symbol list {quoted(raw)}", field="symbols")
            try:
                base = self.parse(item).base
            except InvalidSymbol as error:  # name the parameter the client sent: symbols
                raise InvalidSymbol(error.message, field="symbols") from None
            seen.setdefault(base, None)
        bases = tuple(seen)
        if len(self._parsed_lists) < _MEMO_MAX and len(raw) <= _MEMO_LENGTH * len(self._order):
            self._parsed_lists[raw] = bases
        return bases

    def _check_token(self, raw: str, token: str) -> None:
        if not _TOKEN.match(token):
            raise InvalidSymbol(f"malformed symbol {quoted(raw)}", field="symbol")

    def _known_base(self, raw: str, base: str) -> str:
        if base not in self._bases:
            raise InvalidSymbol(
                f"unknown symbol {quoted(raw)}; supported bases: {', '.join(sorted(self._bases))}",
                field="symbol",
            )
        return base
