"""`python -m app refresh SOURCE_DIR`: new files only, all or nothing, then the cache re-warmed."""

from __future__ import annotations

import csv
import hashlib
import shutil
from pathlib import Path

import duckdb
import pytest

from app.config import Config
from app.storage import Source, load, stage, staging_connection, write
from app.validation import EVENTS_KIND, LoadError
from app.warm import is_warm
from tests.cli import assert_one_line_error, ok, run_cli

JANUARY = """event_time,user_id,event_type,revenue,platform
2024-01-01 09:00:00,u1,session,,web
2024-01-02 10:00:00,u2,purchase,12.5,ios
2024-01-03 11:00:00,u1,"page_view",,web
"""
FEBRUARY = """event_time,user_id,event_type,revenue
2024-02-01 09:00:00,u3,session,
2024-02-02 09:30:00,u1,purchase,3
"""
MARCH = """event_time,user_id,event_type
2024-03-01 08:00:00,u4,session
2024-03-02 08:00:00,u4,session
"""
ASSIGNMENTS = """experiment,user_id,variant
checkout,u1,control
checkout,u2,treatment
"""
BAD_TIME = """event_time,user_id,event_type
2024-04-01 08:00:00,u5,session
yesterday,u5,session
"""
NO_VARIANT = """experiment,user_id
checkout,u3
"""


def data_rows(path: Path) -> int:
    with path.open(newline="") as handle:
        return sum(1 for _ in csv.reader(handle)) - 1


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def stored(db: Path) -> tuple[int, int, list[str]]:
    with duckdb.connect(str(db), read_only=True) as connection:
        events = connection.execute("select count(*) from events").fetchall()[0][0]
        assignments = connection.execute("select count(*) from assignments").fetchall()[0][0]
        names = [row[0] for row in connection.execute(
            "select file_name from loads order by load_id").fetchall()]
    return events, assignments, names


@pytest.fixture
def folder(tmp_path) -> Path:
    source = tmp_path / "incoming"
    source.mkdir()
    (source / "events-2024-01.csv").write_text(JANUARY)
    (source / "events-2024-02.csv").write_text(FEBRUARY)
    (source / "assignments-checkout.csv").write_text(ASSIGNMENTS)
    (source / "README.md").write_text("not data")
    (source / ".events-2024-03.csv").write_text("half-written upload")
    return source


def refresh(folder: Path, db: Path, **env):
    return run_cli("refresh", folder, "--db", db, env_extra=env or None)


def test_refresh_loads_new_files_once(folder, tmp_path):
    db = tmp_path / "growth.duckdb"
    ok(refresh(folder, db))
    expected_events = data_rows(folder / "events-2024-01.csv") + data_rows(
        folder / "events-2024-02.csv")
    assert stored(db) == (
        expected_events, data_rows(folder / "assignments-checkout.csv"),
        ["assignments-checkout.csv", "events-2024-01.csv", "events-2024-02.csv"],
    )

    before = sha256(db)
    again = refresh(folder, db)
    ok(again)
    assert "nothing new" in again.stderr
    assert sha256(db) == before

    shutil.copy(folder / "events-2024-01.csv", folder / "renamed-copy.csv")
    assert "nothing new" in ok_stderr(refresh(folder, db))  # same content, another name

    (folder / "events-2024-03.csv").write_text(MARCH)
    ok(refresh(folder, db))
    assert stored(db)[0] == expected_events + data_rows(folder / "events-2024-03.csv")
    assert stored(db)[2][-1] == "events-2024-03.csv"


def ok_stderr(result) -> str:
    ok(result)
    return result.stderr


