"""Browser benchmark: how long the dashboard takes to settle after a click (a script, not a test).

    python tests/browser_benchmark.py [--users 20000] [--db PATH] [--repeat 1] [--port P]

pytest collects test_*.py and *_test.py only, so this file is never run by the test suite.
Everything stays on this machine. A run:

1. Makes the demo database with the app's own CLI (`python -m app demo --users N --end-date
   2026-11-18 --db PATH`; a fixed end date so every run sees the same data), by default as
   tests/.artifacts/browser-benchmark/demo-N.duckdb (made afresh); --db PATH reuses that file
   when it exists and makes it there otherwise.
2. Starts the Procfile's web command (`gunicorn -c python:app.gunicorn_conf app.wsgi:server`,
   read from the Procfile, run with this interpreter) in its own process group, with
   DUCKDB_PATH, PORT (a free port, or --port), a fresh CACHE_DIR in a temporary folder and
   LOG_LEVEL=WARNING, and waits until /healthz reports `"warm": {"done": true}` (the master
   warms the default views in a separate process after start-up). The whole process group is
   killed at the end, also on errors and Ctrl-C.
3. Drives headless Chromium (Playwright, /usr/bin/chromium, viewport 1440x900, a fresh
   browser context per run) through the interactions below and measures click-to-settled.

Click-to-settled. A script injected before the page's own (`add_init_script`) keeps, in the
page: the time of the last DOM mutation (a MutationObserver on document.body: subtree,
childList, attributes, characterData), the number of fetch/XHR requests to Dash's endpoints
still in flight (`/_dash-update-component`, plus `/_dash-layout` and `/_dash-dependencies`
during a page load), the number of lazily loaded script chunks still loading (dcc's
async-graph.js, plotly.min.js, ...: a chart cannot draw before they arrive), long tasks
(PerformanceObserver 'longtask') and layout shifts ('layout-shift'). The click time is taken
in the page by a capturing listener on window: the first pointerdown/mousedown/click after
the script armed it (Playwright then clicks as a user would, so the time excludes its
actionability checks). Mutations inside AG Grid's visually hidden live region for screen
readers (.ag-aria-description-container, updated on a timer after the rows) are not counted:
nothing changes on screen. The page is settled once nothing is in flight and nothing mutated for
500 ms (`page.wait_for_function`, no sleeps); the figure is the time of the LAST mutation minus
the click time (not including the 500 ms of quiet). A page load is measured the same way from
navigation start (performance.timeOrigin; a fresh browser context), and must also show the
KPI cards.

Interactions, in order, per run (each run has a fresh server and a fresh cache):
  first page load                   Growth tab, the views the server warmed at start-up
  grain Week->Month, first time     the Month views are not cached yet
  grain Week<->Month                --toggles clicks (default 12), both views cached
  grain ->Day                       a grain nobody asked for since the server started
  Retention tab, first visit        first drawing in this browser (its data was warmed)
  Growth tab, revisit               a tab already drawn: the browser sends no request
  quick range 28d, first time
  quick range 28d<->All             --toggles clicks
  Experiments tab, first visit
  experiment -> another one         the first other experiment of the dropdown
  experiment -> back                the one shown before: cached
  segment filter platform=ios       Growth again, filtered: a view nobody asked for yet
Between some of them an unmeasured step restores the view (e.g. Day back to Week).

"kind" in the table says whether the server should have the view's answer cached (warm) or
not (cold); the second table shows what the server said: per callback response, `answer` when
its X-Response-Cache header says the whole panel came from the cache, else its X-Query-Cache
header (`hit`: the queries were cached, the panel was drawn; `miss`: a query ran; `none`: no
query). Callback requests and the bytes of their responses (decoded) are counted per click
from Playwright's "response" events. With --repeat K the whole sequence runs K times, each with
a restarted server and a new CACHE_DIR, and the numbers are pooled.

It is a measurement, not pass/fail: the exit status is 0 whenever it ran. Numbers on a busy
machine are noisy; compare runs made under similar load, with --repeat for more samples.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from playwright.sync_api import Error as PlaywrightError  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from layouts import ids  # noqa: E402
from tests.browser_support import CHROMIUM_FLAGS, SERVER_SETTINGS, free_port  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
VIEWPORT = {"width": 1440, "height": 900}
CALLBACK_PATH = "/_dash-update-component"
DATA_END = dt.date(2026, 11, 18)  # fixed, so every run (and tests/loadtest.py) sees the same data
ARTIFACTS = REPO_ROOT / "tests" / ".artifacts" / "browser-benchmark"
QUIET_MS = 500
SETTLE_TIMEOUT_MS = 120_000  # a busy machine; a cold view can take a while

# ---------------------------------------------------------------- the probe in the page

PROBE = """
(() => {
  if (window.__bench) return;
  const now = () => performance.now();
  const s = window.__bench = {
    lastMutation: 0, lastNetwork: 0, inflight: 0, scripts: 0, mutations: 0,
    armedAt: null, clickAt: null, mutationsAtArm: 0, longTasks: [], shifts: [],
  };
  const tracked = (url) => /\\/_dash-(update-component|layout|dependencies)/.test(String(url));
  const begin = () => { s.inflight += 1; s.lastNetwork = now(); };
  const end = () => { s.inflight -= 1; s.lastNetwork = now(); };

  const realFetch = window.fetch;
  window.fetch = function (input) {
    const url = input instanceof Request ? input.url : String(input);
    const promise = realFetch.apply(this, arguments);
    if (!tracked(url)) return promise;
    begin();
    // In flight until the body has arrived, not only the headers.
    return promise.then(
      (response) => { response.clone().arrayBuffer().then(end, end); return response; },
      (error) => { end(); throw error; });
  };
  const open = XMLHttpRequest.prototype.open;
  const send = XMLHttpRequest.prototype.send;
  XMLHttpRequest.prototype.open = function (method, url) {
    this.__benchTracked = tracked(url);
    return open.apply(this, arguments);
  };
  XMLHttpRequest.prototype.send = function () {
    if (this.__benchTracked) { begin(); this.addEventListener('loadend', end, {once: true}); }
    return send.apply(this, arguments);
  };

  const watchScript = (node) => {
    if (node.nodeName !== 'SCRIPT' || !node.src) return;
    s.scripts += 1;
    const done = () => { s.scripts -= 1; s.lastNetwork = now(); };
    node.addEventListener('load', done, {once: true});
    node.addEventListener('error', done, {once: true});
  };
  const start = () => {
    s.lastMutation = now();
    // A screen reader's live region (AG Grid's row-count announcement, updated on a timer)
    // changes nothing on screen: it does not count as the page changing.
    const seen = (r) => !(r.target.closest ? r.target : r.target.parentElement)
      ?.closest('.ag-aria-description-container');
    new MutationObserver((records) => {
      const shown = records.filter(seen);
      if (shown.length) { s.lastMutation = now(); s.mutations += shown.length; }
    })
      .observe(document.body,
               {subtree: true, childList: true, attributes: true, characterData: true});
    // Script chunks loaded on demand (parser-inserted scripts have all run by now).
    new MutationObserver((records) => records.forEach((r) => r.addedNodes.forEach(watchScript)))
      .observe(document, {subtree: true, childList: true});
  };
  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start, {once: true});
  } else {
    start();
  }

  const onInput = () => { if (s.armedAt !== null && s.clickAt === null) s.clickAt = now(); };
  ['pointerdown', 'mousedown', 'click'].forEach(
    (type) => window.addEventListener(type, onInput, true));
  const observe = (type, keep) => {
    try {
      new PerformanceObserver((list) => list.getEntries().forEach(keep))
        .observe({type: type, buffered: true});
    } catch (error) { /* not supported: left empty */ }
  };
  observe('longtask', (e) => s.longTasks.push([e.startTime, e.duration]));
  observe('layout-shift', (e) => s.shifts.push([e.startTime, e.value]));

  s.arm = () => { s.armedAt = now(); s.clickAt = null; s.mutationsAtArm = s.mutations; };
  s.settled = (quiet, ready) => {
    if (s.inflight > 0 || s.scripts > 0) return false;
    if (ready && !document.querySelector(ready)) return false;
    const since = Math.max(s.lastMutation, s.lastNetwork, s.clickAt ?? s.armedAt ?? 0);
    return now() - since >= quiet;
  };
  s.result = () => {
    const from = s.clickAt ?? s.armedAt ?? 0;  // a page load: navigation start
    const after = (entries) => entries.filter((e) => e[0] >= from);
    return {
      clicked: s.clickAt !== null, from: from, lastMutation: s.lastMutation,
      mutations: s.mutations - s.mutationsAtArm,
      longestTask: Math.max(0, ...after(s.longTasks).map((e) => e[1])),
      layoutShift: after(s.shifts).reduce((sum, e) => sum + e[1], 0),
    };
  };
})();
"""


# ---------------------------------------------------------------- records


@dataclass
class Callback:
    output: str
    status: int
    cache: str
    bytes: int
    milliseconds: float


@dataclass
class Sample:
    run: int
    interaction: str
    kind: str
    milliseconds: float
    callbacks: list[Callback]
    mutations: int
    longest_task_ms: float
    layout_shift: float
    problem: str | None = None


@dataclass
class Notes:
    """What the browser and the server said besides the timings."""
    console: Counter = field(default_factory=Counter)
    failed_requests: Counter = field(default_factory=Counter)
    server_log: Counter = field(default_factory=Counter)
    sequence_errors: Counter = field(default_factory=Counter)


# ---------------------------------------------------------------- demo data and server


def make_demo(users: int, db: Path | None) -> Path:
    """The demo database: made afresh at the default path, reused at --db when it exists."""
    if db is not None and db.exists():
        print(f"reusing {db}")
        return db
    db = db or ARTIFACTS / f"demo-{users}.duckdb"
    db.parent.mkdir(parents=True, exist_ok=True)
    for old in (db, db.with_name(db.name + ".wal")):
        old.unlink(missing_ok=True)
    command = [sys.executable, "-m", "app", "demo", "--users", str(users),
               "--end-date", DATA_END.isoformat(), "--db", str(db)]
    print("making the demo:", shlex.join(command[1:]))
    subprocess.run(command, cwd=REPO_ROOT, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return db


def procfile_command() -> list[str]:
    """The Procfile's web command, its `gunicorn` run by this interpreter."""
    for line in (REPO_ROOT / "Procfile").read_text().splitlines():
        if line.startswith("web:"):
            program, *arguments = shlex.split(line.removeprefix("web:"))
            return [sys.executable, "-m", program, *arguments]
    raise SystemExit("the Procfile has no web: line")


