"""Every component id, defined once. Repeated components get id factories (dict ids)."""

from __future__ import annotations

# Page and shared filters
NAVBAR = "navbar"
MAIN = "main"
THEME_TOGGLE = "theme-toggle"
FILTER_BAR_TOGGLE = "filter-bar-toggle"
FILTER_BAR_ROW = "filter-bar-row"
DATA_INFO = "data-info"
VIEW_TABS = "view-tabs"
GRAIN = "grain-toggle"
DATE_RANGE = "date-range"
DATE_RANGE_START_INPUT = "date-range-start"
DATE_RANGE_END_INPUT = "date-range-end"
ACTIVITY_EVENTS = "activity-events"
FILTER_MESSAGE = "filter-message"
QUICK_RANGE_TYPE = "quick-range"
QUICK_RANGE_DATES = "quick-range-dates"
SEGMENT_FILTER_TYPE = "segment-filter"

# The tabs of VIEW_TABS: each tab_id is a value of its active_tab.
TAB_GROWTH = "growth"
TAB_RETENTION = "retention"
TAB_REVENUE = "revenue"
TAB_EXPERIMENTS = "experiments"
VIEW_TAB_IDS = (TAB_GROWTH, TAB_RETENTION, TAB_REVENUE, TAB_EXPERIMENTS)

PANEL_REQUEST_TYPE = "panel-request"


def panel_request(panel: str, tab: str) -> dict:
    """A panel's draw request, set in the browser (assets/panels.js) when the panel's tab is
    open and its view differs from the one it drew last; `tab` is read there."""
    return {"type": PANEL_REQUEST_TYPE, "panel": panel, "tab": tab}



def panel_body(panel: str) -> dict:
    """The box around a panel's layout, dimmed while the panel updates."""
    return {"type": "panel-body", "panel": panel}


# Shareable views: the URL carries the view state
URL = "url"
URL_MESSAGE = "url-message"
VIEW_DEFAULTS = "view-defaults"

# Diagnostics: the queries behind the current view
DIAGNOSTICS_TOGGLE = "diagnostics-toggle"
DIAGNOSTICS_COLLAPSE = "diagnostics-collapse"
DIAGNOSTICS_NOTE = "diagnostics-note"
DIAGNOSTICS_GRID = "diagnostics-grid"
DIAGNOSTICS_SQL = "diagnostics-sql"
DIAGNOSTICS_REQUEST = "diagnostics-request"

# Growth view
GROWTH_STATUS = "growth-status"
GROWTH_KPIS = "growth-kpis"
GROWTH_COMBINED_CHART = "growth-combined-chart"
GROWTH_SMOOTH = "growth-smooth"
GROWTH_METRIC_CHARTS = "growth-metric-charts"
# The metric charts' figures, and whether the charts are on screen (they draw only then).
GROWTH_METRIC_FIGURES = "growth-metric-figures"
GROWTH_METRIC_CHARTS_SHOWN = "growth-metric-charts-shown"
GROWTH_GRID = "growth-grid"
GROWTH_EXPORT = "growth-export"

KPI_TYPE = "kpi-card"


def quick_range(days: int) -> dict:
    """Days 0 means the whole data span."""
    return {"type": QUICK_RANGE_TYPE, "days": days}


def segment_filter(column: str) -> dict:
    return {"type": SEGMENT_FILTER_TYPE, "column": column}


def kpi_card(metric: str) -> dict:
    return {"type": KPI_TYPE, "metric": metric}


def kpi_value(metric) -> dict:
    return {"type": "kpi-value", "metric": metric}


def kpi_change(metric) -> dict:
    return {"type": "kpi-change", "metric": metric}


def kpi_period(metric) -> dict:
    return {"type": "kpi-period", "metric": metric}


def kpi_tooltip_target(metric: str) -> str:
    return f"kpi-info-{metric}"


def metric_chart(metric: str) -> dict:
    return {"type": "metric-chart", "metric": metric}


METRIC_GRAPH_TYPE = "metric-graph"


def metric_graph(metric) -> dict:
    return {"type": METRIC_GRAPH_TYPE, "metric": metric}


# Retention view
RETENTION_STATUS = "retention-status"
RETENTION_MODE = "retention-mode"
RETENTION_VALUES = "retention-values"
RETENTION_START_EVENT = "retention-start-event"
RETENTION_RETURN_EVENT = "retention-return-event"
RETENTION_MAX_PERIODS = "retention-max-periods"
RETENTION_HEATMAP = "retention-heatmap"
RETENTION_HEATMAP_LABELS = "retention-heatmap-labels"
RETENTION_HEATMAP_BOX = "retention-heatmap-box"
RETENTION_CURVE = "retention-curve"
RETENTION_OVERLAY = "retention-overlay-cohorts"
RETENTION_GRID = "retention-grid"
RETENTION_EXPORT = "retention-export"


