"""The inbox filter's vocabulary: sentiment bands, and the JSON form saved views keep.

A saved view stores its filter as one JSON object, one key per filter that is set::

    {"unit_id": 3, "networks": ["x"], "accounts": [2], "kinds": ["dm"],
     "statuses": ["new", "open"], "assignee": "me", "tags": ["refund"],
     "sentiments": ["negative"], "languages": ["de"], "text": "broken screen", "sort": "due"}

``assignee`` is ``"me"`` (whoever opens the view), ``"unassigned"`` or a person's id. A key this
version does not know, or a value of the wrong kind, is refused in words rather than ignored: a
view that silently lost a filter would show too much.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.domain.enums import ConversationStatus, MessageKind, Network
from app.domain.rows import ASSIGNEE_ME, ASSIGNEE_NOBODY, SORT_ACTIVITY, SORTS, FeedFilter

#: VADER's customary cut-offs on the compound score: below -0.05 negative, above 0.05 positive.
NEGATIVE_BELOW = -0.05
POSITIVE_ABOVE = 0.05
SENTIMENT_NEGATIVE = "negative"
SENTIMENT_NEUTRAL = "neutral"
SENTIMENT_POSITIVE = "positive"
SENTIMENT_NONE = "none"  # not scored (a language VADER does not read)
SENTIMENTS = (SENTIMENT_NEGATIVE, SENTIMENT_NEUTRAL, SENTIMENT_POSITIVE, SENTIMENT_NONE)
SENTIMENT_LABELS = {
    SENTIMENT_NEGATIVE: "Negative",
    SENTIMENT_NEUTRAL: "Neutral",
    SENTIMENT_POSITIVE: "Positive",
    SENTIMENT_NONE: "No sentiment",
}
MAX_TEXT = 200

KEYS = (
    "unit_id",
    "networks",
    "accounts",
    "kinds",
    "statuses",
    "assignee",
    "tags",
    "sentiments",
    "languages",
    "text",
    "sort",
)


class FilterError(ValueError):
    """A stored filter cannot be read; the message says which key and why."""


def sentiment_band(score: float | None) -> str:
    """The band a sentiment score falls in (``None``: not scored)."""
    if score is None:
        return SENTIMENT_NONE
    if score < NEGATIVE_BELOW:
        return SENTIMENT_NEGATIVE
    if score > POSITIVE_ABOVE:
        return SENTIMENT_POSITIVE
    return SENTIMENT_NEUTRAL


def filter_to_json(f: FeedFilter) -> dict[str, Any]:
    """The JSON object of a filter: only the keys that are set."""
    out: dict[str, Any] = {}
    if f.unit_id is not None:
        out["unit_id"] = f.unit_id
    for key, value in (
        ("networks", f.networks),
        ("accounts", f.account_ids),
        ("kinds", f.kinds),
        ("statuses", f.statuses),
    ):
        if value:
            out[key] = list(value)
    if f.assignee is not None:
        out["assignee"] = f.assignee
    for key, value in (("tags", f.tags), ("sentiments", f.sentiments), ("languages", f.languages)):
        if value:
            out[key] = list(value)
    if f.text.strip():
        out["text"] = f.text.strip()
    if f.sort != SORT_ACTIVITY:
        out["sort"] = f.sort
    return out


def filter_from_json(data: Mapping[str, Any]) -> FeedFilter:
    """Read a stored filter back.

    Raises:
        FilterError: an unknown key or a wrong value, named.
    """
    if not isinstance(data, Mapping):
        raise FilterError("A saved filter must be a JSON object.")
    unknown = sorted(set(data) - set(KEYS))
    if unknown:
        raise FilterError(f"Unknown filter key {unknown[0]!r}: known keys are {', '.join(KEYS)}.")
    unit_id = data.get("unit_id")
    if unit_id is not None and not _is_int(unit_id):
        raise FilterError(f"unit_id must be a unit's id (a whole number), not {unit_id!r}.")
    assignee = data.get("assignee")
    if assignee is not None and not (
        assignee in (ASSIGNEE_ME, ASSIGNEE_NOBODY) or _is_int(assignee)
    ):
        raise FilterError(
            f"assignee must be 'me', 'unassigned' or a person's id, not {assignee!r}."
        )
    text = data.get("text", "")
    if not isinstance(text, str):
        raise FilterError(f"text must be text, not {text!r}.")
    if len(text) > MAX_TEXT:
        raise FilterError(f"The search text is longer than {MAX_TEXT} characters.")
    sort = data.get("sort", SORT_ACTIVITY)
    if sort not in SORTS:
        raise FilterError(f"sort must be one of {', '.join(SORTS)}, not {sort!r}.")
    return FeedFilter(
        unit_id=unit_id,
        networks=_choices(data, "networks", tuple(n.value for n in Network)),
        account_ids=_ints(data, "accounts"),
        kinds=_choices(data, "kinds", tuple(k.value for k in MessageKind)),
        statuses=_choices(data, "statuses", tuple(s.value for s in ConversationStatus)),
        assignee=assignee,
        tags=_strings(data, "tags"),
        sentiments=_choices(data, "sentiments", SENTIMENTS),
        languages=_strings(data, "languages"),
        text=text.strip(),
        sort=sort,
    )


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _list(data: Mapping[str, Any], key: str) -> list[Any]:
    value = data.get(key, [])
    if not isinstance(value, list):
        raise FilterError(f"{key} must be a list, not {value!r}.")
    return value


def _choices(data: Mapping[str, Any], key: str, allowed: tuple[str, ...]) -> tuple[str, ...]:
    values = _list(data, key)
    for v in values:
        if v not in allowed:
            raise FilterError(f"{key}: {v!r} is not one of {', '.join(allowed)}.")
    return tuple(dict.fromkeys(values))


def _ints(data: Mapping[str, Any], key: str) -> tuple[int, ...]:
    values = _list(data, key)
    for v in values:
        if not _is_int(v):
            raise FilterError(f"{key}: {v!r} is not an id (a whole number).")
    return tuple(dict.fromkeys(values))


def _strings(data: Mapping[str, Any], key: str) -> tuple[str, ...]:
    values = _list(data, key)
    for v in values:
        if not isinstance(v, str) or not v.strip():
            raise FilterError(f"{key}: {v!r} is not a name.")
    return tuple(dict.fromkeys(v.strip() for v in values))
