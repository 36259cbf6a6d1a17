"""Copying a whole workspace from one URL to another (SQLite or PostgreSQL), verified row for row.

``quiver workspace copy SRC DST`` moves a team's SQLite file onto a server, or a server's
workspace into a file for a laptop. The source is opened (and migrated if due) as always and read
in one snapshot; the destination is created if missing, migrated to the head schema and must hold
no data. Every table of the models is copied with SQLAlchemy Core, parents first, in batches with
explicit primary keys, inside ONE transaction on the destination; then each table is compared
with its source (row count and a SHA-256 over canonical rows in primary-key order) before that
transaction commits. Anything that goes wrong (an error, a mismatch, Ctrl+C, a kill) leaves the
destination without a row. A new SQLite file is written beside its final name (``.NAME.copying-
PID``) and renamed into place only after the verified commit, so an interrupted copy leaves no
file under that name (after a kill, only the hidden temporary file may remain).

What the models do not map is not copied but rebuilt: SQLite's FTS5 index (``rebuild_index``),
PostgreSQL's generated ``messages.search_vector`` and its id sequences (``sync_id_sequences``).
Tokens live in the keyring of the computer that connected the accounts, never in a workspace:
the result names the accounts another computer has to reconnect.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    ColumnElement,
    Connection,
    Float,
    Select,
    String,
    Table,
    Text,
    bindparam,
    cast,
    create_engine,
    func,
    insert,
    inspect,
    literal,
    null,
    select,
    type_coerce,
    update,
)
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.types import TypeDecorator

from app.domain.enums import Network
from app.models import Account, Base
from app.storage import server
from app.storage.engine import build_engine
from app.storage.ids import sync_id_sequences
from app.storage.leftovers import remove_leftovers, temporary_path
from app.storage.search import INDEX_WATERMARK_KEY, rebuild_index
from app.storage.workspace import (
    Database,
    WorkspaceError,
    open_database,
    parse_workspace,
    sqlite_url,
)

log = logging.getLogger("quiver.storage")

BATCH = 5_000
#: Rows of ``workspace_meta`` that Quiver keeps for itself (the FTS5 watermark of
#: ``app.storage.search``): neither data that makes a workspace non-empty nor copied, as the
#: destination rebuilds them.
BOOKKEEPING_META_KEYS = frozenset({INDEX_WATERMARK_KEY})

Progress = Callable[[str, int, int], None]  # table, rows copied so far, rows in the table
Stage = Callable[[str], None]  # "verifying", "indexing": what the copy does after the rows


class TransferError(Exception):
    """The copy was refused or failed; the message is meant for a person (never a password)."""


@dataclass(frozen=True)
class ReconnectAccount:
    """An account whose tokens stay in this computer's keyring."""

    network: str
    handle: str
    display_name: str

    @property
    def network_label(self) -> str:
        try:
            return Network(self.network).label
        except ValueError:
            return self.network


@dataclass(frozen=True)
class CopyResult:
    source: str  # display names: a file path, or a URL without its password
    destination: str
    tables: tuple[str, ...]  # in the order they were copied (parents first)
    rows: dict[str, int]  # rows copied (and verified) per table
    reconnect: tuple[ReconnectAccount, ...]
    seconds: float

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


@dataclass(frozen=True)
class Checksum:
    rows: int
    sha256: str


class _CopyError(Exception):
    """A failure during the copy; ``copy_workspace`` adds what became of the destination."""


