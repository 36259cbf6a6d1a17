"""The inbox's filter bar: a search box and one drop-down per filter, and the sort.

The bar holds every filter of :class:`FeedFilter` but the unit (the tree chooses that). It emits
``changed`` when a person changes a filter; the search box waits for a pause in typing (or
Enter) so a search does not run for every keystroke. Values that came from a saved view and
that no drop-down offers (two statuses, say) are added to that drop-down as they are, so the
bar always shows what the list is filtered by.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLineEdit, QVBoxLayout, QWidget

from app.domain.enums import ConversationStatus, MessageKind, Network
from app.domain.filters import SENTIMENT_LABELS, SENTIMENTS
from app.domain.rows import (
    ASSIGNEE_ME,
    ASSIGNEE_NOBODY,
    SORT_ACTIVITY,
    SORT_DUE,
    AccountRow,
    FeedFilter,
    PersonRow,
)
from app.ui.formatting import NETWORK_LABELS

#: The words for new + open + waiting, in the status filter and in the unit tree's counts.
BACKLOG_LABEL = "Needs attention"
BACKLOG = tuple(s.value for s in ConversationStatus.backlog())
STATUS_CHOICES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (BACKLOG_LABEL, BACKLOG),
    *((s.label, (s.value,)) for s in ConversationStatus),
    ("All statuses", ()),
)
NETWORK_CHOICES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("All networks", ()),
    *((n.label, (n.value,)) for n in Network),
)
KIND_CHOICES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("All kinds", ()),
    *((k.label, (k.value,)) for k in MessageKind),
)
SENTIMENT_CHOICES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Any sentiment", ()),
    *((SENTIMENT_LABELS[b], (b,)) for b in SENTIMENTS),
)
SORT_CHOICES = (("Newest activity", SORT_ACTIVITY), ("First response due", SORT_DUE))
LANGUAGE_NAMES = {
    "en": "English",
    "de": "German",
    "es": "Spanish",
    "fr": "French",
    "it": "Italian",
    "pt": "Portuguese",
    "nl": "Dutch",
    "ja": "Japanese",
}
SEARCH_PAUSE_MS = 300
_VALUE = Qt.ItemDataRole.UserRole + 1


class FilterBar(QWidget):
    """Search box and drop-downs; :meth:`value` is the filter they show (unit left as given)."""

    changed = Signal()
    #: Enter or Down in the search box: the person is done typing and goes to the results.
    submitted = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("filterBar")
        self.search = QLineEdit()
        self.search.setObjectName("searchBox")
        self.search.setPlaceholderText("Search messages, names and @handles   ( / )")
        self.search.setClearButtonEnabled(True)
        self.search.setMaxLength(200)
        self._pause = QTimer(self)
        self._pause.setSingleShot(True)
        self._pause.setInterval(SEARCH_PAUSE_MS)
        self._applied_text = ""

        self.status = self._combo("statusFilter", STATUS_CHOICES)
        self.network = self._combo("networkFilter", NETWORK_CHOICES)
        self.account = self._combo("accountFilter", (("All accounts", ()),))
        self.kind = self._combo("kindFilter", KIND_CHOICES)
        self.assignee = self._combo(
            "assigneeFilter",
            (("Anyone", None), ("Assigned to me", ASSIGNEE_ME), ("Unassigned", ASSIGNEE_NOBODY)),
        )
        self.tag = self._combo("tagFilter", (("Any tag", ()),))
        self.sentiment = self._combo("sentimentFilter", SENTIMENT_CHOICES)
        self.language = self._combo("languageFilter", (("Any language", ()),))
        self.sort = self._combo("sortChoice", SORT_CHOICES)
        self.sort.setToolTip("Order of the list")

        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.search, 1)
        top.addWidget(self.status)
        top.addWidget(self.assignee)
        top.addWidget(self.sort)
        bottom = QHBoxLayout()
        bottom.setContentsMargins(0, 0, 0, 0)
        for combo in (
            self.network,
            self.account,
            self.kind,
            self.tag,
            self.sentiment,
            self.language,
        ):
            bottom.addWidget(combo)
        bottom.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addLayout(top)
        layout.addLayout(bottom)

        self.search.textEdited.connect(self._on_search_text_edited)
        self.search.returnPressed.connect(self._on_search_return_pressed)
        self.search.textChanged.connect(self._on_search_text_changed)
        self._pause.timeout.connect(self._on_pause_timeout)

    # -- choices ------------------------------------------------------------------------------

    def set_accounts(self, accounts: Sequence[AccountRow]) -> None:
        current = self._current(self.account)
        self._refill(
            self.account,
            (
                ("All accounts", ()),
                *(
                    (f"{NETWORK_LABELS.get(a.network, a.network)} @{a.handle}", (a.id,))
                    for a in accounts
                ),
            ),
            current,
        )

    def set_people(self, people: Sequence[PersonRow]) -> None:
        current = self._current(self.assignee)
        self._refill(
            self.assignee,
            (
                ("Anyone", None),
                ("Assigned to me", ASSIGNEE_ME),
                ("Unassigned", ASSIGNEE_NOBODY),
                *((p.name, p.id) for p in people),
            ),
            current,
        )

    def set_tags(self, tags: Sequence[str]) -> None:
        current = self._current(self.tag)
        self._refill(self.tag, (("Any tag", ()), *((t, (t,)) for t in tags)), current)

    def set_languages(self, codes: Sequence[str]) -> None:
        current = self._current(self.language)
        choices: list[tuple[str, tuple[str, ...]]] = [("Any language", ())]
        choices += [(LANGUAGE_NAMES.get(c, c), (c,)) for c in codes if c]
        self._refill(self.language, choices, current)

    # -- the filter ---------------------------------------------------------------------------

    def value(self, unit_id: int | None) -> FeedFilter:
        """The filter the bar shows, for ``unit_id``."""
        return FeedFilter(
            unit_id=unit_id,
            networks=self._current(self.network),
            statuses=self._current(self.status),
            account_ids=self._current(self.account),
            kinds=self._current(self.kind),
            assignee=self._current(self.assignee),
            tags=self._current(self.tag),
            sentiments=self._current(self.sentiment),
            languages=self._current(self.language),
            text=self.search.text().strip(),
            sort=self._current(self.sort),
        )

    def show_filter(self, f: FeedFilter) -> None:
        """Show ``f`` (a saved view's filter) without emitting ``changed``."""
        self.blockSignals(True)
        try:
            self._select(self.network, f.networks, _joined(f.networks, NETWORK_LABELS))
            self._select(self.status, f.statuses, _joined(f.statuses, _STATUS_WORDS))
            self._select(self.account, f.account_ids, f"{len(f.account_ids)} accounts")
            self._select(self.kind, f.kinds, _joined(f.kinds, _KIND_WORDS))
            self._select(self.assignee, f.assignee, f"Person {f.assignee}")
            self._select(self.tag, f.tags, ", ".join(f.tags))
            self._select(self.sentiment, f.sentiments, _joined(f.sentiments, SENTIMENT_LABELS))
            self._select(self.language, f.languages, ", ".join(f.languages))
            self._select(self.sort, f.sort, f.sort)
            self.search.setText(f.text)
            self._applied_text = f.text.strip()
        finally:
            self.blockSignals(False)

    def set_account(self, account_id: int | None) -> None:
        """Filter by one account (a click in the left pane); ``None``: every account."""
        wanted: tuple[int, ...] = () if account_id is None else (account_id,)
        if self._current(self.account) != wanted:
            self._select(self.account, wanted, f"Account {account_id}")

    def focus_search(self) -> None:
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    # -- slots --------------------------------------------------------------------------------

    def _on_search_text_edited(self, _text: str) -> None:
        self._pause.start()

    def _on_search_text_changed(self, text: str) -> None:
        if not text and self._applied_text:  # the clear button: show everything at once
            self._on_pause_timeout()

    def _on_search_return_pressed(self) -> None:
        self._pause.stop()
        self._on_pause_timeout()
        self.submitted.emit()

    def _on_pause_timeout(self) -> None:
        text = self.search.text().strip()
        if text != self._applied_text:
            self._applied_text = text
            self.changed.emit()

    def _on_combo_changed(self, _index: int) -> None:
        self.changed.emit()

    # -- helpers ------------------------------------------------------------------------------

    def _combo(self, name: str, choices: Sequence[tuple[str, Any]]) -> QComboBox:
        combo = QComboBox()
        combo.setObjectName(name)
        combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        for label, value in choices:
            combo.addItem(label)
            combo.setItemData(combo.count() - 1, value, _VALUE)
        combo.currentIndexChanged.connect(self._on_combo_changed)
        return combo

    @staticmethod
    def _current(combo: QComboBox) -> Any:
        value = combo.itemData(combo.currentIndex(), _VALUE)
        return tuple(value) if isinstance(value, list) else value

    def _refill(self, combo: QComboBox, choices: Sequence[tuple[str, Any]], current: Any) -> None:
        combo.blockSignals(True)
        try:
            combo.clear()
            for label, value in choices:
                combo.addItem(label)
                combo.setItemData(combo.count() - 1, value, _VALUE)
            self._select(combo, current, str(current))
        finally:
            combo.blockSignals(False)

    def _select(self, combo: QComboBox, value: Any, label: str) -> None:
        """Choose the item holding ``value``, adding one labelled ``label`` if none does."""
        for i in range(combo.count()):
            held = combo.itemData(i, _VALUE)
            if (tuple(held) if isinstance(held, list) else held) == value:
                combo.setCurrentIndex(i)
                return
        combo.addItem(label)
        combo.setItemData(combo.count() - 1, value, _VALUE)
        combo.setCurrentIndex(combo.count() - 1)


_STATUS_WORDS = {s.value: s.label for s in ConversationStatus}
_KIND_WORDS = {k.value: k.label for k in MessageKind}


def _joined(values: Sequence[str], labels: dict[str, str]) -> str:
    return ", ".join(labels.get(v, v) for v in values)
