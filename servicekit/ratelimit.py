"""A rate-limit storage that spends one Redis round trip per limit and request.

flask-limiter's fixed window asks the storage three things per request: `incr` (the hit), then `get`
and `get_expiry` for the X-RateLimit-* headers, each a round trip with limits' RedisStorage. Here the
hit's Lua script returns the count and the TTL together, and the two header questions are answered from
that answer for the rest of the request (kept in the request's WSGI environ, so nothing outlives it).
Outside a request, or for a key not hit in this request, it asks Redis as RedisStorage does.

Selected by the URI scheme `onetrip+redis://` (or `onetrip+rediss://`); `one_trip_uri` builds it.
"""
import time

from flask import has_request_context, request
from limits.storage import RedisStorage

SCHEME_PREFIX = "onetrip+"
_WINDOWS = "servicekit.ratelimit.windows"

# KEYS[1] the counter; ARGV: expiry seconds, amount. Returns {count, seconds to live}.
_INCR_EXPIRE_TTL = """
local amount = tonumber(ARGV[2])
local current = redis.call('INCRBY', KEYS[1], amount)
if current == amount then
  redis.call('EXPIRE', KEYS[1], ARGV[1])
end
return {current, redis.call('TTL', KEYS[1])}
"""


def one_trip_uri(redis_url):
    """The storage URI of OneTripRedisStorage for `redis_url` (other schemes, e.g. memory://, unchanged)."""
    if redis_url.startswith(("redis://", "rediss://")):
        return SCHEME_PREFIX + redis_url
    return redis_url


def _windows():
    return request.environ.setdefault(_WINDOWS, {}) if has_request_context() else None


class OneTripRedisStorage(RedisStorage):
    """limits' RedisStorage whose hit also answers the window's count and expiry for this request."""

    STORAGE_SCHEME = ["onetrip+redis", "onetrip+rediss"]

    def __init__(self, uri, **options):
        super().__init__(uri.removeprefix(SCHEME_PREFIX), **options)

    def initialize_storage(self, uri):
        super().initialize_storage(uri)
        self.lua_incr_expire_ttl = self.get_connection().register_script(_INCR_EXPIRE_TTL)

    def incr(self, key, expiry, amount=1):
        count, ttl = self.lua_incr_expire_ttl([self.prefixed_key(key)], [expiry, amount])
        windows = _windows()
        if windows is not None:
            windows[key] = (int(count), max(int(ttl), 0) + time.time())
        return int(count)

    def get(self, key):
        window = (_windows() or {}).get(key)
        return window[0] if window else super().get(key)

    def get_expiry(self, key):
        window = (_windows() or {}).get(key)
        return window[1] if window else super().get_expiry(key)

    def clear(self, key):
        windows = _windows()
        if windows:
            windows.pop(key, None)
        super().clear(key)
