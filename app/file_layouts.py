"""Events files in other tools' layouts: a column mapping, the export layouts of PostHog, Segment,
Amplitude and Mixpanel, and nested JSON properties as segment columns.

The file is read as it is (CSV as text, Parquet as typed, JSON and NDJSON with DuckDB's
read_json_objects), then one CREATE TABLE ... AS SELECT gives it the app's column names. A
source is a column, a path into a JSON column (`properties.time`), or alternatives tried in
turn (`userId|anonymousId`). JSON paths reach DuckDB as bound parameters, since keys come from
the user and the data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property

from app.validation import LoadError, Problem
from queries import schema
from queries.dialect import DUCKDB
from queries.errors import UserError

RAW_TABLE = "raw_file"
JSON_COLUMN = "json"  # read_json_objects' one column
# A property becomes a segment by default when it has at most this many distinct values:
# more would make a dropdown no one scrolls and a breakdown of slivers.
LOW_CARDINALITY = 50
DEFAULT_SEGMENTS = 20
# Keys looked at per properties column, the most frequent first.
MAX_CANDIDATE_KEYS = 200
MAX_ALTERNATIVES = 4


@dataclass(frozen=True)
class Layout:
    """Where a tool's export keeps the app's columns, and its JSON properties columns."""

    fields: dict[str, tuple[str, ...]]
    properties: tuple[str, ...] = ()


LAYOUTS = {
    "posthog": Layout(
        {"event_time": ("timestamp",), "user_id": ("distinct_id",), "event_type": ("event",)},
        ("properties",),
    ),
    "segment": Layout(
        {"event_time": ("timestamp",), "user_id": ("userId", "anonymousId"),
         "event_type": ("event",)},
        ("properties",),
    ),
    "amplitude": Layout(
        {"event_time": ("event_time",), "user_id": ("user_id",), "event_type": ("event_type",)},
        ("event_properties",),
    ),
    "mixpanel": Layout(
        {"event_time": ("properties.time",), "user_id": ("properties.distinct_id",),
         "event_type": ("event",)},
        ("properties",),
    ),
}


class MappingError(UserError):
    """A --map or --format the loader cannot follow (before any file is read)."""


def parse_mapping(text: str | None) -> dict[str, tuple[str, ...]]:
    """`event_time=timestamp,user_id=userId|anonymousId,plan=properties.plan`: each app column
    (a canonical one, or a new segment column) from a source, or from alternatives in turn."""
    mapping: dict[str, tuple[str, ...]] = {}
    for item in filter(None, (part.strip() for part in (text or "").split(","))):
        target, separator, sources = (side.strip() for side in item.partition("="))
        alternatives = tuple(s.strip() for s in sources.split("|") if s.strip())
        if not separator or not alternatives or len(alternatives) > MAX_ALTERNATIVES:
            raise MappingError(f"--map: {item!r} is not of the form column=source")
        if not schema.IDENTIFIER.match(target) or target in schema.INTERNAL_COLUMNS:
            raise MappingError(f"--map: {target!r} is not a column name the app can store")
        for source in alternatives:
            if any(not part or '"' in part for part in source.split(".")):
                raise MappingError(
                    f"--map: {source!r} is not a column or a path such as properties.key")
        mapping[target] = alternatives
    return mapping


def parse_segments(text: str | None) -> tuple[str, ...] | None:
    if text is None:
        return None
    return tuple(filter(None, (part.strip() for part in text.split(","))))


@dataclass(frozen=True)
class LoadOptions:
    """How an events file's columns become the app's (`load`'s --format, --map, --segments and
    --timezone)."""

    layout: str | None = None
    mapping: dict[str, tuple[str, ...]] = field(default_factory=dict)
    segments: tuple[str, ...] | None = None
    timezone: str | None = None

    def __post_init__(self):
        if self.layout is not None and self.layout not in LAYOUTS:
            raise MappingError(
                f"--format: unknown format {self.layout!r} (known: {', '.join(sorted(LAYOUTS))})"
            )

    def reshapes(self, file_format: str) -> bool:
        """Whether the file goes through the mapping; a plain CSV or Parquet file in the app's
        own columns is checked and stored as before."""
        return bool(self.layout or self.mapping or self.segments is not None
                    or file_format == "json")

    def fields(self) -> dict[str, tuple[str, ...]]:
        """Each canonical column's sources: the layout's, then the mapping's over them."""
        layout = LAYOUTS[self.layout].fields if self.layout else {}
        canonical = {name: layout.get(name, (name,)) for name in schema.EVENT_COLUMNS}
        return canonical | {k: v for k, v in self.mapping.items() if k in schema.EVENT_COLUMNS}

    def mapped_segments(self) -> dict[str, tuple[str, ...]]:
        return {k: v for k, v in self.mapping.items() if k not in schema.EVENT_COLUMNS}

    def property_columns(self) -> tuple[str, ...]:
        return LAYOUTS[self.layout].properties if self.layout else ()

    def labels(self) -> dict[str, str]:
        """Canonical column -> the user's own name for it, for messages."""
        return {name: " or ".join(sources) for name, sources in self.fields().items()
                if sources != (name,)}


