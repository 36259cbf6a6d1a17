"""The compose text box: plain text, the policy's findings underlined, each with its tooltip.

Findings come with ranges in Python characters (code points); a QTextDocument counts UTF-16
code units, so an emoji beyond U+FFFF takes two positions there. :func:`utf16_offsets` maps
one to the other (nothing to map for a text without such characters, the usual case).

The underlines are extra selections (nothing in the document changes, so undo, the cursor
and the autosaved text are untouched): a red wavy line under what blocks, an amber one under
what warns. Hovering a finding shows what it means.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QColor, QHelpEvent, QKeyEvent, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QPlainTextEdit, QTextEdit, QToolTip, QWidget

from app.domain.policy import Severity
from app.services.draft_compose import Mark
from app.ui.labels import plain_tooltip

BLOCK_COLOUR = QColor("#d93025")
WARN_COLOUR = QColor("#e8a200")
SEVERITY_WORDS = {Severity.BLOCK: "Blocks", Severity.WARN: "Warns"}


def utf16_offsets(text: str) -> list[int] | None:
    """Where each code point starts in UTF-16 units (one more entry: the end); None if the same."""
    if text.isascii() or max(text, default="\0") <= "\uffff":
        return None
    out = [0] * (len(text) + 1)
    units = 0
    for i, c in enumerate(text):
        out[i] = units
        units += 2 if c > "\uffff" else 1
    out[len(text)] = units
    return out


def _formats() -> dict[Severity, QTextCharFormat]:
    formats: dict[Severity, QTextCharFormat] = {}
    for severity, colour in ((Severity.BLOCK, BLOCK_COLOUR), (Severity.WARN, WARN_COLOUR)):
        f = QTextCharFormat()
        f.setUnderlineStyle(QTextCharFormat.UnderlineStyle.WaveUnderline)
        f.setUnderlineColor(colour)
        formats[severity] = f
    return formats


class ComposeEditor(QPlainTextEdit):
    """A plain-text box that underlines :class:`~app.services.draft_compose.Mark` ranges."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("composeEditor")
        self.setTabChangesFocus(True)  # Tab leaves the box (the keyboard reaches the buttons)
        self.marks: tuple[Mark, ...] = ()
        self._spans: list[tuple[int, int, Mark]] = []  # in document positions
        self._formats = _formats()
        self.viewport().installEventFilter(self)

    def insertFromMimeData(self, source: object) -> None:
        """Pasted text arrives as plain text, never as rich text."""
        text = source.text() if hasattr(source, "text") else ""
        if text:
            self.insertPlainText(text)

    def show_marks(self, marks: Sequence[Mark], text: str) -> None:
        """Underline ``marks`` (ranges in ``text``'s code points, ``text`` as the box holds it)."""
        self.marks = tuple(marks)
        offsets = utf16_offsets(text)
        selections: list[QTextEdit.ExtraSelection] = []
        self._spans = []
        document = self.document()
        for mark in self.marks:
            if mark.end <= mark.start:
                continue  # a missing disclaimer: listed, nothing to underline
            start = offsets[mark.start] if offsets else mark.start
            end = offsets[mark.end] if offsets else mark.end
            cursor = QTextCursor(document)
            cursor.setPosition(start)
            cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
            selection = QTextEdit.ExtraSelection()
            selection.cursor = cursor
            selection.format = self._formats[mark.severity]
            selections.append(selection)
            self._spans.append((start, end, mark))
        self._spans.sort(key=lambda s: s[0])
        self.setExtraSelections(selections)

    def marks_at(self, position: int) -> list[Mark]:
        """The marks whose range holds the document position ``position``."""
        starts = [s[0] for s in self._spans]
        upto = bisect.bisect_right(starts, position)
        return [m for s, e, m in self._spans[:upto] if s <= position < e]

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.viewport() and event.type() == QEvent.Type.ToolTip:
            assert isinstance(event, QHelpEvent)
            cursor = self.cursorForPosition(event.pos())
            found = self.marks_at(cursor.position())
            if found:
                QToolTip.showText(event.globalPos(), tooltip_for(found), self.viewport())
            else:
                QToolTip.hideText()
            return True
        return super().eventFilter(watched, event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            event.ignore()  # the pane's host decides (the inline reply closes)
            return
        super().keyPressEvent(event)


def mark_line(mark: Mark, every: int) -> str:
    """A finding as the list shows it: "Blocks: … (for @acme)" when not for every account."""
    where = "" if len(mark.accounts) >= every else f" (for {', '.join(mark.accounts)})"
    return f"{SEVERITY_WORDS[mark.severity]}: {mark.message}{where}"


def tooltip_for(marks: Sequence[Mark]) -> str:
    """What the findings under the mouse mean, as a plain-text tooltip."""
    lines = []
    for mark in marks:
        if mark.severity is Severity.BLOCK:
            meaning = "it cannot go out like this"
        elif mark.requires_approval:
            meaning = "it can go out once approved"
        else:
            meaning = "check it before it goes out"
        lines.append(f"{SEVERITY_WORDS[mark.severity]} ({meaning}): {mark.message}")
    return plain_tooltip("\n".join(lines))
