"""Pure domain rules and types: no SQLAlchemy, no Qt."""
