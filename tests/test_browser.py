"""The dashboard in real headless Chromium, served by the app's own CLI in a subprocess."""

from __future__ import annotations

import csv
import datetime as dt

import pytest

from callbacks.view_state import view_from_filter_bar
from layouts.retention_charts import HEATMAP_COHORTS
from queries.backends import DuckDBBackend
from queries.errors import ParameterError
from queries.periods import Grain
from tests.browser_checks import expected_kpis, kpi_text

# The demo_db, server_url, browser and page fixtures.
pytest_plugins = ["tests.browser_support"]


def combined_bar_count(page) -> int:
    return page.evaluate(
        "document.querySelector('#growth-combined-chart .js-plotly-plot').data[0].x.length"
    )


def wait_for_fewer_bars(page, than: int) -> None:
    page.wait_for_function(
        "n => document.querySelector('#growth-combined-chart .js-plotly-plot')"
        ".data[0]?.x.length < n", arg=than)


def test_grain_toggle_and_date_range_update_cards_and_chart(page, demo_db):
    week_start, week_new = expected_kpis(demo_db, Grain.WEEK)
    assert f"Week of {week_start:%d %b %Y}" in kpi_text(page, "new_users")
    assert f"{week_new:,}" in kpi_text(page, "new_users")
    weeks = combined_bar_count(page)
    assert "in progress" in page.inner_text(".incomplete-note")

    page.click("label:has-text('Month')")
    month_start, month_new = expected_kpis(demo_db, Grain.MONTH)
    page.wait_for_function(
        "text => document.querySelector('#growth-kpis').innerText.includes(text)",
        arg=f"{month_start:%B %Y}",
    )
    assert f"{month_new:,}" in kpi_text(page, "new_users")
    wait_for_fewer_bars(page, weeks)

    page.fill("#date-range-start", "2025-01-01")
    page.keyboard.press("Enter")
    page.fill("#date-range-end", "2025-03-31")
    page.keyboard.press("Enter")
    window_start, window_new = expected_kpis(
        demo_db, Grain.MONTH, dt.date(2025, 1, 1), dt.date(2025, 3, 31)
    )
    assert window_start == dt.date(2025, 3, 1)
    page.wait_for_function(
        "() => document.querySelector('#growth-kpis').innerText.includes('March 2025')"
    )
    assert f"{window_new:,}" in kpi_text(page, "new_users")
    page.wait_for_function(
        "() => document.querySelector('#growth-combined-chart .js-plotly-plot')"
        ".data[0].x.length === 3"
    )


def test_start_after_end_shows_inline_message(page):
    page.fill("#date-range-end", "2025-02-01")
    page.keyboard.press("Enter")
    page.wait_for_function("() => location.search === '?end=2025-02-01'")
    page.evaluate("""() => {  // every address the page writes from now on
        window.writtenSearches = [];
        const push = history.pushState.bind(history);
        history.pushState = (state, title, url) => {
            window.writtenSearches.push(new URL(url, location.href).search);
            return push(state, title, url);
        };
    }""")
    page.fill("#date-range-start", "2025-03-01")
    page.keyboard.press("Enter")
    page.wait_for_selector("#filter-message .alert")
    assert "after the end date" in page.inner_text("#filter-message")
    page.wait_for_selector("body.view-stale")
    page.keyboard.press("Escape")
    page.click("#grain-toggle label:has-text('Month')")
    page.fill("#date-range-start", "2025-01-01")
    page.keyboard.press("Enter")
    page.wait_for_function(
        "() => location.search === '?grain=month&start=2025-01-01&end=2025-02-01'")
    # The range that could not be shown was never written, not even with the grain change.
    assert page.evaluate("window.writtenSearches") == [
        "?grain=month&start=2025-01-01&end=2025-02-01"]
    page.fill("#date-range-start", "2025-03-01")
    page.keyboard.press("Enter")
    page.wait_for_selector("#filter-message .alert")
    assert page.locator("#growth-kpis .kpi-card").count() == 7  # the views stay as they were
    # The browser says what the server's check says (assets/filters.js mirrors it).
    with pytest.raises(ParameterError) as refused:
        view_from_filter_bar({"start": "2025-03-01", "end": "2025-02-01"})
    assert page.inner_text("#filter-message").strip() == str(refused.value)


