"""Run Quiver with ``python -m app``."""

from app.cli import main

if __name__ == "__main__":  # a worker process started with "spawn" imports this module too
    raise SystemExit(main())
