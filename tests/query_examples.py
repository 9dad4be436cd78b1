"""Representative views of every query in the registry, for the registry and snapshot tests.

Each query has its default view and the variants that change its SQL: a segment filter, other
grains, a repeated funnel step, cohort and return events, a conversion window, hashing.
"""

from __future__ import annotations

import datetime as dt

from queries.engagement import EngagementQuery, StickinessQuery
from queries.experiment_metrics import MetricQuery, MetricView
from queries.experiments import DeclaredExperiment, ExperimentQuery, ExperimentView
from queries.filters import SegmentFilter
from queries.funnel import FunnelQuery
from queries.growth import GrowthQuery
from queries.ltv import LtvQuery
from queries.periods import Grain
from queries.retention import RetentionMode, RetentionQuery
from queries.revenue import BreakdownQuery, RevenueQuery, WindowQuery

D = dt.date
segment = SegmentFilter.from_mapping
HASHED = DeclaredExperiment(
    "hashed_banner", {"A": 1.0, "B": 1.0, "C": 2.0}, "banner-2025", D(2024, 2, 1)
)

EXAMPLES: dict[str, dict[str, object]] = {
    "data_bounds": {"default": None},
    "segment_values": {"platform": "platform"},
    "experiment_names": {"default": None},
    "growth": {
        "default": GrowthQuery(),
        "day": GrowthQuery(Grain.DAY),
        "filtered": GrowthQuery(
            Grain.MONTH, D(2024, 1, 15), D(2024, 3, 10),
            segment({"platform": ["web", "ios"], "event_type": ["purchase"]}),
        ),
    },
    "retention": {
        "default": RetentionQuery(),
        "unbounded_month": RetentionQuery(
            Grain.MONTH, start=D(2024, 1, 15), mode=RetentionMode.UNBOUNDED
        ),
        "start_return_events": RetentionQuery(
            Grain.WEEK, segment=segment({"country": ["US"]}), start_events=("purchase",),
            return_events=("purchase", "add_to_cart"),
        ),
    },
    "revenue": {
        "default": RevenueQuery(),
        "filtered": RevenueQuery(
            Grain.DAY, D(2024, 2, 1), D(2024, 2, 29), segment({"platform": ["android"]})
        ),
    },
    "revenue_breakdown": {
        "default": BreakdownQuery(RevenueQuery(), "platform"),
        "filtered": BreakdownQuery(
            RevenueQuery(Grain.MONTH, segment=segment({"country": ["US"]})), "platform"
        ),
    },
    "revenue_window": {
        "default": WindowQuery(D(2024, 3, 1), D(2024, 3, 14)),
        "filtered": WindowQuery(D(2024, 3, 1), D(2024, 3, 14), segment({"platform": ["ios"]})),
    },
    "funnel": {
        "default": FunnelQuery(),
        "repeated_step": FunnelQuery(
            ("page_view", "purchase", "purchase"), 2, D(2024, 2, 1), D(2024, 2, 29),
            segment({"platform": ["web"]}), breakdown="country",
        ),
    },
    "experiment": {
        "default": ExperimentView(ExperimentQuery("checkout_button")),
        "window": ExperimentView(ExperimentQuery(
            "pricing_page", "add_to_cart", None, D(2024, 2, 1), D(2024, 3, 10), 7,
            segment({"platform": ["ios"]}),
        )),
        "hashed": ExperimentView(ExperimentQuery("hashed_banner"), HASHED),
    },
    "stickiness": {
        "default": StickinessQuery(),
        "month_filtered": StickinessQuery(Grain.MONTH, D(2024, 1, 15), D(2024, 3, 10),
                                          segment({"platform": ["web"]})),
    },
    "engagement": {
        "default": EngagementQuery(),
        "filtered": EngagementQuery(D(2024, 2, 1), D(2024, 2, 29),
                                    segment({"event_type": ["purchase"]})),
    },
    "ltv": {
        "default": LtvQuery(Grain.MONTH),
        "week_filtered": LtvQuery(Grain.WEEK, D(2024, 1, 1), segment=segment(
            {"country": ["US"]})),
    },
    "experiment_metric": {
        "default": MetricView(MetricQuery(ExperimentQuery("checkout_button"))),
        "revenue_cuped_breakdown": MetricView(MetricQuery(
            ExperimentQuery("pricing_page", start=D(2024, 2, 1), window_days=7,
                            segment=segment({"platform": ["ios"]})),
            "revenue_per_user", cuped=True, pre_days=14, breakdown="country")),
        "column_sum_hashed": MetricView(
            MetricQuery(ExperimentQuery("hashed_banner"), "sum:country"), HASHED),
    },
}


def example_cases() -> list[tuple[str, str, object]]:
    """(query name, case name, view) for every example."""
    return [(name, case, view) for name, cases in EXAMPLES.items() for case, view in cases.items()]
