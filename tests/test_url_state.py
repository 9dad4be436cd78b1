"""The URL's view state: query strings written and read by hand-checked examples, invalid values,
and the Dash callback that ties the URL to the controls (through the real dispatch)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from dash import no_update

from app.config import Config
from app.factory import create_app
from callbacks.registry import PANELS
from callbacks.url_state import (
    FILTER_CONTROLS,
    Choices,
    ViewState,
    from_controls,
    from_search,
    seeded_options,
    to_controls,
    to_search,
    url_fields,
)
from layouts import ids
from tests.conftest import PLATFORM_ROWS as ROWS
from tests.dash_requests import MATCHES, SEGMENTS, call

FIELDS = url_fields(PANELS)
DEFAULT_PANELS = {
    "smooth": False, "compare": False, "growth-by": None, "mode": "exact", "show": "rate",
    "cohort-event": None,
    "return-event": None, "periods": 26, "overlay": (), "retention-by": None,
    "revenue-by": None, "previous": True, "revenue-compare": False,
    "step": ("page_view", "add_to_cart", "purchase"), "funnel-window": 7, "funnel-by": None,
    "experiment": "checkout_button", "conversion": "purchase", "control": None,
    "experiment-window": None, "planned-lift": 5, "metric": "conversion", "cuped": False,
    "pre-days": 14, "sequential": False, "experiment-by": None, "guardrail": None,
}
DEFAULTS = ViewState(tab="growth", grain="week", start="2024-06-01", end="2025-06-18",
                     panels=tuple(DEFAULT_PANELS.items()))
EVENTS = ("add_to_cart", "page_view", "purchase", "session")
SEGMENTS_OFFERED = {"platform": ("android", "ios", "web"), "utm_source": ("ads", "news & letters")}
CHOICES = Choices(
    event_types=EVENTS, segments=SEGMENTS_OFFERED, fields=FIELDS,
    options={"mode": ("exact", "unbounded"), "show": ("rate", "users"), "cohort-event": EVENTS,
             "return-event": EVENTS, "revenue-by": tuple(SEGMENTS_OFFERED), "step": EVENTS,
             "funnel-by": tuple(SEGMENTS_OFFERED), "conversion": EVENTS,
             "experiment": ("checkout_button", "pricing_page"),
             "metric": ("conversion", "revenue_per_user", "aov"),
             "guardrail": ("conversion", "revenue_per_user", "aov"),
             "experiment-by": tuple(SEGMENTS_OFFERED), "growth-by": tuple(SEGMENTS_OFFERED),
             "retention-by": tuple(SEGMENTS_OFFERED)},
    bounds={"periods": (1, None), "funnel-window": (0.01, 366), "experiment-window": (0.01, None),
            "planned-lift": (0.1, None), "pre-days": (1, 366)},
)
PLATFORM, SOURCE = ids.segment_filter("platform"), ids.segment_filter("utm_source")


def view(**changes) -> ViewState:
    """DEFAULTS with some filter-bar fields and panel values (by URL key) changed."""
    panel_changes = {key.replace("_", "-"): changes.pop(key) for key in list(changes)
                     if key.replace("_", "-") in DEFAULT_PANELS}
    return replace(DEFAULTS, **changes,
                   panels=tuple((DEFAULT_PANELS | panel_changes).items()))


def test_defaults_give_an_empty_query_string():
    assert to_search(DEFAULTS, DEFAULTS, FIELDS) == ""
    assert from_search("", DEFAULTS, CHOICES) == (DEFAULTS, [])


def test_changed_values_are_written_in_a_fixed_order_with_repeated_keys():
    state = view(tab="retention", grain="month", start="2025-01-01",
                 filters=(("platform", ("ios", "web")),), mode="unbounded", periods=24)
    assert to_search(state, DEFAULTS, FIELDS) == (
        "?tab=retention&grain=month&start=2025-01-01"
        "&filter=platform:ios&filter=platform:web&mode=unbounded"
    )


def test_every_panel_control_is_written_and_read_back():
    state = view(
        tab="experiments", grain="day", start="2025-02-03", end=None,
        activity=("purchase", "session"),
        filters=(("platform", ("android",)), ("utm_source", ("news & letters",))),
        smooth=True, compare=True, growth_by="utm_source", retention_by="platform",
        revenue_compare=True, mode="unbounded", show="users", cohort_event="purchase",
        return_event="session", periods=8, overlay=("2025-03-01", "2025-02-01"),
        revenue_by="platform", previous=False, step=("session", "purchase"),
        funnel_window=2.5, funnel_by="utm_source", experiment="pricing_page",
        conversion="add_to_cart", control="B", experiment_window=14, planned_lift=2,
        metric="revenue_per_user", cuped=True, pre_days=7, sequential=True,
        experiment_by="platform", guardrail="aov",
    )
    search = to_search(state, DEFAULTS, FIELDS)
    assert search == (
        "?tab=experiments&grain=day&start=2025-02-03&end=&event=purchase&event=session"
        "&filter=platform:android&filter=utm_source:news+%26+letters"
        "&smooth=on&compare=on&growth-by=utm_source&mode=unbounded&show=users"
        "&cohort-event=purchase&return-event=session&periods=8&overlay=2025-03-01"
        "&overlay=2025-02-01&retention-by=platform&revenue-by=platform&previous=off"
        "&revenue-compare=on"
        "&step=session&step=purchase&funnel-window=2.5&funnel-by=utm_source"
        "&experiment=pricing_page&conversion=add_to_cart&control=B&experiment-window=14"
        "&planned-lift=2&metric=revenue_per_user&cuped=on&pre-days=7&sequential=on"
        "&experiment-by=platform&guardrail=aov"
    )
    assert from_search(search, DEFAULTS, CHOICES) == (state, [])


def test_a_cleared_choice_is_written_as_blank_and_read_as_none():
    state = view(conversion=None, funnel_window=None, overlay=())
    chosen = replace(DEFAULTS, panels=tuple(
        (DEFAULT_PANELS | {"revenue-by": "platform"}).items()))
    search = to_search(view(revenue_by=None), chosen, FIELDS)
    assert search == "?revenue-by="
    assert from_search(search, chosen, CHOICES)[0].panel("revenue-by") is None
    assert from_search(to_search(state, DEFAULTS, FIELDS), DEFAULTS, CHOICES) == (state, [])


def test_the_periods_default_follows_the_grain():
    # At month grain the control shows 24 by itself: that is no choice to write.
    assert to_search(view(grain="month", periods=24), DEFAULTS, FIELDS) == "?grain=month"
    assert from_search("?grain=month", DEFAULTS, CHOICES)[0].panel("periods") == 24
    assert to_search(view(grain="month", periods=26), DEFAULTS, FIELDS) == (
        "?grain=month&periods=26")


def test_the_example_link_of_the_issue_reads_as_expected():
    state, problems = from_search(
        "?tab=retention&grain=month&start=2025-01-01&end=2025-06-18&filter=platform:ios",
        DEFAULTS, CHOICES)
    assert problems == []
    assert state == view(tab="retention", grain="month", start="2025-01-01", end="2025-06-18",
                         filters=(("platform", ("ios",)),), periods=24)


@pytest.mark.parametrize(("search", "key", "words"), [
    ("?grain=year", "grain", "grain 'year' is not available; showing week"),
    ("?tab=admin", "tab", "view 'admin' is not available; showing growth"),
    ("?start=2025-13-01", "start", "start date '2025-13-01' is not a date"),
    ("?end=yesterday", "end", "end date 'yesterday' is not a date"),
    ("?experiment=nope", "experiment", "experiment 'nope' is not available"),
    ("?mode=sometimes", "mode", "retention mode 'sometimes' is not available"),
    ("?show=euros", "show", "retention values 'euros' is not available"),
    ("?cohort-event=teleport", "cohort-event", "cohort event 'teleport' is not available"),
    ("?revenue-by=event_type", "revenue-by", "revenue breakdown 'event_type' is not"),
    ("?funnel-by=planet", "funnel-by", "funnel breakdown 'planet' is not available"),
    ("?conversion=teleport", "conversion", "conversion event 'teleport' is not available"),
    ("?periods=0", "periods", "periods shown '0' is not a number from 1; showing 26"),
    ("?periods=many", "periods", "periods shown 'many' is not a number from 1"),
    ("?funnel-window=400", "funnel-window", "'400' is not a number from 0.01 to 366"),
    ("?experiment-window=inf", "experiment-window", "'inf' is not a number from 0.01"),
    ("?planned-lift=nan", "planned-lift", "planned lift (%) 'nan' is not a number"),
    ("?smooth=maybe", "smooth", "7-day average 'maybe' is not available; showing off"),
    ("?filter=planet:mars", "filters", "'planet', which is not a segment column"),
    ("?filter=event_type:purchase", "filters", "'event_type', which is not a segment column"),
    ("?filter=platform:blackberry", "filters", "platform value 'blackberry' is not in the data"),
    ("?filter=platform", "filters", "filter 'platform' is not COLUMN:VALUE"),
    ("?event=teleport", "activity", "activity events 'teleport' are not in the data"),
    ("?step=teleport", "step", "funnel steps 'teleport' are not in the data"),
])
def test_an_invalid_value_falls_back_to_the_default_with_a_message(search, key, words):
    state, problems = from_search(search, DEFAULTS, CHOICES)
    if key in DEFAULT_PANELS:
        assert state.panel(key) == DEFAULTS.panel(key)
    else:
        assert getattr(state, key) == getattr(DEFAULTS, key)
    assert len(problems) == 1 and words in problems[0]


def test_a_start_after_the_end_falls_back_to_the_default_dates():
    state, problems = from_search("?start=2025-03-01&end=2025-02-01&grain=day", DEFAULTS,
                                  CHOICES)
    assert (state.start, state.end, state.grain) == (DEFAULTS.start, DEFAULTS.end, "day")
    assert problems == ["The link's start date 2025-03-01 is after its end date 2025-02-01;"
                        " showing the default dates."]


def test_options_that_arrive_with_the_answer_are_taken_as_given():
    state, problems = from_search("?control=treatment&overlay=2025-01-06", DEFAULTS, CHOICES)
    assert (state.panel("control"), state.panel("overlay")) == ("treatment", ("2025-01-06",))
    assert problems == []


def test_valid_values_survive_next_to_invalid_ones():
    state, problems = from_search(
        "?grain=month&filter=platform:ios&filter=platform:x&step=purchase&step=teleport"
        "&utm_campaign=spring", DEFAULTS, CHOICES)
    assert (state.grain, state.filters, state.panel("step")) == (
        "month", (("platform", ("ios",)),), ("purchase",))
    assert len(problems) == 2  # platform:x and teleport; unknown keys are not ours to judge


def test_a_funnel_without_known_steps_keeps_the_default_steps():
    state, problems = from_search("?step=teleport", DEFAULTS, CHOICES)
    assert state.panel("step") == DEFAULT_PANELS["step"] and len(problems) == 1


def test_filters_follow_the_page_order_of_columns():
    state, _ = from_search("?filter=utm_source:ads&filter=platform:web&filter=platform:web",
                           DEFAULTS, CHOICES)
    assert state.filters == (("platform", ("web",)), ("utm_source", ("ads",)))


def test_controls_and_view_state_convert_both_ways():
    controls = {
        "tab": "revenue", "grain": "month", "start": "2025-01-01T00:00:00", "end": None,
        "activity": None, "segments": [["ios"], None],
    } | {key: list(value) if isinstance(value, tuple) else value
         for key, value in DEFAULT_PANELS.items()} | {"overlay": ["2025-01-01"]}
    state = from_controls(controls, [PLATFORM, SOURCE], FIELDS)
    assert state == view(tab="revenue", grain="month", start="2025-01-01", end=None,
                         filters=(("platform", ("ios",)),), overlay=("2025-01-01",))
    assert to_controls(state, [PLATFORM, SOURCE], FIELDS) == controls | {
        "start": "2025-01-01", "activity": [], "segments": [["ios"], []]}
    assert ViewState.from_json(state.to_json()) == state


def test_a_link_value_missing_from_the_options_is_added_until_the_answer_comes():
    state = view(control="B", overlay=("2025-01-06", "2025-01-13"))
    later = [field for field in FIELDS if field.options_later]
    seeded = seeded_options(state, {"control": [], "overlay": ["2025-01-13"]}, later)
    assert seeded == {"control": ["B"], "overlay": ["2025-01-13", "2025-01-06"]}
    assert seeded_options(DEFAULTS, {"control": [], "overlay": []}, later) == {
        "control": no_update, "overlay": no_update}


def test_page_keys_are_unique():
    keys = [field.key for field in FIELDS]
    assert len(keys) == len(set(keys)) and not set(keys) & set(FILTER_CONTROLS)


# ---- the callback, through the Flask test client ----

LAYOUT_VALUES = {  # as the page renders them for ROWS
    f"{ids.VIEW_TABS}.active_tab": "growth",
    f"{ids.GRAIN}.value": "week",
    f"{ids.DATE_RANGE}.start_date": "2024-01-01",
    f"{ids.DATE_RANGE}.end_date": "2024-01-10",
    f"{ids.ACTIVITY_EVENTS}.options": ["purchase", "session"],
    f"{SEGMENTS}.options": [["ios", "web"]],
    f"{ids.EXPERIMENT}.options": [],
    f"{ids.RETENTION_MODE}.value": "exact",
    f"{ids.RETENTION_MODE}.options": [{"label": "In period k", "value": "exact"},
                                      {"label": "In period k or later", "value": "unbounded"}],
    f"{ids.RETENTION_MAX_PERIODS}.value": 26,
    f"{ids.RETENTION_MAX_PERIODS}.min": 1,
    f"{ids.FUNNEL_STEPS}.value": ["purchase"],
    f"{ids.FUNNEL_STEPS}.options": ["purchase", "session"],
    f"{ids.EXPERIMENT_CONTROL}.options": [],
}


@pytest.fixture
def client_and_app(make_db, tmp_path):
    path = make_db(ROWS, segment_columns=("platform",))
    app = create_app(Config(duckdb_path=path, cache_type="SimpleCache",
                            cache_dir=tmp_path / "cache"))
    return app.server.test_client(), app


def sync(client_and_app, changed: str, **values) -> dict:
    client, app = client_and_app
    given = LAYOUT_VALUES | {f"{ids.URL}.search": ""} | values
    return call(client, app, f"{ids.URL}.search", given, changed=[changed],
                matches=MATCHES)


def test_opening_a_link_sets_only_the_controls_it_changes(client_and_app):
    answer = sync(client_and_app, f"{ids.URL}.search",
                  **{f"{ids.URL}.search": "?tab=retention&grain=month&filter=platform:ios"})
    assert answer[ids.VIEW_TABS] == {"active_tab": "retention"}
    assert answer[ids.GRAIN] == {"value": "month"}
    assert answer[SEGMENTS.replace('["ALL"]', '"platform"')] == {"value": ["ios"]}
    assert ids.URL not in answer  # a restore pushes no history entry
    assert ids.DATE_RANGE not in answer and ids.FUNNEL_STEPS not in answer
    assert answer[ids.URL_MESSAGE] == {"children": None}
    # The first call keeps the page's own values as the defaults.
    assert answer[ids.VIEW_DEFAULTS]["data"]["grain"] == "week"


def test_a_bad_link_falls_back_to_defaults_with_a_message_not_an_error(client_and_app):
    answer = sync(client_and_app, f"{ids.URL}.search",
                  **{f"{ids.URL}.search": "?grain=fortnight&start=2024-02-30&filter=os:ios"})
    assert ids.GRAIN not in answer and ids.DATE_RANGE not in answer
    message = str(answer[ids.URL_MESSAGE]["children"])
    assert "'fortnight'" in message and "'2024-02-30'" in message and "'os'" in message


def test_a_link_sets_panel_controls_and_seeds_options_that_come_later(client_and_app):
    answer = sync(client_and_app, f"{ids.URL}.search", **{
        f"{ids.URL}.search": "?mode=unbounded&periods=4&step=session&control=B&periods=0"})
    assert answer[ids.RETENTION_MODE] == {"value": "unbounded"}
    assert answer[ids.FUNNEL_STEPS] == {"value": ["session"]}
    assert answer[ids.EXPERIMENT_CONTROL] == {"value": "B", "options": ["B"]}
    assert ids.RETENTION_MAX_PERIODS not in answer  # the last periods=0 is below the minimum
    assert "periods shown '0'" in str(answer[ids.URL_MESSAGE]["children"])


def test_a_control_change_keeps_the_links_message(client_and_app):
    answer = sync(client_and_app, f"{ids.RETENTION_MODE}.value",
                  **{f"{ids.RETENTION_MODE}.value": "unbounded"})
    assert ids.URL_MESSAGE not in answer


def test_a_start_after_the_end_is_never_written(client_and_app):
    answer = sync(client_and_app, f"{ids.DATE_RANGE}.start_date", **{
        f"{ids.DATE_RANGE}.start_date": "2024-01-20", f"{ids.URL}.search": "?grain=day",
        f"{ids.VIEW_DEFAULTS}.data": LAYOUT_DEFAULTS.to_json()})
    assert ids.URL not in answer


LAYOUT_DEFAULTS = ViewState(
    tab="growth", grain="week", start="2024-01-01", end="2024-01-10",
    panels=(("mode", "exact"), ("periods", 26), ("step", ("purchase",))))


def test_changing_a_control_writes_the_url(client_and_app):
    defaults = LAYOUT_DEFAULTS.to_json()
    answer = sync(client_and_app, f"{ids.GRAIN}.value", **{
        f"{ids.GRAIN}.value": "day", f"{ids.DATE_RANGE}.start_date": "2024-01-05",
        f"{ids.RETENTION_MAX_PERIODS}.value": 30,  # the day grain's default, set in the page
        f"{ids.VIEW_DEFAULTS}.data": defaults})
    assert answer[ids.URL] == {"search": "?grain=day&start=2024-01-05"}
    assert ids.GRAIN not in answer  # the callback never sets what the user just set
    # Back to the defaults: the query string empties.
    answer = sync(client_and_app, f"{ids.GRAIN}.value", **{
        f"{ids.URL}.search": "?grain=day", f"{ids.VIEW_DEFAULTS}.data": defaults})
    assert answer[ids.URL] == {"search": ""}
