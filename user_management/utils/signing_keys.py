"""The keys that sign access tokens, and the public half every other service verifies them with.

A keyset file (JSON) holds one or more private keys, each with a `kid`:

    {"keys": [{"kid": "20250101-1a2b3c4d", "alg": "EdDSA", "createdAt": "...Z",
               "retiredAt": null, "privateKey": "-----BEGIN PRIVATE KEY-----..."}]}

The newest key that is not retired signs. A rotation adds a key and retires the one
that signed until then; a retired key stays published (GET /.well-known/jwks.json) and
keeps verifying until the last token it signed has expired, then it is dropped. The
file is re-read when it changes, so every worker picks up a rotation without a restart.
"""
import json
import os
import secrets
import tempfile
import threading
import time
from dataclasses import dataclass
from functools import cached_property
from datetime import datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from jwt.algorithms import OKPAlgorithm, RSAAlgorithm

from .timeutil import isoformat, utcnow

EDDSA = "EdDSA"
RS256 = "RS256"
# Only asymmetric algorithms: whoever verifies an access token must never be able to mint one.
ALGORITHMS = (EDDSA, RS256)
RSA_KEY_BITS = 3072
MIN_RSA_KEY_BITS = 2048
# A retired key verifies this long past the access-token lifetime (clock skew between services).
RETIREMENT_LEEWAY = timedelta(seconds=60)
# How often a running process looks at the keyset file for a rotation.
RELOAD_INTERVAL_SECONDS = 1.0


class KeySetError(ValueError):
    """The keyset cannot be used: missing, unreadable, or without a signing key."""


@dataclass(frozen=True)
class SigningKey:
    """One private key of the keyset."""

    kid: str
    alg: str
    private_key: object
    created_at: datetime
    retired_at: datetime | None = None

    @cached_property
    def public_key(self):
        """The public half, which verifies what this key signed (derived once: every request verifies with it)."""
        return self.private_key.public_key()

    def public_jwk(self):
        """The public key as a JWK (RFC 7517) with its kid, alg and use."""
        algorithm = OKPAlgorithm if self.alg == EDDSA else RSAAlgorithm
        jwk = algorithm.to_jwk(self.public_key, as_dict=True)
        jwk.update(kid=self.kid, alg=self.alg, use="sig")
        return jwk

    def verifies_until(self, token_lifetime):
        """When this key stops verifying: never while it signs, else retirement + token lifetime + leeway."""
        if self.retired_at is None:
            return None
        return self.retired_at + token_lifetime + RETIREMENT_LEEWAY

    def is_published(self, token_lifetime, now=None):
        """True while tokens this key signed can still be valid."""
        until = self.verifies_until(token_lifetime)
        return until is None or until > (now or utcnow())

    def to_record(self):
        """The keyset-file entry of this key."""
        pem = self.private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                             serialization.NoEncryption())
        return {"kid": self.kid, "alg": self.alg, "createdAt": isoformat(self.created_at),
                "retiredAt": isoformat(self.retired_at), "privateKey": pem.decode()}


def _parse_time(value):
    if value is None:
        return None
    return datetime.fromisoformat(value.rstrip("Z"))


def new_key(alg=EDDSA, now=None):
    """Generate a signing key of `alg` with a fresh kid."""
    if alg not in ALGORITHMS:
        raise KeySetError(f"unsupported signing algorithm {alg!r}; use one of {', '.join(ALGORITHMS)}")
    now = now or utcnow()
    private_key = ed25519.Ed25519PrivateKey.generate() if alg == EDDSA else rsa.generate_private_key(
        public_exponent=65537, key_size=RSA_KEY_BITS)
    return SigningKey(kid=f"{now:%Y%m%d}-{secrets.token_hex(4)}", alg=alg, private_key=private_key, created_at=now)


def _key_from_record(record):
    try:
        alg = record["alg"]
        private_key = serialization.load_pem_private_key(record["privateKey"].encode(), password=None)
        key = SigningKey(kid=str(record["kid"]), alg=alg, private_key=private_key,
                         created_at=_parse_time(record.get("createdAt")) or utcnow(),
                         retired_at=_parse_time(record.get("retiredAt")))
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise KeySetError(f"a key of the keyset is malformed ({error.__class__.__name__})") from None
    expected = ed25519.Ed25519PrivateKey if alg == EDDSA else rsa.RSAPrivateKey
    if alg not in ALGORITHMS or not isinstance(private_key, expected):
        raise KeySetError(f"key {key.kid}: {alg!r} needs an {'Ed25519' if alg == EDDSA else 'RSA'} private key")
    if alg == RS256 and private_key.key_size < MIN_RSA_KEY_BITS:
        raise KeySetError(f"key {key.kid}: RSA keys need at least {MIN_RSA_KEY_BITS} bits")
    return key


