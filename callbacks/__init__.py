"""The Dash callbacks: one module per panel (see callbacks/panel.py), listed once in
callbacks/registry.py, plus the filter bar, the chat drawer, URL state and diagnostics."""