def get_json(url: str) -> dict:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return json.load(response)
    except urllib.error.HTTPError as error:  # a 503 still says why
        return json.load(error)


def wait_until_warm(url: str, process: subprocess.Popen, log: Path, seconds: float) -> dict:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}:\n{tail(log)}")
        try:
            health = get_json(url + "healthz")
            if health.get("warm", {}).get("done"):
                return health["warm"]
        except (OSError, ValueError):
            pass  # not listening yet
        time.sleep(0.25)
    raise TimeoutError(f"/healthz did not report the warm-up done within {seconds:.0f} s:\n"
                       f"{tail(log)}")


def tail(log: Path, lines: int = 20) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def stop(process: subprocess.Popen) -> None:
    """SIGTERM to the process group (master, workers, warm-up), then SIGKILL what is left."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=30)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


@contextmanager
def gunicorn(db: Path, port: int | None, warm_timeout: float) -> Iterator[tuple[str, Path]]:
    """(url, log) of the Procfile's server on a fresh cache; stopped on the way out."""
    with tempfile.TemporaryDirectory(prefix="browser-benchmark-") as temporary:
        folder = Path(temporary)
        port = port or free_port()
        env = {k: v for k, v in os.environ.items() if k not in SERVER_SETTINGS}
        env |= {"DUCKDB_PATH": str(db), "PORT": str(port), "CACHE_DIR": str(folder / "cache"),
                "LOG_LEVEL": "WARNING"}
        log = folder / "gunicorn.log"
        with log.open("w") as handle:
            process = subprocess.Popen(procfile_command(), cwd=REPO_ROOT, env=env,
                                       stdout=handle, stderr=subprocess.STDOUT,
                                       start_new_session=True)
        try:
            url = f"http://127.0.0.1:{port}/"
            warm = wait_until_warm(url, process, log, warm_timeout)
            print(f"  server on {url}: warmed {warm.get('views')} views in"
                  f" {warm.get('seconds')} s")
            yield url, log
        finally:
            stop(process)


