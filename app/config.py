"""Settings read from the environment when the app is built, never at import time."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = PROJECT_ROOT / "data"


@dataclass(frozen=True)
class Config:
    duckdb_path: Path = DEFAULT_DATA_DIR / "growth.duckdb"
    cache_type: str = "FileSystemCache"
    cache_dir: Path = DEFAULT_DATA_DIR / "cache"
    redis_url: str | None = None
    cache_timeout_seconds: int = 24 * 3600
    demo_users: int = 20_000
    title: str = "Growth analytics"
    # Declared experiments (JSON): expected weights, and salt/start for hashed assignment.
    experiments: dict = field(default_factory=dict)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Config:
        env = os.environ if environ is None else environ
        defaults = cls()
        duckdb_path = Path(env.get("DUCKDB_PATH") or defaults.duckdb_path)
        redis_url = env.get("REDIS_URL") or None
        return cls(
            duckdb_path=duckdb_path,
            cache_type="RedisCache" if redis_url else env.get("CACHE_TYPE", defaults.cache_type),
            cache_dir=Path(env.get("CACHE_DIR") or duckdb_path.parent / "cache"),
            redis_url=redis_url,
            cache_timeout_seconds=int(env.get("CACHE_TIMEOUT", defaults.cache_timeout_seconds)),
            demo_users=int(env.get("DEMO_USERS", defaults.demo_users)),
            title=env.get("APP_TITLE", defaults.title),
            experiments=read_experiments(env),
        )

    def with_db(self, path: str | Path | None) -> Config:
        """The config with `--db` applied: it wins over DUCKDB_PATH."""
        return self if path is None else replace(self, duckdb_path=Path(path))


def read_experiments(env) -> dict:
    """EXPERIMENTS holds the JSON itself; EXPERIMENTS_FILE names a file holding it."""
    text = env.get("EXPERIMENTS")
    if not text and env.get("EXPERIMENTS_FILE"):
        text = Path(env["EXPERIMENTS_FILE"]).read_text()
    try:
        return json.loads(text) if text else {}
    except json.JSONDecodeError as error:
        raise ValueError(f"EXPERIMENTS is not valid JSON: {error}") from None
