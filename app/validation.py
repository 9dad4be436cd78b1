"""Reads an input file into a staging table and checks every row before anything is stored.

Problems are reported with the file, line (CSV) or row (Parquet), column and offending value.
"""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import zoneinfo
from dataclasses import dataclass
from pathlib import Path

import duckdb

from app.timestamps import timestamp_reader
from queries import schema
from queries.errors import UserError

MAX_REPORTED = 5
CSV_SUFFIXES = (".csv", ".tsv", ".txt", ".csv.gz", ".tsv.gz")
PARQUET_SUFFIXES = (".parquet", ".pq")
JSON_SUFFIXES = tuple(f"{s}{gz}" for s in (".json", ".ndjson", ".jsonl") for gz in ("", ".gz"))
# Files whose records are lines (messages say "line"; otherwise "row").
LINE_SUFFIXES = (*CSV_SUFFIXES, ".ndjson", ".jsonl", ".ndjson.gz", ".jsonl.gz")


@dataclass(frozen=True)
class Problem:
    message: str
    line: int | None = None
    column: str | None = None
    value: object = None

    def describe(self, by_line: bool) -> str:
        where = []
        if self.line is not None:
            where.append(f"{'line' if by_line else 'row'} {self.line}")
        if self.column is not None:
            where.append(f"column {self.column!r}")
        value = "" if self.value is None else f": {str(self.value)[:80]!r}"
        return f"{', '.join(where) or 'file'}: {self.message}{value}"


class LoadError(UserError):
    """The file was refused and nothing was written; str() is the message for the user."""

    def __init__(self, path: Path | str, problems: list[Problem], total: int | None = None):
        self.path = Path(path)
        self.problems = problems
        self.total = len(problems) if total is None else total
        by_line = self.path.name.lower().endswith(LINE_SUFFIXES)
        lines = [f"{self.path}: refused, nothing was loaded ({self._count()}):"]
        lines += [f"  {problem.describe(by_line)}" for problem in problems[:MAX_REPORTED]]
        if self.total > MAX_REPORTED:
            lines.append(f"  ... and {self.total - MAX_REPORTED} more")
        super().__init__("\n".join(lines))

    def _count(self) -> str:
        return "1 problem" if self.total == 1 else f"{self.total:,} problems"


@dataclass(frozen=True)
class TimestampRange:
    """The timestamps a file may hold. Outside it a value is a mistake (infinity, year 9999, a
    BC date, year 1 from an empty cell in some tool), and one such row would stretch every
    calendar of the dashboard across centuries."""

    earliest: dt.date = dt.date(1970, 1, 1)
    latest: dt.date | None = None  # None: the day after today (UTC), so clocks a little ahead pass

    def sql_params(self) -> dict:
        latest = self.latest or dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)
        return {"earliest_time": dt.datetime.combine(self.earliest, dt.time()),
                "after_latest_time": dt.datetime.combine(latest + dt.timedelta(days=1),
                                                         dt.time()),
                "latest_text": latest.isoformat()}


@dataclass(frozen=True)
class FileKind:
    required: tuple[str, ...]
    timestamp_columns: tuple[str, ...]
    numeric_columns: tuple[str, ...]
    known_columns: tuple[str, ...]
    keeps_extra_columns: bool
    noun: str
    timestamps: TimestampRange = TimestampRange()
    # The user's names for mapped columns (canonical -> theirs), for messages.
    labels: tuple[tuple[str, str], ...] = ()
    zone: zoneinfo.ZoneInfo | None = None  # naive timestamps' zone; None: UTC

    def label(self, column: str) -> str:
        return dict(self.labels).get(column, column)


