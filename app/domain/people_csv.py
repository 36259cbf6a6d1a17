"""Reading a CSV of people and their roles into a preview: every problem by line, and a plan.

The file holds ``name,email,unit,role`` (a header line naming those four columns, in any order,
and nothing else), one role per line: a person with several roles has several lines. The unit is
written as its path of names from the root of the tree, ``Acme Mobility/Customer Care``.

What a line may be:

- for a new email: a person to add (with this role); every line of that email must carry the
  same name;
- for an email already in the workspace (compared case-insensitively): a role to add to that
  person, or nothing to do when they hold it already; a *different name* on such a line is an
  update of that person's name (the file is the newer word on what people are called), shown in
  the preview as a rename so nobody is renamed unseen;
- for a deactivated person: a problem (reactivate them first; an import never brings someone
  back silently).

Everything here is pure: the unit paths and the people already there come in as plain data, the
function never raises, and a preview with any problem is not to be imported at all.
"""

from __future__ import annotations

import csv
import difflib
import io
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from app.domain.enums import Role

MAX_BYTES = 5 * 1024 * 1024
COLUMNS = ("name", "email", "unit", "role")
MAX_NAME = 200
MAX_EMAIL = 320
_ROLES = tuple(r.value for r in Role)
# A pragmatic shape: something@domain.tld, no spaces, no characters mail never uses unquoted.
_EMAIL = re.compile(r"[^\s@<>(),;:\"\[\]\\]+@[^\s@<>(),;:\"\[\]\\.]+(\.[^\s@<>(),;:\"\[\]\\.]+)+")


@dataclass(frozen=True, slots=True)
class ExistingPerson:
    """Someone already in the workspace, as the import needs them."""

    id: int
    name: str
    email: str
    active: bool
    roles: frozenset[tuple[int, str]] = frozenset()  # (unit id, role)


