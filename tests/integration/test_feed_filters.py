"""Every inbox filter, the search text and the due-time sort, on both engines.

One generated world is compared with a plain Python reading of the same rows: every page of every
filter (and the arrivals and the keys for jumping to the oldest) must list exactly what the
filter selects, in the order asked for, with nothing lost or repeated across pages.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, delete, event, insert, select

from app.domain.filters import SENTIMENTS, sentiment_band
from app.domain.rows import (
    ASSIGNEE_ME,
    ASSIGNEE_NOBODY,
    NO_DUE_MS,
    SORT_ACTIVITY,
    SORT_DUE,
    FeedFilter,
    FeedQuery,
)
from app.models import (
    Account,
    Author,
    Conversation,
    ConversationTag,
    Message,
    Person,
    Tag,
    Unit,
)
from app.services.inbox import InboxService
from app.storage import feed, search
from app.storage.search import index_new_messages
from app.storage.workspace import Database, open_database
from tests.conftest import PgDatabases

# 1 company > 2 care > (3 orders, 4 tech); 1 > 5 marketing.
TREE = [(1, None), (2, 1), (3, 2), (4, 2), (5, 1)]
ACCOUNTS = {1: "x", 2: "facebook", 3: "sandbox"}
AUTHORS = {1: ("janedoe", "Jane Doe"), 2: ("mmueller", "Maria Müller"), 3: (None, "Bob Stone")}
TAGS = {1: "refund", 2: "vip"}
WORDS = ["order", "battery", "refund", "late", "screen", "ordinary"]
ME, OTHER = 1, 2


@dataclass(frozen=True)
class Conv:
    id: int
    unit: int
    account: int
    kind: str
    status: str
    assignee: int | None
    sentiment: float | None
    language: str
    author: int
    at: int
    due: int | None
    tags: tuple[int, ...]
    texts: tuple[str, ...]


def _world(db: Database, convs: list[Conv]) -> None:
    with db.engine.begin() as conn:
        for table in (ConversationTag, Message, Conversation):
            conn.execute(delete(table))
        if conn.execute(select(Unit.id).where(Unit.id == 1)).first() is None:
            _fixed(conn)
        if not convs:
            return
        _conversations(conn, convs)


def _fixed(conn: Connection) -> None:
    """Units, people, accounts, authors and tags: the same in every example."""
    paths: dict[int, str] = {}
    for uid, parent in TREE:
        paths[uid] = f"{paths[parent] if parent else '/'}{uid}/"
        conn.execute(
            insert(Unit).values(
                id=uid, parent_id=parent, path=paths[uid], name=f"Unit {uid}", sort_order=uid
            )
        )
    for pid in (ME, OTHER):
        conn.execute(insert(Person).values(id=pid, name=f"P{pid}", email=f"p{pid}@x.test"))
    for aid, network in ACCOUNTS.items():
        conn.execute(
            insert(Account).values(
                id=aid,
                uuid=f"a{aid}",
                network=network,
                handle=f"acme{aid}",
                display_name=f"Acme {aid}",
                unit_id=1,
            )
        )
    for aid, (handle, name) in AUTHORS.items():
        conn.execute(
            insert(Author).values(
                id=aid, network="x", external_id=str(aid), handle=handle, display_name=name
            )
        )
    for tid, name in TAGS.items():
        conn.execute(insert(Tag).values(id=tid, name=name))


def _conversations(conn: Connection, convs: list[Conv]) -> None:
    conn.execute(
        insert(Conversation),
        [
            {
                "id": c.id,
                "network": ACCOUNTS[c.account],
                "account_id": c.account,
                "thread_type": "x_thread",
                "external_thread_id": f"t{c.id}",
                "kind": c.kind,
                "unit_id": c.unit,
                "assignee_id": c.assignee,
                "author_id": c.author,
                "status": c.status,
                "sentiment": c.sentiment,
                "language": c.language,
                "last_activity_at": c.at,
                "sla_due_at": c.due,
                "first_inbound_at": 1,
                "preview": c.texts[0] if c.texts else "",
            }
            for c in convs
        ],
    )
    tagged = [{"conversation_id": c.id, "tag_id": t} for c in convs for t in c.tags]
    if tagged:
        conn.execute(insert(ConversationTag), tagged)
    msgs = [
        {
            "network": ACCOUNTS[c.account],
            "account_id": c.account,
            "external_id": f"m{c.id}-{i}",
            "conversation_id": c.id,
            "direction": "in",
            "kind": c.kind,
            "text": text,
            "created_at": c.at,
        }
        for c in convs
        for i, text in enumerate(c.texts)
    ]
    if msgs:
        conn.execute(insert(Message), msgs)
    index_new_messages(conn)


def _expected(convs: list[Conv], f: FeedFilter, service: InboxService) -> list[int]:
    units = set(service.subtree(f.unit_id)) if f.unit_id is not None else None
    words = f.text.lower().split()

    def text_hit(c: Conv) -> bool:
        if not words:
            return True
        handle, name = AUTHORS[c.author]
        author_words = f"{handle or ''} {name}".lower().replace("ü", "u").split()
        # the last word is a prefix from its second letter on, in text and in names
        *whole, last = words

        def has(found: list[str], prefix_ok: bool) -> bool:
            return all(w in found for w in whole) and any(
                t == last or (prefix_ok and t.startswith(last)) for t in found
            )

        in_text = any(has(t.lower().split(), len(last) > 1) for t in c.texts)
        return in_text or has(author_words, len(last) > 1)

    def keep(c: Conv) -> bool:
        assignee_ok = (
            f.assignee is None
            or (f.assignee == ASSIGNEE_ME and c.assignee == ME)
            or (f.assignee == ASSIGNEE_NOBODY and c.assignee is None)
            or (isinstance(f.assignee, int) and c.assignee == f.assignee)
        )
        return (
            (units is None or c.unit in units)
            and (not f.networks or ACCOUNTS[c.account] in f.networks)
            and (not f.account_ids or c.account in f.account_ids)
            and (not f.kinds or c.kind in f.kinds)
            and (not f.statuses or c.status in f.statuses)
            and assignee_ok
            and (not f.tags or any(TAGS[t] in f.tags for t in c.tags))
            and (not f.sentiments or sentiment_band(c.sentiment) in f.sentiments)
            and (not f.languages or c.language in f.languages)
            and text_hit(c)
        )

    kept = [c for c in convs if keep(c)]
    if f.sort == SORT_DUE:
        kept.sort(key=lambda c: (NO_DUE_MS if c.due is None else c.due, c.id))
    else:
        kept.sort(key=lambda c: (c.at, c.id), reverse=True)
    return [c.id for c in kept]


def _all_pages(service: InboxService, f: FeedFilter, limit: int) -> list[int]:
    ids: list[int] = []
    after = None
    while True:
        page = service.page(f, after=after, limit=limit, me=ME)
        ids.extend(r.id for r in page)
        if len(page) < limit:
            return ids
        after = page[-1].key_for(f.sort)


convs_strategy = st.lists(
    st.builds(
        lambda unit, account, kind, status, assignee, sentiment, language, author, at, due, tags, texts: (
            unit,
            account,
            kind,
            status,
            assignee,
            sentiment,
            language,
            author,
            at,
            due,
            tags,
            texts,
        ),
        st.sampled_from([1, 2, 3, 4, 5]),
        st.sampled_from([1, 2, 3]),
        st.sampled_from(["mention", "dm", "comment"]),
        st.sampled_from(["new", "open", "resolved", "spam"]),
        st.sampled_from([None, ME, OTHER]),
        st.sampled_from([None, -0.6, -0.05, 0.0, 0.05, 0.3]),
        st.sampled_from(["en", "de", ""]),
        st.sampled_from([1, 2, 3]),
        st.integers(0, 30),  # few distinct times: ties
        st.sampled_from([None, 5, 10, 10, 20]),
        st.sampled_from([(), (1,), (2,), (1, 2)]),
        st.lists(
            st.lists(st.sampled_from(WORDS), min_size=1, max_size=3).map(" ".join), max_size=2
        ),
    ),
    max_size=30,
).map(lambda rows: [Conv(i + 1, *r[:10], r[10], tuple(r[11])) for i, r in enumerate(rows)])

filter_strategy = st.builds(
    FeedFilter,
    unit_id=st.sampled_from([None, 1, 2, 3, 5]),
    networks=st.sampled_from([(), ("x",), ("x", "sandbox")]),
    statuses=st.sampled_from([(), ("new",), ("new", "open")]),
    account_ids=st.sampled_from([(), (2,), (1, 3)]),
    kinds=st.sampled_from([(), ("dm",)]),
    assignee=st.sampled_from([None, ASSIGNEE_ME, ASSIGNEE_NOBODY, OTHER]),
    tags=st.sampled_from([(), ("refund",), ("vip", "refund")]),
    sentiments=st.sampled_from([(), ("negative",), ("neutral", "none"), ("positive",)]),
    languages=st.sampled_from([(), ("de",), ("en", "")]),
    text=st.sampled_from(["", "", "order", "ord", "o", "late order", "maria", "jane d", "m"]),
    sort=st.sampled_from([SORT_ACTIVITY, SORT_DUE]),
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(convs=convs_strategy, f=filter_strategy, limit=st.integers(1, 6))
def test_every_filter_and_sort_lists_exactly_what_it_selects(
    db: Database, convs: list[Conv], f: FeedFilter, limit: int
) -> None:
    _world(db, convs)
    service = InboxService(db)
    expected = _expected(convs, f, service)
    assert _all_pages(service, f, limit) == expected
    # Jumping to the oldest: the keys after the first page are the rest of the list.
    first = service.page(f, limit=limit, me=ME)
    after = first[-1].key_for(f.sort) if first else None
    rest = [cid for _, cid in service.keys(f, after=after, me=ME)]
    assert [r.id for r in first] + rest == expected


def test_arrivals_keep_every_filter(db: Database) -> None:
    rng = random.Random(7)
    convs = [
        Conv(i, 3, rng.choice([1, 2]), "mention", "new", None, None, "en", 1, i, None, (), ())
        for i in range(1, 11)
    ]
    _world(db, convs)
    service = InboxService(db)
    f = FeedFilter(unit_id=2, account_ids=(2,))
    wanted = [c.id for c in reversed(convs) if c.account == 2]
    assert [r.id for r in service.newer(f, than=(0, 0))] == wanted
    assert all(r.account_id == 2 for r in service.newer(f, than=(0, 0)))


def test_sentiment_bands_cover_every_score_once() -> None:
    for score in (-1.0, -0.051, -0.05, 0.0, 0.05, 0.051, 1.0, None):
        assert sum(sentiment_band(score) == b for b in SENTIMENTS) == 1
    assert sentiment_band(-0.05) == sentiment_band(0.05) == "neutral"


def test_me_needs_someone_reading(db: Database) -> None:
    with pytest.raises(ValueError, match="assigned to me"):
        InboxService(db).page(FeedFilter(assignee=ASSIGNEE_ME))


def test_search_text_is_never_query_syntax(db: Database) -> None:
    c = Conv(1, 3, 1, "dm", "new", None, None, "en", 1, 1, None, (), ('order "NEAR" OR *',))
    _world(db, [c])
    service = InboxService(db)
    for typed in ('"', "OR", "NEAR(", "*", "order OR", "'; drop table x; --", "-", "a:b"):
        service.page(FeedFilter(text=typed))  # never an error
    assert [r.id for r in service.page(FeedFilter(text='order "near'))] == [1]


def _random_world(seed: int, n: int) -> list[Conv]:
    rng = random.Random(seed)
    return [
        Conv(
            i,
            rng.choice([1, 2, 3, 4, 5]),
            rng.choice([1, 2, 3]),
            rng.choice(["mention", "dm", "comment"]),
            rng.choice(["new", "open", "resolved", "spam"]),
            rng.choice([None, ME, OTHER]),
            rng.choice([None, -0.6, -0.05, -0.049, 0.0, 0.05, 0.051, 0.3]),
            rng.choice(["en", "de", ""]),
            rng.choice([1, 2, 3]),
            rng.randint(0, 50),
            rng.choice([None, 5, 10, 20, 30]),
            rng.choice([(), (1,), (2,), (1, 2)]),
            tuple(
                " ".join(rng.choices(WORDS, k=rng.randint(1, 3))) for _ in range(rng.randint(0, 2))
            ),
        )
        for i in range(1, n + 1)
    ]


SINGLE_FILTERS = [
    *(FeedFilter(unit_id=u) for u in (1, 2, 3, 5)),
    FeedFilter(networks=("facebook",)),
    FeedFilter(account_ids=(1, 3)),
    FeedFilter(kinds=("dm",)),
    FeedFilter(statuses=("new", "open")),
    *(FeedFilter(assignee=a) for a in (ASSIGNEE_ME, ASSIGNEE_NOBODY, OTHER)),
    FeedFilter(tags=("vip",)),
    *(FeedFilter(sentiments=(b,)) for b in SENTIMENTS),
    FeedFilter(languages=("",)),
    *(FeedFilter(text=t) for t in ("order", "ord", "o", "late order", "maria", "jane d", "m")),
    FeedFilter(unit_id=2, statuses=("new",), text="order", tags=("refund",)),
    FeedFilter(unit_id=3, assignee=ASSIGNEE_ME, sentiments=("negative", "none")),
]


@pytest.mark.parametrize("sort", [SORT_ACTIVITY, SORT_DUE])
def test_each_filter_on_a_fixed_world(db: Database, sort: str) -> None:
    convs = _random_world(11, 160)
    _world(db, convs)
    service = InboxService(db)
    for f in SINGLE_FILTERS:
        f = replace(f, sort=sort)
        expected = _expected(convs, f, service)
        assert _all_pages(service, f, 7) == expected, f
        assert [cid for _, cid in service.keys(f, me=ME)] == expected, f


def _plan(db: Database, stmt: Any, params: dict[str, Any]) -> list[str]:
    with db.engine.connect() as conn:
        compiled = stmt.compile(dialect=conn.dialect)
        values = compiled.construct_params(params)
        args = tuple(values[k] for k in compiled.positiontup)
        return [r[3] for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + str(compiled), args)]


def test_the_due_sort_walks_the_unit_due_index(sqlite_db: Database) -> None:
    q = FeedQuery(unit_ids=(2, 3), sort=SORT_DUE)
    for phase in ("due", "nodue"):
        stmt = feed._page_statement(q, 2, phase=phase, after=True, search=False)
        plan = _plan(
            sqlite_db, stmt, {"u0": 2, "u1": 3, "after_ms": 0, "after_id": 0, "limit": 200}
        )
        assert sum("ix_conversations_unit_due" in p for p in plan) == 2, plan
        assert not any(p.startswith("SCAN conversations") for p in plan), plan


def _plan_of(db: Database, stmt: Any, params: dict[str, Any]) -> list[str]:
    """The plan SQLite runs for a statement with these values (``IN`` lists expanded)."""
    sent: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, sql: str, args: Any, *_: Any) -> None:
        sent.append((sql, args))

    with db.engine.connect() as conn:
        event.listen(conn, "before_cursor_execute", capture)
        conn.execute(stmt, params).all()
        event.remove(conn, "before_cursor_execute", capture)
        [(sql, args)] = sent
        return [r[3] for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, args)]


def test_the_due_sort_across_units_walks_one_index_and_no_table_row(sqlite_db: Database) -> None:
    """Every unit in due-time order with filters: one walk of ix_conversations_due, the
    filters checked in the index (it holds their columns), nothing read from the table."""
    q = FeedQuery(sort=SORT_DUE, statuses=("resolved",), assignee_ids=(ME,), sentiments=("none",))
    for phase in ("due", "nodue"):
        stmt = feed._page_statement(q, None, phase=phase, after=True, search=False)
        params = {"statuses": ["resolved"], "assignees": [ME], "after_ms": 0, "after_id": 0}
        plan = _plan_of(sqlite_db, stmt, {**params, "limit": 200})
        # The walk, then the page's rows read by id: no sort but that of the page's own rows.
        assert plan[0] == "MATERIALIZE page", plan
        assert plan[1].startswith(
            "SEARCH conversations USING COVERING INDEX ix_conversations_due "
        ), plan
        assert plan.count("USE TEMP B-TREE FOR ORDER BY") == 1, plan


@pytest.mark.parametrize(
    ("unit_count", "index"),
    [(None, "ix_conversations_activity"), (1, "ix_conversations_unit_activity")],
)
def test_a_filtered_walk_reads_its_index_alone(
    sqlite_db: Database, unit_count: int | None, index: str
) -> None:
    """A rare filter walks far: every filter but the tags is checked in the walked index."""
    q = FeedQuery(
        unit_ids=None if unit_count is None else (3,),
        networks=("facebook",),
        account_ids=(2,),
        kinds=("dm",),
        unassigned=True,
        sentiments=("none",),
        languages=("de",),
    )
    stmt = feed._page_statement(q, unit_count, phase="activity", after=False, search=False)
    params = {
        "networks": ["facebook"],
        "accounts": [2],
        "kinds": ["dm"],
        "languages": ["de"],
        "u0": 3,
        "limit": 200,
    }
    plan = _plan_of(sqlite_db, stmt, params)
    assert plan[1] == f"SCAN conversations USING COVERING INDEX {index}" or plan[1].startswith(
        f"SEARCH conversations USING COVERING INDEX {index}"
    ), plan


def test_the_backlog_with_a_filter_is_read_through_the_status_index(sqlite_db: Database) -> None:
    q = FeedQuery(unit_ids=(2, 3), statuses=("new", "open"), languages=("de",))
    stmt = feed._page_statement(q, 2, phase="activity", after=False, search=False)
    params = {"units": [2, 3], "statuses": ["new", "open"], "languages": ["de"], "limit": 200}
    plan = _plan_of(sqlite_db, stmt, params)
    assert any("USING COVERING INDEX ix_conversations_unit_status" in p for p in plan), plan
    assert any("INTEGER PRIMARY KEY" in p for p in plan), plan


def test_a_rare_tag_is_read_by_id_and_a_common_one_walked(sqlite_db: Database) -> None:
    convs = [
        Conv(i, 3, 1, "dm", "new", None, None, "en", 1, i, None, (2,) if i < 3 else (), ())
        for i in range(1, 10)
    ]
    _world(sqlite_db, convs)
    q = FeedQuery(unit_ids=(3,), tags=("vip",))
    with sqlite_db.engine.connect() as conn:
        assert feed.few_tagged(conn, q)
    for by_tags, walked in ((True, False), (False, True)):
        stmt = feed._page_statement(
            q, 1, phase="activity", after=False, search=False, by_tags=by_tags
        )
        plan = _plan_of(sqlite_db, stmt, {"tags": ["vip"], "units": [3], "u0": 3, "limit": 200})
        assert any("ix_conversations_unit_activity" in p for p in plan) == walked, plan
    assert [r.id for r in InboxService(sqlite_db).page(FeedFilter(unit_id=3, tags=("vip",)))] == [
        2,
        1,
    ]


def test_author_search_reads_the_author_index(sqlite_db: Database) -> None:
    with sqlite_db.engine.connect() as conn:
        plan = [
            r[3]
            for r in conn.exec_driver_sql(
                "EXPLAIN QUERY PLAN SELECT c.id FROM conversations c WHERE c.author_id IN "
                "(SELECT rowid FROM authors_fts WHERE authors_fts MATCH '\"jane\"*') "
                "ORDER BY c.last_activity_at DESC LIMIT 10"
            )
        ]
    assert any("authors_fts" in p for p in plan), plan


def test_a_search_that_stops_at_its_limit_says_so(db: Database) -> None:
    convs = [
        Conv(i, 3, 1, "dm", "new", None, None, "en", 3, i, None, (), ("late order",))
        for i in range(1, 8)
    ]
    _world(db, convs)
    with db.engine.connect() as conn:
        few = search.matching_conversations(conn, "late", limit=3)
        assert few.capped
        assert few.ids == [7, 6, 5]  # the newest matching messages first
        everything = search.matching_conversations(conn, "late", limit=50)
        assert not everything.capped
        assert sorted(everything.ids) == list(range(1, 8))
        by_author = search.matching_conversations(conn, "bob sto", limit=50)
        assert sorted(by_author.ids) == list(range(1, 8))  # author 3 is Bob Stone


@pytest.mark.parametrize(("window", "candidates"), [(2, 2), (3, 50), (50, 3)])
def test_a_bounded_search_finds_everything_or_says_it_stopped(
    db: Database, monkeypatch: pytest.MonkeyPatch, window: int, candidates: int
) -> None:
    """The search's bounds (newest hits, newest conversations) never hide a miss silently."""
    monkeypatch.setattr(search, "_WINDOW", window)
    monkeypatch.setattr(search, "_CANDIDATES", candidates)
    convs = _random_world(5, 120)
    _world(db, convs)
    service = InboxService(db)
    for text_ in ("order", "late order", "ord", "screen"):
        for f in (
            FeedFilter(unit_id=3, text=text_),
            FeedFilter(unit_id=2, statuses=("new", "open"), text=text_),
            FeedFilter(languages=("de",), kinds=("dm",), text=text_),
        ):
            expected = set(_expected(convs, f, service))
            with db.engine.connect() as conn:
                result = feed.search_filtered(conn, service.resolve(f, me=ME))
            assert set(result.ids) <= expected, f
            if not result.capped:
                assert set(result.ids) == expected, f


