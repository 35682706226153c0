"""deploy/nginx.conf: it renders for tests, `nginx -t` accepts it, and it routes as promised.

The routing checks use tiny echo servers as upstreams, not the real services
(the end-to-end test against both services comes later). Without nginx these
tests skip, unless REQUIRE_NGINX=1 (CI) turns the skip into a failure.
"""
import json
import os
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from deploy.nginx_helpers import NGINX_TEMPLATE, render_nginx_conf
from support.nginx import check_nginx_conf, find_nginx, start_nginx, stop_nginx
from support.processes import free_port


def _code_lines():
    """Return the template's non-comment, non-blank lines, stripped."""
    lines = (line.split("#", 1)[0].strip() for line in NGINX_TEMPLATE.read_text().splitlines())
    return [line for line in lines if line]


@pytest.fixture(scope="module")
def nginx_required():
    """Skip when nginx is missing, or fail when REQUIRE_NGINX=1."""
    if find_nginx() is None:
        if os.environ.get("REQUIRE_NGINX") == "1":
            pytest.fail("REQUIRE_NGINX=1 but nginx is not installed")
        pytest.skip("nginx is not installed (apt-get install -y nginx)")


class _Echo(BaseHTTPRequestHandler):
    """Answer every request with the upstream's name, the path and the headers it got."""

    def _reply(self):
        body = json.dumps(
            {"upstream": self.server.name, "path": self.path, "headers": dict(self.headers.items())}
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _reply

    def log_message(self, *args):
        """Keep test output quiet."""


@pytest.fixture(scope="module")
def echo_upstreams():
    """Start two echo servers on loopback, named user_management and notifications."""
    servers = []
    for name in ("user_management", "notifications"):
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
        server.name = name
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
    yield {s.name: s.server_address[1] for s in servers}
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def proxy(nginx_required, echo_upstreams, tmp_path_factory):
    """Run the rendered nginx in front of the echo servers; yield its base URL."""
    port = free_port()
    conf = render_nginx_conf(
        NGINX_TEMPLATE,
        echo_upstreams["user_management"],
        [echo_upstreams["notifications"]],
        port,
        tmp_path_factory.mktemp("nginx"),
    )
    proc = start_nginx(conf)
    yield f"http://127.0.0.1:{port}"
    stop_nginx(proc)


def _get(url, headers=None, data=None):
    """Return (status, parsed JSON body) for a request, errors included."""
    request = urllib.request.Request(url, headers=headers or {}, data=data)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        body = exc.read()
        return exc.code, json.loads(body) if body.startswith(b"{") else body.decode()


def test_render_rewrites_every_target_once(tmp_path):
    conf = render_nginx_conf(NGINX_TEMPLATE, 3001, [4001, 4002, "127.0.0.2:4003"], 8081, tmp_path)
    text = conf.read_text()
    code = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]
    assert "server 127.0.0.1:3001;" in code
    assert [line for line in code if line.startswith("server 127.0.0.")][1:] == [
        "server 127.0.0.1:4001;",
        "server 127.0.0.1:4002;",
        "server 127.0.0.2:4003;",
    ]
    assert "listen 127.0.0.1:8081;" in code
    assert "user nginx;" not in code
    assert f"pid {tmp_path / 'nginx.pid'};" in code
    for line in code:
        assert "user_management:3000" not in line and "notifications:4000" not in line
        assert "/var/" not in line, line


def test_render_refuses_a_template_that_drifted(tmp_path):
    template = tmp_path / "drifted.conf"
    template.write_text(NGINX_TEMPLATE.read_text().replace("server notifications:4000;", "server notif:4000;"))
    with pytest.raises(ValueError, match="notifications:4000"):
        render_nginx_conf(template, 3001, [4001], 8081, tmp_path / "out")


def test_template_promises():
    code = _code_lines()
    assert "server_tokens off;" in code
    assert "client_max_body_size 64k;" in code
    # One trusted proxy: overwrite X-Forwarded-For, never append to it.
    assert not any("$proxy_add_x_forwarded_for" in line for line in code)
    assert code.count("proxy_set_header X-Forwarded-For $remote_addr;") == 2
    assert not any(line.startswith("include") for line in code)
    upstream = code[code.index("upstream notifications {") + 1]
    assert upstream == "ip_hash;"


def test_rendered_conf_passes_nginx_t(nginx_required, tmp_path):
    conf = render_nginx_conf(NGINX_TEMPLATE, 3001, [4001, 4002], free_port(), tmp_path)
    result = check_nginx_conf(conf)
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


@pytest.mark.parametrize(
    "path", ["/api/email/send", "/api/email", "/api/email/anything", "/api//email/send", "/api/%65mail/send", "/metrics"]
)
def test_internal_paths_are_not_routed(proxy, path):
    status, body = _get(proxy + path)
    assert status == 404
    assert body == {"success": False, "message": "Not found"}


@pytest.mark.parametrize(
    "path, upstream",
    [
        ("/api/auth/login", "user_management"),
        ("/health", "user_management"),
        ("/", "user_management"),
        ("/socket.io/?EIO=4&transport=polling", "notifications"),
    ],
)
def test_routes(proxy, path, upstream):
    status, body = _get(proxy + path)
    assert status == 200
    assert body["upstream"] == upstream
    assert body["path"] == path


def test_forwarded_headers_cannot_be_spoofed(proxy):
    status, body = _get(
        proxy + "/api/me",
        headers={
            "X-Forwarded-For": "6.6.6.6",
            "X-Real-IP": "6.6.6.6",
            "X-Forwarded-Proto": "https",
            "X-Forwarded-Host": "evil.example",
            "X-Forwarded-Prefix": "/evil",
            "Forwarded": "for=6.6.6.6",
        },
    )
    headers = body["headers"]
    assert headers["X-Forwarded-For"] == "127.0.0.1"
    assert headers["X-Real-IP"] == "127.0.0.1"
    assert headers["X-Forwarded-Proto"] == "http"
    assert headers["X-Forwarded-Host"] == "127.0.0.1"
    assert "Forwarded" not in headers
    assert "X-Forwarded-Prefix" not in headers


def test_request_id_is_kept_when_sane_and_generated_otherwise(proxy):
    _, body = _get(proxy + "/api/me", headers={"X-Request-ID": "client-id-1234"})
    assert body["headers"]["X-Request-ID"] == "client-id-1234"
    for bad in ("bad id\tinjected", "x" * 65, "a:b"):
        _, body = _get(proxy + "/api/me", headers={"X-Request-ID": bad})
        generated = body["headers"]["X-Request-ID"]
        assert len(generated) == 32 and int(generated, 16) >= 0
    _, body = _get(proxy + "/api/me")
    assert len(body["headers"]["X-Request-ID"]) == 32


def test_socket_io_passes_websocket_upgrade(proxy):
    _, body = _get(
        proxy + "/socket.io/?EIO=4&transport=websocket",
        headers={"Upgrade": "websocket", "Connection": "Upgrade"},
    )
    assert body["headers"]["Upgrade"] == "websocket"
    assert body["headers"]["Connection"].lower() == "upgrade"
    # Plain API calls keep the upstream connection alive instead.
    _, body = _get(proxy + "/api/me", headers={"Upgrade": "websocket", "Connection": "Upgrade"})
    assert "Upgrade" not in body["headers"]


def test_large_bodies_are_refused(proxy):
    status, _ = _get(proxy + "/api/auth/login", data=b"x" * (65 * 1024))
    assert status == 413
