"""The compose text box: plain text, the policy's findings underlined, each with its tooltip.

Findings come with ranges in Python characters (code points); a QTextDocument counts UTF-16
code units, so an emoji beyond U+FFFF takes two positions there. :func:`utf16_offsets` maps
one to the other (nothing to map for a text without such characters, the usual case).

The underlines are formats a QSyntaxHighlighter lays into each block (the text itself does not
change, so undo, the cursor and the autosaved text are untouched): a red wavy line under what
blocks, an amber one under what warns. Hovering a finding shows what it means.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QColor, QHelpEvent, QKeyEvent, QSyntaxHighlighter, QTextCharFormat
from PySide6.QtWidgets import QPlainTextEdit, QToolTip, QWidget

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


class _Underlines(QSyntaxHighlighter):
    """Formats the findings' ranges into each block's layout (drawn with the text, in one pass).

    Extra selections would be simpler, but QPlainTextEdit draws a block once more per
    selection: 90 findings cost 5 ms a repaint here, against 0.6 ms without.
    """

    def __init__(self, editor: ComposeEditor) -> None:
        super().__init__(editor.document())
        self._editor = editor

    def highlightBlock(self, text: str) -> None:
        block = self.currentBlock()
        for start, end, fmt in self._editor.block_spans(block.position(), block.length()):
            self.setFormat(start, end - start, fmt)


class ComposeEditor(QPlainTextEdit):
    """A plain-text box that underlines :class:`~app.services.draft_compose.Mark` ranges.

    :attr:`edited` is emitted as soon as the text changes, before the edited block is laid out
    again, so the check that answers it underlines that block in the same layout pass.
    """

    edited = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("composeEditor")
        self.setTabChangesFocus(True)  # Tab leaves the box (the keyboard reaches the buttons)
        self.marks: tuple[Mark, ...] = ()
        self._spans: list[tuple[int, int, Mark]] = []  # in document positions
        self._starts: list[int] = []
        self._formats = _formats()
        self._signatures: dict[int, tuple[tuple[int, int, Severity], ...]] = {}
        self._last_text: str | None = None
        self._edited_blocks: range = range(0)
        # Connected before the highlighter connects its own: the check runs first.
        self.document().contentsChange.connect(self._on_document_contents_change)
        self._underlines = _Underlines(self)
        self.viewport().installEventFilter(self)

    def insertFromMimeData(self, source: object) -> None:
        """Pasted text arrives as plain text, never as rich text."""
        text = source.text() if hasattr(source, "text") else ""
        if text:
            self.insertPlainText(text)

    def _on_document_contents_change(self, position: int, removed: int, added: int) -> None:
        text = self.toPlainText()
        if text == self._last_text:
            return  # formats applied (the highlighter marks the block dirty), not an edit
        self._last_text = text
        document = self.document()
        first = document.findBlock(position).blockNumber()
        last = document.findBlock(position + added).blockNumber()
        self._edited_blocks = range(first, max(first, last) + 1)  # laid out again by Qt anyway
        self.edited.emit()
        self._edited_blocks = range(0)

    def show_marks(self, marks: Sequence[Mark], text: str) -> None:
        """Underline ``marks`` (ranges in ``text``'s code points, ``text`` as the box holds it)."""
        self.marks = tuple(marks)
        offsets = utf16_offsets(text)
        spans: list[tuple[int, int, Mark]] = []
        for mark in self.marks:
            if mark.end <= mark.start:
                continue  # a missing disclaimer: listed, nothing to underline
            start = offsets[mark.start] if offsets else mark.start
            end = offsets[mark.end] if offsets else mark.end
            spans.append((start, end, mark))
        spans.sort(key=lambda s: s[0])
        self._spans = spans
        self._starts = [s[0] for s in spans]
        self._restyle()

    def _restyle(self) -> None:
        """Lay out again the blocks whose underlines changed (the edited one is done by Qt)."""
        document = self.document()
        signatures: dict[int, tuple[tuple[int, int, Severity], ...]] = {}
        for start, end, mark in self._spans:
            block = document.findBlock(start)
            while block.isValid() and block.position() < end:
                base = block.position()
                signatures.setdefault(block.blockNumber(), ())
                signatures[block.blockNumber()] += (
                    (
                        max(start, base) - base,
                        min(end, base + block.length()) - base,
                        mark.severity,
                    ),
                )
                block = block.next()
        changed = {n for n in signatures.keys() | self._signatures.keys()}
        changed = {n for n in changed if signatures.get(n) != self._signatures.get(n)}
        self._signatures = signatures
        for number in sorted(changed):
            if number in self._edited_blocks:
                continue  # the highlighter formats it next, with these spans
            block = document.findBlockByNumber(number)
            if block.isValid():
                self._underlines.rehighlightBlock(block)

    def block_spans(self, position: int, length: int) -> list[tuple[int, int, QTextCharFormat]]:
        """The underlines within the block at ``position``, relative to it."""
        end_of_block = position + length
        upto = bisect.bisect_left(self._starts, end_of_block)
        out = []
        for start, end, mark in self._spans[:upto]:
            if end > position:
                s, e = max(start, position) - position, min(end, end_of_block) - position
                if e > s:
                    out.append((s, e, self._formats[mark.severity]))
        return out

    def underlined(self) -> list[tuple[int, int]]:
        """Every underlined range as the document lays it out (for tests)."""
        found = []
        block = self.document().firstBlock()
        while block.isValid():
            layout = block.layout()
            for r in layout.formats() if layout is not None else ():
                if r.format.underlineStyle() != QTextCharFormat.UnderlineStyle.NoUnderline:
                    found.append(
                        (block.position() + r.start, block.position() + r.start + r.length)
                    )
            block = block.next()
        return found

    def marks_at(self, position: int) -> list[Mark]:
        """The marks whose range holds the document position ``position``."""
        upto = bisect.bisect_right(self._starts, position)
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
