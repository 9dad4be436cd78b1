"""`python -m app export stickiness|engagement|ltv` as real subprocesses: the exact headers of
the issue, rows that agree with the queries' own tests (tests/test_engagement_sql.py derives
them by hand), and refused requests as one-line errors."""

from __future__ import annotations

import csv
import io

import pytest

from tests.cli import assert_one_line_error, ok, run_all
from tests.test_engagement_sql import HAND

HEADERS = {
    "stickiness": "period_start,days_active,users,share,is_complete",
    "engagement": "day,dau,wau,mau,dau_over_wau,dau_over_mau,wau_over_mau",
    "ltv": "cohort_start,cohort_size,period_index,revenue,cumulative_revenue_per_user,"
           "revenue_retention,is_complete",
}


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    from app.storage import Source, load
    from tests.conftest import events_table

    db = tmp_path_factory.mktemp("engagement_cli") / "events.duckdb"
    load(db, Source("hand", table=events_table(HAND, ("platform",))))
    return run_all({
        "stickiness": ["export", "stickiness", "--db", db],
        "stickiness_month": ["export", "stickiness", "--grain", "month", "--db", db],
        "stickiness_day": ["export", "stickiness", "--grain", "day", "--db", db],
        "engagement": ["export", "engagement", "--start", "2025-01-09", "--end", "2025-01-09",
                       "--db", db],
        "ltv": ["export", "ltv", "--grain", "week", "--filter", "platform=web", "--db", db],
        "growth_by_platform": ["export", "growth", "--breakdown", "platform", "--db", db],
        "retention_by_platform": ["export", "retention", "--breakdown", "platform", "--db", db],
        "growth_by_planet": ["export", "growth", "--breakdown", "planet", "--db", db],
    })


def rows(text: str, table: str) -> list[dict[str, str]]:
    assert text.splitlines()[0] == HEADERS[table]
    return list(csv.DictReader(io.StringIO(text)))


def test_stickiness_has_a_row_per_week_and_count_of_days(exports):
    weeks = rows(ok(exports["stickiness"]), "stickiness")
    assert len(weeks) == 21 and weeks[0]["period_start"] == "2025-01-06"
    assert [row["users"] for row in weeks[:3]] == ["1", "0", "1"]
    assert weeks[0]["share"] == "0.5" and weeks[7]["share"] == ""  # the empty week
    assert weeks[-1]["is_complete"] == "false"
    months = rows(ok(exports["stickiness_month"]), "stickiness")
    assert len(months) == 31  # January


def test_engagement_of_one_day(exports):
    assert rows(ok(exports["engagement"]), "engagement") == [
        {"day": "2025-01-09", "dau": "1", "wau": "2", "mau": "2", "dau_over_wau": "0.5",
         "dau_over_mau": "0.5", "wau_over_mau": "1.0"}]


def test_revenue_cohorts_under_a_filter(exports):
    cohorts = rows(ok(exports["ltv"]), "ltv")
    # Web: u1 alone, in the week of 6 Jan, with 20 at k = 0.
    assert [(row["cohort_start"], row["period_index"], row["revenue"]) for row in cohorts] == [
        ("2025-01-06", "0", "20.0"), ("2025-01-06", "1", "0.0"), ("2025-01-06", "2", "0.0")]
    assert cohorts[1]["revenue_retention"] == "0.0"


def test_stickiness_per_day_is_refused_by_the_parser(exports):
    assert_one_line_error(exports["stickiness_day"], "invalid choice: 'day'", by_argparse=True)


def test_a_breakdown_adds_a_leading_segment_column(exports):
    growth = list(csv.DictReader(io.StringIO(ok(exports["growth_by_platform"]))))
    assert list(growth[0])[:2] == ["segment", "period_start"]
    # Web is u1 (new in the week of 6 Jan); ios is u2 (new that week) and u3 (20 Jan).
    new = {(row["segment"], row["period_start"]): row["new_users"] for row in growth}
    assert new[("web", "2025-01-06")] == "1" and new[("ios", "2025-01-06")] == "1"
    assert new[("ios", "2025-01-20")] == "1" and new[("web", "2025-01-20")] == "0"
    retention = ok(exports["retention_by_platform"]).splitlines()[0]
    assert retention.startswith("segment,cohort_start,cohort_size,period_index")
    assert_one_line_error(exports["growth_by_planet"], "cannot break down by 'planet'",
                          by_argparse=False)
