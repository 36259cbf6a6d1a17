"""Settings > Spam filter: the threshold and the spam words, with a text to try them on."""

from __future__ import annotations

from datetime import UTC, datetime

from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.domain.permissions import Action
from app.domain.rows import PersonRow
from app.domain.setup import OrganizationRow, SetupError
from app.domain.spam import SpamConfig, SpamInput, SpamSettingsError, clean_settings, score
from app.services.access import NotAllowed
from app.services.container import Services
from app.ui.labels import plain_label
from app.ui.operator import OperatorBinding


def signals_text(config: SpamConfig) -> str:
    """What adds to the score, in words, with the weights of ``config``."""
    lines = (
        f"+{config.link_only_weight:g}  the text is nothing but links",
        f"+{config.duplicate_weight:g}  the same text from {config.duplicate_authors} or more "
        "authors within 24 hours (across polls)",
        f"+{config.known_author_weight:g}  the author was marked as spam before",
        f"+{config.keyword_weight:g}  per spam word found "
        f"(at most {config.keyword_cap} of them count)",
        f"+{config.many_links_weight:g}  {config.many_links} or more links",
        f"+{config.repeat_weight:g}  a character repeated {config.repeat_run} times in a row",
    )
    return "\n".join(lines) + "\nThe score is the sum, at most 1."


class SpamTab(QWidget):
    """The workspace's spam settings; the service checks and stores them."""

    def __init__(
        self, services: Services, operator: OperatorBinding, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._services = services
        self._operator = operator
        self._saved: OrganizationRow | None = None

        self.access_note = plain_label()
        self.access_note.setObjectName("accessNote")

        self.threshold = QDoubleSpinBox()
        self.threshold.setRange(0.05, 1.0)
        self.threshold.setSingleStep(0.05)
        self.threshold.setDecimals(2)
        self.threshold.setMaximumWidth(110)
        self.threshold.setToolTip("A new conversation whose score reaches this goes to Spam.")
        self.keywords = QPlainTextEdit()
        self.keywords.setPlaceholderText("one word or phrase per line, e.g.\nfree followers")
        self.keywords.setTabChangesFocus(True)
        self.keywords.setMaximumHeight(150)
        self.save_button = QPushButton("Save")
        self.revert_button = QPushButton("Revert")
        buttons = QHBoxLayout()
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.revert_button)
        buttons.addStretch(1)
        settings = QGroupBox("This workspace")
        form = QFormLayout(settings)
        form.addRow("Spam at a score of", self.threshold)
        form.addRow("Spam words", self.keywords)
        form.addRow("", buttons)
        form.addRow(
            plain_label(
                "New conversations are scored as they arrive; stored ones keep their verdict. "
                "An agent's “Spam” or “Not spam” teaches the filter who sends spam."
            )
        )

        self.signals = plain_label(signals_text(SpamConfig()))
        weights = QGroupBox("What adds to the score")
        QVBoxLayout(weights).addWidget(self.signals)

        self.sample = QPlainTextEdit()
        self.sample.setPlaceholderText("Paste a message to see its score with the settings above")
        self.sample.setTabChangesFocus(True)
        self.sample.setMaximumHeight(90)
        self.verdict = plain_label()
        self.verdict.setObjectName("spamVerdict")
        trial = QGroupBox("Try a text")
        box = QVBoxLayout(trial)
        box.addWidget(self.sample)
        box.addWidget(self.verdict)

        self.status = plain_label()
        self.status.setObjectName("spamStatus")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 16, 18, 16)
        for widget in (self.access_note, settings, weights, trial, self.status):
            layout.addWidget(widget)
        layout.addStretch(1)

        self.save_button.clicked.connect(self._on_save_button_clicked)
        self.revert_button.clicked.connect(self.refresh)
        self.threshold.valueChanged.connect(self._on_settings_edited)
        self.keywords.textChanged.connect(self._on_settings_edited)
        self.sample.textChanged.connect(self._show_verdict)
        operator.changed.connect(self._on_operator_changed)
        self.refresh()

    def refresh(self) -> None:
        """The stored settings, and whether the current operator may change them."""
        row = self._services.organization.organization()
        self._saved = row
        if row is not None:
            self.threshold.setValue(row.spam_threshold)
            self.keywords.setPlainText("\n".join(row.spam_keywords))
        decision = self._services.access.decide(
            self._operator.id, Action.MANAGE_WORKSPACE, doing="change the spam filter"
        )
        self.access_note.setText(decision.reason)
        self.access_note.setVisible(not decision.allowed)
        for widget in (self.threshold, self.keywords, self.save_button, self.revert_button):
            widget.setEnabled(decision.allowed and row is not None)
        self._on_settings_edited()

    def _words(self) -> list[str]:
        return self.keywords.toPlainText().splitlines()

    def _on_operator_changed(self, _person: PersonRow) -> None:
        self.status.setText("")
        self.refresh()

    def _on_settings_edited(self) -> None:
        saved = self._saved
        edited = saved is not None and (
            round(self.threshold.value(), 2) != round(saved.spam_threshold, 2)
            or tuple(w for w in (" ".join(x.split()) for x in self._words()) if w)
            != saved.spam_keywords
        )
        self.save_button.setDefault(edited)
        self._show_verdict()

    def _show_verdict(self) -> None:
        text = self.sample.toPlainText()
        if not text.strip():
            self.verdict.setText("")
            return
        try:
            threshold, words = clean_settings(self.threshold.value(), self._words())
        except SpamSettingsError as exc:
            self.verdict.setText(str(exc))
            return
        verdict = score(
            SpamInput(text=text, author="someone", at=datetime.now(UTC)),
            SpamConfig(threshold=threshold, keywords=words),
        )
        head = (
            f"Score {verdict.score:.2f}: spam."
            if verdict.is_spam
            else f"Score {verdict.score:.2f}: not spam (spam from {threshold:.2f})."
        )
        reasons = "\n".join(f"• {r}" for r in verdict.reasons) or "• Nothing looks like spam."
        self.verdict.setText(f"{head}\n{reasons}")

    def _on_save_button_clicked(self) -> None:
        try:
            row = self._services.organization.update_spam_settings(
                self._operator.id,
                threshold=round(self.threshold.value(), 2),
                keywords=self._words(),
            )
        except (NotAllowed, SpamSettingsError, SetupError) as exc:
            self.status.setText(str(exc))
            return
        count = len(row.spam_keywords)
        self.status.setText(
            f"Saved: spam from a score of {row.spam_threshold:.2f}, "
            f"{count} spam word{'s' if count != 1 else ''}."
        )
        self.refresh()