EVENTS_KIND = FileKind(
    required=schema.REQUIRED_EVENT_COLUMNS,
    timestamp_columns=("event_time",),
    numeric_columns=("revenue",),
    known_columns=schema.EVENT_COLUMNS,
    keeps_extra_columns=True,
    noun="events",
)
ASSIGNMENTS_KIND = FileKind(
    required=schema.REQUIRED_ASSIGNMENT_COLUMNS,
    timestamp_columns=("assigned_at",),
    numeric_columns=(),
    known_columns=schema.ASSIGNMENT_COLUMNS,
    keeps_extra_columns=False,
    noun="assignments",
)


def file_format(path: Path) -> str:
    name = path.name.lower()
    if name.endswith(CSV_SUFFIXES):
        return "csv"
    if name.endswith(PARQUET_SUFFIXES):
        return "parquet"
    if name.endswith(JSON_SUFFIXES):
        return "json"
    raise LoadError(path, [Problem(
        "unsupported file type: use .csv, .tsv, .parquet, .json or .ndjson")])


def stage_file(connection: duckdb.DuckDBPyConnection, path: Path, table: str, kind: FileKind):
    """Creates `table` in the (in-memory) connection from the file, or raises LoadError."""
    if not path.is_file():
        raise LoadError(path, [Problem("no such file")])
    fmt = file_format(path)
    if fmt == "json":
        raise LoadError(path, [Problem(f"{kind.noun} are read from CSV or Parquet; JSON is"
                                       " read for events")])
    if fmt == "csv":
        header, delimiter = read_csv_header(path)
        check_columns(path, header, kind)
        stage_csv(connection, path, table, delimiter)
    else:
        stage_parquet(connection, path, table)
        columns = [row[0] for row in connection.execute(f"describe {table}").fetchall()]
        check_columns(path, columns, kind)
    check_values(connection, path, table, kind, fmt)


def stage_raw(connection: duckdb.DuckDBPyConnection, path: Path, table: str) -> str:
    """Reads the file as it is into `table` (CSV as text, JSON as one object a row); returns
    its format. Used for files whose columns are mapped before they are checked."""
    if not path.is_file():
        raise LoadError(path, [Problem("no such file")])
    fmt = file_format(path)
    if fmt == "csv":
        header, delimiter = read_csv_header(path)
        refuse_repeated_columns(path, header)
        stage_csv(connection, path, table, delimiter)
    elif fmt == "parquet":
        stage_parquet(connection, path, table)
    else:
        stage_json(connection, path, table)
    if not connection.execute(f"select count(*) from {table}").fetchall()[0][0]:
        raise LoadError(path, [Problem("the file holds no events")])
    return fmt


def repeated_columns(columns: list[str]) -> dict[int, Problem]:
    """Header positions (from 1) of names seen before: DuckDB names are case-insensitive, so
    'Platform' next to 'platform' is the same column."""
    seen: set[str] = set()
    repeated = {}
    for number, name in enumerate(columns, start=1):
        if name.lower() in seen:
            repeated[number] = Problem(f"column #{number} ({name!r}) appears twice in the header",
                                       line=1)
        seen.add(name.lower())
    return repeated


def refuse_repeated_columns(path: Path, header: list[str]) -> None:
    repeated = repeated_columns(header)
    if repeated:
        raise LoadError(path, list(repeated.values()))


def stage_json(connection: duckdb.DuckDBPyConnection, path: Path, table: str) -> None:
    """JSON (an array of objects) or NDJSON (an object per line), one object per row."""
    try:
        connection.execute(
            f"create table {table} as select json from read_json_objects($path, format = 'auto')",
            {"path": str(path)},
        )
    except duckdb.Error as error:
        raise LoadError(path, [locate_json_problem(path, error)]) from error
    not_objects = connection.execute(
        f"select rowid, json from {table} where json_type(json) != 'OBJECT' order by rowid limit 1"
    ).fetchall()
    if not_objects:
        record, text = not_objects[0]
        raise LoadError(path, [Problem("is not a JSON object", line=json_lines(path, [record])
                                       .get(record, record + 1), value=text)])


