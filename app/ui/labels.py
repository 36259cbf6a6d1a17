"""Labels that show text literally: untrusted social text is never read as rich text."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import Qt as GuiQt  # convertFromPlainText lives in QtGui's Qt namespace
from PySide6.QtWidgets import QLabel


def plain_label(
    text: str = "", *, object_name: str = "", wrap: bool = True, selectable: bool = False
) -> QLabel:
    """A QLabel showing ``text`` as plain text (``<b>`` stays ``<b>``)."""
    label = QLabel()
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setText(text)
    label.setWordWrap(wrap)
    if selectable:
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    if object_name:
        label.setObjectName(object_name)
    return label


def plain_tooltip(text: str) -> str:
    """A tooltip that shows ``text`` literally, line breaks kept.

    Tooltips guess rich text; ``html.escape`` alone would show ``&lt;`` to the reader. Qt's own
    conversion escapes the text and marks it as rich text, so it reads as typed.
    """
    return str(GuiQt.convertFromPlainText(text, GuiQt.WhiteSpaceMode.WhiteSpaceNormal))


def isolated(text: str) -> str:
    """Untrusted text between FSI and PDI, so its direction controls end where it ends.

    A right-to-left override (U+202E) in a name, closed or not, turns only that name around,
    never the "@handle" or the words after it.
    """
    return f"\u2068{text}\u2069" if text else text


def author_line(name: str | None, handle: str | None, *, unknown: str = "Unknown author") -> str:
    """An author as screens show them, "Name  @handle", each part :func:`isolated`."""
    line = isolated(name or unknown)
    return f"{line}  @{isolated(handle)}" if handle else line