def copy_workspace(
    source: str | URL,
    destination: str | URL,
    *,
    batch: int = BATCH,
    progress: Progress | None = None,
    stage: Stage | None = None,
) -> CopyResult:
    """Copy every row of the workspace at ``source`` into the new or empty ``destination``.

    Args:
        source: URL or file path of the workspace to copy (opened, migrated if due).
        destination: URL or file path of the copy: a missing file or database is created.
        batch: Rows read and written per statement.
        progress: Called as ``progress(table, done, total)`` before and after every batch.
        stage: Called with what happens after the rows: ``"verifying"``, ``"indexing"``.

    Raises:
        TransferError: the destination holds data or is the source, or the copy failed
            (the destination then holds no row, and a new file was not left behind).
        WorkspaceError: a workspace cannot be opened or created.
    """
    started = time.monotonic()
    src_url = _parse(source)
    dst_url = _parse(destination)
    if _same_workspace(src_url, dst_url):
        raise TransferError(
            f"The source and the destination are the same workspace ({_display(src_url)}): "
            "copy to another file or database."
        )
    _check_source(src_url)
    src = open_database(src_url)
    try:
        held = _table_with_data_before_open(dst_url)
        if held is not None:
            raise TransferError(_not_empty(_display(dst_url), held))
        target = _Target.open(dst_url)
        try:
            rows, reconnect = _copy(src, target.db, batch, progress or _quiet, stage or _quiet)
            target.finish()
        except _CopyError as exc:
            target.abandon()
            raise TransferError(f"{exc} {target.aftermath}") from exc.__cause__
        except SQLAlchemyError as exc:
            target.abandon()
            raise TransferError(f"The copy failed: {_reason(exc)}. {target.aftermath}") from exc
        except BaseException:
            target.abandon()
            raise
    finally:
        src.close()
    seconds = time.monotonic() - started
    log.info(
        "copied %s rows from %s to %s in %.1f s", sum(rows.values()), src_url, dst_url, seconds
    )
    return CopyResult(
        source=_display(src.url),
        destination=target.display_name,
        tables=tuple(rows),
        rows=rows,
        reconnect=reconnect,
        seconds=seconds,
    )


def table_checksum(conn: Connection, table: Table, *, batch: int = BATCH) -> Checksum:
    """Row count and SHA-256 of a table's rows in primary-key order, in a form both engines share.

    A row is hashed as the ``repr`` of its values as read by :func:`_read`: ints (timestamps as
    their epoch milliseconds), bools, floats (``repr`` is exact), str, date and None come back as
    the same Python values from SQLite and PostgreSQL. JSON is read as its text and re-serialised
    canonically (sorted keys, no spaces), so SQL NULL (None) and JSON null (``'null'``) stay
    apart. A float -0.0 counts as 0.0: SQLite cannot store the sign of a zero (PostgreSQL
    can), and the two are equal in SQL. Text keys sort by code point on both engines
    (``COLLATE "C"`` on PostgreSQL).
    """
    digest = hashlib.sha256()
    count = 0
    json_at = [i for i, c in enumerate(table.columns) if isinstance(c.type, JSON)]
    float_at = [i for i, c in enumerate(table.columns) if isinstance(c.type, Float)]
    statement = _read(table, conn.dialect.name).execution_options(yield_per=batch)
    with conn.execute(statement) as result:
        for part in result.partitions():
            for row in part:
                values = list(row)
                for i in json_at:
                    if values[i] is not None:
                        values[i] = _canonical_json(values[i])
                for i in float_at:
                    if values[i] == 0.0:  # SQLite stores -0.0 as the integer 0
                        values[i] = 0.0
                digest.update(repr(values).encode("utf-8", "surrogatepass"))
                digest.update(b"\n")
                count += 1
    return Checksum(count, digest.hexdigest())


# --- the copy ----------------------------------------------------------------------------------


def _copy(
    src: Database, dst: Database, batch: int, progress: Progress, stage: Stage
) -> tuple[dict[str, int], tuple[ReconnectAccount, ...]]:
    """Copy, verify and commit, in one transaction on ``dst`` and one snapshot of ``src``."""
    tables = Base.metadata.sorted_tables
    with _snapshot(src) as reader, dst.engine.connect() as writer:
        if writer.dialect.name == "sqlite":
            # Take the write lock now: the emptiness check and the rows are one transaction.
            writer.exec_driver_sql("BEGIN IMMEDIATE")
        held = _table_with_data(writer, tables)
        if held is not None:
            raise TransferError(_not_empty(_display(dst.url), held))
        rows = {table.name: _copy_table(reader, writer, table, batch, progress) for table in tables}
        stage("verifying")
        for table in tables:
            _verify(reader, writer, table, batch)
        stage("indexing")
        sync_id_sequences(writer, tables)  # PostgreSQL; setval is not undone by a rollback
        rebuild_index(writer)  # SQLite's FTS5; PostgreSQL computes search_vector itself
        reconnect = _reconnect_accounts(writer)
        writer.commit()
    return rows, reconnect


