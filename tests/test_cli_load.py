"""`python -m app load` as a real subprocess: good files land exactly, bad files change nothing.

Every refusal must say where the problem is (file, physical line or Parquet row, column, value),
must not show a traceback, and must leave the database byte-for-byte as it was (or not create it).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.cli import run_cli

REPO_ROOT = Path(__file__).resolve().parent.parent

HEADER = "event_time,user_id,event_type,revenue,platform"
# Written by hand; the expected stored rows below are derived from it, not from the loader.
GOOD_CSV = (
    "event_time,user_id,event_type,revenue,platform,group\n"
    "2024-03-10T10:00:00+02:00,u1,login,,ios,a\n"
    "2024-03-10 23:30:00,u2,purchase,12.5,web,b\n"
    "2024-03-11T00:15:00-05:00,u1,purchase,0.99,ios,\n"
    "2024-03-12T00:00:00Z,u3,signup,0,android,c\n"
)
# (event_time in UTC, user_id, event_type, revenue, platform, group), ordered by event_time.
# +02:00 10:00 -> 08:00 UTC; -05:00 00:15 -> 05:15 UTC; no offset is taken as UTC already;
# blank revenue and blank group -> NULL; "group" (an SQL keyword) is kept as a segment column.
GOOD_ROWS = [
    (dt.datetime(2024, 3, 10, 8, 0), "u1", "login", None, "ios", "a"),
    (dt.datetime(2024, 3, 10, 23, 30), "u2", "purchase", 12.5, "web", "b"),
    (dt.datetime(2024, 3, 11, 5, 15), "u1", "purchase", 0.99, "ios", None),
    (dt.datetime(2024, 3, 12, 0, 0), "u3", "signup", 0.0, "android", "c"),
]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def query(db: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as connection:
        connection.execute("SET TimeZone = 'UTC'")
        return connection.execute(sql).fetchall()


def assert_loaded(result: subprocess.CompletedProcess) -> None:
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr


@pytest.fixture(scope="module")
def loaded_db(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    """A database holding one good load, and the run that made it."""
    folder = tmp_path_factory.mktemp("loaded")
    source = folder / "good.csv"
    source.write_text(GOOD_CSV)
    db = folder / "db" / "growth.duckdb"
    return db, run_cli("load", source, "--db", db)


# --- good files -----------------------------------------------------------------------------


def test_good_csv_is_stored_as_written(loaded_db):
    db, result = loaded_db
    assert_loaded(result)
    rows = query(
        db,
        'select event_time, user_id, event_type, revenue, platform, "group" from events'
        " order by event_time",
    )
    assert rows == GOOD_ROWS
    columns = [row[0] for row in query(db, "describe events")]
    assert "platform" in columns and "group" in columns


def test_load_reports_progress_on_stderr(loaded_db):
    _, result = loaded_db
    assert "loaded 4 events" in result.stderr
    assert result.stdout == ""


def test_good_parquet_with_native_timestamps_loads(tmp_path):
    table = pa.table(
        {
            "event_time": pa.array(
                [dt.datetime(2024, 1, 7, 23, 59, 59), dt.datetime(2024, 1, 8, 0, 0)],
                type=pa.timestamp("us"),
            ),
            "user_id": ["p1", "p2"],
            "event_type": ["login", "purchase"],
            "revenue": pa.array([None, 4.25], type=pa.float64()),
            "country": ["DE", "FR"],
        }
    )
    source = tmp_path / "events.parquet"
    pq.write_table(table, source)
    db = tmp_path / "growth.duckdb"
    result = run_cli("load", source, "--db", db)
    assert_loaded(result)
    assert "loaded 2 events" in result.stderr
    rows = query(
        db, "select event_time, user_id, event_type, revenue, country from events order by 1"
    )
    assert rows == [
        (dt.datetime(2024, 1, 7, 23, 59, 59), "p1", "login", None, "DE"),
        (dt.datetime(2024, 1, 8, 0, 0), "p2", "purchase", 4.25, "FR"),
    ]


@pytest.mark.parametrize("with_time", [True, False], ids=["assigned_at", "no_assigned_at"])
def test_assignments_file_loads(tmp_path, with_time):
    events = tmp_path / "events.csv"
    events.write_text(f"{HEADER}\n2024-01-01,u1,login,,ios\n2024-01-02,u2,login,,web\n")
    assignments = tmp_path / "assignments.csv"
    if with_time:
        assignments.write_text(
            "experiment,user_id,variant,assigned_at\n"
            "checkout,u1,control,2024-01-01T12:00:00+01:00\n"
            "checkout,u2,treatment,2024-01-02 08:00:00\n"
        )
        first_time, second_time = dt.datetime(2024, 1, 1, 11, 0), dt.datetime(2024, 1, 2, 8, 0)
    else:
        assignments.write_text(
            "experiment,user_id,variant\ncheckout,u1,control\ncheckout,u2,treatment\n"
        )
        first_time = second_time = None
    db = tmp_path / "growth.duckdb"
    result = run_cli("load", events, "--assignments", assignments, "--db", db)
    assert_loaded(result)
    assert "2 events and 2 assignments" in result.stderr
    rows = query(
        db, "select experiment, user_id, variant, assigned_at from assignments order by user_id"
    )
    assert rows == [
        ("checkout", "u1", "control", first_time),
        ("checkout", "u2", "treatment", second_time),
    ]


def test_segment_column_in_other_case_joins_the_stored_column(loaded_db, tmp_path):
    """DuckDB names are case-insensitive: a later file's 'Platform' is the stored 'platform'."""
    db = tmp_path / "growth.duckdb"
    shutil.copy(loaded_db[0], db)
    source = tmp_path / "more.csv"
    source.write_text("event_time,user_id,event_type,Platform\n2024-04-01,u9,login,tv\n")
    assert_loaded(run_cli("load", source, "--db", db))
    assert query(db, "select platform from events where user_id = 'u9'") == [("tv",)]


