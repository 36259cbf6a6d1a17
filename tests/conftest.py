"""Shared fixtures: no test touches a real profile, keychain or display."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

# Before anything can create a QApplication: Qt tests run without a display.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# The real keyring API with a file backend in a temporary folder, never the user's keychain.
os.environ["PYTHON_KEYRING_BACKEND"] = "keyrings.alt.file.PlaintextKeyring"

import pytest
from hypothesis import HealthCheck, settings

from app.bootstrap import services_for
from app.services.container import Services
from app.storage.workspace import Database, open_database

settings.register_profile("dev", max_examples=50, deadline=None)
settings.register_profile(
    "ci", max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

DEMO_CONVERSATIONS = 600
DEMO_SEED = 7


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
def db(template_db: Path, tmp_path: Path) -> Iterator[Database]:
    """A fresh empty workspace (a copy of the template) for one test."""
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
def demo_services(demo_template: Path, tmp_path: Path) -> Iterator[Services]:
    """Services on a private copy of the small demo workspace."""
    services = services_for(
        open_database(str(_copy_workspace(demo_template, tmp_path, "d.sqlite")))
    )
    yield services
    services.close()
