"""Revocation facts both services read: per user, a small Redis record that says which access tokens still hold.

user_management writes the record whenever a change ends a user's access (logout-all, deactivation and
reactivation, password change or reset, two-factor reset, organization deactivation and reactivation)
and also at every login and refresh, then publishes the user id on a channel. Every change bumps the
user's token version in MongoDB first, so a record only ever moves forward: a write carrying an older
version than the stored one is ignored (one Lua script), whatever order two workers' writes land in.

An access token holds while the record exists, says the user and organization are active, carries
the same token version (`tv`) as the token, and its session (claim `sid`, one login's refresh-token
family) is not among the record's ended sessions (`sid:<id>` fields, written by `end_session` when one
session is signed out while the others go on). No record means "not known here" (Redis was flushed, or the
record expired with the last token it could vouch for): notifications, which has no database, refuses
such a token with reason `token_revoked`, and the client's refresh (which writes the record) repairs it.
user_management rebuilds a missing record from MongoDB.

Keys and channel live under SHARED_KEY_PREFIX, which both services read, as their own
REDIS_KEY_PREFIX may differ:

    <prefix>:authz:user:<user id>   hash {tv, active, orgActive, sid:<session id>…}, expiring with the
                                    longest-lived access token
    <prefix>:authz:changes          pub/sub channel: one message per change, the user id
"""
from collections import namedtuple

# Socket.IO: the event a server sends a client just before disconnecting it, and its reasons.
SESSION_ENDED_EVENT = "sessionEnded"
# B105: reason names, not secrets
TOKEN_EXPIRED = "token_expired"  # nosec B105
TOKEN_REVOKED = "token_revoked"  # nosec B105
SESSION_ENDED = "session_ended"
SESSION_FIELD = "sid:"

# ended_sessions: the ids of this user's sessions that were ended one by one (their tokens no longer hold).
UserState = namedtuple("UserState", "token_version active organization_active ended_sessions",
                       defaults=(frozenset(),))

# KEYS[1] the record; ARGV: tv, active, orgActive, ttl seconds. Writes unless the stored tv is newer.
_WRITE_IF_NOT_OLDER = """
local stored = redis.call('HGET', KEYS[1], 'tv')
if stored and tonumber(stored) > tonumber(ARGV[1]) then
  return 0
end
redis.call('HSET', KEYS[1], 'tv', ARGV[1], 'active', ARGV[2], 'orgActive', ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[4])
return 1
"""


# KEYS[1] the record; ARGV: field, ttl seconds. Adds the field; the record lives at least ttl more seconds.
_END_SESSION = """
redis.call('HSET', KEYS[1], ARGV[1], '1')
if redis.call('TTL', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('EXPIRE', KEYS[1], ARGV[2])
end
return 1
"""


def user_key(prefix, user_id):
    """The Redis key of one user's record."""
    return f"{prefix}:authz:user:{user_id}"


def changes_channel(prefix):
    """The pub/sub channel user_management announces changes on."""
    return f"{prefix}:authz:changes"


def socketio_channel(prefix):
    """The default Socket.IO message-queue channel of a deployment: unique per SHARED_KEY_PREFIX.

    Redis pub/sub ignores the database number, so two deployments on one Redis would otherwise see
    each other's events.
    """
    return f"{prefix}:socketio"


def write(client, prefix, user_id, state, ttl_seconds):
    """Store `state` for `user_id` unless a newer token version is stored; True when written."""
    return bool(client.eval(_WRITE_IF_NOT_OLDER, 1, user_key(prefix, user_id), int(state.token_version),
                            int(bool(state.active)), int(bool(state.organization_active)), max(1, int(ttl_seconds))))


def end_session(client, prefix, user_id, sid, ttl_seconds):
    """Record that session `sid` of `user_id` ended: its access tokens stop holding, the user's others go on.

    The record then lives at least `ttl_seconds` more (the longest-lived access token of that session).
    """
    client.eval(_END_SESSION, 1, user_key(prefix, user_id), f"{SESSION_FIELD}{sid}", max(1, int(ttl_seconds)))


def announce(client, prefix, user_id):
    """Tell every listener that `user_id`'s record changed."""
    client.publish(changes_channel(prefix), str(user_id))


def _text(value):
    return value.decode() if isinstance(value, bytes) else str(value)


def _decode(record):
    record = {_text(field): _text(value) for field, value in (record or {}).items()}
    if record.get("tv") is None:
        return None
    ended = frozenset(field[len(SESSION_FIELD):] for field in record if field.startswith(SESSION_FIELD))
    return UserState(int(record["tv"]), bool(int(record.get("active", 0))), bool(int(record.get("orgActive", 0))),
                     ended)


def read(client, prefix, user_id):
    """The stored state of `user_id`, or None when Redis has no record of it."""
    return _decode(client.hgetall(user_key(prefix, user_id)))


def read_many(client, prefix, user_ids):
    """{user id: state or None} for several users, in one round trip."""
    user_ids = list(dict.fromkeys(user_ids))
    pipe = client.pipeline(transaction=False)
    for user_id in user_ids:
        pipe.hgetall(user_key(prefix, user_id))
    return {user_id: _decode(values) for user_id, values in zip(user_ids, pipe.execute())}


def holds(state, token_version, sid=None):
    """True when a token issued with `token_version` (in session `sid`) is still good under `state`.

    None (no record) is unknown, so no.
    """
    return bool(state is not None and state.active and state.organization_active
                and token_version is not None and state.token_version == token_version
                and (sid is None or sid not in state.ended_sessions))


def ending_reason(state, token_version, sid=None):
    """Why a token no longer holds under `state`: SESSION_ENDED when only its session was signed out,
    TOKEN_REVOKED otherwise; None while it holds."""
    if holds(state, token_version, sid):
        return None
    # Good but for its session: only that session was ended.
    return SESSION_ENDED if holds(state, token_version) else TOKEN_REVOKED