def server_problems(log: Path) -> Iterator[str]:
    """The log's warnings and errors (LOG_LEVEL=WARNING keeps only those), shortened."""
    for line in log.read_text(errors="replace").splitlines():
        try:
            entry = json.loads(line)
            text = f"{entry.get('level', '?')}: {entry.get('message', entry)}"
        except ValueError:
            text = line
        if text.strip():
            yield text[:200]


# ---------------------------------------------------------------- measuring in the page


class Recorder:
    """The callback responses of the interaction being measured, from Playwright's events."""

    def __init__(self, page, notes: Notes):
        self.responses: list = []
        page.on("response", self.on_response)
        page.on("console", lambda message: notes.console.update(
            [f"{message.type}: {message.text[:200]}"]) if message.type in ("error", "warning")
            else None)
        page.on("pageerror", lambda error: notes.console.update([f"page error: {error}"[:200]]))
        page.on("requestfailed", lambda request: notes.failed_requests.update(
            [f"{urllib.parse.urlsplit(request.url).path}: {request.failure}"]))

    def on_response(self, response) -> None:
        if urllib.parse.urlsplit(response.url).path.endswith(CALLBACK_PATH):
            self.responses.append(response)

    def take(self) -> list[Callback]:
        taken, self.responses = self.responses, []
        return [callback(response) for response in taken]


