"""The SQL guard (what the model may run) and the sandbox behind it (what runs even if the guard
let something through): real sqlglot parsing, real in-memory DuckDB, a real events file."""

from __future__ import annotations

import hashlib

import pandas as pd
import pytest

from queries.ask.sandbox import SandboxError, run_sandboxed
from queries.ask.sql_guard import CheckedSQL, RefusedSQL, check_sql

ALLOWED = {"growth_week", "growth_month", "experiment_results", "events"}
HUGE = {"events"}


@pytest.mark.parametrize("sql", [
    "select * from growth_week",
    "SELECT period_start, churn_rate FROM Growth_Month WHERE is_complete ORDER BY 2 DESC LIMIT 1",
    "with recent as (select * from growth_week where is_complete)"
    " select max(new_users) from recent",
    "select * from growth_week union all select * from growth_month limit 5",
    "select g.period_start from growth_week g"
    " join growth_month m on g.period_start = m.period_start",
    "select count(*) from events",
    "select event_type, count(distinct user_id) from events group by event_type",
    "select * from events limit 10",
    "select * from (select * from events) as e limit 10",
    "select * from growth_week where new_users > (select count(*) from events)",
    "select x from (values (1), (2)) as v(x)",
    "select * from growth_week;",
])
def test_accepts_plain_selects_over_allowed_tables(sql):
    checked = check_sql(sql, ALLOWED, HUGE)
    assert checked.tables <= ALLOWED
    assert not checked.sql.endswith(";")


@pytest.mark.parametrize(("sql", "reason"), [
    ("DROP TABLE events", "not DROP"),
    ("DELETE FROM growth_week", "not DELETE"),
    ("INSERT INTO growth_week SELECT * FROM growth_week", "not INSERT"),
    ("COPY (SELECT 1) TO '/tmp/x.csv'", "not COPY"),
    ("ATTACH 'other.duckdb'", "not ATTACH"),
    ("DETACH store", "not DETACH"),
    ("PRAGMA show_tables", "not PRAGMA"),
    ("INSTALL httpfs", "not INSTALL"),
    ("LOAD httpfs", "not LOAD"),
    ("SET threads = 64", "not SET"),
    ("CALL pragma_version()", "not CALL"),
    ("EXPORT DATABASE '/tmp/dump'", "could not be parsed"),
    ("select * from range(10)", "table functions are not allowed"),
    ("select * from read_parquet('/data/*.parquet')", "read_parquet() is not allowed"),
    ("select * from read_csv_auto('/etc/passwd')", "read_csv_auto() is not allowed"),
    ("select read_text('/etc/passwd')", "read_text() is not allowed"),
    ("select * from glob('*')", "glob() is not allowed"),
    ("select * from query_table('meta')", "query_table() is not allowed"),
    ("select current_setting('threads')", "current_setting() is not allowed"),
    ("select * from duckdb_settings()", "duckdb_settings() is not allowed"),
    ("select * from 'data/growth.duckdb'", "is not available"),
    ("select * from store.events limit 1", "use a table name only"),
    ("select * from memory.main.growth_week", "use a table name only"),
    ("select * from meta", "table 'meta' is not available"),
    ("select * from growth_week; select * from growth_month", "exactly one statement"),
    ("", "exactly one statement"),
    ("select from where", "could not be parsed"),
    ("select * from events", "without a limit on a huge table"),
    ("select user_id, count(*) over () from events", "without a limit on a huge table"),
    ("select * from growth_week g join events e on true", "without a limit on a huge table"),
])
def test_refuses_everything_else(sql, reason):
    with pytest.raises(RefusedSQL, match=reason.replace("(", r"\(").replace(")", r"\)")):
        check_sql(sql, ALLOWED, HUGE)


GROWTH = pd.DataFrame({"period_start": pd.to_datetime(["2025-01-06", "2025-01-13"]),
                       "new_users": [3, 5]})
EVENTS = [("2025-01-06 10:00:00", f"u{n}", "login") for n in range(300)]


def unguarded(sql: str, *tables: str) -> CheckedSQL:
    """SQL that skipped the guard, to show what the sandbox alone does with it."""
    return CheckedSQL(sql, frozenset(tables))


def test_runs_over_copied_tables_and_the_attached_events(make_db):
    db = make_db(EVENTS)
    result = run_sandboxed(
        check_sql("select sum(new_users) as n, (select count(*) from events) as events"
                  " from growth_week", ALLOWED, HUGE),
        {"growth_week": GROWTH}, db,
    )
    assert result.frame.to_dict("records") == [{"n": 8, "events": 300}]


@pytest.mark.parametrize(("sql", "tables"), [
    ("select * from read_csv('/etc/passwd')", ()),
    ("select * from read_text('/etc/passwd')", ()),
    ("select * from glob('/etc/*')", ()),
    ("copy (select 1) to '/tmp/sandbox-escape.csv'", ()),
    ("attach '/tmp/sandbox-escape.duckdb' as escape", ()),
    ("install httpfs", ()),
    ("load httpfs", ()),
])
def test_the_sandbox_alone_cannot_reach_files(sql, tables):
    with pytest.raises(RefusedSQL, match="not allowed"):
        run_sandboxed(unguarded(sql, *tables), {})


def test_the_sandbox_cannot_change_its_settings_or_the_data(make_db):
    db = make_db(EVENTS)
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    for sql in ("set enable_external_access = true", "set lock_configuration = false"):
        with pytest.raises(SandboxError, match="locked"):
            run_sandboxed(unguarded(sql, "events"), {}, db)
    for sql in ("delete from store.events", "drop table store.events",
                "insert into store.events (user_id) values ('x')"):
        with pytest.raises(SandboxError, match="read-only"):
            run_sandboxed(unguarded(sql, "events"), {}, db)
    with pytest.raises(SandboxError, match="does not exist"):
        run_sandboxed(unguarded("select * from GROWTH"), {})  # no Python variables either
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before


