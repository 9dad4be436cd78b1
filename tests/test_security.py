"""Sign-in (basic auth with hashed passwords, a proxy's identity header) and security headers."""

from __future__ import annotations

import base64
import hashlib
import re
import subprocess
import sys

import pytest
from werkzeug.security import check_password_hash, generate_password_hash

from app.config import Config
from app.factory import create_app
from tests.cli import run_cli
from tests.conftest import REPO_ROOT

ROWS = [
    ("2024-01-01 09:00:00", "u1", "session", None, "web"),
    ("2024-01-09 09:00:00", "u2", "purchase", 5.0, "ios"),
]
# A cheap hash method keeps the tests fast; the app accepts any werkzeug hash.
ALICE_HASH = generate_password_hash("correct horse", method="pbkdf2:sha256:1000")
PROTECTED = [
    ("GET", "/"),
    ("GET", "/_dash-layout"),
    ("GET", "/_dash-dependencies"),
    ("POST", "/_dash-update-component"),
    ("GET", "/assets/style.css"),
    ("GET", "/vendor/bootstrap.min.css"),
    ("GET", "/no-such-page"),
]


def basic(user: str, password: str) -> dict:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


@pytest.fixture
def database(make_db):
    return make_db(ROWS, segment_columns=("platform",))


def client_for(database, tmp_path, **settings):
    config = Config(duckdb_path=database, cache_type="SimpleCache",
                    cache_dir=tmp_path / "cache", **settings)
    return create_app(config).server.test_client()


def test_basic_auth_guards_every_route_but_healthz(database, tmp_path):
    client = client_for(database, tmp_path, auth_users={"alice": ALICE_HASH})
    for method, path in PROTECTED:
        response = client.open(path, method=method)
        assert response.status_code == 401, path
        assert response.headers["WWW-Authenticate"].startswith('Basic realm="Growth analytics"')
        assert b"Growth" not in response.data
    for wrong in (basic("alice", "wrong"), basic("mallory", "correct horse"), basic("alice", "")):
        assert client.get("/", headers=wrong).status_code == 401
    assert client.get("/healthz").status_code == 200

    signed_in = basic("alice", "correct horse")
    assert client.get("/", headers=signed_in).status_code == 200
    assert client.get("/assets/style.css", headers=signed_in).status_code == 200
    assert client.get("/_dash-layout", headers=signed_in).status_code == 200
    # A remembered sign-in must not make another password for the same user work.
    assert client.get("/", headers=basic("alice", "correct horse!")).status_code == 401


def test_identity_header_is_trusted_only_when_configured(database, tmp_path):
    header = {"X-Forwarded-Email": "bob@example.com"}
    proxied = client_for(database, tmp_path, auth_header="X-Forwarded-Email")
    assert proxied.get("/", headers=header).status_code == 200
    refused = proxied.get("/")
    assert refused.status_code == 403  # no password prompt: only the proxy can sign people in
    assert "WWW-Authenticate" not in refused.headers
    assert proxied.get("/healthz").status_code == 200

    passwords_only = client_for(database, tmp_path, auth_users={"alice": ALICE_HASH})
    assert passwords_only.get("/", headers=header).status_code == 401

    both = client_for(database, tmp_path, auth_users={"alice": ALICE_HASH},
                      auth_header="X-Forwarded-Email")
    assert both.get("/", headers=header).status_code == 200
    assert both.get("/", headers=basic("alice", "correct horse")).status_code == 200
    assert both.get("/").status_code == 401


def test_sign_in_is_off_by_default(database, tmp_path):
    assert client_for(database, tmp_path).get("/").status_code == 200


def inline_scripts(html: str) -> list[str]:
    """The bodies of <script> elements without src that the browser would run (not those in
    comments, such as Dash's Internet Explorer notice)."""
    html = re.sub(r"<!--.*?-->", "", html, flags=re.S)
    scripts = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>(.*?)</script>", html, re.S)
    return [body for attributes, body in scripts if "application/json" not in attributes]


