"""The URL's view state: query strings written and read by hand-checked examples, invalid values,
and the Dash callback that ties the URL to the controls (through the real dispatch)."""

from __future__ import annotations

import pytest

from app.config import Config
from app.factory import create_app
from callbacks.url_state import (
    Choices,
    ViewState,
    from_controls,
    from_search,
    to_controls,
    to_search,
)
from layouts import ids
from tests.conftest import PLATFORM_ROWS as ROWS
from tests.dash_requests import MATCHES, SEGMENTS, call

DEFAULTS = ViewState(
    tab="growth", grain="week", start="2024-06-01", end="2025-06-18",
    experiment="checkout_button", retention_mode="exact",
    funnel_steps=("page_view", "add_to_cart", "purchase"),
)
CHOICES = Choices(
    event_types=("add_to_cart", "page_view", "purchase", "session"),
    segments={"platform": ("android", "ios", "web"), "utm_source": ("ads", "news & letters")},
    experiments=("checkout_button", "pricing_page"),
)
PLATFORM, SOURCE = ids.segment_filter("platform"), ids.segment_filter("utm_source")


def test_defaults_give_an_empty_query_string():
    assert to_search(DEFAULTS, DEFAULTS) == ""
    assert from_search("", DEFAULTS, CHOICES) == (DEFAULTS, [])


def test_changed_values_are_written_in_a_fixed_order_with_repeated_keys():
    state = ViewState(
        tab="retention", grain="month", start="2025-01-01", end="2025-06-18",
        filters=(("platform", ("ios", "web")),), experiment="checkout_button",
        retention_mode="unbounded", funnel_steps=DEFAULTS.funnel_steps,
    )
    assert to_search(state, DEFAULTS) == (
        "?tab=retention&grain=month&start=2025-01-01"
        "&filter=platform:ios&filter=platform:web&mode=unbounded"
    )


def test_a_query_string_restores_the_view_it_was_written_from():
    state = ViewState(
        tab="experiments", grain="day", start="2025-02-03", end=None,
        activity=("purchase", "session"),
        filters=(("platform", ("android",)), ("utm_source", ("news & letters",))),
        experiment="pricing_page", retention_mode="exact", funnel_steps=("session", "purchase"),
    )
    search = to_search(state, DEFAULTS)
    assert "end=&" in search  # a cleared end date is written as blank, not left to the default
    assert "news+%26+letters" in search  # values are encoded
    assert from_search(search, DEFAULTS, CHOICES) == (state, [])


def test_the_example_link_of_the_issue_reads_as_expected():
    state, problems = from_search(
        "?tab=retention&grain=month&start=2025-01-01&end=2025-06-18&filter=platform:ios",
        DEFAULTS, CHOICES)
    assert problems == []
    assert state == ViewState(
        tab="retention", grain="month", start="2025-01-01", end="2025-06-18",
        filters=(("platform", ("ios",)),), experiment="checkout_button",
        retention_mode="exact", funnel_steps=DEFAULTS.funnel_steps,
    )


@pytest.mark.parametrize(("search", "field", "words"), [
    ("?grain=year", "grain", "grain 'year' is not available; showing week"),
    ("?tab=admin", "tab", "view 'admin' is not available; showing growth"),
    ("?start=2025-13-01", "start", "start date '2025-13-01' is not a date"),
    ("?end=yesterday", "end", "end date 'yesterday' is not a date"),
    ("?experiment=nope", "experiment", "experiment 'nope' is not available"),
    ("?mode=sometimes", "retention_mode", "retention mode 'sometimes' is not available"),
    ("?filter=planet:mars", "filters", "'planet', which is not a segment column"),
    ("?filter=event_type:purchase", "filters", "'event_type', which is not a segment column"),
    ("?filter=platform:blackberry", "filters", "platform value 'blackberry' is not in the data"),
    ("?filter=platform", "filters", "filter 'platform' is not COLUMN:VALUE"),
    ("?event=teleport", "activity", "activity events 'teleport' are not in the data"),
    ("?step=teleport", "funnel_steps", "funnel steps 'teleport' are not in the data"),
])
def test_an_invalid_value_falls_back_to_the_default_with_a_message(search, field, words):
    state, problems = from_search(search, DEFAULTS, CHOICES)
    assert getattr(state, field) == getattr(DEFAULTS, field)
    assert len(problems) == 1 and words in problems[0]


def test_valid_values_survive_next_to_invalid_ones():
    state, problems = from_search(
        "?grain=month&filter=platform:ios&filter=platform:x&step=purchase&step=teleport"
        "&utm_campaign=spring", DEFAULTS, CHOICES)
    assert (state.grain, state.filters, state.funnel_steps) == (
        "month", (("platform", ("ios",)),), ("purchase",))
    assert len(problems) == 2  # platform:x and teleport; unknown keys are not ours to judge


def test_filters_follow_the_page_order_of_columns():
    state, _ = from_search("?filter=utm_source:ads&filter=platform:web&filter=platform:web",
                           DEFAULTS, CHOICES)
    assert state.filters == (("platform", ("web",)), ("utm_source", ("ads",)))


def test_controls_and_view_state_convert_both_ways():
    controls = {
        "tab": "revenue", "grain": "month", "start": "2025-01-01T00:00:00", "end": None,
        "activity": None, "segments": [["ios"], None], "experiment": None,
        "retention_mode": "exact", "funnel_steps": ["session"],
    }
    state = from_controls(controls, [PLATFORM, SOURCE])
    assert state == ViewState(tab="revenue", grain="month", start="2025-01-01", end=None,
                              filters=(("platform", ("ios",)),), retention_mode="exact",
                              funnel_steps=("session",))
    assert to_controls(state, [PLATFORM, SOURCE]) == controls | {
        "start": "2025-01-01", "activity": [], "segments": [["ios"], []]}
    assert ViewState.from_json(state.to_json()) == state


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
    f"{ids.FUNNEL_STEPS}.value": ["purchase"],
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


def test_changing_a_control_writes_the_url(client_and_app):
    defaults = ViewState(tab="growth", grain="week", start="2024-01-01", end="2024-01-10",
                         retention_mode="exact", funnel_steps=("purchase",)).to_json()
    answer = sync(client_and_app, f"{ids.GRAIN}.value", **{
        f"{ids.GRAIN}.value": "day", f"{ids.DATE_RANGE}.start_date": "2024-01-05",
        f"{ids.VIEW_DEFAULTS}.data": defaults})
    assert answer[ids.URL] == {"search": "?grain=day&start=2024-01-05"}
    assert ids.GRAIN not in answer  # the callback never sets what the user just set
    # Back to the defaults: the query string empties.
    answer = sync(client_and_app, f"{ids.GRAIN}.value", **{
        f"{ids.URL}.search": "?grain=day", f"{ids.VIEW_DEFAULTS}.data": defaults})
    assert answer[ids.URL] == {"search": ""}
