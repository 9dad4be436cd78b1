"""Shareable views: the URL's query string carries the view, so a copied link opens the same
view and the browser's back and forward buttons step through the changes.

    ?tab=retention&grain=month&start=2025-01-01&end=2025-03-31&event=session
     &filter=platform:ios&filter=platform:web&experiment=checkout_button&mode=unbounded
     &step=page_view&step=purchase

Only values that differ from the page's defaults are written, so a link without dates follows
the data as it grows. A value the page cannot show falls back to its default, with a message in
the filter bar. The pure functions (ViewState and below) know nothing of Dash; register() wires
them to the page.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from urllib.parse import parse_qs, urlencode

import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, ctx, html, no_update

from layouts import ids
from queries.periods import Grain
from queries.retention import RetentionMode

Filters = tuple[tuple[str, tuple[str, ...]], ...]


@dataclass(frozen=True)
class ViewState:
    tab: str | None = None
    grain: str | None = None
    start: str | None = None  # YYYY-MM-DD; None leaves that end of the range open
    end: str | None = None
    activity: tuple[str, ...] = ()
    filters: Filters = ()  # (segment column, chosen values), only columns with a choice
    experiment: str | None = None
    retention_mode: str | None = None
    funnel_steps: tuple[str, ...] = ()

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping) -> ViewState:
        return cls(
            **{key: data.get(key) for key in SINGLE_FIELDS},
            activity=tuple(data.get("activity") or ()),
            filters=tuple((column, tuple(values)) for column, values in data.get("filters") or ()),
            funnel_steps=tuple(data.get("funnel_steps") or ()),
        )


# Far more than any link the page writes.
MAX_SEARCH_LENGTH, MAX_SEARCH_FIELDS = 4000, 200
SINGLE_FIELDS = ("tab", "grain", "start", "end", "experiment", "retention_mode")
# (query-string key, ViewState field), in the order they are written.
URL_KEYS = (
    ("tab", "tab"), ("grain", "grain"), ("start", "start"), ("end", "end"),
    ("event", "activity"), ("filter", "filters"), ("experiment", "experiment"),
    ("mode", "retention_mode"), ("step", "funnel_steps"),
)


@dataclass(frozen=True)
class Choices:
    """What the page can show; anything else in a URL falls back to the default."""

    event_types: tuple[str, ...] = ()
    segments: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    experiments: tuple[str, ...] = ()
    tabs: tuple[str, ...] = ids.VIEW_TAB_IDS
    grains: tuple[str, ...] = tuple(grain.value for grain in Grain)
    retention_modes: tuple[str, ...] = tuple(mode.value for mode in RetentionMode)


def url_values(state: ViewState, name: str) -> list[str]:
    """A field as query-string values; a blank value stands for an explicit "none"."""
    value = getattr(state, name)
    if name == "filters":
        return [f"{column}:{item}" for column, items in value for item in items] or [""]
    if isinstance(value, tuple):
        return list(value) or [""]
    return [value or ""]


def to_search(state: ViewState, defaults: ViewState) -> str:
    """The query string ("" or "?...") of the fields that differ from the defaults."""
    pairs = [
        (key, text)
        for key, name in URL_KEYS
        if getattr(state, name) != getattr(defaults, name)
        for text in url_values(state, name)
    ]
    return "?" + urlencode(pairs, safe=":") if pairs else ""


def from_search(search: str, defaults: ViewState, choices: Choices) -> tuple[ViewState, list[str]]:
    """The view a query string asks for, and what of it could not be shown (in words)."""
    problems: list[str] = []
    try:
        if len(search) > MAX_SEARCH_LENGTH:  # no link the page writes is this long
            raise ValueError(f"longer than {MAX_SEARCH_LENGTH:,} characters")
        params = parse_qs(search.lstrip("?"), keep_blank_values=True,
                          max_num_fields=MAX_SEARCH_FIELDS)
    except ValueError as error:
        problems.append(f"The link cannot be read ({error}); showing the default view.")
        params = {}
    state = ViewState(
        tab=one_of(params.get("tab"), choices.tabs, defaults.tab, "view", problems),
        grain=one_of(params.get("grain"), choices.grains, defaults.grain, "grain", problems),
        start=date_of(params.get("start"), defaults.start, "start date", problems),
        end=date_of(params.get("end"), defaults.end, "end date", problems),
        activity=some_of(params.get("event"), choices.event_types, defaults.activity,
                         "activity events", problems),
        filters=filters_of(params.get("filter"), choices.segments, defaults.filters, problems),
        experiment=one_of(params.get("experiment"), choices.experiments, defaults.experiment,
                          "experiment", problems),
        retention_mode=one_of(params.get("mode"), choices.retention_modes,
                              defaults.retention_mode, "retention mode", problems),
        # A funnel needs steps: none that the data knows means the default ones.
        funnel_steps=some_of(params.get("step"), choices.event_types, defaults.funnel_steps,
                             "funnel steps", problems) or defaults.funnel_steps,
    )
    return state, problems


def one_of(values, allowed, default, noun: str, problems: list[str]):
    if not values:
        return default
    if values[-1] in allowed:
        return values[-1]
    problems.append(
        f"The link's {noun} {values[-1]!r} is not available; showing {default or 'none'}."
    )
    return default


def date_of(values, default: str | None, noun: str, problems: list[str]) -> str | None:
    if not values:
        return default
    if not values[-1].strip():
        return None  # cleared in the date picker
    try:
        return dt.datetime.strptime(values[-1].strip(), "%Y-%m-%d").date().isoformat()
    except ValueError:
        problems.append(
            f"The link's {noun} {values[-1]!r} is not a date (YYYY-MM-DD);"
            f" showing {default or 'an open range'}."
        )
        return default


def some_of(values, allowed, default: tuple[str, ...], noun: str, problems: list[str]):
    if values is None:
        return default
    chosen = [value for value in values if value]
    unknown = [value for value in chosen if value not in allowed]
    if unknown:
        problems.append(
            f"The link's {noun} {', '.join(map(repr, unknown))} are not in the data; ignored."
        )
    return tuple(dict.fromkeys(value for value in chosen if value in allowed))


def filters_of(expressions, segments: Mapping[str, Sequence[str]], default: Filters,
               problems: list[str]) -> Filters:
    if expressions is None:
        return default
    chosen: dict[str, dict[str, None]] = {}
    for expression in filter(None, expressions):
        column, separator, value = expression.partition(":")
        if not separator:
            problems.append(f"The link's filter {expression!r} is not COLUMN:VALUE; ignored.")
        elif column not in segments:
            problems.append(
                f"The link filters on {column!r}, which is not a segment column; ignored."
            )
        elif value not in segments[column]:
            problems.append(f"The link's {column} value {value!r} is not in the data; ignored.")
        else:
            chosen.setdefault(column, {})[value] = None
    return tuple((column, tuple(chosen[column])) for column in segments if column in chosen)


def from_controls(values: Mapping, segment_ids: Sequence[dict]) -> ViewState:
    """The view the page's controls show (values keyed like url_controls())."""
    segment_values = values.get("segments") or [None] * len(segment_ids)
    filters = tuple(
        (component["column"], tuple(chosen))
        for component, chosen in zip(segment_ids, segment_values, strict=True)
        if chosen
    )
    return ViewState(
        tab=values.get("tab"), grain=values.get("grain"),
        start=day_of(values.get("start")), end=day_of(values.get("end")),
        activity=tuple(values.get("activity") or ()), filters=filters,
        experiment=values.get("experiment"), retention_mode=values.get("retention_mode"),
        funnel_steps=tuple(values.get("funnel_steps") or ()),
    )