def test_grid_downloads_csv(page, tmp_path):
    with page.expect_download() as download_info:
        page.click("text=Download CSV")
    target = tmp_path / "growth.csv"
    download_info.value.save_as(target)
    with target.open(newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle))
    assert download_info.value.suggested_filename == "growth_week.csv"
    assert rows[0][:2] == ["Period start", "New"]
    assert len(rows) > 40  # every week of the demo, not just the visible page


def test_csv_export_neutralises_formulas_in_the_browser(page):
    neutralise = "value => window.dashAgGridFunctions.neutraliseFormula({value: value})"
    assert page.evaluate(neutralise, "=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert page.evaluate(neutralise, "@cmd") == "'@cmd"
    assert page.evaluate(neutralise, "web") == "web"
    assert page.evaluate(neutralise, -3.5) == -3.5


def heatmap_rows(page) -> list[str]:
    return page.evaluate(
        "document.querySelector('#retention-heatmap .js-plotly-plot').data[0].y"
    )


def test_retention_view_switches_grain_and_mode(page, demo_db):
    from queries.retention import RetentionMode, RetentionQuery, retention_table

    page.click("a.nav-link:has-text('Retention')")
    page.wait_for_selector("#retention-heatmap .js-plotly-plot")
    weekly = retention_table(DuckDBBackend(demo_db), RetentionQuery(Grain.WEEK))
    weekly_cohorts = weekly["cohort_start"].nunique()
    page.wait_for_function(
        # The heatmap is empty until the tab's first answer arrives.
        "n => document.querySelector('#retention-heatmap .js-plotly-plot').data[0]?.y.length"
        " === n", arg=min(weekly_cohorts, HEATMAP_COHORTS) + 1,
    )
    assert heatmap_rows(page)[0] == "Weighted average"
    # ... drawn on top: the first real figure sets the reversed axis, whatever the blank had.
    assert page.evaluate("(([top, bottom]) => top > bottom)(document.querySelector("
                         "'#retention-heatmap .js-plotly-plot')._fullLayout.yaxis.range)")

    page.click("label:has-text('Month')")
    monthly = retention_table(
        DuckDBBackend(demo_db), RetentionQuery(Grain.MONTH, mode=RetentionMode.UNBOUNDED)
    )
    page.wait_for_function(
        "n => document.querySelector('#retention-heatmap .js-plotly-plot').data[0]?.y.length"
        " === n", arg=min(monthly["cohort_start"].nunique(), HEATMAP_COHORTS) + 1,
    )
    page.click("label:has-text('In period k or later')")
    first = monthly[monthly["cohort_start"] == monthly["cohort_start"].min()]
    expected = [round(rate, 6) for rate in first["retention_rate"]]
    page.wait_for_function(
        """expected => {
            const z = document.querySelector('#retention-heatmap .js-plotly-plot').data[0].z[1];
            return z.length >= expected.length
                && expected.every((rate, k) => Math.abs(z[k] - rate) < 1e-6);
        }""",
        arg=expected,
    )
    # Unbounded retention never rises with k.
    assert list(first["retention_rate"]) == sorted(first["retention_rate"], reverse=True)
    page.locator("#retention-grid").scroll_into_view_if_needed()
    header = page.locator("#retention-grid .ag-header-cell-text", has_text="Cohort")
    header.first.wait_for()


def test_revenue_view_window_cards_breakdown_and_funnel(page, demo_db):
    import duckdb

    from queries.funnel import FunnelQuery, funnel_table

    page.click("a.nav-link:has-text('Revenue')")
    page.click("button:has-text('28d')")
    page.wait_for_function(
        "() => document.querySelector('#date-range-start').value === '2025-05-22'"
    )
    # Independently: plain SQL over the stored events, 22 May - 18 June against the 28 days
    # before (24 April - 21 May).
    with duckdb.connect(str(demo_db), read_only=True) as connection:
        current, previous = connection.execute(
            "select sum(revenue) filter (where event_time >= '2025-05-22'),"
            " sum(revenue) filter (where event_time < '2025-05-22') from events"
            " where event_time >= '2025-04-24' and event_time < '2025-06-19'"
        ).fetchall()[0]
    revenue_card = "[id='{\"metric\":\"revenue\",\"type\":\"window-card\"}']"
    page.wait_for_function(
        "([selector, text]) => document.querySelector(selector)?.innerText.includes(text)",
        arg=[revenue_card, f"{current:,.2f}"],
    )
    assert f"previous window: ${previous:,.2f}" in page.inner_text(revenue_card)
    assert "still in progress" in page.inner_text("#revenue-status")

    page.click("#revenue-breakdown")
    page.click(".dash-dropdown-option:has-text('platform'), [role=option]:has-text('platform')")
    page.wait_for_function(
        "() => document.querySelector('#revenue-trend .js-plotly-plot').data"
        ".filter(trace => trace.type === 'bar').length >= 4"  # 3 platforms + orders
    )

    expected = funnel_table(
        DuckDBBackend(demo_db),
        FunnelQuery(start=dt.date(2025, 5, 22), end=dt.date(2025, 6, 18)),
    )
    page.wait_for_function(
        "users => JSON.stringify(Array.from(document.querySelector("
        "'#funnel-chart .js-plotly-plot').data[0].x)) === JSON.stringify(users)",
        arg=[int(users) for users in expected["users"]],
    )


def test_experiments_panel_shows_verdict_and_loud_srm_banner(page, demo_db):
    page.click("a.nav-link:has-text('Experiments')")
    page.wait_for_selector("#experiment-verdict .verdict-line")
    assert "chance to beat control" in page.inner_text("#experiment-verdict")
    assert page.locator("#experiment-srm-banner").count() == 0

    page.click("#experiment-select")
    page.click(".dash-dropdown-option:has-text('onboarding_flow')")
    banner = page.locator("#experiment-srm-banner")
    banner.wait_for()
    assert "Sample ratio mismatch" in banner.inner_text()
    assert "withheld" in banner.inner_text()
    page.wait_for_function(
        "() => !document.querySelector('#experiment-verdict .verdict-line')"
    )


def graph_points(page, graph_id: str) -> int:
    return page.evaluate(
        "id => document.getElementById(id)?.querySelector('.js-plotly-plot')"
        "?.data?.[0]?.x?.length ?? 0", graph_id)


def test_a_view_being_updated_stays_on_screen_dimmed(page):
    """While the next view is on its way, the one shown stays, dimmed; nothing collapses."""
    weeks = combined_bar_count(page)
    held = []

    def hold_growth(route):
        if "growth-status" in (route.request.post_data or ""):
            held.append(route)
        else:
            route.continue_()

    callbacks = "**/_dash-update-component*"  # Dash adds ?endId=... to the path
    page.route(callbacks, hold_growth)
    box = "[id='{\"panel\":\"growth\",\"type\":\"panel-body\"}']"
    height = page.eval_on_selector(box, "e => e.getBoundingClientRect().height")
    page.click("label:has-text('Month')")
    page.wait_for_function(
        "box => getComputedStyle(document.querySelector(box)).opacity < 0.9", arg=box)
    assert held and page.locator(f"{box}.updating").count() == 1
    assert combined_bar_count(page) == weeks  # the previous view, still drawn
    assert "Week of" in kpi_text(page, "new_users")
    assert page.eval_on_selector(box, "e => e.getBoundingClientRect().height") == height
    for route in held:
        route.continue_()
    page.unroute(callbacks)
    page.wait_for_function(
        "box => !document.querySelector(box).classList.contains('updating')"
        " && getComputedStyle(document.querySelector(box)).opacity == 1", arg=box)
    wait_for_fewer_bars(page, weeks)


def test_metric_charts_draw_while_on_screen(page):
    """The charts below the fold take a view's figures when they come into view."""
    charts, quick_ratio = "#growth-metric-charts", '{"metric":"quick_ratio","type":"metric-graph"}'
    drawn = ("([id, n]) => document.getElementById(id)?.querySelector('.js-plotly-plot')"
             "?.data?.[0]?.x?.length === n")
    weeks = combined_bar_count(page)
    page.locator(charts).scroll_into_view_if_needed()
    page.wait_for_function(drawn, arg=[quick_ratio, weeks])

    page.set_viewport_size({"width": 1400, "height": 600})  # the charts well below the fold
    page.evaluate("window.scrollTo(0, 0)")
    page.click("label:has-text('Month')")
    page.wait_for_function(
        "() => !document.querySelector('#growth-kpis').innerText.includes('Week of')")
    wait_for_fewer_bars(page, weeks)
    months = combined_bar_count(page)
    page.wait_for_timeout(500)  # a chart on screen would have drawn the new figures by now
    assert graph_points(page, quick_ratio) == weeks  # off screen: not drawn yet
    page.locator(charts).scroll_into_view_if_needed()
    page.wait_for_function(drawn, arg=[quick_ratio, months])