@dataclass(frozen=True)
class Candidate:
    """A possible segment column: its stored name, its SQL over the raw file, the user's name."""

    name: str
    sql: str
    label: str


class RawFile:
    """The file as read, and SQL for any source in it."""

    def __init__(self, connection, path, file_format: str):
        self.connection, self.path, self.format = connection, path, file_format
        described = connection.execute(f"describe {RAW_TABLE}").fetchall()
        self.types = {row[0]: row[1] for row in described}
        self.params: dict[str, str] = {}

    @property
    def is_json(self) -> bool:
        return self.format == "json"

    def column(self, name: str) -> str | None:
        if self.is_json:
            return None
        if name in self.types:
            return name
        folded = {c.lower(): c for c in self.types}
        return folded.get(name.lower())

    def json_text(self, column: str) -> str:
        kind = self.types[column].upper()
        quoted = DUCKDB.quote(column)
        return f"to_json({quoted})" if kind.startswith(("STRUCT", "MAP")) else quoted

    def bind(self, keys: list[str]) -> str:
        path = "$" + "".join(f'."{key}"' for key in keys)
        name = next((n for n, p in self.params.items() if p == path), f"path_{len(self.params)}")
        self.params[name] = path
        return f"${name}"

    def params_for(self, sql: str) -> dict[str, str]:
        """The bound paths `sql` uses: DuckDB refuses a parameter the statement lacks."""
        used = set(re.findall(r"\$(path_[0-9]+)\b", sql))
        return {name: path for name, path in self.params.items() if name in used}

    def execute(self, sql: str):
        return self.connection.execute(sql, self.params_for(sql))

    def value_sql(self, source: str) -> str | None:
        """SQL for a source's values, or None when the file has no such column."""
        if self.is_json:
            if source.split(".")[0] not in self.top_level_keys:
                return None
            return f"json_extract_string({JSON_COLUMN}, {self.bind(source.split('.'))})"
        column = self.column(source)
        if column is not None:
            return DUCKDB.quote(column)
        head, _, rest = source.partition(".")
        column = self.column(head)
        if column is None or not rest:
            return None
        return f"json_extract_string({self.json_text(column)}, {self.bind(rest.split('.'))})"

    def sources_sql(self, sources: tuple[str, ...]) -> str | None:
        found = [sql for sql in map(self.value_sql, sources) if sql is not None]
        if not found:
            return None
        if len(found) == 1:
            return found[0]
        first_filled = ", ".join(f"nullif(trim({sql}), '')" for sql in found)
        return f"coalesce({first_filled})"

    @cached_property
    def top_level_keys(self) -> list[str]:
        return self.keys_of(JSON_COLUMN) if self.is_json else list(self.types)

    def keys_of(self, json_sql: str) -> list[str]:
        rows = self.execute(
            f"select key, count(*) as uses from (select unnest(json_keys({json_sql})) as key"
            f" from {RAW_TABLE} where json_type({json_sql}) = 'OBJECT')"
            f" group by key order by uses desc, key limit {MAX_CANDIDATE_KEYS}"
        ).fetchall()
        return [row[0] for row in rows]

    def property_json(self, column: str) -> str | None:
        if self.is_json:
            return f"json_extract({JSON_COLUMN}, {self.bind([column])})"
        found = self.column(column)
        return self.json_text(found) if found else None


def segment_name(key: str) -> str:
    """A stored column name for a property key: `$browser` -> `browser`, `Plan Name` ->
    `Plan_Name`."""
    name = re.sub(r"[^A-Za-z0-9_]+", "_", key).strip("_")[:63]
    return f"p_{name}"[:63] if not name or name[0].isdigit() else name


