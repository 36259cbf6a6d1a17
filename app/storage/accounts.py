"""Accounts in SQL: polling state and cursors, connections and settings, the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from app.models import Account, AuditEntry, MetaEntry
from app.storage.ports import AccountRecord, AuditRecord, NewAccount, PollAccount, RateLimitMark

_RECORD = (
    Account.id,
    Account.uuid,
    Account.network,
    Account.handle,
    Account.unit_id,
    Account.state,
    Account.poll_interval_s,
)


class SqlAccounts:
    """:class:`app.storage.ports.AccountRepository` on a session."""

    def __init__(self, session: Session) -> None:
        self._s = session

    def poll_targets(self, account_id: int | None = None) -> list[PollAccount]:
        query = select(
            Account.id,
            Account.uuid,
            Account.network,
            Account.handle,
            Account.external_user_id,
            Account.poll_interval_s,
            Account.scopes,
            Account.token_expires_at,
            Account.state,
        )
        if account_id is not None:
            query = query.where(Account.id == account_id)
        # In a stable order: PostgreSQL returns rows in whatever order its heap holds them.
        rows = self._s.execute(query.order_by(Account.id)).all()
        return [PollAccount(*r) for r in rows]

    def rate_limit(self, account_id: int) -> RateLimitMark:
        row = self._s.execute(
            select(Account.rate_limited_until, Account.state_detail).where(Account.id == account_id)
        ).one()
        return RateLimitMark(row.rate_limited_until, row.state_detail or "")

    def cursor(self, account_id: int) -> Any:
        return self._s.execute(select(Account.cursor).where(Account.id == account_id)).scalar()

    def save_poll_state(
        self, account_id: int, state: str, detail: str, rate_limited_until: datetime | None
    ) -> None:
        self._s.execute(
            update(Account)
            .where(Account.id == account_id)
            .values(state=state, state_detail=detail, rate_limited_until=rate_limited_until)
        )

    def get(self, account_id: int) -> AccountRecord | None:
        row = self._s.execute(select(*_RECORD).where(Account.id == account_id)).first()
        return None if row is None else AccountRecord(*row)

    def find(self, network: str, external_user_id: str) -> AccountRecord | None:
        row = self._s.execute(
            select(*_RECORD)
            .where(Account.network == network, Account.external_user_id == external_user_id)
            .limit(1)
        ).first()
        return None if row is None else AccountRecord(*row)

    def add(self, account: NewAccount) -> int:
        row = Account(
            uuid=account.uuid,
            network=account.network,
            handle=account.handle,
            display_name=account.display_name,
            external_user_id=account.external_user_id,
            unit_id=account.unit_id,
            poll_interval_s=account.poll_interval_s,
            state=account.state,
            state_detail=account.state_detail,
            scopes=account.scopes,
            token_expires_at=account.token_expires_at,
        )
        self._s.add(row)
        self._s.flush()
        return row.id

    def set_connection(
        self,
        account_id: int,
        *,
        handle: str,
        display_name: str,
        state: str,
        state_detail: str,
        scopes: str,
        token_expires_at: datetime | None,
    ) -> None:
        self._update(
            account_id,
            handle=handle,
            display_name=display_name,
            state=state,
            state_detail=state_detail,
            scopes=scopes,
            token_expires_at=token_expires_at,
        )

    def set_state(self, account_id: int, state: str, detail: str) -> None:
        self._update(account_id, state=state, state_detail=detail)

    def set_poll_interval(self, account_id: int, seconds: int) -> None:
        self._update(account_id, poll_interval_s=seconds)

    def set_token_expiry(self, account_id: int, expires_at: datetime | None) -> None:
        self._update(account_id, token_expires_at=expires_at)

    def _update(self, account_id: int, **values: Any) -> None:
        self._s.execute(update(Account).where(Account.id == account_id).values(**values))


class SqlSettings:
    """:class:`app.storage.ports.SettingsRepository`: rows of ``workspace_meta``."""

    def __init__(self, session: Session) -> None:
        self._s = session

    def get(self, key: str) -> str | None:
        return self._s.execute(select(MetaEntry.value).where(MetaEntry.key == key)).scalar()

    def put(self, key: str, value: str) -> None:
        self._s.execute(delete(MetaEntry).where(MetaEntry.key == key))
        self._s.execute(insert(MetaEntry).values(key=key, value=value))


class SqlAuditLog:
    """:class:`app.storage.ports.AuditLog`: appends to ``audit_log``."""

    def __init__(self, session: Session) -> None:
        self._s = session

    def record(self, entry: AuditRecord) -> None:
        self._s.add(
            AuditEntry(
                at=entry.at,
                person_id=entry.person_id,
                person_name=entry.person_name,
                action=entry.action,
                entity=entry.entity,
                entity_id=entry.entity_id,
                before=entry.before,
                after=entry.after,
            )
        )
