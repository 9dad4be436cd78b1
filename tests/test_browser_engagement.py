"""The engagement and revenue-cohort panels in real headless Chromium against the app's own
CLI server: DAU/MAU of the last day against a count written directly in SQL, and the LTV
heatmap and curve drawn."""

from __future__ import annotations

import duckdb
import pytest

pytest_plugins = ["tests.browser_support"]  # demo_db, server_url, browser, page

RATIOS = "#engagement-ratios-chart .js-plotly-plot"


def test_dau_over_mau_of_the_last_day(page, demo_db):
    with duckdb.connect(str(demo_db), read_only=True) as connection:
        dau, mau = connection.execute(
            "with last as (select max(cast(event_time as date)) as day from events)"
            " select count(distinct case when cast(event_time as date) = last.day"
            " then user_id end), count(distinct user_id) from events, last"
            " where cast(event_time as date) > last.day - 28").fetchone()
    page.wait_for_selector("#engagement-ratios-chart")
    page.evaluate("document.querySelector('#engagement-ratios-chart').scrollIntoView()")
    page.wait_for_function(f"() => document.querySelector('{RATIOS}')?.data?.length === 3")
    drawn = page.evaluate(f"document.querySelector('{RATIOS}').data[0].y.at(-1)")
    assert drawn == pytest.approx(dau / mau, abs=5e-5)  # drawn to four decimals
    page.wait_for_function(
        "() => document.querySelector('#stickiness-chart .js-plotly-plot')?.data?.length === 2")


def test_revenue_cohorts_are_drawn_on_the_revenue_tab(page, server_url):
    page.goto(server_url.rstrip("/") + "/?tab=revenue&grain=month")
    page.wait_for_selector("#ltv-heatmap")
    page.evaluate("document.querySelector('#ltv-heatmap').scrollIntoView()")
    page.wait_for_function(
        "() => document.querySelector('#ltv-heatmap .js-plotly-plot')?.data?.[0]?.z?.length > 3")
    curves = page.evaluate("document.querySelector('#ltv-curve .js-plotly-plot').data"
                           ".map(trace => trace.y)")
    assert len(curves[0]) > 3
    for cohort in curves[1:]:
        assert cohort == sorted(cohort)  # a cohort's cumulative revenue never falls
    assert "Revenue retention at the next period" in page.inner_text("#ltv-status")


def test_compare_lays_the_previous_months_over_the_chosen_ones(page, server_url, demo_db):
    with duckdb.connect(str(demo_db), read_only=True) as connection:
        new_in_march = connection.execute(
            "select count(*) from (select user_id, min(event_time) as first from events"
            " group by user_id) where first >= '2025-03-01' and first < '2025-04-01'"
        ).fetchone()[0]
    page.goto(server_url.rstrip("/")
              + "/?grain=month&start=2025-04-01&end=2025-05-31&compare=on")
    previous = (
        "() => document.querySelector('#growth-combined-chart .js-plotly-plot')?.data"
        "?.find(trace => trace.name === 'New, previous range')")
    page.wait_for_function(previous)
    line = page.evaluate(f"({previous})()")
    # April and May, each with the month two before: February and March.
    assert line["customdata"] == ["2025-02-01", "2025-03-01"]
    assert line["y"][1] == new_in_march
