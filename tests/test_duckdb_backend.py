"""DuckDBBackend's connections: one per query, or one per request inside shared_connection()."""

from __future__ import annotations

import duckdb
from flask import Flask

from app.factory import share_connection_per_request
from queries.backends import DuckDBBackend
from tests.conftest import PLATFORM_ROWS

# A session variable lives as long as its connection: it shows which queries shared one.
SET_MARK = "set variable mark = 42"
READ_MARK = "select getvariable('mark') as mark"


def read_mark(backend: DuckDBBackend):
    return backend.run(READ_MARK, {})["mark"].iloc[0]


def test_queries_outside_a_scope_each_open_their_own_connection(make_db):
    backend = DuckDBBackend(make_db(PLATFORM_ROWS, segment_columns=("platform",)))
    backend.run(SET_MARK, {})
    assert read_mark(backend) is None


def test_queries_inside_a_scope_share_one_connection_closed_on_leaving(make_db):
    path = make_db(PLATFORM_ROWS, segment_columns=("platform",))
    backend = DuckDBBackend(path)
    with backend.shared_connection():
        backend.run(SET_MARK, {})
        with backend.shared_connection():  # nested: still the same connection
            assert read_mark(backend) == 42
        assert read_mark(backend) == 42
    assert read_mark(backend) is None
    # Closed: a loader can open the file for writing.
    duckdb.connect(str(path)).close()


def test_a_web_request_shares_one_connection_and_releases_it(make_db):
    path = make_db(PLATFORM_ROWS, segment_columns=("platform",))
    backend = DuckDBBackend(path)
    server = Flask(__name__)
    share_connection_per_request(server, backend)

    @server.route("/set-then-read")
    def set_then_read():
        backend.run(SET_MARK, {})
        return str(read_mark(backend))

    @server.route("/read")
    def read():
        return str(read_mark(backend))

    client = server.test_client()
    assert client.get("/set-then-read").get_data(as_text=True) == "42"
    assert client.get("/read").get_data(as_text=True) == "None"  # a new request, a new one
    duckdb.connect(str(path)).close()  # the request's connection was closed
