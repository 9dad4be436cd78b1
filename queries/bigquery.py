"""The BigQuery backend: the metric SQL of queries/sql/, run through google-cloud-bigquery.

Values travel as query parameters; table and column names come only from configuration,
validated here. Every query carries a maximum_bytes_billed cap.

The dashboard itself only reads. `python -m app build` (queries/bigquery_build.py) may write the
per-grain user histories into a dataset of their own (BQ_BUILD_DATASET); views read them while
they match the events, and the events otherwise.
"""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import json
import numbers
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from functools import cached_property

import pandas as pd

from queries import schema, sql_files
from queries.backends import BackendError, NoDataError
from queries.dialect import BIGQUERY
from queries.query_spec import DAY_WINDOW

PROJECT = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")
# The client puts the HTTP request before the server's message; users need only the message.
REQUEST_PREFIX = re.compile(r"^[A-Z]+ https?://\S+: ")
_COMMENT_OR_STRING = re.compile(r"'(?:[^'\\]|\\.)*'|--[^\n]*")
PATH_PART = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,1023}$")
DEFAULT_MAXIMUM_BYTES_BILLED = 10 * 1024**3
THELOOK_DATASET = "bigquery-public-data.thelook_ecommerce"
THELOOK_TABLES = ("events", "users", "orders", "order_items")
THELOOK_SEGMENTS = ("traffic_source", "browser", "country")
GA4_DATASET = "bigquery-public-data.ga4_obfuscated_sample_ecommerce"
GA4_SEGMENTS = ("device_category", "country", "traffic_source")
GA4_SHARD = re.compile(r"^events_[0-9]{8}$")
# The newest daily shards whose changes the data version sees: GA4 may rewrite a day's table up
# to 72 hours later.
GA4_RECENT_SHARDS = 4
PRESETS = ("thelook_ecommerce", "ga4")
# The data version is re-read at most this often: new rows show within a minute.
VERSION_TTL_SECONDS = 60
# The build's record of the days it read (queries/bigquery_build.py).
BUILD_STATE = "build_state"
# Daily tables' suffixes (YYYYMMDD) before and after every date: an open window.
OPEN_SUFFIXES = ("0", "9")


class ConfigurationError(ValueError):
    pass


def table_path(name: str, project: str, dataset: str | None) -> str:
    """`table`, `dataset.table` or `project.dataset.table`, checked part by part."""
    parts = name.split(".")
    if len(parts) == 1:
        if not dataset:
            raise ConfigurationError(f"table {name!r} needs BQ_DATASET or a dataset.table name")
        parts = [*dataset.split("."), name]
    if len(parts) == 2:
        parts = [project, *parts]
    if len(parts) != 3 or not PROJECT.match(parts[0]):
        raise ConfigurationError(f"{name!r} is not a valid BigQuery table (project.dataset.table)")
    for part in parts[1:]:
        if not PATH_PART.match(part):
            raise ConfigurationError(f"{part!r} in {name!r} is not a valid BigQuery name")
    return ".".join(parts)


def column_mapping(text: str | None) -> dict[str, str]:
    """`event_time=created_at,user_id=customer_id`: app column = source column."""
    mapping = {}
    for item in filter(None, (part.strip() for part in (text or "").split(","))):
        target, separator, source = (side.strip() for side in item.partition("="))
        if not separator or not all(schema.IDENTIFIER.match(n) for n in (target, source)):
            raise ConfigurationError(f"column mapping {item!r} is not of the form app=source")
        mapping[target] = source
    return mapping


