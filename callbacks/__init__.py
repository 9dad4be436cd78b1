"""One module per panel, each with register(app, backend)."""

from callbacks import filters, growth, retention

PANELS = (filters, growth, retention)


def register_all(app, backend) -> None:
    for panel in PANELS:
        panel.register(app, backend)