def candidates(raw: RawFile, options: LoadOptions, used: set[str]) -> list[Candidate]:
    """Every column or property that could be a segment, under unique stored names."""
    properties = set(options.property_columns())
    found, names = [], set(schema.EVENT_COLUMNS) | set(schema.INTERNAL_COLUMNS)
    for key in raw.top_level_keys:
        if key not in used and key not in properties and '"' not in key:
            found.append(Candidate(segment_name(key), raw.value_sql(key), key))
    for column in options.property_columns():
        json_sql = raw.property_json(column)
        if json_sql is None:
            continue
        for key in raw.keys_of(json_sql):
            path = f"{column}.{key}"
            if path not in used and '"' not in key:  # a quote cannot be written in a path
                sql = f"json_extract_string({json_sql}, {raw.bind([key])})"
                found.append(Candidate(segment_name(key), sql, path))
    unique = []
    for candidate in found:
        if candidate.name.lower() not in names:
            names.add(candidate.name.lower())
            unique.append(candidate)
    return unique


def chosen_segments(raw: RawFile, options: LoadOptions, found: list[Candidate]) -> list[Candidate]:
    if options.segments is not None:
        by_name = {c.name: c for c in found} | {c.label: c for c in found}
        unknown = [name for name in options.segments if name not in by_name]
        if unknown:
            offered = ", ".join(c.name for c in found[:30]) or "none"
            raise LoadError(raw.path, [Problem(
                f"--segments names {', '.join(map(repr, unknown))}, which the file does not"
                f" hold (it offers: {offered})")])
        return list(dict.fromkeys(by_name[name] for name in options.segments))
    if not options.layout:
        return found  # the app's own layout: every other column is a segment, as before
    return low_cardinality(raw, found)


def low_cardinality(raw: RawFile, found: list[Candidate]) -> list[Candidate]:
    """The most filled-in candidates with few distinct values, at most DEFAULT_SEGMENTS."""
    if not found:
        return []
    aggregates = ", ".join(
        f"count(distinct {c.sql}), count({c.sql})" for c in found
    )
    counts = raw.execute(f"select {aggregates} from {RAW_TABLE}").fetchall()[0]
    scored = []
    for index, candidate in enumerate(found):
        distinct, filled = counts[2 * index], counts[2 * index + 1]
        if 0 < distinct <= LOW_CARDINALITY and distinct < filled:
            scored.append((-filled, distinct, index, candidate))
    return [candidate for *_, candidate in sorted(scored)[:DEFAULT_SEGMENTS]]


def shape_events(connection, path, file_format: str, table: str,
                 options: LoadOptions) -> dict[str, str]:
    """Creates `table` in the app's columns from the raw file; returns its segment columns,
    each with its source in the file."""
    raw = RawFile(connection, path, file_format)
    header_line = 1 if file_format == "csv" else None
    selects, used, problems = {}, set(), []
    for name, sources in options.fields().items():
        sql = raw.sources_sql(sources)
        used.update(sources)
        if sql is None and name in schema.REQUIRED_EVENT_COLUMNS:
            label = " or ".join(map(repr, sources))
            mapped = "" if sources == (name,) else f" (for {name})"
            problems.append(Problem(f"column {label}{mapped} is not in the file",
                                    line=header_line))
        selects[name] = sql or "null"
    for name, sources in options.mapped_segments().items():
        sql = raw.sources_sql(sources)
        if sql is None:
            problems.append(Problem(f"column {' or '.join(map(repr, sources))} (for {name})"
                                    " is not in the file"))
        selects[name] = sql or "null"
        used.update(sources)
    if problems:
        raise LoadError(path, problems)
    used |= {source.split(".")[0] for sources in options.fields().values() for source in sources
             if source.split(".")[0] not in options.property_columns()}
    segments = chosen_segments(raw, options, candidates(raw, options, used | set(selects)))
    selects |= {c.name: f"cast({c.sql} as varchar)" for c in segments}
    columns = ", ".join(f"{sql} as {DUCKDB.quote(name)}" for name, sql in selects.items())
    raw.execute(f"create table {table} as select {columns} from {RAW_TABLE}")
    mapped = {name: " or ".join(sources) for name, sources in options.mapped_segments().items()}
    return {c.name: c.label for c in segments} | mapped
