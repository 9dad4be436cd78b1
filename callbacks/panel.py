"""A panel: its layout, its named inputs and outputs, a compute step and a render step.

Every panel answers the same way (answer() below): the filter bar is parsed once into a view,
the panel parses its own controls into a typed request, compute() runs the queries and returns a
typed result, render() shapes it into named outputs. A UserError is shown as it is: a request to
fix as a notice, a failing backend as an error card (the rest of the page keeps working); any
other exception is a bug, logged, and shown as unexpected. The registry (callbacks/registry.py)
lists the panels; callbacks, the response cache, diagnostics, warm-up and URL state read it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import dash_bootstrap_components as dbc
from dash import ClientsideFunction, Input, Output, State, no_update
from dash.exceptions import PreventUpdate

from callbacks import dash_request, diagnostics
from callbacks.buttons import export_grid_on_click
from callbacks.url_state import UrlField
from callbacks.view_state import (
    FILTER_BAR,
    FILTER_BAR_STATE,
    DateRangeError,
    view_from_filter_bar,
)
from layouts import ids
from layouts.components import error_card
from layouts.page import PANEL_BODY, PANEL_UPDATING
from queries.errors import ParameterError, UserError
from queries.options import FilterOptions
from queries.query_log import collecting

log = logging.getLogger(__name__)
UNEXPECTED = "An unexpected error occurred; the server log has the details."
Dependency = tuple[Any, str]  # (component id, property)


@dataclass(frozen=True)
class PageOptions:
    """What the layouts offer: the data's filter options and the experiments."""

    filters: FilterOptions
    experiments: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class PanelContext:
    """What a panel's steps may use. `cache` keeps the diagnostics (None: no diagnostics)."""

    backend: Any
    config: Any
    declared: Mapping = field(default_factory=dict)
    cache: Any = None


@dataclass(frozen=True)
class Panel:
    name: str
    label: str  # in the diagnostics' list
    title: str  # in "<title> could not be loaded"
    tab: str
    layout: Callable[[PageOptions], Any]
    # The component whose children are the panel's status line, output "status": set on every
    # answer, first among the outputs, it names the panel in a request and tells the
    # diagnostics to refresh.
    status: str
    # The other outputs: named (component id, property) pairs (see by_property).
    outputs: Mapping[str, Dependency]
    # Parses the view and the panel's controls into its request; None: nothing to draw.
    parse: Callable[[Any, Mapping, PanelContext], Any]
    compute: Callable[[PanelContext, Any], Any]
    render: Callable[[Any, Any], dict]
    # failure(status component, message): every output, for an answer that cannot be drawn.
    failure: Callable[[Any, str], dict]
    # The panel's own controls: a change redraws it. Read with the filter bar.
    controls: Mapping[str, Dependency] = field(default_factory=dict)
    # Read but not watched.
    state: Mapping[str, Dependency] = field(default_factory=dict)
    # Whether a whole answer may be served from the response cache: true when it depends only
    # on the request and the data.
    cacheable: bool = True
    # The controls a shared link carries (callbacks/url_state.py).
    url_fields: tuple[UrlField, ...] = ()
    # "Download CSV" button id -> the grid it exports (AG Grid's own export).
    exports: Mapping[str, str] = field(default_factory=dict)
    # A panel below the fold: the store (layouts/growth.py drawn_when_shown) that says whether
    # it is on screen; it asks the server only while it is.
    shown_store: str | None = None
    # register(app) for the panel's small browser-side helpers (e.g. a default that follows
    # the grain); they draw nothing from the backend.
    extra_callbacks: Callable[[Any], None] | None = None

    @property
    def request_id(self) -> dict:
        return ids.panel_request(self.name, self.tab)

    @property
    def named_outputs(self) -> dict[str, Dependency]:
        """Every output, the status line first."""
        return {"status": (self.status, "children"), **self.outputs}

    def unchanged(self) -> dict:
        return dict.fromkeys(self.named_outputs, no_update)


def by_property(**groups: Mapping[str, Any]) -> dict[str, Dependency]:
    """Named dependencies grouped by property: by_property(figure={"trend": TREND_ID}) is
    {"trend": (TREND_ID, "figure")}."""
    return {name: (component, prop)
            for prop, named in groups.items() for name, component in named.items()}


def notice(message: str) -> dbc.Alert:
    """A request the user can fix, said in the panel."""
    return dbc.Alert(message, color="warning", className="py-2 panel-notice")


def answer(panel: Panel, context: PanelContext, filters: Mapping, controls: Mapping) -> dict:
    """The panel's named outputs for these control values."""
    with collecting() as records:
        try:
            view = view_from_filter_bar(filters)
            request = panel.parse(view, controls, context)
            if request is None:
                return panel.unchanged()
            return panel.render(panel.compute(context, request), request)
        except DateRangeError:
            return panel.unchanged()  # the filter bar explains what to fix
        except ParameterError as error:
            return panel.failure(notice(str(error)), str(error))
        except UserError as error:
            message = str(error)
        except Exception:  # a bug in one panel must not take the page down
            log.exception("%s failed", panel.label)
            message = UNEXPECTED
        finally:
            diagnostics.remember(context.cache, panel.name, records)
    dash_request.mark_failed()
    return panel.failure(error_card(f"{panel.title} could not be loaded", message), message)


def register_panel(app, panel: Panel, context: PanelContext) -> None:
    """The browser's gate in front of the panel, then the panel's server callback."""
    watched = {**FILTER_BAR, **panel.controls}
    # In the browser (assets/panels.js): the panel's request store is set only while its tab
    # is open and its view differs from the one it drew last. All as Inputs: a clientside
    # function gets its Inputs' values before its States'.
    shown = [Input(panel.shown_store, "data")] if panel.shown_store else []
    app.clientside_callback(
        ClientsideFunction("panels", "requestWhenShown" if shown else "request"),
        Output(panel.request_id, "data"),
        *[Input(*dependency) for dependency in watched.values()],
        *shown,
        Input(ids.VIEW_TABS, "active_tab"),
        State(panel.request_id, "data"),
    )
    state = {"filters": {name: State(*dep) for name, dep in FILTER_BAR_STATE.items()}}
    own = {**panel.controls, **panel.state}
    if own:
        state["controls"] = {name: State(*dependency) for name, dependency in own.items()}

    @app.callback(
        output={name: Output(*dependency) for name, dependency in panel.named_outputs.items()},
        inputs={"request": Input(panel.request_id, "data")},
        state=state,
        running=[(Output(ids.panel_body(panel.name), "className"), PANEL_UPDATING, PANEL_BODY)],
        prevent_initial_call=True,
    )
    def update_panel(request, filters, controls=None):
        outputs = answer(panel, context, filters, controls or {})
        if all(value is no_update for value in outputs.values()):
            # Dash wants a list for a pattern output: say "nothing changed" as a whole.
            raise PreventUpdate
        return outputs

    for button, grid in panel.exports.items():
        export_grid_on_click(app, button, grid)
    if panel.extra_callbacks is not None:
        panel.extra_callbacks(app)


def draw_when_shown(figures_store: str, shown_store: str, targets: list[Dependency]):
    """extra_callbacks for a panel whose charts (and table) sit below the fold: their values go
    to a store, in `targets` order, and reach them only while on screen (assets/panels.js)."""
    def register(app) -> None:
        app.clientside_callback(
            ClientsideFunction("panels", "drawWhenShown"),
            [Output(*target) for target in targets],
            Input(figures_store, "data"),
            Input(shown_store, "data"),
        )
    return register
