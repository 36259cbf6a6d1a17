"""Tooltips show untrusted text as typed: markup stays markup, entities stay characters."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from PySide6.QtGui import QTextDocument
from sqlalchemy import update

from app.config import LocalPrefs
from app.models import Account
from app.services.container import Services
from app.ui.labels import plain_tooltip
from app.ui.main_window import MainWindow

HOSTILE = 'Acme <img src="x"> <b>bold</b> & &amp; \u202eevil\u200b\nsecond line'


def _shown(tooltip: str) -> str:
    doc = QTextDocument()
    doc.setHtml(tooltip)
    return doc.toPlainText()


def test_markup_and_entities_read_as_typed(qapp: Any) -> None:
    assert _shown(plain_tooltip(HOSTILE)) == HOSTILE
    assert "<img" not in plain_tooltip(HOSTILE).replace("&lt;img", "")


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), max_size=60))
def test_any_single_line_reads_back_as_typed(qapp: Any, text: str) -> None:
    # HTML collapses runs of spaces: compare what a person reads, word by word
    assert _shown(plain_tooltip(text)).split() == text.split()


def test_the_inbox_account_tooltip_shows_a_hostile_name_literally(
    qtbot: Any, demo_services: Services, tmp_path: Path
) -> None:
    with demo_services.db.engine.begin() as conn:
        conn.execute(update(Account).values(display_name=HOSTILE.splitlines()[0]))
    person = demo_services.directory.person_by_email("tom.becker@acme-mobility.example")
    window = MainWindow(demo_services, person, LocalPrefs(tmp_path / "prefs.json"))
    qtbot.addWidget(window)
    window.show()
    tip = window.inbox.accounts.item(0).toolTip()
    assert _shown(tip).splitlines()[0] == HOSTILE.splitlines()[0]
