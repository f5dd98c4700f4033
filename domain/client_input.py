"""Quoting what a client sent, in the messages that go back to it.

Every error message that repeats client input quotes it through :func:`quoted`, so no answer
echoes more than ``QUOTE_LIMIT`` characters of it: a 17,000-character symbol must not become
a 17 KB error body, nor a gRPC status too large for the transport's metadata.
"""

from __future__ import annotations

QUOTE_LIMIT = 64  # characters of client input an answer may repeat (../shared/API.md)


def quoted(raw: str) -> str:
    """``raw`` as a message quotes it: ``repr``, cut to its first ``QUOTE_LIMIT`` characters.

    ``'BTC'`` stays ``'BTC'``; a longer input becomes ``'AAAA…' (17000 characters)``.
    """
    if len(raw) <= QUOTE_LIMIT:
        return repr(raw)
    return f"{raw[:QUOTE_LIMIT] + '…'!r} ({len(raw)} characters)"


def clipped(raw: str) -> str:
    """``raw`` cut to ``QUOTE_LIMIT`` characters, for a structured field that names input
    (a repeated parameter's name, say)."""
    return raw[:QUOTE_LIMIT]