@dataclass(frozen=True)
class TableSource:
    """A table read through a column mapping: a SELECT that renames, so no data is copied."""

    table: str
    columns: dict[str, str] = field(default_factory=dict)
    # Canonical columns and their types; any other STRING column becomes a segment.
    # (Table schemas name types as the REST API does: STRING, INTEGER, FLOAT, TIMESTAMP.)
    canonical: tuple[tuple[str, str], ...] = ()
    required: tuple[str, ...] = ()

    def select_sql(self, table_columns: dict[str, str]) -> str:
        dialect = BIGQUERY
        items, used = [], set()
        for name, sql_type in self.canonical:
            source = self.columns.get(name, name)
            if source in table_columns:
                items.append(f"CAST({dialect.quote(source)} AS {sql_type}) AS {name}")
            elif name in self.required:
                mapped = f" (mapped from {name})" if source != name else ""
                raise BackendError(
                    f"BigQuery table {self.table} has no column {source!r}{mapped}; set the "
                    "column mapping (BQ_EVENTS_COLUMNS or BQ_ASSIGNMENTS_COLUMNS)"
                )
            else:  # optional columns (revenue, assigned_at) may be missing
                items.append(f"CAST(NULL AS {sql_type}) AS {name}")
            used.add(source)
        for column in self.segment_sources(table_columns, used):
            target = self.target_of(column)
            items.append(f"{dialect.quote(column)} AS {dialect.quote(target)}")
        return f"(SELECT {', '.join(items)} FROM {dialect.quote(self.table)})"

    def segment_sources(self, table_columns: dict[str, str], used: set[str]) -> list[str]:
        canonical = {name for name, _ in self.canonical}
        return [
            column for column, sql_type in table_columns.items()
            if column not in used and sql_type == "STRING"
            and self.target_of(column) not in canonical and schema.IDENTIFIER.match(column)
        ]

    def target_of(self, source: str) -> str:
        renamed = {source_name: target for target, source_name in self.columns.items()}
        return renamed.get(source, source)

    def tables(self) -> tuple[str, ...]:
        return (self.table,)


EVENT_TYPES = (
    ("event_time", "TIMESTAMP"), ("user_id", "STRING"), ("event_type", "STRING"),
    ("revenue", "FLOAT64"),
)
ASSIGNMENT_TYPES = (
    ("experiment", "STRING"), ("user_id", "STRING"), ("variant", "STRING"),
    ("assigned_at", "TIMESTAMP"),
)
NO_ASSIGNMENTS = (
    "(SELECT CAST(NULL AS STRING) AS experiment, CAST(NULL AS STRING) AS user_id, "
    "CAST(NULL AS STRING) AS variant, CAST(NULL AS TIMESTAMP) AS assigned_at LIMIT 0)"
)


@dataclass(frozen=True)
class TheLookSource:
    """bigquery-public-data.thelook_ecommerce: web events, plus one `order` event per order
    (not cancelled) carrying the order's item total as revenue; segments from the users table."""

    dataset: str = THELOOK_DATASET

    def relation(self) -> str:
        tables = {name: f"`{self.dataset}.{name}`" for name in THELOOK_TABLES}
        return f"({sql_files.template('thelook_events').format(**tables)})"

    def tables(self) -> tuple[str, ...]:
        return tuple(f"{self.dataset}.{name}" for name in THELOOK_TABLES)


@dataclass(frozen=True)
class Ga4Source:
    """A Google Analytics 4 export dataset: its daily tables events_YYYYMMDD through a wildcard,
    pruned by suffix to the days a view reads."""

    dataset: str = GA4_DATASET

    def relation(self) -> str:
        sql = sql_files.template("ga4_events").format(events=f"`{self.dataset}.events_*`")
        return f"({BIGQUERY.bind_parameters(sql)})"

    def tables(self, client) -> tuple[str, ...]:
        """The newest daily tables, whose modification times tell when data arrived."""
        shards = sorted(t.table_id for t in client.list_tables(self.dataset)
                        if GA4_SHARD.match(t.table_id))
        return tuple(f"{self.dataset}.{name}" for name in shards[-GA4_RECENT_SHARDS:])


def preset_dataset(project: str, dataset: str | None, default: str) -> str:
    """The preset's dataset as project.dataset, validated."""
    dataset = dataset or default
    if dataset.count(".") == 0:
        dataset = f"{project}.{dataset}"
    table_path("events", *dataset.split(".", 1))  # validates the dataset path
    return dataset


