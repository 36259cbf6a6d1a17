"""The inbox's triage actions, one QAction each (keys, action bar, command palette, sheet).

Each action acts as the current operator, on the conversation open in the thread pane, through
:class:`app.services.triage.TriageService` on one worker thread of its own: actions run one
after the other in the order they were asked for (a tag typed right after a claim lands after
it), and the GUI thread never waits on the database. Refusals come back as the service's words.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QWidget

from app.domain.enums import ConversationStatus
from app.domain.rows import ConversationRow
from app.services.container import Services
from app.services.triage import (
    ClaimOutcome,
    NotAllowed,
    TriageDetails,
    TriageError,
    TriageService,
)
from app.ui.inbox.hand_over_dialog import HandOverDialog
from app.ui.inbox.note_dialog import NoteDialog
from app.ui.inbox.tag_picker import TagPicker
from app.ui.operator import OperatorBinding
from app.ui.tasks import SerialTaskRunner

log = logging.getLogger("quiver.ui.inbox")

NOTHING_OPEN = "Open a conversation first (j / k move, Enter opens)."


@dataclass(frozen=True, slots=True)
class ActionOutcome:
    """What an action did, in words: ``ok`` False when it was refused (nothing changed)."""

    conversation_id: int
    ok: bool
    message: str
    details: TriageDetails | None = None  # read in the worker after the action, for the pane


@dataclass(frozen=True, slots=True)
class ActionSpec:
    name: str
    text: str
    key: str
    what: str  # for the shortcut sheet and the palette


SPECS = (
    ActionSpec("open", "Open", "Return", "open the conversation under the cursor (in the list)"),
    ActionSpec(
        "reply", "Reply", "R", "answer it, inline under the thread (Esc leaves, the draft stays)"
    ),
    ActionSpec("assign", "Assign to me", "A", "claim it (says who holds it if someone does)"),
    ActionSpec("hand_over", "Hand over…", "H", "hand it over to another unit, with a reason"),
    ActionSpec("resolve", "Resolve", "E", "resolve it (reopen a resolved one)"),
    ActionSpec("spam", "Spam", "S", "mark as spam (Not spam on a spam one)"),
    ActionSpec("tag", "Tag…", "T", "add or remove tags"),
    ActionSpec("note", "Note…", "N", "write an internal note"),
)


def _attempt(
    triage: TriageService, conversation_id: int, fn: Callable[[], Any], done: str
) -> ActionOutcome:
    """Run a service call in the worker; a refusal becomes its message (nothing was written).

    The conversation's triage details are read here too, so the GUI thread only paints.
    """
    try:
        result = fn()
    except (NotAllowed, TriageError) as exc:
        ok, message = False, str(exc)
    else:
        claim = isinstance(result, ClaimOutcome)
        ok = result.won if claim else True
        message = result.message if claim else done
    try:
        details: TriageDetails | None = triage.details(conversation_id)
    except TriageError:  # gone meanwhile
        details = None
    return ActionOutcome(conversation_id, ok, message, details)


class TriageActions(QObject):
    """Builds the actions on ``host`` (shortcuts work anywhere inside it) and runs them.

    ``current`` returns the conversation open now (None: nothing open).
    """

    changed = Signal(int, object)  # conversation id, its TriageDetails (None: gone)
    refused = Signal(str)  # an action was refused or lost a race: the words to show
    done = Signal(str)  # what an action did, for the status bar
    open_requested = Signal()
    reply_requested = Signal(object)  # the ConversationRow open now

    def __init__(
        self,
        services: Services,
        operator: OperatorBinding,
        current: Callable[[], ConversationRow | None],
        host: QWidget,
    ) -> None:
        super().__init__(host)
        self._services = services
        self._operator = operator
        self._current = current
        self._host = host
        self._runner = SerialTaskRunner(self)
        self.pending = 0  # actions asked for whose outcome has not arrived yet
        self.actions: dict[str, QAction] = {}
        handlers: dict[str, Callable[[], None]] = {
            "open": self.open_requested.emit,
            "reply": self.reply,
            "assign": self.assign_to_me,
            "hand_over": self.hand_over,
            "resolve": self.toggle_resolved,
            "spam": self.toggle_spam,
            "tag": self.tag,
            "note": self.note,
        }
        for spec in SPECS:
            action = QAction(spec.text, host)
            action.setObjectName(f"action_{spec.name}")
            if spec.name != "open":  # Enter belongs to the list (a search box keeps its own)
                action.setShortcut(QKeySequence(spec.key))
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            action.setToolTip(f"{spec.text} ({QKeySequence(spec.key).toString()})")
            action.setStatusTip(spec.what)
            action.triggered.connect(handlers[spec.name])
            host.addAction(action)
            self.actions[spec.name] = action
            self._label(spec.name, spec.text)
        self.dialog: QWidget | None = None  # the dialog open now (tests drive it by keys)

    def bar_actions(self) -> list[QAction]:
        names = ("reply", "assign", "hand_over", "resolve", "spam", "tag", "note")
        return [self.actions[n] for n in names]

    def follow(self, row: ConversationRow | None) -> None:
        """Label the toggles for the conversation open now (Reopen, Not spam)."""
        resolved = row is not None and row.status == ConversationStatus.RESOLVED
        spam = row is not None and row.status == ConversationStatus.SPAM
        self._label("resolve", "Reopen" if resolved else "Resolve")
        self._label("spam", "Not spam" if spam else "Spam")
        for name in ("reply", "assign", "hand_over", "resolve", "spam", "tag", "note"):
            self.actions[name].setEnabled(row is not None)

    def _label(self, name: str, text: str) -> None:
        """The action's text; its button shows the key beside it ("Resolve  E")."""
        action = self.actions[name]
        action.setText(text)
        key = action.shortcut().toString()
        action.setIconText(f"{text}  {key}" if key else text)
        action.setToolTip(f"{text} ({key})" if key else text)

    # -- the actions ----------------------------------------------------------------------

    def _open(self) -> ConversationRow | None:
        row = self._current()
        if row is None:
            self.refused.emit(NOTHING_OPEN)
        return row

    def _run(self, cid: int, fn: Callable[[], Any], done: str) -> None:
        self.pending += 1
        triage = self._services.triage
        self._runner.submit(
            lambda: _attempt(triage, cid, fn, done), self._on_outcome, self._on_failed
        )

    def reply(self) -> None:
        row = self._open()
        if row is not None:
            self.reply_requested.emit(row)

    def assign_to_me(self) -> None:
        row = self._open()
        if row is None:
            return
        me, triage = self._operator.id, self._services.triage
        self._run(row.id, lambda: triage.claim(me, row.id), "You claimed it.")

    def toggle_resolved(self) -> None:
        row = self._open()
        if row is None:
            return
        me, triage = self._operator.id, self._services.triage
        if row.status == ConversationStatus.RESOLVED:
            self._run(row.id, lambda: triage.reopen(me, row.id), "Reopened.")
        else:
            self._run(row.id, lambda: triage.resolve(me, row.id), "Resolved.")

    def toggle_spam(self) -> None:
        row = self._open()
        if row is None:
            return
        me, triage = self._operator.id, self._services.triage
        if row.status == ConversationStatus.SPAM:
            self._run(
                row.id, lambda: triage.not_spam(me, row.id), "Not spam: open again, author cleared."
            )
        else:
            self._run(
                row.id, lambda: triage.mark_spam(me, row.id), "Marked as spam; the filter learns."
            )

    def hand_over(self) -> None:
        row = self._open()
        if row is None:
            return
        dialog = HandOverDialog(self._services.inbox.units(), row.unit_id, self._host)
        cid = row.id

        def accepted() -> None:
            unit_id, reason, note = dialog.chosen()
            me, triage = self._operator.id, self._services.triage
            name = dialog.unit.currentText().strip()
            self._run(
                cid,
                lambda: triage.hand_over(me, cid, unit_id, reason, note),
                f"Handed over to {name}.",
            )

        self._show(dialog, accepted)

    def tag(self) -> None:
        row = self._open()
        if row is None:
            return
        triage, cid = self._services.triage, row.id
        current = triage.social_goal(cid)
        dialog = TagPicker(
            triage.tags(cid),
            triage.tag_names(),
            self._host,
            goals=triage.social_goals(),
            goal=current[0] if current else None,
        )

        def accepted() -> None:
            add, remove = dialog.changes()
            goal_changed, goal = dialog.goal_change()
            if not add and not remove and not goal_changed:
                return
            me = self._operator.id

            def apply() -> int:
                for name in add:
                    triage.add_tag(me, cid, name)
                for name in remove:
                    triage.remove_tag(me, cid, name)
                if goal_changed:
                    triage.set_social_goal(me, cid, goal)
                return cid

            words = [f"+{t}" for t in add] + [f"-{t}" for t in remove]
            if goal_changed:
                words.append(f"social goal: {dialog.goal.currentText()}")
            self._run(cid, apply, "Tags: " + ", ".join(words))

        self._show(dialog, accepted)

    def note(self) -> None:
        row = self._open()
        if row is None:
            return
        dialog = NoteDialog(self._host)
        cid = row.id

        def accepted() -> None:
            me, text, triage = self._operator.id, dialog.text(), self._services.triage
            self._run(cid, lambda: triage.add_note(me, cid, text), "Note added.")

        self._show(dialog, accepted)

    def _show(self, dialog: Any, accepted: Callable[[], None]) -> None:
        """Open ``dialog`` window-modal without blocking (keys reach it; tests can drive it)."""
        self.dialog = dialog
        dialog.accepted.connect(accepted)
        dialog.finished.connect(self._on_dialog_finished)
        dialog.open()

    def _on_dialog_finished(self, _result: int) -> None:
        dialog, self.dialog = self.dialog, None
        if dialog is not None:
            dialog.deleteLater()
        self._host.window().activateWindow()  # the keys go on working in the list

    # -- outcomes -------------------------------------------------------------------------

    def _on_outcome(self, outcome: ActionOutcome) -> None:
        self.pending -= 1
        # A refusal or a lost claim shows the state as it is now too (someone else's change).
        self.changed.emit(outcome.conversation_id, outcome.details)
        if outcome.ok:
            self.done.emit(outcome.message)
        else:
            self.refused.emit(outcome.message)

    def _on_failed(self, message: str) -> None:
        self.pending -= 1
        log.warning("triage action failed: %s", message)
        self.refused.emit(f"That did not work: {message}")
