"""Every query the app runs, by name: the one list that exports, the chat's tables, warm-up and
the SQL snapshot tests read. Each insight module declares its own specs (queries/query_spec.py);
run any of them with run_query(backend, QUERIES[name], view).
"""

from __future__ import annotations

from queries.bounds import DATA_BOUNDS_SPEC
from queries.engagement import ENGAGEMENT_SPEC, STICKINESS_SPEC
from queries.experiment_metrics import EXPERIMENT_METRIC_SPEC
from queries.experiments import EXPERIMENT_NAMES_SPEC, EXPERIMENT_SPEC
from queries.funnel import FUNNEL_SPEC
from queries.growth import GROWTH_SPEC
from queries.ltv import LTV_SPEC
from queries.options import SEGMENT_VALUES_SPEC
from queries.query_spec import Kind, QuerySpec, run_query
from queries.retention import RETENTION_SPEC
from queries.revenue import REVENUE_BREAKDOWN_SPEC, REVENUE_SPEC, REVENUE_WINDOW_SPEC

QUERIES: dict[str, QuerySpec] = {
    spec.name: spec
    for spec in (
        DATA_BOUNDS_SPEC, SEGMENT_VALUES_SPEC, EXPERIMENT_NAMES_SPEC,
        GROWTH_SPEC, RETENTION_SPEC, REVENUE_SPEC, REVENUE_BREAKDOWN_SPEC, REVENUE_WINDOW_SPEC,
        FUNNEL_SPEC, EXPERIMENT_SPEC, EXPERIMENT_METRIC_SPEC, STICKINESS_SPEC, ENGAGEMENT_SPEC,
        LTV_SPEC,
    )
}
# SQL files that are not queries of their own: the relations BigQuery reads its presets through,
# and the statements of BigQuery's build (queries/bigquery_build.py).
RELATION_FILES = ("thelook_events", "ga4_events", "build_days", "build_user_periods",
                  "build_activity")

__all__ = ["QUERIES", "RELATION_FILES", "Kind", "QuerySpec", "run_query"]
