"""Checks SQL written by a model before anything runs it.

Accepted: one SELECT (WITH and set operations allowed) whose FROM items are allow-listed tables
named plainly (no schema or catalog), CTEs of the query itself, subqueries, VALUES or UNNEST.
Refused: everything else, including table functions (read_csv, glob, query, ...), file paths as
tables, and functions that reach outside the query. A scan of a huge table must aggregate or the
query must end in a LIMIT. The sandbox (queries/ask/sandbox.py) is the second line of defence.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Collection
from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError
from sqlglot.optimizer.scope import traverse_scope

# sqlglot warns on stderr when it falls back to a generic command (e.g. LOAD); we refuse those.
logging.getLogger("sqlglot").setLevel(logging.ERROR)
log = logging.getLogger(__name__)

STATEMENT_TYPES = (exp.Select, exp.SetOperation)
FORBIDDEN_NODES = (
    exp.DDL, exp.DML, exp.Command, exp.Into, exp.Pragma, exp.Set, exp.Use, exp.Copy,
    exp.Attach, exp.Detach, exp.Install,
)
# Functions that read files, run SQL from text, or look at the engine itself.
FORBIDDEN_FUNCTION = re.compile(
    r"^(read_|glob|sniff_|parquet_|query|getenv|getvariable|current_setting|duckdb_|pragma_"
    r"|iceberg_|delta_|sqlite_|postgres_|mysql_|http|load|install|scan_|checkpoint|export_"
    r"|import_|set_|enable_|disable_)",
    re.IGNORECASE,
)


class RefusedSQL(ValueError):
    """The message says what was refused and why, for the model and for the user."""


@dataclass(frozen=True)
class CheckedSQL:
    sql: str
    tables: frozenset[str]  # the allow-listed tables it reads


def check_sql(
    sql: str, allowed_tables: Collection[str], huge_tables: Collection[str] = ()
) -> CheckedSQL:
    statement = parse_one_statement(sql)
    if not isinstance(statement, STATEMENT_TYPES):
        kind = statement.this if isinstance(statement, exp.Command) else statement.key
        raise RefusedSQL(
            f"only a SELECT is allowed, not {str(kind).upper()}: the data is read-only"
        )
    for node in statement.walk():
        if isinstance(node, FORBIDDEN_NODES):
            raise RefusedSQL(f"{node.key.upper()} is not allowed inside a query")
        if isinstance(node, exp.Func):
            check_function(node)
    cte_references = cte_reference_ids(statement)
    tables = referenced_tables(statement, set(allowed_tables), cte_references)
    check_huge_scans(statement, tables & set(huge_tables), cte_references)
    return CheckedSQL(sql.strip().rstrip(";").strip(), frozenset(tables))


def parse_one_statement(sql: str) -> exp.Expression:
    try:
        statements = [s for s in sqlglot.parse(sql, read="duckdb") if s is not None]
    except (ParseError, TokenError) as error:
        first_line = str(error).splitlines()[0] if str(error) else "syntax error"
        raise RefusedSQL(f"the SQL could not be parsed: {first_line}") from None
    except RecursionError:  # thousands of nested parentheses
        raise RefusedSQL("the SQL is nested too deeply to check") from None
    if len(statements) != 1:
        raise RefusedSQL(f"exactly one statement is allowed, got {len(statements)}")
    return statements[0]


def check_function(node: exp.Func) -> None:
    name = node.name if isinstance(node, exp.Anonymous) else node.sql_name()
    if FORBIDDEN_FUNCTION.match(name or ""):
        raise RefusedSQL(f"the function {name.lower()}() is not allowed")


def cte_reference_ids(statement: exp.Expression) -> set[int]:
    """The table references that name a CTE visible where they stand (by scope: a CTE of one
    subquery does not cover the same name elsewhere). Any other reference, one the scope
    analysis does not reach included (inside UNPIVOT, say), is a real table."""
    try:
        scopes = traverse_scope(statement)
    except Exception as error:  # sqlglot cannot resolve it: nothing is taken for a CTE
        log.debug("no scopes for %r: %s", statement.sql()[:80], error)
        return set()
    references = set()
    for scope in scopes:
        visible = {name.lower() for name in scope.cte_sources}
        for table in scope.tables:
            if table.name.lower() in visible and not table.args.get("db"):
                references.add(id(table))
    return references


def referenced_tables(statement: exp.Expression, allowed: set[str],
                      cte_references: set[int]) -> set[str]:
    """The allow-listed tables read; refuses table functions, qualified and unknown names."""
    tables = set()
    for table in statement.find_all(exp.Table):
        if not isinstance(table.this, exp.Identifier):
            raise RefusedSQL(
                f"table functions are not allowed ({table.this.sql(dialect='duckdb')[:60]})"
            )
        if table.args.get("db") or table.args.get("catalog"):
            raise RefusedSQL(f"{table.sql(dialect='duckdb')} is not allowed: use a table name only")
        name = table.name.lower()
        if id(table) in cte_references:
            continue
        if name not in allowed:
            raise RefusedSQL(
                f"the table {table.name!r} is not available; allowed: {', '.join(sorted(allowed))}"
            )
        tables.add(name)
    return tables


def check_huge_scans(statement: exp.Expression, huge: set[str], cte_references: set[int]) -> None:
    """A query on a huge table must aggregate where it reads the table, or end in a LIMIT."""
    if not huge or statement.args.get("limit"):
        return
    for select in statement.find_all(exp.Select):
        scanned = huge.intersection(table.name.lower() for table in scanned_tables(select)
                                    if id(table) not in cte_references)
        if scanned and not aggregates(select):
            raise RefusedSQL(
                f"a query without a limit on a huge table ({', '.join(sorted(scanned))}):"
                " aggregate it (count, sum, group by) or add a LIMIT"
            )


def scanned_tables(select: exp.Select) -> list[exp.Table]:
    """Tables this SELECT reads itself, not through a nested SELECT: in its FROM and JOINs,
    also wrapped (UNPIVOT events ..., a parenthesised table)."""
    return [table for table in select.find_all(exp.Table)
            if table.find_ancestor(exp.Select) is select]


def aggregates(select: exp.Select) -> bool:
    if select.args.get("group"):
        return True
    return any(
        isinstance(node, exp.AggFunc)
        and node.find_ancestor(exp.Select) is select
        and not node.find_ancestor(exp.Window)
        for expression in select.expressions
        for node in expression.walk()
    )
