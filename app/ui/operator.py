"""The person acting in this window: one object every screen reads at the moment it acts."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from app.domain.rows import PersonRow


class OperatorBinding(QObject):
    """Who acts now. Screens keep this, never the person: a switch reaches them all at once.

    ``changed`` is emitted with the new person after :meth:`switch`; screens then check again
    what the person may do there.
    """

    changed = Signal(object)  # PersonRow

    def __init__(self, person: PersonRow, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._person = person

    @property
    def person(self) -> PersonRow:
        return self._person

    @property
    def id(self) -> int:
        return self._person.id

    @property
    def name(self) -> str:
        return self._person.name

    def switch(self, person: PersonRow) -> None:
        if person == self._person:
            return
        self._person = person
        self.changed.emit(person)
