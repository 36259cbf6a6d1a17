"""Shared fixtures: no test touches a real profile, keychain or display."""

from __future__ import annotations

import atexit
import gc
import os
import shutil
import signal
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

# Before anything can create a QApplication: Qt tests run without a display.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# The real keyring API with a file backend in a temporary folder, never the user's keychain.
os.environ["PYTHON_KEYRING_BACKEND"] = "keyrings.alt.file.PlaintextKeyring"

import pytest
from hypothesis import HealthCheck, settings

from app.bootstrap import services_for
from app.services.container import Services
from app.storage.workspace import Database, open_database
from tests import pgserver

settings.register_profile("dev", max_examples=50, deadline=None)
settings.register_profile(
    "ci", max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

DEMO_CONVERSATIONS = 600
DEMO_SEED = 7
ENGINES = ("sqlite", "postgresql")

# -- the PostgreSQL leg -----------------------------------------------------------------------
# The controller process (or the only one, without xdist) finds a server before the workers
# start and hands its URL down through the environment; it stops a cluster it started itself.
PG_URL_ENV = "QUIVER_TEST_PG_URL"
PG_SKIP_ENV = "QUIVER_TEST_PG_SKIP"
PG_RUN_ENV = "QUIVER_TEST_PG_RUN"
_cluster: pgserver.Cluster | None = None


def pytest_configure(config: pytest.Config) -> None:
    global _cluster
    if hasattr(config, "workerinput"):
        return  # an xdist worker: the controller decided
    os.environ.setdefault(PG_RUN_ENV, uuid.uuid4().hex[:8])
    if os.environ.get(PG_URL_ENV):
        return
    try:
        _cluster = pgserver.start_cluster()
    except pgserver.NoServer as exc:
        if os.environ.get("CI", "").lower() == "true":
            raise pytest.UsageError(
                f"CI=true and no PostgreSQL server for the PostgreSQL test leg: {exc}"
            ) from exc
        os.environ[PG_SKIP_ENV] = f"PostgreSQL leg skipped: {exc}"
        return
    os.environ[PG_URL_ENV] = _cluster.url()
    # A run stopped with SIGTERM (a CI timeout) still stops the cluster: pytest unwinds on
    # KeyboardInterrupt and calls pytest_unconfigure; atexit covers the rest.
    atexit.register(_cluster.stop)
    signal.signal(signal.SIGTERM, _interrupt)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def pytest_unconfigure(config: pytest.Config) -> None:
    global _cluster
    if _cluster is not None and not hasattr(config, "workerinput"):
        _cluster.stop()
        os.environ.pop(PG_URL_ENV, None)
        _cluster = None


_PG_FIXTURES = {"pg_server", "pg_databases", "pg_template", "pg_demo_template"}


def _needs_postgresql(item: pytest.Item) -> bool:
    callspec = getattr(item, "callspec", None)
    if callspec is not None and callspec.params.get("engine_name") == "postgresql":
        return True
    return bool(_PG_FIXTURES & set(getattr(item, "fixturenames", ())))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Without a server, the PostgreSQL leg is left out as a whole, said once at the end."""
    if not os.environ.get(PG_SKIP_ENV):
        return
    left_out = [i for i in items if _needs_postgresql(i)]
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = [i for i in items if not _needs_postgresql(i)]


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if os.environ.get(PG_SKIP_ENV) and not hasattr(terminalreporter.config, "workerinput"):
        terminalreporter.write_line(os.environ[PG_SKIP_ENV], yellow=True)


def pytest_report_header(config: pytest.Config) -> str:
    skip = os.environ.get(PG_SKIP_ENV)
    if skip:
        return skip
    url = os.environ.get(PG_URL_ENV, "")
    shown = url.split("@")[-1] if url else "none"
    return f"PostgreSQL leg on {shown}" + (" (throwaway cluster)" if _cluster else "")


@pytest.fixture(scope="session")
def pg_server() -> str:
    """The superuser URL of the test server (its ``postgres`` database); skips without one."""
    url = os.environ.get(PG_URL_ENV)
    if not url:
        pytest.skip(os.environ.get(PG_SKIP_ENV, "no PostgreSQL server"))
    return url


class PgDatabases:
    """Creates databases on the test server (empty or from a template) and drops them after."""

    def __init__(self, server: str) -> None:
        self.server = server
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        self._prefix = f"qt_{os.environ.get(PG_RUN_ENV, 'run')}_{worker}"
        self._n = 0
        self._made: list[str] = []

    def url(self, name: str) -> str:
        return self.server.rsplit("/", 1)[0] + "/" + name

    def new_name(self, label: str = "db") -> str:
        self._n += 1
        return f"{self._prefix}_{label}_{self._n}"

    def create(self, label: str = "db", *, template: str | None = None) -> str:
        """A new database (a copy of ``template`` when given); its URL."""
        name = self.new_name(label)
        with pgserver.admin_connection(self.server) as conn:
            clause = f" TEMPLATE {template}" if template else ""
            conn.execute(f"CREATE DATABASE {name}{clause}")
        self._made.append(name)
        return self.url(name)

    def drop(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        with pgserver.admin_connection(self.server) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        if name in self._made:
            self._made.remove(name)

    def drop_all(self) -> None:
        for name in list(self._made):
            self.drop(self.url(name))


@pytest.fixture(scope="session")
def pg_databases(pg_server: str) -> Iterator[PgDatabases]:
    made = PgDatabases(pg_server)
    yield made
    made.drop_all()


@pytest.fixture(scope="session")
def pg_template(pg_databases: PgDatabases) -> str:
    """The name of an empty database at the head revision, migrated once per session."""
    url = pg_databases.create("tpl")
    open_database(url).close()
    return url.rsplit("/", 1)[1]


@pytest.fixture(scope="session")
def pg_demo_template(pg_databases: PgDatabases) -> str:
    """The name of a small generated demo database, built once per session."""
    from app.services.demo import generate_demo_workspace

    url = pg_databases.create("demotpl")
    generate_demo_workspace(url, conversations=DEMO_CONVERSATIONS, seed=DEMO_SEED)
    return url.rsplit("/", 1)[1]


@pytest.fixture(params=ENGINES)
def engine_name(request: pytest.FixtureRequest) -> str:
    """Each test that takes a workspace runs on SQLite and on PostgreSQL."""
    return str(request.param)


@pytest.fixture
def workspace_url(
    engine_name: str, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Callable[[str], str]]:
    """Makes workspaces of the test's engine: ``make(kind)`` with kind ``empty`` or ``demo``."""
    made: list[str] = []
    if engine_name == "postgresql":
        databases: PgDatabases = request.getfixturevalue("pg_databases")

        def make(kind: str = "empty") -> str:
            fixture = "pg_template" if kind == "empty" else "pg_demo_template"
            url = databases.create(kind, template=request.getfixturevalue(fixture))
            made.append(url)
            return url

        yield make
        for url in made:
            databases.drop(url)
        return

    def make_file(kind: str = "empty") -> str:
        src: Path = request.getfixturevalue("template_db" if kind == "empty" else "demo_template")
        return str(_copy_workspace(src, tmp_path, f"{kind}-{len(made)}.sqlite"))

    yield make_file


@pytest.fixture(autouse=True)
def _collect_on_the_main_thread(request: pytest.FixtureRequest) -> Iterator[None]:
    """Qt tests collect garbage on the main thread only, as Quiver does (app.ui.main_thread_gc).

    Otherwise a worker thread's allocation may collect the widgets of a test that just ended,
    off the GUI thread, and crash the process. The test's garbage goes after it, here.
    """
    if not {"qtbot", "qapp"} & set(request.fixturenames):
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.collect()
        gc.enable()


@pytest.fixture(autouse=True)
def quiver_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Per-user files (preferences, default workspaces, keyring file) under a temporary folder."""
    home = tmp_path / "quiver-home"
    monkeypatch.setenv("QUIVER_HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    return home


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty workspace at the head revision, migrated once per session."""
    path = tmp_path_factory.mktemp("template") / "empty.sqlite"
    open_database(str(path), create=True).close()
    return path


def _copy_workspace(src: Path, dst_dir: Path, name: str) -> Path:
    dst = dst_dir / name
    shutil.copyfile(src, dst)
    return dst


@pytest.fixture
def db(workspace_url: Callable[[str], str]) -> Iterator[Database]:
    """A fresh empty workspace (a copy of the template) for one test, on each engine."""
    database = open_database(workspace_url("empty"))
    yield database
    database.close()


@pytest.fixture
def sqlite_db(template_db: Path, tmp_path: Path) -> Iterator[Database]:
    """A fresh empty SQLite workspace, for what only SQLite has (files, FTS5, pragmas)."""
    database = open_database(str(_copy_workspace(template_db, tmp_path, "ws.sqlite")))
    yield database
    database.close()


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small generated demo workspace, built once per session."""
    from app.services.demo import generate_demo_workspace

    path = tmp_path_factory.mktemp("demo") / "demo.sqlite"
    generate_demo_workspace(str(path), conversations=DEMO_CONVERSATIONS, seed=DEMO_SEED)
    return path


@pytest.fixture
def demo_services(workspace_url: Callable[[str], str]) -> Iterator[Services]:
    """Services on a private copy of the small demo workspace, on each engine."""
    services = services_for(open_database(workspace_url("demo")))
    yield services
    services.close()
