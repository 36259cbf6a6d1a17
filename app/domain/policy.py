"""The social media policy as pure checks of a draft's text for one or several targets.

A policy is a list of lines (:class:`PolicyLine`: id, kind, value, scope, note), compiled once
(:meth:`Policy.compile`, which refuses a malformed line with a :class:`PolicyError` naming it),
then :meth:`Policy.check` per draft text and target (network, kind of draft, account, the
account's unit path). A line applies to a target when every part of its :class:`Scope` does:
no part is global; a network, an account, and a unit, which covers its sub-units (the target's
unit path ``"/1/3/7/"`` lies under units 1, 3 and 7).

- **Banned terms and phrases** block; **risky** ones warn and make the draft need approval.
  All terms of the policy are found in one Aho-Corasick pass over the folded text, as whole
  words, case- and accent-insensitive, the way routing matches words
  (:mod:`app.domain.text_match`: ``garantíe`` reads ``garantie``, ``ß`` reads ``ss``, runs of
  white space are one space). Every occurrence is a finding with its range in the original
  text, mapped back through the folding.
- **Required disclaimers**: a disclaimer line that applies and whose text does not occur in
  the draft (folded the same way, so case, accents and white space do not matter; whole words)
  blocks, saying which disclaimer and for which scope. Its range is empty, at the end of the
  text, where it would go.
- **Allowed link domains**: when any link-domain line applies, every link in the draft must go
  to one of those domains or a subdomain of one, compared in ASCII (IDNA) form
  (:mod:`app.domain.links`); a link elsewhere blocks. Without such a line any domain is fine.
- **Length**: the network's own limit for the kind of draft (:mod:`app.domain.lengths`, one
  table; X counts weighted characters) or a stricter ``length_limit`` line, whichever is
  smaller; over it blocks, with the range past the limit. Facebook texts also warn when their
  UTF-16 length is over Facebook's limit.

Findings are sorted by position (then severity, kind, line id) and are the same for the same
input. Adding a banned or risky term never removes a finding.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from app.domain.enums import DraftKind, Network, PolicyKind
from app.domain.lengths import (
    length_of,
    limit_of,
    measure,
    rule_of,
    utf16_length,
    utf16_overflow_start,
)
from app.domain.links import Link, domain_ascii, domain_problem, find_links, is_allowed
from app.domain.text_match import FoldedText, TermIndex, fold_mapped, normalize_text

__all__ = [
    "Finding",
    "Findings",
    "Policy",
    "PolicyError",
    "PolicyLine",
    "Scope",
    "Severity",
    "Target",
    "length_of",
    "limit_of",
]


class PolicyError(ValueError):
    """A policy line cannot be used as written; the message names the line and says why."""

    def __init__(self, line_id: int, problem: str) -> None:
        super().__init__(f"Policy line {line_id}: {problem}")
        self.line_id = line_id
        self.problem = problem


class Severity(StrEnum):
    BLOCK = "block"
    WARN = "warn"


# -- inputs ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Scope:
    """Where a line applies; every part given must hold (none given: everywhere)."""

    network: Network | None = None
    unit_id: int | None = None  # the unit and its sub-units
    account_id: int | None = None

    def __post_init__(self) -> None:
        if self.network is not None:
            object.__setattr__(self, "network", Network(self.network))

    def applies_to(self, target: Target) -> bool:
        return (
            (self.network is None or self.network == target.network)
            and (self.unit_id is None or self.unit_id in target.unit_ids)
            and (self.account_id is None or self.account_id == target.account_id)
        )


GLOBAL = Scope()


@dataclass(frozen=True, slots=True)
class PolicyLine:
    """One line of the policy, as stored (``app.models.rules.PolicyRule``)."""

    id: int
    kind: PolicyKind
    value: str
    scope: Scope = GLOBAL
    note: str = ""

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "kind", PolicyKind(self.kind))
        except ValueError:
            kinds = ", ".join(k.value for k in PolicyKind)
            raise PolicyError(self.id, f"the kind {self.kind!r} is not one of {kinds}") from None


_PATH = re.compile(r"^(?:/\d+)*/$")


@dataclass(frozen=True, slots=True)
class Target:
    """Where a draft goes: the network, the kind of draft, the account and its unit's path."""

    network: Network
    kind: DraftKind
    account_id: int | None = None
    unit_path: str = ""  # "/1/3/7/": the account's unit and the units above it
    unit_ids: frozenset[int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "network", Network(self.network))
        object.__setattr__(self, "kind", DraftKind(self.kind))
        path = self.unit_path
        if path and not _PATH.match(path):
            raise ValueError(f"a unit path reads like '/1/3/7/', not {path!r}")
        ids = frozenset(int(p) for p in path.strip("/").split("/") if p)
        object.__setattr__(self, "unit_ids", ids)


