"""Any common timestamp form as a UTC TIMESTAMP, in DuckDB SQL and without its ICU extension
(which would have to be downloaded): epoch seconds, milliseconds or microseconds; ISO text with
an offset or `Z`; and naive text or timestamps, read in a named time zone.

The zone's offsets come from Python's zoneinfo and reach the SQL as a CASE over the zone's
transitions in the years the data covers (a handful of branches a year).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass

from queries.errors import UserError

# Epoch numbers are told apart by size, as BigQuery's and most tools' importers do: below 1e11
# a number is seconds (until year 5138), below 1e14 milliseconds, below 1e17 microseconds.
EPOCH_SECONDS_BELOW = 1e11
EPOCH_MILLISECONDS_BELOW = 1e14
EPOCH_MICROSECONDS_BELOW = 1e17
NUMBER = r"^\s*-?[0-9]+(\.[0-9]+)?\s*$"
# An offset after a time of day (a date alone ends in -DD, which is no offset).
HAS_OFFSET = r"[0-9]:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?\s*([zZ]|[+-][0-9]{2}(:?[0-9]{2})?)\s*$"


class TimeZoneError(UserError):
    pass


def time_zone(name: str | None) -> zoneinfo.ZoneInfo | None:
    """The zone naive timestamps are read in; None for UTC."""
    if not name or name.upper() in ("UTC", "Z", "ETC/UTC"):
        return None
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise TimeZoneError(
            f"unknown time zone {name!r}: use an IANA name such as Europe/Berlin or UTC"
        ) from None


@dataclass(frozen=True)
class Offset:
    """Local times before `local_end` (in this and earlier intervals) are `seconds` ahead of
    UTC."""

    local_end: dt.datetime | None  # None: the last interval
    seconds: int


def offsets(zone: zoneinfo.ZoneInfo, first_year: int, last_year: int) -> list[Offset]:
    """The zone's offset intervals from `first_year` to `last_year`, in local time. Found by
    stepping through UTC half an hour at a time: transitions fall on whole or half hours in
    every zone in use since 1970."""
    start = dt.datetime(first_year - 1, 12, 31, tzinfo=dt.UTC)
    end = dt.datetime(last_year + 1, 1, 2, tzinfo=dt.UTC)
    step = dt.timedelta(minutes=30)
    intervals, current, moment = [], start.astimezone(zone).utcoffset(), start
    while moment < end:
        moment += step
        offset = moment.astimezone(zone).utcoffset()
        if offset != current:
            local_end = (moment + current).replace(tzinfo=None)
            intervals.append(Offset(local_end, int(current.total_seconds())))
            current = offset
    intervals.append(Offset(None, int(current.total_seconds())))
    return intervals


def local_to_utc_sql(value: str, intervals: list[Offset]) -> str:
    """`value` (a naive TIMESTAMP in the zone) in UTC. A time the clocks skipped takes the
    later offset; one they passed twice, the first (daylight) reading."""
    branches = " ".join(
        f"when {value} < timestamp '{interval.local_end:%Y-%m-%d %H:%M:%S}'"
        f" then {value} - to_seconds({interval.seconds})"
        for interval in intervals[:-1]
    )
    if not branches:
        return f"({value} - to_seconds({intervals[-1].seconds}))"
    return f"(case {branches} else {value} - to_seconds({intervals[-1].seconds}) end)"


def epoch_sql(number: str) -> str:
    """A number of seconds, milliseconds or microseconds since 1970 (told apart by size)."""
    return (
        f"(case when abs({number}) < {EPOCH_SECONDS_BELOW:.0f}"
        f" then make_timestamp(cast(round({number} * 1e6) as bigint))"
        f" when abs({number}) < {EPOCH_MILLISECONDS_BELOW:.0f}"
        f" then make_timestamp(cast(round({number} * 1e3) as bigint))"
        f" when abs({number}) < {EPOCH_MICROSECONDS_BELOW:.0f}"
        f" then make_timestamp(cast(round({number}) as bigint)) end)"
    )


@dataclass(frozen=True)
class TimestampReader:
    """SQL that turns one staged column into a UTC TIMESTAMP, or NULL where it is none."""

    zone: zoneinfo.ZoneInfo | None = None
    intervals: tuple[Offset, ...] = ()

    def naive(self, value: str) -> str:
        return local_to_utc_sql(value, list(self.intervals)) if self.zone else value

    def sql(self, column: str, staged_type: str) -> str:
        staged_type = staged_type.upper()
        if staged_type in ("TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ"):
            return f"cast({column} as timestamp)"  # the session's zone is UTC
        if staged_type.startswith("TIMESTAMP") or staged_type == "DATE":
            return self.naive(f"cast({column} as timestamp)")
        if staged_type in NUMERIC_TYPES or staged_type.startswith("DECIMAL"):
            return epoch_sql(f"cast({column} as double)")
        text = f"trim(cast({column} as varchar))"
        number = epoch_sql(f"cast({text} as double)")
        epoch = f"case when regexp_matches({text}, '{NUMBER}') then {number} end"
        if self.zone is None:  # text with or without an offset parses in one cast (as UTC)
            return f"coalesce(cast(try_cast({text} as timestamptz) as timestamp), {epoch})"
        return (
            f"(case when regexp_matches({text}, '{NUMBER}') then {number}"
            f" when regexp_matches({text}, '{HAS_OFFSET}')"
            f" then cast(try_cast({text} as timestamptz) as timestamp)"
            f" else {self.naive(f'try_cast({text} as timestamp)')} end)"
        )


NUMERIC_TYPES = {
    "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
    "UINTEGER", "UBIGINT", "FLOAT", "DOUBLE", "REAL",
}


def timestamp_reader(connection, table: str, column: str, staged_type: str,
                     zone: zoneinfo.ZoneInfo | None) -> TimestampReader:
    """The reader for a staged column; a zone's transitions are those of the data's years."""
    if zone is None:
        return TimestampReader()
    plain = TimestampReader()
    years = connection.execute(
        f"select year(min(t)), year(max(t)) from"
        f" (select {plain.sql(column, staged_type)} as t from {table})"
    ).fetchall()[0]
    first, last = (int(y) if y is not None else 2000 for y in years)
    return TimestampReader(zone, tuple(offsets(zone, max(first, 1900), min(last, 2200))))