def callback(response) -> Callback:
    headers = response.headers
    cache = "answer" if headers.get("x-response-cache") == "hit" else \
        headers.get("x-query-cache", "?")
    try:
        size = len(response.body())
    except Exception:  # the body is gone: fall back on the header
        size = int(headers.get("content-length", 0))
    try:
        output = response.request.post_data_json.get("output", "?")
    except Exception:
        output = "?"
    timing = response.request.timing
    milliseconds = timing.get("responseEnd", -1)
    return Callback(output, response.status, cache, size, max(milliseconds, 0))


def wait_settled(page, ready: str | None = None) -> None:
    page.wait_for_function("([quiet, ready]) => window.__bench.settled(quiet, ready)",
                           arg=[QUIET_MS, ready], polling=100, timeout=SETTLE_TIMEOUT_MS)


def settle(page) -> None:
    """An unmeasured step's wait: nothing in flight and no mutation for the quiet period."""
    page.evaluate("() => window.__bench.arm()")
    wait_settled(page)


class Session:
    """One run's page: measures interactions and keeps their samples."""

    def __init__(self, page, recorder: Recorder, run: int):
        self.page, self.recorder, self.run = page, recorder, run
        self.samples: list[Sample] = []

    def record(self, interaction: str, kind: str, result: dict, problem: str | None) -> None:
        if not result["clicked"] and result["from"] > 0:
            problem = problem or "the click never reached the page"
        self.samples.append(Sample(
            self.run, interaction, kind, max(0.0, result["lastMutation"] - result["from"]),
            self.recorder.take(), result["mutations"], result["longestTask"],
            result["layoutShift"], problem))

    def load(self, url: str) -> None:
        self.recorder.take()
        self.page.goto(url)
        wait_settled(self.page, ready=".kpi-period:not(:empty)")
        self.record("first page load", "warm", self.page.evaluate("() => window.__bench.result()"),
                    None)

    def click(self, interaction: str, kind: str, selector: str,
              check: Callable[[], str | None] | None = None) -> None:
        """Measures a click on selector; check says what is wrong afterwards, if anything."""
        settle(self.page)  # nothing left over from the step before
        self.recorder.take()
        self.page.evaluate("() => window.__bench.arm()")
        self.page.click(selector)
        wait_settled(self.page)
        result = self.page.evaluate("() => window.__bench.result()")
        self.record(interaction, kind, result, check() if check else None)

    def step(self, selector: str) -> None:
        """An unmeasured click that restores the view for the next measurement."""
        self.page.click(selector)
        settle(self.page)
        self.recorder.take()


