"""A throwaway PostgreSQL cluster for the test suite and the benchmarks.

``make test`` uses ``QUIVER_TEST_PG_URL`` when it is set (a server someone runs); otherwise this
module starts a cluster of its own from Debian's ``postgresql`` package: ``initdb`` into a
temporary folder, on a free loopback port, with durability switched off (it is thrown away). As
root (CI), ``initdb`` and ``pg_ctl`` refuse to run, so they run as the ``postgres`` user.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SUPERUSER = "postgres"
PASSWORD = "quiver-test-secret"  # a throwaway cluster on loopback: a fixed password is fine


class NoServer(Exception):  # noqa: N818 - reads as what happened
    """No PostgreSQL server can be had; the message says why."""


@dataclass
class Cluster:
    """A running cluster: its superuser URL and how to stop it."""

    host: str
    port: int
    data_dir: Path | None = None
    owner: str | None = None
    bin_dir: Path | None = None

    def url(
        self, database: str = "postgres", *, user: str = SUPERUSER, password: str = PASSWORD
    ) -> str:
        return f"postgresql+psycopg://{user}:{password}@{self.host}:{self.port}/{database}"

    def stop(self) -> None:
        if self.data_dir is None or self.bin_dir is None or not self.data_dir.exists():
            return  # not ours, or stopped already
        _run(
            self.owner,
            [str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-m", "immediate", "stop"],
            check=False,
        )
        shutil.rmtree(self.data_dir.parent, ignore_errors=True)


def bin_dir() -> Path | None:
    """Where PostgreSQL's server programs are: ``QUIVER_TEST_PG_BIN``, else Debian's newest."""
    chosen = os.environ.get("QUIVER_TEST_PG_BIN")
    if chosen:
        return Path(chosen) if (Path(chosen) / "initdb").exists() else None
    debian = Path("/usr/lib/postgresql")
    if debian.is_dir():
        versions = sorted(
            (p for p in debian.iterdir() if (p / "bin" / "initdb").exists()),
            key=lambda p: int(p.name) if p.name.isdigit() else 0,
            reverse=True,
        )
        if versions:
            return versions[0] / "bin"
    found = shutil.which("initdb")
    return Path(found).resolve().parent if found else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run(
    owner: str | None, cmd: list[str], *, check: bool = True
) -> subprocess.CompletedProcess[str]:
    if owner is not None:
        cmd = ["runuser", "-u", owner, "--", *cmd]
    return subprocess.run(cmd, capture_output=True, text=True, check=check, timeout=120)


def start_cluster() -> Cluster:
    """Start a new cluster in a temporary folder.

    Raises:
        NoServer: PostgreSQL is not installed, or the cluster did not start.
    """
    programs = bin_dir()
    if programs is None:
        raise NoServer("PostgreSQL is not installed (apt-get install -y postgresql)")
    owner: str | None = None
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(SUPERUSER)
        except KeyError as exc:
            raise NoServer("running as root and there is no 'postgres' user for initdb") from exc
        owner = SUPERUSER
    base = Path(tempfile.mkdtemp(prefix="quiver-pg-"))
    base.chmod(0o755)
    data = base / "data"
    pwfile = base / "pw"
    pwfile.write_text(PASSWORD + "\n")
    if owner is not None:
        entry = pwd.getpwnam(owner)
        os.chown(base, entry.pw_uid, entry.pw_gid)
        os.chown(pwfile, entry.pw_uid, entry.pw_gid)
    pwfile.chmod(0o600)
    port = free_port()
    try:
        _run(
            owner,
            [
                str(programs / "initdb"),
                "-D",
                str(data),
                "-U",
                SUPERUSER,
                "--pwfile",
                str(pwfile),
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            ],
        )
        options = (
            f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200 "
            "-c shared_buffers=128MB"
        )
        _run(
            owner,
            [
                str(programs / "pg_ctl"),
                "-D",
                str(data),
                "-o",
                options,
                "-l",
                str(base / "log"),
                "-w",
                "-t",
                "60",
                "start",
            ],
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
        detail = getattr(exc, "stderr", "") or str(exc)
        log = base / "log"
        if log.exists():
            detail += "\n" + log.read_text(errors="replace")[-2000:]
        shutil.rmtree(base, ignore_errors=True)
        raise NoServer(f"the throwaway PostgreSQL cluster did not start: {detail.strip()}") from exc
    return Cluster("127.0.0.1", port, data, owner, programs)


def connect(url: str, *, database: str | None = None, autocommit: bool = True) -> Any:
    """A psycopg connection to ``url``'s database (or ``database`` on the same server)."""
    import psycopg
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    return psycopg.connect(
        host=parsed.host,
        port=parsed.port,
        user=parsed.username,
        password=parsed.password,
        dbname=database or parsed.database,
        autocommit=autocommit,
    )


@contextlib.contextmanager
def admin_connection(url: str) -> Iterator[Any]:
    """An autocommit psycopg connection to the maintenance database of ``url``'s server."""
    conn = connect(url, database="postgres")
    try:
        yield conn
    finally:
        conn.close()
