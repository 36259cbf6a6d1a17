"""The demo workspace: a fictional company with its people, rules, strategy and conversations.

Everything is derived from one seed (and a reference time), so the same arguments always give the
same workspace. Conversations are written set-wise with SQLAlchemy Core in batches, one
transaction per batch, then indexed for full-text search.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

from sqlalchemy import Connection, insert, select

from app.domain.demo_text import DemoThread, TextFactory
from app.domain.enums import ConversationStatus, Network
from app.domain.hours import standard_week
from app.domain.spam import fingerprint
from app.models import (
    Account,
    ApprovalRule,
    AuditEntry,
    Author,
    Base,
    Conversation,
    ConversationEvent,
    ConversationTag,
    Message,
    MetaEntry,
    Note,
    Organization,
    Person,
    PolicyRule,
    RoleAssignment,
    RoutingRule,
    SavedReply,
    SavedView,
    StrategyItem,
    StrategyLink,
    Tag,
    TextSighting,
    Unit,
)
from app.models.base import from_epoch_ms, to_epoch_ms
from app.services.demo_drafts import write_demo_drafts
from app.services.publisher import ConnectorFor
from app.services.routing import FirstMessage, RoutingService, decide
from app.services.strategy import ItemFields, StrategyService
from app.storage.ids import sync_id_sequences
from app.storage.ingest import REASON, NewThread, fit
from app.storage.search import index_new_messages
from app.storage.workspace import (
    Database,
    WorkspaceError,
    open_database,
    parse_workspace,
    remove_workspace_file,
    workspace_exists,
)

BATCH = 2_000
HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
HISTORY_DAYS = 120

Progress = Callable[[int, int], None]
#: Builds a workspace's connector factory (``app.bootstrap.demo_connectors``).
Connectors = Callable[[Database], ConnectorFor]


class DemoError(Exception):
    """The demo workspace cannot be generated where it was asked for."""


@dataclass(frozen=True)
class DemoStats:
    conversations: int
    messages: int
    units: int
    people: int


# --- the company -------------------------------------------------------------------------------

# key, parent key, name, kind, colour, languages, region
UNITS: tuple[tuple[str, str | None, str, str, str, str, str], ...] = (
    ("company", None, "Acme Mobility", "company", "#37474f", "en", "Global"),
    ("care", "company", "Customer Care", "division", "#1e88e5", "en", ""),
    ("care_orders", "care", "Orders & Delivery", "department", "#42a5f5", "en", ""),
    ("care_tech", "care", "Technical Support", "department", "#1565c0", "en", ""),
    ("marketing", "company", "Marketing", "department", "#8e24aa", "en", ""),
    ("pr", "company", "Public Relations", "department", "#f4511e", "en", ""),
    ("sales", "company", "Sales & E-commerce", "department", "#43a047", "en", ""),
    ("legal", "company", "Legal & Compliance", "department", "#6d4c41", "en", ""),
    ("de", "company", "Acme Deutschland", "office", "#fdd835", "de,en", "DACH"),
    ("es", "company", "Acme España y LatAm", "office", "#e53935", "es,en", "Iberia & LatAm"),
    ("triage", "company", "Triage", "queue", "#757575", "", ""),
)

# Hours to a first response, in business hours (the goals below say the same in words).
FIRST_RESPONSE_H = {
    "care": 2.0,
    "care_orders": 2.0,
    "care_tech": 4.0,
    "marketing": 8.0,
    "pr": 8.0,
    "sales": 4.0,
    "legal": 16.0,
    "de": 4.0,
    "es": 4.0,
    "triage": 1.0,
}
# Customer care also answers on Saturday mornings; the rest keep the organization's hours.
UNIT_HOURS = {
    "care": {**standard_week(), "sat": [["09:00", "13:00"]]},
}

UNIT_GOALS = {
    "care": "Answer every customer within 2 hours, resolve 80 % on first contact.",
    "marketing": "Grow the riding community and the share of voice for the Glide range.",
    "pr": "Protect the brand's reputation; answer the press within one business day.",
    "sales": "Turn social enquiries into fleet and bulk deals.",
    "legal": "No statement goes out that creates liability; answer data requests on time.",
    "de": "Lokal antworten: jede Anfrage auf Deutsch innerhalb von 4 Stunden.",
    "es": "Atender en español a clientes de España y Latinoamérica en menos de 4 horas.",
}

# name, email local part, title, [(role, unit key)]
PEOPLE: tuple[tuple[str, str, str, tuple[tuple[str, str], ...]], ...] = (
    ("Helena Marsh", "helena.marsh", "Chief Executive Officer", (("strategist", "company"),)),
    (
        "Omar Haddad",
        "omar.haddad",
        "Head of Social Media",
        (("strategist", "company"), ("supervisor", "company")),
    ),
    ("Ingrid Solberg", "ingrid.solberg", "Workspace Administrator", (("admin", "company"),)),
    ("Marcus Kelly", "marcus.kelly", "Head of Customer Care", (("supervisor", "care"),)),
    ("Priya Raman", "priya.raman", "Care Team Lead, Orders", (("supervisor", "care_orders"),)),
    ("Tom Becker", "tom.becker", "Community Manager", (("agent", "care_orders"),)),
    ("Aisha Bello", "aisha.bello", "Community Manager", (("agent", "care_orders"),)),
    ("Liam O'Connor", "liam.oconnor", "Community Manager", (("agent", "care_orders"),)),
    ("Chen Wei", "chen.wei", "Tech Support Lead", (("supervisor", "care_tech"),)),
    ("Sofia Rossi", "sofia.rossi", "Support Engineer", (("agent", "care_tech"),)),
    ("Noah Fischer", "noah.fischer", "Support Engineer", (("agent", "care_tech"),)),
    (
        "Emma Laurent",
        "emma.laurent",
        "Marketing Director",
        (("supervisor", "marketing"), ("strategist", "marketing")),
    ),
    ("Jamal Carter", "jamal.carter", "Social Media Editor", (("agent", "marketing"),)),
    ("Grace Kim", "grace.kim", "Head of PR", (("supervisor", "pr"),)),
    ("Daniel Novak", "daniel.novak", "Press Officer", (("agent", "pr"),)),
    ("Rachel Adams", "rachel.adams", "Sales Director", (("supervisor", "sales"),)),
    ("Victor Ortiz", "victor.ortiz", "Social Sales Rep", (("agent", "sales"),)),
    ("Margaret Lowe", "margaret.lowe", "General Counsel", (("supervisor", "legal"),)),
    ("Ben Okafor", "ben.okafor", "Compliance Analyst", (("agent", "legal"),)),
    ("Katrin Vogel", "katrin.vogel", "Leiterin Acme Deutschland", (("supervisor", "de"),)),
    ("Jonas Weber", "jonas.weber", "Community Manager DE", (("agent", "de"),)),
    ("Lea Hoffmann", "lea.hoffmann", "Community Managerin DE", (("agent", "de"),)),
    ("Lucía Fernández", "lucia.fernandez", "Directora Acme España", (("supervisor", "es"),)),
    ("Diego Morales", "diego.morales", "Community Manager ES", (("agent", "es"),)),
    ("Carmen Ruiz", "carmen.ruiz", "Community Manager LatAm", (("agent", "es"),)),
    ("Sam Taylor", "sam.taylor", "Triage Agent", (("agent", "triage"), ("agent", "care"))),
)
EMAIL_DOMAIN = "acme-mobility.example"
UNIT_HEADS = {
    "company": "helena.marsh",
    "care": "marcus.kelly",
    "care_orders": "priya.raman",
    "care_tech": "chen.wei",
    "marketing": "emma.laurent",
    "pr": "grace.kim",
    "sales": "rachel.adams",
    "legal": "margaret.lowe",
    "de": "katrin.vogel",
    "es": "lucia.fernandez",
    "triage": "omar.haddad",
}

# key, network, handle, display name, owner unit, state, detail, external user id
ACCOUNTS: tuple[tuple[str, str, str, str, str, str, str, str], ...] = (
    ("sbx_main", "sandbox", "acme", "Acme Mobility", "marketing", "connected", "", "sbx-100"),
    ("sbx_care", "sandbox", "acmecare", "Acme Care", "care", "connected", "", "sbx-101"),
    ("sbx_de", "sandbox", "acme_de", "Acme Mobility DE", "de", "connected", "", "sbx-102"),
    ("sbx_es", "sandbox", "acme_es", "Acme Mobility ES", "es", "connected", "", "sbx-103"),
    (
        "x_main",
        "x",
        "AcmeMobility",
        "Acme Mobility",
        "marketing",
        "paused",
        "Demo history only: connect the account in Settings to poll X.",
        "783214",
    ),
    (
        "x_help",
        "x",
        "AcmeHelp",
        "Acme Help",
        "care",
        "paused",
        "Demo history only: connect the account in Settings to poll X.",
        "783215",
    ),
    (
        "fb_page",
        "facebook",
        "acmemobility",
        "Acme Mobility",
        "marketing",
        "needs_reconnect",
        "The Page's access token expired: reconnect the Page in Settings > Accounts.",
        "104000000000001",
    ),
)

TOPIC_WEIGHTS: dict[str, int] = {
    "complaint": 26,
    "question": 23,
    "praise": 12,
    "sales_lead": 6,
    "press": 3,
    "legal": 2,
    "spam": 12,
    "partnership": 4,
    "recall_safety": 3,
}
LANG_WEIGHTS: dict[str, int] = {
    "en": 70,
    "de": 12,
    "es": 12,
    "fr": 2,
    "it": 2,
    "pt": 1,
    "ja": 1,
}

# The demo's routing rules, in order; the routing engine applies them to every generated
# conversation (app.services.routing), so every reason the demo shows is what the rules decided.
ROUTING_RULES: tuple[tuple[str, dict[str, Any], dict[str, Any], bool], ...] = (
    (
        "Spam words",
        {
            "words": [
                "crypto",
                "krypto",
                "cripto",
                "follow back",
                "promo code",
                "giveaway",
                "from home",
                "folgst du mir zurück",
                "me sigues y te sigo",
            ]
        },
        {"route_to_unit": "triage", "mark_spam": True},
        True,
    ),
    (
        "Refund words",
        {"words": ["refund", "money back", "Rückerstattung", "reembolso"]},
        {"add_tags": ["refund"]},
        False,
    ),
    ("German → Acme Deutschland", {"languages": ["de"]}, {"route_to_unit": "de"}, True),
    ("Spanish → Acme España", {"languages": ["es"]}, {"route_to_unit": "es"}, True),
    (
        "Safety → Technical Support (urgent)",
        {"words": ["battery", "fire", "smoke", "brake failure", "recall", "brakes", "injured"]},
        {"route_to_unit": "care_tech", "set_priority": "urgent", "add_tags": ["safety"]},
        True,
    ),
    (
        "Press enquiries → PR",
        {"words": ["journalist", "press", "statement", "reporter", "comment for"]},
        {"route_to_unit": "pr", "set_priority": "high", "add_tags": ["press"]},
        True,
    ),
    (
        "Legal and data requests → Legal",
        {"words": ["gdpr", "lawyer", "sue", "trademark", "data request", "legal"]},
        {"route_to_unit": "legal", "set_priority": "high"},
        True,
    ),
    (
        "Fleet and bulk leads → Sales",
        {"words": ["fleet", "bulk", "quote", "b2b", "wholesale", "pricing"]},
        {"route_to_unit": "sales", "add_tags": ["lead"]},
        True,
    ),
    (
        "Technical issues → Technical Support",
        {"words": ["app", "bug", "error", "firmware", "bluetooth", "charger", "crash"]},
        {"route_to_unit": "care_tech"},
        True,
    ),
    (
        "Orders & delivery → Care",
        {"words": ["order", "delivery", "refund", "parcel", "invoice", "shipping", "tracking"]},
        {"route_to_unit": "care_orders"},
        True,
    ),
    (
        "Praise and community → Marketing",
        {"sentiment_above": 0.4, "kinds": ["mention", "comment"]},
        {"route_to_unit": "marketing"},
        False,
    ),
    (
        "Influencers (10,000+ followers)",
        {"min_followers": 10000},
        {"add_tags": ["influencer"], "set_priority": "high"},
        False,
    ),
)

# Saved inbox views of a few people: (name, unit key or None, the rest of the filter).
SAVED_VIEWS: tuple[tuple[str, tuple[tuple[str, str | None, dict[str, Any]], ...]], ...] = (
    (
        "tom.becker",
        (
            ("My open conversations", None, {"assignee": "me", "statuses": ["new", "open"]}),
            ("Orders waiting on us", "care_orders", {"statuses": ["new", "open"]}),
        ),
    ),
    (
        "marcus.kelly",
        (
            ("Unassigned in Care", "care", {"assignee": "unassigned", "statuses": ["new"]}),
            ("Safety", "care", {"tags": ["safety"]}),
        ),
    ),
)

TAGS = (
    ("safety", "#d32f2f"),
    ("press", "#f4511e"),
    ("lead", "#43a047"),
    ("influencer", "#8e24aa"),
    ("refund", "#1e88e5"),
    ("vip", "#fbc02d"),
)


def generate_demo_workspace(
    url: str,
    *,
    conversations: int,
    seed: int,
    replace: bool = False,
    progress: Progress | None = None,
    now: datetime | None = None,
    connectors: Connectors | None = None,
) -> DemoStats:
    """Create a demo workspace at ``url`` and fill it.

    Args:
        url: Workspace URL or file path; the file must not exist unless ``replace``.
        conversations: How many conversations to generate (about 3.3 messages each).
        seed: Everything generated follows from it.
        replace: Replace an existing file.
        progress: Called with ``(done, total)`` conversations after each batch.
        now: The reference time of the history (default: the current hour).
        connectors: Builds the workspace's connector factory; with it the outbox publishes
            the demo's oldest drafts on the Sandbox network (``app.services.demo_drafts``).

    Raises:
        DemoError: the target exists (without ``replace``) or the arguments are wrong.
        WorkspaceError: the workspace cannot be created there.
    """
    if conversations < 0:
        raise DemoError("the number of conversations cannot be negative")
    parsed = parse_workspace(url)
    if workspace_exists(parsed):
        if not replace:
            raise DemoError(f"{parsed.database} already exists; use --force to replace it")
        remove_workspace_file(parsed)
    db = open_database(parsed, create=True)
    try:
        return fill_demo(
            db,
            conversations=conversations,
            seed=seed,
            progress=progress,
            now=now,
            connectors=connectors,
        )
    finally:
        db.close()


def fill_demo(
    db: Database,
    *,
    conversations: int,
    seed: int,
    progress: Progress | None = None,
    now: datetime | None = None,
    connectors: Connectors | None = None,
) -> DemoStats:
    """Fill an empty workspace with the demo company and ``conversations`` conversations.

    Raises:
        DemoError: the workspace already holds an organization.
    """
    reference = now or datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    with db.engine.connect() as conn:
        if conn.execute(select(Organization.id).limit(1)).first() is not None:
            raise DemoError(f"{db.display_name} already holds an organization")
    rng = random.Random(seed)
    ids = _write_company(db, rng, reference)
    generator = _ConversationWriter(db, ids, seed, reference)
    total_messages = generator.run(conversations, progress)
    with db.engine.begin() as conn:
        sync_id_sequences(conn, Base.metadata.sorted_tables)
        index_new_messages(conn)

    def calm_threads(unit: int, n: int) -> list[int]:
        with db.uow() as uow:
            return uow.outbox.unanswered(unit, n)

    write_demo_drafts(
        db,
        people=ids.people,
        units=ids.units,
        accounts=ids.accounts,
        goals=ids.goals,
        now=reference,
        reply_threads=calm_threads,
        connector_for=None if connectors is None else connectors(db),
    )
    _write_strategy_history(db, ids, reference)
    return DemoStats(
        conversations=conversations,
        messages=total_messages,
        units=len(UNITS),
        people=len(PEOPLE),
    )


def _write_strategy_history(db: Database, ids: _Ids, now: datetime) -> None:
    """The strategy's history, written through the strategy service.

    A spring giveaway was tried, the strategy exported for the offsite (revision 1), and the
    giveaway dropped after it (a recorded deletion).
    """
    strategy = StrategyService(db, clock=lambda: now)
    emma = ids.people["emma.laurent"]
    giveaway = strategy.create(
        emma,
        "tactic",
        ItemFields(
            "Spring giveaway on X",
            unit_id=ids.units["marketing"],
            owner_id=ids.people["jamal.carter"],
            channel="X",
            cadence="once",
            horizon="short",
        ),
        parents=[ids.goals["sg_community"]],
    )
    strategy.export_revision(ids.people["helena.marsh"], "For the strategy offsite")
    strategy.delete(emma, giveaway)


@dataclass
class _Ids:
    units: dict[str, int]
    people: dict[str, int]
    accounts: dict[str, int]
    account_rows: dict[str, tuple[str, str, str, str, str, str, str, str]]
    company_authors: dict[str, int]
    rules: dict[str, int]
    tags: dict[str, int]
    unit_agents: dict[int, list[int]]
    goals: dict[str, int]


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _write_company(db: Database, rng: random.Random, now: datetime) -> _Ids:
    """Organization, units, people, accounts, rules, strategy and a few drafts (ORM: few rows)."""
    with db.uow() as uow:
        s = uow.session
        people: dict[str, Person] = {}
        for name, local, title, _roles in PEOPLE:
            p = Person(name=name, email=f"{local}@{EMAIL_DOMAIN}", title=title, created_at=now)
            s.add(p)
            people[local] = p
        s.flush()
        org = Organization(
            name="Acme Mobility",
            mission=(
                "Make every city trip cleaner and easier with e-bikes and scooters people love, "
                "and be the brand that answers."
            ),
            executive_sponsor_id=people["helena.marsh"].id,
            time_zone="Europe/Berlin",
            business_hours=standard_week(),
            spam_keywords=["crypto signals", "claim your prize", "free followers"],
            holidays=["2026-12-24", "2026-12-25", "2026-12-26", "2027-01-01"],
            created_at=now,
        )
        s.add(org)
        units: dict[str, Unit] = {}
        for position, (key, parent, name, kind, colour, langs, region) in enumerate(UNITS):
            parent_unit = units[parent] if parent else None
            u = Unit(
                parent_id=parent_unit.id if parent_unit else None,
                path="/pending/" + key,
                name=name,
                kind=kind,
                colour=colour,
                head_id=people[UNIT_HEADS[key]].id,
                region=region,
                languages=langs,
                is_triage=key == "triage",
                sort_order=position,
                first_response_target_h=FIRST_RESPONSE_H.get(key),
                business_hours=UNIT_HOURS.get(key),
            )
            s.add(u)
            s.flush()
            u.path = f"{parent_unit.path if parent_unit else '/'}{u.id}/"
            units[key] = u
        s.flush()
        unit_agents: dict[int, list[int]] = {}
        for _name, local, _title, roles in PEOPLE:
            for role, unit_key in roles:
                s.add(
                    RoleAssignment(
                        person_id=people[local].id, unit_id=units[unit_key].id, role=role
                    )
                )
                if role == "agent":
                    unit_agents.setdefault(units[unit_key].id, []).append(people[local].id)
        accounts: dict[str, Account] = {}
        company_authors: dict[str, Author] = {}
        for key, network, handle, display, owner, state, detail, ext in ACCOUNTS:
            a = Account(
                uuid=_uuid(rng),
                network=network,
                handle=handle,
                display_name=display,
                external_user_id=ext,
                unit_id=units[owner].id,
                state=state,
                state_detail=detail,
                poll_interval_s=30 if network == "sandbox" else 90,
                created_at=now - timedelta(days=HISTORY_DAYS + 30),
            )
            s.add(a)
            accounts[key] = a
            author = Author(
                network=network,
                external_id=ext,
                handle=handle if network != "facebook" else None,
                display_name=display,
                followers_count=rng.randint(20_000, 400_000),
            )
            s.add(author)
            company_authors[key] = author
        tags = {name: Tag(name=name, colour=colour) for name, colour in TAGS}
        s.add_all(tags.values())
        s.flush()
        rules: dict[str, RoutingRule] = {}
        for position, (name, cond, actions, stop) in enumerate(ROUTING_RULES, start=1):
            resolved = dict(actions)
            if "route_to_unit" in resolved:
                resolved["route_to_unit"] = units[resolved["route_to_unit"]].id
            r = RoutingRule(
                position=position,
                name=name,
                conditions=cond,
                actions=resolved,
                stop=stop,
                created_at=now - timedelta(days=HISTORY_DAYS),
            )
            s.add(r)
            rules[name] = r
        _write_policy(s, units, accounts)
        _write_saved_replies(s, units, people)
        for local, views in SAVED_VIEWS:
            for position, (view_name, view_unit, filters) in enumerate(views):
                unit = {"unit_id": units[view_unit].id} if view_unit else {}
                s.add(
                    SavedView(
                        person_id=people[local].id,
                        name=view_name,
                        filters={**unit, **filters},
                        position=position,
                        created_at=now - timedelta(days=HISTORY_DAYS),
                    )
                )
        goals = _write_strategy(s, rng, units, people, now)
        s.flush()
        s.add(MetaEntry(key="demo", value=json.dumps({"generated": True})))
        s.add(
            AuditEntry(
                at=now,
                person_id=people["ingrid.solberg"].id,
                person_name="Ingrid Solberg",
                action="workspace.created",
                entity="organization",
                entity_id=None,
                after={"name": "Acme Mobility", "demo": True},
            )
        )
        s.flush()
        ids = _Ids(
            units={k: u.id for k, u in units.items()},
            people={k: p.id for k, p in people.items()},
            accounts={k: a.id for k, a in accounts.items()},
            account_rows={row[0]: row for row in ACCOUNTS},
            company_authors={k: a.id for k, a in company_authors.items()},
            rules={k: r.id for k, r in rules.items()},
            tags={k: t.id for k, t in tags.items()},
            unit_agents=unit_agents,
            goals={k: g.id for k, g in goals.items() if g.type == "social_goal"},
        )
        uow.commit()
    return ids


#: Each unit's saved replies in the demo: (unit, title, text), kept by the unit's head.
SAVED_REPLIES: tuple[tuple[str, str, str], ...] = (
    ("care", "Greeting", "Hi {author_name}, {my_first_name} from Acme Care here. "),
    ("care", "Sorry for the wait", "Sorry for the wait, {author_name}: we are on it now."),
    (
        "care_orders",
        "Order number, please",
        "Hi {author_name}, could you send us your order number by direct message? {my_first_name}",
    ),
    ("care_tech", "Restart first", "Could you hold the power button for ten seconds and retry?"),
    ("marketing", "Thanks for sharing", "Thanks for sharing, {author_name}! Enjoy the ride."),
    ("de", "Begrüßung", "Hallo {author_name}, hier ist {my_first_name} von Acme."),
    ("es", "Saludo", "Hola {author_name}, soy {my_first_name} de Acme."),
)


def _write_saved_replies(s: Any, units: dict[str, Unit], people: dict[str, Person]) -> None:
    now = datetime.now(UTC)
    for unit, title, body in SAVED_REPLIES:
        s.add(
            SavedReply(
                unit_id=units[unit].id,
                title=title,
                body=body.strip(),
                created_by_id=people[UNIT_HEADS[unit]].id,
                created_at=now,
                updated_at=now,
            )
        )


def _write_policy(s: Any, units: dict[str, Unit], accounts: dict[str, Account]) -> None:
    rows = [
        PolicyRule(kind="banned_term", value="guaranteed", note="We never guarantee outcomes."),
        PolicyRule(kind="banned_term", value="cheapest on the market", note="Comparative claim."),
        PolicyRule(kind="banned_term", value="idiot", note="Never insult anyone."),
        PolicyRule(kind="risky_term", value="recall", note="Safety topics go through PR."),
        PolicyRule(kind="risky_term", value="refund", note="Refund promises need a supervisor."),
        PolicyRule(kind="risky_term", value="lawsuit", note="Legal must see it first."),
        PolicyRule(kind="risky_term", value="free", note="Offers need Sales approval."),
        PolicyRule(
            kind="disclaimer",
            value="This is general information, not legal advice.",
            unit_id=units["legal"].id,
        ),
        PolicyRule(
            kind="disclaimer",
            value="Offer subject to availability. Terms: acme-mobility.example/terms",
            unit_id=units["sales"].id,
        ),
        PolicyRule(kind="link_domain", value="acme-mobility.example"),
        PolicyRule(kind="link_domain", value="help.acme-mobility.example"),
        PolicyRule(kind="length_limit", value="280", network="x", note="X weighted length"),
        PolicyRule(kind="length_limit", value="63206", network="facebook", note="Facebook post"),
        PolicyRule(kind="length_limit", value="2000", network="facebook", note="Messenger"),
    ]
    s.add_all(rows)
    approvals = [
        ApprovalRule(
            unit_id=units["company"].id,
            condition="posts_only",
            draft_kind="post",
            required_approvals=1,
            approver_role="supervisor",
        ),
        ApprovalRule(
            unit_id=units["pr"].id,
            condition="always",
            required_approvals=2,
            approver_role="supervisor",
        ),
        ApprovalRule(
            unit_id=units["legal"].id,
            condition="always",
            required_approvals=1,
            approver_role="supervisor",
            approver_unit_id=units["legal"].id,
        ),
        ApprovalRule(
            unit_id=units["care"].id,
            condition="negative_sentiment",
            draft_kind="reply",
            required_approvals=1,
            approver_role="supervisor",
        ),
        ApprovalRule(
            unit_id=units["company"].id,
            condition="has_links",
            required_approvals=1,
            approver_role="supervisor",
        ),
        ApprovalRule(
            unit_id=units["company"].id,
            condition="policy_warns",
            required_approvals=1,
            approver_role="supervisor",
        ),
        ApprovalRule(
            account_id=accounts["x_main"].id,
            condition="always",
            draft_kind="post",
            required_approvals=2,
            approver_role="supervisor",
        ),
    ]
    s.add_all(approvals)


def _write_strategy(
    s: Any,
    rng: random.Random,
    units: dict[str, Unit],
    people: dict[str, Person],
    now: datetime,
) -> dict[str, StrategyItem]:
    today = now.date()

    def item(key: str, type_: str, title: str, **fields: Any) -> StrategyItem:
        it = StrategyItem(
            uuid=_uuid(rng), type=type_, title=title, created_at=now, updated_at=now, **fields
        )
        s.add(it)
        items[key] = it
        return it

    items: dict[str, StrategyItem] = {}
    item(
        "bg_loyalty",
        "business_goal",
        "Raise repeat purchases to 35 % of revenue",
        body="Owners who love their bike buy the next one and bring friends.",
        owner_id=people["helena.marsh"].id,
    )
    item(
        "bg_cost",
        "business_goal",
        "Cut the cost per support contact by 20 %",
        owner_id=people["helena.marsh"].id,
    )
    item(
        "bg_b2b",
        "business_goal",
        "Win 40 fleet customers in Europe",
        owner_id=people["helena.marsh"].id,
    )
    # Department goals, one place for them (each unit's head owns its own): the three the
    # social goals derive from, then every other unit's goals in words (UNIT_GOALS).
    department = {
        "care": ("dg_care", "First response under 2 hours on every channel"),
        "marketing": ("dg_marketing", "Grow the owners' community to 50,000 members"),
        "sales": ("dg_sales", "Qualify every fleet enquiry within one business day"),
    }
    for position, (unit_key, text) in enumerate(UNIT_GOALS.items()):
        key, title = department.get(unit_key, (f"dg_{unit_key}", text.split(":")[0]))
        item(
            key,
            "department_goal",
            title,
            body=text,
            unit_id=units[unit_key].id,
            owner_id=people[UNIT_HEADS[unit_key]].id,
            position=position,
        )
    item(
        "ai_commuters",
        "audience_insight",
        "Urban commuters, 25 to 45",
        body=(
            "Ride daily, talk on X during the commute, ask practical questions (range, "
            "charging, theft) and complain loudly about late deliveries."
        ),
    )
    item(
        "ai_fleet",
        "audience_insight",
        "Fleet and facility managers",
        body="Research on LinkedIn and Facebook groups; want quotes, TCO figures and references.",
    )
    item(
        "ai_parents",
        "audience_insight",
        "Parents choosing cargo bikes",
        body="Safety first; ask in Facebook comments and share long experience reports.",
    )
    # key, title, KPI (name, target, unit, baseline), parents, owner, unit
    social = [
        (
            "sg_response",
            "Answer 90 % of mentions within 2 hours",
            ("median first response", 2.0, "hours", 6.5),
            ("bg_cost", "dg_care"),
            ("ai_commuters",),
            "marcus.kelly",
            "care",
        ),
        (
            "sg_community",
            "Turn happy owners into advocates",
            ("owner posts shared per month", 500.0, "posts", 120.0),
            ("bg_loyalty", "dg_marketing"),
            ("ai_commuters", "ai_parents"),
            "emma.laurent",
            "marketing",
        ),
        (
            "sg_leads",
            "Generate qualified fleet leads on social",
            ("qualified leads per quarter", 60.0, "leads", 12.0),
            ("bg_b2b", "dg_sales"),
            ("ai_fleet",),
            "rachel.adams",
            "sales",
        ),
    ]
    for position, (key, title, kpi, goals, insights, owner, unit_key) in enumerate(social):
        name, target, kpi_unit, baseline = kpi
        sg = item(
            key,
            "social_goal",
            title,
            kpi=name,
            kpi_target=target,
            kpi_unit=kpi_unit,
            baseline=baseline,
            deadline=date(today.year + 1, 6, 30),
            owner_id=people[owner].id,
            unit_id=units[unit_key].id,
            position=position,
        )
        s.flush()
        for parent in (*goals, *insights):
            s.add(StrategyLink(child_id=sg.id, parent_id=items[parent].id))
    tactics = [
        (
            "t_care_rota",
            "Follow-the-sun care rota on X and Messenger",
            "X, Messenger",
            "24/7",
            "sg_response",
            "marcus.kelly",
            "short",
        ),
        (
            "t_faq",
            "Weekly 'Ask a mechanic' thread",
            "X",
            "weekly",
            "sg_response",
            "chen.wei",
            "medium",
        ),
        (
            "t_owners",
            "Owner stories every Friday",
            "Facebook, Instagram",
            "weekly",
            "sg_community",
            "jamal.carter",
            "short",
        ),
        (
            "t_ambassadors",
            "Ambassador programme for riders with 10k+ followers",
            "X, Facebook",
            "quarterly",
            "sg_community",
            "emma.laurent",
            "long",
        ),
        (
            "t_fleet_case",
            "Fleet case studies with city partners",
            "Facebook",
            "monthly",
            "sg_leads",
            "victor.ortiz",
            "medium",
        ),
    ]
    for position, (key, title, channel, cadence, goal, owner, horizon) in enumerate(tactics):
        t = item(
            key,
            "tactic",
            title,
            channel=channel,
            cadence=cadence,
            owner_id=people[owner].id,
            horizon=horizon,
            unit_id=items[goal].unit_id,
            position=position,
        )
        s.flush()
        s.add(StrategyLink(child_id=t.id, parent_id=items[goal].id))
    return items


# --- conversations -----------------------------------------------------------------------------


class _ConversationWriter:
    """Generates conversations batch by batch and writes them set-wise with Core."""

    def __init__(self, db: Database, ids: _Ids, seed: int, now: datetime) -> None:
        self._db = db
        self._ids = ids
        self._rng = random.Random(seed * 7919 + 1)
        self._goal_rng = random.Random(seed * 31 + 7)  # its own: the rest stays as it was
        self._text = TextFactory()
        self._now_ms = to_epoch_ms(now)
        self._topics = list(TOPIC_WEIGHTS)
        self._topic_cum = _cumulative(TOPIC_WEIGHTS.values())
        self._langs = list(LANG_WEIGHTS)
        self._lang_cum = _cumulative(LANG_WEIGHTS.values())
        self._next_conv = self._next_msg = self._next_author = 1
        with db.engine.connect() as conn:
            self._next_author = _next_id(conn, Author)
            self._next_conv = _next_id(conn, Conversation)
            self._next_msg = _next_id(conn, Message)
        self._recent_authors: list[tuple[int, str]] = []
        self._author_info: dict[int, tuple[str, str, int | None]] = {}  # ext id, handle, followers
        # The routing engine, on the rules and units just written (the demo knows each text's
        # language, so the language model is never loaded).
        with db.uow() as uow:
            self._routing = RoutingService(db).context(uow)
        self._owner_units = {
            ids.accounts[key]: ids.units[row[4]] for key, row in ids.account_rows.items()
        }
        self._ext_counter = 1_850_000_000_000_000_000

    def run(self, total: int, progress: Progress | None) -> int:
        done = messages = 0
        while done < total:
            n = min(BATCH, total - done)
            messages += self._write_batch(n, done, total)
            done += n
            if progress is not None:
                progress(done, total)
        if progress is not None and total == 0:
            progress(0, 0)
        return messages

    def _write_batch(self, n: int, done: int, total: int) -> int:
        convs: list[dict[str, Any]] = []
        msgs: list[dict[str, Any]] = []
        new_authors: list[dict[str, Any]] = []
        tags: list[dict[str, Any]] = []
        notes: list[dict[str, Any]] = []
        for i in range(n):
            self._one(done + i, total, convs, msgs, new_authors, tags, notes)
        with self._db.engine.begin() as conn:
            if new_authors:
                conn.execute(insert(Author), new_authors)
            conn.execute(insert(Conversation), convs)
            conn.execute(insert(Message), msgs)
            if history := _history(conn, convs):
                conn.execute(insert(ConversationEvent), history)
            if tags:
                conn.execute(insert(ConversationTag), tags)
            if notes:
                conn.execute(insert(Note), notes)
            if sightings := _spam_sightings(convs, msgs, self._author_info):
                conn.execute(insert(TextSighting), sightings)
        return len(msgs)

    def _pick_account(self, lang: str) -> str:
        r = self._rng.random()
        if lang == "de":
            return "sbx_de" if r < 0.8 else "x_help"
        if lang == "es":
            return "sbx_es" if r < 0.8 else "fb_page"
        if r < 0.30:
            return "sbx_care"
        if r < 0.50:
            return "sbx_main"
        if r < 0.72:
            return "x_help"
        if r < 0.86:
            return "x_main"
        return "fb_page"

    #: Which conversations community managers tagged with the social goal they served.
    GOAL_TAGS: ClassVar[dict[str, tuple[str, float]]] = {
        "praise": ("sg_community", 0.5),
        "sales_lead": ("sg_leads", 0.7),
        "partnership": ("sg_leads", 0.3),
        "complaint": ("sg_response", 0.25),  # answered ones only
        "question": ("sg_response", 0.15),
    }

    def _goal_for(self, topic: str, answered: bool) -> int | None:
        goal, share = self.GOAL_TAGS.get(topic, ("", 0.0))
        if not goal or goal not in self._ids.goals or self._goal_rng.random() >= share:
            return None
        if goal == "sg_response" and not answered:
            return None
        return self._ids.goals[goal]

    def _one(
        self,
        index: int,
        total: int,
        convs: list[dict[str, Any]],
        msgs: list[dict[str, Any]],
        new_authors: list[dict[str, Any]],
        tags: list[dict[str, Any]],
        notes: list[dict[str, Any]],
    ) -> None:
        rng = self._rng
        topic = self._topics[_pick(rng, self._topic_cum)]
        lang = self._langs[_pick(rng, self._lang_cum)]
        thread = self._text.thread(rng, lang, topic, long=rng.random() < 0.02)
        acc_key = self._pick_account(lang)
        acc_row = self._ids.account_rows[acc_key]
        network = acc_row[1]
        account_id = self._ids.accounts[acc_key]
        dm = topic != "spam" and rng.random() < 0.22
        # Spread over the history, newer conversations later in the sequence, with a daily rhythm.
        position = (index + rng.random()) / max(total, 1)
        start_ms = self._now_ms - int((1 - position) * HISTORY_DAYS * DAY_MS)
        start_ms -= rng.randrange(0, 3 * HOUR_MS)
        author_id, is_new = self._author(network, lang, new_authors)
        conv_id = self._next_conv
        self._next_conv += 1
        thread_type, first_kind = _thread_shape(network, dm, rng)
        thread_ext = self._ext()
        company_author = self._ids.company_authors[acc_key]
        first_in = last_in = first_out = None
        last_ms = start_ms
        count = 0
        for m_index, m in enumerate(thread.messages):
            at = start_ms + m.offset_s * 1000
            if at > self._now_ms:
                break
            inbound = m.direction == "in"
            ext = thread_ext if m_index == 0 else self._ext()
            kind = first_kind if m_index == 0 else ("dm" if dm else "reply")
            msgs.append(
                {
                    "id": self._next_msg,
                    "network": network,
                    "account_id": account_id,
                    "external_id": ext,
                    "conversation_id": conv_id,
                    "author_id": author_id if inbound else company_author,
                    "direction": m.direction,
                    "kind": kind,
                    "text": m.text,
                    "language": thread.lang,
                    "created_at": at,
                    "in_reply_to": None if m_index == 0 else thread_ext,
                    "permalink": _permalink(network, acc_row[2], ext, dm),
                    "raw": _raw(network, ext, m.text, at, thread_ext, dm),
                }
            )
            self._next_msg += 1
            count += 1
            last_ms = at
            if inbound:
                first_in = first_in or at
                last_in = at
            elif first_out is None:
                first_out = at
        last_text = msgs[-1]["text"]
        decision = self._route(thread, account_id, network, first_kind, start_ms, author_id, is_new)
        status = (
            ConversationStatus.SPAM
            if decision.status == ConversationStatus.SPAM
            else self._status(last_ms, msgs[-1])
        )
        unit_id = decision.unit_id
        agents = self._ids.unit_agents.get(unit_id) or []
        assignee = (
            agents[rng.randrange(len(agents))]
            if agents and status in ("open", "waiting", "resolved") and rng.random() < 0.8
            else None
        )
        convs.append(
            {
                "id": conv_id,
                "network": network,
                "account_id": account_id,
                "thread_type": thread_type,
                "external_thread_id": thread_ext,
                "root_external_id": thread_ext,
                "kind": first_kind,
                "unit_id": unit_id,
                "assignee_id": assignee,
                "author_id": author_id,
                "status": status,
                "priority": decision.priority,
                "sentiment": decision.sentiment,
                "language": thread.lang,
                "preview": " ".join(last_text.split())[:200],
                "message_count": count,
                "first_inbound_at": first_in,
                "first_response_at": first_out,
                "sla_due_at": decision.sla_due_at,
                "last_inbound_at": last_in,
                "last_activity_at": last_ms,
                "routed_by_rule_id": decision.rule_id,
                "routing_reason": fit(decision.reason, REASON),
                "spam_score": decision.spam_score,
                "spam_reasons": decision.spam_reasons,
                "social_goal_id": self._goal_for(topic, first_out is not None),
                "created_at": start_ms,
                "claimed_at": (first_in or start_ms) if assignee else None,
                "resolved_at": last_ms if status == ConversationStatus.RESOLVED else None,
            }
        )
        for tag in decision.tags:
            if tag in self._ids.tags:
                tags.append({"conversation_id": conv_id, "tag_id": self._ids.tags[tag]})
        if status in ("open", "waiting") and assignee and rng.random() < 0.08:
            notes.append(
                {
                    "conversation_id": conv_id,
                    "person_id": assignee,
                    "text": _NOTE_TEXTS[rng.randrange(len(_NOTE_TEXTS))],
                    "created_at": last_ms,
                }
            )

    def _route(
        self,
        thread: DemoThread,
        account_id: int,
        network: str,
        kind: str,
        start_ms: int,
        author_id: int,
        is_new: bool,
    ) -> NewThread:
        """What the routing engine decides for the thread's first message."""
        ext, handle, followers = self._author_info[author_id]
        return decide(
            self._routing,
            FirstMessage(
                account_id=account_id,
                network=network,
                kind=kind,
                direction="in",
                text=thread.messages[0].text,
                created_at=from_epoch_ms(start_ms),
                author_external_id=ext,
                author_handle=handle,
                followers=followers,
                first_seen=is_new,
                known_spam_author=False,
                language=thread.lang,
                sentiment=thread.sentiment if thread.lang == "en" else None,
                signals_known=True,
            ),
            self._owner_units[account_id],
        )

    def _status(self, last_ms: int, last_msg: dict[str, Any]) -> str:
        rng = self._rng
        age_h = (self._now_ms - last_ms) / HOUR_MS
        answered = last_msg["direction"] == "out"
        if age_h > 72:
            return ConversationStatus.RESOLVED if rng.random() < 0.93 else ConversationStatus.OPEN
        if answered:
            return ConversationStatus.WAITING if rng.random() < 0.6 else ConversationStatus.RESOLVED
        return ConversationStatus.NEW if age_h < 24 else ConversationStatus.OPEN

    def _author(
        self, network: str, lang: str, new_authors: list[dict[str, Any]]
    ) -> tuple[int, bool]:
        rng = self._rng
        if self._recent_authors and rng.random() < 0.18:
            author_id, _ = self._recent_authors[rng.randrange(len(self._recent_authors))]
            return author_id, False
        a = self._text.author(rng, lang)
        author_id = self._next_author
        self._next_author += 1
        ext = str(10_000_000 + author_id * 37) if network != "sandbox" else f"sbx-u{author_id}"
        new_authors.append(
            {
                "id": author_id,
                "network": network,
                "external_id": ext,
                "handle": a.handle if network != "facebook" else None,
                "display_name": a.display_name,
                "avatar_url": None,
                "followers_count": a.followers if network != "facebook" else None,
                "is_spammer": False,
                "raw": None,
            }
        )
        self._author_info[author_id] = (
            ext,
            a.handle if network != "facebook" else "",
            (a.followers if network != "facebook" else None),
        )
        self._recent_authors.append((author_id, network))
        if len(self._recent_authors) > 5_000:
            del self._recent_authors[:1_000]
        return author_id, True

    def _ext(self) -> str:
        self._ext_counter += self._rng.randrange(1, 5_000)
        return str(self._ext_counter)


