"""Keyset paging of the inbox: order, filters, sub-trees, and rows arriving while paging."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert

from app.domain.rows import FeedFilter, FeedQuery
from app.models import Account, Author, Conversation, Unit
from app.services.inbox import InboxService
from app.storage import feed
from app.storage.workspace import Database, open_database

# A small tree: 1 company > 2 care > (3 orders, 4 tech); 1 > 5 marketing; 1 > 6 triage.
TREE = [(1, None), (2, 1), (3, 2), (4, 2), (5, 1), (6, 1)]


@pytest.fixture(scope="module")
def world(template_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    path = tmp_path_factory.mktemp("feed") / "feed.sqlite"
    shutil.copyfile(template_db, path)
    db = open_database(str(path))
    paths: dict[int, str] = {}
    with db.engine.begin() as conn:
        for uid, parent in TREE:
            paths[uid] = f"{paths[parent] if parent else '/'}{uid}/"
            conn.execute(
                insert(Unit).values(
                    id=uid, parent_id=parent, path=paths[uid], name=f"Unit {uid}", sort_order=uid
                )
            )
        for aid, network in ((1, "x"), (2, "facebook"), (3, "sandbox")):
            conn.execute(
                insert(Account).values(
                    id=aid,
                    uuid=f"acc-{aid}",
                    network=network,
                    handle=f"acme{aid}",
                    display_name=f"Acme {aid}",
                    unit_id=1,
                )
            )
        conn.execute(
            insert(Author).values(id=1, network="x", external_id="42", display_name="Jane Doe")
        )
    yield db
    db.close()


def _put(db: Database, rows: list[tuple[int, int, int, str]], start_id: int = 1) -> list[int]:
    """Insert conversations ``(unit_id, last_activity_ms, account_id, status)``; return ids."""
    ids = list(range(start_id, start_id + len(rows)))
    networks = {1: "x", 2: "facebook", 3: "sandbox"}
    with db.engine.begin() as conn:
        if rows:
            conn.execute(
                insert(Conversation),
                [
                    {
                        "id": cid,
                        "network": networks[acc],
                        "account_id": acc,
                        "thread_type": "x_thread",
                        "external_thread_id": f"t{cid}",
                        "kind": "mention",
                        "unit_id": unit,
                        "author_id": 1,
                        "status": status,
                        "last_activity_at": at,
                        "preview": f"conversation {cid}",
                    }
                    for cid, (unit, at, acc, status) in zip(ids, rows, strict=True)
                ],
            )
    return ids


def _clear(db: Database) -> None:
    with db.engine.begin() as conn:
        conn.execute(delete(Conversation))


def _all_pages(service: InboxService, query: FeedFilter, limit: int) -> list[tuple[int, int]]:
    keys: list[tuple[int, int]] = []
    after = None
    while True:
        page = service.page(query, after=after, limit=limit)
        keys.extend(r.key for r in page)
        if len(page) < limit:
            return keys
        after = page[-1].key


rows_strategy = st.lists(
    st.tuples(
        st.sampled_from([1, 2, 3, 4, 5, 6]),
        st.integers(min_value=0, max_value=40),  # few distinct times: many ties
        st.sampled_from([1, 2, 3]),
        st.sampled_from(["new", "open", "waiting", "resolved", "spam"]),
    ),
    max_size=60,
)


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=rows_strategy,
    unit=st.sampled_from([None, 1, 2, 3, 5]),
    statuses=st.sampled_from([(), ("new",), ("new", "open", "waiting")]),
    networks=st.sampled_from([(), ("x",), ("x", "sandbox")]),
    limit=st.integers(min_value=1, max_value=7),
)
def test_pages_match_a_full_sort_of_the_filtered_rows(
    world: Database,
    rows: list[tuple[int, int, int, str]],
    unit: int | None,
    statuses: tuple[str, ...],
    networks: tuple[str, ...],
    limit: int,
) -> None:
    _clear(world)
    ids = _put(world, rows)
    service = InboxService(world)
    units = set(service.subtree(unit)) if unit is not None else {1, 2, 3, 4, 5, 6}
    net_of = {1: "x", 2: "facebook", 3: "sandbox"}
    expected = sorted(
        (
            (at, cid)
            for cid, (u, at, acc, status) in zip(ids, rows, strict=True)
            if u in units
            and (not statuses or status in statuses)
            and (not networks or net_of[acc] in networks)
        ),
        reverse=True,
    )
    query = FeedFilter(unit_id=unit, statuses=statuses, networks=networks)
    assert _all_pages(service, query, limit) == expected


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    before=rows_strategy,
    arriving=st.lists(rows_strategy, min_size=1, max_size=5),
    limit=st.integers(min_value=1, max_value=6),
    unit=st.sampled_from([None, 2, 5]),
)
def test_no_row_lost_or_repeated_while_new_rows_arrive(
    world: Database,
    before: list[tuple[int, int, int, str]],
    arriving: list[list[tuple[int, int, int, str]]],
    limit: int,
    unit: int | None,
) -> None:
    _clear(world)
    existing = _put(world, before)
    service = InboxService(world)
    units = set(service.subtree(unit)) if unit is not None else {1, 2, 3, 4, 5, 6}
    present = {cid for cid, row in zip(existing, before, strict=True) if row[0] in units}
    query = FeedFilter(unit_id=unit)
    seen: list[int] = []
    keys: list[tuple[int, int]] = []
    after = None
    next_id = len(before) + 1
    batches = iter(arriving)
    while True:
        page = service.page(query, after=after, limit=limit)
        seen.extend(r.id for r in page)
        keys.extend(r.key for r in page)
        batch = next(batches, None)
        if batch is not None:  # new conversations land between two page reads
            _put(world, [(u, at + 20, acc, st_) for u, at, acc, st_ in batch], next_id)
            next_id += len(batch)
        if len(page) < limit:
            break
        after = page[-1].key
    assert len(seen) == len(set(seen)), "a conversation was listed twice"
    assert present <= set(seen), "a conversation that existed before paging was skipped"
    assert keys == sorted(keys, reverse=True)


def test_page_rows_carry_the_author_and_preview(world: Database) -> None:
    _clear(world)
    _put(world, [(3, 1_000, 1, "new")])
    [row] = InboxService(world).page(FeedFilter(unit_id=2))
    assert (row.author_name, row.preview, row.network, row.unit_id) == (
        "Jane Doe",
        "conversation 1",
        "x",
        3,
    )


def test_empty_unit_list_gives_an_empty_page(world: Database) -> None:
    with world.engine.connect() as conn:
        assert feed.feed_page(conn, FeedQuery(unit_ids=())) == []


def _plan(db: Database, stmt: object, params: dict[str, object]) -> list[str]:
    with db.engine.connect() as conn:
        compiled = stmt.compile(dialect=conn.dialect)  # type: ignore[attr-defined]
        values = compiled.construct_params(params)
        args = tuple(values[k] for k in compiled.positiontup)
        return [r[3] for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + str(compiled), args)]


def test_a_sub_tree_page_is_one_index_search_per_unit(world: Database) -> None:
    """Each arm of a sub-tree page walks the unit index alone (no table row read); the sub-tree
    is never scanned or sorted."""
    stmt = feed._page_statement(FeedQuery(), 3, phase="activity", after=True, search=False)
    plan = _plan(
        world,
        stmt,
        {"u0": 2, "u1": 3, "u2": 4, "after_ms": 10**12, "after_id": 10**9, "limit": 200},
    )
    searches = [p for p in plan if "USING COVERING INDEX ix_conversations_unit_activity" in p]
    assert len(searches) == 3, plan
    assert not any(p.startswith("SCAN conversations") for p in plan), plan


def test_an_all_units_page_walks_the_activity_index(world: Database) -> None:
    stmt = feed._page_statement(FeedQuery(), None, phase="activity", after=True, search=False)
    plan = _plan(world, stmt, {"after_ms": 10**12, "after_id": 10**9, "limit": 200})
    assert any("ix_conversations_activity" in p for p in plan), plan
    assert not any(p.startswith("SCAN conversations") for p in plan), plan
