"""Socket.IO handlers: authorize on connect exactly like an API request, and join the user's rooms.

Rooms, and the events other services emit to them through the Redis message queue, are
defined in `servicekit.contract`. This service itself sends `sessionEnded` {reason, message} just
before it disconnects a socket whose token expired or was revoked (controllers/socket_guard.py).
"""
import redis
from flask import current_app, request, session
from flask_socketio import ConnectionRefusedError, emit, join_room

from servicekit import revocation
from servicekit.contract import org_room, role_room, user_room

from .controllers.socket_guard import get_guard
from .exceptions import InvalidToken
from .extensions import socketio
from .utils import jwks
from .utils.redis import get_redis
from .utils.tokens import verify_access_token

REVOKED_MESSAGE = "Token revoked"
REFUSALS = {revocation.TOKEN_REVOKED: REVOKED_MESSAGE, revocation.SESSION_ENDED: "Session ended"}


def _refuse(message, reason=None):
    """Refuse the connection; `data.reason` tells a client to refresh its token and try again."""
    return ConnectionRefusedError(message, {"reason": reason}) if reason else ConnectionRefusedError(message)


@socketio.on("connect")
def on_connect(auth=None):
    """Accept only a current access token in `auth.token`; join user, role and org rooms."""
    token = auth.get("token") if isinstance(auth, dict) else None
    config = current_app.config
    try:
        claims = verify_access_token(token, jwks.client(), config["JWT_ISSUER"], config["JWT_AUDIENCE"])
    except InvalidToken as exc:
        expired = exc.message == "Token expired"
        raise _refuse(exc.message, revocation.TOKEN_EXPIRED if expired else None) from None
    try:
        state = revocation.read(get_redis(), config["SHARED_KEY_PREFIX"], claims["sub"])
    except redis.RedisError:
        raise _refuse("Service unavailable") from None
    reason = revocation.ending_reason(state, claims["tv"], claims.get("sid"))
    if reason:
        raise _refuse(REFUSALS[reason], reason)
    session["user_id"] = claims["sub"]
    session["role"] = claims["role"]
    session["org"] = claims.get("org")
    join_room(user_room(claims["sub"]))
    join_room(role_room(claims["role"]))
    if claims.get("org"):
        join_room(org_room(claims["org"]))
        join_room(org_room(claims["org"], claims["role"]))
    get_guard(current_app).track(request.sid, claims["sub"], claims["tv"], claims["exp"], claims.get("sid"))
    _connected_clients().inc()


@socketio.on("disconnect")
def on_disconnect(*_args):
    """Stop guarding the socket; keep the connected-clients gauge true."""
    if "user_id" in session:
        get_guard(current_app).forget(request.sid)
        _connected_clients().dec()


def _connected_clients():
    return current_app.extensions["metrics"].sockets


@socketio.on("register")
def on_register(data=None):
    """Legacy client event: (re)join the user's room, only for the token's own user id."""
    user_id = data.get("userId") if isinstance(data, dict) else None
    if user_id is None or str(user_id) != session.get("user_id"):
        emit("error", {"message": "You can only register for your own user id"})
        return {"success": False}
    join_room(user_room(session["user_id"]))
    return {"success": True, "userId": session["user_id"]}
