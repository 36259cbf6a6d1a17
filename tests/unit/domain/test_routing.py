"""The routing engine: conditions, actions, what several matching rules do, and its refusals."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.enums import MessageKind, Network, Priority
from app.domain.routing import (
    AccountIn,
    AddTags,
    Assign,
    AuthorIn,
    FirstSeenAuthor,
    KindIn,
    LanguageIn,
    LocalTime,
    MarkSpam,
    MinFollowers,
    NetworkIn,
    Regex,
    RouteTo,
    RoutingInput,
    Rule,
    RuleError,
    RuleSet,
    SentimentAbove,
    SentimentBelow,
    SetPriority,
    Words,
    normalize_text,
)

TRIAGE, CARE, SALES, LEGAL, DE = 1, 2, 3, 4, 5
UNITS = {TRIAGE: "Triage", CARE: "Customer Care", SALES: "Sales", LEGAL: "Legal", DE: "Acme DE"}
NOON = datetime(2024, 5, 6, 12, 0, tzinfo=UTC)  # a Monday


def msg(text: str = "hello", **kw: object) -> RoutingInput:
    base: dict[str, object] = {
        "account_id": 10,
        "network": Network.X,
        "kind": MessageKind.MENTION,
        "text": text,
        "language": "en",
        "sentiment": 0.0,
        "author_external_id": "u1",
        "author_handle": "alice",
        "author_followers": 100,
        "author_first_seen": False,
        "created_at": NOON,
    }
    base.update(kw)
    return RoutingInput(**base)  # type: ignore[arg-type]


def ruleset(*rules: Rule, tz: str = "UTC") -> RuleSet:
    return RuleSet.compile(rules, UNITS, triage_unit_id=TRIAGE, time_zone=tz)


def words_rule(
    rid: int, terms: tuple[str, ...], *, mode: str = "any", unit: int | None = CARE, **kw: object
) -> Rule:
    actions = (RouteTo(unit),) if unit is not None else ()
    return Rule(
        id=rid,
        name=f"r{rid}",
        position=rid,
        conditions=(Words(terms, mode),),  # type: ignore[arg-type]
        actions=kw.pop("actions", actions),  # type: ignore[arg-type]
        **kw,  # type: ignore[arg-type]
    )


def matches(rule: Rule, message: RoutingInput, tz: str = "UTC") -> bool:
    return bool(ruleset(rule, tz=tz).evaluate(message).matches)


# -- the documented example and the fallbacks -------------------------------------------------


def test_the_reason_names_every_rule_that_acted() -> None:
    rules = (
        Rule(
            1,
            "refund or broken",
            1,
            conditions=(Words(("refund", "broken")),),
            actions=(RouteTo(CARE),),
        ),
        Rule(
            2,
            "refund words",
            2,
            conditions=(Words(("refund",)),),
            actions=(AddTags(("refund",)), RouteTo(SALES)),
        ),
    )
    d = ruleset(*rules).evaluate(msg("I want a REFUND now"))
    assert d.unit_id == CARE
    assert d.rule_id == 1
    assert d.source == "rule"
    assert d.tags == ("refund",)
    assert (
        d.reason
        == "Customer Care, by rule 'refund or broken'; tagged 'refund' by rule 'refund words'"
    )
    assert [m.rule_id for m in d.matches] == [1, 2]
    second = d.matches[1].effects
    assert [(type(e.action).__name__, e.applied) for e in second] == [
        ("AddTags", True),
        ("RouteTo", False),
    ]
    assert "not applied" in second[1].description


def test_nothing_matches_goes_to_the_owner_then_to_triage() -> None:
    rs = ruleset(words_rule(1, ("refund",)))
    owner = rs.evaluate(msg("hello"), owner_unit_id=SALES)
    assert (owner.unit_id, owner.rule_id, owner.source) == (SALES, None, "owner")
    assert owner.reason == "No rule routed it: the account owner's unit (Sales)"
    triage = rs.evaluate(msg("hello"))
    assert (triage.unit_id, triage.source) == (TRIAGE, "triage")
    assert triage.reason.endswith(": Triage")
    assert triage.matches == ()


def test_a_matching_rule_that_does_not_route_still_acts() -> None:
    rs = ruleset(
        Rule(
            1,
            "vip",
            1,
            conditions=(MinFollowers(10_000),),
            actions=(Assign(7), SetPriority(Priority.HIGH), MarkSpam()),
        )
    )
    d = rs.evaluate(msg(author_followers=50_000), owner_unit_id=CARE)
    assert (d.unit_id, d.source, d.assignee_id, d.priority, d.spam) == (
        CARE,
        "owner",
        7,
        Priority.HIGH,
        True,
    )
    assert "the account owner's unit (Customer Care)" in d.reason
    assert "assigned to person #7 by rule 'vip'" in d.reason


def test_first_assignment_and_priority_win_and_spam_from_any() -> None:
    rs = ruleset(
        Rule(1, "a", 1, actions=(Assign(1), SetPriority(Priority.LOW))),
        Rule(2, "b", 2, actions=(Assign(2), SetPriority(Priority.URGENT), MarkSpam())),
    )
    d = rs.evaluate(msg())
    assert (d.assignee_id, d.priority, d.spam) == (1, Priority.LOW, True)


def test_stop_ends_evaluation() -> None:
    rs = ruleset(
        Rule(1, "first", 1, actions=(AddTags(("a",)),), stop=True),
        Rule(2, "second", 2, actions=(RouteTo(SALES), AddTags(("b",)))),
    )
    d = rs.evaluate(msg())
    assert d.tags == ("a",)
    assert [m.rule_id for m in d.matches] == [1]
    assert d.matches[0].stopped
    assert "rule 'first' stopped evaluation" in d.reason


# -- words -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("terms", "text", "expected"),
    [
        (("refund",), "Refund please", True),
        (("refund",), "refunds please", False),  # whole words only
        (("refund",), "nonrefund", False),
        (("refund",), "(refund)!", True),
        (("café",), "CAFE is closed", True),  # accents and case
        (("cafe",), "Le Café", True),
        (("straße",), "STRASSE", True),  # casefold
        (("money back",), "I want my Money   back!", True),  # phrases, white space
        (("money back",), "money, back", False),
        (("#fail",), "what an epic#fail", True),  # a punctuation edge needs no boundary
        (("#fail",), "#failure", False),
        (("返金",), "返金してください", True),  # no spaces in Japanese
        (("über",), "ÜBER alles", True),
        (("ü",), "u", True),
    ],
)
def test_words_are_whole_and_case_and_accent_insensitive(
    terms: tuple[str, ...], text: str, expected: bool
) -> None:
    assert matches(words_rule(1, terms), msg(text)) is expected


def test_any_versus_all() -> None:
    any_rule = words_rule(1, ("broken", "refund"))
    all_rule = words_rule(1, ("broken", "refund"), mode="all")
    assert matches(any_rule, msg("it is broken"))
    assert not matches(all_rule, msg("it is broken"))
    assert matches(all_rule, msg("broken, so: refund"))


def test_many_rules_share_one_automaton() -> None:
    rs = ruleset(
        words_rule(1, ("refund",), unit=CARE),
        words_rule(2, ("refund", "invoice"), unit=SALES),
        words_rule(3, ("lawyer",), unit=LEGAL),
    )
    d = rs.evaluate(msg("my lawyer wants an invoice"))
    assert [m.rule_id for m in d.matches] == [2, 3]
    assert d.unit_id == SALES


def test_empty_words_are_refused() -> None:
    with pytest.raises(RuleError, match="empty"):
        words_rule(1, ("  ",))
    with pytest.raises(RuleError):
        words_rule(1, ())


# -- regular expressions -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        (r"(a)\1", "invalid escape sequence"),  # backreference
        (r"refund(?=now)", "invalid perl operator"),  # lookahead
        (r"(?<!no )refund", "invalid perl operator"),  # lookbehind
        (r"[", "missing ]"),
    ],
)
def test_re2_refuses_what_it_cannot_run_with_its_reason(
    pattern: str, reason: str, capfd: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(RuleError) as info:
        Rule(3, "bad pattern", 1, conditions=(Regex(pattern),))
    err = info.value
    assert err.rule_name == "bad pattern"
    assert err.pattern == pattern
    assert reason in err.reason
    assert isinstance(err.reason, str)  # decoded from RE2's bytes
    assert "bad pattern" in str(err)
    assert pattern in str(err)
    assert reason in str(err)
    assert capfd.readouterr().err == ""  # log_errors is off


def test_regex_matches_case_insensitively_unless_asked() -> None:
    rule = Rule(1, "order", 1, conditions=(Regex(r"order #?\d{6}"),), actions=(RouteTo(SALES),))
    assert matches(rule, msg("ORDER 123456 is late"))
    strict = replace(rule, conditions=(Regex(r"order #?\d{6}", case_sensitive=True),))
    assert not matches(strict, msg("ORDER 123456 is late"))
    assert not matches(rule, msg("order 12345"))


def test_catastrophic_pattern_runs_in_linear_time() -> None:
    rule = Rule(1, "evil", 1, conditions=(Regex(r"(a+)+$"),))
    assert not matches(rule, msg("a" * 100_000 + "!"))


# -- the other conditions ----------------------------------------------------------------------


def test_account_network_kind() -> None:
    rule = Rule(
        1,
        "x dms",
        1,
        conditions=(AccountIn({10}), NetworkIn({Network.X}), KindIn({MessageKind.DM})),
    )
    assert matches(rule, msg(kind=MessageKind.DM))
    assert not matches(rule, msg(kind=MessageKind.MENTION))
    assert not matches(rule, msg(kind=MessageKind.DM, network=Network.FACEBOOK))
    assert not matches(rule, msg(kind=MessageKind.DM, account_id=11))


def test_language_and_sentiment() -> None:
    german = Rule(1, "de", 1, conditions=(LanguageIn({"de"}),), actions=(RouteTo(DE),))
    assert matches(german, msg(language="de", sentiment=None))
    assert not matches(german, msg(language=None))
    negative = Rule(1, "neg", 1, conditions=(SentimentBelow(-0.5),))
    assert matches(negative, msg(sentiment=-0.8))
    assert not matches(negative, msg(sentiment=-0.5))
    assert not matches(negative, msg(language="fr", sentiment=None))  # no score, no match
    positive = Rule(1, "pos", 1, conditions=(SentimentAbove(0.5),))
    assert matches(positive, msg(sentiment=0.9))
    assert not matches(positive, msg(sentiment=None))
    with pytest.raises(RuleError):
        Rule(1, "x", 1, conditions=(SentimentBelow(-2),))


def test_authors_followers_first_seen() -> None:
    listed = Rule(1, "list", 1, conditions=(AuthorIn({"@Alice", "999"}),))
    assert matches(listed, msg(author_handle="alice"))
    assert matches(listed, msg(author_handle="bob", author_external_id="999"))
    assert not matches(listed, msg(author_handle="bob", author_external_id="1"))
    big = Rule(1, "big", 1, conditions=(MinFollowers(1000),))
    assert matches(big, msg(author_followers=1000))
    assert not matches(big, msg(author_followers=999))
    assert not matches(big, msg(author_followers=None))
    new = Rule(1, "new", 1, conditions=(FirstSeenAuthor(),))
    assert matches(new, msg(author_first_seen=True))
    assert not matches(new, msg(author_first_seen=False))
    with pytest.raises(RuleError):
        Rule(1, "neg", 1, conditions=(MinFollowers(-1),))


def test_night_shift_across_midnight_and_dst_in_berlin() -> None:
    # Friday 22:00 to 06:00, Europe/Berlin; DST starts Sunday 2024-03-31 at 01:00 UTC.
    night = Rule(
        1, "night", 1, conditions=(LocalTime(frozenset({"sat"}), time(22, 0), time(6, 0)),)
    )
    berlin = "Europe/Berlin"

    def at(y: int, mo: int, d: int, h: int, mi: int = 0) -> RoutingInput:
        return msg(created_at=datetime(y, mo, d, h, mi, tzinfo=UTC))

    assert matches(night, at(2024, 3, 30, 21, 30), berlin)  # Sat 22:30 CET
    assert not matches(night, at(2024, 3, 30, 20, 30), berlin)  # Sat 21:30 CET
    assert matches(night, at(2024, 3, 30, 23, 30), berlin)  # Sun 00:30 CET: Saturday's night
    assert matches(night, at(2024, 3, 31, 3, 30), berlin)  # Sun 05:30 CEST
    # 04:30 UTC is 06:30 CEST (out); without DST it would be 05:30 CET (in).
    assert not matches(night, at(2024, 3, 31, 4, 30), berlin)
    assert matches(night, at(2024, 3, 31, 4, 30), "UTC")  # 04:30 in UTC is inside
    assert not matches(night, at(2024, 3, 31, 21, 30), berlin)  # Sunday night: not a Saturday
    # The autumn change: Sunday 2024-10-27 03:00 CEST becomes 02:00 CET.
    assert matches(night, at(2024, 10, 27, 4, 30), berlin)  # 05:30 CET
    assert not matches(night, at(2024, 10, 27, 5, 30), berlin)  # 06:30 CET


def test_weekdays_alone_and_bad_ranges() -> None:
    weekend = Rule(1, "weekend", 1, conditions=(LocalTime(frozenset({"sat", "sun"})),))
    assert not matches(weekend, msg())  # Monday
    assert matches(weekend, msg(created_at=datetime(2024, 5, 5, 23, 0, tzinfo=UTC)))
    assert not matches(
        weekend, msg(created_at=datetime(2024, 5, 5, 23, 0, tzinfo=UTC)), "Europe/Berlin"
    )  # already Monday 01:00 in Berlin
    with pytest.raises(RuleError):
        Rule(1, "x", 1, conditions=(LocalTime(frozenset({"mon"}), time(9), time(9)),))
    with pytest.raises(RuleError):
        Rule(1, "x", 1, conditions=(LocalTime(frozenset({"someday"})),))


def test_naive_times_and_duplicate_ids_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        msg(created_at=datetime(2024, 1, 1))
    with pytest.raises(RuleError, match="same id"):
        ruleset(Rule(1, "a", 1), Rule(1, "b", 2))


# -- properties --------------------------------------------------------------------------------

VOCAB = ("refund", "broken", "late", "invoice", "lawyer", "love", "spam", "café", "money back")
TAGS = ("t1", "t2", "t3", "t4")


@st.composite
def rules_strategy(draw: st.DrawFn, max_rules: int = 8) -> list[Rule]:
    n = draw(st.integers(0, max_rules))
    positions = draw(st.lists(st.integers(0, 20), min_size=n, max_size=n))
    out: list[Rule] = []
    for rid, pos in enumerate(positions, start=1):
        conds: list[object] = []
        if draw(st.booleans()):
            terms = draw(st.lists(st.sampled_from(VOCAB), min_size=1, max_size=3, unique=True))
            conds.append(Words(tuple(terms), draw(st.sampled_from(("any", "all")))))
        if draw(st.integers(0, 4)) == 0:
            conds.append(LanguageIn({draw(st.sampled_from(("en", "de")))}))
        if draw(st.integers(0, 4)) == 0:
            conds.append(SentimentBelow(draw(st.floats(-1, 1))))
        if draw(st.integers(0, 5)) == 0:
            conds.append(Regex(draw(st.sampled_from((r"\d{3}", r"(?i)ref+und", "^hi")))))
        actions: list[object] = []
        if draw(st.booleans()):
            actions.append(RouteTo(draw(st.sampled_from((CARE, SALES, LEGAL)))))
        if draw(st.booleans()):
            tags = draw(st.lists(st.sampled_from(TAGS), min_size=1, max_size=2))
            actions.append(AddTags(tuple(tags)))
        if draw(st.integers(0, 3)) == 0:
            actions.append(MarkSpam())
        out.append(
            Rule(
                rid,
                f"rule {rid}",
                pos,
                enabled=draw(st.integers(0, 4)) > 0,
                conditions=tuple(conds),  # type: ignore[arg-type]
                actions=tuple(actions),  # type: ignore[arg-type]
                stop=draw(st.integers(0, 5)) == 0,
            )
        )
    return out


texts = st.one_of(
    st.lists(st.sampled_from((*VOCAB, "hi", "123", "CAFE", "Refund!", "x"))).map(" ".join),
    st.text(max_size=60),
)
messages = st.builds(
    msg,
    text=texts,
    language=st.sampled_from(("en", "de", None)),
    sentiment=st.one_of(st.none(), st.floats(-1, 1)),
)
owners = st.one_of(st.none(), st.just(SALES))


def _reference(rules: list[Rule], m: RoutingInput, owner: int | None) -> tuple[list[int], int]:
    """The semantics written naively: every enabled rule in order, each condition on its own."""
    rs_single = {r.id: ruleset(replace(r, enabled=True, stop=False)) for r in rules}
    matched: list[int] = []
    for rule in sorted(rules, key=lambda r: (r.position, r.id)):
        if rule.enabled and rs_single[rule.id].evaluate(m).matches:
            matched.append(rule.id)
            if rule.stop:
                break
    by_id = {r.id: r for r in rules}
    unit = next(
        (a.unit_id for rid in matched for a in by_id[rid].actions if isinstance(a, RouteTo)),
        owner if owner is not None else TRIAGE,
    )
    return matched, unit


@settings(max_examples=300, deadline=None)
@given(rules_strategy(), messages, owners)
def test_order_stop_fallback_and_tags_hold(
    rules: list[Rule], m: RoutingInput, owner: int | None
) -> None:
    d = ruleset(*rules).evaluate(m, owner_unit_id=owner)
    matched, unit = _reference(rules, m, owner)
    assert [x.rule_id for x in d.matches] == matched
    assert d.unit_id == unit
    by_id = {r.id: r for r in rules}
    assert all(by_id[x.rule_id].enabled for x in d.matches)  # disabled rules never match
    expected_tags = list(
        dict.fromkeys(
            t
            for rid in matched
            for a in by_id[rid].actions
            if isinstance(a, AddTags)
            for t in a.tags
        )
    )
    assert list(d.tags) == expected_tags
    assert d.spam == any(isinstance(a, MarkSpam) for rid in matched for a in by_id[rid].actions)
    if d.rule_id is None:
        assert d.source == ("owner" if owner is not None else "triage")
    else:
        assert d.source == "rule"
        assert d.rule_id == next(
            rid for rid in matched if any(isinstance(a, RouteTo) for a in by_id[rid].actions)
        )


@settings(max_examples=200, deadline=None)
@given(rules_strategy(), messages, owners)
def test_evaluation_is_deterministic_and_order_of_input_is_irrelevant(
    rules: list[Rule], m: RoutingInput, owner: int | None
) -> None:
    a = ruleset(*rules).evaluate(m, owner_unit_id=owner)
    b = ruleset(*reversed(rules)).evaluate(m, owner_unit_id=owner)
    assert a == b
    assert a == ruleset(*rules).evaluate(m, owner_unit_id=owner)


@settings(max_examples=200, deadline=None)
@given(rules_strategy(), messages, owners, st.integers(-5, 30))
def test_adding_a_rule_that_does_not_match_changes_nothing(
    rules: list[Rule], m: RoutingInput, owner: int | None, position: int
) -> None:
    before = ruleset(*rules).evaluate(m, owner_unit_id=owner)
    never = Rule(
        999,
        "never",
        position,
        conditions=(AccountIn({-1}),),
        actions=(RouteTo(LEGAL), AddTags(("zzz",)), MarkSpam()),
        stop=True,
    )
    assert ruleset(*rules, never).evaluate(m, owner_unit_id=owner) == before
    disabled = replace(never, conditions=(), enabled=False)
    assert ruleset(*rules, disabled).evaluate(m, owner_unit_id=owner) == before


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=200))
def test_any_text_never_raises(text: str) -> None:
    rs = ruleset(
        words_rule(1, VOCAB),
        Rule(2, "re", 2, conditions=(Regex(r"\w+\d"),), actions=(AddTags(("x",)),)),
        Rule(3, "all", 3, actions=(AddTags(("y",)),)),
    )
    d = rs.evaluate(msg(text))
    assert d.tags[-1] == "y"
    assert isinstance(normalize_text(text), str)
