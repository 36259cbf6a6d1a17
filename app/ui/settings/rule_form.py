"""The form of one routing rule: every condition and action the engine has, as widgets.

The form holds no rule of its own: :meth:`RuleForm.load` fills it from a stored rule's JSON
objects, :meth:`RuleForm.draft` reads it back as a :class:`RuleDraft` (the codec's JSON form),
and ``edited`` is emitted on every change so the tab can preview as the person types. A
regular expression is checked by RE2 on every keystroke and its reason shown under the field.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from PySide6.QtCore import Qt, QTime, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QSpinBox,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)

from app.domain.enums import MessageKind, Network, Priority
from app.domain.hours import WEEKDAY_NAMES, WEEKDAYS
from app.domain.routing import regex_problem
from app.domain.rows import AccountRow, PersonRow, UnitRow
from app.services.rules import RuleDraft
from app.ui.labels import plain_label

ACCOUNT_ID_ROLE = Qt.ItemDataRole.UserRole + 1
_CHECKABLE = Qt.ItemFlag.ItemIsUserCheckable
_CHECKED = Qt.CheckState.Checked
_UNCHECKED = Qt.CheckState.Unchecked


def _split(text: str) -> list[str]:
    """Comma-separated values, trimmed, empty ones dropped, each once."""
    return list(dict.fromkeys(v.strip() for v in text.split(",") if v.strip()))


def _joined(values: Sequence[Any]) -> str:
    return ", ".join(str(v) for v in values)


class _Threshold(QWidget):
    """A checkbox that switches a number on, and the number."""

    def __init__(self, label: str, spin: QSpinBox | QDoubleSpinBox) -> None:
        super().__init__()
        self.on = QCheckBox(label)
        self.value = spin
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.on)
        row.addWidget(spin, 1)
        spin.setEnabled(False)
        self.on.toggled.connect(spin.setEnabled)


class RuleForm(QWidget):
    """Name, flags, conditions and actions of one rule."""

    edited = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._loading = False
        self.name = QLineEdit()
        self.name.setObjectName("ruleName")
        self.name.setMaxLength(200)
        self.name.setPlaceholderText("e.g. Refunds → Orders & Delivery")
        self.enabled = QCheckBox("Switched on")
        self.stop = QCheckBox("Stop here: later rules are not looked at")

        # -- conditions ------------------------------------------------------------------
        self.accounts = QListWidget()
        self.accounts.setObjectName("ruleAccounts")
        self.accounts.setMaximumHeight(78)
        self.networks = {n: QCheckBox(n.label) for n in Network}
        self.kinds = {k: QCheckBox(k.label) for k in MessageKind}
        self.words = QLineEdit()
        self.words.setObjectName("ruleWords")
        self.words.setPlaceholderText("words or phrases, comma-separated")
        self.words_mode = QComboBox()
        self.words_mode.addItem("any of them", "any")
        self.words_mode.addItem("all of them", "all")
        self.regex = QLineEdit()
        self.regex.setObjectName("ruleRegex")
        self.regex.setPlaceholderText("RE2 syntax, e.g. order [0-9]{6}")
        self.regex_case = QCheckBox("case-sensitive")
        self.regex_error = plain_label(object_name="ruleRegexError")
        self.regex_error.setStyleSheet("color: #b3261e;")
        self.regex_error.hide()
        self.languages = QLineEdit()
        self.languages.setPlaceholderText("ISO 639-1 codes, e.g. de, es")
        below = QDoubleSpinBox()
        below.setRange(-1.0, 1.0)
        below.setSingleStep(0.05)
        below.setValue(-0.3)
        self.sentiment_below = _Threshold("below", below)
        above = QDoubleSpinBox()
        above.setRange(-1.0, 1.0)
        above.setSingleStep(0.05)
        above.setValue(0.4)
        self.sentiment_above = _Threshold("above", above)
        self.authors = QLineEdit()
        self.authors.setPlaceholderText("@handles or ids, comma-separated")
        followers = QSpinBox()
        followers.setRange(0, 2_000_000_000)
        followers.setSingleStep(1000)
        followers.setGroupSeparatorShown(True)
        followers.setValue(10_000)
        self.min_followers = _Threshold("at least", followers)
        self.first_seen = QCheckBox("only an author's first message")
        self.days = {d: QCheckBox(WEEKDAY_NAMES[d][:3]) for d in WEEKDAYS}
        self.time_on = QCheckBox("from")
        self.time_from = QTimeEdit(QTime(22, 0))
        self.time_to = QTimeEdit(QTime(6, 0))
        for edit in (self.time_from, self.time_to):
            edit.setDisplayFormat("HH:mm")
            edit.setEnabled(False)
            self.time_on.toggled.connect(edit.setEnabled)

        # -- actions ---------------------------------------------------------------------
        self.route = QComboBox()
        self.route.setObjectName("ruleRoute")
        self.assign = QComboBox()
        self.priority = QComboBox()
        self.priority.addItem("unchanged", None)
        for p in Priority:
            self.priority.addItem(p.value, p.value)
        self.tags = QLineEdit()
        self.tags.setPlaceholderText("tags, comma-separated")
        self.spam = QCheckBox("mark as spam")

        conditions = QGroupBox("When a new conversation's first message…")
        cform = QFormLayout(conditions)
        cform.addRow("comes to", self.accounts)
        cform.addRow("on", _row(*self.networks.values()))
        cform.addRow("is a", _row(*self.kinds.values()))
        cform.addRow("has", _row(self.words_mode, self.words, stretch=1))
        regex = QVBoxLayout()
        regex.setSpacing(2)
        regex.addLayout(_row_layout(self.regex, self.regex_case, stretch=0))
        regex.addWidget(self.regex_error)
        cform.addRow("matches", regex)
        cform.addRow("is in", self.languages)
        cform.addRow("sentiment", _row(self.sentiment_below, self.sentiment_above))
        cform.addRow("is by", self.authors)
        cform.addRow("followers", _row(self.min_followers, self.first_seen))
        cform.addRow("arrives on", _row(*self.days.values()))
        cform.addRow("", _row(self.time_on, self.time_from, plain_label("to"), self.time_to))
        actions = QGroupBox("…then")
        aform = QFormLayout(actions)
        aform.addRow("route to", self.route)
        aform.addRow("assign to", self.assign)
        aform.addRow("priority", self.priority)
        aform.addRow("add tags", self.tags)
        aform.addRow("", _row(self.spam, self.stop))

        top = QFormLayout()
        top.addRow("Name", self.name)
        top.addRow("", self.enabled)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(conditions)
        layout.addWidget(actions)
        layout.addStretch(1)

        self.regex.textChanged.connect(self._on_regex_text_changed)
        for w in self._inputs():
            signal = (
                getattr(w, "textChanged", None)
                or getattr(w, "toggled", None)
                or getattr(w, "currentIndexChanged", None)
                or getattr(w, "valueChanged", None)
                or getattr(w, "timeChanged", None)
            )
            if signal is not None:
                signal.connect(self._on_input_changed)
        self.accounts.itemChanged.connect(self._on_input_changed)
        self.set_choices([], [], [])

    def _inputs(self) -> list[QWidget]:
        return [
            self.name,
            self.enabled,
            self.stop,
            *self.networks.values(),
            *self.kinds.values(),
            self.words,
            self.words_mode,
            self.regex,
            self.regex_case,
            self.languages,
            self.sentiment_below.on,
            self.sentiment_below.value,
            self.sentiment_above.on,
            self.sentiment_above.value,
            self.authors,
            self.min_followers.on,
            self.min_followers.value,
            self.first_seen,
            *self.days.values(),
            self.time_on,
            self.time_from,
            self.time_to,
            self.route,
            self.assign,
            self.priority,
            self.tags,
            self.spam,
        ]

    # -- choices ---------------------------------------------------------------------------

    def set_choices(
        self,
        units: Sequence[UnitRow],
        people: Sequence[PersonRow],
        accounts: Sequence[AccountRow],
    ) -> None:
        """The units, people and accounts a rule may name (the current values are kept)."""
        self._loading = True
        try:
            self.route.clear()
            self.route.addItem("not routed by this rule", None)
            for u in units:
                self.route.addItem("    " * max(0, u.path.count("/") - 2) + u.name, u.id)
            self.assign.clear()
            self.assign.addItem("nobody", None)
            for p in people:
                self.assign.addItem(p.name, p.id)
            self.accounts.clear()
            for a in accounts:
                item = QListWidgetItem(f"{Network(a.network).label} @{a.handle}")
                item.setData(ACCOUNT_ID_ROLE, a.id)
                item.setFlags(item.flags() | _CHECKABLE)
                item.setCheckState(_UNCHECKED)
                self.accounts.addItem(item)
        finally:
            self._loading = False

    # -- in and out ------------------------------------------------------------------------

    def load(
        self,
        name: str,
        conditions: Mapping[str, Any],
        actions: Mapping[str, Any],
        *,
        enabled: bool = True,
        stop: bool = False,
    ) -> None:
        """Fill the form from a rule's stored form (no ``edited`` while filling)."""
        self._loading = True
        try:
            c, a = dict(conditions), dict(actions)
            self.name.setText(name)
            self.enabled.setChecked(enabled)
            self.stop.setChecked(stop)
            wanted = set(c.get("accounts", []))
            for i in range(self.accounts.count()):
                item = self.accounts.item(i)
                on = item.data(ACCOUNT_ID_ROLE) in wanted
                item.setCheckState(_CHECKED if on else _UNCHECKED)
            for n, box in self.networks.items():
                box.setChecked(n.value in c.get("networks", []))
            for k, box in self.kinds.items():
                box.setChecked(k.value in c.get("kinds", []))
            self.words.setText(_joined(c.get("words", [])))
            self.words_mode.setCurrentIndex(1 if c.get("words_mode") == "all" else 0)
            self.regex.setText(str(c.get("regex", "")))
            self.regex_case.setChecked(bool(c.get("regex_case_sensitive")))
            self.languages.setText(_joined(c.get("languages", [])))
            for key, widget in (
                ("sentiment_below", self.sentiment_below),
                ("sentiment_above", self.sentiment_above),
                ("min_followers", self.min_followers),
            ):
                widget.on.setChecked(key in c)
                if key in c:
                    widget.value.setValue(c[key])
            self.authors.setText(_joined(c.get("authors", [])))
            self.first_seen.setChecked(bool(c.get("first_seen_author")))
            days = set(c.get("weekdays", WEEKDAYS))
            for d, box in self.days.items():
                box.setChecked(d in days)
            timed = "time_from" in c and "time_to" in c
            self.time_on.setChecked(timed)
            if timed:
                self.time_from.setTime(QTime.fromString(c["time_from"], "HH:mm"))
                self.time_to.setTime(QTime.fromString(c["time_to"], "HH:mm"))
            self.route.setCurrentIndex(max(0, self.route.findData(a.get("route_to_unit"))))
            person = a.get("assign_person")
            if person is not None and self.assign.findData(person) < 0:
                self.assign.addItem(f"person #{person} (deactivated)", person)
            self.assign.setCurrentIndex(max(0, self.assign.findData(person)))
            self.priority.setCurrentIndex(max(0, self.priority.findData(a.get("set_priority"))))
            tags = list(a.get("add_tags", []))
            if a.get("add_tag"):
                tags.insert(0, a["add_tag"])
            self.tags.setText(_joined(tags))
            self.spam.setChecked(bool(a.get("mark_spam")))
        finally:
            self._loading = False
        self._on_regex_text_changed(self.regex.text())

    def draft(self) -> RuleDraft:
        """The rule as the form says it (the service checks it)."""
        c: dict[str, Any] = {}
        accounts = [
            self.accounts.item(i).data(ACCOUNT_ID_ROLE)
            for i in range(self.accounts.count())
            if self.accounts.item(i).checkState() == _CHECKED
        ]
        if accounts:
            c["accounts"] = accounts
        networks = [n.value for n, box in self.networks.items() if box.isChecked()]
        if networks:
            c["networks"] = networks
        kinds = [k.value for k, box in self.kinds.items() if box.isChecked()]
        if kinds:
            c["kinds"] = kinds
        words = _split(self.words.text())
        if words:
            c["words"] = words
            if self.words_mode.currentData() == "all":
                c["words_mode"] = "all"
        if self.regex.text():
            c["regex"] = self.regex.text()
            if self.regex_case.isChecked():
                c["regex_case_sensitive"] = True
        languages = _split(self.languages.text())
        if languages:
            c["languages"] = languages
        if self.sentiment_below.on.isChecked():
            c["sentiment_below"] = round(self.sentiment_below.value.value(), 2)
        if self.sentiment_above.on.isChecked():
            c["sentiment_above"] = round(self.sentiment_above.value.value(), 2)
        authors = _split(self.authors.text())
        if authors:
            c["authors"] = authors
        if self.min_followers.on.isChecked():
            c["min_followers"] = int(self.min_followers.value.value())
        if self.first_seen.isChecked():
            c["first_seen_author"] = True
        days = [d for d, box in self.days.items() if box.isChecked()]
        if len(days) < len(WEEKDAYS) or self.time_on.isChecked():
            c["weekdays"] = days
        if self.time_on.isChecked():
            c["time_from"] = self.time_from.time().toString("HH:mm")
            c["time_to"] = self.time_to.time().toString("HH:mm")
        a: dict[str, Any] = {}
        if self.route.currentData() is not None:
            a["route_to_unit"] = int(self.route.currentData())
        if self.assign.currentData() is not None:
            a["assign_person"] = int(self.assign.currentData())
        if self.priority.currentData() is not None:
            a["set_priority"] = self.priority.currentData()
        tags = _split(self.tags.text())
        if tags:
            a["add_tags"] = tags
        if self.spam.isChecked():
            a["mark_spam"] = True
        return RuleDraft(
            name=self.name.text(),
            conditions=c,
            actions=a,
            enabled=self.enabled.isChecked(),
            stop=self.stop.isChecked(),
        )

    def set_read_only(self, read_only: bool) -> None:
        for w in [*self._inputs(), self.accounts]:
            w.setEnabled(not read_only)
        if not read_only:  # the numbers follow their switches again
            for t in (self.sentiment_below, self.sentiment_above, self.min_followers):
                t.value.setEnabled(t.on.isChecked())
            for edit in (self.time_from, self.time_to):
                edit.setEnabled(self.time_on.isChecked())

    # -- slots -----------------------------------------------------------------------------

    def _on_regex_text_changed(self, pattern: str) -> None:
        problem = regex_problem(pattern) if pattern else None
        self.regex_error.setText(f"RE2 cannot run this pattern: {problem}" if problem else "")
        self.regex_error.setVisible(problem is not None)

    def _on_input_changed(self, *_args: object) -> None:
        if not self._loading:
            self.edited.emit()


def _row_layout(*widgets: QWidget, stretch: int = -1) -> QHBoxLayout:
    row = QHBoxLayout()
    row.setContentsMargins(0, 0, 0, 0)
    for i, w in enumerate(widgets):
        row.addWidget(w, 1 if i == stretch else 0)
    if stretch < 0:
        row.addStretch(1)
    return row


def _row(*widgets: QWidget, stretch: int = -1) -> QWidget:
    holder = QWidget()
    holder.setLayout(_row_layout(*widgets, stretch=stretch))
    return holder
