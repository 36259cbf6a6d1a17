"""Screens not built yet say plainly what they will hold (no fake buttons)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

SCREENS: dict[str, tuple[str, list[str]]] = {
    "Compose & Publishing": (
        "Write a post for one or several accounts and follow it to publication. Policy findings "
        "and length counters update as you type, and nothing goes out before the approvals it "
        "needs.",
        [
            "New posts to one or several accounts, with live length counters per network",
            "Policy findings as you type: banned and risky terms, disclaimers, link domains",
            "The outbox: queue and calendar of scheduled and published posts",
            "Publishing retries on transient errors, and a visible failure otherwise",
        ],
    ),
    "Approvals": (
        "The drafts waiting for your decision, with everything you need to decide: the "
        "conversation, the policy findings and what changed since the previous version.",
        [
            "Drafts waiting for you, by unit and age",
            "Approve, reject with a reason, or request changes",
            "The diff against the previous version; editing an approved draft voids approvals",
            "Every decision recorded in the audit log",
        ],
    ),
    "Strategy": (
        "The social strategy as a funnel: mission and business goals, department goals, "
        "audience insights, social goals with KPIs, and the tactics that serve them.",
        [
            "The funnel editor (tactics always hang off a social goal)",
            "A timeline of tactics over short, medium and long horizons",
            "Open and save a strategy file to work offline, and merge it back item by item",
        ],
    ),
    "Reports": (
        "How fast and how well each department answers, and what each social goal received.",
        [
            "Inbound volume, first-response time (median, 90th percentile), SLA attainment",
            "Resolution time, backlog, approval turnaround and rejection rate",
            "Sentiment trend and KPI progress per social goal",
            "Charts and tables per unit and period, with CSV export",
        ],
    ),
    "Settings": (
        "How the workspace is set up: accounts, units, people and the rules.",
        [
            "Accounts: connect X (OAuth in your browser) or a Facebook Page; tokens stay in the "
            "system keyring",
            "Units, people and roles",
            "Routing rules, with a preview against the last 1,000 messages",
            "Approval rules and polling intervals",
        ],
    ),
}


class PlaceholderScreen(QWidget):
    """A screen of a later version: its purpose and what it will hold."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("placeholder")
        intro, items = SCREENS[title]
        layout = QVBoxLayout(self)
        layout.setContentsMargins(48, 40, 48, 40)
        layout.setSpacing(14)
        heading = QLabel(title)
        heading.setObjectName("placeholderTitle")
        note = QLabel("Not available in this version of Quiver yet.")
        note.setObjectName("placeholderNote")
        body = QLabel(intro)
        body.setWordWrap(True)
        body.setObjectName("placeholderBody")
        what = QLabel("What will be here:")
        what.setObjectName("placeholderWhat")
        bullets = QLabel("\n".join(f"•  {item}" for item in items))
        bullets.setWordWrap(True)
        bullets.setObjectName("placeholderList")
        for label in (heading, note, body, what, bullets):
            label.setTextFormat(Qt.TextFormat.PlainText)
            label.setMaximumWidth(760)
            layout.addWidget(label)
        layout.addStretch(1)
        self.text = "\n".join(w.text() for w in (heading, note, body, what, bullets))
