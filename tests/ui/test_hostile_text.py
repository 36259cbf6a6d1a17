"""Hostile text (HTML, Qt rich-text tags, bidi overrides, zero-width characters, a 10,000-character
message) reads as typed in the list, the thread, its activity and the tooltips."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from PySide6.QtCore import Qt
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import QLabel
from sqlalchemy import select, update

from app.config import LocalPrefs
from app.models import Author, Conversation, Message
from app.services.container import Services
from app.ui.inbox.feed_model import COL_FROM, COL_PREVIEW
from app.ui.inbox.thread_view import breakable
from app.ui.labels import author_line, isolated
from app.ui.main_window import MainWindow
from tests.ui.feed import listed

MARKUP = (
    '<b>bold</b><img src="https://evil.example/x.png"> <a href="https://evil.example">click</a>'
)
BIDI = "\u202eevil.exe\u202c \u200bzero\u200dwidth\ufeff"
NAME = f"<i>Eve</i> {BIDI}"
HANDLE = "eve<b>"
LONG = (MARKUP + " " + BIDI + " ") * 80
LONG = (LONG + "x" * 10_000)[:10_000]
PERMALINK = 'https://x.example/eve/status/1?q=<b>"&amp;'


def _shown(tooltip: str) -> str:
    doc = QTextDocument()
    doc.setHtml(tooltip)
    return doc.toPlainText()


def _hostile(s: Services) -> int:
    """The newest conversation of the default list, rewritten with hostile text everywhere."""
    with s.db.engine.begin() as conn:
        cid, author = conn.execute(
            select(Conversation.id, Conversation.author_id)
            .where(Conversation.status.in_(("new", "open", "waiting")))
            .order_by(Conversation.last_activity_at.desc(), Conversation.id.desc())
            .limit(1)
        ).one()
        conn.execute(update(Author).where(Author.id == author).values(
            display_name=NAME, handle=HANDLE))  # fmt: skip
        conn.execute(update(Conversation).where(Conversation.id == cid).values(
            preview=MARKUP, routing_reason=f"rule {MARKUP}"))  # fmt: skip
        first = conn.scalar(
            select(Message.id)
            .where(Message.conversation_id == cid)
            .order_by(Message.created_at.desc())
            .limit(1)
        )
        conn.execute(update(Message).where(Message.conversation_id == cid).values(
            permalink=PERMALINK))  # fmt: skip
        conn.execute(update(Message).where(Message.id == first).values(text=LONG))
    return int(cid)


def test_hostile_text_reads_as_typed_everywhere(
    qtbot: Any, demo_services: Services, tmp_path: Path
) -> None:
    s = demo_services
    cid = _hostile(s)
    ingrid = s.directory.person_by_email("ingrid.solberg@acme-mobility.example")
    assert ingrid is not None  # the administrator: may work conversations anywhere
    # Notes and tags are typed by people, who may paste anything: untrusted too.
    s.triage.add_note(ingrid.id, cid, f"{MARKUP}\n{BIDI}")
    s.triage.add_tag(ingrid.id, cid, "<b>vip</b>")
    window = MainWindow(s, ingrid, LocalPrefs(tmp_path / "prefs.json"))
    qtbot.addWidget(window)
    window.show()
    inbox = window.inbox
    listed(qtbot, inbox.model)
    row = inbox.model.row_of(cid)
    assert row == 0
    # The list: the model hands the text as it is; the view paints DisplayRole as plain text.
    assert inbox.model.index(row, COL_PREVIEW).data() == MARKUP
    # Name and handle each isolated here too: the override cannot swallow the handle.
    assert inbox.model.index(row, COL_FROM).data() == f"\u2068{NAME}\u2069  @\u2068{HANDLE}\u2069"

    inbox.view.move_selection(0)
    pane = inbox.thread_pane
    assert pane.texts()[-1] == LONG
    assert len(pane.texts()[-1]) == 10_000
    # Name and handle each isolated: an override in the name cannot turn the handle around.
    assert pane.title.text() == f"\u2068{NAME}\u2069  @\u2068{HANDLE}\u2069"
    assert pane.routing.text() == f"Routing: rule {MARKUP}"
    # The long message wraps inside the pane (no cut-off "word"), every character kept.
    bubble = pane.bubbles[-1]
    assert bubble.minimumSizeHint().width() <= 300  # unbroken, the x-run alone is ~5,600 px
    assert bubble.body.text().replace("\u200b", "") == LONG.replace("\u200b", "")
    for label in pane.findChildren(QLabel):
        assert label.textFormat() == Qt.TextFormat.PlainText, label.objectName()
    # Tooltips: the author's full name and the link read back as typed.
    # (HTML collapses the two spaces between name and handle: compare what a person reads)
    assert _shown(pane.title.toolTip()).split() == pane.title.text().split()
    assert _shown(pane.link_button.toolTip()) == PERMALINK
    assert "<b>" not in pane.title.toolTip()
    # The activity: the note's text and the tag, literally.
    bodies = [e.text for e in pane.entries if e.body is not None]
    assert bodies == [f"{MARKUP}\n{BIDI}"]
    assert "<b>vip</b>" in pane.tags.text()
    assert any("tagged it “<b>vip</b>”" in e.heading.text() for e in pane.entries)


@given(st.text(max_size=400))
def test_breakable_only_adds_break_opportunities(text: str) -> None:
    shown = breakable(text)
    assert shown.replace("\u200b", "") == text.replace("\u200b", "")
    assert all(len(run) <= 30 for run in re.split(r"[\s\u200b]", shown))


def test_a_long_word_gets_a_break_every_30_characters() -> None:
    zw = "\u200b"
    assert breakable("a" * 70 + " b") == "a" * 30 + zw + "a" * 30 + zw + "a" * 10 + " b"
    assert breakable("short words stay") == "short words stay"


def test_an_unclosed_override_stays_inside_the_name() -> None:
    line = author_line("\u202eevil", "handle")
    assert line == "\u2068\u202eevil\u2069  @\u2068handle\u2069"
    assert author_line("", None) == "\u2068Unknown author\u2069"
    assert isolated("") == ""


def test_the_permalink_opens_only_on_click_and_only_a_web_link(
    qtbot: Any, demo_services: Services, tmp_path: Path, monkeypatch: Any
) -> None:
    from PySide6.QtGui import QDesktopServices

    opened: list[str] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url.toString()))
    s = demo_services
    cid = _hostile(s)
    ingrid = s.directory.person_by_email("ingrid.solberg@acme-mobility.example")
    assert ingrid is not None
    window = MainWindow(s, ingrid, LocalPrefs(tmp_path / "prefs.json"))
    qtbot.addWidget(window)
    window.show()
    listed(qtbot, window.inbox.model)
    window.inbox.view.move_selection(0)
    pane = window.inbox.thread_pane
    assert pane.shown_thread is not None
    assert pane.shown_thread.conversation.id == cid
    assert opened == []  # showing the thread opens nothing
    qtbot.mouseClick(pane.link_button, Qt.MouseButton.LeftButton)
    assert len(opened) == 1
    assert opened[0].startswith("https://x.example/eve/status/1")

    with s.db.engine.begin() as conn:
        conn.execute(update(Message).where(Message.conversation_id == cid).values(
            permalink="javascript:alert(1)"))  # fmt: skip
    window.inbox.view.move_selection(1)
    window.inbox.view.move_selection(-1)
    assert pane.permalink is None
    assert pane.link_button.isHidden()
