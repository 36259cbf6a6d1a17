"""The set-up assistant of a new workspace: organization, hours, you, the first units, Finish."""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from app.domain.hours import WEEKDAY_NAMES, WEEKDAYS, HoursError, Schedule, check_schedule
from app.domain.setup import (
    SUGGESTED_UNITS,
    OrganizationSetup,
    SetupError,
    clean_email,
    clean_name,
    plan_setup,
)
from app.services.container import Services
from app.services.organization import SetupDone
from app.ui.setup.widgets import (
    TimeZoneChooser,
    UnitsEditor,
    WeekHoursEditor,
    heading,
    hint,
    plain,
    system_time_zone,
)

log = logging.getLogger("quiver.ui.setup")
ERROR_STYLE = "color: #b42318;"


def _error_label() -> QLabel:
    label = plain(name="setupError")
    label.setStyleSheet(ERROR_STYLE)
    return label


class OrganizationPage(QWizardPage):
    def __init__(self, workspace: str) -> None:
        super().__init__()
        self.setTitle("Your organization")
        self.setSubTitle(
            "One workspace holds one organization: its units, people, accounts and strategy."
        )
        intro = hint(
            "Welcome to Quiver. Four short steps set up this workspace: your organization, "
            "its time zone and business hours, you as its first administrator, and its first "
            "units. Then the inbox opens, ready for a first account."
            + (f"\n\nWorkspace: {workspace}" if workspace else "")
        )
        self.name = QLineEdit()
        self.name.setObjectName("orgName")
        self.name.setPlaceholderText("e.g. Acme Mobility")
        self.name.setMaxLength(200)
        self.mission = QPlainTextEdit()
        self.mission.setObjectName("orgMission")
        self.mission.setPlaceholderText(
            "Optional: why the organization exists, in a sentence or two. It heads the strategy."
        )
        self.mission.setMaximumHeight(120)
        self.error = _error_label()
        form = QFormLayout()
        form.addRow("Name", self.name)
        form.addRow("Mission", self.mission)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addSpacing(10)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addStretch(1)
        self.registerField("orgName*", self.name)

    def validatePage(self) -> bool:
        try:
            clean_name(self.name.text(), "organization's name")
        except SetupError as exc:
            self.error.setText(str(exc))
            return False
        self.error.setText("")
        return True


class HoursPage(QWizardPage):
    def __init__(self) -> None:
        super().__init__()
        self.setTitle("Time zone and business hours")
        self.setSubTitle(
            "First-response targets are counted in business hours, in this time zone. A unit "
            "can keep other hours later."
        )
        self.zone = TimeZoneChooser(system_time_zone())
        self.hours = WeekHoursEditor()
        self.error = _error_label()
        hours_box = QVBoxLayout()
        hours_box.addWidget(heading("Open on"))
        hours_box.addWidget(self.hours)
        hours_box.addStretch(1)
        row = QHBoxLayout()
        row.addWidget(self.zone, 1)
        row.addSpacing(18)
        row.addLayout(hours_box)
        layout = QVBoxLayout(self)
        layout.addLayout(row, 1)
        layout.addWidget(self.error)

    def schedule(self) -> Schedule:
        return self.hours.schedule()

    def validatePage(self) -> bool:
        if not self.zone.zone():
            self.error.setText("Choose the time zone (clear the filter to see every zone).")
            return False
        try:
            check_schedule(self.schedule())
        except HoursError as exc:
            self.error.setText(str(exc))
            return False
        self.error.setText("")
        return True


class AdministratorPage(QWizardPage):
    def __init__(self) -> None:
        super().__init__()
        self.setTitle("You, the first administrator")
        self.setSubTitle(
            "You may do everything here: connect accounts, set up units, add people and give "
            "them roles. You are also the executive sponsor until you name another."
        )
        self.name = QLineEdit()
        self.name.setObjectName("adminName")
        self.name.setPlaceholderText("Your name, e.g. Ada Lovelace")
        self.name.setMaxLength(200)
        self.email = QLineEdit()
        self.email.setObjectName("adminEmail")
        self.email.setPlaceholderText("Your work email, e.g. ada@acme.example")
        self.email.setMaxLength(320)
        self.error = _error_label()
        form = QFormLayout()
        form.addRow("Name", self.name)
        form.addRow("Email", self.email)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addStretch(1)
        self.registerField("adminName*", self.name)
        self.registerField("adminEmail*", self.email)

    def validatePage(self) -> bool:
        try:
            clean_name(self.name.text(), "administrator's name")
            clean_email(self.email.text())
        except SetupError as exc:
            self.error.setText(str(exc))
            return False
        self.error.setText("")
        return True


class UnitsPage(QWizardPage):
    def __init__(self, assistant: SetupAssistant) -> None:
        super().__init__()
        self._assistant = assistant
        self.setTitle("Your first units")
        self.setSubTitle(
            "A suggested start: keep, rename or leave out each department, and add your own. "
            "A conversation goes to the unit that owns its account, or waits in Triage."
        )
        self.units = UnitsEditor(SUGGESTED_UNITS)
        layout = QVBoxLayout(self)
        layout.addWidget(self.units, 1)
        layout.addWidget(
            hint(
                "Untick a unit to leave it out; double-click a name (or press F2) to rename "
                "it. Units, people and roles can be changed later in Settings."
            )
        )

    def initializePage(self) -> None:
        self.units.set_root_name(" ".join(self.field("orgName").split()))

    def validatePage(self) -> bool:
        try:
            plan_setup(self._assistant.setup())
        except SetupError as exc:
            self.units.note.setText(str(exc))
            self.units.note.setStyleSheet(ERROR_STYLE)
            return False
        self.units.note.setText("")
        return True


