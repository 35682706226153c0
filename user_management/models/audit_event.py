"""AuditEvent: one security-relevant event, kept for AUDIT_RETENTION_DAYS."""
from mongoengine import DateTimeField, DictField, Document, StringField

from ..utils.timeutil import utcnow

LOGIN_SUCCESS = "login.success"
LOGIN_FAILURE = "login.failure"
ACCOUNT_LOCKED = "account.locked"
TWO_FACTOR_SUCCESS = "two_factor.success"
TWO_FACTOR_FAILURE = "two_factor.failure"
TWO_FACTOR_RESET = "two_factor.reset"
# A second step by `userId` alone from another client than the password step's: refused untouched.
TWO_FACTOR_FOREIGN_CLIENT = "two_factor.foreign_client_refused"
# B105: an audit event type
REFRESH_TOKEN_REUSE = "refresh_token.reuse_detected"  # nosec B105
# B105: an audit event type. A signed-out session tried to refresh: not an alarm.
REFRESH_TOKEN_REVOKED = "refresh_token.revoked_presented"  # nosec B105
LOGOUT_ALL = "logout.all"
# One session (a login's refresh-token family) signed out from the session list.
SESSION_ENDED = "session.ended"
PROFILE_UPDATED = "profile.updated"
# B105: an audit event type
PASSWORD_RESET = "password.reset"  # nosec B105
PASSWORD_CHANGED = "password.changed"  # nosec B105
# A wrong currentPassword where a signed-in user must confirm it (change password, authenticator, ...).
CURRENT_PASSWORD_FAILURE = "password.current_password_failure"  # nosec B105
INVITE_CREATED = "invite.created"
INVITE_ACCEPTED = "invite.accepted"
INVITE_REVOKED = "invite.revoked"
INVITE_RESENT = "invite.resent"
# A revoked or expired invite sent again as a new invite.
INVITE_REINVITED = "invite.reinvited"
USER_DEACTIVATED = "user.deactivated"
USER_REACTIVATED = "user.reactivated"
USER_UNLOCKED = "user.unlocked"
ORGANIZATION_TWO_FACTOR_CHANGED = "organization.two_factor_method_changed"
ORGANIZATION_DEACTIVATED = "organization.deactivated"
ORGANIZATION_REACTIVATED = "organization.reactivated"
PASSKEY_REGISTERED = "passkey.registered"
PASSKEY_USED = "passkey.used"
PASSKEY_REMOVED = "passkey.removed"

EVENT_TYPES = (
    LOGIN_SUCCESS, LOGIN_FAILURE, ACCOUNT_LOCKED, TWO_FACTOR_SUCCESS, TWO_FACTOR_FAILURE, TWO_FACTOR_RESET, TWO_FACTOR_FOREIGN_CLIENT,
    REFRESH_TOKEN_REUSE, REFRESH_TOKEN_REVOKED, LOGOUT_ALL, PASSWORD_RESET, PASSWORD_CHANGED, CURRENT_PASSWORD_FAILURE, INVITE_CREATED, INVITE_ACCEPTED,
    INVITE_REVOKED, INVITE_RESENT, USER_DEACTIVATED, USER_REACTIVATED, USER_UNLOCKED,
    ORGANIZATION_TWO_FACTOR_CHANGED, ORGANIZATION_DEACTIVATED, ORGANIZATION_REACTIVATED,
    PASSKEY_REGISTERED, PASSKEY_USED, PASSKEY_REMOVED, SESSION_ENDED, PROFILE_UPDATED, INVITE_REINVITED,
)


class AuditEvent(Document):
    """Who did what to whom, from where, when; never a secret.

    Ids are stored as strings, with the emails as they were at the time, so an
    event stays readable after its users change or disappear.
    """

    type = StringField(required=True, choices=EVENT_TYPES)
    actor_id = StringField(null=True, db_field="actorId")
    actor_email = StringField(null=True, db_field="actorEmail")
    target_id = StringField(null=True, db_field="targetId")
    target_email = StringField(null=True, db_field="targetEmail")
    organization_id = StringField(null=True, db_field="organizationId")
    ip = StringField(null=True)
    user_agent = StringField(null=True, db_field="userAgent")
    request_id = StringField(null=True, db_field="requestId")
    details = DictField()
    created_at = DateTimeField(default=utcnow, db_field="createdAt")
    # Set from AUDIT_RETENTION_DAYS when written; the TTL index deletes the event then.
    expires_at = DateTimeField(required=True, db_field="expiresAt")

    meta = {
        "collection": "audit_events",
        "auto_create_index": False,
        "indexes": [
            "-created_at",
            ("organization_id", "-created_at"),
            ("actor_id", "-created_at"),
            ("target_id", "-created_at"),
            ("type", "-created_at"),
            {"fields": ["expires_at"], "expireAfterSeconds": 0},
        ],
        "ordering": ["-created_at"],
    }
