"""A software authenticator: real WebAuthn attestation and assertion objects, made with `cryptography` and `cbor2`.

    authenticator = SoftwareAuthenticator(origin="http://localhost:3000")
    credential = authenticator.create(options)        # answer to navigator.credentials.create(options)
    assertion = authenticator.get(options)            # answer to navigator.credentials.get(options)

Both return the JSON a browser's `credential.toJSON()` gives. Keys are EC P-256 (COSE ES256). Each
call can bend one rule (user verification off, another origin, a frozen counter, ...) so tests can
check that the server refuses it.
"""
import hashlib
import json
import os
import struct
from base64 import urlsafe_b64decode, urlsafe_b64encode
from dataclasses import dataclass

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

UP, UV, BE, BS, AT = 0x01, 0x04, 0x08, 0x10, 0x40
ES256 = -7
AAGUID = bytes(16)


def b64url(data):
    """base64url without padding."""
    return urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text):
    """Decode base64url with or without padding."""
    return urlsafe_b64decode(text + "=" * (-len(text) % 4))


def cose_public_key(public_key):
    """An EC P-256 public key as a COSE_Key (RFC 9052): kty EC2, alg ES256, crv P-256, x, y."""
    numbers = public_key.public_numbers()
    return cbor2.dumps({1: 2, 3: ES256, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")})


@dataclass
class Credential:
    """One credential held by the authenticator."""

    credential_id: bytes
    private_key: ec.EllipticCurvePrivateKey
    rp_id: str
    user_handle: bytes
    sign_count: int = 0


class SoftwareAuthenticator:
    """Creates credentials and signs assertions; counts signatures when `counter` is on (like a security key)."""

    def __init__(self, origin, counter=False):
        self.origin = origin
        self.counter = counter
        self.credentials = []

    def _client_data(self, kind, challenge, origin=None):
        return json.dumps({"type": kind, "challenge": challenge, "origin": origin or self.origin,
                           "crossOrigin": False}).encode()

    def create(self, options, user_verified=True, origin=None, rp_id=None, fmt="none", challenge=None):
        """Answer creation options (PublicKeyCredentialCreationOptionsJSON) with a new credential."""
        rp_id = rp_id or options["rp"]["id"]
        private_key = ec.generate_private_key(ec.SECP256R1())
        credential = Credential(os.urandom(32), private_key, rp_id, unb64url(options["user"]["id"]))
        flags = UP | AT | (UV if user_verified else 0)
        attested = AAGUID + struct.pack(">H", len(credential.credential_id)) + credential.credential_id
        auth_data = (hashlib.sha256(rp_id.encode()).digest() + bytes([flags]) + struct.pack(">I", 0) + attested
                     + cose_public_key(private_key.public_key()))
        client_data = self._client_data("webauthn.create", challenge or options["challenge"], origin)
        statement = {}
        if fmt == "packed":  # self attestation: signed by the credential's own key
            signature = private_key.sign(auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256()))
            statement = {"alg": ES256, "sig": signature}
        attestation = cbor2.dumps({"fmt": fmt, "attStmt": statement, "authData": auth_data})
        self.credentials.append(credential)
        return _public_key_credential(credential, {"clientDataJSON": b64url(client_data),
                                                   "attestationObject": b64url(attestation),
                                                   "transports": ["internal", "hybrid"]})

    def get(self, options, credential=None, user_verified=True, origin=None, rp_id=None, user_handle=True,
            sign_count=None, challenge=None):
        """Answer request options with an assertion by `credential` (default: the newest one for the rp id)."""
        rp_id = rp_id or options.get("rpId")
        credential = credential or [c for c in self.credentials if c.rp_id == (options.get("rpId"))][-1]
        if sign_count is None:
            if self.counter:
                credential.sign_count += 1
            sign_count = credential.sign_count
        flags = UP | (UV if user_verified else 0)
        auth_data = hashlib.sha256(rp_id.encode()).digest() + bytes([flags]) + struct.pack(">I", sign_count)
        client_data = self._client_data("webauthn.get", challenge or options["challenge"], origin)
        signature = credential.private_key.sign(auth_data + hashlib.sha256(client_data).digest(),
                                                ec.ECDSA(hashes.SHA256()))
        response = {"clientDataJSON": b64url(client_data), "authenticatorData": b64url(auth_data),
                    "signature": b64url(signature)}
        if user_handle:
            response["userHandle"] = b64url(credential.user_handle)
        return _public_key_credential(credential, response)


def _public_key_credential(credential, response):
    """A PublicKeyCredential as the browser's toJSON() gives it."""
    return {
        "id": b64url(credential.credential_id),
        "rawId": b64url(credential.credential_id),
        "type": "public-key",
        "authenticatorAttachment": "platform",
        "clientExtensionResults": {},
        "response": response,
    }
