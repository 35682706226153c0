"""Keeping open sockets authorized: end a socket when its token expires or user_management revokes it.

A socket is authorized at connect exactly like an API request (signature, expiry, token version, user
and organization active; see `sockets.on_connect`). Afterwards this process's guard ends it:

- when its access token expires (checked every second), with reason `token_expired`;
- when user_management announces a change for its user (Redis pub/sub, `servicekit.revocation`) and the
  user's record no longer vouches for the token, with reason `token_revoked`, or `session_ended` when only
  the token's session (its `sid` claim) was signed out;
- every RECHECK_SECONDS, every socket is checked against the records again, in case an announcement
  was missed while the subscription was down.

Ending a socket sends it a `sessionEnded {reason, message}` event, then disconnects it, so a client
knows to refresh its access token and connect again (docs/notifications.md).
"""
import logging
import threading
import time

import redis

from servicekit import revocation

from ..extensions import socketio
from ..utils.redis import get_redis

log = logging.getLogger(__name__)

RECHECK_SECONDS = 30
EXTENSION_KEY = "notifications_socket_guard"
MESSAGES = {
    revocation.TOKEN_EXPIRED: "Your access token expired; refresh it and connect again",
    revocation.TOKEN_REVOKED: "Your session was ended; refresh your access token or sign in again",
    revocation.SESSION_ENDED: "This session was signed out; sign in again",
}


class SocketGuard:
    """The sockets of this process with their token's user, version and expiry; ends those that lose them."""

    def __init__(self, app):
        self.app = app
        self.prefix = app.config["SHARED_KEY_PREFIX"]
        # sid -> (user id, token version, expiry in epoch seconds, the token's session id (claim `sid`) or None)
        self.sockets = {}
        self.lock = threading.Lock()
        self.stopping = threading.Event()

    def track(self, sid, user_id, token_version, expires_at, session_id=None):
        """Watch a socket that was just authorized."""
        with self.lock:
            self.sockets[sid] = (user_id, token_version, expires_at, session_id)

    def forget(self, sid):
        """Stop watching a socket that disconnected."""
        with self.lock:
            self.sockets.pop(sid, None)

    def _snapshot(self):
        with self.lock:
            return dict(self.sockets)

    def end(self, sid, reason):
        """Tell the socket why, then disconnect it (this process's socket: no message queue round trip)."""
        self.forget(sid)
        payload = {"reason": reason, "message": MESSAGES[reason]}
        try:
            socketio.server.emit(revocation.SESSION_ENDED_EVENT, payload, to=sid, namespace="/", ignore_queue=True)
            socketio.server.disconnect(sid, namespace="/", ignore_queue=True)
        except Exception:  # the client went away meanwhile; nothing left to end
            log.debug("socket already gone", extra={"sid": sid})

    def end_expired(self, now=None):
        """End every socket whose access token has expired; return how many."""
        now = time.time() if now is None else now
        expired = [sid for sid, (_user, _tv, expires_at, _session) in self._snapshot().items() if expires_at <= now]
        for sid in expired:
            self.end(sid, revocation.TOKEN_EXPIRED)
        return len(expired)

    def recheck(self, user_ids=None):
        """End the sockets (of `user_ids`, or all) whose user's record no longer vouches for their token."""
        sockets = {sid: entry for sid, entry in self._snapshot().items()
                   if user_ids is None or entry[0] in user_ids}
        if not sockets:
            return 0
        states = revocation.read_many(get_redis(self.app), self.prefix, [entry[0] for entry in sockets.values()])
        reasons = {sid: revocation.ending_reason(states.get(user), tv, session)
                   for sid, (user, tv, _exp, session) in sockets.items()}
        revoked = {sid: reason for sid, reason in reasons.items() if reason}
        for sid, reason in revoked.items():
            self.end(sid, reason)
        return len(revoked)

    def run(self):
        """Background task: listen for announced changes, end expired sockets each second, recheck all now and then."""
        backoff = 1
        while not self.stopping.is_set():
            pubsub = None
            try:
                pubsub = get_redis(self.app).pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(revocation.changes_channel(self.prefix))
                self.recheck()  # changes announced while not subscribed are not lost
                backoff = 1
                self._listen(pubsub)
            except redis.RedisError as exc:
                log.warning("revocation subscription down", extra={"error": type(exc).__name__})
                self.end_expired()
                self.stopping.wait(backoff)
                backoff = min(backoff * 2, RECHECK_SECONDS)
            except Exception:  # keep guarding; the next round starts over
                log.exception("socket guard failed")
                self.stopping.wait(1)
            finally:
                if pubsub is not None:
                    pubsub.close()

    def _listen(self, pubsub):
        last_recheck = time.monotonic()
        while not self.stopping.is_set():
            message = pubsub.get_message(timeout=1.0)
            if message is not None and message.get("type") == "message":
                self.recheck({str(message["data"])})
            self.end_expired()
            if time.monotonic() - last_recheck >= RECHECK_SECONDS:
                self.recheck()
                last_recheck = time.monotonic()


def get_guard(app):
    """The socket guard of `app` (created with the app)."""
    return app.extensions[EXTENSION_KEY]


def init_app(app, start=True):
    """Create the guard of this process and, when `start`, run it as a Socket.IO background task."""
    guard = app.extensions[EXTENSION_KEY] = SocketGuard(app)
    if start:
        socketio.start_background_task(guard.run)
    return guard
