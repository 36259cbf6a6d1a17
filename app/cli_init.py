"""``quiver init``: set a new workspace up without a window (for IT departments).

Imports nothing heavy at module level: ``app.cli`` builds its parser from here on every start.
"""

from __future__ import annotations

import argparse
import sys

INIT_HELP = "set up a new workspace: its organization, first administrator and units"


def add_init_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``init`` command to ``quiver``'s sub-commands."""
    init = sub.add_parser(
        "init",
        help=INIT_HELP,
        description="Create the workspace if it does not exist (a SQLite file or a PostgreSQL "
        "database) and set it up: the organization, its first administrator (admin of the whole "
        "organization) and its first units, plus Triage, in one transaction. Refused, with "
        "nothing changed, when the workspace is already set up.",
    )
    init.add_argument(
        "--workspace", dest="init_workspace", metavar="URL", required=True,
        help="a file path or a SQLAlchemy URL (postgresql+psycopg://user@host/db)",
    )  # fmt: skip
    init.add_argument("--org", dest="init_org", metavar="NAME", required=True)
    init.add_argument("--admin-name", dest="init_admin_name", metavar="NAME", required=True)
    init.add_argument("--admin-email", dest="init_admin_email", metavar="EMAIL", required=True)
    init.add_argument(
        "--time-zone", dest="init_time_zone", metavar="ZONE", default="UTC",
        help="IANA time zone of the business hours, e.g. Europe/Berlin (default: UTC)",
    )  # fmt: skip
    init.add_argument("--mission", dest="init_mission", metavar="TEXT", default="")
    init.add_argument(
        "--units", dest="init_units", metavar="LIST", default=None,
        help='comma-separated first units (default: "Customer Care,Marketing,Public Relations,'
        'Sales & E-commerce,Legal & Compliance"); Triage is always added',
    )  # fmt: skip


def run_init(args: argparse.Namespace) -> int:
    """Set the workspace up; 0 when done, 2 with one line on stderr when refused."""
    from app.domain.setup import (
        SUGGESTED_UNITS,
        OrganizationSetup,
        SetupError,
        parse_unit_list,
        plan_setup,
    )
    from app.services.organization import OrganizationService
    from app.storage.workspace import WorkspaceError, open_database, parse_workspace

    units = SUGGESTED_UNITS if args.init_units is None else parse_unit_list(args.init_units)
    setup = OrganizationSetup(
        name=args.init_org,
        admin_name=args.init_admin_name,
        admin_email=args.init_admin_email,
        mission=args.init_mission,
        time_zone=args.init_time_zone,
        units=tuple(units),
    )
    try:
        plan_setup(setup)  # bad input creates no file and no database
        url = parse_workspace(args.init_workspace)
        db = open_database(url, create=True)
    except (SetupError, WorkspaceError) as exc:
        return _refuse(str(exc))
    location, name = db.location, db.display_name
    try:
        done = OrganizationService(db).set_up(setup)
    except SetupError as exc:
        return _refuse(f"{name}: {exc}")
    finally:
        db.close()
    org = done.organization
    root, *units_made = done.units
    print(f"Set up {org.name} in {name}:")
    print(f"  administrator: {done.administrator.name} <{done.administrator.email}>")
    print(f"  time zone: {org.time_zone}")
    print(f"  units: {root.name} > " + ", ".join(u.name for u in units_made))
    opened = location if " " not in location else f'"{location}"'
    print(f"Open it with: quiver --workspace {opened}")
    return 0


def _refuse(message: str) -> int:
    print(f"quiver init: {' '.join(message.split())}", file=sys.stderr)
    return 2
