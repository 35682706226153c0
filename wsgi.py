"""WSGI entry points for gunicorn and `flask --app`.

    gunicorn 'wsgi:user_management_app'
    gunicorn -k eventlet -w 1 'wsgi:notifications_app'

Each app is built on first access, so serving one service never builds (or
needs the configuration of) the other.
"""


def __getattr__(name):
    if name == "user_management_app":
        from user_management import create_app

        app = create_app()
    elif name == "notifications_app":
        from notifications import create_app

        app = create_app()
    else:
        raise AttributeError(name)
    globals()[name] = app
    return app