# The shapes the 1M-message benchmark found slowest (benchmarks/search.py), on the small world:
# a status or a person in the due-time order across units, a language with a status, a rare tag
# with a sentiment, a filter nothing matches; each with and without search text.
SLOW_SHAPES = [
    FeedFilter(statuses=("new",)),
    FeedFilter(assignee=OTHER),
    FeedFilter(assignee=ASSIGNEE_ME, statuses=("open",)),
    FeedFilter(assignee=ASSIGNEE_NOBODY),
    FeedFilter(languages=("de",)),
    FeedFilter(statuses=("new",), languages=("de",)),
    FeedFilter(kinds=("dm",), languages=("",)),
    FeedFilter(networks=("facebook",), statuses=("new", "open")),
    FeedFilter(networks=("facebook",)),
    FeedFilter(tags=("vip",), sentiments=("negative",)),
    FeedFilter(tags=("refund",)),
    FeedFilter(sentiments=("none",)),
    FeedFilter(sentiments=("negative",), statuses=("spam",)),
]


def _slow_combinations() -> list[FeedFilter]:
    return [
        replace(shape, unit_id=unit, sort=sort, text=text_)
        for shape in SLOW_SHAPES
        for unit in (None, 2, 5)
        for sort in (SORT_ACTIVITY, SORT_DUE)
        for text_ in ("", "order", "late o", "o", "maria")
    ]


