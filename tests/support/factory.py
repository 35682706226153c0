"""Test data straight into the database, and the guard that keeps tests off real databases."""
import os
import uuid
from urllib.parse import urlparse, urlunparse

from flask_jwt_extended import create_access_token

from user_management.models import Invite, Organization, User
from user_management.utils.passwords import hash_password
from user_management.utils.roles import CLIENT_ADMIN, CLIENT_USER, is_staff
from user_management.utils.timeutil import utcnow
from user_management.utils.tokens import new_token, token_digest

PASSWORD = "Correct-Horse-42"


def test_database_uri(name):
    """The database URI for one test: the configured server, a database name that starts with test_."""
    base = os.environ.get("MONGODB_URI") or "mongomock://localhost/"
    uri = urlunparse(urlparse(base)._replace(path=f"/{name}"))
    if not urlparse(uri).path.lstrip("/").startswith("test_"):
        raise RuntimeError(f"refusing to run tests against a database not named test_*: {uri}")
    return uri


test_database_uri.__test__ = False  # a helper, not a test, though its name starts with test_


class Factory:
    """Builds users, organizations and invites directly in the database."""

    def __init__(self, app):
        self.app = app
        self.count = 0

    def _unique(self):
        self.count += 1
        return f"{self.count}-{uuid.uuid4().hex[:6]}"

    def organization(self, name=None, **fields):
        """An organization."""
        return Organization(name=name or f"Org {self._unique()}", **fields).save()

    def user(self, role, organization=None, password=PASSWORD, email=None, **fields):
        """An active user of `role`; client roles get an organization when none is given."""
        if not is_staff(role) and organization is None:
            organization = self.organization()
        return User(
            email=email or f"{role}-{self._unique()}@example.test",
            password_hash=hash_password(password, self.app.config["BCRYPT_ROUNDS"]),
            first_name=role.replace("_", " ").title(),
            last_name="Tester",
            role=role,
            organization=organization,
            **fields,
        ).save()

    def invite(self, inviter, role, email=None, organization=None, expires_at=None, **fields):
        """A pending invite; returns (invite, plaintext token)."""
        if organization is None and role in (CLIENT_ADMIN, CLIENT_USER):
            organization = inviter.organization if role == CLIENT_USER else self.organization()
        token = new_token()
        invite = Invite(
            email=email or f"invitee-{self._unique()}@example.test",
            role=role,
            organization=organization,
            invited_by=inviter,
            token_hash=token_digest(token),
            expires_at=expires_at or utcnow() + self.app.config["INVITE_EXPIRES"],
            **fields,
        ).save()
        return invite, token

    def headers(self, user):
        """Authorization headers with a fresh access token for `user`."""
        user.reload()
        return {"Authorization": f"Bearer {create_access_token(identity=user)}"}
