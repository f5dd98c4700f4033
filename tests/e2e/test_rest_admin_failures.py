"""Failed admin tokens are limited per client (5 a minute), in Redis when the limits are shared.

Each failure counts; once a client has failed 5 times within a minute, every admin call it
makes is 429 RATE_LIMITED with Retry-After, the right token included (otherwise the
answers would still tell a guesser when a guess was right). A right token does not count.
"""

from __future__ import annotations

import asyncio
from typing import Any

from tests.conftest import ADMIN_TOKEN
from tests.e2e import test_rest_support as support
from tests.e2e.test_rest_support import error_of
from tests.fakes import FakeClock

simulator = support.simulator
clock = support.clock
start = support.start_on_clock

CLEAR = "/api/cache/clear"
RIGHT = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
WRONG = {"Authorization": "Bearer guess"}


async def test_the_sixth_failure_in_a_minute_is_refused_whatever_the_token(start, clock: FakeClock) -> None:
    service = await start()
    failures = [await service.post(CLEAR, headers=h) for h in (WRONG, WRONG, {}, WRONG, {"Authorization": "Basic x"})]
    assert [f.status for f in failures] == [403, 403, 401, 403, 401]
    for headers in (WRONG, RIGHT):
        response = await service.post(CLEAR, headers=headers)
        error = await error_of(response, 429, "RATE_LIMITED")
        assert error["details"] == {"limit": 5, "group": "admin"}
        assert error["retryAfter"] == 60 and response.headers["Retry-After"] == "60"
    clock.advance(60.001)  # the first failures leave the window
    assert (await service.post(CLEAR, headers=RIGHT)).status == 200


async def test_a_burst_of_guesses_is_refused_past_the_limit(start) -> None:
    service = await start()
    answers = await asyncio.gather(*(service.post(CLEAR, headers=WRONG) for _ in range(12)))
    assert sorted(a.status for a in answers) == [403] * 5 + [429] * 7


async def test_right_tokens_do_not_count(start) -> None:
    service = await start()
    for _ in range(8):
        assert (await service.post(CLEAR, headers=RIGHT)).status == 200
    for _ in range(5):
        await error_of(await service.post(CLEAR, headers=WRONG), 403, "FORBIDDEN")
    await error_of(await service.post(CLEAR, headers=WRONG), 429, "RATE_LIMITED")


async def test_each_client_has_its_own_count(start) -> None:
    service = await start(trust_proxy=True)
    mallory = {**WRONG, "X-Forwarded-For": "203.0.113.7"}
    for _ in range(5):
        await service.post(CLEAR, headers=mallory)
    await error_of(await service.post(CLEAR, headers=mallory), 429, "RATE_LIMITED")
    admin = {**RIGHT, "X-Forwarded-For": "198.51.100.9"}
    assert (await service.post(CLEAR, headers=admin)).status == 200


async def test_failures_are_counted_across_replicas_through_redis(make_service: Any, redis_server: Any) -> None:
    settings = support.fast({"cache_backend": "redis", "redis_url": redis_server.url, "redis_timeout": 2.0})
    first, second = await make_service(**settings), await make_service(**settings)
    for replica in (first, second, first, second, first):
        await error_of(await replica.post(CLEAR, headers=WRONG), 403, "FORBIDDEN")
    await error_of(await second.post(CLEAR, headers=RIGHT), 429, "RATE_LIMITED")


async def test_rate_limit_enabled_false_switches_it_off_with_the_other_limits(start) -> None:
    service = await start(rate_limit_enabled=False)
    for _ in range(7):
        await error_of(await service.post(CLEAR, headers=WRONG), 403, "FORBIDDEN")
    assert (await service.post(CLEAR, headers=RIGHT)).status == 200