@contextlib.contextmanager
def _snapshot(db: Database) -> Iterator[Connection]:
    """A read-only connection seeing one snapshot of the source for the whole copy."""
    with db.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        else:
            # pysqlite opens no transaction for SELECT: without BEGIN every statement would see
            # the file as it is then; in WAL mode one read transaction keeps one snapshot.
            conn.exec_driver_sql("BEGIN")
        try:
            yield conn
        finally:
            conn.rollback()


def _copy_table(
    reader: Connection, writer: Connection, table: Table, batch: int, progress: Progress
) -> int:
    name = table.name
    total = int(reader.execute(_count(table)).scalar_one())
    progress(name, 0, total)
    json_keys = [c.key for c in table.columns if isinstance(c.type, JSON)]
    # A self-reference (units.parent_id) to a row not written yet goes in as NULL, then is set.
    self_refs = [fk.parent.key for fk in table.foreign_keys if fk.column.table is table]
    pk = table.primary_key.columns.values()[0].key if self_refs else ""
    written: set[Any] = set()
    later: dict[str, list[dict[str, Any]]] = {key: [] for key in self_refs}
    done = 0
    try:
        statement = _read(table, reader.dialect.name).execution_options(yield_per=batch)
        with reader.execute(statement) as result:
            for part in result.partitions():
                rows = [dict(r._mapping) for r in part]
                for row in rows:
                    for key in json_keys:  # SQL NULL stays NULL, JSON null stays JSON null
                        row[key] = null() if row[key] is None else json.loads(row[key])
                    for key in self_refs:
                        ref = row[key]
                        if ref is not None and ref != row[pk] and ref not in written:
                            later[key].append({"row_pk": row[pk], "ref": ref})
                            row[key] = None
                    if self_refs:
                        written.add(row[pk])
                writer.execute(insert(table), rows)
                done += len(rows)
                progress(name, done, total)
        for key, pending in later.items():
            if pending:
                writer.execute(
                    update(table)
                    .where(table.c[pk] == bindparam("row_pk"))
                    .values({table.c[key]: bindparam("ref")}),
                    pending,
                )
    except SQLAlchemyError as exc:
        raise _CopyError(f"Copying the table “{name}” failed: {_reason(exc)}.") from exc
    return done


def _verify(reader: Connection, writer: Connection, table: Table, batch: int) -> None:
    try:
        expected = table_checksum(reader, table, batch=batch)
        copied = table_checksum(writer, table, batch=batch)
    except SQLAlchemyError as exc:
        raise _CopyError(f"Verifying the table “{table.name}” failed: {_reason(exc)}.") from exc
    if copied != expected:
        detail = (
            f"{expected.rows:,} rows in the source, {copied.rows:,} in the copy"
            if copied.rows != expected.rows
            else f"the same {copied.rows:,} rows, but their contents differ"
        )
        raise _CopyError(
            f"The copy of the table “{table.name}” does not match its source ({detail})."
        )


def _reconnect_accounts(conn: Connection) -> tuple[ReconnectAccount, ...]:
    rows = conn.execute(
        select(Account.network, Account.handle, Account.display_name)
        .where(Account.network != Network.SANDBOX.value)
        .order_by(Account.network, Account.handle, Account.id)
    )
    return tuple(ReconnectAccount(n, h, d) for n, h, d in rows)


# --- statements --------------------------------------------------------------------------------


