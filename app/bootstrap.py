"""Composition root: a workspace URL in, the services every entry point uses out."""

from __future__ import annotations

from dataclasses import dataclass

from app.services.directory import DirectoryService
from app.services.inbox import InboxService
from app.storage.workspace import Database, open_database


@dataclass
class Services:
    db: Database
    inbox: InboxService
    directory: DirectoryService

    def close(self) -> None:
        self.db.close()


def build_services(workspace: str, *, create: bool = False) -> Services:
    """Open the workspace (migrating it if due) and wire the services on it.

    Raises:
        app.storage.workspace.WorkspaceError: the workspace cannot be opened.
    """
    db = open_database(workspace, create=create)
    return services_for(db)


def services_for(db: Database) -> Services:
    return Services(db=db, inbox=InboxService(db), directory=DirectoryService(db))