def test_db_path_that_is_not_a_duckdb_file_is_refused_untouched(tmp_path):
    source = tmp_path / "good.csv"
    source.write_text(GOOD_CSV)
    db = tmp_path / "growth.duckdb"
    db.write_bytes(b"not a database\n")
    result = run_cli("load", source, "--db", db)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert f"error: {db}: refused" in result.stderr
    assert "cannot open the database" in result.stderr
    assert db.read_bytes() == b"not a database\n"


# --- loading the same file twice ------------------------------------------------------------


def test_same_file_twice_is_refused_then_replace_reloads(loaded_db, tmp_path):
    db = tmp_path / "growth.duckdb"
    shutil.copy(loaded_db[0], db)
    original = loaded_db[0].parent.parent / "good.csv"
    # The same bytes under another name are still the same data.
    renamed = tmp_path / "renamed.csv"
    renamed.write_text(GOOD_CSV)
    before = sha256(db)

    for source in (original, renamed):
        again = run_cli("load", source, "--db", db)
        assert again.returncode != 0
        assert "--replace" in again.stderr
        assert "already loaded" in again.stderr
        assert str(source) in again.stderr
        assert "Traceback" not in again.stderr
        assert sha256(db) == before
    source = renamed

    replaced = run_cli("load", source, "--replace", "--db", db)
    assert_loaded(replaced)
    assert query(db, "select count(*) from events") == [(len(GOOD_ROWS),)]
    assert query(db, "select count(*) from loads where kind = 'events'") == [(1,)]


# --- refused files --------------------------------------------------------------------------


