"""Labels that show text literally: untrusted social text is never read as rich text."""

from __future__ import annotations

from PySide6.QtCore import Qt
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
