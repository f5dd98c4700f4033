"""HTTP GET to a provider, with transport failures and common statuses as domain errors."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeVar

import aiohttp
from pydantic import TypeAdapter, ValidationError

from domain.errors import (
    BadPayload,
    ProviderError,
    ProviderUnavailable,
    UpstreamBlocked,
    UpstreamRateLimited,
    UpstreamTimeout,
)

T = TypeVar("T")
BLOCKED_PAUSE = 3600.0


@dataclass(frozen=True, slots=True)
class UpstreamResponse:
    """A provider's raw answer."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    @property
    def retry_after(self) -> float | None:
        """``Retry-After`` in seconds, when the provider sent it as a number."""
        raw = self.headers.get("Retry-After")
        if raw is None:
            return None
        try:
            seconds = float(raw)
        except ValueError:
            return None  # an HTTP-date or garbage: no usable order
        return max(seconds, 0.0) if math.isfinite(seconds) else None

    @property
    def looks_like_html(self) -> bool:
        """True for an HTML page (a CDN or WAF error page) instead of JSON."""
        return self.body.lstrip()[:1] == b"<"


MAX_BODY = 4 * 1024 * 1024  # bytes; every documented answer is far smaller (1000 klines: ~150 KB)


class UpstreamClient:
    """GETs JSON from one provider over the shared session.

    Timeouts and connection errors become ``ProviderUnavailable`` naming the provider; an
    answer over ``MAX_BODY`` (after decompression) is ``BadPayload`` and is not read further.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        provider: str,
        base_url: str,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self._session = session
        self.provider = provider
        self._base_url = base_url.rstrip("/")
        self._headers = dict(headers or {})

    async def get(self, path: str, params: Mapping[str, str] | None = None) -> UpstreamResponse:
        """GET ``{base_url}{path}`` and return the whole answer."""
        url = f"{self._base_url}{path}"
        try:
            async with self._session.get(url, params=params, headers=self._headers) as response:
                if response.content_length is not None and response.content_length > MAX_BODY:
                    raise self._too_big()
                body = bytearray()
                async for chunk in response.content.iter_chunked(64 * 1024):
                    body += chunk
                    if len(body) > MAX_BODY:
                        raise self._too_big()
                return UpstreamResponse(response.status, response.headers, bytes(body))
        except TimeoutError:
            raise UpstreamTimeout(self.provider, "timed out") from None
        except aiohttp.ClientError as error:
            raise ProviderUnavailable(self.provider, f"connection failed ({type(error).__name__})") from None

    def _too_big(self) -> BadPayload:
        return BadPayload(self.provider, f"answer larger than {MAX_BODY // 1024 // 1024} MB")


def status_error(provider: str, response: UpstreamResponse) -> ProviderError:
    """The domain error for a non-2xx status, by the meaning most providers give it."""
    status = response.status
    if status in (429, 418):
        what = "banned us (418)" if status == 418 else "rate limited us (429)"
        return UpstreamRateLimited(provider, what, retry_after=response.retry_after)
    if status == 451:
        # Permanent for this host: ask again only after a long pause.
        return UpstreamBlocked(provider, "refuses this host's location (451)", retry_after=BLOCKED_PAUSE)
    if status == 401:
        return UpstreamBlocked(provider, "refused our API key (401)", retry_after=BLOCKED_PAUSE)
    if status == 403:
        return UpstreamBlocked(provider, "refused access (403)")
    if status >= 500:
        return ProviderUnavailable(provider, f"server error ({status})")
    # Any other status means we call it wrongly (a bug, or a misconfigured base URL): a
    # provider fault for the circuit, unlike the documented "no such market" answers that
    # adapters map to UpstreamRejected themselves.
    return BadPayload(provider, f"unexpected status {status}; check the base URL")


def decode(provider: str, response: UpstreamResponse, schema: TypeAdapter[T]) -> T:
    """Validate a JSON body against ``schema``; anything else is ``BadPayload``."""
    if response.looks_like_html:
        raise BadPayload(provider, f"HTML page instead of JSON (status {response.status})")
    try:
        return schema.validate_json(response.body)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first.get("loc", ())) or "body"
        raise BadPayload(provider, f"unexpected payload at {where}: {first['msg']}") from None
