"""The inbox filter's JSON form (saved views) and its sentiment bands."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.enums import ConversationStatus, MessageKind, Network
from app.domain.filters import (
    SENTIMENTS,
    FilterError,
    filter_from_json,
    filter_to_json,
    sentiment_band,
)
from app.domain.rows import ASSIGNEE_ME, ASSIGNEE_NOBODY, SORTS, FeedFilter


def _unique(values: st.SearchStrategy) -> st.SearchStrategy:
    return st.lists(values, unique=True, max_size=3).map(tuple)


names = st.text(st.characters(categories=("L", "N")), min_size=1, max_size=12)
filters = st.builds(
    FeedFilter,
    unit_id=st.none() | st.integers(1, 10**6),
    networks=_unique(st.sampled_from([n.value for n in Network])),
    statuses=_unique(st.sampled_from([s.value for s in ConversationStatus])),
    account_ids=_unique(st.integers(1, 10**6)),
    kinds=_unique(st.sampled_from([k.value for k in MessageKind])),
    assignee=st.none() | st.sampled_from([ASSIGNEE_ME, ASSIGNEE_NOBODY]) | st.integers(1, 999),
    tags=_unique(names),
    sentiments=_unique(st.sampled_from(SENTIMENTS)),
    languages=_unique(st.sampled_from(["en", "de", "es", ""]).filter(bool)),
    text=names | st.just(""),
    sort=st.sampled_from(SORTS),
)


@given(filters)
def test_a_filter_survives_its_json_form(f: FeedFilter) -> None:
    assert filter_from_json(filter_to_json(f)) == f


def test_the_demo_form_reads() -> None:
    f = filter_from_json({"unit_id": 4, "assignee": "unassigned", "statuses": ["new"]})
    assert f == FeedFilter(unit_id=4, assignee=ASSIGNEE_NOBODY, statuses=("new",))
    assert filter_from_json({"tags": ["safety"]}).tags == ("safety",)
    assert filter_to_json(FeedFilter()) == {}


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"colour": "red"}, "Unknown filter key 'colour'"),
        ({"unit_id": "3"}, "unit_id must be a unit's id"),
        ({"unit_id": True}, "unit_id must be a unit's id"),
        ({"assignee": "boss"}, "assignee must be 'me', 'unassigned' or a person's id"),
        ({"statuses": "new"}, "statuses must be a list"),
        ({"statuses": ["closed"]}, "statuses: 'closed' is not one of new, open"),
        ({"networks": ["myspace"]}, "networks: 'myspace' is not one of"),
        ({"sentiments": ["angry"]}, "sentiments: 'angry' is not one of"),
        ({"accounts": ["2"]}, "accounts: '2' is not an id"),
        ({"tags": [""]}, "tags: '' is not a name"),
        ({"text": 3}, "text must be text"),
        ({"text": "x" * 201}, "longer than 200 characters"),
        ({"sort": "oldest"}, "sort must be one of activity, due"),
    ],
)
def test_a_wrong_filter_is_refused_in_words(data: dict, words: str) -> None:
    with pytest.raises(FilterError, match=words):
        filter_from_json(data)


def test_not_an_object_is_refused() -> None:
    with pytest.raises(FilterError, match="JSON object"):
        filter_from_json(["unit_id"])  # type: ignore[arg-type]


@given(st.floats(-1, 1) | st.none())
def test_every_score_has_one_band(score: float | None) -> None:
    band = sentiment_band(score)
    assert band in SENTIMENTS
    if score is not None:
        assert (band == "negative") == (score < -0.05)
        assert (band == "positive") == (score > 0.05)