@dataclass(frozen=True)
class BigQuerySettings:
    project: str
    dataset: str | None = None
    location: str | None = None
    events_table: str = "events"
    events_columns: dict[str, str] = field(default_factory=dict)
    assignments_table: str | None = None
    assignments_columns: dict[str, str] = field(default_factory=dict)
    preset: str | None = None
    # Where `build` writes the user histories (needs write access); None: no histories.
    build_dataset: str | None = None
    maximum_bytes_billed: int = DEFAULT_MAXIMUM_BYTES_BILLED
    timeout_seconds: float = 60.0
    # For emulators and tests: an endpoint that needs no Google credentials.
    api_endpoint: str | None = None

    def __post_init__(self):
        if not self.project or not PROJECT.match(self.project):
            raise ConfigurationError(f"BQ_PROJECT {self.project!r} is not a valid project id")
        if self.preset not in (None, "", *PRESETS):
            raise ConfigurationError(
                f"unknown BQ_PRESET {self.preset!r} (known: {', '.join(PRESETS)})"
            )
        if self.maximum_bytes_billed <= 0:
            raise ConfigurationError("BQ_MAXIMUM_BYTES_BILLED must be positive")
        # Table names are checked up front, when the configuration is read.
        self.events_source()
        self.assignments_source()
        self.build_path("build_state")

    def build_path(self, table: str) -> str | None:
        """A table of the build dataset, or None when there is none."""
        if not self.build_dataset:
            return None
        return table_path(table, self.project, self.build_dataset)

    def events_source(self):
        if self.preset == "thelook_ecommerce":
            return TheLookSource(preset_dataset(self.project, self.dataset, THELOOK_DATASET))
        if self.preset == "ga4":
            return Ga4Source(preset_dataset(self.project, self.dataset, GA4_DATASET))
        table = table_path(self.events_table, self.project, self.dataset)
        return TableSource(
            table, self.events_columns, EVENT_TYPES, schema.REQUIRED_EVENT_COLUMNS
        )

    def assignments_source(self) -> TableSource | None:
        if not self.assignments_table:
            return None
        table = table_path(self.assignments_table, self.project, self.dataset)
        return TableSource(
            table, self.assignments_columns, ASSIGNMENT_TYPES, schema.REQUIRED_ASSIGNMENT_COLUMNS
        )


def without_comments(sql: str) -> str:
    """The SQL without `--` comments (string literals kept whole). The SQL files' comments name
    parameters, and the emulator would bind those too; BigQuery does not need them."""
    return _COMMENT_OR_STRING.sub(
        lambda match: match.group(0) if match.group(0).startswith("'") else "", sql
    )


def parameter_type(name: str, value) -> str:
    if isinstance(value, bool):
        return "BOOL"
    if isinstance(value, numbers.Integral):
        return "INT64"
    if isinstance(value, numbers.Real):
        return "FLOAT64"
    if isinstance(value, dt.datetime):
        return "TIMESTAMP"
    if isinstance(value, dt.date):
        return "DATE"
    if value is None:
        # A NULL still needs a type; the SQL files name parameters by what they hold.
        if name.endswith("_time"):
            return "TIMESTAMP"
        if name.endswith(("_seconds", "_period", "_cohort")):
            return "INT64"
    return "STRING"


def with_open_day_window(sql: str, params: dict) -> dict:
    """A source that prunes by day (GA4's daily tables) binds the view's first and last day as
    table suffixes, a day wider on each side; queries that name no days read every table."""
    if f"@{DAY_WINDOW[0]}" not in sql:
        return params
    first, last = (params.get(name) for name in DAY_WINDOW)
    margin = dt.timedelta(days=1)
    return params | {
        DAY_WINDOW[0]: f"{first - margin:%Y%m%d}" if first else OPEN_SUFFIXES[0],
        DAY_WINDOW[1]: f"{last + margin:%Y%m%d}" if last else OPEN_SUFFIXES[1],
    }


def scalar(value):
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)  # the app's timestamps are UTC
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return float(value)
    return value


def query_parameters(params: dict) -> list:
    from google.cloud import bigquery

    parameters = []
    for name, value in params.items():
        if isinstance(value, list | tuple):
            element_type = parameter_type(name, value[0]) if value else "STRING"
            parameters.append(
                bigquery.ArrayQueryParameter(name, element_type, [scalar(v) for v in value])
            )
        else:
            parameters.append(
                bigquery.ScalarQueryParameter(name, parameter_type(name, value), scalar(value))
            )
    return parameters


