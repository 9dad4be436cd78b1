"""Every panel, registered once. Callbacks, the page's tabs, the response cache, diagnostics,
warm-up and URL state all read PANELS: a new panel is its module and one line here."""

from __future__ import annotations

import logging

from callbacks import (
    chat,
    diagnostics,
    engagement,
    experiments,
    filters,
    funnel,
    growth,
    ltv,
    retention,
    revenue,
    url_state,
)
from callbacks.panel import PageOptions, Panel, PanelContext, register_panel
from layouts import ids
from layouts.page import page, panel_body, unavailable_page
from queries.backends import BackendError
from queries.experiments import experiment_names
from queries.options import filter_options

log = logging.getLogger(__name__)

PANELS: tuple[Panel, ...] = (
    growth.PANEL,
    engagement.PANEL,
    retention.PANEL,
    revenue.PANEL,
    ltv.PANEL,
    funnel.PANEL,
    experiments.PANEL,
)
# The view tabs, in page order: (tab id, label). Each shows its panels in PANELS order.
TABS = (
    (ids.TAB_GROWTH, "Growth"),
    (ids.TAB_RETENTION, "Retention"),
    (ids.TAB_REVENUE, "Revenue & funnel"),
    (ids.TAB_EXPERIMENTS, "Experiments"),
)


def panel_for_output(component_id) -> Panel | None:
    """The panel whose status output this is (a callback's first output names its panel)."""
    return next((panel for panel in PANELS if panel.status == component_id), None)


def panels_of_tab(tab: str | None) -> tuple[Panel, ...]:
    return tuple(panel for panel in PANELS if panel.tab == tab)


def tab_contents(options: PageOptions) -> list[tuple[str, str, list]]:
    """(tab id, label, the panels' layouts) for each tab."""
    return [(tab, label, [panel_body(panel.name, panel.layout(options))
                          for panel in panels_of_tab(tab)])
            for tab, label in TABS]


def page_options(context: PanelContext) -> PageOptions:
    options = filter_options(context.backend)
    return PageOptions(options, experiment_names(context.backend, context.declared))


def serve_layout(context: PanelContext):
    """The page, or an error card when the backend cannot answer."""
    title = context.config.title
    try:
        options = page_options(context)
    except BackendError as error:
        return unavailable_page(title, str(error))
    except Exception:  # the page must render even when the backend is broken
        log.exception("could not read filter options")
        return unavailable_page(title, "Unexpected error; see the server log.")
    return page(title, options.filters, tab_contents(options), [p.request_id for p in PANELS])


def register_all(app, context: PanelContext) -> None:
    for panel in PANELS:
        register_panel(app, panel, context)
    filters.register(app)
    chat.register(app, context)
    url_state.register(app, PANELS)
    diagnostics.register(app, context, PANELS)