# ---------------------------------------------------------------- the interactions


PLATFORM_DROPDOWN = "[id='" + json.dumps(ids.segment_filter("platform"), sort_keys=True,
                                         separators=(",", ":")) + "']"


def grain_label(label: str) -> str:
    return f"#{ids.GRAIN} label:text-is('{label}')"


def tab_link(label: str) -> str:
    return f".nav-tabs a.nav-link:text-is('{label}')"


def quick_range_button(label: str) -> str:
    return f".quick-ranges button:text-is('{label}')"


def option(value: str) -> str:
    return f"[role=option]:has(input[value='{value}'])"


def expect_grain(page, value: str) -> Callable[[], str | None]:
    def check():
        checked = page.eval_on_selector(f"#{ids.GRAIN}", "e => e.querySelector("
                                        "'input:checked')?.value")
        return None if checked == value else f"grain is {checked}, not {value}"
    return check


def expect_tab(page, label: str) -> Callable[[], str | None]:
    def check():
        active = page.inner_text(".nav-tabs a.nav-link.active")
        return None if active == label else f"tab {active!r} is open, not {label!r}"
    return check


def expect_experiment(page, name: str) -> Callable[[], str | None]:
    def check():
        shown = page.inner_text(f"#{ids.EXPERIMENT} .dash-dropdown-value")
        return None if shown == name else f"experiment {shown!r} is shown, not {name!r}"
    return check


def grain_sequence(session: Session, toggles: int) -> None:
    page = session.page
    session.click("grain Week->Month, first time", "cold", grain_label("Month"),
                  expect_grain(page, "month"))
    for n in range(toggles):
        label = "Week" if n % 2 == 0 else "Month"
        session.click("grain Week<->Month", "warm", grain_label(label),
                      expect_grain(page, label.lower()))
    session.click("grain ->Day", "cold", grain_label("Day"), expect_grain(page, "day"))
    session.step(grain_label("Week"))


def tab_sequence(session: Session) -> None:
    page = session.page
    session.click("Retention tab, first visit", "warm", tab_link("Retention"),
                  expect_tab(page, "Retention"))
    session.click("Growth tab, revisit", "warm", tab_link("Growth"), expect_tab(page, "Growth"))


def quick_range_sequence(session: Session, toggles: int) -> None:
    session.click("quick range 28d, first time", "cold", quick_range_button("28d"))
    for n in range(toggles):
        session.click("quick range 28d<->All", "warm",
                      quick_range_button("All" if n % 2 == 0 else "28d"))
    if toggles % 2 == 0:  # on 28d: back to the whole span, the page's default
        session.step(quick_range_button("All"))


