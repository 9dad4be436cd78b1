"""The app as deployed: the Procfile's gunicorn command (2 workers), in real headless Chromium.

Dash must work under the content security policy (no violation reported by the browser), the
first page open must find the default views warm, and gunicorn's stderr must be JSON lines."""

from __future__ import annotations

import json
import time
import urllib.request

import pytest

# The demo_db and browser fixtures.
pytest_plugins = ["tests.browser_support"]
CALLBACK_PATH = "/_dash-update-component"
PANEL_OUTPUTS = ("growth-status", "retention-status", "revenue-status", "funnel-status",
                 "experiment-alerts")
RECORD_CSP_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener('securitypolicyviolation',
    event => window.cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`));
"""


def healthz(url: str) -> dict:
    with urllib.request.urlopen(url + "healthz", timeout=5) as response:
        return json.load(response)


@pytest.fixture(scope="module")
def deployed(demo_db, tmp_path_factory):
    """(url, log file) of gunicorn serving the demo, once the default views are warm."""
    from tests.browser_support import procfile_server  # a plugin: import it late

    folder = tmp_path_factory.mktemp("deployed")
    log = folder / "gunicorn.log"
    settings = {"DUCKDB_PATH": str(demo_db), "CACHE_DIR": str(folder / "cache"),
                "WEB_CONCURRENCY": "2", "LOG_LEVEL": "INFO"}
    with procfile_server(settings, log, lambda url: healthz(url)["warm"]["done"]) as url:
        yield url, log


def panel_of(answer) -> str | None:
    """The first output of the callback a response answers."""
    outputs = answer.request.post_data_json["outputs"]
    first = outputs[0] if isinstance(outputs, list) else outputs
    return first["id"] if isinstance(first, dict) else None


def plotted_traces(page, graph: str) -> int:
    selector = f"#{graph} .js-plotly-plot"
    page.wait_for_function(
        "s => (document.querySelector(s)?.data || []).some(t => (t.x || t.z || []).length)",
        arg=selector,
    )
    return page.evaluate("s => document.querySelector(s).data.length", selector)


def test_dash_works_under_the_content_security_policy(browser, deployed, tmp_path):
    url, _ = deployed
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    problems, answers = [], []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("console", lambda message: problems.append(f"console: {message.text}")
            if "Content Security Policy" in message.text or "Refused to" in message.text
            else None)
    page.on("response", lambda response: answers.append(response)
            if response.url.split("?")[0].endswith(CALLBACK_PATH) else None)
    page.add_init_script(RECORD_CSP_VIOLATIONS)

    document = page.goto(url)
    policy = document.headers["content-security-policy"]
    assert "script-src 'self' 'sha256-" in policy and "unsafe" not in policy.split(";")[1]
    assert document.headers["x-frame-options"] == "DENY"
    from tests.browser_support import wait_for_kpis  # a plugin: import it late

    wait_for_kpis(page)
    assert plotted_traces(page, "growth-combined-chart") >= 4
    page.wait_for_load_state("networkidle")
    first_open = list(answers)

    # Hover labels and the grid's CSV export run the code most likely to need eval().
    chart = page.locator("#growth-combined-chart .js-plotly-plot").bounding_box()
    page.mouse.move(chart["x"] + chart["width"] / 2, chart["y"] + chart["height"] / 2)
    page.wait_for_function(  # "x unified" hover draws a box into the hover layer
        "() => document.querySelector('#growth-combined-chart .hoverlayer').childElementCount")
    with page.expect_download() as download:
        page.click("text=Download CSV")
    assert download.value.suggested_filename == "growth_week.csv"
    for tab, graph in (("Retention", "retention-heatmap"), ("Revenue", "revenue-trend"),
                       ("Revenue", "funnel-chart"), ("Experiments", "experiment-lift-chart")):
        page.click(f"a.nav-link:has-text('{tab}')")
        assert plotted_traces(page, graph) >= 1
    page.click("a.nav-link:has-text('Growth')")
    page.click("label:has-text('Month')")
    page.wait_for_function(  # monthly cards are labelled "November 2026", weekly "Week of ..."
        "() => !document.querySelector('#growth-kpis').innerText.includes('Week of')"
        " && /[A-Z][a-z]+ \\d{4}/.test(document.querySelector('#growth-kpis').innerText)"
    )
    page.wait_for_load_state("networkidle")

    assert page.evaluate("window.cspViolations") == []
    assert problems == []
    assert all(answer.status in (200, 204) for answer in answers)
    # The warm-up ran the first open's queries: the visible panel's answer came from the
    # cache, and the browser sent nothing for the panels of hidden tabs.
    panels = [(panel_of(answer), answer.status, answer.headers["x-query-cache"])
              for answer in first_open if panel_of(answer) in PANEL_OUTPUTS]
    assert panels == [("growth-status", 200, "hit")], panels
    # Each tab drew once when it opened (Revenue: revenue and funnel), and going back to
    # Growth with the same filters asked for nothing; Month redrew Growth only.
    drawn = [panel_of(answer) for answer in answers[len(first_open):]
             if panel_of(answer) in PANEL_OUTPUTS]
    assert sorted(drawn) == sorted(PANEL_OUTPUTS), drawn
    context.close()


def test_gunicorn_writes_json_lines(deployed):
    url, log = deployed
    assert healthz(url)["status"] == "ok"
    with urllib.request.urlopen(url, timeout=10) as page:
        assert page.status == 200
    time.sleep(0.5)
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    messages = [line.get("message", "") for line in lines if line["logger"] == "gunicorn.error"]
    assert any(message.startswith("Booting worker") for message in messages)
    assert next(line for line in lines if line.get("event") == "cache_warmed")["failed"] == 0
    queries = [line for line in lines if line.get("event") == "query"]
    assert queries and {"label", "backend", "rows", "milliseconds", "cache_hit"} <= set(queries[0])
    requests = [line for line in lines if line.get("event") == "request"]
    assert {"method": "GET", "path": "/", "status": 200} in [
        {key: line[key] for key in ("method", "path", "status")} for line in requests]
    assert all({"milliseconds", "queries", "cache_hits", "cache_misses"} <= set(line)
               for line in requests)