def parquet_bytes(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return sink.getvalue().to_pybytes()


def twelve_bad_timestamps() -> str:
    rows = [f"2024-01-0{day},u{day},login,,ios" for day in (1, 2)]
    rows += [f"when{n},u{n},login,,ios" for n in range(1, 13)]
    return HEADER + "\n" + "\n".join(rows) + "\n"


@dataclass(frozen=True)
class Bad:
    """A refused file: `expected` are fragments the error must contain, `absent` must not."""

    name: str
    file_name: str
    content: bytes | None  # None: the path does not exist
    expected: tuple[str, ...]
    absent: tuple[str, ...] = ()
    assignments: tuple[str, bytes] | None = None  # (file name, content) for --assignments
    extra: dict = field(default_factory=dict)


def csv_bytes(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode()


BAD_FILES = [
    Bad(
        # Each would stretch every calendar across centuries (year 1: 739,272 daily rows).
        "timestamps_out_of_range", "events.csv",
        csv_bytes(HEADER, "2024-01-01,u1,login,,ios", "infinity,u2,login,,ios",
                  "9999-12-31 23:00:00,u3,login,,ios", "0001-01-01,u4,login,,ios",
                  "1969-12-31 23:59:59,u5,login,,ios", "2024-01-02,u6,login,,ios"),
        ("4 problems", "line 3, column 'event_time': is outside 1970-01-01 ..",
         ": 'infinity'", "line 4, column 'event_time': is outside", ": '9999-12-31 23:00:00'",
         "line 5, column 'event_time': is outside", "line 6, column 'event_time': is outside"),
        ("line 2,", "line 7,"),
    ),
    Bad(
        # Old Mac line endings: one "line" to the csv module, which raised a traceback.
        "carriage_returns_only", "events.csv",
        (HEADER + "\r2024-01-01,u1,login,,ios\r").encode(),
        ("line 1: a carriage return alone ends the line at character 47",),
        ("_csv.Error",),
    ),
    Bad(
        "gz_that_is_not_gzip", "events.csv.gz", b"event_time,user_id,event_type\n",
        ("not a gzip file",),
    ),
    Bad(
        "missing_user_id", "events.csv",
        csv_bytes("event_time,event_type", "2024-01-01,login"),
        ("required column 'user_id' is missing",),
    ),
    Bad(
        "unparseable_timestamp", "events.csv",
        csv_bytes(HEADER, "2024-01-01,u1,login,,ios", "2024-01-02,u2,login,,ios",
                  "yesterday,u3,login,,ios"),
        ("(1 problem)", "line 4, column 'event_time': is not a timestamp: 'yesterday'"),
    ),
    Bad(
        "empty_and_blank_user_id", "events.csv",
        csv_bytes(HEADER, "2024-01-01,u1,login,,ios", "2024-01-02,,login,,ios",
                  "2024-01-02,   ,login,,ios"),
        ("2 problems", "line 3, column 'user_id': is empty",
         "line 4, column 'user_id': is empty: '   '"),
    ),
    Bad(
        "non_numeric_revenue", "events.csv",
        csv_bytes(HEADER, "2024-01-01,u1,purchase,\"12,50\",ios", "2024-01-01,u1,purchase,1,ios",
                  "2024-01-01,u1,purchase,abc,ios", "2024-01-01,u1,purchase,inf,ios",
                  "2024-01-01,u1,purchase,nan,ios"),
        ("4 problems", "line 2, column 'revenue': is not a number: '12,50'",
         "line 4, column 'revenue': is not a number: 'abc'",
         "line 5, column 'revenue': is not a number: 'inf'",
         "line 6, column 'revenue': is not a number: 'nan'"),
    ),
    Bad(
        "wrong_number_of_fields", "events.csv",
        csv_bytes(HEADER, "2024-01-01,u1,login,,ios", "2024-01-01,u1,login,,ios,surplus",
                  "2024-01-01,u2,login"),
        ("line 3: too many columns: '2024-01-01,u1,login,,ios,surplus'",
         "line 4, column 'revenue': missing columns: '2024-01-01,u2,login'"),
    ),
    Bad(
        # The quote opened on line 3 never closes: blame the line where it opened.
        "unterminated_quote", "events.csv",
        csv_bytes(HEADER, "2024-01-01,u1,login,,ios", "2024-01-01,\"u2,login,,ios",
                  "2024-01-01,u3,login,,ios"),
        ("line 3: malformed CSV",),
    ),
    Bad("empty_file", "events.csv", b"", ("the file is empty",)),
    Bad("header_only", "events.csv", csv_bytes(HEADER), ("holds no events, only a header",)),
    Bad(
        "duplicate_column", "events.csv",
        csv_bytes("event_time,user_id,event_type,user_id", "2024-01-01,u1,login,u2"),
        ("line 1: column #4 ('user_id') appears twice",),
    ),
    Bad(
        "column_names_not_plain", "events.csv",
        csv_bytes("event_time,user_id,event_type,event time,1st", "2024-01-01,u1,login,x,y"),
        ("line 1: column #4 ('event time') is not a plain name",
         "line 1: column #5 ('1st') is not a plain name"),
    ),
    Bad(
        # DuckDB names ignore case: these would collide with each other or the stored columns.
        "names_equal_but_for_case", "events.csv",
        csv_bytes("event_time,user_id,event_type,platform,Platform,LOAD_ID,Revenue",
                  "2024-01-01,u1,login,a,b,7,3"),
        ("3 problems", "line 1: column #5 ('Platform') appears twice",
         "line 1: column #6 ('LOAD_ID') is reserved",
         "line 1: column #7 ('Revenue') must be written 'revenue'"),
    ),
    Bad("unsupported_extension", "events.xlsx", b"PK\x03\x04 not really a workbook",
        ("unsupported file type",)),
    Bad(
        "corrupt_parquet", "events.parquet",
        bytes(range(256)) * 4,
        ("not a readable Parquet file",),
    ),
    Bad(
        "parquet_null_user_id", "events.parquet",
        parquet_bytes(pa.table({
            "event_time": pa.array([dt.datetime(2024, 1, 1)] * 3, type=pa.timestamp("us")),
            "user_id": ["u1", "u2", None],
            "event_type": ["login"] * 3,
        })),
        ("row 3, column 'user_id': is empty",),
    ),
    Bad(
        # The bad byte is on line 3, not in the header: the line must say so.
        "invalid_utf8", "events.csv",
        HEADER.encode() + b"\n2024-01-01,u1,login,,ios\n2024-01-01,u\xff2,login,,ios\n",
        ("line 3, column 'user_id'",),
        absent=("line 1",),
    ),
    Bad(
        "assignments_missing_variant", "fresh_events.csv",
        csv_bytes(HEADER, "2024-05-01,u7,login,,ios"),
        ("required column 'variant' is missing",),
        assignments=("assignments.csv", csv_bytes("experiment,user_id", "checkout,u7")),
    ),
    Bad("missing_file", "no_such_events.csv", None, ("no such file",)),
    Bad(
        # 12 problems on lines 4-15: the first five are listed (lines 4-8), the rest counted.
        "twelve_bad_timestamps", "events.csv",
        twelve_bad_timestamps().encode(),
        ("12 problems", "line 4, column 'event_time': is not a timestamp: 'when1'",
         "line 8, column 'event_time': is not a timestamp: 'when5'", "... and 7 more"),
        absent=("line 9", "when6"),
    ),
    Bad(
        # Lines 2-3 are one record (a quoted newline) and line 4 is blank, so the bad value
        # is on physical line 6 although it is the 3rd record.
        "bad_value_after_quoted_newline", "events.csv",
        csv_bytes(HEADER, "2024-01-01,u1,\"two", "lines\",,ios", "", "2024-01-02,u2,login,,ios",
                  "nope,u3,login,,ios"),
        ("line 6, column 'event_time': is not a timestamp: 'nope'",),
    ),
    Bad(
        # The same for a structural error, which DuckDB itself numbers by record.
        "too_many_fields_after_quoted_newline", "events.csv",
        csv_bytes(HEADER, "2024-01-01,u1,\"two", "lines\",,ios", "", "2024-01-02,u2,login,,ios,x"),
        ("line 5: too many columns",),
    ),
]


@dataclass(frozen=True)
class Refusal:
    source: Path
    assignments: Path | None
    on_existing: subprocess.CompletedProcess
    existing_before: tuple[str, list[str]]
    existing_after: tuple[str, list[str]]
    on_fresh: subprocess.CompletedProcess
    fresh_folder_after: list[str]


def folder_state(db: Path) -> tuple[str, list[str]]:
    """The database's hash and every file beside it (a stray .wal would show up here)."""
    return sha256(db), sorted(path.name for path in db.parent.iterdir())


def refuse(case: Bad, base_db: Path, folder: Path) -> Refusal:
    folder.mkdir()
    source = folder / case.file_name
    if case.content is not None:
        source.write_bytes(case.content)
    extra: list[object] = []
    assignments = None
    if case.assignments:
        assignments = folder / case.assignments[0]
        assignments.write_bytes(case.assignments[1])
        extra = ["--assignments", assignments]
    existing = folder / "existing" / "growth.duckdb"
    existing.parent.mkdir()
    shutil.copy(base_db, existing)
    before = folder_state(existing)
    on_existing = run_cli("load", source, *extra, "--db", existing)
    after = folder_state(existing)
    fresh = folder / "fresh" / "growth.duckdb"
    fresh.parent.mkdir()
    on_fresh = run_cli("load", source, *extra, "--db", fresh)
    return Refusal(
        source, assignments, on_existing, before, after, on_fresh,
        sorted(path.name for path in fresh.parent.iterdir()),
    )


@pytest.fixture(scope="module")
def refusals(loaded_db, tmp_path_factory) -> dict[str, Refusal]:
    """All bad files at once: each is two CLI runs, and they are independent of one another."""
    base_db, result = loaded_db
    assert_loaded(result)
    root = tmp_path_factory.mktemp("refusals")
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {case.name: pool.submit(refuse, case, base_db, root / case.name)
                   for case in BAD_FILES}
        return {name: future.result() for name, future in futures.items()}


def test_there_are_at_least_ten_kinds_of_bad_file():
    assert len({case.name for case in BAD_FILES}) == len(BAD_FILES) >= 10


@pytest.mark.parametrize("case", BAD_FILES, ids=[case.name for case in BAD_FILES])
def test_bad_file_is_refused_and_changes_nothing(refusals, case):
    refusal = refusals[case.name]
    for result in (refusal.on_existing, refusal.on_fresh):
        assert result.returncode != 0
        stderr = result.stderr
        assert "Traceback" not in stderr
        assert "error:" in stderr
        named = refusal.assignments if case.assignments else refusal.source
        assert str(named) in stderr
        assert "nothing was loaded" in stderr
        for fragment in case.expected:
            assert fragment in stderr, f"{fragment!r} not in:\n{stderr}"
        for fragment in case.absent:
            assert fragment not in stderr, f"{fragment!r} in:\n{stderr}"
    assert refusal.existing_after == refusal.existing_before
    assert refusal.fresh_folder_after == []


def test_the_plausible_timestamp_range_is_configurable(tmp_path):
    source = tmp_path / "events.csv"
    source.write_text(HEADER + "\n2024-01-01,u1,login,,ios\n2024-01-03,u2,login,,ios\n")
    db = tmp_path / "db.duckdb"
    refused = run_cli("load", source, "--db", db, env_extra={"LATEST_EVENT_DATE": "2024-01-02"})
    assert refused.returncode == 1 and not db.exists()
    assert ("line 3, column 'event_time': is outside 1970-01-01 .. 2024-01-02: '2024-01-03'"
            in refused.stderr)
    assert_loaded(run_cli("load", source, "--db", db, env_extra={
        "EARLIEST_EVENT_DATE": "2023-12-31", "LATEST_EVENT_DATE": "2024-01-03"}))
    bad = run_cli("load", source, "--db", db, env_extra={"EARLIEST_EVENT_DATE": "soon"})
    assert bad.stderr.strip() == (
        "error: EARLIEST_EVENT_DATE must be a date (YYYY-MM-DD), not 'soon'")


def test_segment_columns_are_capped_and_the_load_says_which_it_kept(tmp_path):
    extra = [f"s{n:02d}" for n in range(60)]
    source = tmp_path / "wide.csv"
    source.write_text("event_time,user_id,event_type," + ",".join(extra) + "\n"
                      + "2024-01-01,u1,login," + ",".join("x" * 60) + "\n")
    db = tmp_path / "db.duckdb"
    result = run_cli("load", source, "--db", db)
    assert_loaded(result)
    stored = [row[0] for row in query(db, "describe events")]
    assert [c for c in stored if c.startswith("s")] == extra[:50]
    assert f"kept 50 segment columns ({', '.join(extra[:50])}); dropped 10" in result.stderr
    # The cap holds over loads: a later file's new columns find no room.
    later = tmp_path / "later.csv"
    later.write_text("event_time,user_id,event_type,s00,late\n2024-01-02,u2,login,y,z\n")
    again = run_cli("load", later, "--db", db)
    assert_loaded(again)
    assert "late" not in [row[0] for row in query(db, "describe events")]
    assert "kept 1 segment columns (s00); dropped 1" in again.stderr
    assert query(db, "select s00 from events order by event_time") == [("x",), ("y",)]
