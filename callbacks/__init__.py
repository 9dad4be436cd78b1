"""One module per panel, each with register(app, backend)."""

from callbacks import filters, funnel, growth, retention, revenue

PANELS = (filters, growth, retention, revenue, funnel)


def register_all(app, backend) -> None:
    for panel in PANELS:
        panel.register(app, backend)