# -- results ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing the policy says about a draft, for a range ``[start, end)`` of its text."""

    start: int
    end: int
    severity: Severity
    kind: PolicyKind
    line_id: int | None  # None: the network's own length limit
    message: str
    requires_approval: bool = False


@dataclass(frozen=True, slots=True)
class Findings:
    """Everything the policy says about one text for one target, sorted by position."""

    items: tuple[Finding, ...]
    length: int  # as the network counts it
    limit: int  # the strictest that applies

    def __iter__(self) -> Iterator[Finding]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    @property
    def blocks(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.items if f.severity is Severity.BLOCK)

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.items if f.severity is Severity.WARN)

    @property
    def blocked(self) -> bool:
        """Whether the draft may not go out as written."""
        return any(f.severity is Severity.BLOCK for f in self.items)

    @property
    def requires_approval(self) -> bool:
        """Whether a risky term makes the draft need approval."""
        return any(f.requires_approval for f in self.items)


_SEVERITY_ORDER = {Severity.BLOCK: 0, Severity.WARN: 1}
_KIND_ORDER = {k: i for i, k in enumerate(PolicyKind)}


def _order(f: Finding) -> tuple[int, int, int, int, int, str]:
    line = -1 if f.line_id is None else f.line_id
    return (f.start, f.end, _SEVERITY_ORDER[f.severity], _KIND_ORDER[f.kind], line, f.message)


# -- the compiled policy ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Entry:
    line: PolicyLine
    scope: int  # index into the policy's distinct scopes
    message: str
    term_id: int = -1  # terms and disclaimers
    limit: int = 0  # length limits
    domain: str = ""  # link domains, ASCII


class _Scan:
    """What one text gives every target: folded once, searched once, links found once."""

    __slots__ = ("_links", "_measured", "folded", "found", "hits", "text")

    def __init__(self, text: str, terms: TermIndex | None) -> None:
        self.text = text
        self.folded: FoldedText = fold_mapped(text)
        self.hits = terms.hits(self.folded.text) if terms is not None else []
        self.found = {tid for _, _, tid in self.hits}
        self._links: list[Link] | None = None
        self._measured: dict[tuple[str, int], tuple[int, int | None]] = {}

    def links(self) -> list[Link]:
        if self._links is None:
            self._links = find_links(self.text)
        return self._links

    def measure(self, target: Target, limit: int) -> tuple[int, int | None]:
        """The length and where it goes over ``limit``, once per way of counting and limit."""
        key = (rule_of(target.network, target.kind).counting, limit)
        found = self._measured.get(key)
        if found is None:
            found = self._measured[key] = measure(self.text, target.network, target.kind, limit)
        return found