def experiment_sequence(session: Session) -> None:
    page = session.page
    session.click("Experiments tab, first visit", "warm", tab_link("Experiments"),
                  expect_tab(page, "Experiments"))
    page.click(f"#{ids.EXPERIMENT}")
    page.wait_for_selector("[role=option]")
    first = page.eval_on_selector("[role=option] input:checked", "input => input.value")
    names = page.eval_on_selector_all("[role=option] input", "inputs => inputs.map(i => i.value)")
    other = next((name for name in names if name != first), None)
    if other is None:
        page.keyboard.press("Escape")
        print(f"  only one experiment ({first}): no experiment switch measured")
        return
    session.click(f"experiment -> another ({other})", "cold", option(other),
                  expect_experiment(page, other))
    page.click(f"#{ids.EXPERIMENT}")
    page.wait_for_selector("[role=option]")
    session.click(f"experiment -> back ({first})", "warm", option(first),
                  expect_experiment(page, first))


def filter_sequence(session: Session) -> None:
    """Growth filtered by one segment value: a view nobody asked for yet."""
    page = session.page
    session.step(tab_link("Growth"))
    page.click(PLATFORM_DROPDOWN)
    page.wait_for_selector("[role=option]")
    session.click("segment filter platform=ios", "cold", option("ios"))
    page.keyboard.press("Escape")


def run_once(browser, url: str, run: int, toggles: int, notes: Notes) -> list[Sample]:
    context = browser.new_context(viewport=VIEWPORT)
    try:
        context.add_init_script(PROBE)
        page = context.new_page()
        page.set_default_timeout(SETTLE_TIMEOUT_MS)
        session = Session(page, Recorder(page, notes), run)
        session.load(url)
        sequences = [lambda: grain_sequence(session, toggles), lambda: tab_sequence(session),
                     lambda: quick_range_sequence(session, toggles),
                     lambda: experiment_sequence(session), lambda: filter_sequence(session)]
        for sequence in sequences:
            try:
                sequence()
            except PlaywrightError as error:  # say so, and go on with the next sequence
                text = str(error).splitlines()[0]
                print(f"  run {run}: a sequence failed: {text}")
                notes.sequence_errors.update([text[:200]])
        return session.samples
    finally:
        context.close()


# ---------------------------------------------------------------- report


