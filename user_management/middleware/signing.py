"""Access tokens are signed with the keyset's private key and verified with its public keys, by `kid`.

Nothing that verifies an access token (notifications, a product's backend) needs a secret:
they fetch the public keys from GET /.well-known/jwks.json. HMAC tokens, `alg: none` and
tokens naming a key that is not published are refused here as they are there.
"""
import jwt as pyjwt
from flask import current_app

from servicekit.config import ConfigurationError
from ..extensions import jwt
from ..utils.signing_keys import KeyRing, KeySet, KeySetError, create_keyset_file, new_key

EXTENSION = "signing_keys"


def build_keyring(settings):
    """The app's keyring: the JWT_SIGNING_KEYS file (created in development), or a key in memory (tests)."""
    lifetime, algorithm, path = settings["JWT_ACCESS_EXPIRES"], settings["JWT_ALGORITHM"], settings["JWT_SIGNING_KEYS"]
    try:
        if not path:
            return KeyRing(lifetime, keyset=KeySet([new_key(algorithm)]))
        if settings["ENV_NAME"] == "development":
            create_keyset_file(path, algorithm)
        keyring = KeyRing(lifetime, path=path)
        key = keyring.signing_key()
    except KeySetError as error:
        raise ConfigurationError(f"JWT_SIGNING_KEYS: {error}") from None
    if key.alg != algorithm:
        raise ConfigurationError(f"the signing key of {path} is {key.alg} but JWT_ALGORITHM is {algorithm}; "
                                 "rotate to a key of that algorithm (keys rotate --alg)")
    return keyring


def init_app(app):
    """Load the signing keys of `app`."""
    app.extensions[EXTENSION] = build_keyring(app.config)


def keyring():
    """The current app's keyring."""
    return current_app.extensions[EXTENSION]


@jwt.additional_headers_loader
def _header(_identity):
    return keyring().header_for_new_token()


@jwt.encode_key_loader
def _private_key(_identity):
    return keyring().private_key_for_new_token()


def verification_key(header):
    """The public key that verifies a token with this JOSE `header` (InvalidTokenError if none is published)."""
    kid = header.get("kid")
    key = keyring().verification_key(kid) if isinstance(kid, str) else None
    if key is None or header.get("alg") != key.alg:
        raise pyjwt.InvalidTokenError("The token is not signed by a published key")
    return key.public_key


@jwt.decode_key_loader
def _public_key(header, _claims):
    return verification_key(header)
