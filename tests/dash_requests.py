"""Dash callbacks driven through the Flask test client, with the request body the browser's
renderer sends: the real dispatch, context (ctx.triggered_id, cookies) and serialisation."""

from __future__ import annotations

from layouts import ids
from queries.metrics import KPIS

CALLBACK_PATH = "/_dash-update-component"
# The segment dropdowns' pattern id as the renderer writes it, and its one dropdown in an app
# over tests/conftest.py's PLATFORM_ROWS.
SEGMENTS = '{"column":["ALL"],"type":"segment-filter"}'
# The growth view's parts per KPI metric (card texts, chart), always in the page.
GROWTH_PATTERNS = {
    f'{{"metric":["ALL"],"type":"{kind}"}}': [{"type": kind, "metric": metric.column}
                                              for metric in KPIS]
    for kind in (ids.METRIC_GRAPH_TYPE, "kpi-value", "kpi-change", "kpi-period")
}
MATCHES = {SEGMENTS: [ids.segment_filter("platform")]} | GROWTH_PATTERNS


def callback_key(app, first_output: str) -> str:
    """The callback whose first output is `first_output` ("component.property")."""
    for key in app.callback_map:
        if key.lstrip(".").split("...")[0].rstrip(".") == first_output:
            return key
    raise KeyError(f"no callback starts with {first_output}")


def is_pattern(component_id) -> bool:
    return isinstance(component_id, str) and component_id.startswith("{")


def dependency(dep: dict, values: dict, matches: dict) -> dict | list:
    name = f"{dep['id']}.{dep['property']}"
    if not is_pattern(dep["id"]):
        return {"id": dep["id"], "property": dep["property"], "value": values.get(name)}
    concrete = matches.get(dep["id"], [])
    given = concrete if dep["property"] == "id" else values.get(name, [None] * len(concrete))
    return [{"id": component, "property": dep["property"], "value": value}
            for component, value in zip(concrete, given, strict=True)]


def output_spec(output, matches: dict) -> dict | list:
    component, prop = output.component_id_str(), output.component_property
    if is_pattern(component):
        return [{"id": concrete, "property": prop} for concrete in matches.get(component, [])]
    return {"id": component, "property": prop}


def request_body(app, first_output: str, values: dict, changed: list[str] | None = None,
                 matches: dict | None = None) -> dict:
    """The body the browser's renderer posts for this callback (see call())."""
    key = callback_key(app, first_output)
    spec, matches = app.callback_map[key], matches or {}
    outputs = spec["output"]
    return {
        "output": key,
        # A callback with a single Output (not a list) gets a single spec, as from the browser.
        "outputs": [output_spec(output, matches) for output in outputs]
        if isinstance(outputs, list) else output_spec(outputs, matches),
        "inputs": [dependency(dep, values, matches) for dep in spec["inputs"]],
        "state": [dependency(dep, values, matches) for dep in spec["state"]],
        "changedPropIds": changed or [],
    }


def call(client, app, first_output: str, values: dict, changed: list[str] | None = None,
         matches: dict | None = None) -> dict:
    """Runs a callback and returns its answer by component: {id: {property: value}}.

    values: {"component.property": value}; a pattern-matching dependency takes a list of values
    aligned with `matches[pattern]`, the concrete ids it matches (its "id" state is filled in).
    changed: the "component.property" names that triggered it (none: the initial call).
    """
    body = request_body(app, first_output, values, changed, matches)
    response = client.post(CALLBACK_PATH, json=body)
    if response.status_code == 204:  # every output was no_update
        return {}
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["response"]
