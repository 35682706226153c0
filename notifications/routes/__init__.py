"""Blueprints: parse the request, call one controller, serialise the answer."""
from .email import bp as email_bp
from .health import bp as health_bp
from .notify import bp as notify_bp

BLUEPRINTS = (health_bp, email_bp, notify_bp)
