"""Shareable views: the URL's query string carries the view, so a copied link opens the same
view and the browser's back and forward buttons step through the changes.

    ?tab=retention&grain=month&start=2025-01-01&end=2025-03-31&event=session
     &filter=platform:ios&filter=platform:web&mode=unbounded&cohort-event=purchase
     &overlay=2025-02-01&experiment=checkout_button&control=B&step=page_view&step=purchase

The filter bar's controls have fixed keys; each panel lists its own controls (Panel.url_fields),
and a test checks that every control is listed. Only values that differ from the page's
defaults are written, so a link without dates follows the data as it grows, and a value that
cannot be shown (a start after the end) is never written. A value the page cannot show falls
back to its default, with a message in the filter bar that stays until the next link. The pure
functions (ViewState and below) know nothing of Dash; register() wires them to the page.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from enum import Enum
from urllib.parse import parse_qs, urlencode

import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, ctx, html, no_update

from layouts import ids
from queries.periods import Grain

Filters = tuple[tuple[str, tuple[str, ...]], ...]
PanelValue = str | float | bool | tuple[str, ...] | None


class Kind(Enum):
    """How a panel control's value reads in a query string."""

    ONE = "one"  # a dropdown or radio value; blank for none
    MANY = "many"  # a multi-select: the key repeated; one blank for none
    NUMBER = "number"  # a number input, within the input's own min and max; blank for none
    FLAG = "flag"  # a switch: on or off


@dataclass(frozen=True)
class UrlField:
    """A panel control that a shared link carries (Panel.url_fields)."""

    key: str  # in the query string, unique across the page
    control: str  # the name in the panel's controls
    kind: Kind
    noun: str  # in a message: "The link's <noun> ... is not available"
    # Options that arrive with the panel's answer (cohorts, variants): a link's value is kept
    # as it is, and the dropdown drops it if the answer does not offer it.
    options_later: bool = False
    # Steps of a funnel: none of them known means the default ones.
    required: bool = False
    # The default follows the grain (a grain value -> the default), as the control does.
    default_by_grain: Mapping[str, PanelValue] | None = None

    def default(self, defaults: ViewState, grain: str | None) -> PanelValue:
        if self.default_by_grain and grain in self.default_by_grain:
            return self.default_by_grain[grain]
        return defaults.panel(self.key)


@dataclass(frozen=True)
class ViewState:
    tab: str | None = None
    grain: str | None = None
    start: str | None = None  # YYYY-MM-DD; None leaves that end of the range open
    end: str | None = None
    activity: tuple[str, ...] = ()
    filters: Filters = ()  # (segment column, chosen values), only columns with a choice
    panels: tuple[tuple[str, PanelValue], ...] = ()  # (UrlField.key, value), page order

    def panel(self, key: str) -> PanelValue:
        return dict(self.panels).get(key)

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping) -> ViewState:
        return cls(
            **{key: data.get(key) for key in SINGLE_FIELDS},
            activity=tuple(data.get("activity") or ()),
            filters=tuple((column, tuple(values)) for column, values in data.get("filters") or ()),
            panels=tuple((key, frozen(value)) for key, value in data.get("panels") or ()),
        )


def frozen(value):
    """A control's value as ViewState keeps it: lists become tuples."""
    return tuple(value) if isinstance(value, list | tuple) else value


# Far more than any link the page writes.
MAX_SEARCH_LENGTH, MAX_SEARCH_FIELDS = 4000, 200
SINGLE_FIELDS = ("tab", "grain", "start", "end")
# (query-string key, ViewState field) of the filter bar, in the order they are written; the
# panels' fields follow.
FILTER_BAR_KEYS = (
    ("tab", "tab"), ("grain", "grain"), ("start", "start"), ("end", "end"),
    ("event", "activity"), ("filter", "filters"),
)


@dataclass(frozen=True)
class Choices:
    """What the page can show; anything else in a URL falls back to the default."""

    event_types: tuple[str, ...] = ()
    segments: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    tabs: tuple[str, ...] = ids.VIEW_TAB_IDS
    grains: tuple[str, ...] = tuple(grain.value for grain in Grain)
    fields: tuple[UrlField, ...] = ()
    # By UrlField.key: the values a dropdown offers, and a number input's (min, max).
    options: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    bounds: Mapping[str, tuple[float | None, float | None]] = field(default_factory=dict)


