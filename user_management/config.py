"""Configuration classes, read from the environment.

`APP_ENV` picks the class (development, testing, production). Development and
testing carry safe, obviously fake secrets so `make dev` and `make test` work on a
fresh machine; production has no defaults for secrets and refuses to start when a
secret is missing, is one of the dev defaults, or is shorter than 32 bytes.
"""
import ipaddress
from datetime import timedelta
from urllib.parse import urlsplit

# ConfigurationError and the DEV_ secrets are part of this module's interface too.
from servicekit.config import (  # noqa: F401
    DEV_SERVICE_TOKEN, ConfigurationError, SharedConfig, config_picker, env_bool, env_float, env_int, env_list,
    env_str, refuse_wildcard_origin, require_production_secrets, require_settings,
)

from .utils.password_strength import DEFAULT_MIN_SCORE, strength_problems, user_inputs_for
from .utils.passwords import policy_problems
from .utils.relying_party import relying_party
from .utils.signing_keys import ALGORITHMS as SIGNING_ALGORITHMS
from .utils.signing_keys import KeySetError, read_keyset
from .utils.totp import cipher_from_keys

# B105: dev/test default; production refuses it (config.validate)
DEV_ACCESS_SECRET = "dev-access-secret-not-for-production-0000"  # nosec B105
DEV_REFRESH_SECRET = "dev-refresh-secret-not-for-production-000"  # nosec B105
# A Fernet key (urlsafe base64 of 32 bytes) used only by dev and test configs.
DEV_TOTP_ENCRYPTION_KEY = "ZGV2LXRvdHAta2V5LW5vdC1mb3ItcHJvZHVjdGlvbiE="
DEV_DEFAULT_SECRETS = {DEV_ACCESS_SECRET, DEV_REFRESH_SECRET, DEV_SERVICE_TOKEN, DEV_TOTP_ENCRYPTION_KEY}
# Dev's access-token signing keys: generated at the first start, shared by every dev process (git-ignored).
DEV_SIGNING_KEYS = "instance/jwt-signing-keys.json"  # relative to the working directory (the repository for make dev)


