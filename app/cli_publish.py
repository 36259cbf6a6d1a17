"""``quiver publish --workspace URL [--once]``: the outbox without the window.

Reconciles first what a crash left in ``publishing``, then sends approved drafts when they are
due, as the window's publisher does (``app/services/publisher.py``); every target's outcome is
one line on stdout. ``--once``: rounds until one finds nothing to do now, then exit 0 (a retry
due later waits for the next run). Without it: a round every few seconds until interrupted.
Exit 2: the workspace cannot be opened.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

#: Seconds between rounds when running on.
PAUSE_S = 5.0
#: ``--once`` stops after this many busy rounds, whatever is left (a guard, never reached).
MAX_ROUNDS = 10_000


def add_publish_parser(sub: Any) -> None:
    """The ``publish`` command on the main parser's sub-parsers."""
    publish = sub.add_parser(
        "publish",
        help="send approved drafts when due (the outbox, without the window)",
        description="Reconcile drafts a crash left in publishing with their networks, then "
        "send every approved draft that is due through its accounts, each exactly once.",
    )
    publish.add_argument("--workspace", dest="publish_workspace", metavar="URL", required=True)
    publish.add_argument(
        "--once",
        dest="publish_once",
        action="store_true",
        help="publish what is due now, then exit",
    )


def run_publish(args: argparse.Namespace) -> int:
    from app.bootstrap import build_services
    from app.services.publisher import RoundReport
    from app.storage.workspace import WorkspaceError

    try:
        services = build_services(args.publish_workspace)
    except WorkspaceError as exc:
        print(f"quiver publish: {exc}", file=sys.stderr)
        return 2

    def report(round_: RoundReport) -> None:
        for o in round_.outcomes:
            made = f" as {o.external_id}" if o.external_id else ""
            print(f"draft {o.draft_id} on {o.account}: {o.result}{made} ({o.detail})", flush=True)
        for draft_id, why in round_.held:
            print(f"draft {draft_id}: held back ({why})", flush=True)
        for draft_id, state in round_.finished:
            print(f"draft {draft_id}: {state}", flush=True)

    publisher = services.publisher
    try:
        waiting = publisher.waiting()
        print(f"outbox: {waiting} to go out; reconciling first", flush=True)
        report(publisher.reconcile())
        for _ in range(MAX_ROUNDS):
            round_ = publisher.run_once()
            report(round_)
            if args.publish_once and not round_.busy:
                break
            if not args.publish_once:
                time.sleep(0 if round_.busy else PAUSE_S)
        print(f"outbox: {publisher.waiting()} still to go out", flush=True)
        return 0
    except KeyboardInterrupt:
        return 0
    finally:
        services.close()
