"""Load test: gunicorn (2 workers) on the demo data, driven by simulated users.

    python tests/loadtest.py [--users 50] [--seconds 60] [--kill-worker-after SECONDS]

A script, not a test module (pytest collects test_*.py and *_test.py only). Everything stays on
the loopback interface. Steps:

1. The demo database (`python -m app demo --users 20000 --end-date 2026-11-18`) in a temporary
   folder, unless --db names one.
2. gunicorn with the Procfile's settings, bound to 127.0.0.1, and a fresh cache folder; the
   script waits until /healthz says the default views are warm.
3. Headless Chromium opens the page and makes the interactions below while the script records
   every callback request the page sends: the payloads are the browser's own, not guesses.
4. Each simulated user opens the page (/, _dash-layout, _dash-dependencies and the first
   callbacks), then repeats the interactions in random order with values of their own (grain,
   date range, platform, retention mode, revenue breakdown, experiment), looking at the page
   for 5-15 s between changes (--think-min/--think-max), sending an interaction's callbacks
   concurrently as the browser does.
5. It prints requests per second, p50/p95/p99 for callbacks answered from the cache and those
   that ran a query (the X-Query-Cache response header), and the errors; with
   --kill-worker-after it SIGKILLs one worker mid-run and reports whether gunicorn replaced it.

Targets: no errors; cache-hit p95 <= 30 ms; cache-miss p95 <= 300 ms. The exit code is 1 when a
target is missed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import urllib3

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from app.response_cache import canonical  # noqa: E402
from layouts import ids  # noqa: E402
from tests.browser_support import CHROMIUM_FLAGS, free_port  # noqa: E402

CALLBACK_PATH = "/_dash-update-component"
DEMO_ARGS = ["--users", "20000", "--end-date", "2026-11-18"]
TARGET_HIT_P95_MS = 30.0
TARGET_MISS_P95_MS = 300.0
PLATFORM = json.dumps(ids.segment_filter("platform"), sort_keys=True, separators=(",", ":"))


@dataclass
class Sample:
    interaction: str
    started: float
    milliseconds: float
    status: int | None
    cache: str
    error: str | None = None


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    log: Path
    killed: list[tuple[float, int]] = field(default_factory=list)


# ---------------------------------------------------------------- server


def make_demo(folder: Path) -> Path:
    db = folder / "demo.duckdb"
    subprocess.run([sys.executable, "-m", "app", "demo", *DEMO_ARGS, "--db", str(db)],
                   cwd=REPO_ROOT, check=True, stderr=subprocess.DEVNULL)
    return db


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)


def wait_until_warm(url: str, process: subprocess.Popen, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("gunicorn exited; see its log")
        try:
            if get_json(url + "healthz").get("warm", {}).get("done"):
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise TimeoutError("the default views were not warmed in time")


@contextmanager
def gunicorn(db: Path, folder: Path, workers: int) -> Iterator[Server]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "BACKEND")}
    env |= {"DUCKDB_PATH": str(db), "CACHE_DIR": str(folder / "cache"),
            "WEB_CONCURRENCY": str(workers), "PORT": str(port), "LOG_LEVEL": "WARNING"}
    log = folder / "gunicorn.log"
    with log.open("w") as handle:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "python:app.gunicorn_conf",
             "-b", f"127.0.0.1:{port}", "app.wsgi:server"],
            cwd=REPO_ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT,
        )
    server = Server(f"http://127.0.0.1:{port}/", process, log)
    try:
        wait_until_warm(server.url, process)
        yield server
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)


def workers_of(master: int) -> set[int]:
    """The master's children running gunicorn (not the warm-up process)."""
    command = Path(f"/proc/{master}/cmdline").read_bytes()
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            if parent == master and (entry / "cmdline").read_bytes() == command:
                found.add(int(entry.name))
        except (OSError, ValueError, IndexError):
            continue
    return found


# ---------------------------------------------------------------- capture


def click_option(page, dropdown: str, text: str) -> None:
    page.click(dropdown)
    page.click(f".dash-dropdown-option:has-text('{text}'), [role=option]:has-text('{text}')")