def _only_data(table: Table) -> ColumnElement[bool] | None:
    """The rows of a table that are workspace data (not Quiver's bookkeeping)."""
    if table.name == "workspace_meta":
        return table.c.key.not_in(sorted(BOOKKEEPING_META_KEYS))
    return None


def _read(table: Table, dialect: str) -> Select[Any]:
    """Every column as stored: JSON as its text, timestamps as their epoch milliseconds."""
    columns: list[ColumnElement[Any]] = []
    for c in table.columns:
        if isinstance(c.type, JSON):
            columns.append(cast(c, Text).label(c.key))
        elif isinstance(c.type, TypeDecorator):
            columns.append(type_coerce(c, c.type.impl_instance).label(c.key))
        else:
            columns.append(c.label(c.key))
    statement = select(*columns)
    where = _only_data(table)
    if where is not None:
        statement = statement.where(where)
    return statement.order_by(*(_ordered(c, dialect) for c in table.primary_key))


def _ordered(column: Column[Any], dialect: str) -> ColumnElement[Any]:
    # PostgreSQL sorts text by the database's locale, SQLite by code point ("C" is the byte
    # order of UTF-8, i.e. code point order): the same order on both sides, as checksums need.
    if dialect == "postgresql" and isinstance(column.type, String):
        return column.collate("C")
    return column


def _count(table: Table) -> Select[Any]:
    statement = select(func.count()).select_from(table)
    where = _only_data(table)
    return statement if where is None else statement.where(where)


def _table_with_data(conn: Connection, tables: Iterable[Table]) -> str | None:
    """The first of ``tables`` holding a row of data, or ``None`` when all are empty."""
    for table in tables:
        statement = select(literal(1)).select_from(table)
        where = _only_data(table)
        if where is not None:
            statement = statement.where(where)
        if conn.execute(statement.limit(1)).first() is not None:
            return table.name
    return None


def _table_with_data_before_open(url: URL) -> str | None:
    """Whether an existing destination holds data, asked before opening it (which may migrate).

    Only a Quiver workspace is looked into; anything else is left to ``open_database``, which
    says what is wrong with it. SQLite is read through a plain engine that sets no pragma.
    """
    if url.get_backend_name() == "sqlite":
        path = Path(url.database or "")
        if not path.is_file() or path.stat().st_size == 0:
            return None
        engine = create_engine(url)
        try:
            with engine.connect() as conn:
                present = set(inspect(conn).get_table_names())
                if "alembic_version" not in present:
                    return None
                return _table_with_data(conn, _tables_in(present))
        except SQLAlchemyError:
            return None
        finally:
            engine.dispose()
    if url.get_backend_name() != "postgresql":
        return None
    engine = build_engine(url)
    try:
        try:
            revision = server.probe(engine, url)
        except server.ServerError as exc:
            if exc.missing_database:
                return None  # created by open_database
            raise WorkspaceError(str(exc)) from exc
        if revision is None:
            return None
        with engine.connect() as conn:
            return _table_with_data(conn, _tables_in(set(inspect(conn).get_table_names())))
    finally:
        engine.dispose()


def _check_source(url: URL) -> None:
    """A missing source is said in words of its own (``open_database`` would offer --create)."""
    if url.get_backend_name() == "sqlite":
        path = Path(url.database or "")
        if not path.exists():
            raise TransferError(f"There is no workspace at {path} to copy: check the path.")
        return
    if url.get_backend_name() != "postgresql":
        return
    engine = build_engine(url)
    try:
        server.probe(engine, url)
    except server.ServerError as exc:
        if exc.missing_database:
            raise TransferError(
                f"There is no workspace to copy at {_display(url)}: the server has no database "
                f"“{url.database}”. Check the URL."
            ) from exc
        raise WorkspaceError(str(exc)) from exc
    finally:
        engine.dispose()


def _tables_in(present: set[str]) -> list[Table]:
    return [t for t in Base.metadata.sorted_tables if t.name in present]


