"""structlog configuration: JSON lines in production, readable console output on request.

API keys and tokens never reach a log line. Code does not log them, and as a safety net the
last processor before rendering (:class:`SecretRedactor`) masks, in every line of every
logger (ours, aiohttp's, asyncio's), the configured secret values wherever they appear,
the values of fields named like credentials, and credential-looking text (``Bearer …``,
``apiKey=…``, ``x-cg-demo-api-key: …``, the password in ``redis://user:pass@host``).
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import os
import re
import sys
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, quote_plus, urlsplit

import orjson
import structlog
from pydantic import SecretStr, create_model
from pydantic_settings import BaseSettings, SettingsConfigDict
from structlog.typing import EventDict

from entrypoints.settings import Settings

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


def secret_values(settings: Settings) -> list[str]:
    """The values no log line may show: every SecretStr setting and the password in REDIS_URL."""
    values = [
        value.get_secret_value()
        for value in (getattr(settings, name) for name in type(settings).model_fields)
        if isinstance(value, SecretStr)
    ]
    return [*values, *_url_password(settings.redis_url)]


def _url_password(url: str) -> list[str]:
    try:
        password = urlsplit(url).password
    except ValueError:
        return []
    return [password] if password else []


class _SecretSources(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=Settings.model_config.get("env_file"), extra="ignore", case_sensitive=False
    )


def secrets_from_environment() -> list[str]:
    """The secret settings as the service reads them (environment, .env), without validating
    the rest: logging must be set up even when another setting is invalid."""
    fields: dict[str, Any] = {
        name: (str, "") for name, info in Settings.model_fields.items() if info.annotation is SecretStr
    }
    read = create_model(
        "SecretSources", __base__=_SecretSources, redis_url=(str, ""), **fields
    )().model_dump()
    # Both forms: the service sends the stripped one (Settings strips secrets), a stray log
    # line might show the raw one.
    raw = [read[name] for name in fields]
    return [*raw, *(value.strip() for value in raw), *_url_password(read["redis_url"])]


def _colors() -> bool:
    """Colours on a terminal only (escape codes are noise in files and log collectors);
    NO_COLOR and FORCE_COLOR are honoured."""
    if os.environ.get("NO_COLOR"):
        return False
    return bool(os.environ.get("FORCE_COLOR")) or sys.stderr.isatty()


class _StderrLine:
    """structlog's final logger for our own loggers: one rendered line per event on stderr.

    Our loggers skip the standard library's logging machinery (records, handlers, locks),
    which cost more than the rest of a cached request; ``sys.stderr`` is looked up per line,
    so a redirected stderr is honoured. ``name`` is what ``add_logger_name`` reports.
    """

    __slots__ = ("name",)

    def __init__(self, name: str | None = None) -> None:
        self.name = name

    def msg(self, line: str) -> None:
        """Write one line."""
        stream = sys.stderr
        stream.write(line + "\n")
        stream.flush()

    log = debug = info = warn = warning = error = err = critical = exception = fatal = failure = msg


def _stderr_line(*args: Any) -> _StderrLine:
    return _StderrLine(args[0] if args and isinstance(args[0], str) else None)


def _json_line(logger: Any, method_name: str, event_dict: EventDict) -> str:
    return orjson.dumps(event_dict, default=repr, option=orjson.OPT_NON_STR_KEYS).decode()


class _JsonLines:
    """The JSON format's hot path for one line per request (the REST access log).

    The same line structlog would render (fields, event, level, logger, timestamp, redacted
    by the same processor), without its machinery; lines written in one turn of the event
    loop go to stderr in one write at the end of that turn.
    """

    def __init__(self, enabled: bool, redactor: SecretRedactor) -> None:
        self.enabled = enabled
        self._redactor = redactor
        self._pending: list[bytes] = []
        self._flush_loop: asyncio.AbstractEventLoop | None = None
        self._second = -1
        self._prefix = ""

    def write(self, name: str, event: str, fields: dict[str, Any]) -> None:
        fields["event"] = event
        fields["level"] = "info"
        fields["logger"] = name
        fields["timestamp"] = self._timestamp()
        self._redactor(None, "info", fields)
        line = orjson.dumps(fields, default=repr, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_APPEND_NEWLINE)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop: nothing would flush later
            self._pending.append(line)
            self.flush()
            return
        if self._pending and loop is not self._flush_loop:  # queued on a loop that is gone
            self.flush()
        if not self._pending:
            loop.call_soon(self.flush)
            self._flush_loop = loop
        self._pending.append(line)

    def flush(self) -> None:
        if self._pending:
            text = b"".join(self._pending).decode()
            self._pending.clear()
            stream = sys.stderr
            stream.write(text)
            stream.flush()

    def _timestamp(self) -> str:
        now = time.time()
        second = int(now)
        if second != self._second:
            self._second = second
            self._prefix = datetime.fromtimestamp(second, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S")
        return f"{self._prefix}.{int((now - second) * 1_000_000):06d}Z"


_FAST: _JsonLines | None = None


@atexit.register
def _flush_at_exit() -> None:
    if _FAST is not None:
        _FAST.flush()


def hot_info(name: str) -> Callable[..., None]:
    """An info-level log method for a line written on every request.

    In the JSON format it takes the hot path of :class:`_JsonLines`; otherwise (console,
    tests capturing structlog events) it is ``structlog.get_logger(name).info``. Context
    variables are not merged on the hot path: pass what the line needs (``request_id``).
    """
    slow = structlog.get_logger(name)

    def info(event: str, **fields: Any) -> None:
        fast = _FAST
        if fast is None:
            slow.info(event, **fields)
        elif fast.enabled:
            fast.write(name, event, fields)

    return info


# One list, changed in place by every configuration: loggers cached on first use keep a
# reference to it, so a later configuration (tests, a worker) still reaches them.
_PROCESSORS: list[structlog.typing.Processor] = []
_LEVELS = {"debug": 10, "info": 20, "warning": 30, "warn": 30, "error": 40, "exception": 40, "critical": 50,
           "fatal": 50}  # fmt: skip


def _at_least(level: str) -> structlog.typing.Processor:
    threshold = logging.getLevelName(level.upper())

    def drop_below(logger: Any, method_name: str, event_dict: EventDict) -> EventDict:
        if _LEVELS.get(method_name, 20) < threshold:
            raise structlog.DropEvent
        return event_dict

    return drop_below


def configure_logging(level: str = "INFO", fmt: str = "json", secrets: Iterable[str] | None = None) -> None:
    """Our loggers straight to stderr, the standard library's through a handler, in one format.

    ``secrets``: values to mask in every line (see :func:`secret_values`); by default the
    secret settings as read from the environment and ``.env``.
    """
    global _FAST
    redactor = SecretRedactor(secrets_from_environment() if secrets is None else secrets)
    if _FAST is not None:
        _FAST.flush()
    _FAST = _JsonLines(logging.getLevelName(level.upper()) <= logging.INFO, redactor) if fmt == "json" else None
    shared: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: structlog.typing.Processor = (
        structlog.dev.ConsoleRenderer(colors=_colors()) if fmt == "console" else _json_line
    )
    # Tracebacks become plain text before the redactor, in both formats, so it sees them;
    # the console renderer's own (rich) tracebacks would also print every frame's local
    # variables, tokens included.
    final: list[structlog.typing.Processor] = [structlog.processors.format_exc_info, redactor, renderer]
    _PROCESSORS[:] = [_at_least(level), *shared, *final]
    structlog.configure(
        processors=_PROCESSORS,
        logger_factory=_stderr_line,
        wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *final],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
