"""Conversations as X thread search reads them: the recently active ones, one with its account."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Account, Conversation
from app.storage.ports import ThreadTarget


class SqlThreads:
    """:class:`app.storage.ports.ThreadRepository` on a session."""

    def __init__(self, session: Session) -> None:
        self._s = session

    def recent_threads(
        self, account_id: int, thread_type: str, since: datetime, limit: int
    ) -> list[str]:
        return list(
            self._s.execute(
                select(Conversation.external_thread_id)
                .where(
                    Conversation.account_id == account_id,
                    Conversation.thread_type == thread_type,
                    Conversation.last_activity_at >= since,
                )
                .order_by(Conversation.last_activity_at.desc(), Conversation.id.desc())
                .limit(limit)
            ).scalars()
        )

    def target(self, conversation_id: int) -> ThreadTarget | None:
        row = self._s.execute(
            select(
                Conversation.account_id,
                Conversation.thread_type,
                Conversation.external_thread_id,
                Account.state,
            )
            .join(Account, Account.id == Conversation.account_id)
            .where(Conversation.id == conversation_id)
        ).first()
        return None if row is None else ThreadTarget(*row)
