"""Optional sign-in (HTTP basic with hashed passwords, or a trusted proxy's identity header) and
the security headers every response carries.

With sign-in on, every route needs it (pages, callbacks, assets, downloads) except /healthz.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from functools import cache
from typing import TYPE_CHECKING

from flask import Flask, Response, g, request
from werkzeug.security import check_password_hash, generate_password_hash

from app.config import Config
from app.health import HEALTH_PATH

if TYPE_CHECKING:
    from dash import Dash

# Verifying a scrypt hash takes ~0.1 s and a page load makes dozens of requests: a verified
# user/password pair is remembered, as a keyed digest, for the life of the process.
MAX_REMEMBERED = 1000


# Failed sign-ins a client may make in a window before its next attempts are refused unread
# (each check costs a scrypt hash: a flood would starve the signed-in users).
MAX_FAILURES, FAILURE_WINDOW_SECONDS = 10, 60.0
MAX_TRACKED_CLIENTS = 10_000


class TooManyFailures(Exception):
    def __init__(self, retry_after: float):
        super().__init__(f"retry after {retry_after:.0f} s")
        self.retry_after = retry_after


class FailedSignIns:
    """Failed sign-ins per client address over a sliding window, in this process."""

    def __init__(self, limit: int = MAX_FAILURES, window: float = FAILURE_WINDOW_SECONDS):
        self.limit, self.window = limit, window
        self._failures: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def check(self, client: str) -> None:
        """Raises TooManyFailures while the client has used up its failures."""
        now = time.monotonic()
        with self._lock:
            recent = [at for at in self._failures.get(client, []) if now - at < self.window]
            self._failures[client] = recent
            if len(recent) >= self.limit:
                raise TooManyFailures(self.window - (now - recent[0]))

    def failed(self, client: str) -> None:
        with self._lock:
            if len(self._failures) >= MAX_TRACKED_CLIENTS:
                self._failures.clear()  # bounded memory, whatever the number of addresses
            self._failures.setdefault(client, []).append(time.monotonic())


@cache
def unknown_user_hash() -> str:
    """Checked when the user name is unknown, so a wrong name costs what a wrong password does."""
    return generate_password_hash(secrets.token_urlsafe(16))


class PasswordCheck:
    def __init__(self, users: dict[str, str]):
        self.users = users
        self._key = secrets.token_bytes(32)
        self._verified: set[bytes] = set()
        self._lock = threading.Lock()

    def _digest(self, user: str, password: str) -> bytes:
        return hmac.new(self._key, f"{user}\0{password}".encode(), hashlib.sha256).digest()

    def remembered(self, user: str, password: str) -> bool:
        """Verified before: no scrypt check needed."""
        with self._lock:
            return self._digest(user, password) in self._verified

    def verify(self, user: str, password: str) -> bool:
        if self.remembered(user, password):
            return True
        # check_password_hash compares with hmac.compare_digest (constant time).
        stored = self.users.get(user)
        valid = check_password_hash(stored or unknown_user_hash(), password) and stored is not None
        if valid:
            with self._lock:
                if len(self._verified) >= MAX_REMEMBERED:
                    self._verified.clear()
                self._verified.add(self._digest(user, password))
        return valid


def install_auth(server: Flask, config: Config) -> None:
    if not config.auth_users and not config.auth_header:
        return
    passwords, failures = PasswordCheck(config.auth_users), FailedSignIns()
    realm = config.title.replace('"', "'")

    # Before the hooks that read a callback's body (app/factory.py installs them after this):
    # nothing of a request not signed in is read or parsed.
    @server.before_request
    def require_sign_in():
        if request.path == HEALTH_PATH:
            return None
        try:
            user = identify(passwords, config.auth_header, failures)
        except TooManyFailures as limited:
            return Response("Too many failed sign-ins; try again later.\n", 429,
                            mimetype="text/plain",
                            headers={"Retry-After": str(max(1, round(limited.retry_after)))})
        if user is None:
            return refusal(config, realm)
        g.user = user
        return None


def identify(passwords: PasswordCheck, header: str | None,
             failures: FailedSignIns) -> str | None:
    if header:
        # Trusted only because the operator configured it: the proxy in front sets (and
        # strips any client-sent copy of) this header.
        identity = request.headers.get(header, "").strip()
        if identity:
            return identity
    credentials = request.authorization
    if passwords.users and credentials is not None and credentials.type == "basic":
        user, password = credentials.username or "", credentials.password or ""
        if passwords.remembered(user, password):
            return user
        client = request.remote_addr or "unknown"
        failures.check(client)
        if passwords.verify(user, password):
            return user
        failures.failed(client)
    return None


def refusal(config: Config, realm: str) -> Response:
    if not config.auth_users:  # the identity header alone: a password prompt cannot help
        return Response("Forbidden: no identity from the sign-in proxy.\n", 403,
                        mimetype="text/plain")
    return Response(
        "Sign-in required.\n", 401, mimetype="text/plain",
        headers={"WWW-Authenticate": f'Basic realm="{realm}", charset="UTF-8"'},
    )


def content_security_policy(dash_app: Dash) -> str:
    # Dash renders a few inline scripts (the renderer's start-up, clientside callbacks): they
    # are allowed by hash, and nothing else inline; no eval (tests/test_browser_ops.py shows the
    # page works without it). Dash, Plotly and AG Grid set inline styles. Nothing may load
    # from another origin.
    scripts = " ".join(["'self'", *dash_app.csp_hashes()])
    return "; ".join([
        "default-src 'self'",
        f"script-src {scripts}",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "worker-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


def install_security_headers(dash_app: Dash) -> None:
    @dash_app.server.after_request
    def add_security_headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("X-Content-Type-Options", "nosniff")
        # URLs carry the view (dates, filters): do not hand them to other sites.
        headers.setdefault("Referrer-Policy", "same-origin")
        if response.mimetype == "text/html":
            headers.setdefault("Content-Security-Policy", content_security_policy(dash_app))
        return response