def locate_json_problem(path: Path, error: duckdb.Error) -> Problem:
    """The line and column of the first syntax error, from Python's own parser."""
    import json

    try:
        with open_text(path) as handle:
            text = handle.read()
    except UnicodeDecodeError as decode_error:
        return Problem(f"not UTF-8 text ({decode_error.reason})")
    try:
        if text.lstrip().startswith("["):
            json.loads(text)
        else:
            for number, line in enumerate(text.splitlines(), start=1):
                if line.strip():
                    try:
                        json.loads(line)
                    except json.JSONDecodeError as line_error:
                        return Problem(f"malformed JSON ({line_error.msg}) at column"
                                       f" {line_error.colno}", line=number, value=line)
    except json.JSONDecodeError as file_error:
        return Problem(f"malformed JSON ({file_error.msg}) at column {file_error.colno}",
                       line=file_error.lineno)
    return Problem(f"unreadable JSON: {str(error).strip().splitlines()[0]}")


def json_lines(path: Path, records: list[int]) -> dict[int, int]:
    """Physical lines of NDJSON records (0-based): DuckDB skips blank lines. A JSON array has
    no line per record: its records are numbered from 1."""
    if not path.name.lower().endswith(LINE_SUFFIXES):
        return {record: record + 1 for record in records}
    wanted, lines, record = set(records), {}, 0
    with open_binary(path) as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            if record in wanted:
                lines[record] = number
            record += 1
            if record > max(wanted):
                break
    return lines


def read_csv_header(path: Path) -> tuple[list[str], str]:
    # Decode only the first line: a text handle decodes a whole block, so a bad byte further
    # down would be blamed on the header; DuckDB reports those with their own line.
    raw_line = first_raw_line(path)
    try:
        first_line = raw_line.decode("utf-8-sig")  # Excel writes a byte-order mark
    except UnicodeDecodeError as error:
        raise LoadError(path, [Problem(f"not UTF-8 text ({error.reason})", line=1)]) from error
    if not first_line.strip():
        raise LoadError(path, [Problem("the file is empty: expected a header line")])
    bare_return = first_line.rstrip("\r\n").find("\r")
    if bare_return >= 0:
        raise LoadError(path, [Problem(
            f"a carriage return alone ends the line at character {bare_return + 1}: lines must"
            " end with \\n or \\r\\n (re-save the file with Unix or Windows line endings)",
            line=1)])
    dialect = sniff_dialect(first_line)
    try:
        return next(csv.reader([first_line], dialect)), dialect.delimiter
    except csv.Error as error:
        raise LoadError(path, [Problem(f"the header cannot be read: {error}", line=1)]) from None


def first_raw_line(path: Path) -> bytes:
    """The first line's bytes; a .gz that is not gzip is refused by name."""
    try:
        with open_binary(path) as handle:
            return handle.readline()
    except (OSError, EOFError) as error:  # gzip.BadGzipFile is an OSError
        if path.name.lower().endswith(".gz"):
            raise LoadError(path, [Problem(f"not a gzip file ({error})")]) from None
        raise


def open_text(path: Path):
    if path.name.lower().endswith(".gz"):
        import gzip

        return gzip.open(path, "rt", encoding="utf-8", newline="")
    return path.open(encoding="utf-8", newline="")


def open_binary(path: Path):
    if path.name.lower().endswith(".gz"):
        import gzip

        return gzip.open(path, "rb")
    return path.open("rb")


def sniff_dialect(sample: str) -> type[csv.Dialect]:
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        return csv.excel