class SummaryPage(QWizardPage):
    def __init__(self, assistant: SetupAssistant) -> None:
        super().__init__()
        self._assistant = assistant
        self.setTitle("Ready to set up")
        self.setSubTitle("Finish creates all of this at once and opens the inbox.")
        self.summary = plain(name="setupSummary")
        self.summary.hide()  # the whole text, for tests and screen readers
        self.rows: dict[str, QLabel] = {}
        form = QFormLayout()
        form.setHorizontalSpacing(18)
        form.setVerticalSpacing(8)
        for key in SUMMARY_ROWS:
            value = plain()
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.rows[key] = value
            form.addRow(heading(key), value)
        self.error = _error_label()
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.summary)
        layout.addStretch(1)
        layout.addWidget(self.error)

    def initializePage(self) -> None:
        self.error.setText("")
        setup = self._assistant.setup()
        self.summary.setText(describe(setup))
        for key, value in summary_rows(setup).items():
            self.rows[key].setText(value)

    def validatePage(self) -> bool:
        try:
            self._assistant.outcome = self._assistant.services.organization.set_up(
                self._assistant.setup()
            )
        except SetupError as exc:
            self.error.setText(str(exc))
            return False
        except Exception as exc:  # a database error: say it, keep what was entered
            log.exception("the set-up failed")
            self.error.setText(
                f"The workspace could not be set up ({exc.__class__.__name__}: {exc}). Nothing "
                "was saved; check the workspace and try Finish again."
            )
            return False
        return True


class SetupAssistant(QWizard):
    """Runs on a workspace with no organization yet; :attr:`outcome` is what Finish made."""

    def __init__(
        self, services: Services, workspace: str = "", parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.services = services
        self.outcome: SetupDone | None = None
        self.setObjectName("setupAssistant")
        self.setWindowTitle(f"Set up Quiver — {workspace}" if workspace else "Set up Quiver")
        self.setWizardStyle(QWizard.WizardStyle.ModernStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnStartPage, True)
        self.setButtonText(QWizard.WizardButton.FinishButton, "Set up and open the inbox")
        self.setMinimumSize(860, 640)
        self.organization = OrganizationPage(workspace)
        self.hours = HoursPage()
        self.administrator = AdministratorPage()
        self.units = UnitsPage(self)
        self.summary = SummaryPage(self)
        for page in (self.organization, self.hours, self.administrator, self.units, self.summary):
            self.addPage(page)

    def setup(self) -> OrganizationSetup:
        """What the pages hold now."""
        return OrganizationSetup(
            name=self.organization.name.text(),
            mission=self.organization.mission.toPlainText(),
            admin_name=self.administrator.name.text(),
            admin_email=self.administrator.email.text(),
            time_zone=self.hours.zone.zone() or "UTC",
            business_hours=self.hours.schedule(),
            units=tuple(self.units.units.names()),
        )


SUMMARY_ROWS = (
    "Organization",
    "Mission",
    "Time zone",
    "Business hours",
    "First administrator",
    "Executive sponsor",
    "Units",
)


def summary_rows(setup: OrganizationSetup) -> dict[str, str]:
    """The summary page's rows: everything Finish will create."""
    try:
        plan = plan_setup(setup)
    except SetupError as exc:
        return dict.fromkeys(SUMMARY_ROWS, "") | {"Organization": f"Not ready yet: {exc}"}
    units = [plan.root.name] + [
        f"    {u.name}" + ("  (what no rule claims waits here)" if u.is_triage else "")
        for u in plan.children
    ]
    return {
        "Organization": plan.name,
        "Mission": plan.mission or "(none yet: write it in the strategy later)",
        "Time zone": plan.time_zone,
        "Business hours": hours_text(plan.business_hours),
        "First administrator": f"{plan.admin_name} <{plan.admin_email}> (you)",
        "Executive sponsor": f"{plan.admin_name}, until you name another",
        "Units": "\n".join(units),
    }


def describe(setup: OrganizationSetup) -> str:
    """The summary page's text: everything Finish will create."""
    try:
        plan = plan_setup(setup)
    except SetupError as exc:
        return f"Not ready yet: {exc}"
    lines = [
        f"Organization: {plan.name}",
        f"Mission: {plan.mission}" if plan.mission else "Mission: (none yet)",
        f"Time zone: {plan.time_zone}",
        f"Business hours: {hours_text(plan.business_hours)}",
        f"First administrator and executive sponsor: {plan.admin_name} <{plan.admin_email}>",
        "",
        "Units:",
        f"    {plan.root.name}",
    ]
    for unit in plan.children:
        note = " (what no rule claims waits here)" if unit.is_triage else ""
        lines.append(f"        {unit.name}{note}")
    return "\n".join(lines)


def hours_text(schedule: Schedule) -> str:
    """How the week reads: "Monday to Friday 09:00-17:00; Saturday, Sunday closed"."""
    groups: list[tuple[list[str], str]] = []
    for day in WEEKDAYS:
        spans = schedule.get(day) or []
        text = ", ".join(f"{a}-{b}" for a, b in spans) if spans else "closed"
        if groups and groups[-1][1] == text:
            groups[-1][0].append(day)
        else:
            groups.append(([day], text))
    parts = []
    for days, text in groups:
        names = [WEEKDAY_NAMES[d] for d in days]
        who = f"{names[0]} to {names[-1]}" if len(names) > 2 else ", ".join(names)
        parts.append(f"{who} {text}")
    return "; ".join(parts)