# Revenue view
REVENUE_STATUS = "revenue-status"
REVENUE_KPIS = "revenue-kpis"
REVENUE_BREAKDOWN = "revenue-breakdown"
REVENUE_OVERLAY_PREVIOUS = "revenue-overlay-previous"
REVENUE_TREND = "revenue-trend"
REVENUE_WINDOW_CHART = "revenue-window-chart"
REVENUE_GRID = "revenue-grid"
REVENUE_EXPORT = "revenue-export"

# Funnel (in the revenue view)
FUNNEL_STATUS = "funnel-status"
FUNNEL_STEPS = "funnel-steps"
FUNNEL_WINDOW_DAYS = "funnel-window-days"
FUNNEL_BREAKDOWN = "funnel-breakdown"
FUNNEL_CHART = "funnel-chart"
FUNNEL_BREAKDOWN_CHART = "funnel-breakdown-chart"
FUNNEL_GRID = "funnel-grid"
FUNNEL_EXPORT = "funnel-export"


def window_card(metric: str) -> dict:
    return {"type": "window-card", "metric": metric}


def window_tooltip_target(metric: str) -> str:
    return f"window-info-{metric}"


# Experiments view
EXPERIMENT = "experiment-select"
EXPERIMENT_CONVERSION_EVENT = "experiment-conversion-event"
EXPERIMENT_CONTROL = "experiment-control"
EXPERIMENT_WINDOW_DAYS = "experiment-window-days"
EXPERIMENT_ALERTS = "experiment-alerts"
EXPERIMENT_VERDICT = "experiment-verdict"
EXPERIMENT_LIFT_CHART = "experiment-lift-chart"
EXPERIMENT_CUMULATIVE_CHART = "experiment-cumulative-chart"
EXPERIMENT_POWER = "experiment-power"
EXPERIMENT_PLANNED_EFFECT = "experiment-planned-effect"
EXPERIMENT_PLAN = "experiment-plan"
EXPERIMENT_GRID = "experiment-grid"
EXPERIMENT_EXPORT = "experiment-export"
EXPERIMENT_SRM_BANNER = "experiment-srm-banner"
GROWTH_BREAKDOWN = "growth-breakdown"
GROWTH_COMPARE = "growth-compare"
RETENTION_BREAKDOWN = "retention-breakdown"
REVENUE_COMPARE = "revenue-compare"
ENGAGEMENT_STATUS = "engagement-status"
ENGAGEMENT_FIGURES = "engagement-figures"
ENGAGEMENT_SHOWN = "engagement-shown"
LTV_FIGURES = "ltv-figures"
LTV_SHOWN = "ltv-shown"
ENGAGEMENT_RATIOS_CHART = "engagement-ratios-chart"
STICKINESS_CHART = "stickiness-chart"
STICKINESS_GRID = "stickiness-grid"
STICKINESS_EXPORT = "stickiness-export"
LTV_STATUS = "ltv-status"
LTV_HEATMAP = "ltv-heatmap"
LTV_CURVE = "ltv-curve"
LTV_GRID = "ltv-grid"
LTV_EXPORT = "ltv-export"
EXPERIMENT_METRIC = "experiment-metric"
EXPERIMENT_CUPED = "experiment-cuped"
EXPERIMENT_PRE_DAYS = "experiment-pre-days"
EXPERIMENT_SEQUENTIAL = "experiment-sequential"
EXPERIMENT_BREAKDOWN = "experiment-breakdown"
EXPERIMENT_GUARDRAIL = "experiment-guardrail"
EXPERIMENT_HEADER = "experiment-header"
EXPERIMENT_LIFT_OVER_TIME = "experiment-lift-over-time"

# Chat drawer ("Ask your data")
CHAT_OPEN = "chat-open"
CHAT_DRAWER = "chat-drawer"
CHAT_HISTORY = "chat-history"
CHAT_SCROLL = "chat-scroll"
CHAT_CONVERSATION = "chat-conversation"
CHAT_QUESTION = "chat-question"
CHAT_ASK = "chat-ask"
CHAT_PENDING = "chat-pending"
CHAT_CANCEL = "chat-cancel"
CHAT_CLEAR = "chat-clear"
CHAT_EXAMPLE_TYPE = "chat-example"


def chat_example(index) -> dict:
    return {"type": CHAT_EXAMPLE_TYPE, "index": index}
