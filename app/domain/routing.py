"""The routing engine: ordered rules that decide where a new conversation goes and why.

Pure domain code: rules and messages are small frozen dataclasses the service builds from rows;
language and sentiment arrive as inputs (see :mod:`app.domain.text_signals`), never computed here.

A rule has conditions (all of them must hold; a rule without conditions matches every message)
and actions. Conditions:

- :class:`AccountIn`, :class:`NetworkIn`, :class:`KindIn`: the message's account, network, kind.
- :class:`Words`: words or phrases, ``any`` or ``all`` of them, as whole words, case- and
  accent-insensitive (text and terms are NFKD-decomposed, casefolded, stripped of combining
  marks, and runs of white space become one space). A term's edge that is a letter, digit or
  ``_`` must meet a non-word character or the end of the text; an edge that is punctuation
  (``#fail``, ``:(``) needs no boundary, and neither do scripts written without spaces (Chinese,
  Japanese, Thai). Every rule's terms are matched in one pass of one Aho-Corasick automaton,
  built once per :class:`RuleSet` (:mod:`app.domain.text_match`, shared with the policy).
- :class:`Regex`: a regular expression run by RE2 (linear time) on the original text,
  case-insensitive unless ``case_sensitive``. A pattern RE2 cannot run (backreferences,
  lookarounds, syntax errors) is refused when the rule is built, with RE2's reason, as a
  :class:`RuleError`. All patterns of a rule set run in one pass of one ``re2.Set``.
- :class:`LanguageIn`: the detected language is one of a set. An unknown language (``None``)
  never matches.
- :class:`SentimentBelow` / :class:`SentimentAbove`: the compound score is strictly below /
  above a threshold. Sentiment is scored for English only; a message without a score (``None``)
  never matches a sentiment condition, so other languages never look "neutral".
- :class:`AuthorIn`: the author's handle (case-insensitive, without ``@``) or external id is on
  a list. :class:`MinFollowers`: at least N followers (unknown counts never match).
  :class:`FirstSeenAuthor`: the first message we have from this author.
- :class:`LocalTime`: weekdays and an optional time-of-day range ``[start, end)`` in the
  organization's time zone (``zoneinfo``, so DST shifts are honoured). A range whose start is
  after its end crosses midnight; its early-morning part belongs to the weekday the range
  started on ("Friday 22:00-06:00" includes Saturday 03:00).

Actions: :class:`RouteTo` a unit, :class:`Assign` a person, :class:`SetPriority`,
:class:`AddTags`, :class:`MarkSpam`; a rule's ``stop`` flag ends evaluation after it.

What several matching rules do:

1. Rules are evaluated in ``(position, id)`` order; disabled rules are skipped entirely.
2. Every matching rule is recorded in :attr:`RoutingDecision.matches` with each of its actions
   and whether it was applied.
3. The first matching rule that routes decides the unit; later route actions are recorded as
   not applied. The same holds for the assignee and for the priority.
4. Tags add up over all matching rules, deduplicated, in the order they were first added.
5. Any matching rule that marks as spam makes the decision spam.
6. A matching rule with ``stop`` ends evaluation: later rules are not looked at (not recorded).
7. If no rule routes, the conversation goes to the account owner's unit when the caller knows
   it, else to the Triage unit (both ids come from the caller); assignment, priority, tags and
   spam from matching rules still apply.

:attr:`RoutingDecision.reason` says all of it in one line, for example
"Customer Care, by rule 'refund or broken'; tagged 'refund' by rule 'refund words'".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Literal, TypeAlias
from zoneinfo import ZoneInfo

import re2

from app.domain.enums import MessageKind, Network, Priority
from app.domain.hours import WEEKDAYS
from app.domain.text_match import TermIndex, normalize_text

# -- errors ----------------------------------------------------------------------------------


class RuleError(ValueError):
    """A rule cannot be used as written; the message names the rule and says why."""

    def __init__(
        self, rule_name: str, problem: str, *, pattern: str | None = None, reason: str = ""
    ) -> None:
        super().__init__(f"Rule '{rule_name}': {problem}")
        self.rule_name = rule_name
        self.pattern = pattern
        self.reason = reason or problem


def regex_problem(pattern: str) -> str | None:
    """RE2's reason why ``pattern`` cannot be used, or ``None`` when it compiles."""
    try:
        re2.compile(pattern, _re2_options())
    except re2.error as exc:
        raw = exc.args[0] if exc.args else "invalid pattern"
        return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    return None


