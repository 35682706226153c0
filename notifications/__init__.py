"""Notifications service: the durable e-mail queue and the Socket.IO push server.

The factory lives in `notifications.app`. It is imported lazily so that
`python -m notifications.serve`, which imports this package first, can
monkey-patch (eventlet/gevent) before Flask, redis or socket are loaded.
"""


def create_app(config=None):
    """Create the notifications app; see `notifications.app.create_app`."""
    from .app import create_app as _create_app

    return _create_app(config)
