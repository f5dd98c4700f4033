"""The safety net that keeps secrets out of log lines: :class:`SecretRedactor`.

The last processor before rendering, in every line of every logger (ours, aiohttp's,
asyncio's) and on the access log's hot path. It masks the configured secret values wherever
they appear, the values of fields named like credentials, and credential-looking text
(``Bearer …``, ``apiKey=…``, ``x-cg-demo-api-key: …``, the password in
``redis://user:pass@host``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, quote_plus

from structlog.typing import EventDict

REDACTED = "[REDACTED]"
# Shorter configured values are not masked: masking "abc" everywhere would shred every line,
# and a token that short is no secret anyway.
MIN_SECRET_LENGTH = 4

# Field names whose values are credentials whatever they hold (compared lower case, "-" as "_").
_SENSITIVE_NAME = re.compile(r"authorization|api_?key|token|secret|passw(?:or)?d|cookie|credential")
# Credentials inside free text: `name: value` / `name=value` / `'name': 'value'` for
# credential-like names (the scheme of an Authorization value is kept), a bare bearer
# token, and the password of a URL's userinfo.
_CREDENTIAL_TEXT = re.compile(
    r"""(?ix)
    ( [\w-]*(?:authorization|api[_-]?key|token|secret|passw(?:or)?d)
      ['"]?\s*[=:]\s*['"]?
      (?:(?:bearer|basic|token)\s+)? ) (?!\[REDACTED\]) [^\s'",;&}\]]+
    | (\bbearer\s+) (?!\[REDACTED\]) [^\s'",;&}\]]+
    | (://[^/\s:@]*:) (?!\[REDACTED\]) [^@/\s]+ (?=@)
    """
)
_PLAIN_TYPES = frozenset({str, int, float, bool, type(None)})
_KNOWN_KEYS_MAX = 4096  # keys come from code; bounded all the same


def _may_hold_credentials(lowered: str) -> bool:
    """Whether lower-cased text has a word every credential-text match needs (no regex:
    this runs on every line, and a chain of substring tests is several times faster)."""
    return (
        "key" in lowered or "auth" in lowered or "token" in lowered or "bearer" in lowered
        or "secret" in lowered or "passw" in lowered or "@" in lowered
    )  # fmt: skip


def _credential_text(match: re.Match[str]) -> str:
    prefix = match.group(1) or match.group(2) or match.group(3)
    return prefix + REDACTED


class SecretRedactor:
    """A structlog processor masking secrets in every value of the event dict.

    Built once with the configured secret values (and their URL-encoded forms). The usual
    line (known field names, plain values) is checked in one go: its strings are joined and
    searched for each secret and a few lower-case trigger words, with no regex and no copy.
    Only a line that trips one of them is walked value by value: nested dicts, lists and
    tuples included, other objects masked in their ``repr`` (which is what the renderers
    print).
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        variants: set[str] = set()
        for secret in secrets:
            if len(secret) >= MIN_SECRET_LENGTH:
                variants.update((secret, quote(secret, safe=""), quote_plus(secret)))
        # Longest first, so a secret containing another is masked whole.
        self._secrets = tuple(sorted(variants, key=len, reverse=True))
        self._plain_keys: set[str] = set()  # field names seen that are not credential names

    def __call__(self, logger: Any, method_name: str, event_dict: EventDict) -> EventDict:
        if event_dict.keys() <= self._plain_keys:
            texts = []
            for value in event_dict.values():
                kind = type(value)
                if kind is str:
                    texts.append(value)
                elif kind not in _PLAIN_TYPES:
                    break
            else:
                if not self._suspicious("\x00".join(texts)):
                    return event_dict
        for key, value in event_dict.items():
            masked = self._masked(key, value)
            if masked is not value:
                event_dict[key] = masked
        return event_dict

    def _suspicious(self, text: str) -> bool:
        for secret in self._secrets:
            if secret in text:
                return True
        return _may_hold_credentials(text.lower())

    def _is_sensitive(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        if key in self._plain_keys:
            return False
        if _SENSITIVE_NAME.search(key.lower().replace("-", "_")):
            return True
        if len(self._plain_keys) < _KNOWN_KEYS_MAX:
            self._plain_keys.add(key)
        return False

    def _masked(self, key: object, value: Any) -> Any:
        if self._is_sensitive(key) and value is not None and not isinstance(value, bool) and value != "":
            return REDACTED
        return self._value(value)

    def _value(self, value: Any) -> Any:
        if type(value) is str:
            return self._text(value)
        if type(value) in _PLAIN_TYPES:
            return value
        if isinstance(value, dict):
            masked_dict = {k: self._masked(k, v) for k, v in value.items()}
            changed = any(masked_dict[k] is not v for k, v in value.items())
            return masked_dict if changed else value
        if isinstance(value, (list, tuple)):
            items = [self._value(item) for item in value]
            changed = any(new is not old for new, old in zip(items, value, strict=True))
            return (items if isinstance(value, list) else tuple(items)) if changed else value
        # Anything else is printed as its repr (a str subclass as its text): mask that.
        text = str.__str__(value) if isinstance(value, str) else repr(value)
        masked = self._text(text)
        return masked if masked is not text else value

    def mask(self, text: str) -> str:
        """``text`` with the secrets and credential-looking parts masked (for text that
        does not go through logging, such as the start-up refusal of invalid settings)."""
        return self._text(text)

    def _text(self, text: str) -> str:
        """``text`` itself when there is nothing to mask, else a masked copy."""
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        if _may_hold_credentials(text.lower()):
            masked = _CREDENTIAL_TEXT.sub(_credential_text, text)
            return text if masked == text else masked
        return text
