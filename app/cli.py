"""Command line: the GUI (default), ``demo`` and ``migrate``; only the GUI imports PySide6."""

from __future__ import annotations

import argparse
import logging
import sys
import threading
import time
from collections.abc import Sequence

PROCESS_START = time.time()

DEFAULT_DEMO_CONVERSATIONS = 50_000
DEFAULT_SEED = 20261123


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="quiver",
        description="Quiver, the social command center. Without a command, opens the window.",
    )
    parser.add_argument(
        "--workspace", metavar="URL", help="workspace: a SQLAlchemy URL or a file path"
    )
    parser.add_argument(
        "--demo", action="store_true", help="open the demo workspace (generated on first use)"
    )
    parser.add_argument("--operator", metavar="EMAIL", help="act as this person")
    parser.add_argument(
        "--create", action="store_true", help="create the workspace if it does not exist"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = sub.add_parser("demo", help="generate a demo workspace")
    demo.add_argument("--conversations", type=int, default=DEFAULT_DEMO_CONVERSATIONS)
    demo.add_argument("--workspace", dest="demo_workspace", metavar="URL", required=True)
    demo.add_argument("--seed", type=int, default=DEFAULT_SEED)
    demo.add_argument(
        "--force", action="store_true", help="replace the workspace file if it exists"
    )

    poll = sub.add_parser("poll", help="poll the connected accounts (without the window)")
    poll.add_argument("--workspace", dest="poll_workspace", metavar="URL", required=True)
    poll.add_argument("--once", action="store_true", help="one round, then exit")

    migrate = sub.add_parser("migrate", help="upgrade a workspace to this version's schema")
    migrate.add_argument("--workspace", dest="migrate_workspace", metavar="URL", required=True)
    return parser


SECRET_LOGGERS = ("tweepy", "urllib3", "requests_oauthlib", "oauthlib")


def configure_logging(*, verbose: bool) -> None:
    """Log to stderr; with ``verbose`` at DEBUG, except what would print secrets.

    Secrets must not reach logs (connectors.md §0): tweepy logs request headers (the bearer
    token), urllib3 full URLs (Graph access tokens, the app secret) and oauthlib token bodies
    at DEBUG, so those loggers stay at INFO whatever the level.
    """
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for noisy in SECRET_LOGGERS:
        logging.getLogger(noisy).setLevel(logging.INFO)
    logging.getLogger("alembic").setLevel(logging.WARNING)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    configure_logging(verbose=args.verbose)
    if args.command == "demo":
        return _demo(args)
    if args.command == "migrate":
        return _migrate(args)
    if args.command == "poll":
        return _poll(args)
    from app.bootstrap import build_services
    from app.config import GuiOptions
    from app.ui.app import run_gui  # late: only the GUI pulls in PySide6

    return run_gui(
        GuiOptions(
            workspace=args.workspace,
            demo=args.demo,
            operator=args.operator,
            create=args.create,
            process_start=PROCESS_START,
            demo_conversations=DEFAULT_DEMO_CONVERSATIONS,
            demo_seed=DEFAULT_SEED,
        ),
        open_workspace=build_services,
    )


def _demo(args: argparse.Namespace) -> int:
    from app.services.demo import DemoError, generate_demo_workspace
    from app.storage.workspace import WorkspaceError

    last = [0.0]

    def progress(done: int, total: int) -> None:
        now = time.monotonic()
        if now - last[0] > 1 or done == total:
            last[0] = now
            print(f"\r{done:>9,} / {total:,} conversations", end="", file=sys.stderr, flush=True)

    started = time.monotonic()
    try:
        stats = generate_demo_workspace(
            args.demo_workspace,
            conversations=args.conversations,
            seed=args.seed,
            replace=args.force,
            progress=progress,
        )
    except (DemoError, WorkspaceError) as exc:
        print(f"\nquiver demo: {exc}", file=sys.stderr)
        return 2
    print(
        f"\nDemo workspace ready: {stats.conversations:,} conversations, {stats.messages:,} "
        f"messages in {time.monotonic() - started:.1f} s.",
        file=sys.stderr,
    )
    return 0


def _poll(args: argparse.Namespace) -> int:
    from app.bootstrap import build_services
    from app.services.polling import PollOutcome
    from app.services.scheduler import PollScheduler
    from app.storage.workspace import WorkspaceError

    try:
        services = build_services(args.poll_workspace)
    except WorkspaceError as exc:
        print(f"quiver poll: {exc}", file=sys.stderr)
        return 2

    printing = threading.Lock()  # workers report from their own threads: one line at a time

    def report(o: PollOutcome) -> None:
        detail = f" ({o.detail})" if o.detail else ""
        with printing:
            print(
                f"account {o.account_id}: {o.state}{detail}, {o.new_messages} new messages",
                flush=True,
            )

    try:
        if args.once:
            for outcome in services.polling.poll_due():
                report(outcome)
            return 0
        # Until interrupted: every account in a thread of its own, as in the window.
        scheduler = PollScheduler(
            services.polling, report, lambda m: print(f"polling error: {m}", file=sys.stderr)
        )
        scheduler.start()
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            scheduler.shutdown(2.0)
            return 0
    finally:
        services.close()


def _migrate(args: argparse.Namespace) -> int:
    from app.storage.workspace import WorkspaceError, open_database

    try:
        db = open_database(args.migrate_workspace)
    except WorkspaceError as exc:
        print(f"quiver migrate: {exc}", file=sys.stderr)
        return 2
    note = f" (backup: {db.backup})" if db.backup else ""
    print(f"{db.display_name} is up to date{note}.")
    db.close()
    return 0