@pytest.fixture
def pg_db(pg_databases: PgDatabases, pg_template: str) -> Iterator[Database]:
    """An empty PostgreSQL workspace beside the SQLite one of the same test."""
    url = pg_databases.create("both", template=pg_template)
    database = open_database(url)
    yield database
    database.close()
    pg_databases.drop(url)


@pytest.mark.parametrize("few_tagged", [0, feed.FEW_TAGGED])
def test_the_slow_combinations_list_the_same_rows_in_the_same_order_on_both_engines(
    sqlite_db: Database, pg_db: Database, monkeypatch: pytest.MonkeyPatch, few_tagged: int
) -> None:
    """Every page, the keys and the count of each slow combination: the same on SQLite and on
    PostgreSQL, and what the filter selects; with tags walked past (0) or read by id."""
    monkeypatch.setattr(feed, "FEW_TAGGED", few_tagged)
    convs = _random_world(23, 300)
    services = []
    for database in (sqlite_db, pg_db):
        _world(database, convs)
        services.append(InboxService(database))
    for f in _slow_combinations():
        expected = _expected(convs, f, services[0])
        answers = []
        for service, database in zip(services, (sqlite_db, pg_db), strict=True):
            pages = _all_pages(service, f, 40)
            keys = [cid for _, cid in service.keys(f, me=ME)]
            with database.engine.connect() as conn:
                count, _ = feed.feed_count(conn, service.resolve(f, me=ME))
            answers.append((pages, keys, count))
        assert answers[0] == answers[1], f
        assert answers[0] == (expected, expected, len(expected)), f


