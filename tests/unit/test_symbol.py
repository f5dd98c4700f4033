"""SymbolParser: the symbol forms clients send, and everything it must refuse."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.errors import InvalidInput, InvalidParameter, InvalidSymbol
from domain.symbol import QUOTES, Symbol, SymbolParser

SUPPORTED = ("BTC", "ETH", "SOL", "XRP", "BNB", "ADA", "DOT", "LINK", "LTC", "BCH", "MATIC", "AVAX", "XLM", "TRX")
PARSER = SymbolParser(SUPPORTED)
PROPERTY = settings(database=None, deadline=None)


@pytest.mark.parametrize("raw", ["BTC", "BTCUSDT", "BTC/USDT", "btc-usdt", "btc_usdt", "btc", "Btc/UsDt", "  BTC  "])
def test_accepted_forms_all_mean_btc_priced_in_usdt(raw: str) -> None:
    symbol = PARSER.parse(raw)
    assert symbol == Symbol("BTC", "USDT")
    assert symbol.pair == "BTCUSDT"
    assert str(symbol) == "BTCUSDT"


@pytest.mark.parametrize(
    ("raw", "base", "quote", "pair"),
    [
        ("BTCUSD", "BTC", "USD", "BTCUSD"),
        ("BTCUSDC", "BTC", "USDC", "BTCUSDC"),
        ("eth/usdc", "ETH", "USDC", "ETHUSDC"),
        ("SOL-USD", "SOL", "USD", "SOLUSD"),
        ("linkusdt", "LINK", "USDT", "LINKUSDT"),
        ("MATIC_USDC", "MATIC", "USDC", "MATICUSDC"),
    ],
)
def test_other_quote_currencies(raw: str, base: str, quote: str, pair: str) -> None:
    symbol = PARSER.parse(raw)
    assert (symbol.base, symbol.quote, symbol.pair) == (base, quote, pair)


@pytest.mark.parametrize(
    "raw",
    [
        "DOGE",  # a real asset, but not configured
        "DOGEUSDT",
        "USDT",
        "B TC",
        "BTC USDT",
        "BTC/",
        "/USDT",
        "BTC//USDT",
        "BTC/USDT/ETH",
        "BTC-USDT-",
        "BTC/EUR",
        "BTCEUR",
        "BTC/BTC",
        "X" * 200,
        "BTC" + "USDT" * 10,
        "BTC€",
        "БТС",  # Cyrillic look-alikes of B, T, C
        "ＢＴＣ",  # full-width letters
        "BTC\x00",
        "BTC;DROP",
    ],
)
def test_unknown_or_malformed_symbols_are_refused(raw: str | None) -> None:
    with pytest.raises(InvalidSymbol) as caught:
        PARSER.parse(raw)
    assert caught.value.field == "symbol"


@pytest.mark.parametrize("raw", [None, "", "   ", "\t\n"])
def test_a_missing_or_blank_symbol_is_a_missing_parameter_not_a_bad_symbol(raw: str | None) -> None:
    with pytest.raises(InvalidParameter) as caught:
        PARSER.parse(raw)
    assert not isinstance(caught.value, InvalidSymbol)
    assert isinstance(caught.value, InvalidInput)  # still refused before any upstream call
    assert caught.value.field == "symbol"


@pytest.mark.parametrize("raw", ["ſol", "lınk"])
def test_non_ascii_letters_that_uppercase_to_ascii_are_refused(raw: str) -> None:
    with pytest.raises(InvalidSymbol):
        PARSER.parse(raw)


def test_parser_normalises_its_configured_bases() -> None:
    parser = SymbolParser([" btc ", "eth", "BTC", ""])
    assert parser.supported_bases == frozenset({"BTC", "ETH"})
    assert parser.parse_bases(None) == ("BTC", "ETH")


@pytest.mark.parametrize("configured", [[], ["", "  "]])
def test_parser_needs_at_least_one_base(configured: list[str]) -> None:
    with pytest.raises(ValueError):
        SymbolParser(configured)


# parse_bases ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("BTC,ETH,SOL", ("BTC", "ETH", "SOL")),
        ("SOL,BTC", ("SOL", "BTC")),
        (" btc , eth ", ("BTC", "ETH")),
        ("BTC,btc,BTCUSDT,BTC/USDC,ETH,eth-usd", ("BTC", "ETH")),
        ("ETH,BTC,ETH", ("ETH", "BTC")),
        ("XRP", ("XRP",)),
    ],
)
def test_parse_bases_keeps_first_occurrence_order(raw: str, expected: tuple[str, ...]) -> None:
    assert PARSER.parse_bases(raw) == expected


@pytest.mark.parametrize("raw", [None, "", "   "])
def test_parse_bases_without_a_list_means_every_supported_base_in_configured_order(raw: str | None) -> None:
    assert PARSER.parse_bases(raw) == SUPPORTED


@pytest.mark.parametrize("raw", ["BTC,,ETH", "BTC,", ",BTC", "BTC, ,ETH"])
def test_parse_bases_rejects_an_empty_entry(raw: str) -> None:
    with pytest.raises(InvalidSymbol) as caught:
        PARSER.parse_bases(raw)
    assert caught.value.field == "symbols"


@pytest.mark.parametrize("raw", ["BTC,DOGE", "BTC,ETH/EUR", "BTC,B TC"])
def test_parse_bases_rejects_a_bad_entry(raw: str) -> None:
    with pytest.raises(InvalidSymbol):
        PARSER.parse_bases(raw)


# properties ----------------------------------------------------------------------------------


@st.composite
def accepted_spelling(draw: st.DrawFn) -> tuple[str, str, str]:
    """(raw text, expected base, expected quote) in one of the documented forms."""
    base = draw(st.sampled_from(SUPPORTED))
    form = draw(st.sampled_from(["bare", "concat", "/", "-", "_"]))
    quote = draw(st.sampled_from(QUOTES))
    if form == "bare":
        text, quote = base, "USDT"
    elif form == "concat":
        text = base + quote
    else:
        text = base + form + quote
    upper = draw(st.lists(st.booleans(), min_size=len(text), max_size=len(text)))
    cased = "".join(c.upper() if up else c.lower() for c, up in zip(text, upper))
    padding = draw(st.sampled_from(["", " ", "\t", "  "]))
    return padding + cased + padding, base, quote


@PROPERTY
@given(accepted_spelling())
def test_any_supported_base_in_any_form_and_case_parses_to_that_base(case: tuple[str, str, str]) -> None:
    raw, base, quote = case
    symbol = PARSER.parse(raw)
    assert symbol.base == base
    assert symbol.quote == quote
    assert symbol.pair == base + quote


_ARBITRARY = st.one_of(
    st.none(),
    st.text(),
    st.text(alphabet="BTCETHUSDCbtcusd/-_:, \n\t0129"),
)


@PROPERTY
@given(_ARBITRARY)
def test_arbitrary_text_only_ever_raises_invalid_symbol_or_missing_parameter(raw: str | None) -> None:
    blank = raw is None or not raw.strip()
    try:
        symbol = PARSER.parse(raw)
    except InvalidSymbol as error:
        assert not blank
        assert error.field == "symbol"
        return
    except InvalidParameter as error:
        assert blank
        assert error.field == "symbol"
        return
    assert not blank
    assert symbol.base in SUPPORTED
    assert symbol.quote in QUOTES


@PROPERTY
@given(_ARBITRARY)
def test_arbitrary_symbol_lists_only_ever_raise_invalid_symbol(raw: str | None) -> None:
    try:
        bases = PARSER.parse_bases(raw)
    except InvalidSymbol:
        return
    assert bases
    assert set(bases) <= set(SUPPORTED)
    assert len(set(bases)) == len(bases)
