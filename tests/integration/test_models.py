"""Model constraints and cascades on a real SQLite workspace (foreign keys on)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.models import (
    Account,
    Approval,
    AuditEntry,
    Author,
    Conversation,
    ConversationTag,
    Draft,
    DraftVersion,
    Message,
    Note,
    Person,
    RoleAssignment,
    Tag,
    Unit,
)
from app.models.base import from_epoch_ms, to_epoch_ms
from app.storage.workspace import Database

NOW = datetime(2026, 10, 7, 22, 43, 10, tzinfo=UTC)


def _unit(s: Session, name: str, parent: Unit | None = None) -> Unit:
    u = Unit(name=name, path=f"/tmp-{name}/", parent_id=parent.id if parent else None)
    s.add(u)
    s.flush()
    u.path = f"{parent.path if parent else '/'}{u.id}/"
    s.flush()
    return u


def _world(s: Session) -> tuple[Unit, Person, Account, Conversation]:
    unit = _unit(s, "Care")
    person = Person(name="Tom", email="tom@example.org")
    s.add(person)
    s.flush()
    account = Account(uuid="u-1", network="x", handle="acme", display_name="Acme", unit_id=unit.id)
    s.add(account)
    s.flush()
    author = Author(network="x", external_id="2244994945", display_name="Jane")
    s.add(author)
    s.flush()
    conv = Conversation(
        network="x",
        account_id=account.id,
        thread_type="x_thread",
        external_thread_id="1850000000000000001",
        kind="mention",
        unit_id=unit.id,
        author_id=author.id,
        last_activity_at=NOW,
    )
    s.add(conv)
    s.flush()
    s.add(
        Message(
            network="x",
            account_id=account.id,
            external_id="1850000000000000002",
            conversation_id=conv.id,
            author_id=author.id,
            direction="in",
            kind="mention",
            text="@acme my order never arrived",
            created_at=NOW,
            raw={"id": "1850000000000000002"},
        )
    )
    s.flush()
    return unit, person, account, conv


def test_times_round_trip_as_aware_utc(db: Database) -> None:
    with db.uow() as uow:
        _, _, _, conv = _world(uow.session)
        uow.commit()
        cid = conv.id
    with db.uow() as uow:
        stored = uow.session.get(Conversation, cid)
        assert stored is not None
        assert stored.last_activity_at == NOW
        assert stored.last_activity_at.tzinfo is not None
    with db.engine.connect() as conn:
        raw = conn.execute(text("SELECT last_activity_at FROM conversations")).scalar()
    assert raw == to_epoch_ms(NOW)
    assert from_epoch_ms(raw) == NOW


def test_naive_datetimes_are_refused(db: Database) -> None:
    with pytest.raises(ValueError, match="naive datetime"):
        to_epoch_ms(datetime(2026, 1, 1))


def test_message_dedupe_key_is_unique(db: Database) -> None:
    with db.uow() as uow:
        s = uow.session
        _, _, account, conv = _world(s)
        s.add(
            Message(
                network="x",
                account_id=account.id,
                external_id="1850000000000000002",
                conversation_id=conv.id,
                direction="in",
                kind="mention",
                text="the same tweet again",
                created_at=NOW,
            )
        )
        with pytest.raises(IntegrityError, match=r"(?i)unique constraint"):
            s.flush()


def test_conversation_key_is_unique(db: Database) -> None:
    with db.uow() as uow:
        s = uow.session
        unit, _, account, _ = _world(s)
        s.add(
            Conversation(
                network="x",
                account_id=account.id,
                thread_type="x_thread",
                external_thread_id="1850000000000000001",
                kind="mention",
                unit_id=unit.id,
                last_activity_at=NOW,
            )
        )
        with pytest.raises(IntegrityError, match=r"(?i)unique constraint"):
            s.flush()


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("status", "archived"),
        ("priority", "meh"),
        ("network", "myspace"),
        ("kind", "story"),
        ("sentiment", 1.5),
        ("message_count", -1),
    ],
)
def test_conversation_check_constraints(db: Database, column: str, value: object) -> None:
    with db.uow() as uow:
        _, _, _, conv = _world(uow.session)
        setattr(conv, column, value)
        with pytest.raises(IntegrityError, match=r"(?i)check constraint"):
            uow.session.flush()


def test_deleting_a_conversation_cascades_to_messages_notes_and_tags(db: Database) -> None:
    with db.uow() as uow:
        s = uow.session
        _, person, _, conv = _world(s)
        tag = Tag(name="refund")
        s.add(tag)
        s.flush()
        s.add(ConversationTag(conversation_id=conv.id, tag_id=tag.id))
        s.add(Note(conversation_id=conv.id, person_id=person.id, text="called the customer"))
        uow.commit()
        s.delete(conv)
        uow.commit()
        for model in (Message, Note, ConversationTag):
            assert s.scalar(select(func.count()).select_from(model)) == 0
        assert s.scalar(select(func.count()).select_from(Tag)) == 1  # tags themselves stay


def test_a_unit_with_conversations_cannot_be_deleted(db: Database) -> None:
    with db.uow() as uow:
        _world(uow.session)
        uow.commit()
    with db.uow() as uow, pytest.raises(IntegrityError, match=r"(?i)foreign key constraint"):
        uow.session.execute(text("DELETE FROM units"))
    with db.uow() as uow, pytest.raises(IntegrityError, match=r"(?i)foreign key constraint"):
        uow.session.execute(text("DELETE FROM accounts"))
    with db.uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(Message)) == 1


def test_a_unit_with_sub_units_cannot_be_deleted(db: Database) -> None:
    with db.uow() as uow:
        s = uow.session
        parent = _unit(s, "Care")
        _unit(s, "Orders", parent)
        uow.commit()
        s.delete(parent)
        with pytest.raises(IntegrityError, match=r"(?i)foreign key constraint"):
            s.flush()


def test_deleting_a_person_removes_their_roles_and_unassigns(db: Database) -> None:
    with db.uow() as uow:
        s = uow.session
        unit, person, _, conv = _world(s)
        s.add(RoleAssignment(person_id=person.id, unit_id=unit.id, role="agent"))
        conv.assignee_id = person.id
        uow.commit()
        s.delete(person)
        uow.commit()
        assert s.scalar(select(func.count()).select_from(RoleAssignment)) == 0
        s.refresh(conv)
        assert conv.assignee_id is None


def test_roles_are_checked_and_unique(db: Database) -> None:
    with db.uow() as uow:
        s = uow.session
        unit, person, _, _ = _world(s)
        s.add(RoleAssignment(person_id=person.id, unit_id=unit.id, role="overlord"))
        with pytest.raises(IntegrityError, match=r"(?i)check constraint"):
            s.flush()
    with db.uow() as uow:
        s = uow.session
        unit, person, _, _ = _world(s)
        s.add(RoleAssignment(person_id=person.id, unit_id=unit.id, role="agent"))
        s.add(RoleAssignment(person_id=person.id, unit_id=unit.id, role="agent"))
        with pytest.raises(IntegrityError, match=r"(?i)unique constraint"):
            s.flush()


def test_a_rejection_needs_a_reason_and_one_decision_per_person(db: Database) -> None:
    with db.uow() as uow:
        s = uow.session
        unit, person, _, _ = _world(s)
        draft = Draft(kind="post", unit_id=unit.id, created_by_id=person.id)
        s.add(draft)
        s.flush()
        s.add(DraftVersion(draft_id=draft.id, version=1, text="Hi", created_by_id=person.id))
        s.add(Approval(draft_id=draft.id, version=1, person_id=person.id, decision="rejected"))
        with pytest.raises(IntegrityError, match=r"(?i)check constraint"):
            s.flush()
    with db.uow() as uow:
        s = uow.session
        unit, person, _, _ = _world(s)
        draft = Draft(kind="post", unit_id=unit.id, created_by_id=person.id)
        s.add(draft)
        s.flush()
        s.add(Approval(draft_id=draft.id, version=1, person_id=person.id, decision="approved"))
        s.add(
            Approval(
                draft_id=draft.id,
                version=1,
                person_id=person.id,
                decision="rejected",
                reason="off-brand",
            )
        )
        with pytest.raises(IntegrityError, match=r"(?i)unique constraint"):
            s.flush()


def test_a_reply_draft_needs_a_conversation(db: Database) -> None:
    with db.uow() as uow:
        s = uow.session
        unit, person, _, _ = _world(s)
        s.add(Draft(kind="reply", unit_id=unit.id, created_by_id=person.id))
        with pytest.raises(IntegrityError, match=r"(?i)check constraint"):
            s.flush()


def test_deleting_a_draft_cascades_to_versions_and_approvals(db: Database) -> None:
    with db.uow() as uow:
        s = uow.session
        unit, person, _, _ = _world(s)
        draft = Draft(kind="post", unit_id=unit.id, created_by_id=person.id)
        s.add(draft)
        s.flush()
        s.add(DraftVersion(draft_id=draft.id, version=1, text="Hi", created_by_id=person.id))
        s.add(Approval(draft_id=draft.id, version=1, person_id=person.id, decision="approved"))
        uow.commit()
        s.delete(draft)
        uow.commit()
        assert s.scalar(select(func.count()).select_from(DraftVersion)) == 0
        assert s.scalar(select(func.count()).select_from(Approval)) == 0


def test_the_audit_log_is_append_only(db: Database) -> None:
    with db.uow() as uow:
        s = uow.session
        s.add(AuditEntry(action="unit.created", entity="unit", entity_id=1, after={"n": 1}))
        uow.commit()
    with db.uow() as uow, pytest.raises(IntegrityError, match="append-only"):
        uow.session.execute(text("UPDATE audit_log SET action = 'forged'"))
    with db.uow() as uow, pytest.raises(IntegrityError, match="append-only"):
        uow.session.execute(text("DELETE FROM audit_log"))
    with db.uow() as uow:
        assert uow.session.scalar(select(AuditEntry.action)) == "unit.created"


def test_uncommitted_work_is_rolled_back(db: Database) -> None:
    with db.uow() as uow:
        _world(uow.session)
    with db.uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(Unit)) == 0
