"""Development server: `python -m notifications.serve`.

Monkey-patches first, per SOCKETIO_ASYNC_MODE (eventlet by default, gevent, or
threading for no patching), then serves the app with `socketio.run`. In
production gunicorn's eventlet/gevent worker patches the process itself:

    gunicorn -k eventlet -w 1 -b 0.0.0.0:4000 'wsgi:notifications_app'
    SOCKETIO_ASYNC_MODE=gevent gunicorn -k gevent -w 1 -b 0.0.0.0:4000 'wsgi:notifications_app'
"""
import os

ASYNC_MODE = os.environ.get("SOCKETIO_ASYNC_MODE") or "eventlet"
if ASYNC_MODE == "eventlet":
    import eventlet

    eventlet.monkey_patch()
elif ASYNC_MODE == "gevent":
    from gevent import monkey

    monkey.patch_all()

from notifications import create_app  # noqa: E402 - must come after monkey-patching
from notifications.extensions import socketio  # noqa: E402
from servicekit.config import ConfigurationError, refuse_to_start  # noqa: E402


def main():
    """Build the app and serve it on HOST (default 127.0.0.1) and PORT; a refused configuration is one line."""
    try:
        app = create_app()
    except ConfigurationError as error:
        refuse_to_start("notifications", error)
    host = os.environ.get("HOST") or "127.0.0.1"
    socketio.run(app, host=host, port=app.config["PORT"], allow_unsafe_werkzeug=ASYNC_MODE == "threading")


if __name__ == "__main__":
    main()
