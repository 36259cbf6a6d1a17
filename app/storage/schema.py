"""Schema revisions this version of Quiver knows, without importing Alembic on start-up.

``tests/integration/test_migrations.py`` checks these against Alembic's script directory.
"""

from __future__ import annotations

#: Every revision in upgrade order; the last one is the head this build writes.
KNOWN_REVISIONS: tuple[str, ...] = ("0001_initial",)
HEAD_REVISION = KNOWN_REVISIONS[-1]
