"""Routing rules to and from their stored JSON: a round trip, and refusals in words."""

from __future__ import annotations

from datetime import time
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.enums import MessageKind, Network, Priority
from app.domain.hours import WEEKDAYS
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
    RuleError,
    SentimentAbove,
    SentimentBelow,
    SetPriority,
    Words,
)
from app.domain.rule_codec import (
    actions_from_json,
    actions_to_json,
    conditions_from_json,
    conditions_to_json,
    rule_from_json,
)

_word = st.text(alphabet="abcdefghijklmnopqrstuvwxyzäöüß ", min_size=1, max_size=12).filter(
    lambda w: w.strip()
)


@st.composite
def condition_objects(draw: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if draw(st.booleans()):
        out["accounts"] = sorted(draw(st.sets(st.integers(1, 99), min_size=1, max_size=3)))
    if draw(st.booleans()):
        out["networks"] = sorted(
            draw(st.sets(st.sampled_from([n.value for n in Network]), min_size=1))
        )
    if draw(st.booleans()):
        out["kinds"] = sorted(
            draw(st.sets(st.sampled_from([k.value for k in MessageKind]), min_size=1))
        )
    if draw(st.booleans()):
        out["words"] = draw(st.lists(_word, min_size=1, max_size=4))
        if draw(st.booleans()):
            out["words_mode"] = "all"
    if draw(st.booleans()):
        out["regex"] = draw(st.sampled_from([r"\border\s*#?\d{6}\b", "refund|return", "^@acme"]))
        if draw(st.booleans()):
            out["regex_case_sensitive"] = True
    if draw(st.booleans()):
        out["languages"] = sorted(
            draw(st.sets(st.sampled_from(["de", "en", "es", "fr"]), min_size=1))
        )
    if draw(st.booleans()):
        out["sentiment_below"] = draw(st.floats(-1, 1, allow_nan=False))
    if draw(st.booleans()):
        out["sentiment_above"] = draw(st.floats(-1, 1, allow_nan=False))
    if draw(st.booleans()):
        out["authors"] = sorted(draw(st.sets(st.sampled_from(["@fan", "123", "acme"]), min_size=1)))
    if draw(st.booleans()):
        out["min_followers"] = draw(st.integers(0, 10**7))
    if draw(st.booleans()):
        out["first_seen_author"] = True
    if draw(st.booleans()):
        days = draw(st.sets(st.sampled_from(WEEKDAYS), min_size=1))
        out["weekdays"] = [d for d in WEEKDAYS if d in days]
        if draw(st.booleans()):
            out["time_from"], out["time_to"] = draw(
                st.sampled_from([("22:00", "06:00"), ("09:00", "17:30")])
            )
    return out


@st.composite
def action_objects(draw: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if draw(st.booleans()):
        out["route_to_unit"] = draw(st.integers(1, 50))
    if draw(st.booleans()):
        out["assign_person"] = draw(st.integers(1, 50))
    if draw(st.booleans()):
        out["set_priority"] = draw(st.sampled_from([p.value for p in Priority]))
    if draw(st.booleans()):
        out["add_tags"] = list(
            dict.fromkeys(draw(st.lists(st.sampled_from(["refund", "vip", "press"]), min_size=1)))
        )
    if draw(st.booleans()):
        out["mark_spam"] = True
    return out


@given(condition_objects(), action_objects())
def test_stored_rules_read_back_as_they_were_written(
    conditions: dict[str, Any], actions: dict[str, Any]
) -> None:
    conds = conditions_from_json("r", conditions)
    acts = actions_from_json("r", actions)
    assert conditions_to_json(conds) == conditions
    assert actions_to_json(acts) == actions
    assert conditions_from_json("r", conditions_to_json(conds)) == conds


def test_the_demo_shape_reads_as_the_engine_expects() -> None:
    rule = rule_from_json(
        rule_id=3,
        name="Safety",
        position=1,
        enabled=True,
        conditions={"words": ["battery", "brake failure"], "languages": ["de"]},
        actions={"route_to_unit": 4, "set_priority": "urgent", "add_tag": "safety"},
        stop=True,
    )
    assert rule.conditions == (Words(("battery", "brake failure")), LanguageIn(frozenset({"de"})))
    assert rule.actions == (RouteTo(4), SetPriority(Priority.URGENT), AddTags(("safety",)))
    assert rule.stop


def test_every_condition_and_action_kind_is_understood() -> None:
    conds = conditions_from_json(
        "all",
        {
            "accounts": [1],
            "networks": ["x"],
            "kinds": ["dm"],
            "words": ["a"],
            "regex": "b+",
            "languages": ["DE"],
            "sentiment_below": -0.5,
            "sentiment_above": -0.9,
            "authors": ["@Fan"],
            "min_followers": 10,
            "first_seen_author": True,
            "weekdays": ["sat"],
            "time_from": "22:00",
            "time_to": "06:00",
        },
    )
    assert conds == (
        AccountIn(frozenset({1})),
        NetworkIn(frozenset({Network.X})),
        KindIn(frozenset({MessageKind.DM})),
        Words(("a",)),
        Regex("b+"),
        LanguageIn(frozenset({"de"})),
        SentimentBelow(-0.5),
        SentimentAbove(-0.9),
        AuthorIn(frozenset({"@Fan"})),
        MinFollowers(10),
        FirstSeenAuthor(),
        LocalTime(frozenset({"sat"}), time(22), time(6)),
    )
    acts = actions_from_json(
        "all",
        {
            "route_to_unit": 2,
            "assign_person": 5,
            "set_priority": "low",
            "add_tags": ["x"],
            "mark_spam": True,
        },
    )
    assert acts == (RouteTo(2), Assign(5), SetPriority(Priority.LOW), AddTags(("x",)), MarkSpam())


@pytest.mark.parametrize(
    ("conditions", "actions", "message"),
    [
        ({"colour": "red"}, {}, "Rule 'Bad': unknown condition 'colour'"),
        ({}, {"forward_to": 3}, "Rule 'Bad': unknown action 'forward_to'"),
        ({"words": "refund"}, {}, "Rule 'Bad': words is a list of texts"),
        ({"words": ["a"], "words_mode": "most"}, {}, "words_mode is 'any' or 'all', not 'most'"),
        ({"networks": ["myspace"]}, {}, "networks: 'myspace' is not one of x, facebook, sandbox"),
        ({"min_followers": "many"}, {}, "min_followers is a whole number, not 'many'"),
        ({"min_followers": True}, {}, "min_followers is a whole number, not True"),
        (
            {"time_from": "late", "time_to": "06:00"},
            {},
            "time_from is a time like '22:00', not 'late'",
        ),
        (
            {"regex": "(a)\\1"},
            {},
            "the regular expression '(a)\\1' cannot be used: invalid escape sequence",
        ),
        (
            {},
            {"set_priority": "asap"},
            "set_priority: 'asap' is not one of low, normal, high, urgent",
        ),
        ({}, {"route_to_unit": "Sales"}, "route_to_unit is a whole number, not 'Sales'"),
        ({"accounts": ["x"]}, {}, "accounts is a list of ids"),
        ({"words_mode": "all"}, {}, "words_mode without words"),
    ],
)
def test_a_rule_that_cannot_be_used_is_refused_in_words(
    conditions: dict[str, Any], actions: dict[str, Any], message: str
) -> None:
    with pytest.raises(RuleError) as caught:
        rule_from_json(
            rule_id=9,
            name="Bad",
            position=1,
            enabled=True,
            conditions=conditions,
            actions=actions,
            stop=False,
        )
    assert message in str(caught.value)
    assert str(caught.value).startswith("Rule 'Bad': ")