def test_security_headers_and_a_csp_that_allows_only_dash_own_inline_scripts(database, tmp_path):
    client = client_for(database, tmp_path)
    page = client.get("/")
    headers = page.headers
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    directives = [part.split() for part in headers["Content-Security-Policy"].split("; ")]
    policy = {name: values for name, *values in directives}
    assert policy["default-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]
    scripts = policy["script-src"]
    assert "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts
    # Independently of Dash's csp_hashes(): the hash of every inline script in the page.
    served = inline_scripts(page.get_data(as_text=True))
    assert served
    for body in served:
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in scripts
    assert not [s for values in policy.values() for s in values if "://" in s or s == "*"]
    assert client.get("/_dash-layout").headers["X-Content-Type-Options"] == "nosniff"


def hash_password(stdin: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "app", "hash-password"], input=stdin,
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)


def test_hash_password_reads_stdin_and_prints_a_werkzeug_hash():
    result = hash_password("s3cret pass\n")
    assert result.returncode == 0, result.stderr
    printed = result.stdout.strip()
    assert check_password_hash(printed, "s3cret pass")
    assert not check_password_hash(printed, "s3cret pass\n")
    assert "s3cret" not in printed

    empty = hash_password("\n")
    assert empty.returncode == 1 and empty.stdout == ""
    assert empty.stderr.startswith("error: ")


def test_auth_users_from_the_environment_and_a_file(tmp_path):
    bob_hash = generate_password_hash("pw", method="pbkdf2:sha256:1000")
    users_file = tmp_path / "users"
    users_file.write_text(f"# the team\nbob={bob_hash}\n")
    config = Config.from_env({"AUTH_USERS": f"alice={ALICE_HASH}",
                              "AUTH_USERS_FILE": str(users_file)})
    assert config.auth_users == {"alice": ALICE_HASH, "bob": bob_hash}
    assert ALICE_HASH not in repr(config)
    with pytest.raises(ValueError, match="not a password hash"):
        Config.from_env({"AUTH_USERS": "alice=plaintext"})


def test_a_malformed_auth_setting_is_one_error_line():
    result = run_cli("export", "growth", env_extra={"AUTH_USERS": "alice=hunter2"})
    assert result.returncode == 1
    assert result.stderr.startswith("error: AUTH_USERS") and len(result.stderr.splitlines()) == 1
    assert "hunter2" not in result.stderr


def test_failed_sign_ins_are_limited_per_client_and_a_signed_in_user_keeps_working(
        database, tmp_path):
    client = client_for(database, tmp_path, auth_users={"alice": ALICE_HASH})
    signed_in = basic("alice", "correct horse")
    assert client.get("/", headers=signed_in).status_code == 200  # remembered from now on
    attacker = {"REMOTE_ADDR": "203.0.113.7"}
    codes = [client.get("/", headers=basic("alice", f"guess{n}"), environ_base=attacker)
             .status_code for n in range(12)]
    assert codes == [401] * 10 + [429] * 2
    limited = client.get("/", headers=basic("alice", "guess"), environ_base=attacker)
    assert int(limited.headers["Retry-After"]) >= 1 and b"Too many" in limited.data
    # Refused unread: any further attempt from that address waits out the window ...
    assert client.get("/", headers=basic("bob", "x"), environ_base=attacker).status_code == 429
    # ... while another address, and a remembered sign-in, are served as usual.
    assert client.get("/", headers=basic("alice", "wrong")).status_code == 401
    assert client.get("/", headers=signed_in, environ_base=attacker).status_code == 200


def test_a_request_not_signed_in_is_refused_before_its_body_is_read(database, tmp_path):
    client = client_for(database, tmp_path, auth_users={"alice": ALICE_HASH},
                        max_request_bytes=1024)
    nested = "[" * 100_000 + "]" * 100_000
    for body in (nested, "x" * 50_000):
        response = client.post("/_dash-update-component", data=body,
                               content_type="application/json")
        assert response.status_code == 401
        assert b"Traceback" not in response.data
