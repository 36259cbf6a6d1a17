"""Use cases: primitives in, frozen rows out; permissions and audit live here."""