def to_controls(state: ViewState, segment_ids: Sequence[dict]) -> dict:
    """The controls' values (keyed like url_controls()) that show the view."""
    chosen = dict(state.filters)
    return {
        "tab": state.tab, "grain": state.grain, "start": state.start, "end": state.end,
        "activity": list(state.activity),
        "segments": [list(chosen.get(component["column"], ())) for component in segment_ids],
        "experiment": state.experiment, "retention_mode": state.retention_mode,
        "funnel_steps": list(state.funnel_steps),
    }


def day_of(value) -> str | None:
    """The picker gives "2025-01-01" or "2025-01-01T00:00:00"."""
    return str(value)[:10] if value else None


def option_values(options) -> tuple[str, ...]:
    """A dropdown's options, given as values or as {"label", "value"} dicts."""
    return tuple(
        str(option["value"]) if isinstance(option, dict) else str(option)
        for option in options or ()
    )


# ---- Dash wiring ----

# The filter bar's controls by their field in ViewState; the panels add theirs (url_fields).
FILTER_CONTROLS = {
    "tab": (ids.VIEW_TABS, "active_tab"),
    "grain": (ids.GRAIN, "value"),
    "start": (ids.DATE_RANGE, "start_date"),
    "end": (ids.DATE_RANGE, "end_date"),
    "activity": (ids.ACTIVITY_EVENTS, "value"),
    "segments": (ids.segment_filter(ALL), "value"),
}


