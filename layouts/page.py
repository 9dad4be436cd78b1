"""The page: navbar, the filter bar shared by every view, and the view tabs."""

from __future__ import annotations

import datetime as dt

import dash_bootstrap_components as dbc
from dash import dcc, html

from layouts import chat, diagnostics, ids
from layouts.components import empty_state, error_card
from queries.options import FilterOptions
from queries.periods import Grain

PANEL_BODY = "panel-body"
PANEL_UPDATING = "panel-body updating"
GRAIN_LABELS = {Grain.DAY: "Day", Grain.WEEK: "Week", Grain.MONTH: "Month"}


def navbar(title: str, options: FilterOptions) -> dbc.Navbar:
    span = (
        f"Data {options.first_day:%d %b %Y} – {options.last_day:%d %b %Y} · "
        f"{options.events:,} events"
        if options.events
        else "No data loaded"
    )
    return dbc.Navbar(
        dbc.Container(
            [
                # The page's one heading of level 1.
                html.H1(title, className="navbar-brand fw-semibold mb-0 h5"),
                html.Span(span, id=ids.DATA_INFO,
                          className="navbar-text small text-light data-info"),
                html.Div([theme_toggle(), *([chat.open_button()] if options.events else [])],
                         className="d-flex align-items-center ms-auto"),
            ],
            fluid=True,
        ),
        id=ids.NAVBAR,
        color="dark",
        dark=True,
        className="mb-3",
    )


def theme_toggle() -> html.Button:
    """Light or dark; the page follows the system until this is pressed, then remembers the
    choice (assets/theme.js)."""
    return html.Button("◐", id=ids.THEME_TOGGLE, type="button", title="Switch light / dark",
                       className="btn btn-sm btn-outline-light theme-toggle",
                       **{"aria-label": "Switch between light and dark mode",
                          "aria-pressed": "false"})


def grain_toggle() -> dbc.RadioItems:
    return dbc.RadioItems(
        id=ids.GRAIN,
        options=[{"label": GRAIN_LABELS[g], "value": g.value} for g in Grain],
        value=Grain.WEEK.value,
        className="btn-group",
        inputClassName="btn-check",
        labelClassName="btn btn-outline-primary btn-sm",
        labelCheckedClassName="active",
    )


QUICK_RANGES = ((7, "7d"), (28, "28d"), (90, "90d"), (0, "All"))


def quick_range_dates(days: int, first_day, last_day) -> tuple[str, str]:
    """The last `days` days of data (all of it for 0), never before the first day."""
    first = dt.date.fromisoformat(str(first_day)[:10])
    last = dt.date.fromisoformat(str(last_day)[:10])
    start = first if days == 0 else max(first, last - dt.timedelta(days=days - 1))
    return start.isoformat(), last.isoformat()


def quick_ranges(options: FilterOptions) -> html.Div:
    """The buttons, and each one's dates (a click sets them in the browser: no round trip)."""
    dates = {str(days): quick_range_dates(days, options.first_day, options.last_day)
             for days, _ in QUICK_RANGES}
    buttons = dbc.ButtonGroup(
        [
            dbc.Button(label, id=ids.quick_range(days), size="sm", color="secondary",
                       outline=True,
                       title=f"last {days} days of data" if days else "all data")
            for days, label in QUICK_RANGES
        ],
        className="ms-2 quick-ranges",
    )
    return html.Div([buttons, dcc.Store(id=ids.QUICK_RANGE_DATES, data=dates)])


def date_range(options: FilterOptions) -> dcc.DatePickerRange:
    return dcc.DatePickerRange(
        id=ids.DATE_RANGE,
        start_date_id=ids.DATE_RANGE_START_INPUT,
        end_date_id=ids.DATE_RANGE_END_INPUT,
        min_date_allowed=options.first_day,
        max_date_allowed=options.last_day,
        start_date=options.first_day,
        end_date=options.last_day,
        display_format="YYYY-MM-DD",
        first_day_of_week=1,
        clearable=True,
    )


