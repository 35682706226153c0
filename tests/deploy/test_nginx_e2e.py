"""A real nginx on deploy/nginx.conf in front of real processes of both services, on the real Redis.

One stack per module (started once, ~3 s): the Debian nginx on the rendered
template (deploy.nginx_helpers), one user_management gunicorn (gthread,
in-memory MongoDB, bootstrap super admin, PROXY_COUNT=1), two notifications
gunicorns (eventlet) as the two servers of nginx's `ip_hash` upstream, and a
recording SMTP server. Everything started is stopped at teardown and the
module's Redis keys are deleted.

Client addresses: on Linux the whole of 127.0.0.0/8 is local, so a request
that leaves from 127.0.0.2 reaches nginx (listening on 127.0.0.1) with
$remote_addr 127.0.0.2. Each test uses its own source addresses, so the
login-failure budget one test exhausts is not the one another test logs in
with. `ip_hash` keys on the first three octets: 127.0.0.x and 127.0.1.x land
on different notifications servers (checked from nginx's access log, not
assumed).

Without nginx the module skips, unless REQUIRE_NGINX=1 (CI) makes it fail.
"""
import json
import os
import re
import threading
import uuid
from contextlib import ExitStack
from types import SimpleNamespace

import jwt
import pytest
import redis
import requests
import socketio.exceptions

from deploy.nginx_helpers import NGINX_TEMPLATE, read_access_log, render_nginx_conf, session_from
from notifications.config import DEV_SERVICE_TOKEN
from support.api import FRONTEND_ORIGIN, notifications_env
from support.jwks import keyset_file
from support.nginx import find_nginx, start_nginx, stop_nginx
from support.processes import (access_lines, free_port, start_notifications, start_user_management, stop_process,
                               wait_until)
from support.redis_store import REDIS_URL, delete_redis_keys
from support.smtp import SmtpServer
from support.sockets import connect_socket

pytestmark = pytest.mark.timeout(90)

