"""Revocation facts both services read: per user, a small Redis record that says which access tokens still hold.

user_management writes the record whenever a change ends a user's access (logout-all, deactivation and
reactivation, password change or reset, two-factor reset, organization deactivation and reactivation)
and also at every login and refresh, then publishes the user id on a channel. Every change bumps the
user's token version in MongoDB first, so a record only ever moves forward: a write carrying an older
version than the stored one is ignored (one Lua script), whatever order two workers' writes land in.

An access token holds while the record exists, says the user and organization are active, and carries
the same token version (`tv`) as the token. No record means "not known here" (Redis was flushed, or the
record expired with the last token it could vouch for): notifications, which has no database, refuses
such a token with reason `token_revoked`, and the client's refresh (which writes the record) repairs it.
user_management rebuilds a missing record from MongoDB.

Keys and channel live under SHARED_KEY_PREFIX, which both services read, as their own
REDIS_KEY_PREFIX may differ:

    <prefix>:authz:user:<user id>   hash {tv, active, orgActive, sid:<session id>...}, expiring with the longest-lived
                                    access token; a `sid:<id>` field marks one ended session (its tokens no longer hold)
    <prefix>:authz:changes          pub/sub channel: one message per change, the user id
"""
from collections import namedtuple

# Socket.IO: the event a server sends a client just before disconnecting it, and its reasons.
SESSION_ENDED_EVENT = "sessionEnded"
# B105: reason names, not secrets
TOKEN_EXPIRED = "token_expired"  # nosec B105
TOKEN_REVOKED = "token_revoked"  # nosec B105

UserState = namedtuple("UserState", "token_version active organization_active")

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


def announce(client, prefix, user_id):
    """Tell every listener that `user_id`'s record changed."""
    client.publish(changes_channel(prefix), str(user_id))


def _decode(values):
    if not values or values[0] is None:
        return None
    tv, active, organization_active = (int(value) for value in values)
    return UserState(tv, bool(active), bool(organization_active))


def read(client, prefix, user_id):
    """The stored state of `user_id`, or None when Redis has no record of it."""
    return _decode(client.hmget(user_key(prefix, user_id), "tv", "active", "orgActive"))


def read_record(client, prefix, user_id):
    """The whole record of `user_id` as {field: value} strings in one HGETALL, or None when Redis has none."""
    fields = client.hgetall(user_key(prefix, user_id))
    if not fields:
        return None
    return {_text(field): _text(value) for field, value in fields.items()}


def _text(value):
    return value.decode() if isinstance(value, bytes) else value


def session_field(session_id):
    """The record field that marks session `session_id` as ended."""
    return f"sid:{session_id}"


def record_holds(record, claims):
    """True when a token with `claims` holds under `record` (read_record's dict; None: unknown, so no).

    The token's session (claim `sid`, if any) must not be marked ended in the record.
    """
    if record is None or "tv" not in record:
        return False
    state = _decode([record.get("tv"), record.get("active", 0), record.get("orgActive", 0)])
    session_id = claims.get("sid")
    return holds(state, claims.get("tv")) and (session_id is None or session_field(session_id) not in record)


def read_many(client, prefix, user_ids):
    """{user id: state or None} for several users, in one round trip."""
    user_ids = list(dict.fromkeys(user_ids))
    pipe = client.pipeline(transaction=False)
    for user_id in user_ids:
        pipe.hmget(user_key(prefix, user_id), "tv", "active", "orgActive")
    return {user_id: _decode(values) for user_id, values in zip(user_ids, pipe.execute())}


def holds(state, token_version):
    """True when a token issued with `token_version` is still good under `state` (None: unknown, so no)."""
    return bool(state is not None and state.active and state.organization_active
                and token_version is not None and state.token_version == token_version)
