"""Publishing a candles stream without gaps or repeats: the dedup rule and the gap fill plan.

A candle is identified by its open time. Whatever mix of live events and REST fills feeds a
stream, clients must see every closed candle exactly once, in order, with final values, and
never a candle the exchange did not have (exchanges skip intervals without trades and have
real outages: a missing interval stays missing).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from domain.candle import Candle


@dataclass(frozen=True, slots=True)
class PublishedCandles:
    """What has been published of one candles stream: the open time of the newest closed
    candle (``last_closed``) and of the newest candle of any kind (``newest``), None before
    the first."""

    last_closed: int | None = None
    newest: int | None = None

    @property
    def known(self) -> bool:
        """Whether anything was published for the stream yet."""
        return self.newest is not None

    def admits(self, timestamp: int, closed: bool) -> bool:
        """The dedup rule. A candle at or before the newest closed one is dropped: it is
        either that closed candle again or older (a closed candle is published exactly once,
        a live update for a candle already closed is dropped). Anything older than the newest
        candle published is dropped too, closed or not: the stream never goes back, so a
        candle clients already saw superseded (by a later one) is never closed behind it, out
        of order (a takeover by a replica that heard only in-progress events; a failback to an
        exchange that has a candle the fallback skipped)."""
        if self.last_closed is not None and timestamp <= self.last_closed:
            return False
        return self.newest is None or timestamp >= self.newest

    def after(self, timestamp: int, closed: bool) -> PublishedCandles:
        """The state once the candle at ``timestamp`` is published (or seen published)."""
        last_closed = self.last_closed
        if closed:
            last_closed = timestamp if last_closed is None else max(last_closed, timestamp)
        newest = timestamp if self.newest is None else max(self.newest, timestamp)
        return PublishedCandles(last_closed, newest)


def fill_limit(published: PublishedCandles, interval_ms: int, now_ms: int, first_fill: int, most: int) -> int:
    """How many recent candles to fetch to cover what was missed: every interval since the
    newest candle published, one more in case our clock is behind the exchange's (at most
    ``most``), or ``first_fill`` when nothing was published."""
    since = published.last_closed if published.last_closed is not None else published.newest
    if since is None:
        return max(1, min(first_fill, most))
    return max(2, min(most, (now_ms - since) // interval_ms + 1))


def fill_plan(
    candles: Sequence[Candle],
    published: PublishedCandles,
    *,
    interval_ms: int,
    now_ms: int,
    settle_ms: int,
    first_fill: int,
) -> tuple[tuple[Candle, bool], ...]:
    """What to publish from a REST answer, oldest first, as ``(candle, closed)``.

    Every candle after the newest closed one published and before the newest of the answer
    is closed (a newer one exists), with the answer's final values. The newest is in
    progress, unless its interval ended more than ``settle_ms`` ago (a quiet market: no
    newer candle exists yet, but this one is over). Candles the answer does not have are not
    made up. When nothing was published for the stream yet, only the ``first_fill`` newest
    candles are published.
    """
    by_open: dict[int, Candle] = {candle.timestamp: candle for candle in candles}
    ordered = [by_open[timestamp] for timestamp in sorted(by_open)]
    if not published.known:
        ordered = ordered[-first_fill:] if first_fill > 0 else []
    plan: list[tuple[Candle, bool]] = []
    for index, candle in enumerate(ordered):
        newest = index == len(ordered) - 1
        closed = not newest or candle.timestamp + interval_ms + settle_ms <= now_ms
        if published.admits(candle.timestamp, closed):
            plan.append((candle, closed))
            published = published.after(candle.timestamp, closed)
    return tuple(plan)
