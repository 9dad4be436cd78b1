"""What each query cost: one record per query, logged as a JSON line and collected for the view
that asked for it (the diagnostics panel, the chat drawer's "SQL used")."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import asdict, dataclass

log = logging.getLogger("growth.queries")

_LABEL = re.compile(r"^-- query: ([a-z_]+)")
# Every open collecting() block, outermost first: blocks nest (a request's log and a panel's
# diagnostics both see the panel's queries).
_collected: ContextVar[tuple[list, ...]] = ContextVar("collected_queries", default=())


@dataclass(frozen=True)
class QueryRecord:
    label: str
    backend: str
    rows: int
    milliseconds: float
    cache_hit: bool
    sql: str
    params: dict
    # Only BigQuery reports these: bytes its job processed, and whether its own cache answered.
    bytes_processed: int | None = None
    backend_cache_hit: bool | None = None

    def log_fields(self) -> dict:
        fields = asdict(self)
        del fields["sql"], fields["params"]
        fields["milliseconds"] = round(self.milliseconds, 1)
        return {"event": "query", **{k: v for k, v in fields.items() if v is not None}}


def label_of(sql: str) -> str:
    """The name of the SQL file the query came from (queries/sql_files.py marks it)."""
    match = _LABEL.match(sql.lstrip())
    return match.group(1) if match else "sql"


def record(entry: QueryRecord) -> None:
    log.info(json.dumps(entry.log_fields(), default=str))
    for collected in _collected.get():
        collected.append(entry)


@contextmanager
def collecting() -> Iterator[list[QueryRecord]]:
    """Collects the records of the queries run inside the block, in order; an enclosing block
    gets them too."""
    records: list[QueryRecord] = []
    token = _collected.set((*_collected.get(), records))
    try:
        yield records
    finally:
        _collected.reset(token)
