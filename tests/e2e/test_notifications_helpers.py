"""The process fixtures themselves: a notifications process starts, is healthy, restarts on its port."""
import pytest
import requests

from support.processes import stop_process, wait_until

pytestmark = pytest.mark.timeout(60)


def test_notifications_server_starts_and_restarts(notifications_server, smtp_server):
    """Start, stop, start again on the same port; e-mail queued while SMTP was down arrives after."""
    url, process = notifications_server()
    assert requests.get(f"{url}/health", timeout=5).json()["redis"] == {"ok": True}
    port = int(url.rsplit(":", 1)[1])
    body = {"to": "a@example.com", "template": "otp", "context": {"code": "123456"}}
    response = requests.post(f"{url}/api/email/send", json=body, timeout=5,
                             headers={"X-Service-Token": "dev-service-token-not-for-production-0000"})
    assert response.status_code == 202
    stop_process(process)
    smtp_server.start()
    url, _process = notifications_server(port=port)
    assert wait_until(lambda: smtp_server.messages, timeout=10)
    assert "123456" in smtp_server.messages[0].get_body(("plain",)).get_content()