FRONTEND_URL = "http://localhost:3000"
ADMIN_EMAIL = "admin@example.test"
ADMIN_PASSWORD = "Quartz-Lantern-Orbit-93"
HTTP_TIMEOUT = 10
INVITE_SUBJECT = "You're invited to User Management"
SECURITY_HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """Start SMTP, two notifications, user_management and nginx; yield their addresses and processes."""
    if find_nginx() is None:
        if os.environ.get("REQUIRE_NGINX", "") not in ("", "0"):
            pytest.fail("REQUIRE_NGINX is set but nginx is not installed")
        pytest.skip("nginx is not installed (apt-get install -y nginx)")

    prefix = f"test-{uuid.uuid4().hex[:12]}"
    with ExitStack() as stop:
        stop.callback(delete_redis_keys, prefix)
        smtp = SmtpServer().start()
        stop.callback(smtp.stop)

        # user_management's port is chosen first: notifications fetches its public keys from there.
        um_port = free_port()
        notif_env = notifications_env(prefix, smtp.port, um_port, REDIS_URL, DEV_SERVICE_TOKEN)
        # Both notifications processes start at once (each waits for its own /health).
        started, errors = [None, None], []

        def start(index):
            try:
                started[index] = start_notifications(notif_env, worker_class="eventlet")
            except Exception as exc:  # re-raised below, after both threads ended
                errors.append(exc)

        threads = [threading.Thread(target=start, args=(index,)) for index in (0, 1)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for result in started:
            if result is not None:
                stop.callback(stop_process, result[1])
        if errors:
            raise errors[0]
        (notif_a_url, notif_a), (notif_b_url, notif_b) = started

        um_url, um = start_user_management({
            "APP_ENV": "development",
            "MONGODB_URI": "",  # unset: the development default, mongomock inside the one worker
            "REDIS_URL": REDIS_URL,
            "REDIS_KEY_PREFIX": f"{prefix}-um",
            "SHARED_KEY_PREFIX": prefix,
            "SOCKETIO_CHANNEL": f"{prefix}-socketio",
            "PORT": str(um_port),
            "JWT_SIGNING_KEYS": str(keyset_file(tmp_path_factory.mktemp("keys"))),
            "NOTIFICATIONS_SERVICE_TOKEN": DEV_SERVICE_TOKEN,
            "NOTIFICATIONS_URL": notif_a_url,
            "FRONTEND_URL": FRONTEND_URL,
            "CORS_ORIGIN": FRONTEND_ORIGIN,
            "PROXY_COUNT": "1",
            "BOOTSTRAP_ADMIN_EMAIL": ADMIN_EMAIL,
            "BOOTSTRAP_ADMIN_PASSWORD": ADMIN_PASSWORD,
            # As user_management/gunicorn.conf.py in production: gunicorn keeps an idle
            # connection longer than nginx's upstream keepalive_timeout (4 s), so nginx never
            # reuses one gunicorn has just closed (a 502 on a POST); and it trusts no proxy
            # header itself, ProxyFix does.
            "GUNICORN_CMD_ARGS": "--keep-alive 10",
            "FORWARDED_ALLOW_IPS": "",
        })
        stop.callback(stop_process, um)

        port = free_port()
        notif_ports = [int(notif_a_url.rsplit(":", 1)[1]), int(notif_b_url.rsplit(":", 1)[1])]
        conf = render_nginx_conf(NGINX_TEMPLATE, int(um_url.rsplit(":", 1)[1]), notif_ports, port,
                                 tmp_path_factory.mktemp("nginx"))
        nginx = start_nginx(conf)
        stop.callback(stop_nginx, nginx)

        yield SimpleNamespace(
            url=f"http://127.0.0.1:{port}", conf=conf, nginx=nginx, prefix=prefix, smtp=smtp,
            um_url=um_url, um=um,
            notif_urls=[notif_a_url, notif_b_url], notif_upstreams=[f"127.0.0.1:{p}" for p in notif_ports],
            notifs=[notif_a, notif_b],
        )


# --- helpers ----------------------------------------------------------------------------------


def login(http, base_url, email=ADMIN_EMAIL, password=ADMIN_PASSWORD, headers=None):
    """POST /api/auth/login; return the response."""
    return http.post(f"{base_url}/api/auth/login", json={"email": email, "password": password},
                     headers=headers or {}, timeout=HTTP_TIMEOUT)


def admin_token(stack, http=requests):
    """An access token of the bootstrap super admin, logged in through nginx."""
    response = login(http, stack.url)
    assert response.status_code == 200, response.text
    return response.json()["accessToken"]


def nginx_lines(stack, **match):
    """nginx's access-log lines whose fields equal `match` (`uri_prefix` matches the start of the uri)."""
    uri_prefix = match.pop("uri_prefix", None)
    return [
        line for line in read_access_log(stack.conf)
        if all(line.get(k) == v for k, v in match.items())
        and (uri_prefix is None or line["uri"].startswith(uri_prefix))
    ]


def refused_over_polling(url, auth):
    """Connect to namespace "/" over raw Engine.IO long-polling; return the CONNECT_ERROR payload.

    Each request is a new connection, so ip_hash is what keeps them on one server. (Not
    python-socketio's client here: when a connection is refused it disconnects at once, and
    its write loop can exit without sending the CLOSE packet, leaving its last poll open until
    the server's next ping, 25 s later.)
    """
    endpoint = f"{url}/socket.io/"
    handshake = requests.get(endpoint, params={"EIO": "4", "transport": "polling"}, timeout=HTTP_TIMEOUT)
    assert handshake.status_code == 200 and handshake.text.startswith("0"), handshake.text
    params = {"EIO": "4", "transport": "polling", "sid": json.loads(handshake.text[1:])["sid"]}
    try:
        packet = "40" + (json.dumps(auth) if auth is not None else "")
        sent = requests.post(endpoint, params=params, data=packet, timeout=HTTP_TIMEOUT,
                             headers={"Content-Type": "text/plain;charset=UTF-8"})
        assert sent.status_code == 200, sent.text
        polled = requests.get(endpoint, params=params, timeout=HTTP_TIMEOUT)
        assert polled.status_code == 200, polled.text
        packets = polled.text.split("\x1e")
        errors = [json.loads(p[2:]) for p in packets if p.startswith("44")]
        assert len(errors) == 1 and not [p for p in packets if p.startswith("40")], packets
        return errors[0]
    finally:
        requests.post(endpoint, params=params, data="1", timeout=HTTP_TIMEOUT)  # Engine.IO CLOSE


def invite_link_token(stack, email, timeout=10):
    """The token of the accept link in the invite e-mail `email` received."""
    found = wait_until(
        lambda: [m for m in list(stack.smtp.messages) if m["To"] == email and m["Subject"] == INVITE_SUBJECT],
        timeout=timeout,
    )
    assert found, f"no invite e-mail to {email}; got {[(m['To'], m['Subject']) for m in stack.smtp.messages]}"
    text = found[0].get_body(("plain",)).get_content()
    match = re.search(re.escape(FRONTEND_URL) + r"/accept-invite\?token=([A-Za-z0-9_-]{43})", text)
    assert match, text
    return match.group(1)


# --- REST -------------------------------------------------------------------------------------


def test_rest_calls_work_through_nginx(stack):
    health = requests.get(f"{stack.url}/health", timeout=HTTP_TIMEOUT)
    assert health.status_code == 200, health.text
    assert health.json()["service"] == "user_management"
    assert health.json()["status"] == "ok"
    assert health.headers["Server"] == "nginx"  # server_tokens off: no version

    request_id = f"nginx-e2e-{uuid.uuid4().hex[:8]}"
    response = login(requests, stack.url, headers={"X-Request-ID": request_id})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["success"] is True and body["requiresTwoFactor"] is False
    assert body["accessToken"] and body["refreshToken"]
    assert body["user"]["email"] == ADMIN_EMAIL and body["user"]["role"] == "super_admin"
    # The id the client chose is the one nginx passes on, the app answers with and both log.
    assert response.headers["X-Request-ID"] == request_id
    assert wait_until(lambda: access_lines(stack.um, request_id=request_id), timeout=5)
    [app_line] = access_lines(stack.um, request_id=request_id)
    assert app_line["path"] == "/api/auth/login" and app_line["status"] == 200
    assert app_line["remote_addr"] == "127.0.0.1"
    # nginx logs a request only after it sent the response: wait for the line.
    assert wait_until(lambda: nginx_lines(stack, request_id=request_id), timeout=5)
    [proxy_line] = nginx_lines(stack, request_id=request_id)
    assert proxy_line["status"] == 200 and proxy_line["upstream"] == stack.um_url.removeprefix("http://")

    profile = requests.get(f"{stack.url}/api/auth/profile", timeout=HTTP_TIMEOUT,
                           headers={"Authorization": f"Bearer {body['accessToken']}", "X-Request-ID": "bad id!"})
    assert profile.status_code == 200, profile.text
    assert profile.json()["user"]["id"] == body["user"]["id"]
    # An id that does not look like one is replaced (by nginx's $request_id) before the app sees it.
    assert re.fullmatch(r"[0-9a-f]{32}", profile.headers["X-Request-ID"]), profile.headers
    for name, value in SECURITY_HEADERS.items():
        assert profile.headers.get(name) == value, (name, profile.headers)
    assert "default-src 'none'" in profile.headers["Content-Security-Policy"]

    unauthenticated = requests.get(f"{stack.url}/api/auth/profile", timeout=HTTP_TIMEOUT)
    assert unauthenticated.status_code == 401
    assert unauthenticated.headers["Content-Type"].startswith("application/json")


def test_public_keys_are_served_through_nginx(stack):
    """A product's backend fetches the JWKS at the public URL; it verifies a token logged in through nginx."""
    token = admin_token(stack)
    response = requests.get(f"{stack.url}/.well-known/jwks.json", timeout=HTTP_TIMEOUT)
    assert response.status_code == 200, response.text
    kid = jwt.get_unverified_header(token)["kid"]
    [jwk] = [key for key in response.json()["keys"] if key["kid"] == kid]
    assert "d" not in jwk  # the public half only
    claims = jwt.decode(token, jwt.PyJWK(jwk).key, algorithms=[jwk["alg"]], audience=FRONTEND_URL, issuer=FRONTEND_URL)
    assert claims["role"] == "super_admin"


# --- the rate limiter sees nginx's client address ---------------------------------------------


def test_limiter_keys_on_the_client_address_nginx_sets(stack):
    """Five failed logins from one client exhaust its budget whatever X-Forwarded-For it sends."""
    attacker, neighbour, direct = session_from("127.0.0.2"), session_from("127.0.0.3"), requests.Session()
    run = uuid.uuid4().hex[:8]

    def fail(http, base_url, who, headers=None):
        # A new unknown email each time, so only the per-client limit can be what refuses.
        return login(http, base_url, f"nobody-{who}-{run}@example.test", "Wrong-Password-123", headers=headers)

    try:
        statuses = []
        for attempt in range(1, 7):
            # A different spoofed address each time: were one believed, each attempt would get a fresh budget.
            spoofed = f"198.51.100.{attempt}"
            statuses.append(fail(attacker, stack.url, f"a{attempt}", headers={
                "X-Forwarded-For": spoofed, "X-Real-IP": spoofed, "Forwarded": f"for={spoofed}"}).status_code)
        assert statuses == [401] * 5 + [429], statuses
        blocked = login(attacker, stack.url)
        assert blocked.status_code == 429, blocked.text  # even the right password: the budget is gone
        # The limiter's answer (the login-failure limit of 5), not the per-account lockout's.
        assert blocked.json()["message"] == "Too many requests, please try again later"
        assert blocked.headers["X-RateLimit-Limit"] == "5", blocked.headers
        assert int(blocked.headers["Retry-After"]) > 0

        # The app saw nginx's client address, never a spoofed one.
        failed = access_lines(stack.um, path="/api/auth/login", status=401)
        assert not [line for line in failed if line["remote_addr"].startswith("198.51.100.")]
        assert sum(line["remote_addr"] == "127.0.0.2" for line in failed) == 5

        # Another client through the same nginx has a budget of its own.
        assert fail(neighbour, stack.url, "n").status_code == 401
        assert login(neighbour, stack.url).status_code == 200

        # The limiter reads the address from the one trusted proxy's X-Forwarded-For:
        # straight to user_management (PROXY_COUNT=1) the address given there decides the budget.
        fresh = fail(direct, stack.um_url, "d1", headers={"X-Forwarded-For": "203.0.113.9"})
        assert fresh.status_code == 401, fresh.text
        assert access_lines(stack.um, path="/api/auth/login", remote_addr="203.0.113.9", status=401)
        same = fail(direct, stack.um_url, "d2", headers={"X-Forwarded-For": "127.0.0.2"})
        assert same.status_code == 429, same.text
    finally:
        for session in (attacker, neighbour, direct):
            session.close()


# --- Socket.IO --------------------------------------------------------------------------------


def test_socketio_through_nginx_with_websocket_and_polling(stack):
    clients = []
    far_session = session_from("127.0.1.7")  # another /24: ip_hash picks the other server
    try:
        token = admin_token(stack)
        websocket = connect_socket(stack.url, token, FRONTEND_ORIGIN, ["websocket"])
        clients.append(websocket)
        polling = connect_socket(stack.url, token, FRONTEND_ORIGIN, ["polling"])
        clients.append(polling)
        far_polling = connect_socket(stack.url, token, FRONTEND_ORIGIN, ["polling"], http_session=far_session)
        clients.append(far_polling)
        assert websocket.transport() == "websocket"
        assert polling.transport() == far_polling.transport() == "polling"

        # Refused without a (valid) token, over either transport.
        with pytest.raises(socketio.exceptions.ConnectionError) as refused:
            connect_socket(stack.url, None, FRONTEND_ORIGIN, ["websocket"])
        assert refused.value.client.received == [("connect_error", {"message": "Authentication token required"})]
        assert refused_over_polling(stack.url, None) == {"message": "Authentication token required"}
        assert refused_over_polling(stack.url, {"token": "not-a-jwt"}) == {"message": "Invalid token"}

        # user_management emits `notification` to the inviter when an invite is accepted.
        invitee = f"operator-{uuid.uuid4().hex[:8]}@example.test"
        created = requests.post(f"{stack.url}/api/invites/create", timeout=HTTP_TIMEOUT,
                                headers={"Authorization": f"Bearer {token}"},
                                json={"email": invitee, "role": "operator"})
        assert created.status_code == 201, created.text
        accepted = requests.post(f"{stack.url}/api/invites/accept", timeout=HTTP_TIMEOUT, json={
            "token": invite_link_token(stack, invitee), "firstName": "Opal", "lastName": "Operator",
            "password": "Copper-Meadow-Falcon-58",
        })
        assert accepted.status_code == 201, accepted.text

        def notified(client):
            return [data for event, data in list(client.received)
                    if event == "notification" and data.get("type") == "inviteAccepted"
                    and data.get("data", {}).get("email") == invitee]

        for name, client in (("websocket", websocket), ("polling", polling), ("polling, 127.0.1.7", far_polling)):
            assert wait_until(lambda client=client: notified(client), timeout=10), (name, client.received)
            [payload] = notified(client)
            assert payload["data"]["inviteId"] == created.json()["invite"]["id"]
    finally:
        for client in clients:
            client.disconnect()
        far_session.close()

    # nginx's log (a line is written when its request or WebSocket ends): the WebSocket was
    # upgraded (101), and every request of each polling client went to one server (ip_hash),
    # a different one for each /24.
    def logged():
        lines = nginx_lines(stack, uri_prefix="/socket.io/")
        upgraded = any(line["status"] == 101 and "transport=websocket" in line["uri"] for line in lines)
        polled = all(sum(line["remote_addr"] == address and "transport=polling" in line["uri"] for line in lines) >= 3
                     for address in ("127.0.0.1", "127.0.1.7"))  # handshake, connect packet, polls
        return lines if upgraded and polled else None

    socket_lines = wait_until(logged, timeout=5)
    assert socket_lines, read_access_log(stack.conf)
    upstreams = {}
    for address in ("127.0.0.1", "127.0.1.7"):
        upstreams[address] = {line["upstream"] for line in socket_lines if line["remote_addr"] == address}
        assert len(upstreams[address]) == 1, (address, upstreams[address])
    assert upstreams["127.0.0.1"] | upstreams["127.0.1.7"] == set(stack.notif_upstreams), upstreams
    # nginx itself never failed a Socket.IO request (no 502/504). (A 400 can happen, from the
    # right server: the last poll of a session the server has just closed.)
    unexpected = [line for line in socket_lines if line["status"] >= 500]
    assert not unexpected, json.dumps(unexpected)


# --- internal endpoints -----------------------------------------------------------------------


def test_internal_endpoints_are_not_reachable_through_nginx(stack):
    run = uuid.uuid4().hex[:8]
    headers = {"X-Service-Token": DEV_SERVICE_TOKEN, "Content-Type": "application/json"}

    def email(to, key, base_url, request_id):
        return requests.post(f"{base_url}/api/email/send", timeout=HTTP_TIMEOUT,
                             headers={**headers, "Idempotency-Key": key, "X-Request-ID": request_id},
                             json={"to": to, "subject": "Hello", "html": "<p>Hello</p>", "text": "Hello"})

    blocked_to, blocked_key, blocked_id = f"blocked-{run}@example.test", f"blocked-{run}", f"blocked-{run}"
    through_nginx = email(blocked_to, blocked_key, stack.url, blocked_id)
    assert through_nginx.status_code == 404, through_nginx.text
    assert through_nginx.json() == {"success": False, "message": "Not found"}

    # The same request straight to a notifications server is accepted and sent, so the
    # 404 is nginx's doing; once that e-mail arrived, the blocked one would have too.
    control_to, control_key = f"control-{run}@example.test", f"control-{run}"
    direct = email(control_to, control_key, stack.notif_urls[1], f"control-{run}")
    assert direct.status_code == 202, direct.text
    assert wait_until(lambda: any(m["To"] == control_to for m in list(stack.smtp.messages)), timeout=10)
    assert not [m for m in list(stack.smtp.messages) if m["To"] == blocked_to]
    client = redis.Redis.from_url(REDIS_URL)
    try:
        assert list(client.scan_iter(match=f"*{control_key}*"))
        assert not list(client.scan_iter(match=f"*{blocked_key}*"))
    finally:
        client.close()
    assert wait_until(lambda: nginx_lines(stack, request_id=blocked_id), timeout=5)
    [line] = nginx_lines(stack, request_id=blocked_id)
    assert line["status"] == 404 and line["upstream"] == "", line  # answered by nginx, never proxied
    for process in stack.notifs:
        assert not access_lines(process, request_id=blocked_id)
    assert access_lines(stack.notifs[1], request_id=f"control-{run}", status=202)  # the log check can see

    metrics = requests.get(f"{stack.url}/metrics", timeout=HTTP_TIMEOUT)
    assert metrics.status_code == 404, metrics.text
    assert "# TYPE" not in metrics.text
    for base_url in (stack.um_url, stack.notif_urls[0]):
        direct_metrics = requests.get(f"{base_url}/metrics", timeout=HTTP_TIMEOUT)
        assert direct_metrics.status_code == 200, (base_url, direct_metrics.text)
        assert direct_metrics.headers["Content-Type"].startswith("text/plain"), direct_metrics.headers
        assert "# TYPE" in direct_metrics.text
