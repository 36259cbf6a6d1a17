"""End to end on the real main window, sign-in on: a reply that needs approval, from the
agent's keyboard to the Sandbox network.

Tom (an agent of Orders & Delivery) answers an upset customer; a reply in a negative
conversation needs a supervisor. Marcus signs in, rejects it with a reason; Tom signs in again,
reads the reason on his draft, rewrites it and submits it; Marcus approves the new version; the
window's outbox publishes it, and the conversation shows the reply.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QDialogButtonBox
from sqlalchemy import select, update

from app.bootstrap import sandbox_network_for
from app.config import LocalPrefs
from app.domain.enums import DraftState
from app.models import Account, Conversation, Draft, Message
from app.models.base import to_epoch_ms
from app.services.container import Services
from app.ui.app import switch_operator
from app.ui.main_window import MainWindow
from app.ui.operator_dialog import OperatorDialog, SignInDialog
from tests.integration.demo_lookup import person_id, unit_id
from tests.ui.feed import listed

TOM = "tom.becker@acme-mobility.example"
MARCUS = "marcus.kelly@acme-mobility.example"
ADMIN = "ingrid.solberg@acme-mobility.example"
SECRET = "a passphrase of five plain words"
WAIT_MS = 10_000
FIRST = "So sorry about the broken rack. We will replace the rack for free!"
SECOND = "So sorry about the broken rack. A new rack is on its way to you today."


def _sign_in_as(qtbot: Any, window: MainWindow, prefs: LocalPrefs, email: str) -> None:
    """File > Switch operator…: choose the person, give their passphrase (as a person would)."""

    def answer() -> None:
        dialog = QApplication.activeModalWidget()
        if isinstance(dialog, OperatorDialog):
            dialog.search.setText(email)
            shown = [
                dialog.list.item(i)
                for i in range(dialog.list.count())
                if not dialog.list.item(i).isHidden()
            ]
            dialog.list.setCurrentItem(shown[0])
            dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
        elif isinstance(dialog, SignInDialog):
            qtbot.keyClicks(dialog.passphrase, SECRET)
            dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()

    timer = QTimer()
    timer.timeout.connect(answer)
    timer.start(30)
    try:
        switch_operator(window, prefs)
    finally:
        timer.stop()
    assert window.operator.email == email
    assert window.operator_label.text() == f"Acting as {window.operator.name}"
    window.activateWindow()  # back from the dialogs
    qtbot.waitUntil(window.isActiveWindow, timeout=WAIT_MS)


def _upset_customer(s: Services) -> int:
    """A public Sandbox conversation of Orders & Delivery, negative, the newest there."""
    orders = unit_id(s, "Orders & Delivery")
    with s.db.engine.begin() as conn:
        cid = conn.scalar(
            select(Conversation.id)
            .join(Account, Account.id == Conversation.account_id)
            .where(Account.handle == "acmecare", Conversation.thread_type == "sandbox_thread")
            .order_by(Conversation.id)
            .limit(1)
        )
        assert cid is not None
        conn.execute(
            update(Conversation)
            .where(Conversation.id == cid)
            .values(
                unit_id=orders,
                status="open",
                sentiment=-0.8,
                assignee_id=None,
                last_activity_at=to_epoch_ms(datetime.now(UTC)),
            )
        )
    return int(cid)


def _open_in_inbox(qtbot: Any, window: MainWindow, cid: int) -> None:
    """The unit's list, the conversation clicked open, the keyboard's focus on the list."""
    window.show_screen("Inbox")
    inbox = window.inbox
    inbox.unit_tree.select_unit(unit_id(window.services, "Orders & Delivery"))
    listed(qtbot, inbox.model)
    inbox.model.fetch_to_end()
    row = inbox.model.row_of(cid)
    assert row is not None
    inbox.view.scrollTo(inbox.model.index(row, 0))
    rect = inbox.view.visualRect(inbox.model.index(row, 0))
    qtbot.mouseClick(inbox.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(
        lambda: inbox.open_row() is not None and inbox.open_row().id == cid,  # type: ignore[union-attr]
        timeout=WAIT_MS,
    )
    inbox.view.setFocus()


def _decide(qtbot: Any, window: MainWindow, key: Any, reason: str | None, draft_id: int) -> None:
    """On the Approvals screen: the draft, then Y (approve) or X (reject) with a reason."""
    window.show_screen("Approvals")
    page = window.approvals
    page.reload()
    qtbot.waitUntil(lambda: page.model.row_of(draft_id) is not None, timeout=WAIT_MS)
    page.show_draft(draft_id)
    qtbot.waitUntil(
        lambda: page.detail.view is not None and page.detail.view.id == draft_id, timeout=WAIT_MS
    )
    page.view.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is page.view, timeout=WAIT_MS)
    with qtbot.waitSignal(page.outcome_shown, timeout=WAIT_MS) as done:
        qtbot.keyClick(page.view, key)
        if reason is not None:
            qtbot.waitUntil(
                lambda: page.dialog is not None and page.dialog.isVisible(), timeout=WAIT_MS
            )
            dialog = page.dialog
            assert dialog is not None
            qtbot.waitUntil(
                lambda: dialog.isAncestorOf(QApplication.focusWidget()), timeout=WAIT_MS
            )
            qtbot.keyClicks(QApplication.focusWidget(), reason)
            qtbot.keyClick(
                QApplication.focusWidget(), Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier
            )
    assert done.args[0].ok


def test_a_reply_is_rejected_rewritten_approved_and_published(
    qtbot: Any, demo_services: Services, tmp_path: Path
) -> None:
    s = demo_services
    tom, marcus, admin = (person_id(s, e.split("@")[0]) for e in (TOM, MARCUS, ADMIN))
    for person in (tom, marcus, admin):
        s.signin.set_own_passphrase(person, None, SECRET)
    s.signin.set_required(admin, True)
    cid = _upset_customer(s)
    prefs = LocalPrefs(tmp_path / "prefs.json")
    window = MainWindow(s, s.directory.person_by_email(TOM), prefs)  # type: ignore[arg-type]
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.first_page_painted, timeout=WAIT_MS):
        window.show()
    window.activateWindow()
    assert not window.trust_label.isVisible()  # sign-in is on
    window.start_publisher()

    # 1. Tom answers: r, the reply typed under the thread, Ctrl+Enter.
    _open_in_inbox(qtbot, window, cid)
    qtbot.keyClick(window.inbox.view, Qt.Key.Key_R)
    composer = window.inbox.composer
    assert composer is not None
    qtbot.waitUntil(lambda: composer.context is not None, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is composer.editor, timeout=WAIT_MS)
    qtbot.keyClicks(composer.editor, FIRST)
    qtbot.waitUntil(lambda: "supervisor" in composer.approval.text(), timeout=WAIT_MS)
    with qtbot.waitSignal(composer.submitted, timeout=WAIT_MS) as got:
        qtbot.keyClick(composer.editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    draft_id, state = got.args
    assert state == DraftState.PENDING_APPROVAL.value

    # 2. Marcus signs in and rejects it with a reason.
    _sign_in_as(qtbot, window, prefs, MARCUS)
    _decide(qtbot, window, Qt.Key.Key_X, "Don't promise 'for free': say when it ships.", draft_id)
    assert s.drafts.draft_view(draft_id).state is DraftState.REJECTED

    # 3. Tom signs in, reads the reason on his draft, rewrites it, submits the new version.
    _sign_in_as(qtbot, window, prefs, TOM)
    _open_in_inbox(qtbot, window, cid)
    qtbot.keyClick(window.inbox.view, Qt.Key.Key_R)
    composer = window.inbox.composer
    assert composer is not None
    qtbot.waitUntil(lambda: composer.draft_id == draft_id, timeout=WAIT_MS)
    assert composer.outcome.text() == (
        "Rejected by Marcus Kelly: Don't promise 'for free': say when it ships."
    )
    assert composer.text() == FIRST
    composer.editor.selectAll()
    qtbot.keyClicks(composer.editor, SECOND)
    with qtbot.waitSignal(composer.submitted, timeout=WAIT_MS) as got:
        qtbot.keyClick(composer.editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert got.args == [draft_id, DraftState.PENDING_APPROVAL.value]
    view = s.drafts.draft_view(draft_id)
    assert (view.version, view.text) == (2, SECOND)

    # 4. Marcus approves version 2; the window's outbox publishes it to the Sandbox network.
    _sign_in_as(qtbot, window, prefs, MARCUS)
    _decide(qtbot, window, Qt.Key.Key_Y, None, draft_id)

    def published() -> bool:
        with s.db.engine.connect() as conn:
            return conn.scalar(select(Draft.state).where(Draft.id == draft_id)) == "published"

    qtbot.waitUntil(published, timeout=WAIT_MS)
    sent = [w.text for w in sandbox_network_for(s.db).received("acmecare") if w.kind == "reply"]
    assert sent.count(SECOND) == 1  # the approved version, once (the demo's own replies too)
    assert FIRST not in sent  # never the rejected one

    # 5. The conversation shows the reply, sent by Tom for Orders & Delivery.
    _open_in_inbox(qtbot, window, cid)
    thread = s.inbox.thread(cid)
    assert thread is not None
    assert thread.messages[-1].text == SECOND
    assert thread.messages[-1].direction == "out"
    qtbot.waitUntil(lambda: SECOND in window.inbox.thread_pane.texts(), timeout=WAIT_MS)
    with s.db.engine.connect() as conn:
        who = conn.execute(
            select(Message.sent_by_id, Message.sent_for_unit_id).where(
                Message.conversation_id == cid, Message.text == SECOND
            )
        ).one()
    assert tuple(who) == (tom, unit_id(s, "Orders & Delivery"))
    with s.db.engine.connect() as conn:  # what was due went out; the scheduled posts wait
        states = set(conn.scalars(select(Draft.state)))
    assert not states & {"approved", "publishing"}
    left = s.publisher.waiting()  # the demo's posts scheduled for the coming days
    qtbot.waitUntil(lambda: window.outbox_label.text() == f"Outbox: {left}", timeout=WAIT_MS)
    window.close()