def _re2_options() -> re2.Options:
    options = re2.Options()
    options.log_errors = False  # otherwise every refused pattern is logged to stderr
    return options


# -- conditions ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AccountIn:
    account_ids: frozenset[int]

    def __post_init__(self) -> None:
        object.__setattr__(self, "account_ids", frozenset(self.account_ids))


@dataclass(frozen=True, slots=True)
class NetworkIn:
    networks: frozenset[Network]

    def __post_init__(self) -> None:
        object.__setattr__(self, "networks", frozenset(Network(n) for n in self.networks))


@dataclass(frozen=True, slots=True)
class KindIn:
    kinds: frozenset[MessageKind]

    def __post_init__(self) -> None:
        object.__setattr__(self, "kinds", frozenset(MessageKind(k) for k in self.kinds))


@dataclass(frozen=True, slots=True)
class Words:
    terms: tuple[str, ...]
    mode: Literal["any", "all"] = "any"

    def __post_init__(self) -> None:
        object.__setattr__(self, "terms", tuple(self.terms))


@dataclass(frozen=True, slots=True)
class Regex:
    pattern: str
    case_sensitive: bool = False


@dataclass(frozen=True, slots=True)
class LanguageIn:
    languages: frozenset[str]

    def __post_init__(self) -> None:
        langs = frozenset(lang.strip().lower() for lang in self.languages)
        object.__setattr__(self, "languages", langs)


@dataclass(frozen=True, slots=True)
class SentimentBelow:
    threshold: float


@dataclass(frozen=True, slots=True)
class SentimentAbove:
    threshold: float


@dataclass(frozen=True, slots=True)
class AuthorIn:
    """Handles (any case, with or without ``@``) or external ids."""

    authors: frozenset[str]

    def __post_init__(self) -> None:
        object.__setattr__(self, "authors", frozenset(a.strip() for a in self.authors))


@dataclass(frozen=True, slots=True)
class MinFollowers:
    count: int


@dataclass(frozen=True, slots=True)
class FirstSeenAuthor:
    pass


@dataclass(frozen=True, slots=True)
class LocalTime:
    """Weekdays (``mon`` … ``sun``) and an optional ``[start, end)`` time of day."""

    weekdays: frozenset[str] = frozenset(WEEKDAYS)
    start: time | None = None
    end: time | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "weekdays", frozenset(d.lower() for d in self.weekdays))


Condition: TypeAlias = (
    AccountIn
    | NetworkIn
    | KindIn
    | Words
    | Regex
    | LanguageIn
    | SentimentBelow
    | SentimentAbove
    | AuthorIn
    | MinFollowers
    | FirstSeenAuthor
    | LocalTime
)

# -- actions ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RouteTo:
    unit_id: int


@dataclass(frozen=True, slots=True)
class Assign:
    person_id: int


@dataclass(frozen=True, slots=True)
class SetPriority:
    priority: Priority

    def __post_init__(self) -> None:
        object.__setattr__(self, "priority", Priority(self.priority))


@dataclass(frozen=True, slots=True)
class AddTags:
    tags: tuple[str, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "tags", tuple(t.strip() for t in self.tags))


@dataclass(frozen=True, slots=True)
class MarkSpam:
    pass


Action: TypeAlias = RouteTo | Assign | SetPriority | AddTags | MarkSpam

# -- rules and messages ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rule:
    """One routing rule; building it checks it (a :class:`RuleError` says what is wrong)."""

    id: int
    name: str
    position: int
    enabled: bool = True
    conditions: tuple[Condition, ...] = ()
    actions: tuple[Action, ...] = ()
    stop: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "conditions", tuple(self.conditions))
        object.__setattr__(self, "actions", tuple(self.actions))
        name = self.name.strip() or f"#{self.id}"
        for cond in self.conditions:
            _check_condition(name, cond)
        for action in self.actions:
            if isinstance(action, AddTags) and (not action.tags or not all(action.tags)):
                raise RuleError(name, "a tag cannot be empty")


