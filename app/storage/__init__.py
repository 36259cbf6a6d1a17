"""Engine, sessions, migrations and the hot read queries: the only dialect-aware code."""
