"""Per-user paths and local preferences (no Qt, no database).

``QUIVER_HOME`` puts every per-user file under one folder (tests and the end-to-end runs use it).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger("quiver.config")

APP_NAME = "Quiver"
RESOURCES = Path(__file__).resolve().parent.parent / "resources"


@dataclass(frozen=True)
class GuiOptions:
    """What the GUI entry point needs from the command line."""

    workspace: str | None
    demo: bool
    operator: str | None
    create: bool
    process_start: float  # time.time() when the process started (for the first-paint figure)
    demo_conversations: int = 50_000
    demo_seed: int = 20261123


@dataclass(frozen=True)
class Paths:
    data_dir: Path
    config_dir: Path

    @property
    def demo_workspace(self) -> Path:
        return self.data_dir / "demo.sqlite"

    @property
    def default_workspace(self) -> Path:
        return self.data_dir / "workspace.sqlite"

    @property
    def prefs_file(self) -> Path:
        return self.config_dir / "prefs.json"

    def ensure(self) -> Paths:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.config_dir.mkdir(parents=True, exist_ok=True)
        return self


def default_paths() -> Paths:
    home = os.environ.get("QUIVER_HOME")
    if home:
        base = Path(home).expanduser()
        return Paths(data_dir=base / "data", config_dir=base / "config")
    import platformdirs  # imported late: not needed when QUIVER_HOME is set

    return Paths(
        data_dir=platformdirs.user_data_path(APP_NAME, appauthor=False),
        config_dir=platformdirs.user_config_path(APP_NAME, appauthor=False),
    )


class LocalPrefs:
    """Preferences of this workstation: the last workspace and the operator chosen per workspace.

    Stored as JSON and written atomically; a damaged file is set aside, not trusted or lost.
    """

    def __init__(self, path: Path) -> None:
        self._path = path
        self._data: dict[str, Any] = self._load()

    def _load(self) -> dict[str, Any]:
        try:
            data = json.loads(self._path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            aside = self._path.with_suffix(".damaged.json")
            log.warning("preferences %s unreadable (%s); set aside as %s", self._path, exc, aside)
            with contextlib.suppress(OSError):
                self._path.replace(aside)
            return {}
        return data if isinstance(data, dict) else {}

    @property
    def last_workspace(self) -> str | None:
        value = self._data.get("last_workspace")
        return value if isinstance(value, str) else None

    @last_workspace.setter
    def last_workspace(self, url: str) -> None:
        self._data["last_workspace"] = url
        self._save()

    def operator_for(self, workspace_url: str) -> int | None:
        value = self._data.get("operators", {}).get(workspace_url)
        return value if isinstance(value, int) else None

    def set_operator(self, workspace_url: str, person_id: int) -> None:
        self._data.setdefault("operators", {})[workspace_url] = person_id
        self._save()

    def _save(self) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self._path.parent, prefix=".prefs-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(self._data, fh, indent=2, sort_keys=True)
        os.replace(tmp, self._path)
