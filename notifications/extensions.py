"""Extension objects, created once here and bound to an app in `create_app`."""
from flask_socketio import SocketIO

socketio = SocketIO()
