"""The event bus across replicas: Redis pub/sub."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import structlog
from redis.asyncio import Redis
from redis.asyncio.client import PubSub

from adapters.live.codec import LiveCodecError, decode_message, encode_message
from adapters.live.memory_bus import Listening, MemoryEventBus
from domain.ports import BusMessage

log = structlog.get_logger("live.bus")


class RedisEventBus:
    """Implements ``EventBus`` with Redis pub/sub on one channel.

    ``publish`` is one PUBLISH of the JSON-encoded message. Each replica holds ONE
    subscription (``start``), whatever its number of listeners, and hands every message it
    receives to its local listeners (an in-process bus), its own messages included. A broken
    subscription is reopened ``retry`` seconds later; what was published meanwhile is lost
    to this replica (pub/sub keeps nothing), which the holder's gap filling does not cover.
    """

    def __init__(
        self, client: Redis, prefix: str, *, retry: float = 1.0, confirm_timeout: float = 5.0
    ) -> None:
        self._client = client
        self.channel = f"{prefix}live:events"
        self._retry = retry
        self._confirm_timeout = confirm_timeout
        self._local = MemoryEventBus()
        self._pubsub: PubSub | None = None
        self._reader: asyncio.Task[None] | None = None
        self.unreadable = 0

    async def start(self) -> None:
        """Subscribe (returns once the subscription is confirmed) and start reading. When
        Redis cannot be reached the service still starts: the subscription is retried in the
        background, every ``retry`` seconds, like a lost one."""
        if self._reader is None:
            try:
                self._pubsub = await self._subscribe()
            except Exception as error:  # noqa: BLE001 - Redis out at start: serve, retry later
                log.error("live bus subscription failed", error=type(error).__name__, detail=str(error)[:200])
            self._reader = asyncio.get_running_loop().create_task(self._read(), name="redis live bus")

    async def stop(self) -> None:
        """Stop reading, unsubscribe, and end every listener's iteration."""
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
            self._reader = None
        await self._close()
        await self._local.stop()

    async def publish(self, message: BusMessage) -> None:
        """Send ``message`` to every replica's listeners (raises the Redis error when Redis
        is out)."""
        await self._client.publish(self.channel, encode_message(message))

    def listen(self) -> AsyncIterator[BusMessage]:
        """Every message received from now on."""
        listener: Listening = self._local.listen()
        return listener

    async def _subscribe(self) -> PubSub:
        pubsub = self._client.pubsub()
        try:
            await pubsub.subscribe(self.channel)
            # Wait for Redis to confirm, so a message published after start() returns is
            # never missed.
            async with asyncio.timeout(self._confirm_timeout):
                while True:
                    reply = await pubsub.get_message(timeout=None)
                    if reply is not None and reply.get("type") == "subscribe":
                        break
        except BaseException:
            await pubsub.aclose()
            raise
        return pubsub

    async def _read(self) -> None:
        while True:
            try:
                if self._pubsub is None:
                    self._pubsub = await self._subscribe()
                    log.warning("live bus subscription back")
                message = await self._pubsub.get_message(timeout=None)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - Redis out: reopen the subscription later
                log.error("live bus subscription lost", error=type(error).__name__, detail=str(error)[:200])
                await self._close()
                await asyncio.sleep(self._retry)
                continue
            if message is None or message.get("type") != "message":
                continue
            try:
                self._local.deliver(decode_message(message["data"]))
            except LiveCodecError as error:
                self.unreadable += 1
                log.warning("live bus message skipped", detail=str(error)[:200])

    async def _close(self) -> None:
        if self._pubsub is not None:
            pubsub, self._pubsub = self._pubsub, None
            with contextlib.suppress(Exception):
                await pubsub.aclose()