def _canonical_json(value: str) -> str:
    return json.dumps(json.loads(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


# --- the destination ---------------------------------------------------------------------------


class _Target:
    """The destination workspace; a new SQLite file is written beside its name, then renamed."""

    def __init__(self, db: Database, final: Path | None = None) -> None:
        self.db = db
        self.final = final  # where the temporary file goes once verified; None: written in place

    @classmethod
    def open(cls, url: URL) -> _Target:
        if url.get_backend_name() == "sqlite":
            path = Path(url.database or "")
            if not path.exists():
                _check_folder(path)
                remove_leftovers(path)  # files of copies or migrations that were killed
                temp = temporary_path(path, "copying")
                _remove_file(temp)
                try:
                    db = open_database(sqlite_url(temp), create=True)
                except BaseException:
                    _remove_file(temp)
                    raise
                return cls(db, final=path)
        return cls(open_database(url, create=True))

    @property
    def display_name(self) -> str:
        return str(self.final) if self.final is not None else _display(self.db.url)

    @property
    def aftermath(self) -> str:
        if self.final is not None:
            return f"No file was left at {self.final}."
        return f"The copy was rolled back: {_display(self.db.url)} holds no data."

    def finish(self) -> None:
        """Move a verified temporary file into place (without replacing anything there)."""
        if self.final is None:
            self.db.close()
            return
        temp = self.db.path
        assert temp is not None
        with self.db.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        self.db.close()
        _drop_sidecars(temp)
        try:
            os.link(temp, self.final)  # fails if the name was taken meanwhile
        except FileExistsError:
            raise TransferError(self._taken()) from None
        except OSError:  # a file system without hard links
            if self.final.exists():
                raise TransferError(self._taken()) from None
            os.replace(temp, self.final)
        _remove_file(temp)

    def _taken(self) -> str:
        return (
            f"A file {self.final} appeared while the workspace was being copied there: it was "
            "left as it is, and the copy was not kept."
        )

    def abandon(self) -> None:
        """After a failure: close, and remove a temporary file (its transaction never committed)."""
        temp = self.db.path if self.final is not None else None
        try:
            self.db.close()
        finally:
            if temp is not None:
                _remove_file(temp)


def _check_folder(path: Path) -> None:
    parent = path.parent
    if not parent.is_dir():
        raise WorkspaceError(f"Cannot copy to {path}: the folder {parent} does not exist.")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise WorkspaceError(
            f"Cannot copy to {path}: the folder {parent} is not writable. Choose a folder you "
            "can write to."
        )


def _drop_sidecars(path: Path) -> None:
    for suffix in ("-wal", "-shm", "-journal"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)


def _remove_file(path: Path) -> None:
    _drop_sidecars(path)
    path.unlink(missing_ok=True)


# --- words -------------------------------------------------------------------------------------


def _parse(value: str | URL) -> URL:
    return parse_workspace(value) if isinstance(value, str) else value


def _display(url: URL) -> str:
    if url.get_backend_name() == "sqlite":
        return url.database or ""
    return url.render_as_string(hide_password=True)


def _same_workspace(a: URL, b: URL) -> bool:
    if a.get_backend_name() != b.get_backend_name():
        return False
    if a.get_backend_name() == "sqlite":
        pa, pb = Path(a.database or ""), Path(b.database or "")
        return pa == pb or (pa.exists() and pb.exists() and pa.samefile(pb))
    return (a.host or "localhost", a.port or 5432, a.database) == (
        b.host or "localhost",
        b.port or 5432,
        b.database,
    )


def _not_empty(where: str, table: str) -> str:
    return (
        f"The destination {where} is not empty: the table “{table}” holds data. A workspace is "
        "copied only into a new file or database, or into an empty workspace. Nothing was "
        "changed."
    )


def _reason(exc: SQLAlchemyError) -> str:
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    lines = str(orig).strip().splitlines()
    return lines[0].rstrip(".") if lines else type(orig).__name__


def _quiet(*_args: object) -> None:
    return None
