"""One module per panel, each with register(app, backend, config)."""

from callbacks import experiments, filters, funnel, growth, retention, revenue

PANELS = (filters, growth, retention, revenue, funnel, experiments)


def register_all(app, backend, config) -> None:
    for panel in PANELS:
        panel.register(app, backend, config)
