"""The public JWK Set at /.well-known/jwks.json."""
from marshmallow import Schema, fields, validate


class JwkSchema(Schema):
    """One public key (RFC 7517): Ed25519 (`kty` OKP, `crv`, `x`) or RSA (`kty` RSA, `n`, `e`)."""

    kty = fields.String(required=True, validate=validate.OneOf(("OKP", "RSA")))
    kid = fields.String(required=True)
    alg = fields.String(required=True, validate=validate.OneOf(("EdDSA", "RS256")))
    use = fields.String(required=True, validate=validate.OneOf(("sig",)))
    crv = fields.String(metadata={"description": "OKP keys: Ed25519"})
    x = fields.String(metadata={"description": "OKP keys: the public key, base64url"})
    n = fields.String(metadata={"description": "RSA keys: modulus, base64url"})
    e = fields.String(metadata={"description": "RSA keys: exponent, base64url"})


class JwksSchema(Schema):
    """The keys that verify access tokens; a retired key stays until the tokens it signed have expired."""

    keys = fields.List(fields.Nested(JwkSchema), required=True)
