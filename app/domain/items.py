"""The normalized item every connector produces (connectors.md §3), shared by every layer."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class InboundItem:
    """One normalized item from a network (``connectors.md`` §3)."""

    network: str
    external_id: str
    kind: str  # mention | reply | comment | dm | post
    direction: str  # in | out
    text: str
    created_at: datetime  # aware UTC
    author_external_id: str | None
    author_handle: str | None
    author_name: str | None
    thread_external_id: str
    thread_type: str
    in_reply_to: str | None
    permalink: str | None
    raw: Mapping[str, Any]
    author_followers: int | None = None
    language: str = ""


# Lone surrogates and NUL: valid in JSON strings, storable in no database's text (PostgreSQL
# refuses NUL), so both become U+FFFD on every engine alike.
_SURROGATE = re.compile("[\ud800-\udfff\x00]")
_TEXT_FIELDS = (
    "external_id",
    "text",
    "author_external_id",
    "author_handle",
    "author_name",
    "thread_external_id",
    "in_reply_to",
    "permalink",
    "language",
)


def has_nul(item: InboundItem) -> bool:
    """Whether a text field holds NUL (cheap: a substring test per field)."""
    values = [getattr(item, name) for name in _TEXT_FIELDS]
    return "\x00" in "".join(v for v in values if isinstance(v, str))


def repair_text(item: InboundItem) -> InboundItem:
    """The item with lone surrogates (JSON escapes of half a character pair) and NUL made U+FFFD.

    JSON allows them and Python decodes them, but they are not Unicode text: no database or
    UTF-8 encoder accepts them.
    """
    changes: dict[str, Any] = {
        name: _SURROGATE.sub("\ufffd", value)
        for name in _TEXT_FIELDS
        if isinstance(value := getattr(item, name), str) and _SURROGATE.search(value)
    }
    return replace(item, **changes) if changes else item
