"""Every component id, defined once. Repeated components get id factories (dict ids)."""

from __future__ import annotations

# Page and shared filters
NAVBAR = "navbar"
DATA_INFO = "data-info"
VIEW_TABS = "view-tabs"
GRAIN = "grain-toggle"
DATE_RANGE = "date-range"
DATE_RANGE_START_INPUT = "date-range-start"
DATE_RANGE_END_INPUT = "date-range-end"
ACTIVITY_EVENTS = "activity-events"
FILTER_MESSAGE = "filter-message"
SEGMENT_FILTER_TYPE = "segment-filter"

# Growth view
GROWTH_STATUS = "growth-status"
GROWTH_KPIS = "growth-kpis"
GROWTH_COMBINED_CHART = "growth-combined-chart"
GROWTH_METRIC_CHARTS = "growth-metric-charts"
GROWTH_GRID = "growth-grid"
GROWTH_EXPORT = "growth-export"

KPI_TYPE = "kpi-card"


def segment_filter(column: str) -> dict:
    return {"type": SEGMENT_FILTER_TYPE, "column": column}


def kpi_card(metric: str) -> dict:
    return {"type": KPI_TYPE, "metric": metric}


def kpi_tooltip_target(metric: str) -> str:
    return f"kpi-info-{metric}"


def metric_chart(metric: str) -> dict:
    return {"type": "metric-chart", "metric": metric}


# Retention view
RETENTION_STATUS = "retention-status"
RETENTION_MODE = "retention-mode"
RETENTION_VALUES = "retention-values"
RETENTION_START_EVENT = "retention-start-event"
RETENTION_RETURN_EVENT = "retention-return-event"
RETENTION_MAX_PERIODS = "retention-max-periods"
RETENTION_HEATMAP = "retention-heatmap"
RETENTION_CURVE = "retention-curve"
RETENTION_OVERLAY = "retention-overlay-cohorts"
RETENTION_GRID = "retention-grid"
RETENTION_EXPORT = "retention-export"