@dataclass(frozen=True, slots=True)
class Problem:
    """What is wrong with one line of the file (line 0: the file as a whole)."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message


@dataclass(frozen=True, slots=True)
class RoleLine:
    """One role the import would grant, and the line asking for it."""

    line: int
    unit_id: int
    unit_path: str
    role: str


@dataclass(frozen=True, slots=True)
class PersonToAdd:
    name: str
    email: str  # lower case
    roles: tuple[RoleLine, ...]


@dataclass(frozen=True, slots=True)
class RolesToAdd:
    """Roles for someone already in the workspace."""

    person_id: int
    email: str
    roles: tuple[RoleLine, ...]


@dataclass(frozen=True, slots=True)
class Rename:
    person_id: int
    email: str
    before: str
    after: str
    line: int


@dataclass(frozen=True, slots=True)
class ImportPlan:
    add: tuple[PersonToAdd, ...] = ()
    grant: tuple[RolesToAdd, ...] = ()
    rename: tuple[Rename, ...] = ()
    unchanged: int = 0  # lines asking for a role the person already holds

    @property
    def people_added(self) -> int:
        return len(self.add)

    @property
    def roles_added(self) -> int:
        return sum(len(p.roles) for p in self.add) + sum(len(g.roles) for g in self.grant)

    def role_lines(self) -> Iterable[RoleLine]:
        """Every role the plan grants (to new and existing people)."""
        for p in self.add:
            yield from p.roles
        for g in self.grant:
            yield from g.roles


@dataclass(frozen=True, slots=True)
class ImportPreview:
    """What an import would do, and everything that stops it."""

    lines: int  # data lines read (not counting the header and blank lines)
    problems: tuple[Problem, ...] = ()
    plan: ImportPlan = field(default_factory=ImportPlan)

    @property
    def ok(self) -> bool:
        return not self.problems

    def with_problems(self, more: Iterable[Problem]) -> ImportPreview:
        """The same preview with further problems (the service's permission checks), by line."""
        merged = sorted((*self.problems, *more), key=lambda p: p.line)
        return ImportPreview(self.lines, tuple(merged), self.plan)


# -- single fields (the service uses them for people added by hand too) -----------------------


def clean_name(raw: str) -> tuple[str, str | None]:
    """The name with its whitespace tidied, and what is wrong with it (``None``: nothing)."""
    name = unicodedata.normalize("NFC", " ".join(raw.split()))
    if not name:
        return name, "the name is empty"
    if not name.isprintable():
        return name, "the name contains a control character"
    if len(name) > MAX_NAME:
        return name, f"the name is longer than {MAX_NAME} characters"
    return name, None


def clean_email(raw: str) -> tuple[str, str | None]:
    """The email in lower case, and what is wrong with its shape (``None``: nothing)."""
    email = raw.strip().lower()
    if not email:
        return email, "the email is empty"
    if len(email) > MAX_EMAIL or not email.isprintable() or not _EMAIL.fullmatch(email):
        return email, f"“{shown(email)}” is not an email address"
    return email, None


def shown(value: str, limit: int = 80) -> str:
    """A value as a message quotes it: control characters made visible, long ones cut."""
    text = "".join(c if c.isprintable() else "\ufffd" for c in value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def tidy_path(raw: str) -> str:
    """A unit path with the whitespace around and inside each name tidied."""
    return "/".join(unicodedata.normalize("NFC", " ".join(part.split())) for part in raw.split("/"))


def unit_key(path: str) -> str:
    """How a unit path is compared: its names tidied, case folded (``acme/customer care``)."""
    return tidy_path(path).casefold()


def unit_paths(units: Iterable[tuple[int, int | None, str]]) -> dict[str, int]:
    """``Acme/Customer Care`` → unit id, from ``(id, parent id, name)`` of every unit."""
    by_id = {uid: (parent, name) for uid, parent, name in units}
    paths: dict[str, int] = {}
    for uid in by_id:
        names: list[str] = []
        seen: set[int] = set()
        at: int | None = uid
        while at is not None and at in by_id and at not in seen:  # a broken tree ends the walk
            seen.add(at)
            parent, name = by_id[at]
            names.append(name)
            at = parent
        paths["/".join(reversed(names))] = uid
    return paths


# -- the file ---------------------------------------------------------------------------------


def decode(data: bytes | str) -> tuple[str | None, Problem | None]:
    """The file's text, or why it is refused (over 5 MB, not UTF-8)."""
    if isinstance(data, str):
        try:
            size = len(data.encode("utf-8"))
        except UnicodeEncodeError:
            return None, Problem(0, _NOT_UTF8)
        text = data
    else:
        size = len(data)
        text = ""
    if size > MAX_BYTES:
        return None, too_large(size)
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            return None, Problem(0, f"{_NOT_UTF8} (the first wrong byte is on line {line})")
    return text.removeprefix("\ufeff"), None


def too_large(size: int) -> Problem:
    """The refusal of a file of ``size`` bytes (over :data:`MAX_BYTES`)."""
    return Problem(
        0,
        f"The file is {size / 2**20:.1f} MB; at most 5 MB can be imported at once: "
        "split it into smaller files.",
    )


_NOT_UTF8 = "The file is not UTF-8 text: save it as “CSV UTF-8” and try again"


def read_people_csv(
    data: bytes | str,
    units: Mapping[str, int],
    people: Iterable[ExistingPerson],
) -> ImportPreview:
    """Check every line of the file against the workspace; never raises.

    Args:
        data: The file's bytes (or its text).
        units: Every unit's path of names from the root (``Acme/Customer Care``) → its id.
        people: Everyone already in the workspace, deactivated people included.
    """
    text, refusal = decode(data)
    if text is None:
        return ImportPreview(0, (refusal or Problem(0, _NOT_UTF8),))
    return _Reader(units, people).read(text)


class _Reader:
    def __init__(self, units: Mapping[str, int], people: Iterable[ExistingPerson]) -> None:
        self.units: dict[str, tuple[int, str]] = {}
        ambiguous: set[str] = set()
        for path, uid in units.items():
            key = unit_key(path)
            if key in self.units and self.units[key][0] != uid:
                ambiguous.add(key)
            self.units[key] = (uid, path)
        self.exact = dict(units)  # where two paths differ only by case, only exact ones
        for key in ambiguous:
            del self.units[key]
        self.people = {p.email.strip().lower(): p for p in people}
        self.problems: list[Problem] = []

    def read(self, text: str) -> ImportPreview:
        reader = csv.reader(io.StringIO(text, newline=""), strict=True)
        columns: dict[str, int] | None = None
        seen_lines = 0
        rows: list[tuple[int, dict[str, str]]] = []
        start = 1
        try:
            for values in reader:
                line, start = start, reader.line_num + 1
                if not values or all(not v.strip() for v in values):
                    continue
                if columns is None:
                    columns = self._header(line, values)
                    if columns is None:
                        break
                    continue
                seen_lines += 1
                row = self._fields(line, values, columns)
                if row is not None:
                    rows.append((line, row))
        except csv.Error as exc:
            self.problems.append(
                Problem(
                    start, f"this line cannot be read as CSV ({exc}); nothing after it was read"
                )
            )
        if columns is None and not self.problems:
            self.problems.append(Problem(1, f"the header is missing: {','.join(COLUMNS)}"))
        plan = self._plan(rows)
        self.problems.sort(key=lambda p: p.line)
        return ImportPreview(seen_lines, tuple(self.problems), plan)

    def _header(self, line: int, values: list[str]) -> dict[str, int] | None:
        columns: dict[str, int] = {}
        bad = False
        for i, raw in enumerate(values):
            name = raw.strip().lower()
            if name not in COLUMNS:
                label = shown(raw.strip(), 40)
                self.problems.append(
                    Problem(
                        line,
                        f"unknown column “{label}” (the columns are {', '.join(COLUMNS)})"
                        if label
                        else f"an empty column name (the columns are {', '.join(COLUMNS)})",
                    )
                )
                bad = True
            elif name in columns:
                self.problems.append(Problem(line, f"the column “{name}” appears twice"))
                bad = True
            else:
                columns[name] = i
        for name in COLUMNS:
            if name not in columns:
                self.problems.append(Problem(line, f"missing column “{name}”"))
                bad = True
        return None if bad else columns

    def _fields(
        self, line: int, values: list[str], columns: dict[str, int]
    ) -> dict[str, str] | None:
        if len(values) > len(COLUMNS):
            self.problems.append(
                Problem(line, f"{len(values)} values, but the header has {len(COLUMNS)} columns")
            )
            return None
        missing = [name for name in COLUMNS if columns[name] >= len(values)]
        if missing:
            for name in missing:
                self.problems.append(Problem(line, f"missing column “{name}”"))
            return None
        return {name: values[columns[name]] for name in COLUMNS}

    def _unit(self, line: int, raw: str) -> tuple[int, str] | None:
        path = tidy_path(raw)
        if not path.strip("/"):
            self.problems.append(Problem(line, "the unit is empty"))
            return None
        if path in self.exact:
            return self.exact[path], path
        found = self.units.get(unit_key(path))
        if found is not None:
            return found
        message = f"unknown unit “{shown(path, 120)}”"
        close: list[str] = []
        if len(path) <= 200:
            close = difflib.get_close_matches(path, list(self.exact), n=1, cutoff=0.75)
            if not close:  # written without the root, perhaps
                key = "/" + unit_key(path)
                close = [p for p in self.exact if unit_key(p).endswith(key)][:1]
        if close:
            message += f" (did you mean “{close[0]}”?)"
        self.problems.append(Problem(line, message))
        return None

    def _role(self, line: int, raw: str) -> str | None:
        role = raw.strip().lower()
        if role in _ROLES:
            return role
        label = shown(raw.strip(), 40)
        self.problems.append(
            Problem(
                line,
                (f"unknown role “{label}”" if label else "the role is empty")
                + f" (one of {', '.join(_ROLES)})",
            )
        )
        return None

    def _plan(self, rows: list[tuple[int, dict[str, str]]]) -> ImportPlan:
        names: dict[str, tuple[str, int]] = {}  # email -> (name, first line)
        wanted: dict[tuple[str, int, str], int] = {}  # (email, unit, role) -> line
        new: dict[str, list[RoleLine]] = {}
        more: dict[str, list[RoleLine]] = {}
        unchanged = 0
        for line, row in rows:
            name, name_problem = clean_name(row["name"])
            email, email_problem = clean_email(row["email"])
            for problem in (name_problem, email_problem):
                if problem:
                    self.problems.append(Problem(line, problem))
            unit = self._unit(line, row["unit"])
            role = self._role(line, row["role"])
            if email_problem:
                continue
            existing = self.people.get(email)
            if existing is not None and not existing.active:
                self.problems.append(
                    Problem(
                        line,
                        f"{email} belongs to {existing.name}, who is deactivated: reactivate "
                        "them in Settings first",
                    )
                )
                continue
            if not name_problem:
                first = names.setdefault(email, (name, line))
                if first[0] != name:
                    self.problems.append(
                        Problem(
                            line,
                            f"{email} is called “{name}” here but “{first[0]}” on line {first[1]}",
                        )
                    )
            if unit is None or role is None:
                continue
            key = (email, unit[0], role)
            if key in wanted:
                self.problems.append(
                    Problem(line, f"the same person, unit and role as line {wanted[key]}")
                )
                continue
            wanted[key] = line
            grant = RoleLine(line, unit[0], unit[1], role)
            if existing is None:
                new.setdefault(email, []).append(grant)
            elif (unit[0], role) in existing.roles:
                unchanged += 1
            else:
                more.setdefault(email, []).append(grant)
        renames = tuple(
            Rename(p.id, email, p.name, names[email][0], names[email][1])
            for email, p in self.people.items()
            if email in names and names[email][0] != p.name and p.active
        )
        return ImportPlan(
            add=tuple(
                PersonToAdd(names[email][0], email, tuple(grants))
                for email, grants in new.items()
                if email in names
            ),
            grant=tuple(
                RolesToAdd(self.people[email].id, email, tuple(grants))
                for email, grants in more.items()
            ),
            rename=renames,
            unchanged=unchanged,
        )