class Config(SharedConfig):
    """Settings shared by every environment (with those of `SharedConfig`)."""

    PORT = env_int("PORT", 3000)

    MONGODB_URI = env_str("MONGODB_URI", "mongomock://localhost/user_management")
    # How long a request waits for a usable MongoDB (primary) before answering 503.
    MONGODB_SERVER_SELECTION_TIMEOUT_MS = env_int("MONGODB_SERVER_SELECTION_TIMEOUT_MS", 5000)
    # Every Redis key and channel this service uses starts with this prefix, so
    # several deployments (or test runs) can share one Redis.
    REDIS_KEY_PREFIX = env_str("REDIS_KEY_PREFIX", "um")

    # Access tokens are signed with a private key of the keyset file JWT_SIGNING_KEYS (EdDSA or RS256) and
    # verified by anyone with the public keys at /.well-known/jwks.json. JWT_ACCESS_SECRET only keys
    # user_management's own HMACs (twoFactorTokens, code digests) and never leaves this service.
    JWT_ACCESS_SECRET = env_str("JWT_ACCESS_SECRET")
    JWT_ALGORITHM = env_str("JWT_ALGORITHM", "EdDSA")
    JWT_SIGNING_KEYS = env_str("JWT_SIGNING_KEYS")
    # `iss` and `aud` of access tokens; both default to FRONTEND_URL (the public URL).
    JWT_ISSUER = env_str("JWT_ISSUER")
    JWT_AUDIENCE = env_str("JWT_AUDIENCE")
    JWT_REFRESH_SECRET = env_str("JWT_REFRESH_SECRET")
    JWT_ACCESS_EXPIRES = timedelta(seconds=env_int("JWT_ACCESS_EXPIRES", 15 * 60))
    JWT_REFRESH_EXPIRES = timedelta(seconds=env_int("JWT_REFRESH_EXPIRES", 7 * 24 * 3600))
    # Absolute lifetime of a login's refresh-token family, however often it rotates.
    REFRESH_FAMILY_MAX_AGE = timedelta(seconds=env_int("REFRESH_FAMILY_MAX_AGE", 30 * 24 * 3600))
    JWT_TOKEN_LOCATION = ["headers"]

    INVITE_EXPIRES = timedelta(days=7)
    # Resending: one email per invite per interval, and this many resends per sender and hour.
    INVITE_RESEND_INTERVAL = timedelta(seconds=env_int("INVITE_RESEND_INTERVAL", 60))
    INVITE_RESENDS_PER_HOUR = env_int("INVITE_RESENDS_PER_HOUR", 20)
    # A multi-write step (creating an invite and its organization, accepting an invite) that
    # crashed half-way is taken over by a retry once this long has passed since it started.
    RECOVERY_LEASE = timedelta(seconds=env_int("RECOVERY_LEASE_SECONDS", 60))
    BCRYPT_ROUNDS = 12

    FRONTEND_URL = env_str("FRONTEND_URL", "http://localhost:3000").rstrip("/")
    NOTIFICATIONS_URL = env_str("NOTIFICATIONS_URL", "http://127.0.0.1:4000").rstrip("/")
    # Where browsers reach notifications' Socket.IO (the web console; its CSP connect-src allows it).
    NOTIFICATIONS_PUBLIC_URL = env_str("NOTIFICATIONS_PUBLIC_URL", "http://127.0.0.1:4000").rstrip("/")
    NOTIFICATIONS_TIMEOUT = env_float("NOTIFICATIONS_TIMEOUT", 3)
    # Seconds between outbox sweeps by the in-process deliverer; 0 turns it off.
    OUTBOX_POLL_INTERVAL = env_float("OUTBOX_POLL_INTERVAL", 10)
    OUTBOX_MAX_ATTEMPTS = env_int("OUTBOX_MAX_ATTEMPTS", 20)

    TOTP_ENCRYPTION_KEY = env_str("TOTP_ENCRYPTION_KEY")
    TOTP_ISSUER = env_str("TOTP_ISSUER", "User Management")
    # Steps of 30 s accepted either side of now: 2 (±1 minute) as the reference asks; each step still works once.
    TOTP_VALID_WINDOW = env_int("TOTP_VALID_WINDOW", 2)

    # Passkeys (WebAuthn). The relying party id and the origins default to FRONTEND_URL's host and origin;
    # production refuses a relying party id or origin that does not match FRONTEND_URL.
    WEBAUTHN_RP_ID = env_str("WEBAUTHN_RP_ID")
    WEBAUTHN_RP_NAME = env_str("WEBAUTHN_RP_NAME", "User Management")
    WEBAUTHN_ORIGINS = env_list("WEBAUTHN_ORIGINS")
    # A ceremony's challenge is single use and lives this long.
    WEBAUTHN_CHALLENGE_EXPIRES = timedelta(seconds=env_int("WEBAUTHN_CHALLENGE_EXPIRES", 300))
    PASSKEYS_PER_USER = env_int("PASSKEYS_PER_USER", 10)

    # Second factor: a login challenge (and its email code) lives this long and
    # survives this many wrong codes; failures across challenges are capped per user.
    TWO_FACTOR_CHALLENGE_EXPIRES = timedelta(seconds=env_int("TWO_FACTOR_CHALLENGE_EXPIRES", 10 * 60))
    TWO_FACTOR_MAX_ATTEMPTS = env_int("TWO_FACTOR_MAX_ATTEMPTS", 5)
    TWO_FACTOR_USER_MAX_FAILURES = env_int("TWO_FACTOR_USER_MAX_FAILURES", 20)
    TWO_FACTOR_USER_FAILURE_WINDOW = timedelta(seconds=env_int("TWO_FACTOR_USER_FAILURE_WINDOW", 3600))
    OTP_RESEND_INTERVAL = timedelta(seconds=env_int("OTP_RESEND_INTERVAL", 30))
    OTP_RESENDS_PER_HOUR = env_int("OTP_RESENDS_PER_HOUR", 5)
    OTP_RESEND_WINDOW = timedelta(hours=1)
    RECOVERY_CODE_COUNT = env_int("RECOVERY_CODE_COUNT", 10)

    PASSWORD_RESET_EXPIRES = timedelta(seconds=env_int("PASSWORD_RESET_EXPIRES", 3600))
    # Reset emails per account and window; more requests still answer 200 but send nothing.
    PASSWORD_RESET_EMAILS_PER_HOUR = env_int("PASSWORD_RESET_EMAILS_PER_HOUR", 5)
    PASSWORD_RESET_EMAIL_WINDOW = timedelta(hours=1)
    # forgot-password answers no sooner than this, so a known email (which sends
    # an email) and an unknown one take the same time.
    FORGOT_PASSWORD_MIN_SECONDS = env_float("FORGOT_PASSWORD_MIN_SECONDS", 0.5)
    # zxcvbn score (0-4) a new password must reach.
    PASSWORD_MIN_SCORE = env_int("PASSWORD_MIN_SCORE", 3)

    # Per-account lockout (on top of the per-IP limits): LOCKOUT_THRESHOLD consecutive
    # failures lock the account (or unknown email) for the next delay of LOCKOUT_DELAYS,
    # seconds, growing and then staying at the last one. LOCKOUT_MEMORY seconds without a
    # failure forget the count and the delay level. The same rule guards second-factor codes
    # (per user) and invite or reset tokens (per client IP).
    LOCKOUT_THRESHOLD = env_int("LOCKOUT_THRESHOLD", 10)
    LOCKOUT_DELAYS = tuple(int(v) for v in env_list("LOCKOUT_DELAYS", "60,300,900"))
    LOCKOUT_MEMORY = timedelta(seconds=env_int("LOCKOUT_MEMORY", 24 * 3600))
    # Hard cap whatever the IP (ASVS 2.2.1): failed logins per account and hour.
    LOGIN_MAX_FAILURES_PER_HOUR = env_int("LOGIN_MAX_FAILURES_PER_HOUR", 100)
    LOGIN_FAILURE_WINDOW = timedelta(hours=1)

    # Security audit log: events are deleted this many days after they happened (TTL index).
    AUDIT_RETENTION_DAYS = env_int("AUDIT_RETENTION_DAYS", 365)

    RATELIMIT_ENABLED = env_bool("RATELIMIT_ENABLED", True)
    # Per IP, every API request without a valid access token.
    RATELIMIT_API = env_str("RATELIMIT_API", "100 per 15 minutes")
    # Per user, every API request with a valid access token: a person working all day in the console never
    # reaches it (one action costs a few requests), while a runaway script is stopped (docs/security.md).
    RATELIMIT_USER = env_str("RATELIMIT_USER", "3000 per 15 minutes")
    RATELIMIT_LOGIN_FAILURES = env_str("RATELIMIT_LOGIN_FAILURES", "5 per 15 minutes")
    # Per IP, shared by verify-otp, verify-totp, verify-recovery-code and totp/confirm.
    RATELIMIT_TWO_FACTOR = env_str("RATELIMIT_TWO_FACTOR", "30 per 15 minutes")
    RATELIMIT_OTP_RESEND = env_str("RATELIMIT_OTP_RESEND", "10 per hour")
    # Per IP, shared by forgot-password and reset-password.
    RATELIMIT_PASSWORD_RESET = env_str("RATELIMIT_PASSWORD_RESET", "10 per hour")
    RATELIMIT_PASSWORD_CHANGE = env_str("RATELIMIT_PASSWORD_CHANGE", "10 per hour")
    # Number of reverse proxies in front of the service whose X-Forwarded-* to trust. 0 everywhere by
    # default: trusting a proxy that is not there lets any client choose the IP the limits key on.
    PROXY_COUNT = env_int("PROXY_COUNT", 0)
    FORCE_HTTPS = env_bool("FORCE_HTTPS", False)

    BOOTSTRAP_ADMIN_EMAIL = env_str("BOOTSTRAP_ADMIN_EMAIL")
    BOOTSTRAP_ADMIN_PASSWORD = env_str("BOOTSTRAP_ADMIN_PASSWORD")

    MAX_CONTENT_LENGTH = 64 * 1024

    @classmethod
    def validate(cls, settings):
        """Raise ConfigurationError when `settings` cannot run; called by the factory."""
        require_settings(settings, ("JWT_ACCESS_SECRET", "JWT_REFRESH_SECRET"))
        cipher_from_keys(settings.get("TOTP_ENCRYPTION_KEY"))
        refuse_wildcard_origin(settings)
        check_bootstrap_admin(settings)


