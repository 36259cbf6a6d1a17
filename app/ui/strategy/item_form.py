"""The detail form: the fields of the selected item's type, its parents, Save, and the outcome.

A social goal shows its KPI (name, numeric target and its unit, baseline, deadline), a tactic
its channel, cadence and horizon; every item its title, description, unit and owner. Parents
are the items of the types the funnel allows, as check boxes (a tactic serves one social goal,
so checking one unchecks the other). Save asks the editor to store the form; what the source
says back (saved, or why not) is shown in words beside the button.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from app.domain.enums import Horizon, StrategyItemType
from app.domain.strategy_funnel import ALLOWED_PARENTS, FUNNEL_ORDER, HORIZON_MONTHS, TITLE_MAX
from app.domain.strategy_funnel import TYPE_NAMES as NAMES
from app.services.strategy_editing import EditFields, EditorItem, StrategyState
from app.ui.labels import plain_label, plain_tooltip
from app.ui.strategy.outline import item_label
from app.ui.strategy.pickers import RefPicker

T = StrategyItemType
TOP_LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop
NO_DAY = QDate(2000, 1, 1)  # the date box's "none": its minimum, shown as a dash
KEY_ROLE = Qt.ItemDataRole.UserRole + 7


@dataclass(frozen=True, slots=True)
class FormRequest:
    """What Save asks for: a new item (``key`` None) or the item ``key`` changed."""

    key: str | None
    kind: StrategyItemType
    fields: EditFields
    parents: tuple[str, ...]


def show_outcome(label: QLabel, text: str, *, ok: bool) -> None:
    """What a change did, beside its button: quiet when it went through, red when refused."""
    label.setText(text)
    label.setObjectName("composeOutcome" if ok else "threadNotice")
    label.style().unpolish(label)
    label.style().polish(label)
    label.setVisible(bool(text))


def _number(text: str, what: str) -> float | None:
    clean = text.strip().replace(",", ".").replace(" ", "")
    if not clean:
        return None
    try:
        return float(clean)
    except ValueError:
        raise ValueError(f"{what} is a number (like 95 or 2.5), not {text.strip()!r}.") from None


def _qdate(day: date) -> QDate:
    return QDate(day.year, day.month, day.day)


def _figure(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else str(value)


class ItemForm(QWidget):
    """One item's fields. Shows nothing until :meth:`show_item` or :meth:`show_new`."""

    save_requested = Signal(object)  # FormRequest

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("strategyForm")
        self.key: str | None = None
        self.kind: StrategyItemType | None = None
        self.heading = plain_label(object_name="listTitle")
        self.facts = plain_label(object_name="threadFacts")
        self.title = QLineEdit()
        self.title.setMaxLength(TITLE_MAX)
        self.title.setObjectName("strategyTitle")
        self.body = QPlainTextEdit()
        self.body.setPlaceholderText("Why, for whom, what it means in practice")
        self.body.setFixedHeight(84)
        self.unit = RefPicker("No unit (the whole organization)")
        self.owner = RefPicker("No owner")
        self.kpi = QLineEdit()
        self.kpi.setPlaceholderText("median first response")
        self.target = QLineEdit()
        self.target.setPlaceholderText("2")
        self.kpi_unit = QLineEdit()
        self.kpi_unit.setPlaceholderText("hours")
        self.baseline = QLineEdit()
        self.baseline.setPlaceholderText("6.5")
        self.deadline = QDateEdit()
        self.deadline.setCalendarPopup(True)
        self.deadline.setDisplayFormat("yyyy-MM-dd")
        self.deadline.setMinimumDate(NO_DAY)
        self.deadline.setSpecialValueText("—")
        self.channel = QLineEdit()
        self.channel.setPlaceholderText("X, Messenger")
        self.cadence = QLineEdit()
        self.cadence.setPlaceholderText("weekly")
        self.horizon = QComboBox()
        self.horizon.addItem("—", None)
        for h in Horizon:
            self.horizon.addItem(f"{h.value.capitalize()} ({HORIZON_MONTHS[h]} months)", h.value)
        self.parents = QListWidget()
        self.parents.setObjectName("strategyParents")
        self.parents.setMinimumHeight(120)
        self.parents.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.parents.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.parents.itemChanged.connect(self._on_parents_item_changed)
        self.save_button = QPushButton("Save")
        self.save_button.setDefault(True)
        self.save_button.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.save_button.clicked.connect(self.request_save)
        self.outcome = plain_label(object_name="composeOutcome")
        self.outcome.hide()

        self.rows = QFormLayout()
        self.rows.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        self.rows.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for label, widget in (
            ("Title", self.title),
            ("Description", self.body),
            ("Unit", self.unit),
            ("Owner", self.owner),
            ("KPI", self.kpi),
            ("Target", self.target),
            ("Counted in", self.kpi_unit),
            ("Baseline", self.baseline),
            ("Deadline", self.deadline),
            ("Channel", self.channel),
            ("Cadence", self.cadence),
            ("Horizon", self.horizon),
            ("Derives from", self.parents),
        ):
            self.rows.addRow(plain_label(label, wrap=False), widget)
        buttons = QHBoxLayout()
        buttons.addWidget(self.save_button, 0, TOP_LEFT)
        buttons.addWidget(self.outcome, 1)
        buttons.addStretch(0)
        self.body_area = QWidget()
        inner = QVBoxLayout(self.body_area)
        inner.setContentsMargins(0, 0, 0, 0)
        inner.addLayout(self.rows)
        inner.addLayout(buttons)
        self.hint = plain_label(object_name="emptyNote")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.addWidget(self.heading)
        layout.addWidget(self.facts)
        layout.addWidget(self.hint)
        layout.addWidget(self.body_area)
        layout.addStretch(1)
        self.show_nothing("Select an item of the funnel, or add one.")

    # -- what is shown ------------------------------------------------------------------------

    def show_nothing(self, hint: str, heading: str = "") -> None:
        self.key, self.kind = None, None
        self.heading.setText(heading)
        self.heading.setVisible(bool(heading))
        self.facts.hide()
        self.hint.setText(hint)
        self.hint.show()
        self.body_area.hide()

    def show_item(self, item: EditorItem, state: StrategyState) -> None:
        self.key, self.kind = item.key, item.type
        self.heading.setText(NAMES[item.type].capitalize())
        self.heading.show()
        self.facts.setText(_facts(item, state.today))
        self.facts.setVisible(bool(self.facts.text()))
        self._fill(item.type, state, item.fields, item.parents, item.unit_label, item.owner_label)
        self.save_button.setText("Save")

    def show_new(
        self,
        kind: StrategyItemType,
        state: StrategyState,
        parents: tuple[str, ...] = (),
        unit: str | None = None,
    ) -> None:
        self.key, self.kind = None, kind
        self.heading.setText(f"New {NAMES[kind]}")
        self.heading.show()
        goals = [state.item(p) for p in parents]
        served = ", ".join(f"“{g.title}”" for g in goals if g is not None)
        self.facts.setText(f"Serving {served}." if kind == T.TACTIC and served else "")
        self.facts.setVisible(bool(self.facts.text()))
        horizon = Horizon.SHORT.value if kind == T.TACTIC else None
        self._fill(kind, state, EditFields("", unit=unit, horizon=horizon), parents, "", "")
        self.save_button.setText(f"Add the {NAMES[kind]}")
        self.title.setFocus()

    def show_outcome(self, text: str, *, ok: bool) -> None:
        show_outcome(self.outcome, text, ok=ok)

    def _fill(
        self,
        kind: StrategyItemType,
        state: StrategyState,
        fields: EditFields,
        parents: tuple[str, ...],
        unit_label: str,
        owner_label: str,
    ) -> None:
        self.hint.hide()
        self.body_area.show()
        self.show_outcome("", ok=True)
        names = state.names
        self.unit.set_choices(names.units, free_text=names.free_text)
        self.owner.set_choices(names.people, free_text=names.free_text)
        self.title.setText(fields.title)
        self.body.setPlainText(fields.body)
        self.unit.set_value(fields.unit, unit_label)
        self.owner.set_value(fields.owner, owner_label)
        self.kpi.setText(fields.kpi)
        self.target.setText(_figure(fields.kpi_target))
        self.kpi_unit.setText(fields.kpi_unit)
        self.baseline.setText(_figure(fields.baseline))
        if fields.deadline is not None:
            self.deadline.setDate(_qdate(fields.deadline))
        elif kind == T.SOCIAL_GOAL and self.key is None:
            self.deadline.setDate(_qdate(state.today).addYears(1))
        else:
            self.deadline.setDate(NO_DAY)
        self.channel.setText(fields.channel)
        self.cadence.setText(fields.cadence)
        self.horizon.setCurrentIndex(max(0, self.horizon.findData(fields.horizon)))
        social, tactic = kind == T.SOCIAL_GOAL, kind == T.TACTIC
        kpi_rows: tuple[QWidget, ...] = (
            self.kpi,
            self.target,
            self.kpi_unit,
            self.baseline,
            self.deadline,
        )
        for widget in kpi_rows:
            self.rows.setRowVisible(widget, social)
        tactic_rows: tuple[QWidget, ...] = (self.channel, self.cadence, self.horizon)
        for widget in tactic_rows:
            self.rows.setRowVisible(widget, tactic)
        allowed = ALLOWED_PARENTS[kind]
        self.rows.setRowVisible(self.parents, bool(allowed))
        label = self.rows.labelForField(self.parents)
        if label is not None and hasattr(label, "setText"):
            label.setText("Serves" if tactic else "Derives from")
        self._fill_parents(state, allowed, set(parents))

    def _fill_parents(
        self, state: StrategyState, allowed: frozenset[StrategyItemType], checked: set[str]
    ) -> None:
        self.parents.blockSignals(True)
        self.parents.clear()
        order = {kind: n for n, kind in enumerate(FUNNEL_ORDER)}
        for item in sorted(
            (i for i in state.items if i.type in allowed and i.key != self.key),
            key=lambda i: order[i.type],
        ):
            entry = QListWidgetItem(f"{NAMES[item.type].capitalize()} · {item_label(item)}")
            entry.setData(KEY_ROLE, item.key)
            entry.setToolTip(plain_tooltip(item.title))
            entry.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable)
            entry.setCheckState(
                Qt.CheckState.Checked if item.key in checked else Qt.CheckState.Unchecked
            )
            self.parents.addItem(entry)
        self.parents.blockSignals(False)

    def _on_parents_item_changed(self, changed: QListWidgetItem) -> None:
        """A tactic serves one social goal: checking one unchecks the others."""
        if self.kind != T.TACTIC or changed.checkState() != Qt.CheckState.Checked:
            return
        self.parents.blockSignals(True)
        for row in range(self.parents.count()):
            entry = self.parents.item(row)
            if entry is not changed:
                entry.setCheckState(Qt.CheckState.Unchecked)
        self.parents.blockSignals(False)

    # -- reading the form ---------------------------------------------------------------------

    def checked_parents(self) -> tuple[str, ...]:
        return tuple(
            str(self.parents.item(r).data(KEY_ROLE))
            for r in range(self.parents.count())
            if self.parents.item(r).checkState() == Qt.CheckState.Checked
        )

    def set_parent_checked(self, key: str, on: bool) -> None:
        for row in range(self.parents.count()):
            entry = self.parents.item(row)
            if entry.data(KEY_ROLE) == key:
                entry.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)

    def fields(self) -> EditFields:
        """The form as fields.

        Raises:
            ValueError: a figure is not a number (in words).
        """
        kind = self.kind
        social, tactic = kind == T.SOCIAL_GOAL, kind == T.TACTIC
        day = self.deadline.date()
        deadline: date | None = None if day == NO_DAY else day.toPython()  # type: ignore[assignment]
        return EditFields(
            title=self.title.text(),
            body=self.body.toPlainText(),
            unit=self.unit.value(),
            owner=self.owner.value(),
            kpi=self.kpi.text() if social else "",
            kpi_target=_number(self.target.text(), "The target") if social else None,
            kpi_unit=self.kpi_unit.text() if social else "",
            baseline=_number(self.baseline.text(), "The baseline") if social else None,
            deadline=deadline if social else None,
            channel=self.channel.text() if tactic else "",
            cadence=self.cadence.text() if tactic else "",
            horizon=self.horizon.currentData() if tactic else None,
        )

    def request_save(self) -> None:
        if self.kind is None:
            return
        try:
            fields = self.fields()
        except ValueError as e:
            self.show_outcome(str(e), ok=False)
            return
        self.show_outcome("Saving…", ok=True)
        self.save_requested.emit(FormRequest(self.key, self.kind, fields, self.checked_parents()))


