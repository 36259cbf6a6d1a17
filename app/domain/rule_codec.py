"""Routing rules as the workspace stores them (two JSON objects) and back, checked both ways.

A rule row keeps ``conditions`` and ``actions`` as JSON objects, one key per kind::

    conditions = {
        "accounts": [3, 7], "networks": ["x"], "kinds": ["mention", "dm"],
        "words": ["refund", "broken screen"], "words_mode": "any",   # or "all"
        "regex": "order [0-9]{6}", "regex_case_sensitive": false,
        "languages": ["de"], "sentiment_below": -0.3, "sentiment_above": 0.4,
        "authors": ["@bigfan", "123456"], "min_followers": 10000, "first_seen_author": true,
        "weekdays": ["sat", "sun"], "time_from": "22:00", "time_to": "06:00",
    }
    actions = {
        "route_to_unit": 4, "assign_person": 12, "set_priority": "urgent",
        "add_tags": ["refund"], "mark_spam": true,
    }

Every key is optional; an empty ``conditions`` object matches every message. ``add_tag`` (one
tag as text) is read as well, as older workspaces wrote it. A key this version does not know is
refused rather than ignored: a rule that silently lost a condition would route too much.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import time
from typing import Any

from app.domain.enums import MessageKind, Network, Priority
from app.domain.hours import WEEKDAYS
from app.domain.routing import (
    AccountIn,
    Action,
    AddTags,
    Assign,
    AuthorIn,
    Condition,
    FirstSeenAuthor,
    KindIn,
    LanguageIn,
    LocalTime,
    MarkSpam,
    MinFollowers,
    NetworkIn,
    Regex,
    RouteTo,
    Rule,
    RuleError,
    SentimentAbove,
    SentimentBelow,
    SetPriority,
    Words,
)

CONDITION_KEYS = (
    "accounts",
    "networks",
    "kinds",
    "words",
    "words_mode",
    "regex",
    "regex_case_sensitive",
    "languages",
    "sentiment_below",
    "sentiment_above",
    "authors",
    "min_followers",
    "first_seen_author",
    "weekdays",
    "time_from",
    "time_to",
)
ACTION_KEYS = ("route_to_unit", "assign_person", "set_priority", "add_tags", "add_tag", "mark_spam")


def rule_from_json(
    *,
    rule_id: int,
    name: str,
    position: int,
    enabled: bool,
    conditions: Mapping[str, Any] | None,
    actions: Mapping[str, Any] | None,
    stop: bool,
) -> Rule:
    """The domain rule of a stored row.

    Raises:
        RuleError: the row cannot be used as written; the message names the rule and the key.
    """
    label = name.strip() or f"#{rule_id}"
    return Rule(
        id=rule_id,
        name=name,
        position=position,
        enabled=enabled,
        conditions=conditions_from_json(label, conditions or {}),
        actions=actions_from_json(label, actions or {}),
        stop=stop,
    )


def conditions_from_json(name: str, data: Mapping[str, Any]) -> tuple[Condition, ...]:
    """The conditions a ``conditions`` object describes, in a stable order.

    Raises:
        RuleError: an unknown key or a value of the wrong kind.
    """
    if not isinstance(data, Mapping):
        raise RuleError(name, "its conditions are not a JSON object")
    unknown = sorted(set(data) - set(CONDITION_KEYS))
    if unknown:
        raise RuleError(name, f"unknown condition {', '.join(map(repr, unknown))}")
    out: list[Condition] = []
    if "accounts" in data:
        out.append(AccountIn(frozenset(_ints(name, "accounts", data["accounts"]))))
    if "networks" in data:
        values = _strings(name, "networks", data["networks"])
        out.append(NetworkIn(frozenset(_enum(name, "networks", Network, v) for v in values)))
    if "kinds" in data:
        values = _strings(name, "kinds", data["kinds"])
        out.append(KindIn(frozenset(_enum(name, "kinds", MessageKind, v) for v in values)))
    if "words" in data:
        mode = data.get("words_mode", "any")
        if mode not in ("any", "all"):
            raise RuleError(name, f"words_mode is 'any' or 'all', not {mode!r}")
        out.append(Words(tuple(_strings(name, "words", data["words"])), mode))
    elif "words_mode" in data:
        raise RuleError(name, "words_mode without words")
    if "regex" in data:
        pattern = data["regex"]
        if not isinstance(pattern, str):
            raise RuleError(name, "regex is text")
        out.append(Regex(pattern, bool(data.get("regex_case_sensitive", False))))
    elif "regex_case_sensitive" in data:
        raise RuleError(name, "regex_case_sensitive without regex")
    if "languages" in data:
        out.append(LanguageIn(frozenset(_strings(name, "languages", data["languages"]))))
    if "sentiment_below" in data:
        out.append(SentimentBelow(_number(name, "sentiment_below", data["sentiment_below"])))
    if "sentiment_above" in data:
        out.append(SentimentAbove(_number(name, "sentiment_above", data["sentiment_above"])))
    if "authors" in data:
        out.append(AuthorIn(frozenset(_strings(name, "authors", data["authors"]))))
    if "min_followers" in data:
        out.append(MinFollowers(_int(name, "min_followers", data["min_followers"])))
    if data.get("first_seen_author"):
        out.append(FirstSeenAuthor())
    if {"weekdays", "time_from", "time_to"} & set(data):
        days = data.get("weekdays", list(WEEKDAYS))
        out.append(
            LocalTime(
                frozenset(_strings(name, "weekdays", days)),
                _time(name, "time_from", data.get("time_from")),
                _time(name, "time_to", data.get("time_to")),
            )
        )
    return tuple(out)


def actions_from_json(name: str, data: Mapping[str, Any]) -> tuple[Action, ...]:
    """The actions an ``actions`` object describes, in a stable order.

    Raises:
        RuleError: an unknown key or a value of the wrong kind.
    """
    if not isinstance(data, Mapping):
        raise RuleError(name, "its actions are not a JSON object")
    unknown = sorted(set(data) - set(ACTION_KEYS))
    if unknown:
        raise RuleError(name, f"unknown action {', '.join(map(repr, unknown))}")
    out: list[Action] = []
    if data.get("route_to_unit") is not None:
        out.append(RouteTo(_int(name, "route_to_unit", data["route_to_unit"])))
    if data.get("assign_person") is not None:
        out.append(Assign(_int(name, "assign_person", data["assign_person"])))
    if data.get("set_priority") is not None:
        out.append(SetPriority(_enum(name, "set_priority", Priority, data["set_priority"])))
    tags: list[str] = []
    if data.get("add_tag"):
        tags += _strings(name, "add_tag", [data["add_tag"]])
    if data.get("add_tags"):
        tags += _strings(name, "add_tags", data["add_tags"])
    if tags:
        out.append(AddTags(tuple(dict.fromkeys(tags))))
    if data.get("mark_spam"):
        out.append(MarkSpam())
    return tuple(out)


def conditions_to_json(conditions: tuple[Condition, ...]) -> dict[str, Any]:
    """The stored ``conditions`` object (the inverse of :func:`conditions_from_json`).

    Raises:
        ValueError: two conditions of one kind (the stored form holds one of each).
    """
    out: dict[str, Any] = {}

    def put(key: str, value: Any) -> None:
        if key in out:
            raise ValueError(f"a rule holds one {key!r} condition")
        out[key] = value

    for c in conditions:
        if isinstance(c, AccountIn):
            put("accounts", sorted(c.account_ids))
        elif isinstance(c, NetworkIn):
            put("networks", sorted(n.value for n in c.networks))
        elif isinstance(c, KindIn):
            put("kinds", sorted(k.value for k in c.kinds))
        elif isinstance(c, Words):
            put("words", list(c.terms))
            if c.mode != "any":
                out["words_mode"] = c.mode
        elif isinstance(c, Regex):
            put("regex", c.pattern)
            if c.case_sensitive:
                out["regex_case_sensitive"] = True
        elif isinstance(c, LanguageIn):
            put("languages", sorted(c.languages))
        elif isinstance(c, SentimentBelow):
            put("sentiment_below", c.threshold)
        elif isinstance(c, SentimentAbove):
            put("sentiment_above", c.threshold)
        elif isinstance(c, AuthorIn):
            put("authors", sorted(c.authors))
        elif isinstance(c, MinFollowers):
            put("min_followers", c.count)
        elif isinstance(c, FirstSeenAuthor):
            put("first_seen_author", True)
        elif isinstance(c, LocalTime):
            put("weekdays", [d for d in WEEKDAYS if d in c.weekdays])
            if c.start is not None and c.end is not None:
                out["time_from"] = c.start.strftime("%H:%M")
                out["time_to"] = c.end.strftime("%H:%M")
    return out


def actions_to_json(actions: tuple[Action, ...]) -> dict[str, Any]:
    """The ``actions`` object of a rule's actions (the inverse of :func:`actions_from_json`)."""
    out: dict[str, Any] = {}
    tags: list[str] = []
    for a in actions:
        if isinstance(a, RouteTo):
            out.setdefault("route_to_unit", a.unit_id)
        elif isinstance(a, Assign):
            out.setdefault("assign_person", a.person_id)
        elif isinstance(a, SetPriority):
            out.setdefault("set_priority", a.priority.value)
        elif isinstance(a, AddTags):
            tags += a.tags
        elif isinstance(a, MarkSpam):
            out["mark_spam"] = True
    if tags:
        out["add_tags"] = list(dict.fromkeys(tags))
    return out


