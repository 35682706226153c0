"""The public keys that verify access tokens, fetched from user_management's JWKS_URL.

This service holds nothing that can mint a token: only public keys, cached for
JWKS_CACHE_SECONDS and fetched again at once (at most every JWKS_REFRESH_COOLDOWN
seconds) when a token names a key the cache does not have, which is how a rotated
key is picked up. If user_management cannot be reached, the last key set fetched
keeps serving rather than refusing every connection.
"""
import logging

from flask import current_app
from jwt import PyJWKClient
from jwt.exceptions import PyJWKClientConnectionError

log = logging.getLogger(__name__)

EXTENSION_KEY = "jwks"
# The algorithms user_management signs with; never an HMAC one, never `none`.
ASYMMETRIC_ALGORITHMS = ("EdDSA", "RS256")


class JwksClient(PyJWKClient):
    """PyJWKClient that falls back on the last key set it fetched while the JWKS URL is unreachable."""

    def __init__(self, uri, **kwargs):
        super().__init__(uri, **kwargs)
        self.last_good = None

    def fetch_data(self):
        """Fetch the key set; on a connection error, the previous one if there is one."""
        try:
            data = super().fetch_data()
        except PyJWKClientConnectionError:
            if self.last_good is None:
                raise
            log.warning("JWKS URL unreachable; verifying with the last key set fetched", extra={"url": self.uri})
            return self.last_good
        self.last_good = data
        return data


def init_app(app):
    """Attach the key client of `app` (nothing is fetched until the first token)."""
    config = app.config
    app.extensions[EXTENSION_KEY] = JwksClient(
        config["JWKS_URL"],
        lifespan=config["JWKS_CACHE_SECONDS"],
        cooldown_duration=config["JWKS_REFRESH_COOLDOWN"],
        timeout=config["JWKS_TIMEOUT"],
    )


def client(app=None):
    """The key client of the current app."""
    return (app or current_app).extensions[EXTENSION_KEY]
