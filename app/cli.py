"""Command line: the GUI (default) and its commands (``demo``, ``publish``, ``poll``, …).

The commands: ``init``, ``demo``, ``migrate``, ``poll``, ``publish``, ``people``, ``sandbox
received``, ``strategy export|import|edit``, ``workspace copy``.

Only the GUI imports PySide6.
"""

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

    from app.cli_init import add_init_parser

    add_init_parser(sub)

    from app.cli_people import add_people_parser

    add_people_parser(sub)

    from app.cli_publish import add_publish_parser

    add_publish_parser(sub)

    from app.cli_strategy import add_strategy_parser

    add_strategy_parser(sub)

    migrate = sub.add_parser("migrate", help="upgrade a workspace to this version's schema")
    migrate.add_argument("--workspace", dest="migrate_workspace", metavar="URL", required=True)

    sandbox = sub.add_parser("sandbox", help="what the Sandbox network received")
    sandbox_actions = sandbox.add_subparsers(
        dest="sandbox_command", metavar="ACTION", required=True
    )
    received = sandbox_actions.add_parser(
        "received",
        help="print every post, reply and message the Sandbox network received, as JSON lines",
    )
    received.add_argument("--workspace", dest="sandbox_workspace", metavar="URL", required=True)
    received.add_argument("--account", metavar="HANDLE", help="only what this account wrote")

    workspace = sub.add_parser("workspace", help="manage workspaces (copy one to another URL)")
    actions = workspace.add_subparsers(dest="workspace_command", metavar="ACTION", required=True)
    copy = actions.add_parser(
        "copy",
        help="copy a whole workspace into a new or empty one (SQLite file or PostgreSQL)",
        description="Copy every row of the workspace SRC into DST (created if missing, which "
        "must hold no data), in one transaction, verified table by table.",
    )
    copy.add_argument("copy_source", metavar="SRC", help="the workspace to copy: a URL or a path")
    copy.add_argument("copy_destination", metavar="DST", help="where to copy it: a URL or a path")
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
    if args.command == "init":
        from app.cli_init import run_init

        return run_init(args)
    if args.command == "people":
        from app.cli_people import run_people

        return run_people(args)
    if args.command == "poll":
        return _poll(args)
    if args.command == "publish":
        from app.cli_publish import run_publish

        return run_publish(args)
    if args.command == "strategy":
        from app.cli_strategy import run_strategy

        return run_strategy(args)
    if args.command == "workspace":
        return _workspace_copy(args)
    if args.command == "sandbox":
        return _sandbox_received(args)
    from app.bootstrap import build_services, demo_connectors
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
        demo_connectors=demo_connectors,
    )


def _demo(args: argparse.Namespace) -> int:
    from app.bootstrap import demo_connectors
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
            connectors=demo_connectors,
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


def _sandbox_received(args: argparse.Namespace) -> int:
    """``quiver sandbox received``: one JSON line per write the Sandbox network received."""
    from app.bootstrap import sandbox_network_for
    from app.connectors.sandbox_network import SandboxNetworkError
    from app.storage.workspace import WorkspaceError, open_database

    try:
        db = open_database(args.sandbox_workspace)
    except WorkspaceError as exc:
        print(f"quiver sandbox received: {exc}", file=sys.stderr)
        return 2
    try:
        for write in sandbox_network_for(db).received(args.account):
            print(write.as_json(), flush=True)
    except SandboxNetworkError as exc:
        print(f"quiver sandbox received: {exc}", file=sys.stderr)
        return 2
    finally:
        db.close()
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


class _Interrupted(BaseException):
    """SIGTERM during a copy: unwinds like Ctrl+C, so the copy is rolled back."""


def _workspace_copy(args: argparse.Namespace) -> int:
    import signal

    from app.storage.transfer import CopyResult, TransferError, copy_workspace
    from app.storage.workspace import WorkspaceError

    tty = sys.stderr.isatty()
    state = {"open": False, "at": 0.0}

    def progress(table: str, done: int, total: int) -> None:
        finished = done >= total
        now = time.monotonic()
        if not finished and (not tty or now - state["at"] < 0.2):
            return
        state["at"] = now
        line = f"  {table:<18} {done:>11,} / {total:,} rows"
        print("\r" + line if tty else line, end="\n" if finished else "", file=sys.stderr)
        state["open"] = not finished
        sys.stderr.flush()

    def stage(what: str) -> None:
        print(("\n" if state["open"] else "") + f"  {what}…", file=sys.stderr, flush=True)
        state["open"] = False

    def terminate(_signum: int, _frame: object) -> None:
        raise _Interrupted

    secrets = [_password(value) for value in (args.copy_source, args.copy_destination)]
    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, terminate) if main_thread else None
    result: CopyResult | None = None
    try:
        result = copy_workspace(
            args.copy_source, args.copy_destination, progress=progress, stage=stage
        )
        problem = ""
    except (TransferError, WorkspaceError) as exc:
        problem = str(exc)
    except (KeyboardInterrupt, _Interrupted):
        problem = "interrupted: the copy was rolled back and the destination holds no data."
    except Exception as exc:
        logging.getLogger("quiver.cli").debug("workspace copy failed", exc_info=True)
        problem = f"the copy failed ({type(exc).__name__}: {exc}); the destination holds no data."
    finally:
        if main_thread and previous is not None:
            signal.signal(signal.SIGTERM, previous)
    if result is None:
        for secret in secrets:
            if secret:
                problem = problem.replace(secret, "***")
        opened = "\n" if state["open"] else ""
        print(f"{opened}quiver workspace copy: {' '.join(problem.split())}", file=sys.stderr)
        return 2
    print(
        f"Copied {result.total_rows:,} rows in {len(result.tables)} tables from {result.source} "
        f"to {result.destination} in {result.seconds:.1f} s; every table was verified row for "
        "row."
    )
    if result.reconnect:
        print(
            "Tokens stay in this computer's keyring: on another computer, reconnect these "
            "accounts in Settings:"
        )
        for account in result.reconnect:
            print(f"  {account.handle} ({account.network_label}, {account.display_name})")
    else:
        print("No account needs reconnecting on another computer.")
    return 0


def _password(value: str) -> str | None:
    """The password written in a workspace URL, to keep it out of any message."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    if "://" not in value:
        return None
    try:
        return make_url(value).password
    except ArgumentError:
        return None
