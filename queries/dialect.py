"""Every SQL difference between the backends, in one place.

The metric SQL in queries/sql/ is written once; the fragments below fill its placeholders.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from queries.periods import Grain

_PARAMETER = re.compile(r"\$([a-z_][a-z0-9_]*)")


@dataclass(frozen=True)
class Dialect:
    name: str = "duckdb"
    float_type: str = "DOUBLE"
    string_type: str = "VARCHAR"

    def to_number(self, column_sql: str) -> str:
        """A text column's value as a float; null where it is not a number."""
        return f"try_cast({column_sql} AS DOUBLE)"

    def quote(self, identifier: str) -> str:
        return '"' + identifier.replace('"', '""') + '"'

    def bind_parameters(self, sql: str) -> str:
        """SQL files write parameters as $name, which DuckDB takes as they are."""
        return sql

    def period_of_timestamp(self, column_sql: str, grain: Grain) -> str:
        """The integer period (see queries/periods.py) of a TIMESTAMP column."""
        epoch_day = f"date_diff('day', DATE '1970-01-01', CAST({column_sql} AS DATE))"
        if grain is Grain.DAY:
            return epoch_day
        if grain is Grain.WEEK:
            # 1970-01-01 is a Thursday: shifting by 3 days makes weeks start on Monday.
            return f"CAST(floor(({epoch_day} + 3) / 7) AS INTEGER)"
        return f"(year({column_sql}) * 12 + month({column_sql}) - 1)"

    def period_start(self, period_sql: str, grain: Grain) -> str:
        """The first day (a DATE) of an integer period."""
        if grain is Grain.DAY:
            return f"DATE '1970-01-01' + CAST({period_sql} AS INTEGER)"
        if grain is Grain.WEEK:
            return f"DATE '1969-12-29' + CAST(7 * {period_sql} AS INTEGER)"
        return f"make_date(CAST(floor({period_sql} / 12) AS INTEGER), {period_sql} % 12 + 1, 1)"

    def in_list(self, column_sql: str, parameter: str) -> str:
        return f"list_contains(${parameter}, {column_sql})"

    def add_seconds(self, timestamp_sql: str, parameter: str) -> str:
        return f"{timestamp_sql} + ${parameter} * INTERVAL 1 SECOND"

    def seconds_between(self, earlier_sql: str, later_sql: str) -> str:
        return f"(epoch({later_sql}) - epoch({earlier_sql}))"

    def days_between(self, earlier_sql: str, later_sql: str) -> str:
        """Whole days from one DATE to a later one."""
        return f"date_diff('day', {earlier_sql}, {later_sql})"

    def median_over(self, expression_sql: str, partition_sql: str) -> str:
        """The exact median of an expression over a window partition (nulls ignored)."""
        return f"quantile_cont({expression_sql}, 0.5) over (partition by {partition_sql})"

    def hash_bucket(self, salt_sql: str, user_sql: str) -> str:
        """A number in [0, 1) from the first 32 bits of md5(salt || user), as on every backend."""
        hex_prefix = f"substr(md5({salt_sql} || {user_sql}), 1, 8)"
        return f"(CAST('0x' || {hex_prefix} AS BIGINT) / 4294967296.0)"

    def integer_series(self, low_sql: str, high_sql: str, column: str) -> str:
        """A FROM item yielding one row per integer from low to high inclusive."""
        # Named after its column, so two series can share a FROM.
        return f"unnest(generate_series({low_sql}, {high_sql})) AS {column}_series({column})"


DUCKDB = Dialect()


@dataclass(frozen=True)
class BigQueryDialect(Dialect):
    """GoogleSQL. Periods avoid DATE_TRUNC(..., WEEK) altogether: BigQuery's WEEK starts on
    Sunday, and day arithmetic gives Monday weeks on BigQuery and on its emulator alike."""

    name: str = "bigquery"
    float_type: str = "FLOAT64"
    string_type: str = "STRING"

    def to_number(self, column_sql: str) -> str:
        return f"SAFE_CAST({column_sql} AS FLOAT64)"

    def quote(self, identifier: str) -> str:
        # Identifiers come from allow-lists (schema.IDENTIFIER), so they hold no backticks.
        return f"`{identifier}`"

    def bind_parameters(self, sql: str) -> str:
        return _PARAMETER.sub(r"@\1", sql)

    def period_of_timestamp(self, column_sql: str, grain: Grain) -> str:
        # DATE() and EXTRACT() of a TIMESTAMP read it in UTC.
        epoch_day = f"DATE_DIFF(DATE({column_sql}), DATE '1970-01-01', DAY)"
        if grain is Grain.DAY:
            return epoch_day
        if grain is Grain.WEEK:
            return f"CAST(FLOOR(({epoch_day} + 3) / 7) AS INT64)"
        return f"(EXTRACT(YEAR FROM {column_sql}) * 12 + EXTRACT(MONTH FROM {column_sql}) - 1)"

    def period_start(self, period_sql: str, grain: Grain) -> str:
        if grain is Grain.DAY:
            return f"DATE_ADD(DATE '1970-01-01', INTERVAL {period_sql} DAY)"
        if grain is Grain.WEEK:
            return f"DATE_ADD(DATE '1969-12-29', INTERVAL 7 * {period_sql} DAY)"
        # The emulator drops the parentheses DIV's arguments need: give them their own.
        return f"DATE(DIV(({period_sql}), 12), MOD(({period_sql}), 12) + 1, 1)"

    def in_list(self, column_sql: str, parameter: str) -> str:
        return f"{column_sql} IN UNNEST(${parameter})"

    def add_seconds(self, timestamp_sql: str, parameter: str) -> str:
        return f"TIMESTAMP_ADD({timestamp_sql}, INTERVAL ${parameter} SECOND)"

    def seconds_between(self, earlier_sql: str, later_sql: str) -> str:
        return f"((UNIX_MICROS({later_sql}) - UNIX_MICROS({earlier_sql})) / 1000000)"

    def days_between(self, earlier_sql: str, later_sql: str) -> str:
        return f"DATE_DIFF({later_sql}, {earlier_sql}, DAY)"

    def median_over(self, expression_sql: str, partition_sql: str) -> str:
        # BigQuery has no exact median aggregate; PERCENTILE_CONT is exact but analytic only.
        return f"PERCENTILE_CONT({expression_sql}, 0.5) OVER (PARTITION BY {partition_sql})"

    def hash_bucket(self, salt_sql: str, user_sql: str) -> str:
        hex_prefix = f"SUBSTR(TO_HEX(MD5(CONCAT({salt_sql}, {user_sql}))), 1, 8)"
        return f"(CAST(CONCAT('0x', {hex_prefix}) AS INT64) / 4294967296.0)"

    def integer_series(self, low_sql: str, high_sql: str, column: str) -> str:
        return f"UNNEST(GENERATE_ARRAY({low_sql}, {high_sql})) AS {column}"


BIGQUERY = BigQueryDialect()
