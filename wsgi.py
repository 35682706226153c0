"""WSGI entry points for gunicorn and `flask --app`.

    gunicorn 'wsgi:user_management_app'
    gunicorn -k eventlet -w 1 'wsgi:notifications_app'

Each app is built on first access, so serving one service never builds (or
needs the configuration of) the other. A configuration the service refuses is
reported in one line on stderr, and the process exits (see servicekit.config).
"""
import importlib

from servicekit.config import ConfigurationError, refuse_to_start

APPS = {"user_management_app": "user_management", "notifications_app": "notifications"}


def __getattr__(name):
    if name not in APPS:
        raise AttributeError(name)
    service = APPS[name]
    try:
        app = importlib.import_module(service).create_app()
    except ConfigurationError as error:
        refuse_to_start(service, error)
    globals()[name] = app
    return app