class BigQueryBackend:
    name = "bigquery"
    dialect = BIGQUERY
    supports_dry_run = True

    def __init__(self, settings: BigQuerySettings):
        self.settings = settings
        self.events = settings.events_source()
        self.assignments = settings.assignments_source()
        self.cache_namespace = f"bigquery:{settings.project}:{self.events}:{self.assignments}"
        self._known_version: tuple[float, str] = (float("-inf"), "0")
        self._built: tuple[float, str, bool] = (float("-inf"), "", False)

    @property
    def materialised_user_periods(self) -> bool:
        """Whether `build` wrote the histories from the events as they are now: after new data
        arrives, views read the events until the next build. Re-checked with the data version
        and at least once a minute (a free metadata read)."""
        if not self.settings.build_dataset:
            return False
        version = self.data_version()
        checked_at, known_version, present = self._built
        if version != known_version or time.monotonic() - checked_at >= VERSION_TTL_SECONDS:
            state = self.build_state()
            present = state is not None and state.get("version") == version
            self._built = (time.monotonic(), version, present)
        return present

    def build_state(self) -> dict | None:
        """What the last build recorded (queries/bigquery_build.py), or None before one."""
        from google.api_core.exceptions import NotFound

        with translated_errors(self.settings):
            try:
                table = self.client.get_table(self.settings.build_path(BUILD_STATE))
            except NotFound:
                return None
        try:
            return json.loads(table.description or "")
        except ValueError:
            return None

    @cached_property
    def client(self):
        from google.cloud import bigquery

        options = {}
        if self.settings.api_endpoint:
            from google.auth.credentials import AnonymousCredentials

            options = {
                "credentials": AnonymousCredentials(),
                "client_options": {"api_endpoint": self.settings.api_endpoint},
            }
        with translated_errors(self.settings):
            return bigquery.Client(
                project=self.settings.project, location=self.settings.location, **options
            )

    @cached_property
    def _table_columns(self) -> dict[str, dict[str, str]]:
        columns = {}
        sources = [s for s in (self.events, self.assignments) if isinstance(s, TableSource)]
        for source in sources:
            with translated_errors(self.settings):
                table = self.client.get_table(source.table)
            columns[source.table] = {f.name: f.field_type for f in table.schema}
        return columns

    def shared_connection(self):
        return nullcontext()  # one client serves every query already

    def relation(self, table: str) -> str:
        if table in schema.materialised_tables() and self.settings.build_dataset:
            return f"`{self.settings.build_path(table)}`"
        if table == schema.EVENTS:
            source = self.events
        elif table == schema.ASSIGNMENTS:
            if self.assignments is None:
                return NO_ASSIGNMENTS
            source = self.assignments
        else:
            raise ValueError(f"no BigQuery relation for {table!r}")
        if isinstance(source, TheLookSource | Ga4Source):
            return source.relation()
        return source.select_sql(self._table_columns[source.table])

    def event_columns(self) -> list[str]:
        if isinstance(self.events, TheLookSource):
            return [name for name, _ in EVENT_TYPES] + list(THELOOK_SEGMENTS)
        if isinstance(self.events, Ga4Source):
            return [name for name, _ in EVENT_TYPES] + list(GA4_SEGMENTS)
        table_columns = self._table_columns[self.events.table]
        used = {self.events.columns.get(name, name) for name, _ in EVENT_TYPES}
        segments = self.events.segment_sources(table_columns, used)
        return [name for name, _ in EVENT_TYPES] + [self.events.target_of(c) for c in segments]

    def _job_config(self, params: dict, dry_run: bool = False):
        from google.cloud import bigquery

        return bigquery.QueryJobConfig(
            query_parameters=query_parameters(params),
            maximum_bytes_billed=self.settings.maximum_bytes_billed,
            dry_run=dry_run,
            use_query_cache=not dry_run,
            labels={"app": "growth-analytics"},
        )

    def _retry(self):
        from google.cloud.bigquery import DEFAULT_RETRY

        # The client retries timeouts for up to ten minutes by default: keep to our own limit.
        return DEFAULT_RETRY.with_timeout(self.settings.timeout_seconds)

    def run(self, sql: str, params: dict) -> pd.DataFrame:
        sql = self.dialect.bind_parameters(without_comments(sql))
        params = with_open_day_window(sql, params)
        timeout = self.settings.timeout_seconds
        with translated_errors(self.settings):
            job = self.client.query(
                sql, job_config=self._job_config(params), timeout=timeout,
                retry=self._retry(), job_retry=None,
            )
            try:
                rows = job.result(timeout=timeout, retry=self._retry(), job_retry=None)
            except concurrent.futures.TimeoutError:
                job.cancel()  # stop the scan (and the bill) rather than leave it running
                raise
            frame = rows.to_arrow(create_bqstorage_client=False).to_pandas()
        frame.attrs["bytes_processed"] = job.total_bytes_processed
        frame.attrs["backend_cache_hit"] = job.cache_hit
        return frame

    def dry_run(self, sql: str, params: dict) -> int:
        """The bytes a query would process, from a free dry run."""
        sql = self.dialect.bind_parameters(without_comments(sql))
        with translated_errors(self.settings):
            job = self.client.query(
                sql, job_config=self._job_config(with_open_day_window(sql, params), dry_run=True),
                timeout=self.settings.timeout_seconds, retry=self._retry(), job_retry=None,
            )
        return int(job.total_bytes_processed or 0)

    def source_tables(self) -> tuple[str, ...]:
        events = (self.events.tables(self.client) if isinstance(self.events, Ga4Source)
                  else self.events.tables())
        return events + (self.assignments.tables() if self.assignments else ())

    def data_version(self) -> str:
        """The latest modification time of the source tables (a free metadata read)."""
        checked_at, version = self._known_version
        if time.monotonic() - checked_at < VERSION_TTL_SECONDS:
            return version
        with translated_errors(self.settings):
            tables = self.source_tables()
            modified = [self.client.get_table(table).modified for table in tables]
        version = max(m.isoformat() for m in modified if m is not None) if any(modified) else "0"
        self._known_version = (time.monotonic(), version)
        return version


