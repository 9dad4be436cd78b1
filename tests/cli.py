"""Running `python -m app` as a real subprocess, as scripts do."""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

from tests.conftest import REPO_ROOT

# Settings of the developer's shell that would change what the CLI reads.
APP_SETTINGS = ("DUCKDB_PATH", "EXPERIMENTS", "EXPERIMENTS_FILE", "BACKEND")


def run_cli(*args: object, env_extra: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    env = {
        key: value for key, value in os.environ.items()
        if key not in APP_SETTINGS and not key.startswith("BQ_")
    }
    # A machine far from UTC: stored times and periods must not depend on the local zone.
    env["TZ"] = "Asia/Kolkata"
    env |= env_extra or {}
    return subprocess.run(
        [sys.executable, "-m", "app", *map(str, args)],
        cwd=REPO_ROOT, capture_output=True, text=True, env=env, timeout=120,
    )


def run_all(commands: dict[str, list[object]]) -> dict[str, subprocess.CompletedProcess]:
    """Independent CLI runs in parallel: each is a fresh interpreter, mostly start-up time.
    A command may end with a dict of extra environment variables."""

    def start(args):
        if args and isinstance(args[-1], dict):
            return run_cli(*args[:-1], env_extra=args[-1])
        return run_cli(*args)

    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {name: pool.submit(start, args) for name, args in commands.items()}
        return {name: future.result() for name, future in futures.items()}


def ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


def assert_one_line_error(result: subprocess.CompletedProcess, named: str, by_argparse: bool):
    """A refused request: non-zero exit, nothing on stdout, one `error:` line naming the
    problem (after argparse's usage when argparse refused it), and no traceback."""
    assert result.returncode != 0
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    if by_argparse:
        assert lines[0].startswith("usage: ")
        assert [line for line in lines if "error: " in line] == lines[-1:]
    else:
        assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert named in lines[-1]
