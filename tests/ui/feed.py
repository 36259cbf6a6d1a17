"""The conversation list reads its first page in a worker: tests wait for it, never sleep."""

from __future__ import annotations

from typing import Any

from app.domain.rows import FeedFilter
from app.ui.inbox.feed_model import ConversationFeedModel

LOAD_MS = 5000


def listed(qtbot: Any, model: ConversationFeedModel) -> None:
    """Wait until the filter asked for last is listed (returns at once if it is)."""
    qtbot.waitUntil(lambda: not model.loading, timeout=LOAD_MS)
    assert not model.error, model.error


def set_filter(qtbot: Any, model: ConversationFeedModel, query: FeedFilter) -> None:
    """``model.set_filter(query)``, back once its first page is listed."""
    with qtbot.waitSignal(model.loaded, timeout=LOAD_MS):
        model.set_filter(query)
