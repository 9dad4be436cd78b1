"""Buttons wired the same way in several panels."""

from __future__ import annotations

from dash import Input, Output, State


def export_grid_on_click(app, button: str, grid: str) -> None:
    """AG Grid's own CSV export (with the grid's csvExportParams), run by a button."""

    @app.callback(Output(grid, "exportDataAsCsv"), Input(button, "n_clicks"),
                  prevent_initial_call=True)
    def export_csv(_clicks):
        return True


def toggle_on_click(app, button: str, target: str) -> None:
    """A button that opens a drawer or collapse, and closes it again."""

    @app.callback(Output(target, "is_open"), Input(button, "n_clicks"),
                  State(target, "is_open"), prevent_initial_call=True)
    def toggle(_clicks, is_open):
        return not is_open
