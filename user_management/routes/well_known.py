"""/.well-known/jwks.json: the public keys that verify access tokens (RFC 7517), for every other service."""
from flask import Blueprint, jsonify

from ..extensions import limiter, talisman
from ..middleware.signing import keyring
from ..schemas.keys import JwksSchema
from ..utils.openapi import api_doc

bp = Blueprint("well_known", __name__)
# Verifiers cache the set; one that meets an unknown kid fetches it again at once.
MAX_AGE_SECONDS = 60


@bp.get("/.well-known/jwks.json")
@api_doc(response=JwksSchema, rate_limited=False)
@limiter.exempt
@talisman(force_https=False)  # fetched by services on the internal network over plain HTTP
def jwks():
    """The public keys (JWK Set) that verify access tokens: the signing key and recently retired ones."""
    response = jsonify(JwksSchema().dump(keyring().jwks()))
    response.cache_control.public = True
    response.cache_control.max_age = MAX_AGE_SECONDS
    return response
