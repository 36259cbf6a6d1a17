"""The normalized item every connector produces (connectors.md §3), shared by every layer."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
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
