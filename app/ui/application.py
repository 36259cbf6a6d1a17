"""The one QApplication, named and styled as Quiver (the main window and the file editor)."""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QApplication

from app.config import RESOURCES
from app.ui.main_thread_gc import MainThreadCollector

_collector: MainThreadCollector | None = None


def styled_application() -> QApplication:
    """The running QApplication (made if there is none), with Quiver's names and style sheet.

    Garbage is collected on the GUI thread only from now on (:mod:`app.ui.main_thread_gc`).
    """
    global _collector
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("Quiver")
    app.setOrganizationName("Quiver")
    style = RESOURCES / "style" / "quiver.qss"
    if style.exists():
        app.setStyleSheet(style.read_text(encoding="utf-8"))
    if _collector is None:
        _collector = MainThreadCollector(app)
    return app
