"""Shareable views and diagnostics in real headless Chromium: a changed view's URL opens the same
view in a fresh page, the back button steps through the changes, and the diagnostics section
lists the queries behind the view."""

from __future__ import annotations

import datetime as dt

from queries.backends import DuckDBBackend
from queries.filters import SegmentFilter
from queries.periods import Grain
from queries.retention import RetentionQuery, retention_table
from tests.browser_checks import expected_kpis, kpi_text

pytest_plugins = ["tests.browser_support"]  # demo_db, server_url, browser, page

JANUARY, MARCH_END = dt.date(2025, 1, 1), dt.date(2025, 3, 31)
IOS = SegmentFilter.from_mapping({"platform": ["ios"]})
PLATFORM_DROPDOWN = "[id='{\"column\":\"platform\",\"type\":\"segment-filter\"}']"
RANGE = "?grain=month&start=2025-01-01&end=2025-03-31"


def wait_for_search(page, search: str) -> None:
    page.wait_for_function("search => location.search === search", arg=search)


def wait_for_kpi(page, text: str) -> None:
    page.wait_for_function(
        "text => document.querySelector('#growth-kpis')?.innerText.includes(text)", arg=text)


def wait_for_heatmap_rows(page, rows: int) -> None:
    page.wait_for_function(
        "n => document.querySelector('#retention-heatmap .js-plotly-plot')?.data?.[0]?.y?.length"
        " === n", arg=rows)


def shown_view(page) -> dict:
    return {
        "tab": page.inner_text(".nav-tabs a.nav-link.active"),
        "grain": page.inner_text("#grain-toggle label.active"),
        "start": page.input_value("#date-range-start"),
        "end": page.input_value("#date-range-end"),
        "platform": page.inner_text(PLATFORM_DROPDOWN),
    }


def test_a_copied_url_opens_the_same_view_and_back_steps_through_changes(
        page, browser, server_url, demo_db):
    month, all_new = expected_kpis(demo_db, Grain.MONTH, JANUARY, MARCH_END)
    _, ios_new = expected_kpis(demo_db, Grain.MONTH, JANUARY, MARCH_END, IOS)
    assert month == dt.date(2025, 3, 1) and ios_new != all_new
    ios_cohorts = retention_table(
        DuckDBBackend(demo_db), RetentionQuery(Grain.MONTH, JANUARY, MARCH_END, IOS)
    )["cohort_start"].nunique()

    page.click("#grain-toggle label:has-text('Month')")
    wait_for_search(page, "?grain=month")
    page.fill("#date-range-start", "2025-01-01")
    page.keyboard.press("Enter")
    page.fill("#date-range-end", "2025-03-31")
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")  # closes the calendar, which would swallow the next click
    wait_for_search(page, RANGE)
    wait_for_kpi(page, f"{all_new:,}")
    page.click(PLATFORM_DROPDOWN)
    page.click(".dash-dropdown-option:has-text('ios'), [role=option]:has-text('ios')")
    page.keyboard.press("Escape")
    wait_for_search(page, RANGE + "&filter=platform:ios")
    wait_for_kpi(page, f"{ios_new:,}")
    page.click("a.nav-link:has-text('Retention')")
    link_search = "?tab=retention&grain=month&start=2025-01-01&end=2025-03-31&filter=platform:ios"
    wait_for_search(page, link_search)
    wait_for_heatmap_rows(page, ios_cohorts + 1)  # + the weighted average

    # The copied URL, in a fresh browser context (no session storage, no history).
    fresh_context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        fresh = fresh_context.new_page()
        fresh.goto(server_url.rstrip("/") + "/" + link_search)
        wait_for_heatmap_rows(fresh, ios_cohorts + 1)
        view = shown_view(fresh)
        assert view | {"platform": "ios" in view["platform"]} == {
            "tab": "Retention", "grain": "Month", "start": "2025-01-01", "end": "2025-03-31",
            "platform": True}
        assert fresh.inner_text("#url-message") == ""
        fresh.click("a.nav-link:has-text('Growth')")
        wait_for_kpi(fresh, "March 2025")
        assert f"{ios_new:,}" in kpi_text(fresh, "new_users")
    finally:
        fresh_context.close()

    # Back: the tab, then the filter; each restore pushes no new history entry.
    entries = page.evaluate("history.length")
    page.go_back()
    wait_for_search(page, RANGE + "&filter=platform:ios")
    page.wait_for_selector(".nav-tabs a.nav-link.active:has-text('Growth')")
    # The tab's pane is shown (and its panel redrawn) after the tab link turns active: wait.
    wait_for_kpi(page, f"{ios_new:,}")
    assert f"{ios_new:,}" in kpi_text(page, "new_users")
    page.go_back()
    wait_for_search(page, RANGE)
    wait_for_kpi(page, f"{all_new:,}")
    assert "ios" not in page.inner_text(PLATFORM_DROPDOWN)
    assert page.evaluate("history.length") == entries
    page.go_forward()
    wait_for_search(page, RANGE + "&filter=platform:ios")
    wait_for_kpi(page, f"{ios_new:,}")
    assert page.evaluate("history.length") == entries