class Policy:
    """Policy lines compiled once (:meth:`compile`), then :meth:`check` per draft text."""

    def __init__(
        self,
        entries: tuple[_Entry, ...],
        terms: TermIndex | None,
        term_entries: Mapping[int, tuple[_Entry, ...]],
        scopes: tuple[Scope, ...],
    ) -> None:
        self._entries = entries
        self._terms = terms
        self._term_entries = term_entries
        self._scopes = scopes
        kinds = {k: tuple(e for e in entries if e.line.kind is k) for k in PolicyKind}
        self._disclaimers = kinds[PolicyKind.DISCLAIMER]
        self._domains = kinds[PolicyKind.LINK_DOMAIN]
        self._lengths = kinds[PolicyKind.LENGTH_LIMIT]

    @classmethod
    def compile(
        cls,
        lines: Iterable[PolicyLine],
        *,
        unit_names: Mapping[int, str] | None = None,
        account_names: Mapping[int, str] | None = None,
    ) -> Policy:
        """Check and compile ``lines`` (any order).

        Args:
            lines: the policy's lines.
            unit_names: unit names for the messages ("in Finance and its sub-units").
            account_names: account names for the messages ("for @acme_invest").

        Raises:
            PolicyError: two lines share an id, or a line cannot be used (an empty term or
                disclaimer, a length limit that is not a whole number above 0, a domain that
                is not a domain).
        """
        units, accounts = unit_names or {}, account_names or {}
        ordered = sorted(lines, key=lambda line: line.id)
        scope_ids: dict[Scope, int] = {}
        scope_names: list[str] = []
        terms: dict[str, int] = {}
        by_term: dict[int, list[_Entry]] = {}
        entries: list[_Entry] = []
        previous: int | None = None
        for line in ordered:
            if line.id == previous:
                raise PolicyError(line.id, "another line has the same id")
            previous = line.id
            scope = scope_ids.get(line.scope)
            if scope is None:
                scope = scope_ids[line.scope] = len(scope_names)
                scope_names.append(_scope_text(line.scope, units, accounts))
            entry = _compile_line(line, scope, scope_names[scope], terms)
            entries.append(entry)
            if line.kind in (PolicyKind.BANNED_TERM, PolicyKind.RISKY_TERM):
                by_term.setdefault(entry.term_id, []).append(entry)
        term_index = TermIndex(terms) if terms else None
        term_entries = {tid: tuple(group) for tid, group in by_term.items()}
        return cls(tuple(entries), term_index, term_entries, tuple(scope_ids))

    @property
    def lines(self) -> tuple[PolicyLine, ...]:
        """The lines, by id."""
        return tuple(e.line for e in self._entries)

    def limit_of(self, target: Target) -> int:
        """The strictest length limit for ``target``: the network's or a policy line's."""
        return self._limit(target, self._applicable(target))[0]

    def check(self, text: str, target: Target) -> Findings:
        """Everything the policy says about ``text`` going to ``target``; never raises."""
        return self._findings(_Scan(text, self._terms), target)

    def check_many(self, text: str, targets: Iterable[Target]) -> dict[Target, Findings]:
        """:meth:`check` for several targets at once (the text is folded and searched once)."""
        scan = _Scan(text, self._terms)
        return {target: self._findings(scan, target) for target in targets}

    # -- per target ------------------------------------------------------------------------

    def _applicable(self, target: Target) -> list[bool]:
        return [scope.applies_to(target) for scope in self._scopes]

    def _limit(self, target: Target, applies: list[bool]) -> tuple[int, _Entry | None]:
        limit, source = limit_of(target.network, target.kind), None
        for entry in self._lengths:
            if entry.limit < limit and applies[entry.scope]:
                limit, source = entry.limit, entry
        return limit, source

    def _findings(self, scan: _Scan, target: Target) -> Findings:
        applies = self._applicable(target)
        out: list[Finding] = []
        folded = scan.folded
        for start, end, tid in scan.hits:
            for entry in self._term_entries.get(tid, ()):
                if not applies[entry.scope]:
                    continue
                line = entry.line
                risky = line.kind is PolicyKind.RISKY_TERM
                s, e = folded.original_range(start, end)
                severity = Severity.WARN if risky else Severity.BLOCK
                out.append(Finding(s, e, severity, line.kind, line.id, entry.message, risky))
        n = len(scan.text)
        for entry in self._disclaimers:
            if applies[entry.scope] and entry.term_id not in scan.found:
                line = entry.line
                out.append(Finding(n, n, Severity.BLOCK, line.kind, line.id, entry.message))
        allowed = [e for e in self._domains if applies[e.scope]]
        if allowed:
            out.extend(_link_findings(scan.links(), allowed))
        limit, source = self._limit(target, applies)
        length, over = scan.measure(target, limit)
        out.extend(self._length_findings(scan, target, length, over, limit, source))
        out.sort(key=_order)
        return Findings(tuple(out), length, limit)

    def _length_findings(
        self,
        scan: _Scan,
        target: Target,
        length: int,
        start: int | None,
        limit: int,
        source: _Entry | None,
    ) -> list[Finding]:
        rule = rule_of(target.network, target.kind)
        text, n = scan.text, len(scan.text)
        if length > limit:
            message = f"{length:,} of {limit:,} characters {rule.place}"
            line_id = None
            if source is not None:
                line_id = source.line.id
                message += f" ({source.message})"
            begin = n if start is None else start
            return [Finding(begin, n, Severity.BLOCK, PolicyKind.LENGTH_LIMIT, line_id, message)]
        if rule.utf16_warning and n * 2 > rule.limit:
            units = utf16_length(text)
            if units > rule.limit:
                start = utf16_overflow_start(text, rule.limit)
                message = (
                    f"{units:,} of {rule.limit:,} characters {rule.place} when emoji count "
                    f"twice (UTF-16), as some of {target.network.label}'s counters do: it may "
                    "be refused"
                )
                begin = n if start is None else start
                return [Finding(begin, n, Severity.WARN, PolicyKind.LENGTH_LIMIT, None, message)]
        return []


