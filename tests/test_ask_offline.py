"""The built-in analyst (no model) against values computed independently from the raw events
(tests/ask_expected.py walks sets of user ids month by month)."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest
from cachelib import SimpleCache

from app.config import Config
from queries.ask import AskContext, ask
from queries.ask.questions import EXAMPLES
from queries.backends import DuckDBBackend
from queries.cache import CachedBackend
from queries.filters import SegmentFilter
from queries.growth import GrowthQuery
from queries.periods import Grain
from tests.ask_expected import (
    DATA_END,
    cohort_retained,
    demo_database,
    experiment_counts,
    monthly_growth,
    raw_events,
    revenue_between,
)

OFFLINE = Config()  # no OPENAI_API_KEY: the built-in analyst answers
MAY, APRIL, MARCH, JUNE = (pd.Period(f"2025-{m:02d}", "M") for m in (5, 4, 3, 6))


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    return demo_database(tmp_path_factory.mktemp("ask"))


@pytest.fixture(scope="module")
def growth(demo_db):
    return monthly_growth(raw_events(demo_db))


def context(db, grain=Grain.WEEK, segment=None, start=None, end=None):
    backend = CachedBackend(DuckDBBackend(db), SimpleCache())
    return AskContext(backend, GrowthQuery(grain, start, end, segment or SegmentFilter()))


def answer_text(answer) -> str:
    return "\n".join([answer.text, *answer.bullets, *answer.notes])


def test_month_with_the_highest_churn_rate(demo_db, growth):
    complete = growth[growth["complete"] & growth["previous_active"].gt(0)]
    churn_rate = complete["churned"] / complete["previous_active"]
    month = churn_rate.idxmax()

    answer = ask("What month had the highest churn rate?", context(demo_db), OFFLINE)

    expected = f"{month:%B %Y} had the highest churn rate: {churn_rate.max():.1%}"
    assert answer.text.startswith(expected)
    assert f"{complete.loc[month, 'churned']:,} churned users" in answer.text
    # June 2025 is incomplete: left out, and the answer says so.
    assert any("June 2025 is still in progress" in note for note in answer.notes)
    assert answer.numbers["churn_rate"].iloc[0] == pytest.approx(churn_rate.max())
    assert any("from user_periods_month" in sql for sql in answer.sql)


def test_compare_two_metrics_in_a_named_month(demo_db, growth):
    april = growth.loc[APRIL]
    answer = ask("Compare new users vs resurrected users in April.", context(demo_db), OFFLINE)
    assert answer.text.startswith(
        f"In April 2025: new users {april['new']:,}, resurrected users {april['resurrected']:,}"
    )
    march = growth.loc[MARCH]
    assert f"New users from March 2025: {march['new']:,} → {april['new']:,}" in answer.bullets[0]
    assert list(answer.numbers["value"]) == [april["new"], april["resurrected"]]


def test_why_quick_ratio_dropped_names_the_components(demo_db, growth):
    april, may = growth.loc[APRIL], growth.loc[MAY]
    ratio = {m: (g["new"] + g["resurrected"]) / g["churned"] for m, g in (("a", april), ("m", may))}

    answer = ask("Why did quick ratio drop in May?", context(demo_db), OFFLINE)

    moved = "fell" if ratio["m"] < ratio["a"] else "rose"
    assert f"{moved} from {ratio['a']:.2f} in April 2025 to {ratio['m']:.2f} in May 2025" in (
        answer.text
    )
    for label, column in (("New users", "new"), ("Resurrected users", "resurrected"),
                          ("Churned users", "churned")):
        change = may[column] - april[column]
        expected = f"{label}: {april[column]:,} → {may[column]:,} ({change:+,}"
        assert any(bullet.startswith(expected) for bullet in answer.bullets)
    # The driver: the factor with the larger share of the change in log(quick ratio).
    gained = {m: g["new"] + g["resurrected"] for m, g in (("a", april), ("m", may))}
    numerator_effect = math.log(gained["m"] / gained["a"])
    denominator_effect = -math.log(may["churned"] / april["churned"])
    direction = math.copysign(1, numerator_effect + denominator_effect)
    if denominator_effect * direction > numerator_effect * direction:
        assert answer.bullets[-1].startswith("Main driver: churned users (")
    else:
        assert answer.bullets[-1].startswith("Main driver: new users + resurrected users (")


def test_cohort_retention_after_three_months(demo_db):
    size, retained = cohort_retained(raw_events(demo_db), MARCH, JUNE)
    answer = ask(
        "How many users were retained after 3 months from the March cohort?",
        context(demo_db), OFFLINE,
    )
    assert answer.text == (
        f"Of the {size:,} users whose first active month was March 2025, {retained:,}"
        f" ({retained / size:.1%}) were active 3 months later, in June 2025."
    )
    assert "June 2025 is still in progress" in answer.notes[0]


def test_question_grain_overrides_the_view_and_lowest_uses_complete_periods(demo_db, growth):
    complete = growth[growth["complete"]]
    month = complete["active"].idxmin()
    answer = ask("Which month had the lowest active users?", context(demo_db, Grain.DAY), OFFLINE)
    lowest = complete["active"].min()
    assert answer.text == f"{month:%B %Y} had the lowest active users: {lowest:,}."


def test_view_filters_and_range_are_used(demo_db):
    ios = raw_events(demo_db, "platform = 'ios'")
    growth = monthly_growth(ios)
    in_range = growth.loc[pd.Period("2024-09", "M"):pd.Period("2025-02", "M")]
    month = in_range["new"].idxmax()
    view = context(
        demo_db, segment=SegmentFilter.from_mapping({"platform": ["ios"]}),
        start=dt.date(2024, 9, 1), end=dt.date(2025, 2, 28),
    )
    answer = ask("What month had the most new users?", view, OFFLINE)
    assert answer.text == f"{month:%B %Y} had the highest new users: {in_range['new'].max():,}."


def test_revenue_in_the_last_28_days_against_the_28_before(demo_db):
    events = raw_events(demo_db)
    start, previous_start = DATA_END - dt.timedelta(days=27), DATA_END - dt.timedelta(days=55)
    current = revenue_between(events, start, DATA_END)
    previous = revenue_between(events, previous_start, start - dt.timedelta(days=1))
    answer = ask("How did revenue in the last 28 days compare with the previous 28 days?",
                 context(demo_db), OFFLINE)
    assert answer.text.startswith(
        f"Revenue from {start:%d %b %Y} to {DATA_END:%d %b %Y}: ${current:,.2f}, against"
        f" ${previous:,.2f} in the 28 days before"
    )


def test_experiment_verdict_rests_on_the_right_counts(demo_db):
    expected = experiment_counts(demo_db, "checkout_button")
    answer = ask("Does the treatment win in checkout_button?", context(demo_db), OFFLINE)
    counts = answer.numbers.set_index("variant")[["users", "converters"]]
    assert counts.sort_index().to_dict() == expected.sort_index().astype(int).to_dict()
    assert answer.text.startswith(("Yes:", "No:", "Not yet:"))
    assert any("chance to beat control" in bullet for bullet in answer.bullets)


def test_sample_ratio_mismatch_withholds_the_verdict(demo_db):
    answer = ask("Which variant wins onboarding_flow?", context(demo_db), OFFLINE)
    counts = experiment_counts(demo_db, "onboarding_flow")["users"]
    from scipy.stats import chisquare

    if chisquare(counts).pvalue < 0.001:
        assert answer.text.startswith("No verdict for onboarding_flow: Sample ratio mismatch")
    else:
        assert not answer.text.startswith("No verdict")


def test_unrecognised_question_lists_what_it_can_answer(demo_db):
    answer = ask("What is the meaning of life?", context(demo_db), OFFLINE)
    assert answer.text.startswith("I could not match that question")
    for _, example in EXAMPLES:
        assert any(example in bullet for bullet in answer.bullets)


# A hand-made log spanning two Aprils: a month name means the latest one unless a year is given.
TWO_APRILS = [
    ("2024-04-03 10:00:00", "a", "login"), ("2024-04-10 10:00:00", "b", "login"),
    ("2024-04-20 10:00:00", "c", "login"), ("2025-04-02 10:00:00", "d", "login"),
    ("2025-04-03 10:00:00", "a", "login"), ("2025-05-31 10:00:00", "d", "login"),
]


def test_month_names_resolve_to_the_latest_unless_a_year_is_given(make_db):
    db = make_db(TWO_APRILS)
    # April 2025: d is new, a comes back (resurrected); April 2024: a, b, c are all new.
    latest = ask("How many new users in April?", context(db), OFFLINE)
    assert latest.text == "New users in April 2025: 1."
    named = ask("How many new users in April 2024?", context(db), OFFLINE)
    assert named.text == "New users in April 2024: 3."
    resurrected = ask("Resurrected users in April", context(db), OFFLINE)
    assert resurrected.text == "Resurrected users in April 2025: 1."
    outside = ask("Why did churned users rise in June 2023?", context(db), OFFLINE)
    assert "outside the data" in outside.text
