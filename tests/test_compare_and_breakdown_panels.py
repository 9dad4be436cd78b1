"""Compare with the previous period and breakdowns in the panels: the previous range of equal
length by hand, its rows laid over the current periods, and the growth, retention and revenue
panels answering with them through Dash's real dispatch."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from layouts import ids
from layouts.charts import previous_lines
from queries.bounds import DataBounds
from queries.growth import GrowthQuery
from queries.metrics import GROWTH
from queries.periods import Grain
from queries.view import previous_range, shifted_forward
from tests.test_panels import app as panels_app
from tests.test_panels import ask_panel, panel_named
from tests.test_panels import database as panels_database

app, database = panels_app, panels_database  # the panel tests' app over their small log

D = dt.date
BOUNDS = DataBounds(D(2024, 1, 1), D(2024, 6, 18), 1000)


def test_the_previous_range_has_as_many_periods_just_before():
    view, periods = previous_range(GrowthQuery(Grain.MONTH, D(2024, 4, 1), D(2024, 5, 31)),
                                   BOUNDS)
    assert (view.start, view.end, periods) == (D(2024, 2, 1), D(2024, 3, 31), 2)
    # Weeks: 1 Apr 2024 is a Monday; 3 weeks to 21 Apr; the 3 before start on 11 Mar.
    view, periods = previous_range(GrowthQuery(Grain.WEEK, D(2024, 4, 3), D(2024, 4, 21)),
                                   BOUNDS)
    assert (view.start, view.end, periods) == (D(2024, 3, 11), D(2024, 3, 31), 3)
    # The whole data has nothing before it.
    assert previous_range(GrowthQuery(Grain.MONTH), BOUNDS) is None


def test_previous_rows_lie_over_the_periods_they_are_compared_with():
    previous = pd.DataFrame({"period_start": [D(2024, 2, 1), D(2024, 3, 1)],
                             "new_users": [5, 7]})
    moved = shifted_forward(previous, 2, Grain.MONTH)
    assert moved["period_start"].tolist() == [D(2024, 4, 1), D(2024, 5, 1)]
    current = pd.DataFrame({"period_start": [D(2024, 4, 1), D(2024, 5, 1), D(2024, 6, 1)]})
    line, = previous_lines(current, moved, [(GROWTH["new_users"], "y", 1)])
    assert line["y"] == [5, 7, None] and line["customdata"][:2] == ["2024-02-01", "2024-03-01"]
    assert line["line"]["dash"] == "dash"


def names(figure) -> list[str]:
    return [trace.get("name") for trace in figure["data"]]


def test_the_panels_answer_with_a_comparison_and_breakdowns(app):
    client = app.server.test_client()
    _, growth, _ = ask_panel(client, app, panel_named("growth"), compare=True)
    combined = growth[ids.GROWTH_COMBINED_CHART]["figure"]
    # The log's data starts on its first day: no previous range, no dashed lines.
    assert not any("previous range" in str(name) for name in names(combined))
    _, by_platform, _ = ask_panel(client, app, panel_named("growth"), breakdown="platform")
    chart = by_platform[ids.GROWTH_COMBINED_CHART]["figure"]
    assert chart["layout"]["title"]["text"] == "Active by platform"
    assert {"ios", "web"} <= set(names(chart))
    _, retention, _ = ask_panel(client, app, panel_named("retention"), breakdown="platform")
    assert "by platform" in retention[ids.RETENTION_CURVE]["figure"]["layout"]["title"]["text"]