# -- values ----------------------------------------------------------------------------------


def _strings(name: str, key: str, value: Any) -> list[str]:
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise RuleError(name, f"{key} is a list of texts")
    if not all(isinstance(v, str) for v in value):
        raise RuleError(name, f"{key} is a list of texts")
    return list(value)


def _ints(name: str, key: str, value: Any) -> list[int]:
    if not isinstance(value, list | tuple) or not all(
        isinstance(v, int) and not isinstance(v, bool) for v in value
    ):
        raise RuleError(name, f"{key} is a list of ids")
    return list(value)


def _int(name: str, key: str, value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise RuleError(name, f"{key} is a whole number, not {value!r}")
    return value


def _number(name: str, key: str, value: Any) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise RuleError(name, f"{key} is a number, not {value!r}")
    return float(value)


def _enum(name: str, key: str, enum: Any, value: Any) -> Any:
    try:
        return enum(value)
    except ValueError:
        known = ", ".join(e.value for e in enum)
        raise RuleError(name, f"{key}: {value!r} is not one of {known}") from None


def _time(name: str, key: str, value: Any) -> time | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise RuleError(name, f"{key} is a time like '22:00'")
    try:
        return time.fromisoformat(value)
    except ValueError:
        raise RuleError(name, f"{key} is a time like '22:00', not {value!r}") from None