def test_row_limit_and_time_limit():
    numbers = {"growth_week": pd.DataFrame({"n": range(3000)})}
    many = check_sql("select n from growth_week order by n", ALLOWED)
    result = run_sandboxed(many, numbers, row_limit=50)
    assert list(result.frame["n"]) == list(range(50)) and result.truncated
    few = run_sandboxed(check_sql("select n from growth_week limit 50", ALLOWED), numbers,
                        row_limit=50)
    assert not few.truncated and len(few.frame) == 50

    slow = check_sql("select count(*) from growth_week a, growth_week b, growth_week c"
                     " where a.n + b.n < c.n", ALLOWED)
    with pytest.raises(SandboxError, match=r"longer than 0\.3 s"):
        run_sandboxed(slow, numbers, seconds=0.3)


def test_events_need_the_duckdb_file():
    with pytest.raises(RefusedSQL, match="not available on this backend"):
        run_sandboxed(check_sql("select count(*) from events", ALLOWED, HUGE), {}, None)


@pytest.mark.parametrize(("sql", "reason"), [
    # A CTE named like a system table in one subquery does not cover the name elsewhere.
    ("select * from (with duckdb_tables as (select 1) select * from duckdb_tables) t"
     " join duckdb_tables d on true", "the table 'duckdb_tables' is not available"),
    ("select * from (with store as (select 1) select * from store) a, store b",
     "the table 'store' is not available"),
    ("with x as (select * from growth_week) select * from (with meta as (select 1)"
     " select * from meta) m, meta", "the table 'meta' is not available"),
    # A CTE defined after its use is no cover either.
    ("select * from secrets, (with secrets as (select 1) select * from secrets) s",
     "the table 'secrets' is not available"),
])
def test_a_cte_covers_its_name_only_in_its_own_scope(sql, reason):
    with pytest.raises(RefusedSQL, match=reason):
        check_sql(sql, ALLOWED, HUGE)


@pytest.mark.parametrize("sql", [
    "with a as (select * from growth_week) select * from a where new_users in"
    " (select new_users from a)",
    "with recursive r as (select 1 as n union all select n + 1 from r where n < 3)"
    " select * from r",
    "with Recent as (select * from growth_week) select * from recent",
])
def test_ctes_still_work_where_they_are_visible(sql):
    assert check_sql(sql, ALLOWED, HUGE).tables <= {"growth_week"}


@pytest.mark.parametrize("sql", [
    "select * from (unpivot events on revenue into name k value v)",
    "select * from (pivot events on event_type using count(*))",
    "select * from growth_week, (unpivot events on revenue into name k value v) u",
])
def test_a_huge_table_wrapped_in_unpivot_still_needs_an_aggregate_or_limit(sql):
    with pytest.raises(RefusedSQL, match="huge table"):
        check_sql(sql, ALLOWED, HUGE)
    assert check_sql(sql + " limit 5", ALLOWED, HUGE).tables >= {"events"}


def test_thousands_of_nested_parentheses_are_refused_not_a_crash():
    sql = "select " + "(" * 3000 + "1" + ")" * 3000
    with pytest.raises(RefusedSQL, match=r"nested too deeply|could not be parsed"):
        check_sql(sql, ALLOWED, HUGE)


def peak_children_memory(run) -> tuple[object, float, int]:
    """(what run returned or raised, seconds, peak resident bytes of the children it started).
    Children already running (the session's BigQuery emulator, a browser) are not counted."""
    import contextlib
    import threading
    import time

    import psutil

    peak, done = [0], threading.Event()
    me = psutil.Process()
    earlier = {child.pid for child in me.children(recursive=True)}

    def sample():
        while not done.is_set():
            resident = 0
            for child in me.children(recursive=True):
                if child.pid in earlier:
                    continue
                with contextlib.suppress(psutil.NoSuchProcess):
                    resident += child.memory_info().rss
            peak[0] = max(peak[0], resident)
            time.sleep(0.005)

    sampler = threading.Thread(target=sample)
    sampler.start()
    started = time.perf_counter()
    try:
        outcome = run()
    except SandboxError as error:
        outcome = error
    finally:
        done.set()
        sampler.join()
    return outcome, time.perf_counter() - started, peak[0]


@pytest.mark.parametrize("sql", [
    "select len(range(200000000)) as n",  # one huge list: 14 GB and still running at 120 s
    "select length(repeat('x', 2000000000)) as n",  # one 2 GB string
    "select list_sort(list(i)) from range(300000000) t(i)",
])
def test_one_huge_value_is_stopped_at_the_memory_bound(sql):
    checked = CheckedSQL(sql, frozenset())  # past the guard, as a bug in it would let it
    outcome, seconds, peak = peak_children_memory(lambda: run_sandboxed(checked, {}))
    assert isinstance(outcome, SandboxError) and "needed more than 1 GB" in str(outcome)
    assert seconds < 10
    assert peak < 1 << 30


def test_a_query_past_its_time_is_killed_on_time():
    checked = CheckedSQL("select count(*) from range(100000000000000) t(i)", frozenset())
    outcome, seconds, _ = peak_children_memory(
        lambda: run_sandboxed(checked, {}, seconds=1.0))
    assert isinstance(outcome, SandboxError) and "longer than 1 s" in str(outcome)
    assert seconds < 1.0 + 3  # the child's start, then one second of query
