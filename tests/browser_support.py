"""Browser-test fixtures shared by the browser test modules: the demo database, the app's own
CLI serving it in a subprocess, and headless Chromium driven by Playwright."""

from __future__ import annotations

import datetime as dt
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import pytest

from app.demo import generate_demo
from app.storage import Source, load
from tests.conftest import REPO_ROOT, require_tool

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--no-first-run", "--disable-extensions",
]
DATA_END = dt.date(2025, 6, 18)  # a Wednesday: the last week is incomplete
# Settings of the developer's shell that would change what the served app reads; without an
# OpenAI key the chat drawer's built-in analyst answers.
SERVER_SETTINGS = ("DUCKDB_PATH", "REDIS_URL", "BACKEND", "OPENAI_API_KEY", "OPENAI_BASE_URL")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def procfile_command() -> list[str]:
    line = (REPO_ROOT / "Procfile").read_text().strip()
    assert line.startswith("web: ")
    command = shlex.split(line.removeprefix("web: "))
    assert command[0] == "gunicorn"
    return [sys.executable, "-m", *command]


@contextmanager
def procfile_server(settings: dict, log: Path, ready: Callable[[str], bool], seconds=120):
    """The Procfile's gunicorn on a free loopback port with these settings, its output in
    `log`; yields its URL once ready(url) holds, and stops it afterwards."""
    port = free_port()
    env = {key: value for key, value in os.environ.items() if key not in SERVER_SETTINGS}
    env |= settings | {"PORT": str(port)}
    with log.open("w") as output:
        # Bound to the loopback interface: the Procfile's 0.0.0.0 is for the platform.
        process = subprocess.Popen([*procfile_command(), "-b", f"127.0.0.1:{port}"],
                                   cwd=REPO_ROOT, env=env, stdout=output,
                                   stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + seconds
        while True:
            assert process.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, f"gunicorn was not ready in {seconds} s"
            try:
                if ready(url):
                    break
            except (OSError, KeyError):
                pass
            time.sleep(0.3)
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def wait_until_serving(url: str, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {process.stderr.read()}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"{url} did not answer within {seconds} s")


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    # Big enough for the demo's onboarding_flow sample-ratio mismatch to be significant.
    data = generate_demo(users=8000, seed=11, end_date=DATA_END)
    path = tmp_path_factory.mktemp("browser") / "demo.duckdb"
    load(path, Source("demo-events", table=data.events),
         Source("demo-assignments", table=data.assignments))
    return path


@pytest.fixture(scope="module")
def server_url(demo_db, tmp_path_factory):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in SERVER_SETTINGS}
    env["CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))
    # The server logs a JSON line per request and per query; nobody reads this pipe until the
    # server exits, and a full pipe would stall it.
    env["LOG_LEVEL"] = "WARNING"
    process = subprocess.Popen(
        [sys.executable, "-m", "app", "serve", "--port", str(port), "--db", str(demo_db)],
        cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_until_serving(url, process)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def browser():
    chromium = require_tool("chromium", "browser tests drive headless Chromium")
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


def wait_for_kpis(page) -> None:
    """The Growth view drawn: the cards are in the page from the start, and their period line
    comes with the data; the combined chart starts as a blank with no traces."""
    page.wait_for_function(
        "() => document.querySelector('#growth-kpis .kpi-period')?.innerText.trim()"
        " && document.querySelector('#growth-combined-chart .js-plotly-plot')?.data?.length")


@pytest.fixture
def page(browser, server_url):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    opened.goto(server_url)
    wait_for_kpis(opened)
    yield opened
    context.close()
    assert not errors, f"JavaScript errors: {errors}"

