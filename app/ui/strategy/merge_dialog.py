"""Importing a strategy file: what the merge will do, and a person's decision on each conflict.

The dialog is given the merge's plan (:class:`~app.domain.strategy_merge.MergeResult`) and
calls no service: on top it says in words what will happen; the conflicts tab shows each one
side by side (the export's, the workspace's and the file's value) with "Keep the workspace's",
"Take the file's" and, for text, numbers and dates, "Write my own…"; the changes tab lists what
applies without a conflict, so nothing happens unseen. Every decision runs
:func:`~app.domain.strategy_merge.resolve` again and shows the funnel problems it leaves; Apply
stays off while a conflict is undecided or a problem remains. The caller applies
:meth:`MergeDialog.resolved` once the dialog is accepted.

Keys on the conflicts tab: j / k or ↓ / ↑ move through the conflicts, 1 keeps the workspace's
value, 2 takes the file's (and the next undecided conflict opens).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.domain.strategy_doc import ITEM_FIELDS, LINE_FIELDS, Problem, StrategyItemDoc, sort_key
from app.domain.strategy_merge import DELETED, Conflict, Custom, MergeResult, Section, resolve
from app.ui.inbox.thread_view import breakable
from app.ui.labels import plain_label, plain_tooltip
from app.ui.strategy.merge_widgets import (
    ChangesTree,
    ComparePanel,
    ValueEditor,
    capitalized,
    editable,
    field_label,
    find_record,
    heading,
    one_line,
    shown,
)

Key = tuple[str | None, str]
Choice = str | Custom  # "ours", "theirs" or what the person wrote

OURS, THEIRS = "ours", "theirs"


def _plural(n: int, one: str, many: str) -> str:
    return f"{n:,} {one if n == 1 else many}"


def summary(plan: MergeResult, refusals: Sequence[str] = ()) -> str:
    """What the import will do, in one sentence."""
    if refusals:
        return "The file cannot be imported:"
    if plan.nothing_to_do:
        return "Nothing to import: the file and the workspace agree."
    if plan.problems and not plan.conflicts:
        return "The import is refused: the result would break the funnel."
    n, m = len(plan.changes), len(plan.conflicts)
    if n:
        changes = _plural(n, "change from the file applies", "changes from the file apply")
    else:
        changes = "No change applies without a decision"
    if not m:
        return f"{changes}; nothing conflicts."
    return f"{changes}; {_plural(m, 'conflict needs', 'conflicts need')} your decision."


def _choice_words(choice: Choice | None) -> str:
    if choice is None:
        return "undecided"
    if isinstance(choice, Custom):
        return "your own"
    return "the workspace's" if choice == OURS else "the file's"


def _order(plan: MergeResult, conflict: Conflict) -> tuple[Any, ...]:
    """The mission first, then items in funnel order, then policy lines; fields in file order."""
    if conflict.section is Section.DOCUMENT or conflict.item_id is None:
        return (0, (), 0)
    names = ITEM_FIELDS if conflict.section is Section.ITEMS else LINE_FIELDS
    field_rank = names.index(conflict.field) if conflict.field in names else -1
    record = find_record(plan, conflict.section, conflict.item_id)
    if isinstance(record, StrategyItemDoc):
        return (1, sort_key(record), field_rank)
    where = (str(record.kind), record.value, record.id) if record else ("", "", "")
    return (2, where, field_rank)


class MergeDialog(QDialog):
    """The import's plan, its conflicts to decide, and Apply once nothing is left open."""

    decided = Signal(object)  # the key of the conflict just decided

    def __init__(
        self,
        plan: MergeResult,
        *,
        refusals: Sequence[str] = (),
        source_name: str,
        workspace_name: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("mergeDialog")
        self.setWindowTitle(f"Import {one_line(source_name, 80)} into {workspace_name}")
        self.resize(1080, 680)
        self._plan = plan
        self._refusals = tuple(refusals)
        self._resolutions: dict[Key, Choice] = {}
        self._result = plan
        self.conflicts: tuple[Conflict, ...] = tuple(
            sorted(plan.conflicts, key=lambda c: _order(plan, c))
        )
        self.editor: ValueEditor | None = None

        self.summary = plain_label(summary(plan, self._refusals), object_name="mergeSummary")
        self.status = plain_label(object_name="mergeStatus")
        self.problems = QListWidget()
        self.problems.setObjectName("mergeProblems")
        self.problems.setWordWrap(True)
        self.problems.setFocusPolicy(Qt.FocusPolicy.NoFocus)

        self.conflict_list = QListWidget()
        self.conflict_list.setObjectName("mergeConflictList")
        self.conflict_list.setMinimumWidth(260)
        self.conflict_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.conflict_list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.compare = ComparePanel(self._sub_headings(plan, source_name, workspace_name))
        self.decision = plain_label(object_name="mergeDecision")
        self.effect = plain_label(object_name="dialogHint")
        self.keep_ours = QPushButton("Keep the workspace's")
        self.take_theirs = QPushButton("Take the file's")
        self.write_own = QPushButton("Write my own…")
        for button in (self.keep_ours, self.take_theirs, self.write_own):
            button.setAutoDefault(False)
        self.keys = plain_label(
            "j / k or ↓ / ↑: next / previous conflict  ·  1: keep the workspace's  ·  "
            "2: take the file's",
            object_name="dialogHint",
        )
        self.conflicts_page = self._conflicts_page()
        self.changes = ChangesTree()
        self.changes.show_changes(plan, plan.changes)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("mergeTabs")
        self.tabs.addTab(self.conflicts_page, f"Conflicts ({len(self.conflicts):,})")
        self.tabs.addTab(self.changes, f"Changes that apply ({len(plan.changes):,})")

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.apply_button = buttons.addButton("Apply", QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.status)
        layout.addWidget(self.problems)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(buttons)

        self.conflict_list.currentRowChanged.connect(self._on_conflict_list_current_row_changed)
        self.keep_ours.clicked.connect(self.choose_ours)
        self.take_theirs.clicked.connect(self.choose_theirs)
        self.write_own.clicked.connect(self.open_editor)
        self._keys()

        for conflict in self.conflicts:
            item = QListWidgetItem(self._entry(conflict))
            item.setToolTip(plain_tooltip(self._entry(conflict)))
            self.conflict_list.addItem(item)
        self.tabs.setVisible(not plan.nothing_to_do or bool(self._refusals))
        if self.conflicts:
            self.conflict_list.setCurrentRow(0)
            self.conflict_list.setFocus()
        else:
            self._show_current()
            self.tabs.setCurrentWidget(self.changes)
        self._update()

    # -- what the caller reads ---------------------------------------------------------------

    @property
    def refused(self) -> bool:
        """Nothing may be applied whatever is decided.

        The caller refused the file, or the funnel breaks with no conflict left to change it.
        """
        return bool(self._refusals) or (bool(self._plan.problems) and not self._plan.conflicts)

    def resolutions(self) -> dict[Key, Choice]:
        """The decisions so far: ``{(item_id, field): "ours" | "theirs" | Custom(value)}``."""
        return dict(self._resolutions)

    def resolved(self) -> MergeResult:
        """The plan with the decisions applied (:func:`resolve`), validated again."""
        return self._result

    def current(self) -> Conflict | None:
        row = self.conflict_list.currentRow()
        return self.conflicts[row] if 0 <= row < len(self.conflicts) else None

    def can_apply(self) -> bool:
        return (
            not self.refused
            and not self._plan.nothing_to_do
            and len(self._resolutions) == len(self.conflicts)
            and not self._result.problems
        )

    # -- decisions ---------------------------------------------------------------------------

    def choose_ours(self) -> None:
        self.decide(OURS)

    def choose_theirs(self) -> None:
        self.decide(THEIRS)

    def decide(self, choice: Choice) -> None:
        """Decide the conflict shown, resolve again, and open the next undecided one."""
        conflict = self.current()
        if conflict is None or self.refused:
            return
        self._resolutions[conflict.key] = choice
        self._result = resolve(self._plan, self._resolutions)
        row = self.conflict_list.currentRow()
        self.conflict_list.item(row).setText(self._entry(conflict))
        self.conflict_list.item(row).setToolTip(plain_tooltip(self._entry(conflict)))
        self._update()
        self.decided.emit(conflict.key)
        nxt = self._next_undecided(row)
        if nxt is None or nxt == row:
            self._show_current()
        else:
            self.conflict_list.setCurrentRow(nxt)

    def open_editor(self) -> None:
        """Open the small editor for the conflict shown (text, numbers and dates only)."""
        conflict = self.current()
        spec = editable(conflict) if conflict is not None else None
        if conflict is None or spec is None or self.refused:
            return
        chosen = self._resolutions.get(conflict.key)
        start = (
            chosen.value
            if isinstance(chosen, Custom)
            else conflict.theirs
            if chosen == THEIRS
            else conflict.ours
        )
        what = capitalized(heading(self._plan, conflict.section, conflict.item_id))
        if conflict.section is not Section.DOCUMENT:
            what += f" · {field_label(conflict.field)}"
        self.editor = ValueEditor(what, spec, start, self)
        self.editor.accepted.connect(self._on_editor_accepted)
        self.editor.open()

    def _on_editor_accepted(self) -> None:
        if self.editor is not None:
            self.decide(Custom(self.editor.value))

    def accept(self) -> None:
        if self.can_apply():  # Apply is off otherwise; Enter must not get round it
            super().accept()

    # -- moving through the conflicts ----------------------------------------------------------

    def next_conflict(self) -> None:
        self._move(1)

    def previous_conflict(self) -> None:
        self._move(-1)

    def _move(self, step: int) -> None:
        row = self.conflict_list.currentRow() + step
        if 0 <= row < self.conflict_list.count():
            self.conflict_list.setCurrentRow(row)

    def _next_undecided(self, row: int) -> int | None:
        n = len(self.conflicts)
        for offset in range(1, n + 1):
            i = (row + offset) % n
            if self.conflicts[i].key not in self._resolutions:
                return i
        return None

    def _keys(self) -> None:
        context = Qt.ShortcutContext.WidgetWithChildrenShortcut
        for keys, slot in (
            ("J", self.next_conflict),
            ("Down", self.next_conflict),
            ("K", self.previous_conflict),
            ("Up", self.previous_conflict),
            ("1", self.choose_ours),
            ("2", self.choose_theirs),
        ):
            shortcut = QShortcut(QKeySequence(keys), self.conflicts_page, slot)
            shortcut.setContext(context)

    # -- showing -----------------------------------------------------------------------------

    @staticmethod
    def _sub_headings(plan: MergeResult, source: str, workspace: str) -> tuple[str, str, str]:
        revision = plan.theirs.base_revision
        base = f"revision {revision}" if revision is not None else "no revision named"
        if plan.theirs.exported_at is not None:
            base += f", exported {plan.theirs.exported_at.date().isoformat()}"
        return base, workspace, one_line(source, 120)

    def _conflicts_page(self) -> QWidget:
        page = QWidget()
        page.setObjectName("mergeConflictsPage")
        right = QWidget()
        side = QVBoxLayout(right)
        side.setContentsMargins(8, 0, 0, 0)
        side.addWidget(self.compare, 1)
        side.addWidget(self.decision)
        side.addWidget(self.effect)
        row = QHBoxLayout()
        for button in (self.keep_ours, self.take_theirs, self.write_own):
            row.addWidget(button)
        row.addStretch(1)
        side.addLayout(row)
        side.addWidget(self.keys)
        self.empty = plain_label(
            "No conflicts: every change applies as the merge found it (see the changes).",
            object_name="emptyNote",
        )
        side.addWidget(self.empty)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.conflict_list)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([300, 760])
        layout = QVBoxLayout(page)
        layout.addWidget(splitter)
        return page

    def _entry(self, conflict: Conflict) -> str:
        """The conflict's line in the list: its field and decision, then what it is about.

        WORKAROUND: an item view elides a multi-line text to its first line when that line
        holds a bidi isolate (FSI … PDI, as :func:`isolated` wraps a title in); on the last
        line it does not, so the title goes last.
        """
        choice = self._resolutions.get(conflict.key)
        mark = "✓" if choice is not None else "○"
        what = capitalized(heading(self._plan, conflict.section, conflict.item_id))
        decision = f"{mark} {field_label(conflict.field)}: {_choice_words(choice)}"
        return decision if conflict.section is Section.DOCUMENT else f"{decision}\n{what}"

    def _on_conflict_list_current_row_changed(self, row: int) -> None:
        self._show_current()

    def _show_current(self) -> None:
        conflict = self.current()
        has = conflict is not None
        for widget in (self.compare, self.decision, self.effect, self.keys):
            widget.setVisible(has)
        for button in (self.keep_ours, self.take_theirs, self.write_own):
            button.setVisible(has)
        self.empty.setVisible(not has)
        if conflict is None:
            return
        self.compare.show_conflict(self._plan, conflict)
        choice = self._resolutions.get(conflict.key)
        self.compare.mark(1 if choice == OURS else 2 if choice == THEIRS else None)
        words = _choice_words(choice)
        if isinstance(choice, Custom):
            words += f": {one_line(shown(choice.value, self._plan))}"
        self.decision.setText(breakable(f"Your decision: {words}"))
        self.effect.setText(self._effect(conflict))
        self.effect.setVisible(bool(self.effect.text()))
        open_ = not self.refused
        self.keys.setVisible(open_)
        self.keep_ours.setEnabled(open_)
        self.take_theirs.setEnabled(open_)
        self.write_own.setEnabled(open_ and editable(conflict) is not None)
        self.write_own.setToolTip(
            ""
            if editable(conflict) is not None
            else plain_tooltip("Only text, numbers and dates can be written; choose a side.")
        )

    @staticmethod
    def _effect(conflict: Conflict) -> str:
        if conflict.field != DELETED:
            return ""
        if conflict.theirs is None:
            return (
                "Keeping the workspace's keeps it as the workspace has it; "
                "taking the file's deletes it."
            )
        return "Keeping the workspace's leaves it deleted; taking the file's brings it back."

    def _problem_line(self, problem: Problem) -> str:
        rid = problem.item_id
        if rid is None:
            return f"The document: {problem.message}"
        found = find_record(self._result, Section.ITEMS, rid)
        section = Section.ITEMS if found is not None else Section.POLICY
        return f"{capitalized(heading(self._result, section, rid))}: {problem.message}"

    PROBLEMS_HEIGHT = 120  # px the problems may take; more scroll

    def _fit_problems(self) -> None:
        """As tall as the problems' lines, up to :attr:`PROBLEMS_HEIGHT`."""
        rows = sum(self.problems.sizeHintForRow(i) for i in range(min(self.problems.count(), 8)))
        frame = 2 * self.problems.frameWidth() + 4
        self.problems.setFixedHeight(min(rows + frame, self.PROBLEMS_HEIGHT))

    def _update(self) -> None:
        """The status line, the problems left, and whether Apply may be pressed."""
        decided, total = len(self._resolutions), len(self.conflicts)
        problems = self._result.problems
        lines: list[str] = list(self._refusals)
        if self._refusals or self._plan.nothing_to_do:
            status = ""
        elif self.refused:
            status = "Nothing can be applied. Fix the file and import it again:"
        elif decided < total:
            status = f"{decided:,} of {total:,} decided."
            if problems:
                status += " As decided so far, the result would break the funnel:"
        elif problems:
            status = (
                "As decided, the result would break the funnel, so nothing can be applied. "
                "Change a decision, or fix the file and import it again:"
            )
        else:
            status = (
                "Everything is decided: Apply imports the file."
                if total
                else "Apply imports the file."
            )
        lines += [self._problem_line(p) for p in problems]
        self.status.setText(status)
        self.status.setVisible(bool(status))
        self.status.setProperty("problem", bool(problems) or self.refused)
        self.status.style().unpolish(self.status)
        self.status.style().polish(self.status)
        self.problems.clear()
        for line in lines:
            item = QListWidgetItem(breakable(one_line(line, 1000)))
            item.setToolTip(plain_tooltip(line[:4000]))
            self.problems.addItem(item)
        self.problems.setVisible(bool(lines))
        self._fit_problems()
        self.apply_button.setEnabled(self.can_apply())
