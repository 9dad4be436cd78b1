"""Reads the SQL templates in queries/sql/ and fills their allow-listed placeholders."""

from __future__ import annotations

from functools import cache
from pathlib import Path

SQL_DIR = Path(__file__).with_name("sql")


@cache
def template(name: str) -> str:
    return (SQL_DIR / f"{name}.sql").read_text()


def render(name: str, **fragments: str) -> str:
    """Fragments are identifiers and SQL built from allow-lists, never user values.

    The first line names the file, so logs and diagnostics can say which query ran."""
    return f"-- query: {name}\n" + template(name).format(**fragments)