def url_values(state: ViewState, name: str) -> list[str]:
    """A filter-bar field as query-string values; a blank value stands for an explicit "none"."""
    value = getattr(state, name)
    if name == "filters":
        return [f"{column}:{item}" for column, items in value for item in items] or [""]
    if isinstance(value, tuple):
        return list(value) or [""]
    return [value or ""]


def panel_texts(value: PanelValue) -> list[str]:
    """A panel control's value as query-string values."""
    if isinstance(value, bool):
        return ["on" if value else "off"]
    if isinstance(value, tuple):
        return list(value) or [""]
    if isinstance(value, int | float):
        return [f"{value:g}"]
    return [value or ""]


def to_search(state: ViewState, defaults: ViewState, fields: Sequence[UrlField] = ()) -> str:
    """The query string ("" or "?...") of the fields that differ from the defaults."""
    pairs = [
        (key, text)
        for key, name in FILTER_BAR_KEYS
        if getattr(state, name) != getattr(defaults, name)
        for text in url_values(state, name)
    ]
    pairs += [
        (field.key, text)
        for field in fields
        if state.panel(field.key) != field.default(defaults, state.grain)
        for text in panel_texts(state.panel(field.key))
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
    grain = one_of(params.get("grain"), choices.grains, defaults.grain, "grain", problems)
    state = ViewState(
        tab=one_of(params.get("tab"), choices.tabs, defaults.tab, "view", problems),
        grain=grain,
        start=date_of(params.get("start"), defaults.start, "start date", problems),
        end=date_of(params.get("end"), defaults.end, "end date", problems),
        activity=some_of(params.get("event"), choices.event_types, defaults.activity,
                         "activity events", problems),
        filters=filters_of(params.get("filter"), choices.segments, defaults.filters, problems),
        panels=tuple(
            (field.key, panel_value(field, params.get(field.key),
                                    field.default(defaults, grain), choices, problems))
            for field in choices.fields
        ),
    )
    if invalid_range(state):
        problems.append(f"The link's start date {state.start} is after its end date"
                        f" {state.end}; showing the default dates.")
        state = replace(state, start=defaults.start, end=defaults.end)
    return state, problems


def invalid_range(state: ViewState) -> bool:
    return bool(state.start and state.end and state.start > state.end)


def panel_value(field: UrlField, values, default: PanelValue, choices: Choices,
                problems: list[str]) -> PanelValue:
    if values is None:
        return default
    allowed = None if field.options_later else choices.options.get(field.key, ())
    if field.kind is Kind.MANY:
        chosen = some_of(values, allowed, default, field.noun, problems)
        return chosen if chosen or not field.required else default
    if field.kind is Kind.NUMBER:
        return number_of(values, choices.bounds.get(field.key, (None, None)), default,
                         field.noun, problems)
    if field.kind is Kind.FLAG:
        return one_of(values, ("on", "off"), "on" if default else "off", field.noun,
                      problems) == "on"
    if not values[-1]:
        return None
    return values[-1] if allowed is None else one_of(values, allowed, default, field.noun,
                                                     problems)


def number_of(values, bounds, default: PanelValue, noun: str, problems: list[str]) -> PanelValue:
    text = values[-1].strip()
    if not text:
        return None  # an emptied input
    low, high = bounds
    try:
        number = float(text)
    except ValueError:
        number = math.nan
    if math.isfinite(number) and (low is None or number >= low) \
            and (high is None or number <= high):
        return int(number) if number.is_integer() else number
    limits = " to ".join(f"{bound:g}" for bound in bounds if bound is not None)
    problems.append(f"The link's {noun} {text!r} is not a number"
                    f"{' from ' + limits if limits else ''};"
                    f" showing {default if default is not None else 'none'}.")
    return default


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
    unknown = [value for value in chosen if allowed is not None and value not in allowed]
    if unknown:
        problems.append(
            f"The link's {noun} {', '.join(map(repr, unknown))} are not in the data; ignored."
        )
    return tuple(dict.fromkeys(value for value in chosen if value not in unknown))


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


def from_controls(values: Mapping, segment_ids: Sequence[dict],
                  fields: Sequence[UrlField] = ()) -> ViewState:
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
        panels=tuple((field.key, frozen(values.get(field.key))) for field in fields),
    )


def to_controls(state: ViewState, segment_ids: Sequence[dict],
                fields: Sequence[UrlField] = ()) -> dict:
    """The controls' values (keyed like url_controls()) that show the view."""
    chosen = dict(state.filters)
    return {
        "tab": state.tab, "grain": state.grain, "start": state.start, "end": state.end,
        "activity": list(state.activity),
        "segments": [list(chosen.get(component["column"], ())) for component in segment_ids],
    } | {field.key: thawed(state.panel(field.key)) for field in fields}


