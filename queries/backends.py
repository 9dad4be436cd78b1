"""The small interface every backend implements, and the embedded DuckDB backend."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Protocol

import duckdb
import pandas as pd

from queries import schema
from queries.dialect import DUCKDB, Dialect
from queries.errors import UserError

log = logging.getLogger(__name__)


class BackendError(UserError, RuntimeError):
    """A failure a user can act on; its message is safe to show in the UI."""


class NoDataError(BackendError):
    pass


class Backend(Protocol):
    name: str
    dialect: Dialect
    # Per-grain user histories and activity written at load (schema.user_periods_table,
    # schema.activity_table), which views read instead of scanning every event.
    materialised_user_periods: bool
    # Tells the result caches of two databases of one kind apart (two DuckDB files).
    cache_namespace: str
    # Whether dry_run can price a query before it runs (the chat's SQL over raw events).
    supports_dry_run: bool

    def run(self, sql: str, params: dict) -> pd.DataFrame: ...

    def dry_run(self, sql: str, params: dict) -> int:
        """The bytes the query would process, without running it; BackendError when the SQL is
        invalid or the backend cannot tell (supports_dry_run is False)."""
        ...

    def relation(self, table: str) -> str:
        """The FROM item for one of schema's tables (EVENTS, ASSIGNMENTS, and the materialised
        ones where materialised_user_periods is true)."""
        ...

    def data_version(self) -> str: ...

    def event_columns(self) -> list[str]: ...

    def shared_connection(self) -> AbstractContextManager:
        """Queries run inside may share one connection (one web request's queries)."""
        ...


def connect_duckdb(path: Path, read_only: bool) -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect(str(path), read_only=read_only)
    # Timestamps are stored as UTC; periods must not shift with the machine's time zone.
    connection.execute("SET TimeZone = 'UTC'")
    return connection


class DuckDBBackend:
    """Short read-only connections (one per query, or per request: shared_connection), so a
    loader process can write between them."""

    name = "duckdb"
    dialect = DUCKDB
    # A local file scans fast and costs nothing: there is no bill to estimate.
    supports_dry_run = False

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.cache_namespace = f"duckdb:{self.path.resolve()}"
        self._known_version: tuple = (None, "0")
        self._materialised: tuple = (None, False)
        self._scope = threading.local()  # gunicorn's threads each serve their own request

    @property
    def materialised_user_periods(self) -> bool:
        """Whether the loader's per-grain tables are there (app/storage.py writes them with
        every load): a file written before some of them existed is read from its events until
        its next load. Checked once per data version."""
        version = self.data_version()
        known_version, present = self._materialised
        if version != known_version:
            tables = set(self.run("select table_name from duckdb_tables()", {})["table_name"])
            present = set(schema.materialised_tables()) <= tables
            self._materialised = (version, present)
        return present

    def _connect(self) -> duckdb.DuckDBPyConnection:
        if not self.path.exists():
            # The file's name only: the message reaches the page, which shows no paths.
            raise NoDataError(
                f"no database at {self.path.name}: run `python -m app demo` or `load`")
        try:
            return connect_duckdb(self.path, read_only=True)
        except duckdb.IOException as error:
            log.warning("cannot open %s: %s", self.path, error)
            raise BackendError(
                f"the database {self.path.name} cannot be opened right now; try again") from error

    def relation(self, table: str) -> str:
        return table

    @contextmanager
    def shared_connection(self) -> Iterator[None]:
        """Queries inside share one connection, opened by the first of them: opening one costs
        ~20 ms, as much as a query on the demo data, and a panel runs up to three. It is closed
        on leaving, so a loader still writes between requests."""
        if getattr(self._scope, "active", False):
            yield
            return
        self._scope.active, self._scope.connection = True, None
        try:
            yield
        finally:
            connection = self._scope.connection
            self._scope.active, self._scope.connection = False, None
            if connection is not None:
                connection.close()

    def run(self, sql: str, params: dict) -> pd.DataFrame:
        if not getattr(self._scope, "active", False):
            with self._connect() as connection:
                return self._execute(connection, sql, params)
        if self._scope.connection is None:
            self._scope.connection = self._connect()
        return self._execute(self._scope.connection, sql, params)

    def _execute(self, connection, sql: str, params: dict) -> pd.DataFrame:
        try:
            return connection.execute(sql, params).df()
        except duckdb.CatalogException as error:
            raise NoDataError(f"the database {self.path.name} holds no events yet") from error

    def dry_run(self, sql: str, params: dict) -> int:
        raise BackendError("DuckDB does not estimate queries: run them instead")

    def data_version(self) -> str:
        """The version every load writes; re-read only when the file changed on disk, because
        opening the database costs far more than a cache hit."""
        signature = self._file_signature()
        known_signature, version = self._known_version
        if signature != known_signature:
            frame = self.run(f"select value from {schema.META} where key = 'data_version'", {})
            version = str(frame["value"].iloc[0]) if len(frame) else "0"
            self._known_version = (signature, version)
        return version

    def _file_signature(self) -> tuple:
        signature = []
        for path in (self.path, self.path.with_name(self.path.name + ".wal")):
            try:
                stat = path.stat()
                signature.append((stat.st_ino, stat.st_size, stat.st_mtime_ns))
            except FileNotFoundError:
                signature.append(None)
        return tuple(signature)

    def event_columns(self) -> list[str]:
        # DESCRIBE reads the catalog directly; information_schema is twice as slow here.
        return list(self.run(f"describe {schema.EVENTS}", {})["column_name"])
