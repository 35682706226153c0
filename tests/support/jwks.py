"""Access-token keys for tests: a JWKS endpoint on 127.0.0.1 and tokens signed as user_management signs them.

    server = JwksServer(KeySet([new_key()])).start()   # server.url, server.fetches
    token = mint(server.keyset.signing_key, sub="u1")  # EdDSA, kid in the header
    server.keyset = server.keyset.rotated()            # what `keys rotate` does
    server.stop()
"""
import time
import uuid
from datetime import timedelta
from pathlib import Path

import jwt

from user_management.utils.signing_keys import KeySet, new_key, write_keyset

from .http_server import LocalServer, QuietHandler

TOKEN_LIFETIME = timedelta(minutes=15)


class JwksServer(LocalServer):
    """Serves `keyset`'s public keys at /.well-known/jwks.json and counts the fetches."""

    def __init__(self, keyset=None, token_lifetime=TOKEN_LIFETIME):
        self.keyset = keyset if keyset is not None else KeySet([new_key()])
        self.token_lifetime = token_lifetime
        self.fetches = 0
        server = self

        class Handler(QuietHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                if self.path != "/.well-known/jwks.json":
                    self.send_error(404)
                    return
                server.fetches += 1
                self.reply_json(200, server.keyset.jwks(server.token_lifetime))

        super().__init__(Handler)

    @property
    def url(self):
        """The JWKS URL."""
        return f"{self.base_url}/.well-known/jwks.json"


def mint(key, sub="user-1", role="client_user", org="org-1", type_="access", expires_in=300, headers=None,
         algorithm=None, **extra):
    """A token with the claims user_management puts in its access tokens, signed by `key` (a SigningKey).

    `headers={"kid": None}` leaves the kid out.
    """
    now = int(time.time())
    claims = {"sub": sub, "role": role, "org": org, "type": type_, "iat": now, "exp": now + expires_in,
              "jti": uuid.uuid4().hex, **extra}
    header = {key_name: value for key_name, value in {"kid": key.kid, **(headers or {})}.items() if value is not None}
    return jwt.encode(claims, key.private_key, algorithm=algorithm or key.alg, headers=header)


def keyset_file(directory, alg="EdDSA"):
    """Write a keyset file with one fresh key into `directory`; return its path."""
    path = Path(directory) / "jwt-signing-keys.json"
    write_keyset(path, KeySet([new_key(alg)]))
    return path
