"""Charts that tell the truth, on every screen (issue: truthful charts, phone, dark mode,
links, accessibility), in real headless Chromium against the app's own CLI server."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from tests.browser_support import wait_for_kpis
from tests.conftest import IN_CI, REPO_ROOT

# The demo_db, server_url, browser and page fixtures.
pytest_plugins = ["tests.browser_support"]

AXE = REPO_ROOT / "tests/.artifacts/axe/node_modules/axe-core/axe.min.js"
TABS = ("growth", "retention", "revenue", "experiments")
COMBINED = "#growth-combined-chart .js-plotly-plot"


def open_page(browser, url: str, **context) -> tuple:
    options = {"viewport": {"width": 1440, "height": 900}} | context
    browser_context = browser.new_context(**options)
    page = browser_context.new_page()
    page.goto(url)
    return browser_context, page


def wait_for_tab(page, tab: str) -> None:
    if tab == "growth":
        wait_for_kpis(page)
    else:
        # The tab's first chart has drawn data (the blank drawn first has no traces).
        page.wait_for_function(
            "tab => [...document.querySelectorAll('.tab-pane.active .js-plotly-plot')]"
            ".some(g => g.data && g.data.length)", arg=tab)
    # Every panel of the tab has answered (a panel updating is dimmed).
    page.wait_for_function("() => !document.querySelector('.tab-pane.active .panel-body.updating')")


def test_week_ticks_stand_on_mondays_and_hovers_name_the_week(page):
    labels = page.evaluate(
        f"[...document.querySelectorAll('{COMBINED} .xtick text')]"
        ".map(t => [...t.querySelectorAll('tspan')].map(s => s.textContent).join(' ')"
        " || t.textContent)")
    assert len(labels) >= 3
    for label in labels:
        day = dt.datetime.strptime(label, "%d %b %Y").date()
        assert day.weekday() == 0, label  # Monday, the ISO week's first day
    hover = page.evaluate(f"document.querySelector('{COMBINED}')._fullLayout.xaxis.hoverformat")
    assert hover == "Week of %-d %b %Y"


def test_the_month_in_progress_is_hatched_and_kept_out_of_the_scale(page):
    bars = page.evaluate(f"document.querySelector('{COMBINED}').data[0].x.length")
    page.click("label:has-text('Month')")
    page.wait_for_function(f"n => document.querySelector('{COMBINED}').data[0].x.length < n",
                           arg=bars)
    chart = page.evaluate(f"""() => {{
        const g = document.querySelector('{COMBINED}');
        const churn = g.data.find(t => t.name === 'Churned');
        const open = churn.marker.pattern.shape.map((s, i) => s === '/' ? churn.y[i] : null)
            .filter(v => v !== null);
        const complete = churn.marker.pattern.shape.map((s, i) => s === '' ? churn.y[i] : null)
            .filter(v => v !== null);
        return {{open, complete, range: g._fullLayout.yaxis.range,
                 dotted: g.data.some(t => t.name === 'Quick ratio (in progress)')}};
    }}""")
    # June 2025 holds 18 days: everyone active in May and not yet back counts as churned.
    (open_churn,) = chart["open"]
    assert open_churn < min(chart["complete"]), "the open month must churn most for this test"
    # The axis ends near the complete months' churn, not at the open month's.
    assert open_churn < chart["range"][0] <= min(chart["complete"])
    assert chart["dotted"]


def test_no_sideways_scroll_on_a_phone_and_the_filters_fold(browser, server_url):
    context, page = open_page(browser, server_url, viewport={"width": 390, "height": 844})
    try:
        for tab in TABS:
            page.goto(f"{server_url}?tab={tab}")
            wait_for_tab(page, tab)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, f"{tab} is {width} px wide"
            # Every tab is in sight (the tab strip would scroll, hiding the active one).
            rights = page.evaluate("() => [...document.querySelectorAll('.nav-tabs .nav-link')]"
                                   ".map(link => link.getBoundingClientRect().right)")
            assert max(rights) <= 390, rights
            # No table cell is cut off: the cells are wide enough for their values.
            cut = page.evaluate("""() => [...document.querySelectorAll(
                '.ag-cell-value, .ag-header-cell-text')].filter(text => text.offsetParent
                && text.scrollWidth > text.clientWidth + 1).map(text => text.innerText)""")
            assert cut == [], f"{tab}: {cut[:5]}"
        # The segment filters fold behind a button, and open with it.
        platform = page.locator("#segment-filter-platform, [id*='platform']").first
        assert not platform.is_visible()
        page.click("#filter-bar-toggle")
        assert page.get_attribute("#filter-bar-toggle", "aria-expanded") == "true"
        platform.wait_for(state="visible")
        # The retention heatmap scrolls inside its card; its cohort labels stay in view.
        page.goto(f"{server_url}?tab=retention")
        wait_for_tab(page, "retention")
        box = page.locator(".heatmap-scroll")
        assert box.evaluate("b => b.scrollWidth > b.clientWidth")
        label = page.locator(".heatmap-label").nth(1)
        before = label.bounding_box()["x"]
        box.evaluate("b => b.scrollLeft = 200")
        page.wait_for_function("() => document.querySelector('.heatmap-scroll').scrollLeft > 0")
        assert label.bounding_box()["x"] == before  # sticky
    finally:
        context.close()


def test_dark_mode_follows_the_system_and_the_toggle_is_remembered(browser, server_url):
    context, page = open_page(browser, server_url, color_scheme="dark")
    try:
        wait_for_kpis(page)
        assert page.get_attribute("html", "data-bs-theme") == "dark"
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert sum(map(int, re.findall(r"\d+", background)[:3])) < 120, background
        # Charts are see-through and their text light; grids are dark too.
        paper = page.evaluate(f"document.querySelector('{COMBINED}')._fullLayout.paper_bgcolor")
        assert paper.replace(" ", "") == "rgba(0,0,0,0)"
        tick = page.evaluate(f"getComputedStyle(document.querySelector('{COMBINED} .ytick text'))"
                             ".fill")
        assert sum(map(int, re.findall(r"\d+", tick)[:3])) > 450, tick
        grid = page.evaluate("getComputedStyle(document.querySelector('.ag-theme-quartz'))"
                             ".getPropertyValue('--ag-background-color').trim()")
        assert grid == "#111827"
        page.click("#theme-toggle")
        page.wait_for_function("document.documentElement.dataset.bsTheme === 'light'")
        assert page.get_attribute("#theme-toggle", "aria-pressed") == "false"
        page.reload()
        wait_for_kpis(page)
        assert page.get_attribute("html", "data-bs-theme") == "light"  # remembered
    finally:
        context.close()


def test_the_page_has_a_language_one_heading_a_main_landmark_and_named_buttons(page):
    assert page.get_attribute("html", "lang") == "en"
    assert page.locator("h1").count() == 1
    assert page.locator("main").count() == 1
    names = page.eval_on_selector_all(".kpi-info", "els => els.map(e => e.getAttribute("
                                      "'aria-label'))")
    assert names and all(name and name.startswith("What is") for name in names)
    # Each chart has a one-line summary for screen readers.
    page.wait_for_function(
        f"() => document.querySelector('{COMBINED}').parentElement.getAttribute('aria-label')"
        "?.includes('Latest:')")
    # Focus is visible: a keyboard user sees where they are.
    page.keyboard.press("Tab")
    page.wait_for_function("document.activeElement.id === 'theme-toggle'")
    # Bootstrap draws a button's focus as a ring (box-shadow), the rest as an outline.
    style = page.evaluate("(s => [s.outlineStyle, s.boxShadow])("
                          "getComputedStyle(document.activeElement))")
    assert style != ["none", "none"]


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("tab", TABS)
def test_axe_finds_no_serious_violations(browser, server_url, tab, scheme):
    if not AXE.exists():
        message = f"{AXE} is missing: run `npm install --prefix tests/.artifacts/axe axe-core`"
        if IN_CI:
            pytest.fail(message + " (.ci/run should have)")
        pytest.skip(message)
    # The page's CSP rightly refuses an injected script: the test's context lets axe in.
    context, page = open_page(browser, f"{server_url}?tab={tab}", bypass_csp=True,
                              color_scheme=scheme)
    try:
        wait_for_tab(page, tab)
        # assets/charts.js mends other components' markup once the page is quiet.
        page.wait_for_function(
            "() => !document.querySelector(\"[role='tab'][aria-controls$='-null']\")"
            " && document.querySelector('#date-range-wrapper')?.getAttribute('role')"
            " === 'combobox'")
        page.add_script_tag(path=str(AXE))
        result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
        serious = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
                   for v in result["violations"] if v["impact"] in ("serious", "critical")]
        assert serious == [], serious
    finally:
        context.close()


def test_revenue_cards_say_there_is_no_data_before_the_first_day(browser, server_url):
    context, page = open_page(browser, f"{server_url}?tab=revenue")
    try:
        page.wait_for_selector("#revenue-kpis .kpi-card")
        cards = page.inner_text("#revenue-kpis")
        first_day = page.inner_text("#data-info").split("–")[0].removeprefix("Data ").strip()
        first = dt.datetime.strptime(first_day, "%d %b %Y").date()
        assert f"no data before {first:%-d %b %Y}" in cards
        assert "▲" not in cards  # no growth from nothing
        assert "$" in cards  # money carries its currency
    finally:
        context.close()


def test_the_experiment_verdict_speaks_one_engine_and_explains_the_other(browser, server_url):
    context, page = open_page(browser, f"{server_url}?tab=experiments&experiment=checkout_button")
    try:
        page.wait_for_selector(".verdict-line")
        verdict = page.inner_text("#experiment-verdict")
        first_line = page.locator(".verdict-line").first.inner_text()
        assert "chance to beat control" in first_line and "p =" not in first_line
        page.click("text=Show the frequentist view")
        page.wait_for_selector(".verdict-other[open]")
        assert "p = " in page.inner_text(".verdict-other")
        assert "answers a different question" in page.inner_text(".verdict-other")
        assert "Bayesian" in verdict
    finally:
        context.close()
