"""What an answer is kept by: everything about a served value but the value itself."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import fields
from operator import attrgetter
from typing import Any

from application.served import Served

#: The fields of ``Served`` that name an answer: what was asked (kind and normalised request),
#: when its cache entry was fetched and whether it is served stale. Read off the dataclass
#: rather than listed here, so a field added to ``Served`` is in the key without anyone
#: remembering to add it; the value is left out because the rest determine it (and hashing a
#: thousand candles per request would cost what the memo saves).
KEY_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Served) if f.name != "value")

#: The key an answer to a ``Served`` is kept by: the values of its ``KEY_FIELDS``.
answer_key: Callable[[Served[Any]], Hashable] = attrgetter(*KEY_FIELDS)
