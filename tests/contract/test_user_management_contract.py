"""Every user_management operation, from its OpenAPI document: no 5xx, answers as documented."""
import mongoengine
import pytest
import schemathesis
from flask_jwt_extended import create_access_token

from support.contract import LiveApp, contract_config, contract_settings
from support.factory import Factory
from user_management import create_app
from user_management.config import TestingConfig
from user_management.utils.roles import CLIENT_ADMIN, SUPER_ADMIN

# Organization endpoints are tried as a client_admin (staff have no organization), the rest as super_admin.
ORGANIZATION_PATHS = ("/api/organization",)


def _document():
    """The OpenAPI document as the app serves it (read once, at collection)."""
    app = create_app(TestingConfig, MONGODB_URI="mongomock://localhost/test_contract_document")
    response = app.test_client().get("/api/openapi.json")
    mongoengine.disconnect()
    assert response.status_code == 200
    return response.get_json()


schema = schemathesis.openapi.from_dict(_document(), config=contract_config())
schema.app = LiveApp()
live = {}


LIVE_TOKEN = "live-access-token"  # stands for a real token until the test runs (see test body)


def fresh_token(case):
    """A token minted now for the caller of this operation (logout-all may have revoked the last one)."""
    role = CLIENT_ADMIN if case.operation.path.startswith(ORGANIZATION_PATHS) else SUPER_ADMIN
    user = live["callers"][role]
    with live["app"].app_context():
        user.reload()
        return create_access_token(identity=user)


@schema.auth(refresh_interval=None)
class FreshAccessToken:
    """Authenticates every generated request; Schemathesis' own negative cases still drop or spoil it."""

    def get(self, case, context):
        # Some cases are generated while collecting, before any app exists: they carry a placeholder.
        return fresh_token(case) if live else LIVE_TOKEN

    def set(self, case, data, context):
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


@pytest.fixture
def live_app(app_factory):
    """A real app with rate limits off, and the callers the tokens are minted for."""
    app = app_factory(RATELIMIT_ENABLED=False)
    with app.app_context():
        factory = Factory(app)
        live.update(app=app, callers={role: factory.user(role) for role in (SUPER_ADMIN, CLIENT_ADMIN)})
    schema.app.app = app
    yield app
    schema.app.app = None
    live.clear()


@schema.parametrize()
@contract_settings
def test_user_management_contract(case, live_app):
    """No 5xx; documented status codes, content types, headers and bodies; auth enforced."""
    if (case.headers or {}).get("Authorization") == f"Bearer {LIVE_TOKEN}":
        case.headers["Authorization"] = f"Bearer {fresh_token(case)}"
    case.call_and_validate()