def _check_condition(name: str, cond: Condition) -> None:
    if isinstance(cond, Words):
        if cond.mode not in ("any", "all"):
            raise RuleError(name, f"word mode must be 'any' or 'all', not {cond.mode!r}")
        if not cond.terms:
            raise RuleError(name, "a word condition needs at least one word or phrase")
        for term in cond.terms:
            if not normalize_text(term):
                raise RuleError(name, f"the word {term!r} is empty once normalized")
    elif isinstance(cond, Regex):
        problem = regex_problem(cond.pattern)
        if problem is not None:
            raise RuleError(
                name,
                f"the regular expression '{cond.pattern}' cannot be used: {problem}",
                pattern=cond.pattern,
                reason=problem,
            )
    elif isinstance(cond, AccountIn | NetworkIn | KindIn | LanguageIn | AuthorIn):
        values = (
            cond.account_ids
            if isinstance(cond, AccountIn)
            else cond.networks
            if isinstance(cond, NetworkIn)
            else cond.kinds
            if isinstance(cond, KindIn)
            else cond.languages
            if isinstance(cond, LanguageIn)
            else cond.authors
        )
        if not values:
            raise RuleError(name, f"the condition {type(cond).__name__} lists nothing")
    elif isinstance(cond, SentimentBelow | SentimentAbove):
        if not -1.0 <= cond.threshold <= 1.0:
            raise RuleError(name, "a sentiment threshold lies between -1 and 1")
    elif isinstance(cond, MinFollowers):
        if cond.count < 0:
            raise RuleError(name, "a follower count cannot be negative")
    elif isinstance(cond, LocalTime):
        unknown = cond.weekdays - set(WEEKDAYS)
        if unknown or not cond.weekdays:
            raise RuleError(name, f"weekdays are {', '.join(WEEKDAYS)}; got {sorted(unknown)}")
        if (cond.start is None) != (cond.end is None):
            raise RuleError(name, "a time-of-day range needs both a start and an end")
        if cond.start is not None and cond.start == cond.end:
            raise RuleError(name, "a time-of-day range cannot start and end at the same time")


@dataclass(frozen=True, slots=True)
class RoutingInput:
    """What a new conversation's first message offers to the rules."""

    account_id: int
    network: Network
    kind: MessageKind
    text: str
    language: str | None
    sentiment: float | None  # English only; None elsewhere
    author_external_id: str
    author_handle: str
    author_followers: int | None
    author_first_seen: bool
    created_at: datetime  # aware

    def __post_init__(self) -> None:
        if self.created_at.utcoffset() is None:
            raise ValueError("RoutingInput.created_at must be timezone-aware")


# -- results ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Effect:
    action: Action
    applied: bool
    description: str  # "routed to Customer Care", "route to Sales not applied (…)"


@dataclass(frozen=True, slots=True)
class RuleMatch:
    rule_id: int
    rule_name: str
    effects: tuple[Effect, ...]
    stopped: bool


@dataclass(frozen=True, slots=True)
class RoutingDecision:
    unit_id: int
    rule_id: int | None  # the rule that routed, or None for the owner's unit / Triage
    source: Literal["rule", "owner", "triage"]
    assignee_id: int | None
    priority: Priority | None
    tags: tuple[str, ...]
    spam: bool
    matches: tuple[RuleMatch, ...]
    reason: str


# -- the compiled rule set -------------------------------------------------------------------

_Check = Callable[[RoutingInput, set[int], frozenset[int]], bool]
_NO_HITS: frozenset[int] = frozenset()


@dataclass(frozen=True, slots=True)
class _Compiled:
    rule: Rule
    name: str
    checks: tuple[_Check, ...]
    applied: tuple[str, ...]  # each action's description when applied, built once


@dataclass(slots=True)
class _Index:
    always: list[int] = field(default_factory=list)
    by_term: dict[int, list[int]] = field(default_factory=dict)
    by_regex: dict[int, list[int]] = field(default_factory=dict)
    by_language: dict[str, list[int]] = field(default_factory=dict)