def thawed(value: PanelValue):
    return list(value) if isinstance(value, tuple) else value


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


def url_fields(panels) -> tuple[UrlField, ...]:
    """Every panel control a link carries, in page order; each key is used once."""
    fields = tuple(field for panel in panels for field in panel.url_fields)
    panel_keys = [field.key for field in fields]
    keys = panel_keys + [key for key, _ in FILTER_BAR_KEYS]
    # The panels' keys also name their controls next to the filter bar's (url_controls).
    duplicates = {key for key in keys if keys.count(key) > 1} | (
        set(panel_keys) & set(FILTER_CONTROLS))
    if duplicates:
        raise ValueError(f"URL keys used twice: {sorted(duplicates)}")
    return fields


def url_controls(panels) -> dict:
    """(component id, property) of every control a link carries: the filter bar's by name, the
    panels' by URL key."""
    return FILTER_CONTROLS | {
        field.key: panel.controls[field.control]
        for panel in panels for field in panel.url_fields
    }


# Set by other callbacks too: the quick ranges (callbacks/filters.py) set the dates, the grain
# sets the retention periods' default.
SHARED_OUTPUTS = ("start", "end", "periods")


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


def seeded_options(state: ViewState, options: Mapping, fields: Sequence[UrlField]) -> dict:
    """A dropdown drops a value its options lack, and some options arrive only with the panel's
    answer: until then the options hold the link's values too."""
    seeded = {}
    for url_field in fields:
        wanted = state.panel(url_field.key)
        wanted = list(wanted) if isinstance(wanted, tuple) else [wanted] if wanted else []
        offered = list(options.get(url_field.key) or [])
        missing = [value for value in wanted if value not in option_values(offered)]
        seeded[url_field.key] = offered + missing if missing else no_update
    return seeded


def register(app, panels) -> None:
    controls, fields = url_controls(panels), url_fields(panels)
    later = [field for field in fields if field.options_later]
    listed = [field for field in fields
              if field.kind in (Kind.ONE, Kind.MANY) and not field.options_later]
    numbers = [field for field in fields if field.kind is Kind.NUMBER]

    def states(prop: str, chosen: Sequence[UrlField]) -> dict:
        return {field.key: State(controls[field.key][0], prop) for field in chosen}

    # One callback holds both directions (Dash does not re-run a callback for the values it set
    # itself), so a restore from the URL pushes no history entry and cannot loop.
    @app.callback(
        output={
            "search": Output(ids.URL, "search"),
            "message": Output(ids.URL_MESSAGE, "children"),
            "defaults": Output(ids.VIEW_DEFAULTS, "data"),
            "controls": {name: Output(*target, allow_duplicate=name in SHARED_OUTPUTS)
                         for name, target in controls.items()},
            "seeded": {field.key: Output(controls[field.key][0], "options",
                                         allow_duplicate=True) for field in later},
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
            "options": states("options", listed), "later_options": states("options", later),
            "minimums": states("min", numbers), "maximums": states("max", numbers),
        },
        prevent_initial_call="initial_duplicate",
    )
    def sync_url(search, controls, defaults, segment_ids, segment_options, event_types,
                 options, later_options, minimums, maximums):
        current = from_controls(controls, segment_ids, fields)
        # The first call (page load) sees the layout's own values: those are the defaults.
        base = ViewState.from_json(defaults) if defaults else current
        answer = {"search": no_update, "message": no_update,
                  "defaults": no_update if defaults else base.to_json(),
                  "seeded": dict.fromkeys(later_options, no_update)}
        state = current
        if ctx.triggered_id in (None, ids.URL):  # page load, back or forward
            choices = Choices(
                option_values(event_types),
                {component["column"]: option_values(offered)
                 for component, offered in zip(segment_ids, segment_options, strict=True)},
                fields=fields,
                options={key: option_values(offered) for key, offered in options.items()},
                bounds={key: (minimums[key], maximums[key]) for key in minimums},
            )
            state, problems = from_search(search or "", base, choices)
            answer |= {"message": problems_alert(problems),
                       "seeded": seeded_options(state, later_options, later)}
        elif not invalid_range(current) and to_search(current, base, fields) != (search or ""):
            # A range that cannot be shown is never written (the filter bar says why).
            answer["search"] = to_search(current, base, fields)
        answer["controls"] = changed_only(to_controls(state, segment_ids, fields),
                                          to_controls(current, segment_ids, fields))
        return answer
