"""The metric catalogue (queries/metrics.py): its formatters against values worked out by hand,
its components against a hand-made period, and every consumer reading it: grids, KPI and window
cards, the chat's parser and the README."""

from __future__ import annotations

import datetime as dt
import math
import re
from pathlib import Path

import pytest

from layouts import components, diagnostics, experiments, growth, ids, retention, revenue
from queries import experiments as experiment_queries
from queries import funnel as funnel_queries
from queries import growth as growth_queries
from queries import metrics as metrics_module
from queries import retention as retention_queries
from queries import revenue as revenue_queries
from queries.ask.questions import METRIC_WORDS
from queries.growth import KpiValue
from queries.metrics import (
    COUNT,
    EXPERIMENT,
    FUNNEL,
    GROWTH,
    KPIS,
    LIFT,
    LIFT_POINTS,
    MONEY,
    P_VALUE,
    PERIOD_METRICS,
    RATE,
    RATIO,
    README_GROWTH,
    RETENTION,
    REVENUE,
    SECONDS,
    format_change,
    format_value,
    hover,
    lower_first,
    markdown_table,
    schema_columns,
    with_decimals,
)
from queries.periods import Grain, first_incomplete_period, period_index
from queries.revenue import WindowComparison

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(("value", "unit", "text"), [
    (0.4567, RATE, "45.7%"),
    (1234.5, MONEY, "$1,234.50"),  # USD, the default currency
    (-3.5, MONEY, "-$3.50"),
    (12345, COUNT, "12,345"),
    (8 / 3, RATIO, "2.67"),
    (42, SECONDS, "42 s"),
    (342, SECONDS, "5 min 42 s"),  # not "342 s"
    (300, SECONDS, "5 min"),
    (3 * 3600 + 5 * 60 + 20, SECONDS, "3 h 5 min"),
    (2 * 86400 + 4 * 3600, SECONDS, "2 d 4 h"),
    (0.125, LIFT, "+12.50%"),
    (0.0284, LIFT_POINTS, "+2.84 pts"),  # an absolute lift: a difference of two rates
    (0.000123456, P_VALUE, "0.0001235"),
])
def test_a_value_is_written_as_its_unit_says(value, unit, text):
    assert format_value(value, unit) == text


@pytest.mark.parametrize(("delta", "unit", "text"), [
    (0.012, RATE, "+1.2 pts"),  # 45.7% → 46.9%: points, not a percentage
    (-0.0345, RATE, "-3.5 pts"),
    (-150, COUNT, "-150"),
    (0.5, RATIO, "+0.50"),
    (-1234.5, MONEY, "-$1,234.50"),
    (12, SECONDS, "+12 s"),
    (-342, SECONDS, "-5 min 42 s"),
])
def test_a_change_is_signed_and_a_rate_changes_in_points(delta, unit, text):
    assert format_change(delta, unit) == text


def test_money_carries_the_configured_currency(monkeypatch):
    monkeypatch.setattr(metrics_module, "CURRENCY", ["EUR"])
    assert format_value(12.5, MONEY) == "€12.50"
    assert hover("y", MONEY) == "€%{y:,.2f}"
    monkeypatch.setattr(metrics_module, "CURRENCY", ["CHF"])
    assert format_change(-3, MONEY) == "-CHF 3.00"  # no well-known symbol: the code


def test_d3_formats_for_hovers_axes_and_grid_cells():
    assert hover("y", COUNT) == "%{y:,}"
    assert hover("customdata[0]", COUNT) == "%{customdata[0]:,}"
    assert hover("z", RATE) == "%{z:.1%}"
    assert hover("y", MONEY) == "$%{y:,.2f}"
    assert hover("y", SECONDS) == "%{y:,.0f} s"
    assert hover("y", RATE, decimals=2) == "%{y:.2%}"
    assert hover("x", LIFT, decimals=1) == "%{x:+.1%}"
    assert (RATE.tick, LIFT.tick, COUNT.tick) == (".0%", "+.0%", None)
    assert with_decimals(".1%", 0) == ".0%"
    assert with_decimals(COUNT.d3, 1) == ",.1f"  # an average of counts
    with pytest.raises(ValueError, match="no precision"):
        with_decimals(RATIO.d3[:-2] + "s", 2)
    assert components.unit_formatter(RATE) == {
        "function": "params.value == null ? '' : d3.format('.1%')(params.value)"}
    # Durations in words, money after the page's currency, points as x 100.
    assert components.unit_formatter(SECONDS) == {
        "function": "params.value == null ? '' : formatDuration(params.value)"}
    assert components.unit_formatter(MONEY) == {
        "function": "params.value == null ? '' : currencyPrefix() + d3.format(',.2f')"
                    "(params.value)"}
    assert components.unit_formatter(LIFT_POINTS) == {
        "function": "params.value == null ? '' : d3.format('+.2f')(params.value * 100)"
                    " + ' pts'"}


def test_labels_inside_sentences_keep_acronyms():
    assert lower_first("Retention rate") == "retention rate"
    assert lower_first("AOV") == "AOV"
    assert REVENUE["aov"].title == "Average order value"


