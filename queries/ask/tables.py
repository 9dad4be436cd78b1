"""The tables the model may query: the app's own metric tables for the reader's current view.

Each is computed on first use by the app's cached queries (so it is the same on every backend)
and kept for the rest of the question. The raw events table is offered only where it can be read
safely: attached read-only on DuckDB, or dry-run first on a backend that supports dry runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from queries import schema
from queries.backends import BackendError
from queries.errors import ParameterError
from queries.experiments import COLUMNS as EXPERIMENT_COLUMNS
from queries.experiments import (
    DeclaredExperiment,
    ExperimentQuery,
    ExperimentView,
    experiment_names,
    experiment_result,
)
from queries.growth import GrowthQuery
from queries.metrics import EXPERIMENT, GROWTH, RETENTION, REVENUE, schema_columns
from queries.periods import Grain
from queries.registry import QUERIES, run_query
from queries.retention import RetentionQuery
from queries.revenue import RevenueQuery
from queries.view import PeriodView

EXPERIMENT_RESULTS = "experiment_results"
DATE_COLUMNS = ("period_start", "cohort_start")

# Metric columns are explained as the catalogue says (queries/metrics.py); the other columns
# here. Plain concatenation: {grain} is filled in later, per table.
GROWTH_DOC = (
    "growth accounting per {grain}: period_start (first day of the {grain}), "
    + schema_columns(GROWTH.values())
    + ", is_complete (false for a period still in progress)"
)
RETENTION_DOC = (
    "retention triangle per {grain}: cohort_start (the cohort's first active {grain}), "
    + schema_columns([RETENTION["cohort_size"]])
    + ", period_index (k {grain}s after the cohort's, 0 = the cohort's own), "
    + schema_columns([RETENTION["retained_users"], RETENTION["retention_rate"]])
    + ", is_complete"
)
REVENUE_DOC = (
    "revenue per {grain}: period_start, "
    # The growth tables, listed before, have explained active_users.
    + schema_columns(REVENUE.values(), explained=GROWTH)
    + ", is_complete"
)
EXPERIMENT_DOC = (
    "one row per experiment and variant: experiment, variant, is_control, "
    + schema_columns(EXPERIMENT[column] for column in (
        "users", "converters", "conversion_rate", "lift_abs", "lift_rel", "p_value",
        "p_value_adjusted", "chance_to_beat_control", "srm_p_value", "excluded_users"))
)
EVENTS_DOC = (
    "the raw event log, NOT filtered by the view (can be huge: aggregate it or use LIMIT):"
    " event_time (UTC timestamp), user_id, event_type, revenue, and segment columns {segments}"
)


@dataclass
class MetricTables:
    backend: object
    view: PeriodView
    declared: dict[str, DeclaredExperiment] = field(default_factory=dict)
    # The DuckDB file, attached read-only when the model queries `events`; None elsewhere.
    events_file: Path | None = None
    # Where `events` lives off DuckDB: a dry-run-capable backend (see queries/ask/warehouse.py).
    events_on_warehouse: bool = False
    _frames: dict[str, pd.DataFrame] = field(default_factory=dict)

    def builders(self) -> dict[str, Callable[[], pd.DataFrame]]:
        builders = {}
        for grain in Grain:
            builders[f"growth_{grain.value}"] = lambda g=grain: self.growth(g)
            builders[f"retention_{grain.value}"] = lambda g=grain: self.retention(g)
            builders[f"revenue_{grain.value}"] = lambda g=grain: self.revenue(g)
        builders[EXPERIMENT_RESULTS] = self.experiments
        return builders

    @property
    def names(self) -> list[str]:
        names = list(self.builders())
        if self.events_file is not None or self.events_on_warehouse:
            names.append(schema.EVENTS)
        return names

    def frame(self, name: str) -> pd.DataFrame:
        if name not in self._frames:
            frame = self.builders()[name]()
            for column in DATE_COLUMNS:
                if column in frame:
                    frame[column] = pd.to_datetime(frame[column])
            self._frames[name] = frame
        return self._frames[name]

    def frames(self, names) -> dict[str, pd.DataFrame]:
        return {name: self.frame(name) for name in names if name != schema.EVENTS}

    def growth(self, grain: Grain) -> pd.DataFrame:
        view = self.period_view(GrowthQuery, grain)
        return with_churn_rate(run_query(self.backend, QUERIES["growth"], view))

    def retention(self, grain: Grain) -> pd.DataFrame:
        view = self.period_view(RetentionQuery, grain)
        return run_query(self.backend, QUERIES["retention"], view)

    def revenue(self, grain: Grain) -> pd.DataFrame:
        return run_query(self.backend, QUERIES["revenue"], self.period_view(RevenueQuery, grain))

    def experiments(self) -> pd.DataFrame:
        tables = []
        for name in experiment_names(self.backend, self.declared):
            query = ExperimentQuery(
                name, start=self.view.start, end=self.view.end, segment=self.view.segment
            )
            view = ExperimentView(query, self.declared.get(name))
            try:
                table = experiment_result(self.backend, view).table
            except ParameterError:  # no users in this view: nothing to compare
                continue
            tables.append(table.assign(experiment=name))
        if not tables:
            return pd.DataFrame(columns=["experiment", *EXPERIMENT_COLUMNS])
        combined = pd.concat(tables, ignore_index=True)
        return combined[["experiment", *EXPERIMENT_COLUMNS]].infer_objects()

    def period_view(self, kind: type[PeriodView], grain: Grain):
        return kind(grain, self.view.start, self.view.end, self.view.segment)

    def schema_text(self) -> str:
        """What the model is told about each table."""
        lines = []
        for grain in Grain:
            lines.append(f"- growth_{grain.value}: {GROWTH_DOC.format(grain=grain.value)}")
            lines.append(f"- retention_{grain.value}: {RETENTION_DOC.format(grain=grain.value)}")
            lines.append(f"- revenue_{grain.value}: {REVENUE_DOC.format(grain=grain.value)}")
        lines.append(f"- {EXPERIMENT_RESULTS}: {EXPERIMENT_DOC}")
        if schema.EVENTS in self.names:
            lines.append(f"- {schema.EVENTS}: {EVENTS_DOC.format(segments=self.segments())}")
        return "\n".join(lines)

    def segments(self) -> str:
        try:
            columns = schema.segment_columns(self.backend.event_columns())
        except BackendError:
            return "(unknown)"
        return ", ".join(columns) or "(none)"



def with_churn_rate(table: pd.DataFrame) -> pd.DataFrame:
    """churn rate = churned / active users of the previous period = 1 - retention rate."""
    table = table.copy()
    table.insert(
        table.columns.get_loc("retention_rate") + 1, "churn_rate",
        1 - table["retention_rate"].astype(float),
    )
    return table

