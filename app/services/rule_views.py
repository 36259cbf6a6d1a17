"""What the rules editor shows: a rule in words, and the preview's rows and steps.

Pure functions and frozen records over the domain's rules and decisions; the use cases that
read and write rules are in :mod:`app.services.rules`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from app.domain.routing import (
    AccountIn,
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
    RoutingDecision,
    RoutingInput,
    Rule,
    RuleMatch,
    SentimentAbove,
    SentimentBelow,
    SetPriority,
    Words,
)
from app.domain.text_signals import LanguageDetector, signals_many
from app.services.routing_decisions import routing_input
from app.storage.rule_store import SampleMessage
from app.storage.rules import RuleRecord


@dataclass(frozen=True, slots=True)
class PreviewMatch:
    """A sample message the edited rule matches, and what would become of it."""

    conversation_id: int
    text: str
    author: str
    lands_in: str  # the unit the whole rule set sends it to
    routed_by: str  # the rule that routed it, or where it falls back to
    does: str  # what the edited rule does there
    moves: bool  # the conversation would change unit
    reason: str


@dataclass(frozen=True, slots=True)
class RulePreview:
    """The preview of an edited rule over the sample."""

    sample_size: int
    matched: int
    matches: tuple[PreviewMatch, ...]
    unit_changes: int  # conversations the edited rule set would move (hand-overs left out)
    handed_over_kept: int  # conversations a person handed over that rules would have moved
    edit_changes: int = 0  # conversations whose unit differs from the saved rules' choice
    alone_matched: int = 0  # messages the rule matches on its own, whatever comes before it
    problem: str = ""  # why the rule cannot run as typed (nothing was evaluated)
    note: str = ""
    elapsed_ms: float = 0.0

    @property
    def summary(self) -> str:
        """The line the preview pane shows: "Matches 37 of the last 1,000 messages. …"."""
        if self.problem:
            return self.problem
        if not self.sample_size:
            return "There are no messages yet to test the rule against."
        line = f"Matches {self.matched:,} of the last {self.sample_size:,} messages. "
        line += f"{_conversations(self.unit_changes)} would change unit"
        if self.edit_changes:
            line += f" ({self.edit_changes:,} because of this edit)"
        if self.handed_over_kept:
            line += f"; {self.handed_over_kept:,} handed over by a person stay where they are"
        return line + "."

    @property
    def shadowed(self) -> int:
        """Messages the rule would match on its own that rules above it stop before it."""
        return max(0, self.alone_matched - self.matched)


def _conversations(n: int) -> str:
    return f"{n:,} conversation{'' if n == 1 else 's'}"


@dataclass(frozen=True, slots=True)
class Sample:
    loaded_at: float
    size: int
    rows: tuple[tuple[SampleMessage, RoutingInput], ...]


def placed(
    saved: Sequence[Rule], edited: Rule, stored: RuleRecord | None, position: int | None
) -> list[Rule]:
    """The saved rules with the edited one in its place, positions renumbered 1 … n."""
    order = list(saved)  # in evaluation order already
    if stored is not None:
        at = sum(1 for r in order if (r.position, r.id) < (stored.position, stored.id))
    else:
        at = len(order) if position is None else max(0, min(position, len(order)))
    order.insert(at, edited)
    return [replace(r, position=i) for i, r in enumerate(order, start=1)]


def match_row(
    message: SampleMessage,
    decision: RoutingDecision,
    mine: RuleMatch,
    units: Mapping[int, str],
    rule_names: Mapping[int, str],
    *,
    would_move: bool,
) -> PreviewMatch:
    does = "; ".join(e.description for e in mine.effects) or "matches; does nothing"
    if mine.stopped:
        does += "; stops here"
    if decision.rule_id is not None:
        routed_by = f"rule '{rule_names.get(decision.rule_id, decision.rule_id)}'"
    elif decision.source == "triage":
        routed_by = "no rule: Triage"
    else:
        routed_by = "no rule: the account owner's unit"
    return PreviewMatch(
        conversation_id=message.conversation_id,
        text=message.text,
        author=f"@{message.author_handle}" if message.author_handle else "unknown",
        lands_in=units.get(decision.unit_id, f"unit #{decision.unit_id}"),
        routed_by=routed_by,
        does=does,
        moves=would_move,
        reason=decision.reason,
    )


def routing_inputs(
    messages: Sequence[SampleMessage], detector: LanguageDetector
) -> list[RoutingInput]:
    """What the rules read of each sampled message: its signals worked out as ingest does."""
    found = signals_many([m.text for m in messages], detector, [None] * len(messages))
    return [
        routing_input(
            account_id=m.account_id,
            network=m.network,
            kind=m.kind,
            text=m.text,
            language=language,
            sentiment=score,
            author_external_id=m.author_external_id,
            author_handle=m.author_handle,
            followers=m.author_followers,
            first_seen=m.author_first_seen,
            created_at=m.created_at,
        )
        for m, (language, score) in zip(messages, found, strict=True)
    ]


# -- a rule in words --------------------------------------------------------------------------

_DAY_NAMES = {
    "mon": "Mon",
    "tue": "Tue",
    "wed": "Wed",
    "thu": "Thu",
    "fri": "Fri",
    "sat": "Sat",
    "sun": "Sun",
}


def _quoted(values: Sequence[str]) -> str:
    return ", ".join(f"“{v}”" for v in values)


def _condition_words(cond: Condition, units: Mapping[int, str], accounts: Mapping[int, str]) -> str:
    if isinstance(cond, AccountIn):
        return "on " + ", ".join(accounts.get(a, f"account #{a}") for a in sorted(cond.account_ids))
    if isinstance(cond, NetworkIn):
        return "on " + ", ".join(sorted(n.label for n in cond.networks))
    if isinstance(cond, KindIn):
        return "a " + " or ".join(sorted(k.label.lower() for k in cond.kinds))
    if isinstance(cond, Words):
        return f"the text has {cond.mode} of {_quoted(cond.terms)}"
    if isinstance(cond, Regex):
        case = " (case-sensitive)" if cond.case_sensitive else ""
        return f"the text matches /{cond.pattern}/{case}"
    if isinstance(cond, LanguageIn):
        return "in " + ", ".join(sorted(cond.languages))
    if isinstance(cond, SentimentBelow):
        return f"sentiment below {cond.threshold:+.2f}"
    if isinstance(cond, SentimentAbove):
        return f"sentiment above {cond.threshold:+.2f}"
    if isinstance(cond, AuthorIn):
        return "by " + ", ".join(sorted(cond.authors))
    if isinstance(cond, MinFollowers):
        return f"by an author with {cond.count:,}+ followers"
    if isinstance(cond, FirstSeenAuthor):
        return "by a first-time author"
    assert isinstance(cond, LocalTime)
    days = [d for d in _DAY_NAMES if d in cond.weekdays]
    text = "every day" if len(days) == 7 else "on " + ", ".join(_DAY_NAMES[d] for d in days)
    if cond.start is not None and cond.end is not None:
        text += f" {cond.start:%H:%M}-{cond.end:%H:%M}"
    return text


def describe(
    rule: Rule,
    units: Mapping[int, str],
    people: Mapping[int, str],
    accounts: Mapping[int, str],
) -> str:
    """The rule in one line: "When the text has any of “refund”: route to Care; stop"."""
    conds = [_condition_words(c, units, accounts) for c in rule.conditions]
    when = "Every message" if not conds else "When " + " and ".join(conds)
    does: list[str] = []
    for action in rule.actions:
        if isinstance(action, RouteTo):
            does.append("route to " + units.get(action.unit_id, f"unit #{action.unit_id}"))
        elif isinstance(action, Assign):
            does.append("assign " + people.get(action.person_id, f"person #{action.person_id}"))
        elif isinstance(action, SetPriority):
            does.append(f"priority {action.priority}")
        elif isinstance(action, AddTags):
            does.append("tag " + _quoted(action.tags))
        elif isinstance(action, MarkSpam):
            does.append("mark as spam")
    text = f"{when}: {', '.join(does) if does else 'nothing (only recorded)'}"
    return text + ("; then stop" if rule.stop else "")
