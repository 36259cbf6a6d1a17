"""Strategy docs for the tests: a small valid funnel, hypothesis strategies and edit sequences."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

from hypothesis import strategies as st

from app.domain.enums import Horizon, Network, PolicyKind
from app.domain.strategy_doc import PolicyLineDoc, StrategyDoc, StrategyItemDoc

T = "business_goal", "department_goal", "audience_insight", "social_goal", "tactic"
BG, DG, AI, SG, TC = T


def social_goal(sid: str, *parents: str, **kw: object) -> StrategyItemDoc:
    values: dict[str, object] = {
        "owner": "ana@acme.example",
        "kpi": "median first reply",
        "kpi_target": 30,
        "kpi_unit": "minutes",
        "baseline": 720.5,
        "deadline": date(2025, 6, 30),
        "parents": parents,
    }
    values.update(kw)
    return StrategyItemDoc(sid, SG, f"Social goal {sid}", **values)  # type: ignore[arg-type]


def tactic(tid: str, parent: str, **kw: object) -> StrategyItemDoc:
    values: dict[str, object] = {
        "channel": "x",
        "cadence": "daily",
        "owner": "ana@acme.example",
        "horizon": Horizon.SHORT,
        "parents": (parent,),
    }
    values.update(kw)
    return StrategyItemDoc(tid, TC, f"Tactic {tid}", **values)  # type: ignore[arg-type]


def small_doc() -> StrategyDoc:
    return StrategyDoc.of(
        [
            StrategyItemDoc("bg1", BG, "Grow ridership", body="Two lines\nof why"),
            StrategyItemDoc("dg1", DG, "Care answers fast", unit="Acme/Care", parents=("bg1",)),
            StrategyItemDoc("ai1", AI, "Commuters complain at 8", unit="Acme/Care"),
            social_goal("sg1", "dg1", "ai1"),
            tactic("tc1", "sg1"),
            tactic("tc2", "sg1", horizon=Horizon.LONG, position=1),
        ],
        [
            PolicyLineDoc("pl1", PolicyKind.BANNED_TERM, "guarantee"),
            PolicyLineDoc("pl2", PolicyKind.LENGTH_LIMIT, "250", network=Network.X),
        ],
        base_revision=4,
        exported_at=datetime(2025, 3, 1, 9, 30, tzinfo=UTC),
        mission="Mobility people love",
        deleted={"gone1": 2},
    )


TEXT = st.text(max_size=30)
LINE = st.text(st.characters(blacklist_categories=["Cs", "Cc"]), max_size=20).map(
    lambda s: s if s.strip() else s + "x"  # titles, KPIs and values are never blank
)


@st.composite
def docs(draw: st.DrawFn) -> StrategyDoc:
    """A valid funnel of random size with random text in every text field."""
    items: list[StrategyItemDoc] = []
    counter = iter(range(10_000))

    def new_id(prefix: str) -> str:
        return f"{prefix}-{next(counter):04d}"

    goals = [
        StrategyItemDoc(new_id("bg"), BG, draw(LINE), body=draw(TEXT))
        for _ in range(draw(st.integers(1, 3)))
    ]
    insights = [
        StrategyItemDoc(new_id("ai"), AI, draw(LINE), unit=draw(st.none() | LINE))
        for _ in range(draw(st.integers(1, 3)))
    ]
    items += goals + insights
    socials = []
    for _ in range(draw(st.integers(1, 3))):
        parents = (
            draw(st.sampled_from(goals)).id,
            draw(st.sampled_from(insights)).id,
        )
        # Figures a person types (ruamel re-formats a float like 2.0377613199259093e-70).
        target = draw(
            st.integers(-(10**6), 10**6)
            | st.floats(-1e6, 1e6, allow_nan=False).map(lambda x: round(x, 2))
        )
        socials.append(
            social_goal(
                new_id("sg"),
                *parents,
                kpi=draw(LINE),
                kpi_target=target,
                position=draw(st.integers(0, 5)),
            )
        )
    items += socials
    for _ in range(draw(st.integers(0, 4))):
        items.append(
            tactic(
                new_id("tc"),
                draw(st.sampled_from(socials)).id,
                cadence=draw(LINE),
                horizon=draw(st.sampled_from(list(Horizon))),
            )
        )
    lines = [
        PolicyLineDoc(
            new_id("pl"),
            PolicyKind.RISKY_TERM,
            draw(LINE),
            network=draw(st.none() | st.sampled_from(list(Network))),
            note=draw(TEXT),
        )
        for _ in range(draw(st.integers(0, 3)))
    ]
    return StrategyDoc.of(
        items,
        lines,
        base_revision=draw(st.none() | st.integers(0, 1000)),
        mission=draw(TEXT),
        deleted={new_id("gone"): draw(st.none() | st.integers(0, 9))},
    )


# -- edit sequences --------------------------------------------------------------------------

EDITABLE = ("title", "body", "unit", "position")  # any item; the funnel still holds after
OPS = st.sampled_from(
    ("field", "field", "delete_tactic", "add_tactic", "link", "policy", "mission")
)


@st.composite
def edits(draw: st.DrawFn, doc: StrategyDoc, side: str) -> StrategyDoc:
    """``doc`` after a random sequence of edits that keep the funnel valid."""
    items = dict(doc.items)
    policy = dict(doc.policy)
    mission = doc.mission
    values = st.sampled_from(("a", "b", "c", "", "a\nb"))
    for n in range(draw(st.integers(0, 8))):
        op = draw(OPS)
        ids = sorted(items)
        if op == "field" and ids:
            rid = draw(st.sampled_from(ids))
            name = draw(st.sampled_from(EDITABLE))
            value: object = draw(st.integers(0, 3)) if name == "position" else draw(values)
            if name == "title" and not value:
                value = "t"
            items[rid] = replace(items[rid], **{name: value})
        elif op == "delete_tactic":
            tactics = [i for i in ids if items[i].type == TC]
            if tactics:
                del items[draw(st.sampled_from(tactics))]
        elif op == "add_tactic":
            socials = [i for i in ids if items[i].type == SG]
            if socials:
                tid = f"new-{side}-{n}"
                items[tid] = tactic(tid, draw(st.sampled_from(socials)))
        elif op == "link":
            socials = [i for i in ids if items[i].type == SG]
            extra = [i for i in ids if items[i].type in (AI, BG)]
            if socials and extra:
                sid = draw(st.sampled_from(socials))
                parent = draw(st.sampled_from(extra))
                items[sid] = replace(items[sid], parents=(*items[sid].parents, parent))
        elif op == "policy" and policy:
            lid = draw(st.sampled_from(sorted(policy)))
            policy[lid] = replace(policy[lid], note=draw(values))
        elif op == "mission":
            mission = draw(values)
    return replace(doc, items=items, policy=policy, mission=mission)