def _message_hits(db: Database, user_text: str) -> list[tuple[int, int]]:
    """``(message id, conversation id)`` of every message with the words, newest first."""
    words = search.query_words(user_text.lower())
    *whole, last = words
    with db.engine.connect() as conn:
        rows = conn.execute(
            select(Message.id, Message.conversation_id, Message.text).order_by(Message.id.desc())
        ).all()

    def has(found: list[str]) -> bool:
        return all(w in found for w in whole) and any(
            t == last or (len(last) > 1 and t.startswith(last)) for t in found
        )

    return [(mid, cid) for mid, cid, text_ in rows if has(text_.lower().split())]


def _bounded_search(
    db: Database,
    convs: list[Conv],
    f: FeedFilter,
    service: InboxService,
    *,
    windowed: bool,
    limit: int = 200,
) -> tuple[list[int], bool]:
    """The search with filters as release 0005 read it, in plain Python.

    SQLite (``windowed``): the newest ``_WINDOW`` hits joined to the filters; when they give
    fewer than ``limit`` conversations, the hits among the messages of the filters' newest
    ``_CANDIDATES`` conversations. PostgreSQL: every hit joined to the filters. Then the
    conversations of matching authors, newest first.
    """
    wanted = limit * 4
    unfiltered = replace(f, text="")
    selected = set(_expected(convs, unfiltered, service))
    hits = _message_hits(db, f.text)
    window = hits[: search._WINDOW] if windowed else hits
    text_hits = [cid for _, cid in window if cid in selected][:wanted]
    found: dict[int, None] = {}
    for cid in text_hits:
        found.setdefault(cid, None)
        if len(found) >= limit:
            break
    capped = len(found) >= limit or len(text_hits) >= wanted
    if windowed and len(found) < limit:
        newest = _expected(convs, replace(unfiltered, sort=SORT_ACTIVITY), service)
        candidates = set(newest[: search._CANDIDATES])
        extra = [cid for _, cid in hits if cid in candidates][:wanted]
        for cid in extra:
            found.setdefault(cid, None)
            if len(found) >= limit:
                break
        capped = len(found) >= limit or len(extra) >= wanted or len(hits) >= search._WINDOW
    by_author = [
        c.id
        for c in sorted(convs, key=lambda c: (c.at, c.id), reverse=True)
        if c.id in selected and _author_hit(c, f.text)
    ][:limit]
    capped = capped or len(by_author) >= limit
    for cid in by_author:
        found.setdefault(cid, None)
    return list(found), capped