def labelled(label: str, control, width: dict) -> dbc.Col:
    return dbc.Col([dbc.Label(label, className="filter-label"), control], **width)


def segment_dropdown(column: str, values: list[str]) -> dbc.Col:
    dropdown = dcc.Dropdown(
        id=ids.segment_filter(column),
        options=values,
        multi=True,
        placeholder="All",
    )
    return labelled(column.replace("_", " ").capitalize(), dropdown,
                    {"xs": 6, "md": 2, "className": "filter-more"})


def filter_bar(options: FilterOptions) -> dbc.Card:
    activity = dcc.Dropdown(
        id=ids.ACTIVITY_EVENTS, options=options.event_types, multi=True, placeholder="All events"
    )
    columns = [
        labelled("Grain", html.Div(grain_toggle()), {"xs": 12, "md": "auto"}),
        labelled(
            "Date range",
            html.Div([date_range(options), quick_ranges(options)],
                     className="d-flex align-items-center date-range-row"),
            {"xs": 12, "md": "auto"},
        ),
        labelled("Activity counts", activity, {"xs": 12, "md": 2, "className": "filter-more"}),
        *[segment_dropdown(column, values) for column, values in options.segments.items()],
    ]
    # On a phone the segment filters fold away behind a button (CSS: .filter-more).
    toggle = html.Button("More filters", id=ids.FILTER_BAR_TOGGLE, type="button",
                         className="btn btn-sm btn-outline-secondary filter-bar-toggle",
                         **{"aria-expanded": "false", "aria-controls": ids.FILTER_BAR_ROW})
    return dbc.Card(
        dbc.CardBody(
            [
                toggle,
                dbc.Row(columns, id=ids.FILTER_BAR_ROW, className="g-3 align-items-end"),
                # The URL's problems stay apart: the filter message follows every filter change.
                html.Div([html.Div(id=ids.FILTER_MESSAGE), html.Div(id=ids.URL_MESSAGE)],
                         className="mt-2"),
            ]
        ),
        className="filter-bar mb-3",
    )


def panel_body(name: str, layout) -> html.Div:
    """While the panel updates, its previous view stays, dimmed (assets/style.css)."""
    return html.Div(layout, id=ids.panel_body(name), className=PANEL_BODY)


def tab_body(panels: list):
    return panels[0] if len(panels) == 1 else html.Div(panels)


def page(title: str, options: FilterOptions, tabs: list[tuple[str, str, list]],
         panel_requests: list[dict]) -> html.Div:
    """tabs: (tab id, label, content) in page order; panel_requests: each panel's draw-request
    store (assets/panels.js sets it)."""
    if not options.events:
        body = empty_state(
            "No events loaded yet. Run `python -m app demo` for demo data or "
            "`python -m app load EVENTS_FILE` for your own, then reload this page."
        )
    else:
        body = html.Div(
            [
                dcc.Location(id=ids.URL, refresh=False),
                dcc.Store(id=ids.VIEW_DEFAULTS),
                *[dcc.Store(id=request) for request in panel_requests],
                dcc.Store(id=ids.DIAGNOSTICS_REQUEST),
                filter_bar(options),
                dbc.Tabs(
                    [dbc.Tab(tab_body(content), label=label, tab_id=tab, id=f"tab-{tab}")
                     for tab, label, content in tabs],
                    id=ids.VIEW_TABS,
                    active_tab=tabs[0][0],
                    className="mb-3",
                ),
                diagnostics.section(),
                chat.drawer(),
            ]
        )
    return html.Div([navbar(title, options),
                     html.Main(dbc.Container(body, fluid=True), id=ids.MAIN)])


def unavailable_page(title: str, detail: str) -> html.Div:
    return html.Div(
        [
            navbar(title, FilterOptions()),
            html.Main(dbc.Container(error_card("The data backend is not available", detail),
                                    fluid=True), id=ids.MAIN),
        ]
    )