INTERACTIONS = {
    "grain": lambda page: page.click("label:has-text('Month')"),
    "date range": lambda page: (page.fill(f"#{ids.DATE_RANGE_START_INPUT}", "2026-03-01"),
                                page.keyboard.press("Enter"), page.keyboard.press("Escape")),
    "segment": lambda page: click_option(page, f"[id='{PLATFORM}']", "ios"),
    "retention": lambda page: (page.click("a.nav-link:has-text('Retention')"),
                               page.click("label:has-text('In period k or later')")),
    "revenue": lambda page: (page.click("a.nav-link:has-text('Revenue')"),
                             click_option(page, f"#{ids.REVENUE_BREAKDOWN}", "country")),
    "experiments": lambda page: (page.click("a.nav-link:has-text('Experiments')"),
                                 click_option(page, f"#{ids.EXPERIMENT}", "pricing_page")),
}


def capture(url: str) -> dict[str, list[dict]]:
    """The callback requests the page sends on opening and for each interaction."""
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium")
    if chromium is None:
        raise SystemExit("chromium is needed to capture the browser's callback payloads")
    captured: dict[str, list[dict]] = {}
    current = ["open"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        page = open_page(browser, url)
        page.on("request", lambda request: captured.setdefault(current[0], []).append(
            json.loads(request.post_data)) if is_callback(request.url) else None)
        page.reload()
        page.wait_for_selector(".kpi-period:not(:empty)")  # drawn: its period came
        settle(page)
        for name, act in INTERACTIONS.items():
            current[0] = name
            act(page)
            settle(page)
        browser.close()
    missing = [name for name in ["open", *INTERACTIONS] if not captured.get(name)]
    if missing:
        raise RuntimeError(f"the page sent no callback for: {', '.join(missing)}")
    return captured


def open_page(browser, url: str, attempts: int = 3):
    """A page showing the Growth panel. Rarely the first page after start-up never shows it;
    say what the page saw and try a new one rather than lose the run."""
    for attempt in range(1, attempts + 1):
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        seen: list[str] = []
        page.on("pageerror", lambda error, seen=seen: seen.append(f"page error: {error}"))
        page.on("response", lambda response, seen=seen: seen.append(
            f"{response.status} {urllib.parse.urlsplit(response.url).path}"))
        page.set_default_timeout(60_000)  # a busy machine: the first drawing takes a while
        try:
            page.goto(url)
            page.wait_for_selector(".kpi-period:not(:empty)")  # drawn: its period came
            return page
        except Exception as failure:  # Playwright's timeout
            print(f"capture: attempt {attempt}: {failure}; the page saw: {seen}",
                  file=sys.stderr)
            page.close()
    raise RuntimeError("the page never showed the Growth panel; see above")


def is_callback(url: str) -> bool:
    # Dash adds a per-page-load query string (?endId=...), used by background callbacks only.
    return urllib.parse.urlsplit(url).path.endswith(CALLBACK_PATH)


def settle(page) -> None:
    page.wait_for_timeout(1000)  # the date picker sends its change after a moment
    page.wait_for_load_state("networkidle")


# ---------------------------------------------------------------- simulated users


def dependency_key(dependency: dict) -> str:
    component = dependency["id"]
    if isinstance(component, dict):
        component = json.dumps(component, sort_keys=True, separators=(",", ":"))
    return f"{component}.{dependency['property']}"


def dependency_items(body: dict) -> Iterator[dict]:
    """Every input and state of a request, a pattern-matching one's components each."""
    for group in ("inputs", "state"):
        for dependency in body.get(group, []):
            yield from dependency if isinstance(dependency, list) else [dependency]


def with_state(body: dict, state: dict) -> dict:
    """The captured request with this user's values in place of the captured ones."""
    body = json.loads(json.dumps(body))
    for item in dependency_items(body):
        key = dependency_key(item)
        if key in state:
            item["value"] = state[key]
    for request in body.get("inputs", []):
        if isinstance(request, dict) and isinstance(request["id"], dict) \
                and request["id"].get("type") == ids.PANEL_REQUEST_TYPE:
            # The browser's gate (assets/panels.js) writes the panel's view into its request,
            # so equal views send equal requests; the captured one named the captured view.
            values = [[item.get("value") for item in dependency]
                      if isinstance(dependency, list) else dependency.get("value")
                      for dependency in body["state"]]
            request["value"] = {"view": json.dumps(values, sort_keys=True)}
    return body


def opening_values(bodies: list[dict]) -> dict:
    """The controls' values when the page opens, as its first callbacks sent them."""
    values = {}
    for body in bodies:
        for item in dependency_items(body):
            values.setdefault(dependency_key(item), item.get("value"))
    return values


def option_values(layout: dict, component_id) -> list:
    """A component's options in the served layout (a list of values or {label, value})."""
    stack = [layout]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            props = node.get("props", {})
            if props.get("id") == component_id:
                return [o["value"] if isinstance(o, dict) else o for o in props.get("options", [])]
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return []


def month_starts(first_day: str, last_day: str) -> list[str]:
    """The data's first day, then the first of every later month."""
    first, last = dt.date.fromisoformat(first_day[:10]), dt.date.fromisoformat(last_day[:10])
    starts, month = [first], first.replace(day=1)
    while (month := (month + dt.timedelta(days=32)).replace(day=1)) <= last:
        starts.append(month)
    return [day.isoformat() for day in starts]


def choices(layout: dict, first_day: str, last_day: str) -> dict[str, list]:
    """Per interaction: the state key it changes and the values users pick from."""
    starts = month_starts(first_day, last_day)
    return {
        "grain": [f"{ids.GRAIN}.value", ["day", "week", "month"]],
        "date range": [f"{ids.DATE_RANGE}.start_date", starts],
        "segment": [f"{PLATFORM}.value",
                    [None] + [[v] for v in option_values(layout, ids.segment_filter("platform"))]],
        "retention": [f"{ids.RETENTION_MODE}.value", ["exact", "unbounded"]],
        "revenue": [f"{ids.REVENUE_BREAKDOWN}.value",
                    [None, *option_values(layout, ids.REVENUE_BREAKDOWN)]],
        "experiments": [f"{ids.EXPERIMENT}.value", option_values(layout, ids.EXPERIMENT)],
    }


class Run:
    def __init__(self, server: Server, script: dict, options: dict, args):
        self.server, self.script, self.options, self.args = server, script, options, args
        self.http = urllib3.PoolManager(maxsize=8, retries=False,
                                        timeout=urllib3.Timeout(connect=5, read=60))
        self.samples: list[Sample] = []
        self.lock = threading.Lock()
        self.started = time.monotonic()
        self.deadline = self.started + args.seconds
        self.budget = args.max_requests
        self.defaults = opening_values(script["open"])

    def running(self) -> bool:
        return time.monotonic() < self.deadline and self.budget > 0

    def send(self, interaction: str, method: str, path: str, body: dict | None = None):
        with self.lock:
            self.budget -= 1
        started = time.monotonic()
        status, cache, error = None, "page", None
        try:
            response = self.http.request(
                method, self.server.url.rstrip("/") + path,
                body=json.dumps(body) if body is not None else None, headers=headers(body),
            )
            status = response.status
            cache = response.headers.get("X-Query-Cache", "none") if body else "page"
            if response.headers.get("X-Response-Cache") == "hit":
                cache = "answer"  # the whole answer came from the cache
            if status not in (200, 204):
                error = f"HTTP {status}"
        except urllib3.exceptions.HTTPError as failure:
            error = type(failure).__name__
        sample = Sample(interaction, started - self.started,
                        1000 * (time.monotonic() - started), status, cache, error)
        with self.lock:
            self.samples.append(sample)

    def callbacks(self, pool: ThreadPoolExecutor, interaction: str, state: dict) -> None:
        # A tab's first drawing and the change made on it become one request once this user's
        # values are in both: the browser would not send the same request twice either.
        bodies = {json.dumps(canonical(body), sort_keys=True): body
                  for body in (with_state(body, state) for body in self.script[interaction])}
        futures = [pool.submit(self.send, interaction, "POST", CALLBACK_PATH, body)
                   for body in bodies.values()]
        for future in futures:
            future.result()

    def user(self, seed: int) -> None:
        rng = random.Random(seed)
        with ThreadPoolExecutor(max_workers=4) as pool:
            while self.running():
                state = dict(self.defaults)  # a page opens with the layout's defaults
                for path in ("/", "/_dash-layout", "/_dash-dependencies"):
                    self.send("open", "GET", path)
                self.callbacks(pool, "open", state)
                for interaction in rng.sample(list(INTERACTIONS), len(INTERACTIONS)):
                    time.sleep(rng.uniform(self.args.think_min, self.args.think_max))
                    if not self.running():
                        return
                    key, values = self.options[interaction]
                    state[key] = rng.choice(values)
                    self.callbacks(pool, interaction, state)

    def kill_worker_later(self) -> None:
        time.sleep(self.args.kill_worker_after)
        victim = min(workers_of(self.server.process.pid))
        os.kill(victim, signal.SIGKILL)
        self.server.killed.append((time.monotonic() - self.started, victim))

    def run(self) -> list[Sample]:
        threads = [threading.Thread(target=self.user, args=(seed,), daemon=True)
                   for seed in range(self.args.users)]
        if self.args.kill_worker_after is not None:
            threads.append(threading.Thread(target=self.kill_worker_later, daemon=True))
        for thread in threads:
            thread.start()
            time.sleep(0.02)  # users arrive over a second, not in one burst
        for thread in threads:
            thread.join()
        return self.samples


def headers(body) -> dict:
    # A new connection per request: a browser resends a request that met a keep-alive
    # connection the server had just closed; this client would count it as an error.
    sent = {"Connection": "close"}
    return sent | {"Content-Type": "application/json"} if body is not None else sent


# ---------------------------------------------------------------- report


def percentiles(values: list[float]) -> str:
    if len(values) < 2:
        return "n/a"
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return f"p50 {cuts[49]:7.1f}  p95 {cuts[94]:7.1f}  p99 {cuts[98]:7.1f} ms"


def report(samples: list[Sample], seconds: float, server: Server, before: set[int]) -> bool:
    ok = [s for s in samples if s.error is None]
    errors = [s for s in samples if s.error is not None]
    print(f"requests: {len(samples)} in {seconds:.1f} s = {len(samples) / seconds:.1f}/s"
          f" (this script used {resource.getrusage(resource.RUSAGE_SELF).ru_utime:.0f} s of CPU)")
    groups = {"callback, cache hit": ("answer", "hit"), "  whole answer cached": ("answer",),
              "  queries cached, drawn": ("hit",), "callback, cache miss": ("miss",),
              "callback, no query": ("none",), "page, layout, dependencies": ("page",)}
    latency = {}
    for label, caches in groups.items():
        values = [s.milliseconds for s in ok if s.cache in caches]
        latency[label] = values
        print(f"  {label:28} n={len(values):6}  {percentiles(values)}")
    for name in ["open", *INTERACTIONS]:
        values = [s.milliseconds for s in ok if s.interaction == name and s.cache != "page"]
        caches = Counter(s.cache for s in ok if s.interaction == name and s.cache != "page")
        print(f"  interaction {name:16} n={len(values):6}  {percentiles(values)}"
              f"  ({', '.join(f'{cache} {n}' for cache, n in sorted(caches.items()))})")
    print(f"errors: {len(errors)}")
    for error in errors[:10]:
        print(f"  at {error.started:5.1f} s  {error.interaction}: {error.error}")
    targets = {
        "no errors": not errors,
        f"cache-hit p95 <= {TARGET_HIT_P95_MS:.0f} ms":
            p95(latency["callback, cache hit"]) <= TARGET_HIT_P95_MS,
        f"cache-miss p95 <= {TARGET_MISS_P95_MS:.0f} ms":
            p95(latency["callback, cache miss"]) <= TARGET_MISS_P95_MS,
    }
    if server.killed:
        at, victim = server.killed[0]
        after = workers_of(server.process.pid)
        replaced = after - before
        print(f"killed worker {victim} at {at:.1f} s; workers now {sorted(after)}"
              f" ({'replaced by ' + str(sorted(replaced)) if replaced else 'NOT replaced'})")
        late = [e for e in errors if e.started > at + 5]
        targets = {"worker replaced": bool(replaced),
                   "no errors after the kill's in-flight requests": not late}
    for name, met in targets.items():
        print(f"target {name}: {'met' if met else 'MISSED'}")
    return all(targets.values())


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[94] if len(values) > 1 else 0


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--max-requests", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--think-min", type=float, default=5.0,
                        help="seconds a user looks at the page between changes (from)")
    parser.add_argument("--think-max", type=float, default=15.0, help="(to)")
    parser.add_argument("--kill-worker-after", type=float, metavar="SECONDS")
    parser.add_argument("--db", type=Path, help="a demo database to reuse")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="loadtest-") as temporary:
        folder = Path(temporary)
        db = args.db or make_demo(folder)
        with gunicorn(db, folder, args.workers) as server:
            script = capture(server.url)
            layout = get_json(server.url + "_dash-layout")
            dates = {d["property"]: d["value"] for body in script["open"]
                     for d in body["inputs"] if isinstance(d, dict) and d["id"] == ids.DATE_RANGE}
            options = choices(layout, dates["start_date"], dates["end_date"])
            before = workers_of(server.process.pid)
            print(f"captured {sum(map(len, script.values()))} callback requests; workers"
                  f" {sorted(before)}; {args.users} users for {args.seconds:.0f} s")
            samples = Run(server, script, options, args).run()
            elapsed = max(s.started + s.milliseconds / 1000 for s in samples)
            return 0 if report(samples, elapsed, server, before) else 1


if __name__ == "__main__":
    sys.exit(main())
