"""Which upstream stream provider carries which stream: the failover order, as pure code.

Providers are tried in STREAM_PROVIDERS order. A stream is asked of every provider that
supports it, from the first, up to and including the first one that is not ``down``: the
preferred provider keeps trying while it is down (so it is seen when it comes back), and a
fallback is used only while every provider before it is down. The provider whose events are
published for a stream (the one *serving* it) keeps it until another has taken over and
caught up, so a switch never opens a hole.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from domain.live import StreamKey


@dataclass(frozen=True, slots=True)
class StreamOption:
    """One stream provider as the failover policy sees it: its name, what it can stream, and
    whether it is ``down`` (it failed to connect several times in a row)."""

    name: str
    supports: Callable[[StreamKey], bool]
    down: bool


def assign_streams(
    wanted: Iterable[StreamKey],
    options: Sequence[StreamOption],
    serving: Mapping[StreamKey, str],
    handing_over: Mapping[StreamKey, str],
) -> dict[str, frozenset[StreamKey]]:
    """What each provider must hold: per provider name (every option present, in order), the
    wanted streams routed to it, plus those it serves or is handing over to another provider
    that is still catching up. Streams no provider supports are held by none."""
    held: dict[str, set[StreamKey]] = {option.name: set() for option in options}
    for key in wanted:
        for option in options:
            if not option.supports(key):
                continue
            held[option.name].add(key)
            if not option.down:
                break
        for keeper in (serving.get(key), handing_over.get(key)):
            if keeper in held:
                held[keeper].add(key)
    return {name: frozenset(keys) for name, keys in held.items()}


def takes_over(provider: str, key: StreamKey, options: Sequence[StreamOption], serving: str | None) -> bool:
    """Whether ``provider``, now live for ``key``, should serve it: when nobody serves it,
    when it already does (a reconnect: it catches up again), when it comes before the one
    serving it in the failover order, or when the one serving it is down."""
    ranks = {option.name: rank for rank, option in enumerate(options)}
    option = options[ranks[provider]] if provider in ranks else None
    if option is None or not option.supports(key):
        return False
    if serving is None or serving == provider or serving not in ranks:
        return True
    return ranks[provider] < ranks[serving] or options[ranks[serving]].down
