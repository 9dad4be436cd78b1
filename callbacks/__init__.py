"""One module per panel, each with register(app, backend, config)."""

from callbacks import (
    chat,
    diagnostics,
    experiments,
    filters,
    funnel,
    growth,
    retention,
    revenue,
    url_state,
)

PANELS = (filters, growth, retention, revenue, funnel, experiments, chat, url_state, diagnostics)


def register_all(app, backend, config) -> None:
    for panel in PANELS:
        panel.register(app, backend, config)