def _author_hit(c: Conv, user_text: str) -> bool:
    *whole, last = search.query_words(user_text.lower())
    handle, name = AUTHORS[c.author]
    found = f"{handle or ''} {name}".lower().replace("ü", "u").split()
    return all(w in found for w in whole) and any(
        t == last or (len(last) > 1 and t.startswith(last)) for t in found
    )


@pytest.mark.parametrize(("window", "candidates"), [(5000, 3000), (2, 2), (3, 50), (50, 3), (9, 9)])
def test_the_bounded_search_finds_what_it_found_before(
    db: Database, monkeypatch: pytest.MonkeyPatch, window: int, candidates: int
) -> None:
    """The same conversations in the same order, and the same "capped", as the 0005 search:
    counting the window with its hits, skipping the candidates when the window held every hit,
    and walking the candidates as the list does change how it is read, not what it finds."""
    monkeypatch.setattr(search, "_WINDOW", window)
    monkeypatch.setattr(search, "_CANDIDATES", candidates)
    convs = _random_world(31, 220)
    _world(db, convs)
    service = InboxService(db)
    windowed = db.url.get_backend_name() == "sqlite"
    for shape in SLOW_SHAPES:
        for unit in (None, 2, 3):
            for text_ in ("order", "late order", "ord", "o", "screen", "maria", "jane d"):
                f = replace(shape, unit_id=unit, text=text_)
                with db.engine.connect() as conn:
                    result = feed.search_filtered(conn, service.resolve(f, me=ME))
                assert (result.ids, result.capped) == _bounded_search(
                    db, convs, f, service, windowed=windowed
                ), f


def test_no_filter_leads_to_an_index_of_its_own_on_sqlite_only() -> None:
    """SQLite (no statistics) gets ``x + 0`` / ``x || ''``; PostgreSQL the columns as they are."""
    from sqlalchemy.dialects import postgresql, sqlite

    q = FeedQuery(networks=("x",), unassigned=True, tags=("vip",))
    stmt = select(Conversation.id).where(*feed.filter_conditions(q, {}))
    on_sqlite = str(stmt.compile(dialect=sqlite.dialect()))
    on_postgresql = str(stmt.compile(dialect=postgresql.dialect()))
    assert "(conversations.network || '') IN" in on_sqlite
    assert "(conversations.assignee_id + 0) IS NULL" in on_sqlite
    assert "(conversations.id + 0) IN (SELECT" in on_sqlite
    assert "conversations.network IN" in on_postgresql
    assert "conversations.assignee_id IS NULL" in on_postgresql
    assert "conversations.id IN (SELECT" in on_postgresql