def test_one_bad_file_refuses_them_all_and_names_each_problem(folder, tmp_path):
    db = tmp_path / "growth.duckdb"
    ok(refresh(folder, db))
    loaded = stored(db)
    (folder / "events-2024-03.csv").write_text(MARCH)
    (folder / "events-2024-04.csv").write_text(BAD_TIME)
    (folder / "assignments-late.csv").write_text(NO_VARIANT)
    before = sha256(db)

    result = refresh(folder, db)
    assert result.returncode == 1 and result.stdout == ""
    assert "Traceback" not in result.stderr
    assert "\nerror: " in "\n" + result.stderr  # after the progress lines
    assert "events-2024-04.csv" in result.stderr
    assert "line 3, column 'event_time': is not a timestamp: 'yesterday'" in result.stderr
    assert "assignments-late.csv" in result.stderr and "'variant'" in result.stderr
    assert "nothing was loaded: 2 of 3 new files refused" in result.stderr
    assert "events-2024-03.csv:" not in result.stderr  # the good file is not blamed
    assert sha256(db) == before
    assert stored(db) == loaded

    (folder / "events-2024-04.csv").unlink()
    (folder / "assignments-late.csv").unlink()
    ok(refresh(folder, db))
    assert stored(db)[0] == loaded[0] + data_rows(folder / "events-2024-03.csv")


def test_two_new_files_with_the_same_content_are_refused(folder, tmp_path):
    db = tmp_path / "growth.duckdb"
    (folder / "events-2024-03.csv").write_text(MARCH)
    (folder / "events-2024-03-again.csv").write_text(MARCH)
    result = refresh(folder, db)
    assert result.returncode == 1
    assert "same content as events-2024-03-again.csv" in result.stderr
    assert not db.exists()


def test_refresh_of_something_that_is_not_a_folder(tmp_path):
    assert_one_line_error(refresh(tmp_path / "missing", tmp_path / "db.duckdb"),
                          "not a folder", by_argparse=False)


def test_refresh_rewarms_the_cache_an_app_warmed(folder, tmp_path):
    db, cache = tmp_path / "growth.duckdb", tmp_path / "cache"
    settings = {"CACHE_DIR": str(cache)}
    assert "warming" not in ok_stderr(refresh(folder, db, **settings))  # no app yet
    config = Config.from_env(settings).with_db(db)
    assert not is_warm(config)
    ok(run_cli("warm", "--db", db, env_extra=settings))  # what the app does at start-up
    assert is_warm(config)

    (folder / "events-2024-03.csv").write_text(MARCH)
    assert "warming the cache: done" in ok_stderr(refresh(folder, db, **settings))
    assert is_warm(config)  # for the new data version


def test_a_load_that_lost_a_race_is_refused_inside_the_transaction(tmp_path):
    path, db = tmp_path / "events-2024-03.csv", tmp_path / "growth.duckdb"
    path.write_text(MARCH)
    source = Source(path.name, path=path)
    staging = staging_connection()
    stage(staging, source, "staged_0", EVENTS_KIND)  # checked before the other load wrote
    load(db, Source(path.name, path=path))  # another process loads the same file meanwhile
    loaded = stored(db)
    with pytest.raises(LoadError, match="already loaded"):
        write(staging, db, [(source, "staged_0", EVENTS_KIND)],
              {"staged_0": source.fingerprint()}, False)
    assert stored(db) == loaded == (data_rows(path), 0, [path.name])


def test_links_out_of_the_folder_are_not_followed(folder, tmp_path):
    private = tmp_path / "elsewhere"
    private.mkdir()
    secret = private / "secret.csv"
    secret.write_text("event_time,user_id,event_type\n2024-01-05,intruder,session\n")
    secret.chmod(0o600)
    (folder / "linked.csv").symlink_to(secret)
    (folder / "linked-dir.csv").symlink_to(private)
    (folder / "shadow.csv").symlink_to("/etc/shadow")
    db = tmp_path / "growth.duckdb"
    result = refresh(folder, db)
    ok(result)
    assert stored(db)[2] == ["assignments-checkout.csv", "events-2024-01.csv",
                             "events-2024-02.csv"]
    for name in ("linked.csv", "linked-dir.csv", "shadow.csv"):
        assert f"skipped {name}: a link to a file outside {folder}" in result.stderr
    with duckdb.connect(str(db), read_only=True) as connection:
        assert connection.execute(
            "select count(*) from events where user_id = 'intruder'").fetchall() == [(0,)]
    assert "root:" not in result.stderr
