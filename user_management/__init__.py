"""user_management: users, roles, organizations, invites and authentication."""
import logging

from flask import Flask, request
from werkzeug.middleware.proxy_fix import ProxyFix

from servicekit.config import apply_shared_defaults
from servicekit.ratelimit import one_trip_uri

from .config import config_for
from .extensions import cors, jwt, limiter, talisman
from .middleware import signing
from .utils.signing_keys import ALGORITHMS as SIGNING_ALGORITHMS

log = logging.getLogger(__name__)

API_CSP = {"default-src": "'none'", "frame-ancestors": "'none'"}
# Seconds a request waits on Redis (rate limits, Socket.IO events) before carrying on without it.
REDIS_TIMEOUT = 2


def create_app(config=None, **overrides):
    """Build the user_management app.

    `config` is a config class or an APP_ENV name (default: `APP_ENV`);
    keyword overrides are applied on top, which is how tests tune settings.
    """
    config_class = config if isinstance(config, type) else config_for(config)
    app = Flask(__name__)
    app.config.from_object(config_class)
    app.config.update(overrides)
    apply_shared_defaults(app.config)
    config_class.validate(app.config)
    app.config["ENV_NAME"] = config_class.ENV_NAME

    register_observability(app)
    register_extensions(app)
    register_database(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)
    register_api_docs(app)
    register_background_jobs(app)
    return app


def register_observability(app):
    """JSON logs, request ids and /metrics; first, so every other hook sees the request id."""
    from servicekit.observability import init_observability

    init_observability(app, "user_management")


def register_extensions(app):
    """Bind every extension to the app."""
    issuer = app.config["JWT_ISSUER"] or app.config["FRONTEND_URL"]
    app.config.update(
        JWT_ACCESS_TOKEN_EXPIRES=app.config["JWT_ACCESS_EXPIRES"],
        # Asymmetric only (the key is picked by kid): an HMAC or `none` token is never accepted.
        JWT_DECODE_ALGORITHMS=list(SIGNING_ALGORITHMS),
        JWT_ENCODE_ISSUER=issuer,
        JWT_DECODE_ISSUER=issuer,
        JWT_ENCODE_AUDIENCE=app.config["JWT_AUDIENCE"] or issuer,
        JWT_DECODE_AUDIENCE=app.config["JWT_AUDIENCE"] or issuer,
        # One Redis round trip per limit and request (servicekit.ratelimit).
        RATELIMIT_STORAGE_URI=one_trip_uri(app.config["REDIS_URL"]),
        # The prefix goes to the storage: Limiter keeps the first app's RATELIMIT_KEY_PREFIX forever.
        # Timeouts bound how long a request waits on a Redis that is down or unreachable.
        RATELIMIT_STORAGE_OPTIONS={"key_prefix": f"{app.config['REDIS_KEY_PREFIX']}:rl",
                                   "socket_connect_timeout": REDIS_TIMEOUT, "socket_timeout": REDIS_TIMEOUT},
        RATELIMIT_HEADERS_ENABLED=True,
        # Redis down: keep limiting per process rather than not at all, or failing every request.
        RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=True,
    )
    if app.config["PROXY_COUNT"]:
        count = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)
    jwt.init_app(app)
    signing.init_app(app)
    limiter.init_app(app)
    limiter.exempt(app.view_functions["metrics"])
    cors.init_app(app, resources={r"/api/*": {"origins": app.config["CORS_ORIGIN"]}},
                  supports_credentials=True, expose_headers=["Retry-After", "X-Request-ID"], always_send=False)
    only_with_origin(app.after_request_funcs[None])
    production = app.config["ENV_NAME"] == "production"
    talisman.init_app(
        app,
        force_https=app.config["FORCE_HTTPS"],
        strict_transport_security=production,
        session_cookie_secure=production,
        content_security_policy=API_CSP,
        frame_options="DENY",
        referrer_policy="no-referrer",
    )
    from .middleware import auth  # registers the JWT callbacks

    auth.init_app(app)


def only_with_origin(after_request_funcs):
    """Skip flask-cors's after-request hook for a request without an Origin header.

    Browsers send Origin on every cross-origin request: without it there is no CORS to answer. The hook is
    found by its name in flask-cors, so a change there fails at start-up instead of wrapping another hook.
    """
    index = next(index for index, hook in enumerate(after_request_funcs)
                 if getattr(hook, "__name__", None) == "cors_after_request")
    cors_hook = after_request_funcs[index]

    def cors_when_asked(response):
        return cors_hook(response) if "Origin" in request.headers else response

    after_request_funcs[index] = cors_when_asked


def register_database(app):
    """Connect mongoengine lazily; indexes and the bootstrap admin wait for MongoDB's first answer."""
    from .middleware import database as database_guard
    from .models import DOCUMENTS
    from .utils import database

    database.connect_database(app.config["MONGODB_URI"],
                              server_selection_timeout_ms=app.config["MONGODB_SERVER_SELECTION_TIMEOUT_MS"])
    database.init_app(app, DOCUMENTS, prepare=[lambda: create_bootstrap_admin(app)])
    database_guard.init_app(app)


def register_blueprints(app):
    """Mount the routes."""
    from . import web  # the pages
    from .routes import audit, auth, health, invites, organization, organizations, passkeys, users, well_known

    for module in (health, auth, invites, organization, organizations, users, audit, passkeys, well_known):
        app.register_blueprint(module.bp)
    app.register_blueprint(web.bp)


def register_errorhandlers(app):
    """Turn every error into the API's JSON error shape."""
    from .middleware.error_handlers import register_error_handlers

    register_error_handlers(app)


def register_commands(app):
    """Add the operational Flask CLI commands."""
    from .commands import register

    register(app)


def register_api_docs(app):
    """GET /api/openapi.json, generated from the routes' schemas; Swagger UI at /api/docs outside production."""
    from .utils import openapi

    openapi.init_app(app)


def register_background_jobs(app):
    """Prepare the database if MongoDB answers (else on first contact) and start the outbox deliverer."""
    from .services.notification_client import start_outbox_deliverer
    from .utils.database import database_state

    database_state(app).try_prepare(app)
    start_outbox_deliverer(app)


def create_bootstrap_admin(app):
    """Create the BOOTSTRAP_ADMIN_* super_admin while none exists (run once MongoDB answers)."""
    from .controllers.user_controller import bootstrap_super_admin

    email, password = app.config["BOOTSTRAP_ADMIN_EMAIL"], app.config["BOOTSTRAP_ADMIN_PASSWORD"]
    if email and password and bootstrap_super_admin(email, password) is not None:
        log.info("bootstrap super_admin created")