EVERY_CONTROL = (  # every control of every panel away from its default, in the written order
    "&grain=month&smooth=on&mode=unbounded&show=users&cohort-event=purchase"
    "&return-event=session&periods=6&overlay=2025-03-01&overlay=2025-01-01"
    "&revenue-by=platform&previous=off&step=session&step=purchase&funnel-window=3"
    "&funnel-by=platform&experiment=pricing_page&conversion=add_to_cart&control=B"
    "&experiment-window=14&planned-lift=2"
)


def tab_search(tab: str) -> str:
    return f"?tab={tab}" + EVERY_CONTROL


def curve_names(page) -> list[str]:
    return page.evaluate("() => document.querySelector('#retention-curve .js-plotly-plot')"
                         "?.data?.map(trace => trace.name) ?? []")


def test_a_link_carries_every_control_and_is_written_back_unchanged(page, server_url):
    page.goto(server_url.rstrip("/") + "/" + tab_search("retention"))
    # The overlay's options arrive with the retention answer: the link's cohorts survive them.
    page.wait_for_function(
        "() => (document.querySelector('#retention-curve .js-plotly-plot')?.data?.length ?? 0)"
        " === 3")
    assert curve_names(page)[1:] == ["2025-03-01", "2025-01-01"]
    assert page.inner_text("#retention-mode label.active") == "In period k or later"
    assert page.inner_text("#retention-values label.active") == "Users"
    assert page.input_value("#retention-max-periods") == "6"
    assert "%" not in page.inner_text("#retention-heatmap-labels")  # users, not rates
    # Each tab change rewrites the URL from the controls: every other value is still there.
    page.click("a.nav-link:has-text('Revenue')")
    wait_for_search(page, tab_search("revenue"))
    assert page.input_value("#funnel-window-days") == "3"
    assert "platform" in page.inner_text("#revenue-breakdown")
    assert "platform" in page.inner_text("#funnel-breakdown")
    page.click("a.nav-link:has-text('Experiments')")
    wait_for_search(page, tab_search("experiments"))
    page.wait_for_function(
        "() => document.querySelector('#experiment-verdict')?.innerText.includes('than B')")
    assert page.inner_text("#experiment-control") == "B"
    assert page.input_value("#experiment-window-days") == "14"
    # A change made in the page is written next to the others.
    page.fill("#experiment-window-days", "7")
    page.keyboard.press("Enter")
    wait_for_search(page, tab_search("experiments").replace("window=14", "window=7"))


def test_a_bad_link_shows_the_default_view_with_a_message(browser, server_url, demo_db):
    week, week_new = expected_kpis(demo_db, Grain.WEEK)
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    errors: list[str] = []
    try:
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(server_url.rstrip("/")
                  + "/?grain=fortnight&start=2025-02-30&filter=planet:mars&periods=0")
        page.wait_for_selector("#url-message .alert")
        message = page.inner_text("#url-message")
        assert "'fortnight'" in message and "'2025-02-30'" in message and "'planet'" in message
        assert "periods shown '0'" in message
        wait_for_kpi(page, f"Week of {week:%d %b %Y}")
        assert page.inner_text("#grain-toggle label.active") == "Week"
        assert f"{week_new:,}" in kpi_text(page, "new_users")
        # A change in the page writes only what it shows; the message stays until the next link.
        page.click("#grain-toggle label:has-text('Month')")
        wait_for_search(page, "?grain=month")
        assert "periods shown '0'" in page.inner_text("#url-message")
    finally:
        context.close()
    assert not errors, f"JavaScript errors: {errors}"


CUT_OFF_TEXTS = """() => [...document.querySelectorAll(
    '#diagnostics-grid .ag-cell-value, #diagnostics-grid .ag-header-cell-text')]
    .filter(text => text.scrollWidth > text.clientWidth + 1).map(text => text.innerText)"""


def grid_row(grid, label: str):
    return grid.locator(f".ag-row:has([col-id='label'] .ag-cell-value:text-is('{label}'))")


def test_diagnostics_list_the_queries_behind_the_view(page):
    page.click("#grain-toggle label:has-text('Day')")
    wait_for_search(page, "?grain=day")
    page.click("#diagnostics-toggle")
    grid = page.locator("#diagnostics-grid")
    grid_row(grid, "growth").wait_for()
    row = grid_row(grid, "growth")
    cells = {name: row.locator(f"[col-id='{name}']").inner_text()
             for name in ("panel", "backend", "cache")}
    # Nobody asked for daily growth before on this server: the query ran on DuckDB.
    assert cells == {"panel": "Growth", "backend": "duckdb", "cache": "miss"}
    # The growth tab's panels each read the data's span (cached after the first).
    assert grid_row(grid, "data_bounds").filter(has=page.locator(
        "[col-id='panel']:text-is('Growth')")).count() == 1
    assert page.evaluate(CUT_OFF_TEXTS) == []
    page.set_viewport_size({"width": 390, "height": 844})  # a phone: the columns narrow
    page.wait_for_function(
        f"() => document.querySelector('#diagnostics-grid').offsetWidth < 390"
        f" && ({CUT_OFF_TEXTS})().length === 0")
    page.set_viewport_size({"width": 1400, "height": 1000})
    sql = page.locator("#diagnostics-sql details").filter(has_text="growth · cache").first
    assert not sql.locator("pre").first.is_visible()  # folded until opened
    sql.locator("summary").click()
    assert "-- query: growth" in sql.locator("pre").first.inner_text()

    page.click("a.nav-link:has-text('Retention')")
    grid_row(grid, "retention").wait_for()
    assert grid_row(grid, "growth").count() == 0
