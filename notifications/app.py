"""The application factory and its register_* steps."""
import os
from collections.abc import Mapping

from flask import Flask

from servicekit.config import apply_shared_defaults
from servicekit.errors import register_error_handlers

from .commands import COMMANDS
from .config import config_for
from .controllers import socket_guard
from .controllers.sender import Sender
from .extensions import socketio
from .routes import BLUEPRINTS
from .utils import jwks
from .utils import redis as redis_util
from .utils.realtime import FanOutRedisManager, lighten_connections

SENDER_KEY = "notifications_sender"


def create_app(config=None):
    """Create the notifications app.

    `config` is a config name ("testing"), a config class, or a mapping of
    settings applied over the class picked by its "APP_ENV" key or the APP_ENV
    environment variable.
    """
    app = Flask("notifications")
    configure(app, config)
    register_metrics(app)
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)
    register_api_docs(app)
    register_sender(app)
    return app


def configure(app, config):
    """Load and validate settings; a bad configuration stops the start."""
    overrides = {}
    if isinstance(config, Mapping):
        overrides = dict(config)
        config = overrides.pop("APP_ENV", None)
    config_class = config if isinstance(config, type) else config_for(config)
    app.config.from_object(config_class)
    app.config.update(overrides)
    apply_shared_defaults(app.config)
    config_class.validate(app.config)


def register_extensions(app):
    """Bind Redis, the token keys and Socket.IO to the app."""
    redis_util.init_app(app)
    jwks.init_app(app)
    register_socketio(app)


def register_socketio(app):
    """Attach Socket.IO with its handlers, the Redis message queue and explicit CORS origins."""
    from . import sockets  # noqa: F401 - registers the handlers on `socketio`

    # The module-level SocketIO keeps options between init_app calls; when a
    # process builds several apps (tests) a stale queue must not carry over.
    for stale in ("client_manager", "message_queue", "channel"):
        socketio.server_options.pop(stale, None)
    queue = {}
    if app.config["SOCKETIO_MESSAGE_QUEUE"]:
        queue["client_manager"] = FanOutRedisManager(
            app.config["REDIS_URL"], batch=app.config["SOCKETIO_FANOUT_BATCH"], channel=app.config["SOCKETIO_CHANNEL"]
        )
    socketio.init_app(
        app,
        async_mode=app.config["SOCKETIO_ASYNC_MODE"],
        cors_allowed_origins=origin_policy(app.config["CORS_ORIGIN"]),
        **queue,
    )
    lighten_connections(app, socketio.server)
    # Like the sender, no guard in a CLI command: it serves no sockets.
    socket_guard.init_app(app, start=app.config["SOCKET_GUARD_ENABLED"] and not os.environ.get("FLASK_RUN_FROM_CLI"))


def origin_policy(allowed):
    """Engine.IO's origin check: the listed browser origins, and the server's own origin.

    A browser always sends its page's origin, so only pages of a listed origin connect. A client
    outside a browser (python-socketio's websocket transport) sends the URL it connects to as its
    Origin; this service serves no pages, so its own origin can only be such a client, and a valid
    token is still required.
    """
    allowed = frozenset(allowed)

    def is_allowed(origin, wsgi_environ):
        if origin in allowed:
            return True
        host = wsgi_environ.get("HTTP_HOST")
        scheme = wsgi_environ.get("wsgi.url_scheme", "http")
        own = {f"{scheme}://{host}"} if host else set()
        forwarded_host = wsgi_environ.get("HTTP_X_FORWARDED_HOST", host)
        forwarded_proto = wsgi_environ.get("HTTP_X_FORWARDED_PROTO", scheme)
        if forwarded_host:
            own.add(f"{forwarded_proto.split(',')[0].strip()}://{forwarded_host.split(',')[0].strip()}")
        return origin in own

    return is_allowed


def register_blueprints(app):
    """Mount the HTTP routes."""
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)


def register_errorhandlers(app):
    """Turn every error into the JSON error body."""
    register_error_handlers(app)


def register_commands(app):
    """Add the operator CLI commands."""
    for command in COMMANDS:
        app.cli.add_command(command)


def register_api_docs(app):
    """GET /api/openapi.json, generated from the routes' schemas; Swagger UI at /api/docs outside production."""
    from .utils import openapi

    openapi.init_app(app)


def register_metrics(app):
    """JSON logs, request ids, /metrics, and the email and socket gauges of this service."""
    from servicekit.observability import init_observability

    metrics = init_observability(app, "notifications")
    metrics.emails = metrics.counter("emails_total", "Emails by outcome (queued, sent, retry, dead)", ["outcome"])
    metrics.sockets = metrics.gauge("socketio_connected_clients", "Socket.IO clients connected to this process")


def register_sender(app):
    """Start the background e-mail sender of this process, unless disabled.

    Flask CLI commands (`flask send-queued`, ...) never start it: they do their
    own work and exit, and a sender killed mid-send would only delay that job.
    """
    if not app.config["EMAIL_SENDER_ENABLED"] or os.environ.get("FLASK_RUN_FROM_CLI"):
        return
    sender = Sender(app)
    app.extensions[SENDER_KEY] = sender
    sender.start()
