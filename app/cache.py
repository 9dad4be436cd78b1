"""The query cache: created unbound here, bound to the server in the app factory."""

from __future__ import annotations

import logging
import time

from flask_caching import Cache
from flask_caching.backends import RedisCache
from redis.exceptions import RedisError

from app.config import Config

log = logging.getLogger(__name__)
cache = Cache()
# Short, so a Redis outage costs a page a fraction of a second, not the client's default 5 s.
REDIS_OPTIONS = {"socket_timeout": 0.5, "socket_connect_timeout": 0.5}


class CacheUnavailable(RedisError):
    """Redis failed moments ago: not asked again until the pause is over."""


class RedisCacheWithPause(RedisCache):
    """After a failure, no call reaches Redis for a few seconds: an unreachable host would
    otherwise cost every query of every page its connect timeout. Callers run uncached."""

    pause_seconds = 5.0

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._paused_until = 0.0

    def _call(self, operation, *args):
        if time.monotonic() < self._paused_until:
            raise CacheUnavailable("Redis failed moments ago; retrying shortly")
        try:
            return operation(*args)
        except RedisError:
            self._paused_until = time.monotonic() + self.pause_seconds
            raise

    def get(self, key):
        return self._call(super().get, key)

    def set(self, key, value, timeout=None):
        return self._call(super().set, key, value, timeout)


def init_cache(server, config: Config) -> str | None:
    """Binds the cache to the server. One that cannot start (a full disk, a cache folder that
    is a file) is replaced by none: the app serves uncached rather than not at all, and the
    returned error class is what /healthz reports."""
    try:
        cache.init_app(server, config=cache_settings(config))
        return None
    except OSError as error:
        log.warning("the %s cannot start (%s): serving uncached", config.cache_type,
                    type(error).__name__)
        cache.init_app(server, config={"CACHE_TYPE": "NullCache"})
        return type(error).__name__


def cache_settings(config: Config) -> dict:
    settings = {
        "CACHE_TYPE": config.cache_type,
        "CACHE_DEFAULT_TIMEOUT": config.cache_timeout_seconds,
    }
    if config.cache_type == "RedisCache":
        settings["CACHE_TYPE"] = f"{__name__}.{RedisCacheWithPause.__name__}"
        settings["CACHE_REDIS_URL"] = config.redis_url
        settings["CACHE_OPTIONS"] = dict(REDIS_OPTIONS)
    elif config.cache_type == "FileSystemCache":
        settings["CACHE_DIR"] = str(config.cache_dir)
        settings["CACHE_THRESHOLD"] = 5000
    return settings