def translate(error: Exception, settings: BigQuerySettings) -> BackendError | None:
    """The message a user can act on for the errors BigQuery users meet."""
    from google.api_core import exceptions as api
    from google.auth.exceptions import DefaultCredentialsError

    if isinstance(error, DefaultCredentialsError):
        return BackendError(
            "no Google credentials found: set GOOGLE_APPLICATION_CREDENTIALS to a service "
            "account key file, or run `gcloud auth application-default login`"
        )
    timeouts = concurrent.futures.TimeoutError, api.DeadlineExceeded, api.RetryError, TimeoutError
    if isinstance(error, timeouts) or type(error).__name__ in ("ReadTimeout", "ConnectTimeout"):
        return BackendError(
            f"BigQuery did not answer within {settings.timeout_seconds:g} s; narrow the date "
            "range or raise BQ_TIMEOUT_SECONDS"
        )
    if not isinstance(error, api.GoogleAPICallError):
        return None
    reasons = {str(e.get("reason")) for e in (error.errors or []) if isinstance(e, dict)}
    detail = REQUEST_PREFIX.sub("", error.message.split("\n")[0])
    if "bytesBilledLimitExceeded" in reasons or "maximum bytes billed" in detail.lower():
        return BackendError(
            f"the query would process more than {settings.maximum_bytes_billed:,} bytes "
            "(BQ_MAXIMUM_BYTES_BILLED); narrow the date range or raise the limit"
        )
    if isinstance(error, api.NotFound):
        return NoDataError(
            f"BigQuery could not find a table or dataset ({detail}); check BQ_PROJECT, "
            "BQ_DATASET and the table settings"
        )
    if isinstance(error, api.Forbidden | api.Unauthorized):
        return BackendError(
            f"permission denied by BigQuery ({detail}); the account needs BigQuery Job User on "
            f"project {settings.project} and Data Viewer on the dataset"
        )
    return BackendError(f"BigQuery error: {detail}")


@contextmanager
def translated_errors(settings: BigQuerySettings) -> Iterator[None]:
    try:
        yield
    except BackendError:
        raise
    except Exception as error:
        translated = translate(error, settings)
        if translated is None:
            raise
        raise translated from error