def percentile(values: list[float], q: float) -> float:
    """Linear interpolation between the closest ranks (numpy's default)."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def grouped(samples: list[Sample]) -> dict[tuple[str, str], list[Sample]]:
    groups: dict[tuple[str, str], list[Sample]] = {}
    for sample in samples:
        # the experiment names are in the label: group by what was done, not which
        name = re.sub(r" \(.*\)$", "", sample.interaction)
        groups.setdefault((name, sample.kind), []).append(sample)
    return groups


def print_timings(groups: dict[tuple[str, str], list[Sample]]) -> None:
    print(f"\n{'click-to-settled':34} {'kind':5} {'n':>3} {'p50 ms':>8} {'p95 ms':>8}"
          f" {'max ms':>8}")
    for (name, kind), samples in groups.items():
        values = [s.milliseconds for s in samples]
        print(f"{name:34} {kind:5} {len(values):3} {percentile(values, 0.5):8.0f}"
              f" {percentile(values, 0.95):8.0f} {max(values):8.0f}")


def print_costs(groups: dict[tuple[str, str], list[Sample]]) -> None:
    print(f"\n{'per click (mean)':34} {'kind':5} {'callbacks':>9} {'KB':>8} {'mutations':>9}"
          f" {'longtask':>8} {'shift':>6}  server answers (all clicks)")
    for (name, kind), samples in groups.items():
        n = len(samples)
        calls = [c for s in samples for c in s.callbacks]
        answers = Counter(c.cache for c in calls)
        print(f"{name:34} {kind:5} {len(calls) / n:9.1f}"
              f" {sum(c.bytes for c in calls) / n / 1024:8.1f}"
              f" {sum(s.mutations for s in samples) / n:9.0f}"
              f" {max(s.longest_task_ms for s in samples):8.0f}"
              f" {max(s.layout_shift for s in samples):6.3f}  "
              + (", ".join(f"{k} {v}" for k, v in sorted(answers.items())) or "no request"))
    print("(KB: decoded callback response bodies; longtask: the longest main-thread task after"
          " the click, max over clicks, ms; shift: layout-shift score after the click, max)")


def print_slowest(groups: dict[tuple[str, str], list[Sample]]) -> None:
    print("\nslowest callback request per interaction (request start to response end):")
    for (name, kind), samples in groups.items():
        calls = [c for s in samples for c in s.callbacks]
        if calls:
            slowest = max(calls, key=lambda c: c.milliseconds)
            print(f"  {name + ' (' + kind + ')':42} {slowest.milliseconds:6.0f} ms"
                  f"  {slowest.cache:6}  {slowest.bytes / 1024:7.1f} KB  {slowest.output[:70]}")


def print_notes(samples: list[Sample], notes: Notes) -> None:
    problems = [(s.run, s.interaction, s.problem) for s in samples if s.problem]
    errors = Counter(f"HTTP {c.status}: {c.output[:60]}" for s in samples for c in s.callbacks
                     if c.status not in (200, 204))
    sections = {
        "checks that failed after a click": Counter(f"run {r}: {i}: {p}" for r, i, p in problems),
        "callback responses that were not 200/204": errors,
        "browser console errors and warnings": notes.console,
        "failed requests": notes.failed_requests,
        "interaction sequences that failed (the rest of the run went on)": notes.sequence_errors,
        "server log (warnings and errors)": notes.server_log,
    }
    for title, counts in sections.items():
        print(f"\n{title}: {'none' if not counts else ''}")
        for text, count in counts.most_common(15):
            print(f"  {count:4}x  {text}")


def report(samples: list[Sample], notes: Notes) -> None:
    groups = grouped(samples)
    print_timings(groups)
    print_costs(groups)
    print_slowest(groups)
    print_notes(samples, notes)


# ---------------------------------------------------------------- main


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="See the module docstring (top of tests/browser_benchmark.py) for what is"
               " measured and how.")
    parser.add_argument("--users", type=int, default=20_000, help="demo size (default 20000)")
    parser.add_argument("--db", type=Path, help="a demo database to reuse (made there if"
                                                " missing)")
    parser.add_argument("--repeat", type=int, default=1, metavar="K",
                        help="runs, each with a restarted server and a fresh cache (default 1)")
    parser.add_argument("--port", type=int, help="port for gunicorn (default: a free one)")
    parser.add_argument("--toggles", type=int, default=12,
                        help="warm clicks of the grain and quick-range toggles (default 12)")
    parser.add_argument("--warm-timeout", type=float, default=180,
                        help="seconds to wait for /healthz to report the warm-up (default 180)")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write every sample here")
    return parser.parse_args(argv)


def interrupt_on_sigterm() -> None:
    """A SIGTERM unwinds like Ctrl-C, so the server's process group is still stopped."""
    def handler(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, handler)


def main(argv=None) -> int:
    args = parse_args(argv)
    interrupt_on_sigterm()
    reused = args.db is not None and args.db.exists()
    db = make_demo(args.users, args.db)
    samples: list[Sample] = []
    notes = Notes()
    data = "reused" if reused else f"{args.users:,} demo users, data to {DATA_END}"
    print(f"browser benchmark: {db} ({data}), {args.repeat} run(s),"
          f" viewport {VIEWPORT['width']}x{VIEWPORT['height']}, quiet period {QUIET_MS} ms")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            for run in range(1, args.repeat + 1):
                print(f"run {run}/{args.repeat}: starting gunicorn (fresh cache)")
                started = time.monotonic()
                with gunicorn(db, args.port, args.warm_timeout) as (url, log):
                    samples += run_once(browser, url, run, args.toggles, notes)
                    notes.server_log.update(server_problems(log))
                print(f"  run {run} took {time.monotonic() - started:.0f} s")
        finally:
            browser.close()
    report(samples, notes)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps([asdict(s) for s in samples], indent=1))
        print(f"\nsamples written to {args.json}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("\ninterrupted: the server was stopped", file=sys.stderr)
        sys.exit(130)