def from_components(metric, row: dict) -> float:
    """The metric recomputed from its components: products of sums, numerators over
    denominators."""
    def product(factors):
        return math.prod(sum(row[column] for column in factor) for factor in factors)
    return product(metric.numerators) / product(metric.denominators)


def test_components_recompute_each_growth_metric_of_a_period_worked_by_hand():
    # 5 new, 4 retained, 1 resurrected, 2 churned, after a period with 6 active users.
    row = {"new_users": 5, "retained_users": 4, "resurrected_users": 1, "churned_users": 2,
           "previous_active_users": 6}
    assert from_components(GROWTH["active_users"], row) == 10
    assert from_components(GROWTH["retention_rate"], row) == 4 / 6
    assert from_components(GROWTH["churn_rate"], row) == 2 / 6
    assert from_components(GROWTH["quick_ratio"], row) == (5 + 1) / 2


def test_components_recompute_each_revenue_metric_of_a_period_worked_by_hand():
    # 3 orders worth 120.00 in a period with 8 active users.
    row = {"revenue": 120.0, "orders": 3, "aov": 40.0, "active_users": 8}
    assert from_components(REVENUE["aov"], row) == 40.0
    assert from_components(REVENUE["arpu"], row) == 15.0
    assert from_components(REVENUE["revenue"], row) == 120.0  # orders × AOV


def test_every_component_and_every_metric_the_chat_can_name_is_in_the_catalogue():
    for metric in PERIOD_METRICS.values():
        for factor in (*metric.numerators, *metric.denominators):
            assert set(factor) <= PERIOD_METRICS.keys(), metric.column
    assert {column for _, column in METRIC_WORDS} <= PERIOD_METRICS.keys()


def metric_columns(columns, *not_metrics) -> list[str]:
    return [column for column in columns if column not in not_metrics]


def test_each_table_of_the_catalogue_lists_the_query_table_metric_columns_in_order():
    assert [c for c in GROWTH if c != "churn_rate"] == metric_columns(
        growth_queries.COLUMNS, "period_start", "is_complete")
    assert list(REVENUE) == metric_columns(
        revenue_queries.TREND_COLUMNS, "period_start", "is_complete")
    assert list(RETENTION) == metric_columns(
        retention_queries.COLUMNS, "cohort_start", "period_index", "is_complete")
    assert list(FUNNEL) == metric_columns(funnel_queries.COLUMNS, "step", "event_type")
    assert list(EXPERIMENT) == metric_columns(
        experiment_queries.COLUMNS, "variant", "is_control")
    for table in (GROWTH, REVENUE, RETENTION, FUNNEL, EXPERIMENT):
        assert all(metric.column == column for column, metric in table.items())


def test_kpi_metrics_each_have_their_own_colour_and_a_definition():
    colours = [metric.colour for metric in KPIS]
    assert all(colours) and len(set(colours)) == len(colours)
    assert all(metric.definition.endswith(".") for metric in KPIS)
    assert growth_queries.METRICS == KPIS


def test_schema_columns_give_each_note_once():
    active = GROWTH["active_users"]
    assert schema_columns([GROWTH["new_users"], active]) == (
        "new_users, active_users (= new + retained + resurrected)")
    assert schema_columns([active], explained=GROWTH) == "active_users"


def test_the_readme_growth_table_is_the_catalogue_rendered():
    table = markdown_table(README_GROWTH)
    assert table.splitlines()[2] == (
        "| new | active in *p*, and *p* is the user's first-ever active period |")
    assert table in (ROOT / "README.md").read_text(encoding="utf-8")


# --- consumers ---------------------------------------------------------------------------------

# Every grid of the layouts and the catalogue table its metric columns come from.
GRIDS = {
    "growth.GRID_COLUMNS": (growth.GRID_COLUMNS, GROWTH),
    "revenue.REVENUE_COLUMNS": (revenue.REVENUE_COLUMNS, REVENUE),
    "revenue.FUNNEL_COLUMNS": (revenue.FUNNEL_COLUMNS, FUNNEL),
    "experiments.GRID_COLUMNS": (experiments.GRID_COLUMNS, EXPERIMENT),
    "retention.grid_columns (users)": (retention.grid_columns([0, 1], True), RETENTION),
    "retention.grid_columns (rates)": (retention.grid_columns([0, 1], False), RETENTION),
}
# The diagnostics grid shows query statistics, not metrics.
NOT_METRIC_GRIDS = {"diagnostics.COLUMNS"}


def module_grids() -> set[str]:
    """Module-level lists of AG Grid column definitions, so a new grid cannot be missed here."""
    found = set()
    for module in (growth, revenue, experiments, retention, diagnostics):
        for name, value in vars(module).items():
            if isinstance(value, list) and value and all(
                isinstance(column, dict) and "field" in column for column in value
            ):
                found.add(f"{module.__name__.split('.')[-1]}.{name}")
    return found


def test_every_grid_is_checked_below():
    assert module_grids() <= GRIDS.keys() | NOT_METRIC_GRIDS


