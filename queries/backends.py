"""The small interface every backend implements, and the embedded DuckDB backend."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import duckdb
import pandas as pd

from queries import schema
from queries.dialect import DUCKDB, Dialect


class BackendError(RuntimeError):
    """A failure a user can act on; its message is safe to show in the UI."""


class NoDataError(BackendError):
    pass


class Backend(Protocol):
    name: str
    dialect: Dialect

    def run(self, sql: str, params: dict) -> pd.DataFrame: ...

    def relation(self, table: str) -> str:
        """The FROM item for one of schema's tables (EVENTS, ASSIGNMENTS)."""
        ...

    def data_version(self) -> str: ...

    def event_columns(self) -> list[str]: ...


def connect_duckdb(path: Path, read_only: bool) -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect(str(path), read_only=read_only)
    # Timestamps are stored as UTC; periods must not shift with the machine's time zone.
    connection.execute("SET TimeZone = 'UTC'")
    return connection


class DuckDBBackend:
    """Each call opens a short read-only connection, so a loader process can write between them."""

    name = "duckdb"
    dialect = DUCKDB
    # The loader materialises per-grain user histories (see app/storage.py).
    materialised_user_periods = True

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.cache_namespace = f"duckdb:{self.path.resolve()}"
        self._known_version: tuple = (None, "0")

    def _connect(self) -> duckdb.DuckDBPyConnection:
        if not self.path.exists():
            raise NoDataError(f"no database at {self.path}: run `python -m app demo` or `load`")
        try:
            return connect_duckdb(self.path, read_only=True)
        except duckdb.IOException as error:
            raise BackendError(f"cannot open {self.path}: {error}") from error

    def relation(self, table: str) -> str:
        return table

    def run(self, sql: str, params: dict) -> pd.DataFrame:
        with self._connect() as connection:
            try:
                return connection.execute(sql, params).df()
            except duckdb.CatalogException as error:
                raise NoDataError(f"the database at {self.path} holds no events yet") from error

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