class RuleSet:
    """Rules compiled once (:meth:`compile`), then :meth:`evaluate` per message.

    Holds the Aho-Corasick automaton of every rule's words, one ``re2.Set`` of every rule's
    patterns, and an index from terms, patterns and languages to the rules they can satisfy, so a
    message only looks at the rules it could match.
    """

    def __init__(
        self,
        compiled: list[_Compiled],
        index: _Index,
        terms: TermIndex | None,
        regex_set: re2.Set | None,
        unit_names: Mapping[int, str],
        person_names: Mapping[int, str],
        triage_unit_id: int,
    ) -> None:
        self._compiled = compiled
        self._index = index
        self._terms = terms
        self._regex_set = regex_set
        self._units = dict(unit_names)
        self._people = dict(person_names)
        self._triage = triage_unit_id

    @classmethod
    def compile(
        cls,
        rules: Iterable[Rule],
        unit_names: Mapping[int, str],
        *,
        triage_unit_id: int,
        time_zone: str = "UTC",
        person_names: Mapping[int, str] | None = None,
    ) -> RuleSet:
        """Compile ``rules`` (any order) for the organization's time zone.

        Raises:
            RuleError: two rules share an id, or a rule cannot be used.
            zoneinfo.ZoneInfoNotFoundError: ``time_zone`` is unknown.
        """
        tz = ZoneInfo(time_zone)
        ordered = sorted(rules, key=lambda r: (r.position, r.id))
        seen: set[int] = set()
        for rule in ordered:
            if rule.id in seen:
                raise RuleError(rule.name, f"another rule has the same id {rule.id}")
            seen.add(rule.id)
        terms: dict[str, int] = {}
        patterns: dict[str, int] = {}
        compiled: list[_Compiled] = []
        index = _Index()
        for rule in (r for r in ordered if r.enabled):
            pos = len(compiled)
            checks: list[_Check] = []
            key: _Key | None = None
            for cond in sorted(rule.conditions, key=_cost):
                check, cond_key = _compile_condition(cond, tz, terms, patterns)
                checks.append(check)
                if cond_key is not None and (key is None or cond_key.rank < key.rank):
                    key = cond_key
            names = (unit_names, person_names or {})
            applied = tuple(_applied_text(a, *names) for a in rule.actions)
            name = rule.name.strip() or f"#{rule.id}"
            compiled.append(_Compiled(rule, name, tuple(checks), applied))
            if key is None:
                index.always.append(pos)
            for tid in key.terms if key else ():
                index.by_term.setdefault(tid, []).append(pos)
            if key is not None and key.regex >= 0:
                index.by_regex.setdefault(key.regex, []).append(pos)
            for lang in key.languages if key else ():
                index.by_language.setdefault(lang, []).append(pos)
        term_index = TermIndex(terms) if terms else None
        regex_set: re2.Set | None = None
        if patterns:
            regex_set = re2.Set.SearchSet(_re2_options())
            for pattern in patterns:  # insertion order == index order
                regex_set.Add(pattern)
            regex_set.Compile()
        return cls(
            compiled, index, term_index, regex_set, unit_names, person_names or {}, triage_unit_id
        )

    @property
    def rules(self) -> tuple[Rule, ...]:
        """The enabled rules, in evaluation order."""
        return tuple(c.rule for c in self._compiled)

    # -- evaluation ------------------------------------------------------------------------

    def matching_terms(self, text: str) -> set[int]:
        """Ids of the terms found in ``text`` as whole words (one automaton pass)."""
        if self._terms is None:
            return set()
        return self._terms.ids_in(normalize_text(text))

    def _regex_hits(self, text: str) -> frozenset[int]:
        regex_set = self._regex_set
        if regex_set is None:
            return _NO_HITS
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates from a broken payload
            data = text.encode("utf-8", "replace")
        hits = regex_set.Match(data)
        return frozenset(hits) if hits else _NO_HITS

    def evaluate(self, message: RoutingInput, owner_unit_id: int | None = None) -> RoutingDecision:
        """Run the rules over one message; see the module docstring for the semantics."""
        found = self.matching_terms(message.text)
        hits = self._regex_hits(message.text)
        index = self._index
        if found or hits or message.language in index.by_language:
            candidates = set(index.always)
            by_term = index.by_term
            for tid in found:
                candidates.update(by_term.get(tid, ()))
            for hit in hits:
                candidates.update(index.by_regex.get(hit, ()))
            if message.language is not None:
                candidates.update(index.by_language.get(message.language, ()))
            order: Iterable[int] = sorted(candidates)
        else:
            order = index.always
        compiled = self._compiled
        matched: list[_Compiled] = []
        stopped = False
        for pos in order:
            entry = compiled[pos]
            for check in entry.checks:
                if not check(message, found, hits):
                    break
            else:
                matched.append(entry)
                if entry.rule.stop:
                    stopped = True
                    break
        return self._decide(matched, stopped, owner_unit_id)

    def _unit(self, unit_id: int) -> str:
        return self._units.get(unit_id) or f"unit #{unit_id}"

    def _person(self, person_id: int) -> str:
        return self._people.get(person_id) or f"person #{person_id}"

    def _decide(
        self, matched: Sequence[_Compiled], stopped: bool, owner_unit_id: int | None
    ) -> RoutingDecision:
        if not matched:
            return self._fallback(owner_unit_id, None, None, (), False, (), [])
        unit_id: int | None = None
        routed_by: _Compiled | None = None
        assignee: int | None = None
        assigned_by = ""
        priority: Priority | None = None
        prioritised_by = ""
        tags: list[str] = []
        spam = False
        spam_by = ""
        matches: list[RuleMatch] = []
        parts: list[str] = []
        for i, entry in enumerate(matched):
            name = entry.name
            effects: list[Effect] = []
            did_something = False
            for action, text in zip(entry.rule.actions, entry.applied, strict=True):
                if isinstance(action, RouteTo):
                    if routed_by is None:
                        unit_id, routed_by = action.unit_id, entry
                        effect = Effect(action, True, text)
                        did_something = True
                    else:
                        effect = Effect(
                            action,
                            False,
                            f"route to {self._unit(action.unit_id)} not applied "
                            f"(already routed by rule '{routed_by.name}')",
                        )
                elif isinstance(action, Assign):
                    if assigned_by:
                        who = self._person(action.person_id)
                        effect = Effect(
                            action,
                            False,
                            f"assign to {who} not applied (already assigned by rule "
                            f"'{assigned_by}')",
                        )
                    else:
                        assignee, assigned_by = action.person_id, name
                        effect = Effect(action, True, text)
                elif isinstance(action, SetPriority):
                    if prioritised_by:
                        effect = Effect(
                            action,
                            False,
                            f"priority {action.priority} not applied (already set by rule "
                            f"'{prioritised_by}')",
                        )
                    else:
                        priority, prioritised_by = action.priority, name
                        effect = Effect(action, True, text)
                elif isinstance(action, AddTags):
                    new = [t for t in dict.fromkeys(action.tags) if t not in tags]
                    tags.extend(new)
                    if new:
                        effect = Effect(action, True, "tagged " + ", ".join(f"'{t}'" for t in new))
                    else:
                        effect = Effect(action, False, "tags already added")
                else:  # MarkSpam
                    if spam_by:
                        effect = Effect(action, False, f"already marked as spam by '{spam_by}'")
                    else:
                        spam, spam_by = True, name
                        effect = Effect(action, True, text)
                effects.append(effect)
                if effect.applied and not isinstance(action, RouteTo):
                    parts.append(f"{effect.description} by rule '{name}'")
                    did_something = True
            is_stop = stopped and i == len(matched) - 1
            matches.append(RuleMatch(entry.rule.id, entry.rule.name, tuple(effects), is_stop))
            if not did_something:
                parts.append(f"also matched rule '{name}'")
            if is_stop:
                parts.append(f"rule '{name}' stopped evaluation")
        if routed_by is None or unit_id is None:
            return self._fallback(
                owner_unit_id, assignee, priority, tuple(tags), spam, tuple(matches), parts
            )
        head = f"{self._unit(unit_id)}, by rule '{routed_by.name}'"
        return RoutingDecision(
            unit_id=unit_id,
            rule_id=routed_by.rule.id,
            source="rule",
            assignee_id=assignee,
            priority=priority,
            tags=tuple(tags),
            spam=spam,
            matches=tuple(matches),
            reason="; ".join([head, *parts]),
        )

    def _fallback(
        self,
        owner_unit_id: int | None,
        assignee: int | None,
        priority: Priority | None,
        tags: tuple[str, ...],
        spam: bool,
        matches: tuple[RuleMatch, ...],
        parts: list[str],
    ) -> RoutingDecision:
        if owner_unit_id is not None:
            unit_id = owner_unit_id
            source: Literal["owner", "triage"] = "owner"
            head = f"No rule routed it: the account owner's unit ({self._unit(unit_id)})"
        else:
            unit_id, source = self._triage, "triage"
            head = f"No rule routed it and the account has no owner unit: {self._unit(unit_id)}"
        return RoutingDecision(
            unit_id=unit_id,
            rule_id=None,
            source=source,
            assignee_id=assignee,
            priority=priority,
            tags=tags,
            spam=spam,
            matches=matches,
            reason="; ".join([head, *parts]),
        )


