"""The PostgreSQL server of `make bench` and its 1,000,000-message workspace, kept between runs.

Where the server comes from, in order:

1. ``QUIVER_BENCH_PG_URL``: a server someone runs (a superuser URL; the benchmark creates and
   drops its own databases there).
2. A cluster of the benchmark's own under ``benchmarks/data/pg`` (ignored by git): ``initdb`` once,
   started with ``pg_ctl`` for the run and stopped at its end, so the generated workspace survives
   between runs. As root it runs as the ``postgres`` user, who owns that folder (as
   ``tests/pgserver.py`` does).
3. If that cluster cannot be set up, a throwaway cluster from ``tests.pgserver.start_cluster()``;
   the workspace is then generated again on every run.

Durability as the SQLite benchmark has it (WAL, ``synchronous=NORMAL``: a commit does not wait for
the disk, nothing is ever corrupted): ``fsync`` on, ``synchronous_commit=off``.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import URL, make_url

from benchmarks.workspace import CONVERSATIONS, DATA, SEED, TARGET_MESSAGES

PG_DATA = DATA / "pg"
PASSWORD = "quiver-bench-secret"  # a cluster on loopback for benchmarks only
SUPERUSER = "postgres"
SERVER_OPTIONS = (
    "-c listen_addresses=127.0.0.1 -c max_connections=50 -c shared_buffers=256MB "
    "-c synchronous_commit=off -c max_wal_size=4GB -c checkpoint_timeout=30min"
)
ENV_URL = "QUIVER_BENCH_PG_URL"


class PgUnavailable(Exception):  # noqa: N818 - reads as what happened
    """No PostgreSQL server for the benchmarks; the message says why."""


@dataclass
class BenchServer:
    """A running server: a superuser URL, where it comes from, and how to stop it."""

    admin_url: URL
    origin: str
    stop: Callable[[], None] = lambda: None

    def url(self, database: str) -> str:
        """The SQLAlchemy URL of ``database`` on this server, with its password."""
        return self.admin_url.set(database=database).render_as_string(hide_password=False)


def connect(url: str | URL, **kwargs: Any) -> Any:
    """A raw psycopg connection to a SQLAlchemy URL."""
    import psycopg

    u = make_url(url)
    return psycopg.connect(
        host=u.host,
        port=u.port,
        user=u.username,
        password=u.password,
        dbname=u.database,
        **kwargs,
    )


def conninfo(url: str | URL) -> str:
    """The libpq connection string of a SQLAlchemy URL (for a child process)."""
    from psycopg.conninfo import make_conninfo

    u = make_url(url)
    return make_conninfo(
        host=u.host or "", port=u.port or 5432, user=u.username, password=u.password or "",
        dbname=u.database or "",
    )  # fmt: skip


@contextlib.contextmanager
def bench_server() -> Iterator[BenchServer]:
    """The benchmarks' PostgreSQL server for the duration of the block.

    Raises:
        PgUnavailable: no URL given and PostgreSQL is not installed, or no cluster would start.
    """
    given = os.environ.get(ENV_URL)
    if given:
        url = make_url(given)
        if url.drivername != "postgresql+psycopg":
            url = url.set(drivername="postgresql+psycopg")
        shown = url.render_as_string(hide_password=True)
        try:
            connect(url, connect_timeout=10).close()
        except Exception as exc:  # any refusal: say it in one line
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise PgUnavailable(f"{ENV_URL} {shown} does not answer: {first}") from exc
        yield BenchServer(url, f"{ENV_URL} ({shown})")
        return
    from tests import pgserver

    programs = pgserver.bin_dir()
    if programs is None:
        raise PgUnavailable("PostgreSQL is not installed (apt-get install -y postgresql)")
    try:
        server = _own_cluster(programs)
    except PgUnavailable as exc:
        print(f"  the cluster in {PG_DATA} did not start ({exc}); using a throwaway one")
        try:
            cluster = pgserver.start_cluster()
        except pgserver.NoServer as no:
            raise PgUnavailable(str(no)) from no
        server = BenchServer(
            make_url(cluster.url()), "a throwaway cluster (workspace generated again)", cluster.stop
        )
    try:
        yield server
    finally:
        server.stop()


def _owner() -> str | None:
    """The user the cluster's programs run as: ``postgres`` when we are root, else ourselves."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(SUPERUSER)
    except KeyError as exc:
        raise PgUnavailable("running as root and there is no 'postgres' user") from exc
    return SUPERUSER


def _run(owner: str | None, cmd: list[str], timeout: float = 300) -> str:
    if owner is not None:
        cmd = ["runuser", "-u", owner, "--", *cmd]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=timeout)
    except subprocess.CalledProcessError as exc:
        raise PgUnavailable(f"{Path(cmd[-1]).name}: {(exc.stderr or exc.stdout).strip()}") from exc
    except (subprocess.TimeoutExpired, OSError) as exc:
        raise PgUnavailable(str(exc)) from exc
    return done.stdout


