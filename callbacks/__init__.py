"""One module per panel, each with register(app, backend)."""

from callbacks import filters, growth

PANELS = (filters, growth)


def register_all(app, backend) -> None:
    for panel in PANELS:
        panel.register(app, backend)
