"""Settings read from the environment when the app is built, never at import time."""

from __future__ import annotations

import datetime as dt
import json
import math
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from app.validation import TimestampRange
from queries.bigquery import BigQuerySettings, column_mapping

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = PROJECT_ROOT / "data"


BACKENDS = ("duckdb", "bigquery")
# The experiment verdict's engine. Bayesian by default, as in GrowthBook: "88% chance to beat
# control" answers what a reader asks; the p-value stays one click away.
STATS_ENGINES = ("bayesian", "frequentist")


@dataclass(frozen=True)
class Config:
    backend: str = "duckdb"
    # Set when backend is "bigquery" (read from the BQ_* variables).
    bigquery: BigQuerySettings | None = None
    duckdb_path: Path = DEFAULT_DATA_DIR / "growth.duckdb"
    cache_type: str = "FileSystemCache"
    # None: cache/ beside the database.
    cache_dir: Path | None = None
    redis_url: str | None = None
    cache_timeout_seconds: int = 24 * 3600
    demo_users: int = 20_000
    title: str = "Growth analytics"
    # Declared experiments (JSON): expected weights, and salt/start for hashed assignment.
    experiments: dict = field(default_factory=dict)
    # "Ask your data" uses the model only when a key is set; the key never leaves the server.
    openai_api_key: str | None = field(default=None, repr=False)
    openai_base_url: str | None = None
    openai_model: str = "gpt-4o-mini"
    openai_timeout_seconds: float = 60.0
    # All of one question's model calls and queries together (a call gets what is left).
    openai_question_seconds: float = 90.0
    # Results of background callbacks (the chat drawer), shared by every gunicorn worker.
    # None: background/ beside the cache dir.
    background_dir: Path | None = None
    # Sign-in (app/security.py): {user: werkzeug password hash}, and/or a proxy's identity header.
    auth_users: dict = field(default_factory=dict, repr=False)
    auth_header: str | None = None
    # Whole panel answers cached (app/response_cache.py); default views warmed (app/warm.py).
    response_cache: bool = True
    warm_cache: bool = True
    log_level: str = "INFO"
    # Larger request bodies are refused (413) unread: a callback's body is a few kilobytes,
    # the chat's history at most a few hundred.
    max_request_bytes: int = 2 * 1024 * 1024
    # The timestamps a loaded file may hold (EARLIEST_EVENT_DATE, LATEST_EVENT_DATE).
    timestamps: TimestampRange = field(default_factory=TimestampRange)
    # ISO 4217 code written before money values (CURRENCY); one per deployment.
    currency: str = "USD"
    stats_engine: str = "bayesian"
    # The sequential test's tuning parameter (SEQUENTIAL_TUNING): the sample size at which its
    # intervals are tightest, as gbstats' sequential_tuning_parameter.
    sequential_tuning: float = 5000.0

    def __post_init__(self):
        # Derived folders follow the configured ones, so a Config for a database elsewhere (a
        # test's) never writes into the checkout.
        cache_dir = Path(self.cache_dir or Path(self.duckdb_path).parent / "cache")
        object.__setattr__(self, "cache_dir", cache_dir)
        object.__setattr__(self, "background_dir",
                           Path(self.background_dir or cache_dir.parent / "background"))

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Config:
        env = os.environ if environ is None else environ
        defaults = cls()
        duckdb_path = Path(env.get("DUCKDB_PATH") or defaults.duckdb_path)
        redis_url = env.get("REDIS_URL") or None
        backend = (env.get("BACKEND") or defaults.backend).lower()
        if backend not in BACKENDS:
            raise ValueError(f"BACKEND must be one of {', '.join(BACKENDS)}, not {backend!r}")
        return cls(
            backend=backend,
            bigquery=read_bigquery(env) if backend == "bigquery" else None,
            duckdb_path=duckdb_path,
            cache_type="RedisCache" if redis_url else env.get("CACHE_TYPE", defaults.cache_type),
            cache_dir=env.get("CACHE_DIR") or None,
            redis_url=redis_url,
            cache_timeout_seconds=int(env.get("CACHE_TIMEOUT", defaults.cache_timeout_seconds)),
            demo_users=int(env.get("DEMO_USERS", defaults.demo_users)),
            title=env.get("APP_TITLE", defaults.title),
            experiments=read_experiments(env),
            openai_api_key=env.get("OPENAI_API_KEY") or None,
            openai_base_url=env.get("OPENAI_BASE_URL") or None,
            openai_model=env.get("OPENAI_MODEL") or defaults.openai_model,
            openai_timeout_seconds=float(
                env.get("OPENAI_TIMEOUT") or defaults.openai_timeout_seconds
            ),
            openai_question_seconds=float(
                env.get("OPENAI_QUESTION_TIMEOUT") or defaults.openai_question_seconds
            ),
            background_dir=env.get("BACKGROUND_DIR") or None,
            auth_users=read_auth_users(env),
            auth_header=env.get("AUTH_HEADER") or None,
            response_cache=read_switch(env, "RESPONSE_CACHE", defaults.response_cache),
            warm_cache=read_switch(env, "WARM_CACHE", defaults.warm_cache),
            log_level=(env.get("LOG_LEVEL") or defaults.log_level).upper(),
            max_request_bytes=int(env.get("MAX_REQUEST_BYTES") or defaults.max_request_bytes),
            timestamps=read_timestamp_range(env),
            currency=read_currency(env, defaults.currency),
            stats_engine=read_choice(env, "STATS_ENGINE", STATS_ENGINES, defaults.stats_engine),
            sequential_tuning=read_tuning(env, defaults.sequential_tuning),
        )

    def with_db(self, path: str | Path | None) -> Config:
        """The config with `--db` applied: it wins over DUCKDB_PATH."""
        return self if path is None else replace(self, duckdb_path=Path(path))


