"""The figure builders return plain dicts: Plotly's own validator must accept them, the table's
numbers must reach the traces, the period in progress must be shaded, and json.dumps must encode
them without help (no numpy, pandas or NaN left)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
import pytest

from layouts import charts, experiment_charts, retention_charts, revenue_charts
from queries.growth import METRICS
from queries.metrics import GROWTH as METRICS_BY_COLUMN
from queries.revenue import WindowComparison

PLAIN_TYPES = (dict, list, str, int, float, bool, type(None))
MONDAYS = [dt.date(2025, 1, 6), dt.date(2025, 1, 13), dt.date(2025, 1, 20)]


def checked(figure: dict) -> dict:
    """The builder's dict, after Plotly's validator and a strict JSON encoding accepted it."""
    go.Figure(figure)  # raises ValueError on a misspelt property or a value of the wrong kind
    json.dumps(figure, allow_nan=False)
    assert_plain(figure)
    return figure


def assert_plain(value, path="figure") -> None:
    # json.dumps alone would let numpy.float64 (a float subclass) through.
    assert type(value) in PLAIN_TYPES, f"{path} is a {type(value).__name__}"
    if isinstance(value, dict):
        for key, item in value.items():
            assert_plain(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            assert_plain(item, f"{path}[{index}]")


def traces(figure: dict) -> dict[str, dict]:
    return {trace.get("name"): trace for trace in figure["data"]}


def shaded_spans(figure: dict) -> list[tuple[str, str, str]]:
    return [(shape["xref"], shape["x0"], shape["x1"])
            for shape in figure["layout"].get("shapes", []) if shape["type"] == "rect"]


def growth_table(is_complete=(True, True, False)) -> pd.DataFrame:
    new, retained, resurrected, churned = [5, 7, 2], [0, 4, 6], [0, 1, 0], [0, 1, 6]
    previous_active = [None, 5, 12]
    active = [n + r + s for n, r, s in zip(new, retained, resurrected, strict=True)]
    return pd.DataFrame({
        "period_start": MONDAYS,
        "new_users": new,
        "retained_users": retained,
        "resurrected_users": resurrected,
        "churned_users": churned,
        "active_users": active,
        # Retained over the previous period's active users; undefined for the first period.
        "retention_rate": [None if p is None else r / p
                           for r, p in zip(retained, previous_active, strict=True)],
        "quick_ratio": [None, (7 + 1) / 1, (2 + 0) / 6],
        "is_complete": list(is_complete),
    })


def test_combined_growth_figure_carries_the_table_and_shades_the_open_week():
    table = growth_table()
    figure = checked(charts.combined_figure(table, "week"))
    drawn = traces(figure)
    assert drawn["New"]["y"] == [5, 7, 2]
    assert drawn["Resurrected"]["y"] == [0, 1, 0]
    assert drawn["Retained"]["visible"] == "legendonly"
    assert drawn["Churned"]["y"] == [0, -1, -6]  # drawn below zero
    assert drawn["Churned"]["customdata"] == [0, 1, 6]  # the hover shows the count
    # A percentage does not share the quick ratio's axis: it has its own chart.
    assert "Retention rate" not in drawn
    # The open week's quick ratio is a dotted continuation, not part of the solid line.
    assert drawn["Quick ratio"]["y"] == [None, 8.0, None]
    assert drawn["Quick ratio (in progress)"]["y"] == [None, 8.0, 2 / 6]
    assert drawn["Quick ratio (in progress)"]["line"]["dash"] == "dot"
    assert drawn["Quick ratio (in progress)"]["showlegend"] is False
    assert drawn["New"]["x"] == ["2025-01-06", "2025-01-13", "2025-01-20"]
    assert drawn["New"]["marker"]["opacity"] == [1, 1, 0.55]
    assert drawn["New"]["marker"]["pattern"]["shape"] == ["", "", "/"]  # hatched
    # The week of 20 January is centred on its Monday: 3.5 days either side.
    assert shaded_spans(figure) == [("x", "2025-01-16T12:00:00", "2025-01-23T12:00:00")]
    layout = figure["layout"]
    assert layout["annotations"][0]["text"] == "in progress"
    assert layout["annotations"][0]["yanchor"] == "bottom"  # above the plot, over no bar
    assert layout["uirevision"] == "keep"
    # The scale comes from the complete weeks: churn down to 1 (the open week's 6 is left
    # out), new + resurrected + retained up to 7 + 1 + 4 = 12; 5% to spare.
    assert layout["yaxis"]["autorangeoptions"] == {"clipmin": -1.05, "clipmax": 12 * 1.05}
    # Quick ratio: its own axis, up to the complete week's 8 (x 1.05), with the line at 1.
    assert layout["yaxis2"]["range"] == [0, 8 * 1.05]
    (line,) = [shape for shape in layout["shapes"] if shape["type"] == "line"]
    assert (line["yref"], line["y0"], line["y1"]) == ("y2", 1, 1)
    # The x axis fits the bars; ticks on Mondays, the hover names the week.
    assert layout["xaxis"]["range"] == ["2025-01-02T12:00:00", "2025-01-23T12:00:00"]
    assert layout["xaxis"]["tick0"] == "2025-01-06"
    assert layout["xaxis"]["dtick"] == 7 * 24 * 3600 * 1000
    assert layout["xaxis"]["hoverformat"] == "Week of %-d %b %Y"


def test_ticks_of_long_ranges_step_whole_weeks_and_months():
    weeks = [(dt.date(2025, 1, 6) + dt.timedelta(weeks=i)).isoformat() for i in range(66)]
    axis = charts.period_xaxis(weeks, "week")
    # 66 weeks in at most 7 ticks: 13 weeks apart, still from a Monday.
    assert axis["dtick"] == 13 * 7 * 24 * 3600 * 1000 and axis["tick0"] == "2025-01-06"
    months = [f"2025-{m:02d}-01" for m in range(1, 13)]
    assert charts.period_xaxis(months, "month")["dtick"] == "M2"
    assert charts.period_xaxis(months, "month")["hoverformat"] == "%B %Y"


def test_seven_day_average_is_a_mean_of_counts_and_a_ratio_of_sums():
    days = pd.date_range("2025-01-01", periods=9).date
    table = pd.DataFrame({
        "period_start": days, "new_users": [7, 0, 7, 0, 7, 0, 7, 14, 1],
        "retained_users": [0, 1, 1, 1, 1, 1, 1, 1, 1], "resurrected_users": [0] * 9,
        "churned_users": [0, 7, 0, 7, 0, 7, 0, 0, 20],
        "active_users": [7, 1, 8, 1, 8, 1, 8, 15, 2], "is_complete": [True] * 8 + [False],
    })
    new = charts.rolling(table, METRICS_BY_COLUMN["new_users"])
    assert new.isna()[:6].all()
    assert new[6] == 28 / 7 and new[7] == 35 / 7  # days 1-7, then days 2-8
    assert pd.isna(new[8])  # the day in progress is left out
    quick = charts.rolling(table, METRICS_BY_COLUMN["quick_ratio"])
    # Days 2-8: new 35 over churned 21, not the mean of the daily ratios.
    assert quick[7] == 35 / 21
    figure = checked(charts.combined_figure(table, "day", smooth=True))
    assert figure["layout"]["title"]["text"] == "Growth accounting, 7-day average"
    assert traces(figure)["New"]["y"][7] == 5.0
    assert traces(figure)["New"]["marker"]["line"] == {"width": 0}  # no slivers at day grain


def test_complete_periods_are_not_shaded_and_months_are_shaded_around_their_first_day():
    assert shaded_spans(charts.combined_figure(growth_table((True,) * 3), "week")) == []
    table = growth_table((True, False, False)).assign(
        period_start=[dt.date(2025, 1, 1), dt.date(2025, 2, 1), dt.date(2025, 3, 1)]
    )
    figure = checked(charts.combined_figure(table, "month"))
    assert shaded_spans(figure) == [
        ("x", "2025-01-17T00:00:00", "2025-02-16T00:00:00"),
        ("x", "2025-02-14T00:00:00", "2025-03-16T00:00:00"),
    ]


def test_a_chart_per_metric_each_with_its_column_and_the_shading():
    table = growth_table()
    figures = charts.metric_figures(table, "day")
    assert [metric for metric, _ in figures] == list(METRICS)
    for metric, figure in figures:
        checked(figure)
        trace = figure["data"][0]
        expected = [None if pd.isna(value) else value for value in table[metric.column]]
        if metric.is_ratio:  # the day in progress continues the line, dotted
            assert trace["y"] == [*expected[:2], None], metric.column
            assert figure["data"][1]["y"] == [None, *expected[1:]], metric.column
        else:
            assert trace["y"] == expected, metric.column
        assert trace["type"] == ("scatter" if metric.is_ratio else "bar")
        assert figure["layout"]["title"]["text"] == metric.label
        assert shaded_spans(figure) == [("x", "2025-01-19T12:00:00", "2025-01-20T12:00:00")]
    by_column = {metric.column: figure for metric, figure in figures}
    assert by_column["retention_rate"]["layout"]["yaxis"]["tickformat"] == ".0%"
    # Churned: the complete days' 0 and 1 set the scale, not the open day's 6.
    assert by_column["churned_users"]["layout"]["yaxis"]["autorangeoptions"] == {"clipmax": 1.05}


def test_empty_figure_shows_the_message_on_hidden_axes():
    figure = checked(charts.empty_figure("Nothing here.", height=300))
    assert figure["data"] == []
    assert figure["layout"]["annotations"][0]["text"] == "Nothing here."
    assert figure["layout"]["xaxis"]["visible"] is False
    assert figure["layout"]["height"] == 300


def test_every_figure_uses_the_compact_template_taken_from_plotly_white():
    white = pio.templates["plotly_white"].to_plotly_json()
    for key, value in charts.TEMPLATE["layout"].items():
        if key in ("paper_bgcolor", "plot_bgcolor"):
            # Transparent, so a dark page shows through.
            assert value == "rgba(0,0,0,0)", key
            continue
        assert value == white["layout"][key], key
    assert {"colorway", "font", "xaxis", "yaxis"} <= charts.TEMPLATE["layout"].keys()
    bar_line = white["data"]["bar"][0]["marker"]["line"]
    assert charts.TEMPLATE["data"]["bar"][0]["marker"]["line"] == bar_line
    assert len(json.dumps(charts.TEMPLATE)) < 1500  # plotly_white itself is about 7 KB
    for figure in (charts.empty_figure("x"), charts.combined_figure(growth_table(), "week")):
        assert figure["layout"]["template"] is charts.TEMPLATE


def retention_table() -> pd.DataFrame:
    """Three weekly cohorts; the data ends in the week of 20 January."""
    cells = [  # cohort, size, k, retained, complete
        (dt.date(2025, 1, 6), 10, 0, 10, True), (dt.date(2025, 1, 6), 10, 1, 4, True),
        (dt.date(2025, 1, 6), 10, 2, 1, False),
        (dt.date(2025, 1, 13), 5, 0, 5, True), (dt.date(2025, 1, 13), 5, 1, 2, False),
        (dt.date(2025, 1, 20), 8, 0, 8, False),
    ]
    frame = pd.DataFrame(cells, columns=["cohort_start", "cohort_size", "period_index",
                                         "retained_users", "is_complete"])
    frame["retention_rate"] = frame["retained_users"] / frame["cohort_size"]
    return frame


def retention_average() -> pd.DataFrame:
    # By hand, over complete cells only: k=0 is (10 + 5) / (10 + 5), k=1 is 4 / 10.
    return pd.DataFrame({"period_index": [0, 1], "retained_users": [15, 4],
                         "eligible_users": [15, 10], "retention_rate": [1.0, 0.4],
                         "cohorts": [2, 1]})


def test_heatmap_has_the_average_row_then_one_row_per_cohort():
    figure, labels = retention_charts.heatmap_figure(
        retention_table(), retention_average(), show_counts=False, max_periods=26)
    (heatmap,) = checked(figure)["data"]
    assert heatmap["x"] == [0, 1, 2]
    assert heatmap["y"] == labels == ["Weighted average", "2025-01-06 · 10", "2025-01-13 · 5",
                                      "2025-01-20 · 8"]
    # The labels are HTML beside the plot (they stay while it scrolls), not Plotly's.
    assert figure["layout"]["yaxis"]["showticklabels"] is False
    # Colours scale on the periods after 0 (0 is always 100%): up to 40% here.
    assert (heatmap["zmin"], heatmap["zmax"]) == (0, 0.4)
    assert heatmap["z"] == [[1.0, 0.4, None], [1.0, 0.4, 0.1], [1.0, 0.4, None],
                            [1.0, None, None]]
    # Cells still in progress are starred, and their hover says so.
    # One decimal in every cell.
    assert heatmap["text"] == [["100%", "40.0%", ""], ["100%", "40.0%", "10.0%*"],
                               ["100%", "40.0%*", ""], ["100%*", "", ""]]
    assert heatmap["customdata"][1] == [[10, ""], [4, ""], [1, "<br>period still in progress"]]
    assert heatmap["customdata"][0][1] == [4, "<br>of 10 users in 1 complete cohorts"]
    assert heatmap["customdata"][3][1:] == [None, None]
    assert "%{customdata[0]:,} retained (%{z:.1%})" in heatmap["hovertemplate"]
    assert figure["layout"]["yaxis"]["autorange"] == "reversed"
    # One height whatever the number of rows (a chart whose height changes is drawn twice):
    # room for the average and 20 cohorts at 26 px, plus the axes.
    assert figure["layout"]["height"] == 26 * 21 + 120


def test_heatmap_shows_users_when_asked_and_cuts_at_the_periods_shown():
    figure, labels = retention_charts.heatmap_figure(
        retention_table(), retention_average(), show_counts=True, max_periods=1)
    (heatmap,) = checked(figure)["data"]
    assert heatmap["x"] == [0, 1]
    # The top row is a mean over the complete cohorts, and says so: k=0 (10 + 5) / 2 = 7.5,
    # k=1 4 / 1 (only the first cohort's period 1 is complete).
    assert labels[0] == "Mean per cohort"
    assert heatmap["text"] == [["7.5", "4.0"], ["10", "4"], ["5", "2*"], ["8*", ""]]
    assert "mean 7.5 users over 2 complete cohorts (15 in all)" in heatmap["customdata"][0][0][1]
    assert heatmap["z"][1] == [1.0, 0.4]


def test_retention_curve_has_the_average_and_the_chosen_cohorts():
    table = retention_table()
    figure = checked(retention_charts.curve_figure(
        table, retention_average(), ["2025-01-06"], max_periods=26))
    drawn = traces(figure)
    assert drawn["Weighted average"]["x"] == [0, 1]
    assert drawn["Weighted average"]["y"] == [1.0, 0.4]
    assert drawn["2025-01-06"]["y"] == [1.0, 0.4, 0.1]
    assert figure["layout"]["yaxis"]["range"] == [0, 1.02]


def revenue_trend() -> pd.DataFrame:
    revenue, orders = [100.5, 0.0, 42.25], [3, 0, 1]
    return pd.DataFrame({
        "period_start": MONDAYS, "revenue": revenue, "orders": orders,
        "paying_users": [2, 0, 1], "active_users": [9, 4, 3],
        "aov": [r / o if o else None for r, o in zip(revenue, orders, strict=True)],
        "arpu": [100.5 / 9, 0.0, 42.25 / 3], "is_complete": [True, True, False],
    })


def test_revenue_trend_has_revenue_above_orders_and_aov_below_both_shaded():
    figure = checked(revenue_charts.trend_figure(revenue_trend(), None, "week"))
    drawn = traces(figure)
    assert drawn["Revenue"]["y"] == [100.5, 0.0, 42.25]
    assert drawn["Orders"]["y"] == [3, 0, 1]
    # The open week's AOV continues the line, dotted.
    assert drawn["AOV"]["y"] == [100.5 / 3, None, None]
    assert drawn["AOV (in progress)"]["y"] == [None, None, 42.25]
    assert (drawn["Orders"]["xaxis"], drawn["Orders"]["yaxis"]) == ("x2", "y2")
    assert (drawn["AOV"]["xaxis"], drawn["AOV"]["yaxis"]) == ("x3", "y3")
    layout = figure["layout"]
    # Revenue on top, orders below, AOV at the bottom: one axis per unit, sharing the dates.
    assert layout["yaxis"]["domain"][0] > layout["yaxis2"]["domain"][1]
    assert layout["yaxis2"]["domain"][0] > layout["yaxis3"]["domain"][1]
    assert layout["xaxis"]["matches"] == layout["xaxis2"]["matches"] == "x3"
    assert "overlaying" not in layout["yaxis3"]
    # The scale of each row comes from the complete weeks.
    assert layout["yaxis"]["autorangeoptions"] == {"clipmax": 100.5 * 1.05}
    assert layout["yaxis3"]["autorangeoptions"] == {"clipmax": 33.5 * 1.05}
    span = ("2025-01-16T12:00:00", "2025-01-23T12:00:00")
    assert shaded_spans(figure) == [("x", *span), ("x2", *span), ("x3", *span)]


def test_revenue_breakdown_stacks_one_bar_per_segment():
    breakdown = pd.DataFrame({
        "period_start": [MONDAYS[0], MONDAYS[0], MONDAYS[1]],
        "segment_value": ["ios", "web", "ios"], "revenue": [60.5, 40.0, 0.0],
    })
    figure = checked(revenue_charts.trend_figure(revenue_trend(), breakdown, "week"))
    drawn = traces(figure)
    assert "Revenue" not in drawn
    assert drawn["ios"]["y"] == [60.5, 0.0] and drawn["ios"]["x"] == ["2025-01-06", "2025-01-13"]
    assert drawn["web"]["y"] == [40.0]
    assert figure["layout"]["barmode"] == "stack"


def test_window_chart_lays_the_previous_window_over_the_same_days():
    days = [dt.date(2025, 1, day) for day in range(1, 7)]
    daily = pd.DataFrame({"period_start": days, "revenue": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]})
    comparison = WindowComparison(
        start=dt.date(2025, 1, 4), end=dt.date(2025, 1, 6), previous_start=dt.date(2025, 1, 1),
        previous_end=dt.date(2025, 1, 3), revenue=15.0, previous_revenue=6.0, orders=3,
        previous_orders=3, paying_users=3, previous_paying_users=3, data_end=dt.date(2025, 1, 6),
    )
    figure = checked(revenue_charts.window_figure(daily, comparison, overlay_previous=True))
    current, previous = figure["data"]
    assert current["x"] == ["2025-01-04", "2025-01-05", "2025-01-06"]
    assert current["y"] == [4.0, 5.0, 6.0]
    assert previous["x"] == current["x"]  # shifted by the window's three days
    assert previous["y"] == [1.0, 2.0, 3.0]
    assert previous["customdata"] == ["2025-01-01", "2025-01-02", "2025-01-03"]
    alone = checked(revenue_charts.window_figure(daily, comparison, overlay_previous=False))
    assert len(alone["data"]) == 1
    assert "vs previous" not in alone["layout"]["title"]["text"]
    empty = checked(revenue_charts.window_figure(daily, None, overlay_previous=True))
    assert empty["layout"]["annotations"][0]["text"].startswith("Pick a date range")
    # A window at the data's start: nothing to overlay, and the subtitle says why.
    first = replace(comparison, data_start=dt.date(2025, 1, 4))
    lonely = checked(revenue_charts.window_figure(daily, first, overlay_previous=True))
    assert len(lonely["data"]) == 1 and lonely["data"][0]["mode"] == "lines+markers"
    assert lonely["layout"]["title"]["subtitle"]["text"] == (
        "No data before 4 Jan 2025 to compare with")


def test_a_long_daily_window_is_drawn_without_markers_and_ticked_on_mondays():
    days = pd.date_range("2025-01-01", "2025-06-30").date
    daily = pd.DataFrame({"period_start": days, "revenue": [1.0] * len(days)})
    comparison = WindowComparison(
        start=days[0], end=days[-1], previous_start=dt.date(2024, 7, 5),
        previous_end=dt.date(2024, 12, 31), revenue=181.0, previous_revenue=0.0, orders=1,
        previous_orders=0, paying_users=1, previous_paying_users=0, data_end=days[-1],
        data_start=days[0])
    figure = checked(revenue_charts.window_figure(daily, comparison, overlay_previous=True))
    assert figure["data"][0]["mode"] == "lines"  # 181 days
    assert figure["layout"]["xaxis"]["tick0"] == "2025-01-06"  # the first Monday


def test_funnel_and_its_breakdown_by_segment():
    steps = pd.DataFrame({"step": [1, 2, 3], "event_type": ["page_view", "add_to_cart",
                                                             "purchase"], "users": [100, 40, 10]})
    funnel = checked(revenue_charts.funnel_figure(steps))
    assert funnel["data"][0]["x"] == [100, 40, 10]
    assert funnel["data"][0]["y"] == ["1. page_view", "2. add_to_cart", "3. purchase"]

    breakdown = pd.concat([
        steps.assign(segment_value="ios", conversion_from_first=[1.0, 0.5, 0.2]),
        steps.assign(segment_value="web", conversion_from_first=[1.0, 0.3, 0.05]),
    ])
    figure = checked(revenue_charts.funnel_breakdown_figure(breakdown))
    drawn = traces(figure)
    assert drawn["ios"]["x"] == ["2. add_to_cart", "3. purchase"]  # step 1 is always 100%
    assert drawn["ios"]["y"] == [0.5, 0.2] and drawn["web"]["y"] == [0.3, 0.05]
    single = checked(revenue_charts.funnel_breakdown_figure(steps.assign(
        segment_value="all", conversion_from_first=[1.0, 0.4, 0.1])))
    assert single["layout"]["annotations"][0]["text"].startswith("Choose a breakdown")


def experiment_table() -> pd.DataFrame:
    return pd.DataFrame({
        "variant": ["control", "B", "C"], "is_control": [True, False, False],
        "lift_rel": [None, 0.2, -0.1], "lift_rel_ci_low": [None, 0.05, -0.3],
        "lift_rel_ci_high": [None, 0.4, 0.15],
    })


def test_lift_chart_has_one_point_per_treatment_with_its_interval():
    figure = checked(experiment_charts.lift_figure(experiment_table()))
    (points,) = figure["data"]
    assert points["y"] == ["B", "C"]
    assert points["x"] == [0.2, -0.1]
    assert points["error_x"]["array"] == pytest.approx([0.2, 0.25])  # high - lift
    assert points["error_x"]["arrayminus"] == pytest.approx([0.15, 0.2])  # lift - low
    (zero,) = figure["layout"]["shapes"]
    assert (zero["type"], zero["x0"], zero["x1"]) == ("line", 0, 0)
    assert figure["layout"]["height"] == 120 + 60 * 2
    no_lift = experiment_table().assign(lift_rel=None)
    empty = checked(experiment_charts.lift_figure(no_lift))
    assert empty["layout"]["annotations"][0]["text"] == "No treatment with a defined lift."


def test_cumulative_chart_has_a_line_per_variant_the_control_thicker():
    daily = pd.DataFrame({
        "variant": ["control", "control", "B", "B"],
        "day": [pd.Timestamp("2025-01-01"), pd.Timestamp("2025-01-02")] * 2,
        "users": [10, 20, 10, 20], "converters": [1, 3, 2, 5],
    })
    daily["conversion_rate"] = daily["converters"] / daily["users"]
    figure = checked(experiment_charts.cumulative_figure(daily, "control"))
    drawn = traces(figure)
    assert drawn["control (control)"]["y"] == [0.1, 0.15]
    assert drawn["control (control)"]["line"]["width"] == 3
    assert drawn["B"]["x"] == ["2025-01-01", "2025-01-02"]
    assert drawn["B"]["y"] == [0.2, 0.25]
    empty = checked(experiment_charts.cumulative_figure(daily.iloc[0:0], "control"))
    assert empty["layout"]["annotations"][0]["text"] == "No assignment dates to plot."


def test_a_daily_series_past_two_weeks_has_its_ticks_on_mondays():
    # 1 Jan 2025 is a Wednesday; 6 Jan the first Monday (checked on a calendar).
    assert "tick0" not in charts.day_xaxis("2025-01-01", "2025-01-13")  # 13 days: Plotly's own
    axis = charts.day_xaxis(pd.Timestamp("2025-01-01"), pd.Timestamp("2025-02-11"))
    assert axis["tick0"] == "2025-01-06" and axis["dtick"] == 7 * 24 * 3600 * 1000  # 6 weeks
    long = charts.day_xaxis("2025-01-01", "2025-06-30")  # 26 weeks, at most 7 ticks: 4 apart
    assert long["dtick"] == 4 * 7 * 24 * 3600 * 1000 and long["hoverformat"] == "%a %-d %b %Y"
    assert charts.day_xaxis("2025-01-06", "2025-01-31")["tick0"] == "2025-01-06"


def test_the_validator_catches_a_misspelt_property():
    # What `checked` relies on: a dict Plotly.js would silently ignore fails here.
    figure = charts.empty_figure("x")
    figure["layout"]["heigth"] = 300
    with pytest.raises(ValueError, match="heigth"):
        checked(figure)
