"""Every notifications HTTP operation, from its OpenAPI document: no 5xx, answers as documented."""
import pytest
import schemathesis

from notifications import create_app
from notifications.config import DEV_SERVICE_TOKEN
from support.contract import LiveApp, contract_config, contract_settings
from support.redis_store import REDIS_URL


def _document():
    """The OpenAPI document as the app serves it (read once, at collection)."""
    app = create_app({"APP_ENV": "testing", "REDIS_URL": REDIS_URL, "REDIS_KEY_PREFIX": "test-contract-document"})
    response = app.test_client().get("/api/openapi.json")
    assert response.status_code == 200
    return response.get_json()


schema = schemathesis.openapi.from_dict(_document(), config=contract_config())
schema.app = LiveApp()


@schema.auth(refresh_interval=None)
class ServiceToken:
    """The service credential on every generated request; negative cases still drop or spoil it."""

    def get(self, case, context):
        return DEV_SERVICE_TOKEN

    def set(self, case, data, context):
        case.headers = {**(case.headers or {}), "X-Service-Token": data}


@pytest.fixture
def live_app(redis_prefix):
    """A real notifications app (testing config: no background sender) on this test's Redis prefix."""
    app = create_app({"APP_ENV": "testing", "REDIS_URL": REDIS_URL, "REDIS_KEY_PREFIX": redis_prefix,
                      "SOCKETIO_CHANNEL": f"{redis_prefix}:socketio", "MAIL_BACKEND": "console"})
    schema.app.app = app
    yield app
    schema.app.app = None


@schema.parametrize()
@contract_settings
def test_notifications_contract(case, live_app):
    """No 5xx; documented status codes, content types, headers and bodies; the service token enforced."""
    case.call_and_validate()