@pytest.mark.parametrize("grid", GRIDS)
def test_every_metric_column_of_a_grid_is_formatted_and_named_by_the_catalogue(grid):
    columns, table = GRIDS[grid]
    for column in columns:
        field = column["field"]
        if re.fullmatch(r"k\d+", field):  # period k of the retention triangle
            shown = RETENTION["retained_users" if "users" in grid else "retention_rate"]
            assert column["valueFormatter"] == components.unit_formatter(shown.unit)
        elif field in table:
            metric = table[field]
            assert column["valueFormatter"] == components.unit_formatter(metric.unit), field
            assert column["headerName"] in (metric.label, metric.title), field
        else:
            assert "valueFormatter" not in column, f"{grid}: {field} is not in the catalogue"


def test_no_format_is_chosen_by_a_column_name():
    pattern = re.compile(r"column\s*[!=]=\s*[\"']")
    for folder in ("layouts", "queries"):
        for path in (ROOT / folder).rglob("*.py"):
            assert not pattern.search(path.read_text(encoding="utf-8")), path


def texts(component) -> list[str]:
    """Every string in a Dash component tree, depth first."""
    if isinstance(component, str):
        return [component]
    children = getattr(component, "children", None)
    if children is None:
        return []
    if not isinstance(children, list):
        children = [children]
    return [text for child in children for text in texts(child)]


def test_kpi_card_of_a_rate_shows_the_rate_and_its_change_in_points():
    # 44.47% → 45.67%: +1.2 points, +2.7% of 44.47%.
    kpi = KpiValue(GROWTH["retention_rate"], dt.date(2025, 1, 6), 0.4567, 0.4447)
    shown = components.kpi_texts(kpi, "Week of 6 Jan")
    assert (shown.value, shown.change) == ("45.7%", "▲ +1.2 pts (+2.7%)")
    assert shown.period == "Week of 6 Jan · vs previous"
    card = components.kpi_card(GROWTH["retention_rate"])
    assert GROWTH["retention_rate"].definition in texts(card)


def test_a_rise_in_churn_is_shown_as_bad_news():
    kpi = KpiValue(GROWTH["churned_users"], dt.date(2025, 1, 6), 1200, 1000)
    shown = components.kpi_texts(kpi, "Week of 6 Jan")
    assert shown.change == "▲ +200 (+20.0%)"
    assert "text-danger" in shown.change_class


def test_window_cards_come_from_the_catalogue_with_the_ids_the_callbacks_use():
    comparison = WindowComparison(
        start=dt.date(2025, 1, 4), end=dt.date(2025, 1, 6), previous_start=dt.date(2025, 1, 1),
        previous_end=dt.date(2025, 1, 3), revenue=1250.0, previous_revenue=1000.0, orders=30,
        previous_orders=25, paying_users=20, previous_paying_users=20,
        data_end=dt.date(2025, 1, 6),
    )
    cards = revenue.window_cards(comparison)
    assert [col.children.id for col in cards] == [
        ids.window_card(column) for column in ("revenue", "orders", "aov", "paying_users")]
    revenue_card, orders_card, aov_card, paying_card = (texts(col) for col in cards)
    assert revenue_card[:4] == ["Revenue", "i", "$1,250.00", "▲ +$250.00 (+25.0%)"]
    assert "previous window: $1,000.00" in revenue_card
    assert orders_card[2:4] == ["30", "▲ +5 (+20.0%)"]
    # AOV: 1250 / 30 = 41.67 against 1000 / 25 = 40.00.
    assert aov_card[:4] == ["Average order value", "i", "$41.67", "▲ +$1.67 (+4.2%)"]
    assert paying_card[3] == "■ +0 (+0.0%)"


def test_window_cards_against_a_window_before_the_data_say_so():
    # The whole range from the data's first day: the previous window ends the day before it.
    comparison = WindowComparison(
        start=dt.date(2025, 9, 2), end=dt.date(2025, 9, 30), previous_start=dt.date(2025, 8, 4),
        previous_end=dt.date(2025, 9, 1), revenue=416631.51, previous_revenue=0.0, orders=30,
        previous_orders=0, paying_users=20, previous_paying_users=0,
        data_end=dt.date(2025, 9, 30), data_start=dt.date(2025, 9, 2),
    )
    assert not comparison.previous_has_data
    for col in revenue.window_cards(comparison):
        card = texts(col)
        assert "no comparison" in card and "no data before 2 Sep 2025" in card
        assert not any(text.startswith("▲") for text in card)  # no growth from nothing


def test_today_is_in_progress_even_at_day_grain():
    today = dt.date(2026, 12, 1)
    # Data up to yesterday: yesterday is complete, today is the first open day.
    assert first_incomplete_period(dt.date(2026, 11, 30), Grain.DAY, today) == period_index(
        today, Grain.DAY)
    # Data with events today: today is still in progress, not complete.
    assert first_incomplete_period(today, Grain.DAY, today) == period_index(today, Grain.DAY)
    # Old data: its last day is complete, the day after it is the first open one.
    assert first_incomplete_period(dt.date(2025, 6, 18), Grain.DAY, today) == period_index(
        dt.date(2025, 6, 19), Grain.DAY)