def _facts(item: EditorItem, today: date) -> str:
    parts = []
    if item.created is not None:
        parts.append(f"Made {item.created.isoformat()}")
    if item.type == T.TACTIC:
        if item.horizon_end is None:
            parts.append("its horizon's end is not known (no day it was made)")
        elif item.horizon_end < today:
            parts.append(f"past its horizon since {item.horizon_end.isoformat()}: review it")
        else:
            parts.append(f"horizon ends {item.horizon_end.isoformat()}")
    if item.children:
        what = "tactic" if item.type == T.SOCIAL_GOAL else "item"
        n = len(item.children)
        parts.append(f"{n} {what}{'s' if n != 1 else ''} below it")
    return " · ".join(parts)


class MissionForm(QWidget):
    """The mission: the top of the funnel."""

    save_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.heading = plain_label("Mission", object_name="listTitle")
        self.note = plain_label(
            "Why the organization exists, in a sentence or two. The business goals serve it.",
            object_name="threadFacts",
        )
        self.text = QPlainTextEdit()
        self.text.setObjectName("missionText")
        self.text.setFixedHeight(110)
        self.save_button = QPushButton("Save the mission")
        self.save_button.setDefault(True)
        self.save_button.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.save_button.clicked.connect(self._on_save_clicked)
        self.outcome = plain_label(object_name="composeOutcome")
        self.outcome.hide()
        buttons = QHBoxLayout()
        buttons.addWidget(self.save_button, 0, TOP_LEFT)
        buttons.addWidget(self.outcome, 1)
        buttons.addStretch(0)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        for widget in (self.heading, self.note, self.text):
            layout.addWidget(widget)
        layout.addLayout(buttons)
        layout.addStretch(1)

    def show_mission(self, text: str) -> None:
        self.text.setPlainText(text)
        self.show_outcome("", ok=True)

    def show_outcome(self, text: str, *, ok: bool) -> None:
        show_outcome(self.outcome, text, ok=ok)

    def _on_save_clicked(self) -> None:
        self.show_outcome("Saving…", ok=True)
        self.save_requested.emit(self.text.toPlainText())