def check_columns(path: Path, columns: list[str], kind: FileKind) -> None:
    problems = []
    repeated = repeated_columns(columns)
    # Names are case-insensitive: 'Revenue' or 'LOAD_ID' would collide with the stored table's
    # own columns.
    reserved = {c.lower() for c in schema.INTERNAL_COLUMNS}
    canonical = {c.lower(): c for c in kind.known_columns}
    for number, name in enumerate(columns, start=1):
        label = f"#{number} ({name!r})"
        folded = name.lower()
        if number in repeated:
            problems.append(repeated[number])
        elif not schema.IDENTIFIER.match(name):
            problems.append(
                Problem(f"column {label} is not a plain name (letters, digits, _)", line=1)
            )
        elif folded in reserved:
            problems.append(Problem(f"column {label} is reserved for the loader", line=1))
        elif canonical.get(folded, name) != name:
            problems.append(
                Problem(f"column {label} must be written {canonical[folded]!r}", line=1)
            )
    present = {name.lower() for name in columns}
    for name in kind.required:
        if name not in present:
            problems.append(Problem(f"required column {name!r} is missing from the header"))
    if problems:
        raise LoadError(path, problems)


def stage_csv(
    connection: duckdb.DuckDBPyConnection, path: Path, table: str, delimiter: str
) -> None:
    # The delimiter the header was checked with: left to sniff on its own, DuckDB reads a file
    # it cannot parse (an unclosed quote) as one column named after the whole header line.
    try:
        connection.execute(
            f"create table {table} as select * from read_csv($path, header = true,"
            " all_varchar = true, store_rejects = true, quote = '\"', escape = '\"',"
            " delim = $delimiter)",
            {"path": str(path), "delimiter": delimiter},
        )
    except duckdb.Error as error:
        raise LoadError(path, locate_csv_structure_problems(path, error)) from error
    rejects = connection.execute(
        "select line_byte_position, column_name, error_type, csv_line from reject_errors"
        " order by line_byte_position, column_idx"
    ).fetchall()
    if rejects:
        # DuckDB's `line` counts records, not lines: a quoted newline earlier shifts it.
        lines = byte_lines(path, [row[0] for row in rejects])
        problems = [
            Problem(error_type.lower().replace("_", " "), line=lines[at], column=column, value=text)
            for at, column, error_type, text in rejects
        ]
        raise LoadError(path, problems)


def byte_lines(path: Path, positions: list[int]) -> dict[int, int]:
    """Physical line number (1-based) of each byte offset: one more than the newlines before."""
    lines, newlines, offset = {}, 0, 0
    with open_binary(path) as handle:
        for position in sorted(set(positions)):
            while offset < position:
                block = handle.read(min(1 << 20, position - offset))
                if not block:
                    break
                newlines += block.count(b"\n")
                offset += len(block)
            lines[position] = newlines + 1
    return lines


def locate_csv_structure_problems(path: Path, error: duckdb.Error) -> list[Problem]:
    """DuckDB cannot read the file at all; find the first broken line with the csv module."""
    start = 1  # where the record being read begins: an unclosed quote fails at the file's end
    try:
        with open_text(path) as handle:
            dialect = sniff_dialect(handle.readline())
            handle.seek(0)
            reader = csv.reader(handle, dialect, strict=True)
            width = len(next(reader))
            start = reader.line_num + 1
            for record in reader:
                if record and len(record) != width:
                    return [
                        Problem(
                            f"expected {width} fields, found {len(record)}",
                            line=start,
                            value=dialect.delimiter.join(record),
                        )
                    ]
                start = reader.line_num + 1
    except csv.Error as csv_error:
        return [Problem(f"malformed CSV ({csv_error})", line=start)]
    except UnicodeDecodeError as decode_error:
        return [Problem(f"not UTF-8 text ({decode_error.reason})")]
    first_line = str(error).strip().splitlines()[0]
    return [Problem(f"unreadable CSV: {first_line}")]


def stage_parquet(connection: duckdb.DuckDBPyConnection, path: Path, table: str) -> None:
    try:
        connection.execute(
            f"create table {table} as select * from read_parquet($path)", {"path": str(path)}
        )
    except duckdb.Error as error:
        first_line = str(error).strip().splitlines()[0]
        raise LoadError(path, [Problem(f"not a readable Parquet file: {first_line}")]) from error


