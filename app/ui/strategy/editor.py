"""The strategy editor: outline, detail form, what is missing, what served a goal; timeline; policy.

One editor for the workspace's strategy (the Strategy screen) and for a strategy file (the file
window): it speaks only to a :class:`~app.services.strategy_editing.StrategySource`. Every read
and every change of the source runs on one worker thread of its own, in the order asked (a
change, then the read after it), so the GUI thread never waits on the database or on a large
file; the served lists are read on the shared pool. A change that went through reads the
strategy again and selects what it changed; a refusal is shown in words beside the button that
asked, and nothing else moves.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QItemSelection, QModelIndex, Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.domain.enums import StrategyItemType
from app.domain.strategy_funnel import ALLOWED_PARENTS, TYPE_NAMES
from app.services.strategy_editing import (
    DependentRow,
    GapEntry,
    PolicyEdit,
    Refused,
    StrategySource,
    StrategyState,
)
from app.ui.labels import plain_label
from app.ui.strategy.confirm import ConfirmDialog, dependents_text
from app.ui.strategy.item_form import FormRequest, ItemForm, MissionForm
from app.ui.strategy.missing_panel import MissingPanel
from app.ui.strategy.outline import KEY_ROLE, KIND_ROLE, MISSION_KEY, SECTION_NAMES, OutlineModel
from app.ui.strategy.outline_panel import OutlinePanel
from app.ui.strategy.policy_tab import PolicyTab
from app.ui.strategy.served import ServedPanel
from app.ui.strategy.timeline import TacticTimeline
from app.ui.tasks import SerialTaskRunner

log = logging.getLogger("quiver.ui.strategy")

T = StrategyItemType
UNSAVED = "Changed. The file itself changes when you save it (Ctrl+S)."
TIMELINE_NOTE = (
    "Each bar runs from the day a tactic was made to the end of its horizon (short 3 months, "
    "medium 12, long 36). Red: past its horizon, due for review. Click a bar to edit it."
)


@dataclass(frozen=True, slots=True)
class Outcome:
    """A change's result from the worker: its value, or the refusal's words."""

    value: Any = None
    refusal: str = ""


def attempt(fn: Callable[[], Any]) -> Outcome:
    try:
        return Outcome(fn())
    except Refused as e:
        return Outcome(refusal=str(e))


Shows = Callable[..., None]  # show_outcome(text, ok=…) of the widget that asked


class StrategyEditor(QWidget):
    """The whole editor over ``source``; reads nothing until :meth:`reload`."""

    #: A state read from the source is on screen.
    loaded = Signal()
    #: A change went through (the file window marks itself unsaved).
    changed = Signal()
    #: A change's outcome, went through or refused, is on screen (its words).
    outcome_shown = Signal(str)
    #: The strategy could not be read (what went wrong).
    load_failed = Signal(str)

    def __init__(self, source: StrategySource, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("strategyEditor")
        self._source = source
        self._jobs = SerialTaskRunner(self)
        self.state: StrategyState | None = None
        self.selected_key: str | None = None
        self._want: str | None = None  # select this once the next state is on screen
        self._pending: tuple[Shows, str] | None = None  # an outcome to show after the read
        self._doomed: str | None = None
        self._doomed_line: str | None = None
        self._fallback: StrategyItemType | None = None  # select its level if the item went
        self._filling = False
        self.confirm: ConfirmDialog | None = None
        self.busy = 0  # jobs asked for whose result has not arrived

        self.model = OutlineModel(self)
        self.outline = OutlinePanel(self.model)
        self.tree = self.outline.tree
        self.add_actions = self.outline.add_actions
        self.add_button, self.delete_button = self.outline.add_button, self.outline.delete_button
        self.up_button, self.down_button = self.outline.up_button, self.outline.down_button
        self.tree.selectionModel().selectionChanged.connect(self._on_tree_selection_changed)
        for action in self.add_actions.values():
            action.triggered.connect(self._on_add_action_triggered)
        self.outline.delete_requested.connect(self.delete_selected)
        self.outline.move_requested.connect(self.move_selected)
        left = self.outline

        self.form = ItemForm()
        self.form.save_requested.connect(self._on_form_save_requested)
        self.mission_form = MissionForm()
        self.mission_form.save_requested.connect(self._on_mission_form_save_requested)
        form_scroll = QScrollArea()
        form_scroll.setWidgetResizable(True)
        form_scroll.setWidget(self.form)
        form_scroll.setObjectName("threadPane")
        self.forms = QStackedWidget()
        self.forms.addWidget(form_scroll)
        self.forms.addWidget(self.mission_form)

        self.missing = MissingPanel()
        self.missing.entry_activated.connect(self._on_missing_entry_activated)
        self.served = ServedPanel(source)
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.missing)
        right.addWidget(self.served)
        right.setSizes([380, 420])
        right.setChildrenCollapsible(False)

        funnel = QSplitter(Qt.Orientation.Horizontal)
        funnel.addWidget(left)
        funnel.addWidget(self.forms)
        funnel.addWidget(right)
        funnel.setStretchFactor(0, 0)
        funnel.setStretchFactor(1, 1)
        funnel.setStretchFactor(2, 0)
        funnel.setSizes([360, 600, 420])
        left.setMinimumWidth(240)
        self.forms.setMinimumWidth(400)
        right.setMinimumWidth(280)
        funnel.setChildrenCollapsible(False)

        self.timeline = TacticTimeline()
        self.timeline.tactic_clicked.connect(self._on_timeline_tactic_clicked)
        timeline_scroll = QScrollArea()
        timeline_scroll.setWidgetResizable(True)
        timeline_scroll.setWidget(self.timeline)
        timeline_tab = QWidget()
        timeline_layout = QVBoxLayout(timeline_tab)
        timeline_layout.setContentsMargins(16, 12, 16, 12)
        timeline_layout.addWidget(plain_label(TIMELINE_NOTE, object_name="threadFacts"))
        timeline_layout.addWidget(timeline_scroll, 1)

        self.policy = PolicyTab()
        self.policy.add_requested.connect(self._on_policy_add_requested)
        self.policy.edit_requested.connect(self._on_policy_edit_requested)
        self.policy.delete_requested.connect(self._on_policy_delete_requested)

        self.tabs = QTabWidget()
        self.tabs.setObjectName("strategyTabs")
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(funnel, "Funnel")
        self.tabs.addTab(timeline_tab, "Timeline")
        self.tabs.addTab(self.policy, "Policy")
        self.notice = plain_label(object_name="loadingNote", wrap=False)
        self.notice.hide()
        self.tabs.setCornerWidget(self.notice, Qt.Corner.TopRightCorner)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tabs)

        self._update_tools()

    # -- the source ---------------------------------------------------------------------------

    @property
    def source(self) -> StrategySource:
        return self._source

    def set_source(self, source: StrategySource) -> None:
        """Edit another strategy (the file window opened another file)."""
        self._source = source
        self.served.set_source(source)
        self.selected_key = None
        self.reload()

    def submit(
        self,
        fn: Callable[[], Any],
        on_done: Callable[[Any], None],
        on_fail: Callable[[str], None] | None = None,
    ) -> None:
        """Run ``fn`` on the editor's worker, after every change and read asked before it."""
        self.busy += 1

        def done(value: Any) -> None:
            self.busy -= 1
            on_done(value)

        def failed(message: str) -> None:
            self.busy -= 1
            log.warning("strategy job failed: %s", message)
            (on_fail or self._on_job_failed)(message)

        self._jobs.submit(fn, done, failed)

    def reload(self, select: str | None = None) -> None:
        """Read the strategy again (in the worker); then select ``select`` (or what was)."""
        self._want = select if select is not None else self.selected_key
        self.submit(self._source.load, self._on_loaded, self._on_load_failed)

    def shutdown(self, msecs: int = 3000) -> None:
        self._jobs.wait(msecs)
        self.served.shutdown(msecs)

    def _on_loaded(self, state: StrategyState) -> None:
        self.state = state
        self._filling = True
        try:
            self.model.set_state(state)
            self.tree.expandAll()
            self.missing.set_state(state)
            self.timeline.set_tactics([i for i in state.items if i.type == T.TACTIC], state.today)
            self.policy.set_state(state)
        finally:
            self._filling = False
        self.select(self._want)
        if self._fallback is not None and self.selected_key is None:
            self.select_section(self._fallback)
        self._fallback = None
        if self._pending is not None:
            shows, text = self._pending
            self._pending = None
            shows(text, ok=True)
            self.outcome_shown.emit(text)
        self.loaded.emit()

    def _on_load_failed(self, message: str) -> None:
        self._say(f"The strategy could not be read: {message}", ok=False)
        self.load_failed.emit(message)

    def _on_job_failed(self, message: str) -> None:
        self._say(f"That did not work: {message}", ok=False)
        self.outcome_shown.emit(message)

    # -- selection ----------------------------------------------------------------------------

    def select(self, key: str | None) -> None:
        """Select the item ``key`` (or the mission) in the outline, showing its form."""
        index = self.model.index_of(key) if key is not None else QModelIndex()
        if index.isValid():
            self.tree.setCurrentIndex(index)
            self.tree.scrollTo(index)
        else:
            self.tree.clearSelection()
        self._show_selection(index)

    def select_section(self, kind: StrategyItemType) -> None:
        index = self.model.section_index(kind)
        self.tree.setCurrentIndex(index)
        self._show_selection(index)

    def _on_tree_selection_changed(self, selected: QItemSelection, _old: QItemSelection) -> None:
        if self._filling:
            return
        indexes = selected.indexes()
        self._show_selection(indexes[0] if indexes else QModelIndex())

    def _show_selection(self, index: QModelIndex) -> None:
        state = self.state
        key = index.data(KEY_ROLE) if index.isValid() else None
        self.selected_key = key
        self.timeline.select(key)
        self._update_tools()
        if state is None:
            return
        if key == MISSION_KEY:
            self.forms.setCurrentWidget(self.mission_form)
            self.mission_form.show_mission(state.mission)
            self.served.show_goal(None, "")
            return
        self.forms.setCurrentIndex(0)
        item = state.item(key) if key else None
        if item is None:
            kind = index.data(KIND_ROLE) if index.isValid() else None
            if kind is not None:
                name = TYPE_NAMES[kind]
                how = " under a selected social goal" if kind == T.TACTIC else ""
                self.form.show_nothing(
                    f"Select one of the {name}s, or add a {name}{how} (Add).",
                    SECTION_NAMES[kind],
                )
            else:
                self.form.show_nothing("Select an item of the funnel, or add one.")
            self.served.show_goal(None, "")
            return
        self.form.show_item(item, state)
        goal = item.key if item.type == T.SOCIAL_GOAL else None
        if goal != self.served.key:
            self.served.show_goal(goal, item.title if goal else "")

    def _selected_item(self) -> Any:
        state, key = self.state, self.selected_key
        return state.item(key) if state is not None and key else None

    def _goal_for_new_tactic(self) -> str | None:
        item = self._selected_item()
        if item is None:
            return None
        if item.type == T.SOCIAL_GOAL:
            return str(item.key)
        if item.type == T.TACTIC and item.parents:
            return str(item.parents[0])
        return None

    def _update_tools(self) -> None:
        item = self._selected_item()
        self.delete_button.setEnabled(item is not None)
        self.up_button.setEnabled(item is not None)
        self.down_button.setEnabled(item is not None)
        self.add_actions[T.TACTIC].setEnabled(self._goal_for_new_tactic() is not None)

    # -- adding, saving -----------------------------------------------------------------------

    def start_new(
        self, kind: StrategyItemType, parents: tuple[str, ...] = (), unit: str | None = None
    ) -> None:
        """Show an empty form for a new item of ``kind`` (a tactic under the selected goal)."""
        state = self.state
        if state is None:
            return
        if kind == T.TACTIC and not parents:
            goal = self._goal_for_new_tactic()
            if goal is None:
                self._say("Select the social goal the tactic serves first.", ok=False)
                return
            parents = (goal,)
            served = self.state.item(goal) if self.state is not None else None
            if unit is None and served is not None:
                unit = served.fields.unit  # a tactic works in its goal's unit, as a rule
        if not parents:
            item = self._selected_item()
            if item is not None and item.type in ALLOWED_PARENTS[kind]:
                parents = (item.key,)
        self.tabs.setCurrentIndex(0)
        self.forms.setCurrentIndex(0)
        self.form.show_new(kind, state, parents, unit)

    def _on_add_action_triggered(self) -> None:
        action = self.sender()
        if isinstance(action, QAction):
            self.start_new(StrategyItemType(str(action.data())))

    def _on_form_save_requested(self, request: FormRequest) -> None:
        source = self._source
        name = TYPE_NAMES[request.kind]
        if request.key is None:
            self.change(
                lambda: source.create(request.kind, request.fields, request.parents),
                self.form.show_outcome,
                f"Added the {name}.",
            )
            return
        key = request.key

        def update() -> str:
            source.update(key, request.fields, request.parents)
            return key

        self.change(update, self.form.show_outcome, self.saved_words())

    def saved_words(self) -> str:
        """What a change that went through is called: stored, or kept until the file is saved."""
        return "Saved." if self._source.writes_through else UNSAVED

    def _on_mission_form_save_requested(self, text: str) -> None:
        source = self._source

        def save() -> str:
            source.set_mission(text)
            return MISSION_KEY

        self.change(save, self.mission_form.show_outcome, "The mission is saved.")

    def change(
        self, fn: Callable[[], Any], shows: Shows, done: str, *, policy: bool = False
    ) -> None:
        """Make a change in the worker; ``fn`` returns the key to select afterwards.

        A refusal is shown through ``shows`` at once; a change that went through reads the
        strategy again, then ``done`` is shown. ``policy``: the key is a policy line's.
        """
        self.submit(
            lambda: attempt(fn), lambda outcome: self._on_changed(outcome, shows, done, policy)
        )

    def _on_changed(self, outcome: Outcome, shows: Shows, done: str, policy: bool) -> None:
        if outcome.refusal:
            shows(outcome.refusal, ok=False)
            self.outcome_shown.emit(outcome.refusal)
            return
        self._pending = (shows, done)
        self.changed.emit()
        key = outcome.value if isinstance(outcome.value, str) else None
        if policy:
            if key is not None:
                self.policy.key = key
            key = None
        self.reload(select=key)

    # -- deleting, moving ---------------------------------------------------------------------

    def delete_selected(self) -> None:
        item = self._selected_item()
        if item is None:
            return
        source, key = self._source, str(item.key)
        self.submit(
            lambda: attempt(lambda: source.dependents(key)),
            lambda outcome: self._on_dependents(key, outcome),
        )

    def _on_dependents(self, key: str, outcome: Outcome) -> None:
        item = self.state.item(key) if self.state is not None else None
        if outcome.refusal or item is None:
            self.form.show_outcome(outcome.refusal or "It is not there any more.", ok=False)
            return
        dependents: tuple[DependentRow, ...] = outcome.value
        name = TYPE_NAMES[item.type]
        self._doomed = key
        self.confirm = ConfirmDialog(
            f"Delete the {name}",
            f"Delete the {name} “{item.title}”?",
            dependents_text(dependents),
            "Delete" if not any(d.deleted for d in dependents) else "Delete them all",
            self,
        )
        self.confirm.accepted.connect(self._on_confirm_accepted)
        self.confirm.open()

    def _on_confirm_accepted(self) -> None:
        key, self._doomed = self._doomed, None
        item = self.state.item(key) if self.state is not None and key else None
        if key is None or item is None:
            return
        source = self._source
        after = item.parents[0] if item.type == T.TACTIC and item.parents else None

        def delete() -> str | None:
            source.delete(key)
            return after

        self._fallback = item.type
        self.change(delete, self._say, f"Deleted the {TYPE_NAMES[item.type]} “{item.title}”.")

    def move_selected(self, step: int) -> None:
        item = self._selected_item()
        if item is None or self.state is None:
            return
        neighbour = self.model.neighbour(item.key, step)
        if neighbour is None:
            return
        same = sorted(
            (i for i in self.state.items if i.type == item.type),
            key=lambda i: (i.position, int(i.key) if i.key.isdigit() else 0, i.key),
        )
        position = [i.key for i in same].index(neighbour.key)
        source, key = self._source, str(item.key)

        def move() -> str:
            source.move(key, position)
            return key

        self.change(move, self._say, "Moved.")

    # -- the panels ---------------------------------------------------------------------------

    def _on_missing_entry_activated(self, entry: GapEntry) -> None:
        if entry.is_unit:  # a unit without department goals: start one for it
            self.start_new(T.DEPARTMENT_GOAL, unit=entry.key)
            return
        self.select(entry.key)

    def _on_timeline_tactic_clicked(self, key: str) -> None:
        self.tabs.setCurrentIndex(0)
        self.select(key)

    def _on_policy_add_requested(self, line: PolicyEdit) -> None:
        source = self._source
        self.change(
            lambda: source.add_policy_line(line),
            self.policy.show_outcome,
            "The line is added to the policy.",
            policy=True,
        )

    def _on_policy_edit_requested(self, key: str, line: PolicyEdit) -> None:
        source = self._source
        self.change(
            lambda: source.edit_policy_line(key, line),
            self.policy.show_outcome,
            "The line is saved.",
            policy=True,
        )

    def _on_policy_delete_requested(self, key: str, what: str) -> None:
        self._doomed_line = key
        self.confirm = ConfirmDialog(
            "Delete the policy line",
            f"Delete the policy line “{what}”?",
            "Drafts are no longer checked against it, here and once the outbox reads it again.",
            "Delete",
            self,
        )
        self.confirm.accepted.connect(self._on_line_confirm_accepted)
        self.confirm.open()

    def _on_line_confirm_accepted(self) -> None:
        source, key = self._source, self._doomed_line
        if key is None:
            return
        self.policy.key = None
        self.change(
            lambda: source.delete_policy_line(key),
            self.policy.show_outcome,
            "The line is deleted.",
            policy=True,
        )

    def _say(self, text: str, *, ok: bool) -> None:
        """A word at the top right, for what no form stands beside (a move, a deletion)."""
        self.notice.setText(text)
        self.notice.setObjectName("loadingNote" if ok else "threadNotice")
        self.notice.style().unpolish(self.notice)
        self.notice.style().polish(self.notice)
        self.notice.setVisible(bool(text))