def read_tuning(env, default: float) -> float:
    text = env.get("SEQUENTIAL_TUNING")
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"SEQUENTIAL_TUNING must be a positive number, not {text!r}")
    return value


def read_bigquery(env) -> BigQuerySettings:
    defaults = BigQuerySettings
    return BigQuerySettings(
        project=env.get("BQ_PROJECT") or env.get("GOOGLE_CLOUD_PROJECT") or "",
        dataset=env.get("BQ_DATASET") or None,
        location=env.get("BQ_LOCATION") or None,
        events_table=env.get("BQ_EVENTS_TABLE") or defaults.events_table,
        events_columns=column_mapping(env.get("BQ_EVENTS_COLUMNS")),
        assignments_table=env.get("BQ_ASSIGNMENTS_TABLE") or None,
        assignments_columns=column_mapping(env.get("BQ_ASSIGNMENTS_COLUMNS")),
        preset=env.get("BQ_PRESET") or None,
        build_dataset=env.get("BQ_BUILD_DATASET") or None,
        maximum_bytes_billed=int(
            env.get("BQ_MAXIMUM_BYTES_BILLED") or defaults.maximum_bytes_billed
        ),
        timeout_seconds=float(env.get("BQ_TIMEOUT_SECONDS") or defaults.timeout_seconds),
        api_endpoint=env.get("BQ_API_ENDPOINT") or None,
    )


def read_timestamp_range(env) -> TimestampRange:
    defaults = TimestampRange()
    return TimestampRange(read_date(env, "EARLIEST_EVENT_DATE") or defaults.earliest,
                          read_date(env, "LATEST_EVENT_DATE"))


def read_date(env, name: str) -> dt.date | None:
    text = (env.get(name) or "").strip()
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        raise ValueError(f"{name} must be a date (YYYY-MM-DD), not {text!r}") from None


def read_currency(env, default: str) -> str:
    code = (env.get("CURRENCY") or default).strip().upper()
    if not (len(code) == 3 and code.isalpha() and code.isascii()):
        raise ValueError(f"CURRENCY must be a three-letter ISO 4217 code (USD, EUR), not {code!r}")
    return code


def read_choice(env, name: str, allowed: tuple[str, ...], default: str) -> str:
    value = (env.get(name) or default).strip().lower()
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}, not {value!r}")
    return value


def read_switch(env, name: str, default: bool) -> bool:
    text = (env.get(name) or "").strip().lower()
    if not text:
        return default
    if text not in ("1", "true", "yes", "on", "0", "false", "no", "off"):
        raise ValueError(f"{name} must be 1 or 0, not {text!r}")
    return text in ("1", "true", "yes", "on")


def read_auth_users(env) -> dict[str, str]:
    """AUTH_USERS holds `user=hash;user=hash`; AUTH_USERS_FILE names a file of such entries."""
    if not env.get("AUTH_USERS") and not env.get("AUTH_USERS_FILE"):
        return {}
    users = parse_users(env.get("AUTH_USERS") or "", "AUTH_USERS")
    if env.get("AUTH_USERS_FILE"):
        users |= parse_users(Path(env["AUTH_USERS_FILE"]).read_text(), "AUTH_USERS_FILE")
    return users


def parse_users(text: str, source: str) -> dict[str, str]:
    """`alice=<hash>;bob=<hash>` (or one entry a line) into {user: werkzeug hash}."""
    users = {}
    for entry in text.replace("\n", ";").split(";"):
        entry = entry.strip()
        if not entry or entry.startswith("#"):
            continue
        user, separator, hashed = entry.partition("=")
        user, hashed = user.strip(), hashed.strip()
        if not separator or not user or ":" in user:
            raise ValueError(f"{source}: expected user=hash entries, got {user or entry[:20]!r}")
        if hashed.count("$") < 2:
            raise ValueError(
                f"{source}: the entry for {user!r} is not a password hash;"
                " make one with `python -m app hash-password`"
            )
        users[user] = hashed
    return users


def read_experiments(env) -> dict:
    """EXPERIMENTS holds the JSON itself; EXPERIMENTS_FILE names a file holding it."""
    text = env.get("EXPERIMENTS")
    if not text and env.get("EXPERIMENTS_FILE"):
        text = Path(env["EXPERIMENTS_FILE"]).read_text()
    try:
        return json.loads(text) if text else {}
    except json.JSONDecodeError as error:
        raise ValueError(f"EXPERIMENTS is not valid JSON: {error}") from None
