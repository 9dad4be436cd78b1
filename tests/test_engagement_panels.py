"""The engagement and revenue-cohort panels' pure parts on tables made by hand: which periods
the stickiness chart compares, the ratios chart's warm-up days, the LTV curve's average over
complete cells, and revenue retention at the next period."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from layouts import engagement, ltv

D = dt.date


def stickiness(periods: list[tuple[dt.date, bool]]) -> pd.DataFrame:
    rows = [{"period_start": start, "days_active": day, "users": 10 - day, "share": 0.1,
             "is_complete": complete} for start, complete in periods for day in range(1, 8)]
    return pd.DataFrame(rows)


def test_stickiness_compares_the_two_latest_complete_periods():
    table = stickiness([(D(2025, 1, 6), True), (D(2025, 1, 13), True), (D(2025, 1, 20), True),
                        (D(2025, 1, 27), False)])
    names = [trace["name"] for trace in engagement.stickiness_figure(table, "week")["data"]]
    assert names == ["week of 13 Jan 2025", "week of 20 Jan 2025"]
    only_open = stickiness([(D(2025, 1, 27), False)])
    figure = engagement.stickiness_figure(only_open, "week")
    assert figure["layout"]["annotations"][0]["text"] == "No complete week in this date range yet."


def test_the_ratios_leave_out_the_datas_first_27_days():
    days = [D(2025, 1, 1) + dt.timedelta(n) for n in range(40)]
    table = pd.DataFrame({"day": days, **{column: [0.5] * 40 for column, _ in engagement.RATIOS}})
    figure = engagement.ratios_figure(table, D(2025, 1, 1))
    assert figure["data"][0]["x"][0] == "2025-01-28"  # 1 Jan + 27 days
    assert len(engagement.ratios_figure(table)["data"][0]["x"]) == 40


def test_the_ltv_curve_averages_complete_cells_of_three_or_more_cohorts():
    rows = []
    for cohort, size, per_user, last_complete in [(D(2025, 1, 1), 10, [5, 8, 9], 2),
                                                  (D(2025, 2, 1), 30, [1, 2, 4], 1),
                                                  (D(2025, 3, 1), 60, [2, 3, 3], 1)]:
        for k, value in enumerate(per_user):
            rows.append({"cohort_start": cohort, "cohort_size": size, "period_index": k,
                         "revenue": value * size / (k + 1),
                         "cumulative_revenue_per_user": value, "is_complete": k <= last_complete})
    table = pd.DataFrame(rows)
    average = ltv.average_ltv(table).set_index("period_index")["ltv"]
    # k = 0: (5·10 + 1·30 + 2·60) / 100 = 2.0; k = 1: (8·10 + 2·30 + 3·60) / 100 = 3.2;
    # k = 2 has one complete cohort: left out.
    assert average.to_dict() == {0: 2.0, 1: 3.2}
    # Revenue at k = 1 over k = 0, over the cohorts complete at both: (40 + 30 + 90) / (50 + 30
    # + 120).
    assert ltv.retention_share(table) == (40 + 30 + 90) / (50 + 30 + 120)