def _own_cluster(programs: Path) -> BenchServer:
    """Start (after ``initdb`` on first use) the persistent cluster under ``benchmarks/data/pg``."""
    owner = _owner()
    data = PG_DATA / "data"
    PG_DATA.mkdir(parents=True, exist_ok=True)
    if owner is not None:
        entry = pwd.getpwnam(owner)
        os.chown(PG_DATA, entry.pw_uid, entry.pw_gid)
    version = data / "PG_VERSION"
    if version.exists() and version.read_text().strip() != programs.parent.name:
        print(
            f"  {data} is PostgreSQL {version.read_text().strip()}, the server is "
            f"{programs.parent.name}: making a new cluster",
            flush=True,
        )
        shutil.rmtree(data)
    if not version.exists():
        shutil.rmtree(data, ignore_errors=True)  # a half-made one
        pwfile = PG_DATA / "pw"
        pwfile.write_text(PASSWORD + "\n")
        if owner is not None:
            os.chown(pwfile, entry.pw_uid, entry.pw_gid)
        pwfile.chmod(0o600)
        try:
            _run(
                owner,
                [
                    str(programs / "initdb"),
                    "-D", str(data), "-U", SUPERUSER, "--pwfile", str(pwfile),
                    "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8",
                    "--locale=C.UTF-8",
                ],
            )  # fmt: skip
        finally:
            pwfile.unlink(missing_ok=True)
    pg_ctl = str(programs / "pg_ctl")
    port = _running_port(owner, pg_ctl, data)
    if port is None:
        from tests.pgserver import free_port

        port = free_port()
        _run(
            owner,
            [
                pg_ctl, "-D", str(data), "-o", f"-p {port} -k {PG_DATA} {SERVER_OPTIONS}",
                "-l", str(PG_DATA / "log"), "-w", "-t", "120", "start",
            ],
        )  # fmt: skip

    def stop() -> None:
        with contextlib.suppress(PgUnavailable):
            _run(owner, [pg_ctl, "-D", str(data), "-m", "fast", "-w", "stop"])

    url = URL.create(
        "postgresql+psycopg",
        username=SUPERUSER,
        password=PASSWORD,
        host="127.0.0.1",
        port=port,
        database="postgres",
    )
    return BenchServer(url, f"the cluster in {PG_DATA} (port {port})", stop)


def _running_port(owner: str | None, pg_ctl: str, data: Path) -> int | None:
    """The port of a server already running on ``data`` (a run that did not stop it), if any."""
    try:
        _run(owner, [pg_ctl, "-D", str(data), "status"], timeout=30)
        return int((data / "postmaster.pid").read_text().splitlines()[3])
    except (PgUnavailable, OSError, ValueError, IndexError):
        return None


# --- the workspace -------------------------------------------------------------------------------

WORKSPACE_DB = f"quiver_bench_{CONVERSATIONS}"


def message_count(url: str) -> int:
    """Messages in the workspace at ``url`` (0 when there is no such database or table)."""
    import psycopg

    try:
        with connect(url, autocommit=True, connect_timeout=10) as conn:
            return int(conn.execute("SELECT count(*) FROM messages").fetchone()[0])
    except psycopg.Error:
        return 0


def drop_database(server: BenchServer, name: str) -> None:
    with connect(server.admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def bench_workspace(server: BenchServer) -> tuple[str, float | None]:
    """The URL of the 1M-message PostgreSQL workspace, generating it if needed.

    Returns the URL and, when it was generated now, the seconds that took (generator and
    ``VACUUM ANALYZE``).
    """
    url = server.url(WORKSPACE_DB)
    if message_count(url) >= TARGET_MESSAGES * 0.98:
        _analyze_if_never(url)
        return url, None
    print(
        f"generating the PostgreSQL benchmark workspace ({CONVERSATIONS:,} conversations, "
        f"seed {SEED}) in {WORKSPACE_DB}…",
        flush=True,
    )
    drop_database(server, WORKSPACE_DB)
    started = time.monotonic()
    subprocess.run(
        [
            sys.executable, "-m", "app", "demo", "--conversations", str(CONVERSATIONS),
            "--seed", str(SEED), "--workspace", url,
        ],
        check=True,
    )  # fmt: skip
    generated = time.monotonic() - started
    with connect(url, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")
        total = time.monotonic() - started
        made = (
            f"quiver demo --conversations {CONVERSATIONS} --seed {SEED}: {generated:.0f} s, "
            f"VACUUM ANALYZE {total - generated:.0f} s, on {time.strftime('%Y-%m-%d %H:%M')}"
        )
        conn.execute(f"COMMENT ON DATABASE \"{WORKSPACE_DB}\" IS '{made}'")
    print(f"  {message_count(url):,} messages; {made}", flush=True)
    return url, total


def generation_note(url: str) -> str:
    """How the workspace was generated (kept with the database, as a comment on it)."""
    with connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database "
            "WHERE datname = current_database()"
        ).fetchone()
    return (row[0] if row else None) or "generated before its time was kept"


def _analyze_if_never(url: str) -> None:
    """ANALYZE a workspace whose generation was interrupted before its ANALYZE."""
    with connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT coalesce(last_analyze, last_autoanalyze) FROM pg_stat_user_tables "
            "WHERE relname = 'messages'"
        ).fetchone()
        if row is None or row[0] is None:
            print("  ANALYZE (the workspace has no statistics yet)", flush=True)
            conn.execute("VACUUM (ANALYZE)")
