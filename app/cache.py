"""The query cache: created unbound here, bound to the server in the app factory."""

from __future__ import annotations

from flask_caching import Cache

from app.config import Config

cache = Cache()


def cache_settings(config: Config) -> dict:
    settings = {
        "CACHE_TYPE": config.cache_type,
        "CACHE_DEFAULT_TIMEOUT": config.cache_timeout_seconds,
    }
    if config.cache_type == "RedisCache":
        settings["CACHE_REDIS_URL"] = config.redis_url
    elif config.cache_type == "FileSystemCache":
        settings["CACHE_DIR"] = str(config.cache_dir)
        settings["CACHE_THRESHOLD"] = 5000
    return settings