_NOTE_TEXTS = (
    "Customer called the hotline too; ticket #SR-20931 in the CRM.",
    "Waiting for the warehouse to confirm the replacement part.",
    "VIP rider, be extra careful with the wording.",
    "Asked Legal for a check before answering.",
    "Second contact about the same order; escalate if no answer by tomorrow.",
)


def _spam_sightings(
    convs: Sequence[dict[str, Any]],
    msgs: Sequence[dict[str, Any]],
    authors: dict[int, tuple[str, str, int | None]],
) -> list[dict[str, Any]]:
    """What the spam filter keeps of the spam it saw: each spam text's fingerprint, author, time."""
    spam = {c["id"] for c in convs if c["status"] == ConversationStatus.SPAM}
    return [
        {
            "fingerprint": fingerprint(m["text"]),
            "author": f"{m['network']}:{authors[m['author_id']][0]}",
            "at": m["created_at"],
        }
        for m in msgs
        if m["conversation_id"] in spam and m["direction"] == "in" and m["author_id"] in authors
    ]


def _history(conn: Connection, convs: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The status history the demo's conversations have: who claimed them, who resolved them."""
    names = dict(conn.execute(select(Person.id, Person.name)).tuples().all())
    events: list[dict[str, Any]] = []

    def event(c: dict[str, Any], at: int, kind: str, before: Any, after: Any) -> None:
        events.append(
            {
                "conversation_id": c["id"],
                "at": at,
                "person_id": c["assignee_id"],
                "person_name": names.get(c["assignee_id"], ""),
                "kind": kind,
                "before": before,
                "after": after,
                "unit_from": None,
                "unit_to": None,
                "rule_id": None,
                "reason": "",
            }
        )

    for c in convs:
        if c["assignee_id"] is not None:
            claimed = {"assignee_id": c["assignee_id"]}
            event(c, c["claimed_at"], "claimed", {"assignee_id": None}, claimed)
        if c["resolved_at"] is not None:
            event(c, c["resolved_at"], "status", {"status": "open"}, {"status": "resolved"})
    return events


def _cumulative(weights: Sequence[int] | Any) -> list[int]:
    total, out = 0, []
    for w in weights:
        total += w
        out.append(total)
    return out


def _pick(rng: random.Random, cumulative: list[int]) -> int:
    r = rng.randrange(cumulative[-1])
    for i, c in enumerate(cumulative):
        if r < c:
            return i
    return len(cumulative) - 1  # pragma: no cover - r < cumulative[-1] always


def _thread_shape(network: str, dm: bool, rng: random.Random) -> tuple[str, str]:
    if network == Network.X:
        return ("x_dm", "dm") if dm else ("x_thread", "mention")
    if network == Network.FACEBOOK:
        return ("fb_messenger", "dm") if dm else ("fb_post", "comment")
    if dm:
        return "sandbox_dm", "dm"
    return "sandbox_thread", "mention" if rng.random() < 0.6 else "comment"


def _permalink(network: str, handle: str, ext: str, dm: bool) -> str | None:
    if dm:
        return None
    if network == Network.X:
        return f"https://x.com/i/web/status/{ext}"
    if network == Network.FACEBOOK:
        return f"https://www.facebook.com/{ext}"
    return f"sandbox://{handle}/{ext}"


def _raw(network: str, ext: str, text: str, at_ms: int, thread: str, dm: bool) -> dict[str, Any]:
    created = datetime.fromtimestamp(at_ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    if network == Network.X and not dm:
        return {
            "id": ext,
            "text": text,
            "edit_history_tweet_ids": [ext],
            "conversation_id": thread,
            "created_at": created,
        }
    if network == Network.X:
        return {"id": ext, "event_type": "MessageCreate", "text": text, "created_at": created}
    return {"id": ext, "message": text, "created_time": created, "source": network}


def _next_id(conn: Connection, model: Any) -> int:
    return int(conn.execute(select(model.id).order_by(model.id.desc()).limit(1)).scalar() or 0) + 1


def is_demo_missing(path: Path) -> bool:
    """True when the demo workspace file still has to be generated."""
    return not path.exists() or path.stat().st_size == 0


__all__ = [
    "DemoError",
    "DemoStats",
    "WorkspaceError",
    "fill_demo",
    "generate_demo_workspace",
    "is_demo_missing",
]
