"""Names of the stored tables and canonical columns: the identifier allow-list."""

from __future__ import annotations

import re

from queries.periods import Grain

EVENTS = "events"
ASSIGNMENTS = "assignments"
META = "meta"
LOADS = "loads"

EVENT_COLUMNS = ("event_time", "user_id", "event_type", "revenue")
REQUIRED_EVENT_COLUMNS = ("event_time", "user_id", "event_type")
ASSIGNMENT_COLUMNS = ("experiment", "user_id", "variant", "assigned_at")
REQUIRED_ASSIGNMENT_COLUMNS = ("experiment", "user_id", "variant")
# Bookkeeping columns the loader adds; never segment dimensions.
INTERNAL_COLUMNS = ("load_id",)

# Segment columns a database keeps in all (app/storage.py), so a page offers at most as many
# filters: each is a dropdown and a query.
MAX_SEGMENT_COLUMNS = 50

IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


def user_periods_table(grain: Grain) -> str:
    """Materialised at load time: one row per user and active period, unfiltered."""
    return f"user_periods_{grain.value}"


def activity_table(grain: Grain) -> str:
    """Materialised at load time: one row per distinct user x period x event type x segment
    values (the period in a column `period`). A filtered view reads it instead of every event:
    at 15 M events it holds about a third as many rows."""
    return f"activity_{grain.value}"


def materialised_tables() -> list[str]:
    """Every table the loader derives from the events."""
    return [table(grain) for grain in Grain for table in (user_periods_table, activity_table)]


def reads_histories(backend, reads_events_anyway: bool = False) -> bool:
    """Whether a query reads the materialised tables. Where queries are billed by the columns
    they read (a backend that prices them: BigQuery), one that reads the events anyway (for
    revenue) takes its user periods from the same columns at no cost, and a history table would
    add its own bytes."""
    if reads_events_anyway and backend.supports_dry_run:
        return False
    return backend.materialised_user_periods


def activity_source(backend, grain: Grain, reads_events_anyway: bool = False) -> tuple[str, str]:
    """(FROM item, period expression) of the rows a segment filter selects activity from: the
    load-time activity table where the backend has one, else the raw events."""
    if reads_histories(backend, reads_events_anyway):
        return backend.relation(activity_table(grain)), "period"
    return backend.relation(EVENTS), backend.dialect.period_of_timestamp("event_time", grain)


def segment_columns(event_table_columns: list[str]) -> list[str]:
    reserved = set(EVENT_COLUMNS) | set(INTERNAL_COLUMNS)
    return [c for c in event_table_columns if c not in reserved and IDENTIFIER.match(c)]
