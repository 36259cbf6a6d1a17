"""The rule form reads back exactly the rule it was filled with (every condition and action)."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.domain.enums import MessageKind, Network, Priority
from app.domain.hours import WEEKDAYS
from app.domain.rows import AccountRow, PersonRow, UnitRow
from app.domain.rule_codec import (
    actions_from_json,
    actions_to_json,
    conditions_from_json,
    conditions_to_json,
)
from app.ui.settings.rule_form import RuleForm

UNITS = [
    UnitRow(1, None, "/1/", "Acme", "company", "#000000", "", False),
    UnitRow(2, 1, "/1/2/", "Care", "department", "#000000", "", False),
    UnitRow(3, 1, "/1/3/", "Triage", "queue", "#000000", "", True),
]
PEOPLE = [PersonRow(7, "Tom", "tom@x", "", ()), PersonRow(8, "Ada", "ada@x", "", ())]
ACCOUNTS = [
    AccountRow(4, "x", "acme", "Acme", 2, "connected", "", 90),
    AccountRow(5, "sandbox", "acme_de", "Acme DE", 2, "connected", "", 90),
]
_word = st.text(alphabet="abcdefghijklmnopqrstuvwxyzäöü", min_size=1, max_size=8)
_times = st.sampled_from(["00:00", "06:30", "09:00", "17:45", "22:00"])


def _subset(values: list[Any]) -> st.SearchStrategy[list[Any]]:
    return st.lists(st.sampled_from(values), unique=True, min_size=1, max_size=len(values))


@st.composite
def conditions(draw: st.DrawFn) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if draw(st.booleans()):
        out["accounts"] = draw(_subset([4, 5]))
    if draw(st.booleans()):
        out["networks"] = draw(_subset([n.value for n in Network]))
    if draw(st.booleans()):
        out["kinds"] = draw(_subset([k.value for k in MessageKind]))
    if draw(st.booleans()):
        out["words"] = draw(
            st.lists(
                st.lists(_word, min_size=1, max_size=2).map(" ".join),
                min_size=1,
                max_size=4,
                unique=True,
            )
        )
        if draw(st.booleans()):
            out["words_mode"] = "all"
    if draw(st.booleans()):
        out["regex"] = draw(st.sampled_from(["order [0-9]{6}", "(?:fire|smoke)", "^hi", "a+b"]))
        if draw(st.booleans()):
            out["regex_case_sensitive"] = True
    if draw(st.booleans()):
        out["languages"] = draw(_subset(["de", "en", "es"]))
    for key in ("sentiment_below", "sentiment_above"):
        if draw(st.booleans()):
            out[key] = draw(st.integers(-100, 100)) / 100
    if draw(st.booleans()):
        out["authors"] = draw(_subset(["@bigfan", "123456", "press_office"]))
    if draw(st.booleans()):
        out["min_followers"] = draw(st.integers(0, 5_000_000))
    if draw(st.booleans()):
        out["first_seen_author"] = True
    if draw(st.booleans()):
        out["weekdays"] = draw(_subset(list(WEEKDAYS)))
        start, end = draw(_times), draw(_times)
        if draw(st.booleans()) and start != end:
            out["time_from"], out["time_to"] = start, end
    return out


@st.composite
def actions(draw: st.DrawFn) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if draw(st.booleans()):
        out["route_to_unit"] = draw(st.sampled_from([1, 2, 3]))
    if draw(st.booleans()):
        out["assign_person"] = draw(st.sampled_from([7, 8]))
    if draw(st.booleans()):
        out["set_priority"] = draw(st.sampled_from([p.value for p in Priority]))
    if draw(st.booleans()):
        out["add_tags"] = draw(st.lists(_word, min_size=1, max_size=3, unique=True))
    if draw(st.booleans()):
        out["mark_spam"] = True
    return out


def _canonical(c: dict[str, Any], a: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    conds = conditions_to_json(conditions_from_json("r", c))
    if len(conds.get("weekdays", ())) == len(WEEKDAYS) and "time_from" not in conds:
        del conds["weekdays"]  # every day at any hour holds always: the form drops it
    return conds, actions_to_json(actions_from_json("r", a))


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=60)
@given(c=conditions(), a=actions(), enabled=st.booleans(), stop=st.booleans())
def test_what_is_loaded_is_read_back(
    qtbot: Any, c: dict[str, Any], a: dict[str, Any], enabled: bool, stop: bool
) -> None:
    form = RuleForm()
    try:
        form.set_choices(UNITS, PEOPLE, ACCOUNTS)
        form.load("a rule", c, a, enabled=enabled, stop=stop)
        draft = form.draft()
    finally:
        form.deleteLater()
    assert (draft.name, draft.enabled, draft.stop) == ("a rule", enabled, stop)
    assert _canonical(dict(draft.conditions), dict(draft.actions)) == _canonical(c, a)


def test_every_edit_is_reported_and_loading_is_not(qtbot: Any) -> None:
    form = RuleForm()
    qtbot.addWidget(form)
    form.set_choices(UNITS, PEOPLE, ACCOUNTS)
    seen: list[int] = []
    form.edited.connect(lambda: seen.append(1))
    form.load("r", {"words": ["refund"], "min_followers": 10}, {"route_to_unit": 2})
    assert seen == []
    form.words.setText("refund, broken screen")
    form.min_followers.value.setValue(20)
    form.accounts.item(1).setCheckState(form.accounts.item(1).checkState().Checked)
    assert len(seen) == 3
    assert form.draft().conditions == {
        "accounts": [5],
        "words": ["refund", "broken screen"],
        "min_followers": 20,
    }
