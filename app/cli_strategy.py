"""``quiver strategy export|import|edit``: the strategy as a file, in and out of a workspace.

- ``export FILE --workspace URL``: keep the strategy as a new revision and write it to FILE.
- ``import FILE --workspace URL [--dry-run]``: merge FILE into the workspace against the
  revision it was exported from. Exit 0: applied (or nothing to do; with ``--dry-run``: it
  would apply, nothing changed). Exit 3: conflicts, each listed with the item's id, the field
  and the three values; nothing changed. Exit 2: refused (a malformed file, a rule the result
  breaks, a part the operator may not change, a workspace that cannot be opened); nothing
  changed.
- ``edit FILE``: open FILE in the strategy editor, with no workspace and no network.

Who exports or imports: ``--operator EMAIL``, else the only active administrator of the root
unit; with sign-in on, they prove it with their passphrase as for ``quiver people import``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

EXIT_REFUSED = 2
EXIT_CONFLICTS = 3
#: A value longer than this is shown cut, with its length.
SHOW_CHARS = 200


def add_strategy_parser(sub: Any) -> None:
    """The ``strategy`` command and its actions, on the main parser's sub-parsers."""
    strategy = sub.add_parser(
        "strategy", help="the strategy as a file: export, import with a merge, edit offline"
    )
    actions = strategy.add_subparsers(dest="strategy_command", metavar="ACTION", required=True)
    exp = actions.add_parser(
        "export",
        help="write the strategy to a YAML file (kept as a new revision for the merge)",
        description="Keep the workspace's strategy as a new revision and write it to FILE, "
        "one human-readable YAML file a person can edit offline and import back.",
    )
    exp.add_argument("strategy_file", metavar="FILE")
    _workspace_options(exp)
    exp.add_argument("--note", dest="strategy_note", default="", help="why it was exported")
    exp.add_argument(
        "--force", dest="strategy_force", action="store_true", help="replace FILE if it exists"
    )
    imp = actions.add_parser(
        "import",
        help="merge a strategy file back into the workspace",
        description="Merge FILE into the workspace item by item and field by field against "
        "the revision it was exported from. Exit 0: applied or nothing to do; 3: conflicts "
        "(listed; nothing changed); 2: refused (nothing changed).",
    )
    imp.add_argument("strategy_file", metavar="FILE")
    _workspace_options(imp)
    imp.add_argument(
        "--dry-run",
        dest="strategy_dry_run",
        action="store_true",
        help="say what the import would change, and change nothing",
    )
    edit = actions.add_parser(
        "edit",
        help="open a strategy file in the editor (no workspace, no network)",
        description="Open FILE in Quiver's strategy editor, on its own: no workspace and no "
        "network needed. Exit 2 when the file cannot be opened (the window says why).",
    )
    edit.add_argument("strategy_file", metavar="FILE")


def _workspace_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--workspace", dest="strategy_workspace", metavar="URL", required=True)
    parser.add_argument(
        "--operator",
        dest="strategy_operator",
        metavar="EMAIL",
        help="who acts (default: the only active administrator of the root unit)",
    )


def run_strategy(args: argparse.Namespace) -> int:
    if args.strategy_command == "edit":
        from app.ui.strategy.file_window import run_file_editor  # late: only the GUI pulls in Qt

        return run_file_editor(args.strategy_file)
    from app.bootstrap import build_services
    from app.storage.workspace import WorkspaceError

    doing = args.strategy_command
    theirs = None
    if doing == "import":
        from app.domain.strategy_file import StrategyFileError, read_strategy_file

        try:
            theirs = read_strategy_file(args.strategy_file).doc
        except OSError as exc:
            return _refuse(doing, f"cannot read {args.strategy_file}: {exc.strerror or exc}")
        except StrategyFileError as exc:
            for problem in exc.problems:
                print(f"{args.strategy_file}: {problem}", file=sys.stderr)
            return _refuse(doing, f"{args.strategy_file} is not a strategy Quiver can use")
    elif Path(args.strategy_file).exists() and not args.strategy_force:
        return _refuse(doing, f"{args.strategy_file} exists: pass --force to replace it")
    try:
        services = build_services(args.strategy_workspace)
    except WorkspaceError as exc:
        return _refuse(doing, str(exc))
    try:
        operator = _operator(services, args.strategy_operator)
        if isinstance(operator, str):
            return _refuse(doing, operator)
        if theirs is None:
            return _export(services, operator, args)
        return _import(services, operator, theirs, args)
    finally:
        services.close()


def _operator(services: Any, email: str | None) -> int | str:
    """The person who acts, or why nobody may."""
    from app.cli_people import signed_in
    from app.services.people import UnknownOperatorError

    try:
        operator = int(services.people.import_operator(email))
    except UnknownOperatorError as exc:
        return str(exc)
    unproven = signed_in(services, operator)
    return unproven if unproven is not None else operator