def check_bootstrap_admin(settings):
    """The bootstrap admin's password must pass the same policy as any new password, checked before start-up."""
    email, password = settings.get("BOOTSTRAP_ADMIN_EMAIL"), settings.get("BOOTSTRAP_ADMIN_PASSWORD")
    if not (email and password):
        return
    if "@" not in email:
        raise ConfigurationError(f"BOOTSTRAP_ADMIN_EMAIL is not an email address: {email!r}")
    problems = policy_problems(password) or strength_problems(
        password, user_inputs_for(email, "Super", "Admin"), settings.get("PASSWORD_MIN_SCORE", DEFAULT_MIN_SCORE))
    if problems:
        reasons = " ".join(problem if problem.endswith(".") else f"{problem}." for problem in problems)
        raise ConfigurationError(f"BOOTSTRAP_ADMIN_PASSWORD is refused by the password policy: {reasons}")


class DevelopmentConfig(Config):
    """`make dev`: embedded database, fake secrets, single process."""

    ENV_NAME = "development"
    DEBUG = False
    JWT_ACCESS_SECRET = env_str("JWT_ACCESS_SECRET", DEV_ACCESS_SECRET)
    JWT_REFRESH_SECRET = env_str("JWT_REFRESH_SECRET", DEV_REFRESH_SECRET)
    JWT_SIGNING_KEYS = env_str("JWT_SIGNING_KEYS", DEV_SIGNING_KEYS)
    NOTIFICATIONS_SERVICE_TOKEN = env_str("NOTIFICATIONS_SERVICE_TOKEN", DEV_SERVICE_TOKEN)
    TOTP_ENCRYPTION_KEY = env_str("TOTP_ENCRYPTION_KEY", DEV_TOTP_ENCRYPTION_KEY)


