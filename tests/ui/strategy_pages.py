"""The Strategy screen for the UI tests: a page as a demo person, shown and loaded."""

from __future__ import annotations

from typing import Any

from app.services.container import Services
from app.ui.operator import OperatorBinding
from app.ui.strategy.strategy_page import StrategyPage

LOAD_MS = 8000


def strategy_page(qtbot: Any, s: Services, local: str) -> StrategyPage:
    """The page as the demo person ``local`` (``helena.marsh``), once its strategy is read."""
    person = s.directory.person_by_email(f"{local}@acme-mobility.example")
    assert person is not None
    binding = OperatorBinding(person)
    page = StrategyPage(s, binding)
    page._binding = binding  # type: ignore[attr-defined]  # kept alive with the page
    qtbot.addWidget(page)
    page.resize(1424, 860)
    with qtbot.waitSignal(page.editor.loaded, timeout=LOAD_MS):
        page.show()
    return page
