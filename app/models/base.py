"""Declarative base, naming convention and the portable UTC timestamp type."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Dialect, MetaData
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def one_of(column: str, values: type[StrEnum], *, nullable: bool = False) -> str:
    """The CHECK text allowing ``column`` only the values of an enum, in the enum's order.

    ``one_of("network", Network)`` is ``"network IN ('x', 'facebook', 'sandbox')"``; with
    ``nullable`` it is prefixed by ``"network IS NULL OR "``.
    """
    allowed = ", ".join(f"'{member.value}'" for member in values)
    check = f"{column} IN ({allowed})"
    return f"{column} IS NULL OR {check}" if nullable else check


def to_epoch_ms(value: datetime) -> int:
    """Milliseconds since the epoch of an aware datetime.

    Raises:
        ValueError: ``value`` is naive (its zone would be a guess).
    """
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: Quiver stores aware UTC times only")
    return int(value.timestamp() * 1000)


def from_epoch_ms(value: int) -> datetime:
    """The aware UTC datetime of a millisecond timestamp."""
    return datetime.fromtimestamp(value / 1000, tz=UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime stored as integer milliseconds since the epoch.

    Integers are compact, index well, sort correctly and mean the same on SQLite and PostgreSQL.
    """

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: datetime | int | None, dialect: Dialect) -> int | None:
        # Bulk writers (ingest, demo) may pass epoch milliseconds directly.
        if value is None or isinstance(value, int):
            return value
        return to_epoch_ms(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        return None if value is None else from_epoch_ms(int(value))


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def utcnow() -> datetime:
    return datetime.now(UTC)