def _tagged(tags: Iterable[str]) -> str:
    return "tagged " + ", ".join(f"'{t}'" for t in tags)


def _applied_text(action: Action, units: Mapping[int, str], people: Mapping[int, str]) -> str:
    if isinstance(action, RouteTo):
        return f"routed to {units.get(action.unit_id) or f'unit #{action.unit_id}'}"
    if isinstance(action, Assign):
        return f"assigned to {people.get(action.person_id) or f'person #{action.person_id}'}"
    if isinstance(action, SetPriority):
        return f"priority {action.priority}"
    if isinstance(action, AddTags):
        return _tagged(dict.fromkeys(action.tags))
    return "marked as spam"


# -- condition compilation -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Key:
    """What a rule is indexed by: its words, else its pattern, else its languages."""

    rank: int
    terms: frozenset[int] = frozenset()
    regex: int = -1
    languages: frozenset[str] = frozenset()


def _cost(cond: Condition) -> int:
    """Cheap checks first: set look-ups, then numbers, then time zones."""
    if isinstance(cond, Words | Regex):
        return 2
    if isinstance(cond, LocalTime):
        return 3
    return 0 if isinstance(cond, AccountIn | NetworkIn | KindIn | LanguageIn) else 1


def _compile_condition(
    cond: Condition, tz: ZoneInfo, terms: dict[str, int], patterns: dict[str, int]
) -> tuple[_Check, _Key | None]:
    if isinstance(cond, AccountIn):
        accounts = cond.account_ids
        return (lambda m, f, h: m.account_id in accounts), None
    if isinstance(cond, NetworkIn):
        networks = cond.networks
        return (lambda m, f, h: m.network in networks), None
    if isinstance(cond, KindIn):
        kinds = cond.kinds
        return (lambda m, f, h: m.kind in kinds), None
    if isinstance(cond, Words):
        ids = frozenset(
            terms.setdefault(norm, len(terms)) for norm in (normalize_text(t) for t in cond.terms)
        )
        if cond.mode == "all":
            return (lambda m, f, h: ids <= f), _Key(0, terms=ids)
        return (lambda m, f, h: not ids.isdisjoint(f)), _Key(0, terms=ids)
    if isinstance(cond, Regex):
        source = cond.pattern if cond.case_sensitive else f"(?i){cond.pattern}"
        idx = patterns.setdefault(source, len(patterns))
        return (lambda m, f, h: idx in h), _Key(1, regex=idx)
    if isinstance(cond, LanguageIn):
        langs = cond.languages
        return (lambda m, f, h: m.language in langs), _Key(2, languages=langs)
    if isinstance(cond, SentimentBelow):
        below = cond.threshold
        return (lambda m, f, h: m.sentiment is not None and m.sentiment < below), None
    if isinstance(cond, SentimentAbove):
        above = cond.threshold
        return (lambda m, f, h: m.sentiment is not None and m.sentiment > above), None
    if isinstance(cond, AuthorIn):
        handles = frozenset(a.lstrip("@").casefold() for a in cond.authors)
        ids_ = cond.authors
        return (
            lambda m, f, h: (
                m.author_external_id in ids_ or m.author_handle.lstrip("@").casefold() in handles
            )
        ), None
    if isinstance(cond, MinFollowers):
        least = cond.count
        return (
            lambda m, f, h: m.author_followers is not None and m.author_followers >= least
        ), None
    if isinstance(cond, FirstSeenAuthor):
        return (lambda m, f, h: m.author_first_seen), None
    return _local_time_check(cond, tz), None


def _local_time_check(cond: LocalTime, tz: ZoneInfo) -> _Check:
    days = frozenset(WEEKDAYS.index(d) for d in cond.weekdays)
    start, end = cond.start, cond.end

    def check(m: RoutingInput, f: set[int], h: frozenset[int]) -> bool:
        local = m.created_at.astimezone(tz)
        weekday = local.weekday()
        if start is None or end is None:
            return weekday in days
        now = local.time()
        if start < end:
            return start <= now < end and weekday in days
        if now >= start:  # the evening part of a range that crosses midnight
            return weekday in days
        if now < end:  # the morning part belongs to the day the range started
            return (weekday - 1) % 7 in days
        return False

    return check
