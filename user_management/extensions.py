"""Extension objects, created once here and bound to an app in `create_app`."""
from flask import current_app
from flask_cors import CORS
from flask_jwt_extended import JWTManager
from flask_limiter import ApplicationLimit, Limiter
from flask_limiter.util import get_remote_address

from servicekit.security_headers import PrecomputedTalisman

# app.extensions[API_BUDGET]: () -> (limit, key) of the API budget a request spends (middleware.auth sets it:
# RATELIMIT_USER per user with a valid access token, else RATELIMIT_API per IP).
API_BUDGET = "api_budget"


def _budget_limit():
    return current_app.extensions[API_BUDGET]()[0]


def _budget_key():
    return current_app.extensions[API_BUDGET]()[1]


jwt = JWTManager()
limiter = Limiter(key_func=get_remote_address, headers_enabled=True,
                  application_limits=[ApplicationLimit(_budget_limit, key_function=_budget_key)])
cors = CORS()
talisman = PrecomputedTalisman()
