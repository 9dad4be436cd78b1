"""The experiment panel on other metrics, in real headless Chromium against the app's own CLI
server: revenue per user with CUPED from a link, its means against pandas over the raw
events, the header, the lift over time, and a breakdown with its note."""

from __future__ import annotations

import duckdb
import pytest

from tests.test_experiment_metrics_sql import pandas_sums

pytest_plugins = ["tests.browser_support"]  # demo_db, server_url, browser, page

CUPED_LINK = "?tab=experiments&experiment=free_shipping&metric=revenue_per_user&cuped=on"


def grid_cells(page, column: str) -> list[str]:
    """A column's cells in row order (pinned columns live in a container of their own)."""
    return page.evaluate(
        "column => [...document.querySelectorAll("
        "`#experiment-grid [role=gridcell][col-id='metric_${column}']`)]"
        ".sort((a, b) => a.closest('.ag-row').getAttribute('row-index')"
        " - b.closest('.ag-row').getAttribute('row-index'))"
        ".map(cell => cell.innerText)", column)


def test_revenue_per_user_with_cuped_from_a_link(page, server_url, demo_db):
    with duckdb.connect(str(demo_db), read_only=True) as connection:
        events = connection.sql("select * from events").df()
        assignments = connection.sql("select * from assignments").df()
    expected = pandas_sums(events, assignments, "free_shipping", 10_000, 14)
    control_mean = expected.loc["control", "value_sum"] / expected.loc["control", "users"]

    page.goto(server_url.rstrip("/") + "/" + CUPED_LINK)
    page.wait_for_function(
        "() => document.querySelector('#experiment-verdict')?.innerText"
        ".includes('revenue per user')")
    page.wait_for_function("() => document.querySelectorAll("
                           "\"#experiment-grid [col-id='metric_mean']\").length >= 3")
    assert grid_cells(page, "mean")[0] == f"${control_mean:,.2f}"
    # Off screen to the right, so read from the grid's rows rather than its cells.
    reduction = page.evaluate("() => { const rows = [];"
                              " dash_ag_grid.getApi('experiment-grid').forEachNode("
                              "node => rows.push(node.data.variance_reduction)); return rows; }")
    assert reduction[0] is None and 0 < reduction[1] < 1
    header = page.inner_text("#experiment-header")
    assert "days running" in header and f"{int(expected['users'].sum()):,} users so far" in header
    assert "CUPED is on" in page.inner_text("#experiment-verdict")
    # The lift over time: a band and a line per treatment.
    assert page.evaluate("document.querySelector('#experiment-lift-over-time .js-plotly-plot')"
                         ".data.length") == 3


@pytest.mark.parametrize("metric", ["aov", "orders_per_user"])
def test_a_breakdown_lists_each_segment_with_a_note(page, server_url, metric):
    page.goto(server_url.rstrip("/") + "/?tab=experiments&experiment=pricing_page"
              f"&metric={metric}&experiment-by=platform&sequential=on")
    page.wait_for_selector("#experiment-alerts .multiple-comparisons")
    page.wait_for_function("() => document.querySelectorAll("
                           "\"#experiment-grid [col-id='metric_segment']\").length > 3")
    segments = set(grid_cells(page, "segment"))
    assert segments == {"android", "ios", "web"}
    assert "always-valid" in page.evaluate(
        "document.querySelector('#experiment-lift-chart .js-plotly-plot').layout.title.text")