def _export(services: Any, operator: int, args: argparse.Namespace) -> int:
    from app.services.access import NotAllowed

    path = Path(args.strategy_file)
    try:
        exported = services.strategy_files.export_file(operator, path, args.strategy_note)
    except NotAllowed as exc:
        return _refuse("export", str(exc))
    except OSError as exc:
        return _refuse("export", f"cannot write {path}: {exc.strerror or exc}")
    doc = exported.doc
    print(
        f"{path}: revision {exported.revision} exported: {len(doc.items)} items, "
        f"{len(doc.policy)} policy lines."
    )
    return 0


def _import(services: Any, operator: int, theirs: Any, args: argparse.Namespace) -> int:
    from app.services.strategy_files import ImportConflicts, ImportRefused

    path = args.strategy_file
    files = services.strategy_files
    try:
        if args.strategy_dry_run:
            plan = files.plan_import(operator, theirs)
            if plan.refusals:
                raise ImportRefused(plan)
            if plan.conflicts:
                raise ImportConflicts(plan)
        else:
            plan = files.apply_import(operator, theirs)
    except ImportRefused as refused:
        for reason in refused.plan.refusals:
            print(f"{path}: {reason}", file=sys.stderr)
        return _refuse("import", f"{len(refused.plan.refusals)} problem(s) with {path}")
    except ImportConflicts as found:
        for line in conflict_lines(found.plan):
            print(line, file=sys.stderr)
        n = len(found.plan.conflicts)
        print(
            f"quiver strategy import: {n} conflict(s) between {path} and the workspace: "
            "decide them in Quiver (Strategy > Import file…). Nothing was changed.",
            file=sys.stderr,
        )
        return EXIT_CONFLICTS
    if plan.nothing_to_do:
        print(f"{path}: nothing to import: the file and the workspace agree.")
        return 0
    for line in change_lines(plan):
        print(line)
    verb = "would change (dry run, nothing changed)" if args.strategy_dry_run else "imported"
    print(f"{path}: {verb}: {summary(plan)}.")
    return 0


def _show(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, tuple):
        return ", ".join(map(str, value)) or "(none)"
    text = str(getattr(value, "value", value))
    if len(text) > SHOW_CHARS:
        return f"{text[:SHOW_CHARS]!r}… ({len(text)} characters)"
    return repr(text) if text != text.strip() or "\n" in text or not text else text


def _label(record: Any) -> str:
    if record is None:
        return ""
    title = getattr(record, "title", None) or getattr(record, "value", "")
    kind = getattr(getattr(record, "type", None), "value", None) or "policy line"
    return f" ({kind} {str(title)[:60]!r})"


def _record(value: Any, base: Any) -> str:
    """A deletion conflict's side: deleted, or there (with what differs from the export)."""
    from app.domain.strategy_merge import changed_fields

    if value is None:
        return "deleted"
    if base is None or value == base:
        return "kept as exported" if base is not None else "there"
    return f"edited: {', '.join(changed_fields(base, value))}"


def conflict_lines(plan: Any) -> list[str]:
    """Each conflict: the item's id and the field, then the three values."""
    from app.domain.strategy_merge import DELETED

    out: list[str] = []
    for c in plan.conflicts:
        if c.field == DELETED:
            record = next(r for r in (c.ours, c.theirs, c.base) if r is not None)
            out.append(f"conflict: item {c.item_id}{_label(record)}, deleted on one side")
            out.append(f"  when exported:    {'there' if c.base is not None else 'not there'}")
            out.append(f"  in the workspace: {_record(c.ours, c.base)}")
            out.append(f"  in the file:      {_record(c.theirs, c.base)}")
            continue
        record = plan.result.ours.items.get(c.item_id) or plan.result.ours.policy.get(c.item_id)
        what = "the mission" if c.item_id is None else f"item {c.item_id}{_label(record)}"
        out.append(f"conflict: {what}, field {c.field}")
        out.append(f"  when exported:    {_show(c.base)}")
        out.append(f"  in the workspace: {_show(c.ours)}")
        out.append(f"  in the file:      {_show(c.theirs)}")
    return out


def change_lines(plan: Any) -> list[str]:
    out: list[str] = []
    for change in plan.changes:
        record = change.after if change.after is not None else change.before
        if change.item_id is None:
            out.append("  changed: the mission")
            continue
        fields = f": {', '.join(change.fields)}" if change.action == "changed" else ""
        out.append(f"  {change.action}: {change.item_id}{_label(record)}{fields}")
    return out


def summary(plan: Any) -> str:
    return ", ".join(f"{n} {action}" for action, n in plan.counts().items())


def _refuse(doing: str, message: str) -> int:
    message = message.rstrip(".") + "."
    print(f"quiver strategy {doing}: {message} Nothing was changed.", file=sys.stderr)
    return EXIT_REFUSED