def value_checks(kind: FileKind, types: dict[str, str],
                 readers: dict[str, str]) -> list[tuple[str, str, str]]:
    """(column, SQL condition that flags a bad value, message) for each check; `readers` holds
    each timestamp column's SQL as a UTC timestamp."""
    checks = []
    for name in kind.required:
        if name not in kind.timestamp_columns:
            checks.append((name, f"nullif(trim(cast({name} as varchar)), '') is null", "is empty"))
    for name in kind.timestamp_columns:
        if name in types:
            value = readers[name]
            flagged = f"{name} is not null and {value} is null"
            if name in kind.required:
                flagged = f"{name} is null or {value} is null"
            checks.append((name, flagged, "is not a timestamp"))
            checks.append((name, f"{value} < $earliest_time or {value} >= $after_latest_time",
                           f"is outside {kind.timestamps.earliest} .. {{latest}}"))
    for name in kind.numeric_columns:
        if name in types:
            number = f"try_cast({name} as double)"
            flagged = f"{name} is not null and ({number} is null or not isfinite({number}))"
            checks.append((name, flagged, "is not a number"))
    return checks


def timestamp_readers(connection, table: str, kind: FileKind, types: dict[str, str]) -> dict:
    """SQL for each of the kind's timestamp columns in `table`, as a UTC timestamp."""
    return {
        name: timestamp_reader(connection, table, name, types[name], kind.zone).sql(
            name, types[name])
        for name in kind.timestamp_columns if name in types
    }


def check_values(connection, path: Path, table: str, kind: FileKind, fmt: str) -> None:
    types = {row[0]: row[1] for row in connection.execute(f"describe {table}").fetchall()}
    total_rows = connection.execute(f"select count(*) from {table}").fetchall()[0][0]
    if total_rows == 0:
        only = ", only a header" if fmt == "csv" else ""
        raise LoadError(path, [Problem(f"the file holds no {kind.noun}{only}")])
    params = kind.timestamps.sql_params()
    selects = [
        f"select rowid as record, '{name}' as column_name, cast({name} as varchar) as value,"
        f" '{message.format(latest=params['latest_text'])}' as message from {table}"
        f" where {flagged}"
        for name, flagged, message in value_checks(
            kind, types, timestamp_readers(connection, table, kind, types))
    ]
    union = " union all ".join(selects)
    bound = {key: value for key, value in params.items() if f"${key}" in union}
    total = connection.execute(f"select count(*) from ({union})", bound).fetchall()[0][0]
    if not total:
        return
    rows = connection.execute(
        f"select * from ({union}) order by record, column_name limit {MAX_REPORTED}", bound
    ).fetchall()
    records = [row[0] for row in rows]
    lines = (record_lines(path, records) if fmt == "csv"
             else json_lines(path, records) if fmt == "json" else None)
    problems = [
        Problem(
            message if value is not None or message != "is not a timestamp" else "is empty",
            line=(lines[record] if lines else record + 1),
            column=kind.label(column),
            value=value,
        )
        for record, column, value, message in rows
    ]
    raise LoadError(path, problems, total)


def record_lines(path: Path, records: list[int]) -> dict[int, int]:
    """Physical line numbers of CSV data records (0-based), exact even with quoted newlines."""
    wanted, lines = set(records), {}
    with open_text(path) as handle:
        dialect = sniff_dialect(handle.readline())
        handle.seek(0)
        reader = csv.reader(handle, dialect)
        next(reader)
        previous_end = reader.line_num
        for record in itertools.count():
            if record > max(wanted):
                break
            try:
                row = next(reader)
                # DuckDB skips blank lines; the csv module returns them as empty records.
                while not row:
                    previous_end = reader.line_num
                    row = next(reader)
            except StopIteration:
                break
            if record in wanted:
                lines[record] = previous_end + 1
            previous_end = reader.line_num
    return lines