class KeySet:
    """An immutable list of signing keys, oldest first."""

    def __init__(self, keys=()):
        self.keys = tuple(keys)
        kids = [key.kid for key in self.keys]
        if len(set(kids)) != len(kids):
            raise KeySetError("two keys of the keyset share a kid")

    @classmethod
    def from_json(cls, text):
        """Parse a keyset file's text."""
        try:
            data = json.loads(text)
        except ValueError:
            raise KeySetError("the keyset is not valid JSON") from None
        if not isinstance(data, dict) or not isinstance(data.get("keys"), list):
            raise KeySetError('the keyset must be a JSON object with a "keys" list')
        return cls(_key_from_record(record) for record in data["keys"])

    def to_json(self):
        """The keyset file's text."""
        return json.dumps({"keys": [key.to_record() for key in self.keys]}, indent=2) + "\n"

    @property
    def signing_key(self):
        """The newest key that is not retired, or None."""
        active = [key for key in self.keys if key.retired_at is None]
        return active[-1] if active else None

    def published(self, token_lifetime, now=None):
        """Keys whose tokens can still be valid: the signing key and recently retired ones."""
        return [key for key in self.keys if key.is_published(token_lifetime, now)]

    def find(self, kid, token_lifetime, now=None):
        """The published key with this kid, or None."""
        for key in self.published(token_lifetime, now):
            if key.kid == kid:
                return key
        return None

    def jwks(self, token_lifetime, now=None):
        """The public JWK Set (RFC 7517 §5) of the published keys."""
        return {"keys": [key.public_jwk() for key in self.published(token_lifetime, now)]}

    def rotated(self, alg=EDDSA, token_lifetime=timedelta(0), now=None):
        """A new keyset: a fresh key signs, the previous signers are retired, long-expired keys are dropped."""
        now = now or utcnow()
        kept = [key for key in self.keys if key.is_published(token_lifetime, now)]
        retired = [key if key.retired_at else SigningKey(key.kid, key.alg, key.private_key, key.created_at, now)
                   for key in kept]
        return KeySet([*retired, new_key(alg, now)])


def write_keyset(path, keyset):
    """Write the keyset file atomically (readers see the old or the new file, never half of one), mode 0600."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w") as stream:
            stream.write(keyset.to_json())
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def read_keyset(path):
    """Read a keyset file; KeySetError when it is missing or malformed."""
    try:
        text = Path(path).read_text()
    except OSError as error:
        raise KeySetError(f"cannot read the keyset file {path}: {error.strerror}") from None
    return KeySet.from_json(text)


def create_keyset_file(path, alg=EDDSA):
    """Create a keyset file with one fresh key unless it exists; several processes starting at once make one."""
    path = Path(path)
    if path.exists():
        return read_keyset(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    keyset = KeySet([new_key(alg)])
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w") as stream:
            stream.write(keyset.to_json())
        os.chmod(temporary, 0o600)
        try:
            os.link(temporary, path)  # fails if another process created it first: theirs wins
        except FileExistsError:
            pass
    finally:
        Path(temporary).unlink(missing_ok=True)
    return read_keyset(path)


class KeyRing:
    """The keyset a running process signs and verifies with: from a file (re-read on change) or in memory."""

    def __init__(self, token_lifetime, path=None, keyset=None):
        self.token_lifetime = token_lifetime
        self.path = Path(path) if path else None
        self._keyset = keyset if keyset is not None else read_keyset(self.path)
        self._stamp = self._file_stamp()
        self._checked = time.monotonic()
        self._lock = threading.Lock()
        self._pending = threading.local()

    def _file_stamp(self):
        if self.path is None:
            return None
        try:
            stat = self.path.stat()
        except OSError:
            return None
        return stat.st_mtime_ns, stat.st_size, stat.st_ino

    def refresh(self, force=False):
        """Re-read the file when it changed (looked at once a second, or now when `force`)."""
        if self.path is None or (not force and time.monotonic() - self._checked < RELOAD_INTERVAL_SECONDS):
            return self._keyset
        with self._lock:
            self._checked = time.monotonic()
            stamp = self._file_stamp()
            if stamp is not None and stamp != self._stamp:
                try:
                    self._keyset = read_keyset(self.path)
                    self._stamp = stamp
                except KeySetError:
                    pass  # a broken file must not stop a running service; keep the keys it has
        return self._keyset

    @property
    def keyset(self):
        """The current keyset."""
        return self.refresh()

    def signing_key(self):
        """The key new tokens are signed with."""
        key = self.keyset.signing_key
        if key is None:
            raise KeySetError("the keyset has no signing key")
        return key

    def verification_key(self, kid):
        """The published key named `kid`, re-reading the file once when it is unknown; else None."""
        key = self.keyset.find(kid, self.token_lifetime)
        if key is None:
            key = self.refresh(force=True).find(kid, self.token_lifetime)
        return key

    def jwks(self):
        """The public JWK Set to publish."""
        return self.keyset.jwks(self.token_lifetime)

    # flask-jwt-extended asks for the header and the key in two callbacks, one after the other in the
    # same thread; the key chosen for the header is remembered so a reload between them cannot split them.
    def header_for_new_token(self):
        """The JWT header of a token about to be signed (its kid)."""
        key = self.signing_key()
        self._pending.key = key
        return {"kid": key.kid}

    def private_key_for_new_token(self):
        """The private key of the token whose header was just made."""
        key = getattr(self._pending, "key", None) or self.signing_key()
        self._pending.key = None
        return key.private_key