class TestingConfig(DevelopmentConfig):
    """The test suite: fast hashing, isolated Redis keys, no background threads."""

    ENV_NAME = "testing"
    TESTING = True
    BCRYPT_ROUNDS = 4
    MONGODB_URI = env_str("MONGODB_URI", "mongomock://localhost/test_user_management")
    # Unset: each app signs with a key generated in memory (tests that need a file set one).
    JWT_SIGNING_KEYS = env_str("TEST_JWT_SIGNING_KEYS")
    OUTBOX_POLL_INTERVAL = 0
    NOTIFICATIONS_URL = env_str("TEST_NOTIFICATIONS_URL", "http://127.0.0.1:9")
    NOTIFICATIONS_TIMEOUT = 0.5


class ProductionConfig(Config):
    """Deployed: no secret defaults, HSTS. PROXY_COUNT stays 0 unless set: compose sets 1 for its nginx."""

    ENV_NAME = "production"
    MONGODB_URI = env_str("MONGODB_URI")

    @classmethod
    def validate(cls, settings):
        """Refuse missing, default or short secrets and an in-memory database."""
        super().validate(settings)
        require_production_secrets(
            settings,
            ("JWT_ACCESS_SECRET", "JWT_REFRESH_SECRET", "NOTIFICATIONS_SERVICE_TOKEN", "TOTP_ENCRYPTION_KEY"),
            DEV_DEFAULT_SECRETS,
        )
        if not settings.get("MONGODB_URI") or settings["MONGODB_URI"].startswith("mongomock://"):
            raise ConfigurationError("MONGODB_URI must point at a real MongoDB in production")
        require_signing_keys(settings)
        require_matching_relying_party(settings)


def require_signing_keys(settings):
    """Production signs access tokens with a private key from a keyset file: refuse to start without one."""
    path = settings.get("JWT_SIGNING_KEYS")
    if not path:
        raise ConfigurationError("JWT_SIGNING_KEYS must name the keyset file in production "
                                 "(flask --app wsgi:user_management_app keys generate)")
    try:
        key = read_keyset(path).signing_key
    except KeySetError as error:
        raise ConfigurationError(f"JWT_SIGNING_KEYS: {error}") from None
    if key is None:
        raise ConfigurationError("JWT_SIGNING_KEYS has no signing key; run `keys rotate`")
    algorithm = settings.get("JWT_ALGORITHM") or "EdDSA"
    if algorithm not in SIGNING_ALGORITHMS:
        raise ConfigurationError(f"JWT_ALGORITHM must be one of {', '.join(SIGNING_ALGORITHMS)} (asymmetric)")
    if key.alg != algorithm:
        raise ConfigurationError(f"the signing key is {key.alg} but JWT_ALGORITHM is {algorithm}")


def require_matching_relying_party(settings):
    """Passkeys are bound to a domain: refuse an rp id or origin that FRONTEND_URL does not match."""
    rp_id, _, origins = relying_party(settings)
    frontend = urlsplit(settings.get("FRONTEND_URL") or "")
    try:
        ipaddress.ip_address(rp_id)
        raise ConfigurationError("WEBAUTHN_RP_ID must be a domain name, not an IP address")
    except ValueError:
        pass
    if f"{frontend.scheme}://{frontend.netloc}" not in origins:
        raise ConfigurationError("WEBAUTHN_ORIGINS must include the origin of FRONTEND_URL")
    for origin in origins:
        parts = urlsplit(origin)
        host = (parts.hostname or "").lower()
        # Browsers offer WebAuthn only in a secure context: https, or http on localhost.
        if parts.scheme != "https" and not (host == "localhost" or host.endswith(".localhost")):
            raise ConfigurationError(f"passkey origin {origin} must use https in production")
        if not rp_id or not (host == rp_id or host.endswith("." + rp_id)):
            raise ConfigurationError(f"WEBAUTHN_RP_ID {rp_id!r} does not match the origin {origin}")


config_for = config_picker(DevelopmentConfig, TestingConfig, ProductionConfig)