def _link_findings(links: list[Link], allowed: list[_Entry]) -> list[Finding]:
    domains = tuple(dict.fromkeys(e.domain for e in allowed))
    names = _join(domains) + (
        " (and its subdomains)" if len(domains) == 1 else " (and their subdomains)"
    )
    line_id = allowed[0].line.id
    out: list[Finding] = []
    for link in links:
        if is_allowed(link.ascii_host, domains):
            continue
        if link.ascii_host is None:
            what = f"“{link.url}” does not go to a domain name"
        elif link.ascii_host != link.host.lower():
            what = f"“{link.host}” ({link.ascii_host}) is not an allowed link domain"
        else:
            what = f"“{link.host}” is not an allowed link domain"
        message = f"{what}: links may go only to {names}"
        out.append(
            Finding(link.start, link.end, Severity.BLOCK, PolicyKind.LINK_DOMAIN, line_id, message)
        )
    return out


# -- compiling one line ----------------------------------------------------------------------

_WHOLE_NUMBER = re.compile(r"^[0-9]+$")


def _compile_line(line: PolicyLine, scope: int, where: str, terms: dict[str, int]) -> _Entry:
    value = line.value.strip()
    note = f": {line.note.strip()}" if line.note.strip() else ""
    scoped = "" if line.scope == GLOBAL else f" {where}"
    kind = line.kind
    if kind in (PolicyKind.BANNED_TERM, PolicyKind.RISKY_TERM, PolicyKind.DISCLAIMER):
        norm = normalize_text(value)
        if not norm:
            what = "disclaimer" if kind is PolicyKind.DISCLAIMER else "term"
            raise PolicyError(line.id, f"the {what} is empty")
        tid = terms.setdefault(norm, len(terms))
        noun = "phrase" if " " in norm else "term"
        if kind is PolicyKind.BANNED_TERM:
            message = f"“{value}” is a banned {noun}{scoped}{note}"
        elif kind is PolicyKind.RISKY_TERM:
            message = f"“{value}” is a risky {noun}{scoped}, so the draft needs approval{note}"
        else:
            message = f"The disclaimer “{value}” is missing: it is required {where}{note}"
        return _Entry(line, scope, message, term_id=tid)
    if kind is PolicyKind.LINK_DOMAIN:
        problem = domain_problem(value)
        domain = domain_ascii(value)
        if problem is not None or domain is None:
            raise PolicyError(line.id, problem or f"“{value}” is not a domain name")
        return _Entry(line, scope, "", domain=domain)
    if not _WHOLE_NUMBER.match(value) or int(value) <= 0:
        raise PolicyError(
            line.id,
            f"a length limit is a whole number of characters above 0, like 280, not “{value}”",
        )
    limit = int(value)
    return _Entry(line, scope, f"the policy allows {limit:,} {where}{note}", limit=limit)


def _scope_text(scope: Scope, units: Mapping[int, str], accounts: Mapping[int, str]) -> str:
    parts: list[str] = []
    if scope.network is not None:
        parts.append(f"on {scope.network.label}")
    if scope.account_id is not None:
        parts.append(f"for {accounts.get(scope.account_id) or f'account #{scope.account_id}'}")
    if scope.unit_id is not None:
        parts.append(f"in {units.get(scope.unit_id) or f'unit #{scope.unit_id}'} and its sub-units")
    return " ".join(parts) or "for every draft"


def _join(names: tuple[str, ...]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " or " + names[-1]
