"""``quiver people import FILE.csv --workspace URL [--dry-run] [--operator EMAIL]``.

Exit 0: imported (or, with ``--dry-run``, importable), with the counts printed. Exit 2: refused,
each bad line named on stderr (``line 3: unknown unit “Acme/Custmer Care”``), nothing changed.
Who imports: ``--operator EMAIL``, else the only active administrator of the root unit. With
sign-in on in the workspace, that person proves who they are as in the window: the passphrase is
asked in the terminal, or read from ``QUIVER_PASSPHRASE`` when there is no terminal (scripts).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def add_people_parser(sub: Any) -> None:
    """The ``people`` command and its ``import`` action, on the main parser's sub-parsers."""
    people = sub.add_parser("people", help="manage people and their roles (CSV import)")
    actions = people.add_subparsers(dest="people_command", metavar="ACTION", required=True)
    imp = actions.add_parser(
        "import",
        help="import people and roles from a CSV file (name,email,unit,role)",
        description="Import people and their roles from a CSV file with the header "
        "name,email,unit,role (one role per line; the unit as its path from the root, "
        "e.g. 'Acme/Customer Care'). All or nothing: a file with any wrong line is refused "
        "with every problem named by line, and nothing is changed.",
    )
    imp.add_argument("people_file", metavar="FILE.csv", help="the CSV file (UTF-8, at most 5 MB)")
    imp.add_argument("--workspace", dest="people_workspace", metavar="URL", required=True)
    imp.add_argument(
        "--dry-run",
        dest="people_dry_run",
        action="store_true",
        help="check the file and show what would change, without changing anything",
    )
    imp.add_argument(
        "--operator",
        dest="people_operator",
        metavar="EMAIL",
        help="who imports (default: the only active administrator of the root unit)",
    )


def run_people(args: argparse.Namespace) -> int:
    from app.bootstrap import build_services
    from app.domain.people_csv import MAX_BYTES, too_large
    from app.services.people import ImportRefused, UnknownOperatorError
    from app.storage.workspace import WorkspaceError

    path = Path(args.people_file)
    try:
        with path.open("rb") as f:
            data = f.read(MAX_BYTES + 1)
        size = path.stat().st_size
    except OSError as exc:
        return _refuse(f"cannot read {path}: {exc.strerror or exc}")
    if len(data) > MAX_BYTES:
        return _refuse(f"{path}: {too_large(size)}", nothing=True)
    try:
        services = build_services(args.people_workspace)
    except WorkspaceError as exc:
        return _refuse(str(exc))
    try:
        try:
            operator = services.people.import_operator(args.people_operator)
        except UnknownOperatorError as exc:
            return _refuse(str(exc), nothing=True)
        unproven = signed_in(services, operator)
        if unproven is not None:
            return _refuse(unproven, nothing=True)
        if args.people_dry_run:
            preview = services.people.preview_import(data, operator)
            if not preview.ok:
                return _problems(path, preview.problems)
            plan = preview.plan
            print(
                f"{path}: {preview.lines} lines can be imported (dry run, nothing changed): "
                f"{plan.people_added} people to add, {plan.roles_added} roles to grant, "
                f"{len(plan.rename)} people to rename, {plan.unchanged} lines already true."
            )
            for rename in plan.rename:
                print(f"  line {rename.line}: rename “{rename.before}” to “{rename.after}”")
            return 0
        try:
            result = services.people.import_people(operator, data)
        except ImportRefused as refused:
            return _problems(path, refused.preview.problems)
        print(f"{path}: imported: {result.summary()}.")
        return 0
    finally:
        services.close()


def signed_in(services: Any, person_id: int) -> str | None:
    """``None`` when the person may act (sign-in off, or the passphrase is right), else why not."""
    import getpass
    import os

    from app.services.signin import SignInRefused

    if not services.signin.required():
        return None
    passphrase = os.environ.get(PASSPHRASE_ENV)
    if passphrase is None:
        if not sys.stdin.isatty():
            return (
                "sign-in is on in this workspace: run this in a terminal to type the passphrase, "
                f"or set {PASSPHRASE_ENV}"
            )
        passphrase = getpass.getpass("Passphrase: ")
    try:
        services.signin.sign_in(person_id, passphrase)
    except SignInRefused as exc:
        return str(exc)
    return None


PASSPHRASE_ENV = "QUIVER_PASSPHRASE"


def _problems(path: Path, problems: Any) -> int:
    problems = list(problems)
    for problem in problems:
        print(f"{path}: {problem}", file=sys.stderr)
    return _refuse(f"{len(problems)} problem(s) in {path}", nothing=True)


def _refuse(message: str, *, nothing: bool = False) -> int:
    message = message.rstrip(".") + "."
    tail = " Nothing was imported." if nothing else ""
    print(f"quiver people import: {message}{tail}", file=sys.stderr)
    return 2
