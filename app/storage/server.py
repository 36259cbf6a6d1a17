"""A workspace on a PostgreSQL server: connecting, creating, migrating, and saying what went wrong.

Every refusal is a sentence for a person: what happened, on which server (never with the
password) and what to do. The password comes from the URL, ``PGPASSWORD`` or ``~/.pgpass``
(libpq's own conventions); Quiver stores none of them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import Engine, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from app.storage.engine import PG_CONNECT_TIMEOUT_S as CONNECT_TIMEOUT_S
from app.storage.migrate import revision_of, upgrade_connection

log = logging.getLogger("quiver.storage")

MIGRATION_LOCK = 0x5155_4956_4552  # "QUIVER": one workstation migrates a server at a time
MIN_SERVER_VERSION = 130000  # generated columns, trusted extensions


class ServerError(Exception):
    """The server refused or could not be reached; the message is meant for a person."""

    def __init__(self, message: str, *, missing_database: bool = False) -> None:
        super().__init__(message)
        self.missing_database = missing_database


def _missing_database(exc: BaseException) -> bool:
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    lowered = str(orig).lower()
    return getattr(orig, "sqlstate", None) == "3D000" or (
        "database" in lowered and "does not exist" in lowered
    )


def where(url: URL) -> str:
    """``user@host:port/database``, without the password."""
    user = f"{url.username}@" if url.username else ""
    port = f":{url.port}" if url.port else ""
    return f"{user}{url.host or 'localhost'}{port}/{url.database or ''}"


def explain(exc: BaseException, url: URL) -> str:
    """What a connection or statement error means, in words; never the password."""
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    state = getattr(orig, "sqlstate", None) or ""
    message = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
    lowered = str(orig).lower()
    server = f"{url.host or 'localhost'}:{url.port or 5432}"
    if state == "28P01" or "password authentication failed" in lowered:
        return (
            f"The PostgreSQL server {server} refused the password of the user "
            f"“{url.username}”. Check the password in the URL, in PGPASSWORD or in ~/.pgpass."
        )
    if "no password supplied" in lowered:
        return (
            f"The PostgreSQL server {server} asks for a password for “{url.username}” and none "
            "was given: put it in the URL, in PGPASSWORD or in ~/.pgpass."
        )
    if _missing_database(exc):
        return (
            f"There is no database “{url.database}” on the PostgreSQL server {server}. Create it "
            f"(createdb {url.database}), or start Quiver with --create to create it."
        )
    if state.startswith("42501") or "permission denied" in lowered:
        return (
            f"The user “{url.username}” lacks a privilege Quiver needs on {where(url)} "
            f"({message}). Ask the database administrator to make “{url.username}” the owner "
            "of the database or to grant it CREATE on its schema."
        )
    if state == "28000" or "no pg_hba.conf entry" in lowered or "role" in lowered:
        return (
            f"The PostgreSQL server {server} does not let “{url.username}” connect to "
            f"“{url.database}” ({message}). Check the user name and the server's access rules."
        )
    if "timeout" in lowered:
        return (
            f"The PostgreSQL server {server} did not answer within {CONNECT_TIMEOUT_S} seconds. "
            "Check the host name, the network and that the server is running."
        )
    if (
        "connection refused" in lowered
        or "could not connect" in lowered
        or "could not translate host name" in lowered
        or "connection failed" in lowered
        or "name or service not known" in lowered
    ):
        return (
            f"Quiver could not reach the PostgreSQL server {server} ({message}). Check the host "
            "name and port, and that the server is running and accepts connections."
        )
    return f"The PostgreSQL workspace {where(url)} could not be opened: {message}."


def probe(engine: Engine, url: URL) -> str | None:
    """Connect once and read the workspace's schema revision (``None``: no Quiver schema yet).

    Raises:
        ServerError: unreachable, refused, too old, not UTF-8, or a database that holds other
            tables than Quiver's.
    """
    try:
        with engine.connect() as conn:
            version = int(conn.execute(text("SHOW server_version_num")).scalar_one())
            encoding = conn.execute(text("SHOW server_encoding")).scalar_one()
            revision = revision_of(conn)
            others = 0
            if revision is None:
                others = int(
                    conn.execute(
                        text(
                            "SELECT count(*) FROM information_schema.tables "
                            "WHERE table_schema = current_schema()"
                        )
                    ).scalar_one()
                )
    except SQLAlchemyError as exc:
        raise ServerError(explain(exc, url), missing_database=_missing_database(exc)) from exc
    if version < MIN_SERVER_VERSION:
        raise ServerError(
            f"The PostgreSQL server of {where(url)} is version {version // 10000}; Quiver needs "
            "13 or newer."
        )
    if encoding.upper() not in ("UTF8", "UTF-8"):
        raise ServerError(
            f"The database {where(url)} uses the {encoding} encoding; Quiver stores text from "
            "every language and needs a UTF8 database (createdb -E UTF8)."
        )
    if revision is None and others:
        raise ServerError(
            f"The database {where(url)} holds other tables and is not a Quiver workspace. "
            "Nothing was changed; give Quiver a database of its own."
        )
    return revision


def create_database(url: URL, connect: Callable[[URL], Engine]) -> None:
    """Create the workspace's database on its server (``--create``), owned by the URL's user.

    Raises:
        ServerError: the user may not create databases, or the server refused.
    """
    maintenance = connect(url.set(database="postgres"))
    try:
        with maintenance.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            name = (url.database or "").replace('"', '""')
            conn.execute(text(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0"))
        log.info("created the database %s", where(url))
    except SQLAlchemyError as exc:
        orig = exc.orig if isinstance(exc, DBAPIError) else exc
        if getattr(orig, "sqlstate", "") == "42501":
            raise ServerError(
                f"The user “{url.username}” may not create the database “{url.database}”. Ask "
                "the database administrator to create it for you (createdb -O "
                f"{url.username} {url.database})."
            ) from exc
        raise ServerError(explain(exc, url)) from exc
    finally:
        maintenance.dispose()


def migrate(engine: Engine, url: URL, known: tuple[str, ...]) -> None:
    """Upgrade the server's schema to the head in ONE transaction, one workstation at a time.

    Raises:
        ServerError: the migration failed and was rolled back (nothing changed), or another
            workstation meanwhile upgraded it beyond this version.
    """
    try:
        with engine.begin() as conn:
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATION_LOCK})
            revision = revision_of(conn)  # another workstation may have migrated meanwhile
            if revision is not None and revision not in known:
                raise ServerError(
                    f"The workspace {where(url)} was just upgraded by a newer version of Quiver "
                    f"(schema “{revision}”). Update Quiver to open it."
                )
            if revision != known[-1]:
                upgrade_connection(conn)
    except ServerError:
        raise
    except Exception as exc:
        reason = explain(exc, url) if isinstance(exc, SQLAlchemyError) else str(exc)
        raise ServerError(
            f"Quiver could not upgrade the workspace {where(url)}: {reason} PostgreSQL rolled "
            "the whole upgrade back (its schema changes are transactional), so the database "
            "is exactly as it was."
        ) from exc