def url_controls(panels) -> dict:
    """(component id, property) of every control a link carries, by its ViewState field."""
    controls = dict(FILTER_CONTROLS)
    for panel in panels:
        controls |= {name: panel.controls[control] for name, control in panel.url_fields.items()}
    return controls


# The quick ranges (callbacks/filters.py) set the dates too.
SHARED_OUTPUTS = ("start", "end")


def changed_only(wanted: dict, current: dict) -> dict:
    """Only changed controls are set: setting one re-runs the panels that read it."""
    answer = {name: no_update if wanted[name] == current[name] else wanted[name]
              for name in wanted}
    answer["segments"] = [no_update if value == now else value
                          for value, now in zip(wanted["segments"], current["segments"],
                                                strict=True)]
    return answer


def problems_alert(problems: list[str]):
    if not problems:
        return None
    return dbc.Alert(
        [html.Strong("This link asked for a view the data cannot show:"),
         *[html.Div(problem) for problem in problems]],
        color="warning", className="py-2 mb-0 mt-2 small url-problems",
    )


def register(app, panels) -> None:
    controls = url_controls(panels)
    # One callback holds both directions (Dash does not re-run a callback for the values it set
    # itself), so a restore from the URL pushes no history entry and cannot loop.
    @app.callback(
        output={
            "search": Output(ids.URL, "search"),
            "message": Output(ids.URL_MESSAGE, "children"),
            "defaults": Output(ids.VIEW_DEFAULTS, "data"),
            "controls": {name: Output(*target, allow_duplicate=name in SHARED_OUTPUTS)
                         for name, target in controls.items()},
        },
        inputs={
            "search": Input(ids.URL, "search"),
            "controls": {name: Input(*target) for name, target in controls.items()},
        },
        state={
            "defaults": State(ids.VIEW_DEFAULTS, "data"),
            "segment_ids": State(ids.segment_filter(ALL), "id"),
            "segment_options": State(ids.segment_filter(ALL), "options"),
            "event_types": State(ids.ACTIVITY_EVENTS, "options"),
            "experiments": State(ids.EXPERIMENT, "options"),
        },
        prevent_initial_call="initial_duplicate",
    )
    def sync_url(search, controls, defaults, segment_ids, segment_options, event_types,
                 experiments):
        current = from_controls(controls, segment_ids)
        # The first call (page load) sees the layout's own values: those are the defaults.
        base = ViewState.from_json(defaults) if defaults else current
        state, problems, new_search = current, [], no_update
        if ctx.triggered_id in (None, ids.URL):  # page load, back or forward
            segments = {component["column"]: option_values(options)
                        for component, options in zip(segment_ids, segment_options, strict=True)}
            choices = Choices(option_values(event_types), segments, option_values(experiments))
            state, problems = from_search(search or "", base, choices)
        elif to_search(current, base) != (search or ""):
            new_search = to_search(current, base)
        return {
            "search": new_search,
            "message": problems_alert(problems),
            "defaults": no_update if defaults else base.to_json(),
            "controls": changed_only(to_controls(state, segment_ids),
                                     to_controls(current, segment_ids)),
        }
