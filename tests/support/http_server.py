"""A threaded HTTP server on 127.0.0.1 for stand-in services (a JWKS endpoint, notifications' API).

    class Handler(QuietHandler):
        def do_GET(self):
            self.reply_json(200, {"ok": True})

    server = LocalServer(Handler).start()   # server.base_url, server.port
    server.stop()
"""
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class QuietHandler(BaseHTTPRequestHandler):
    """A request handler that logs nothing and answers JSON."""

    def reply_json(self, status, payload):
        """Answer `status` with `payload` as a JSON body."""
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        """Keep test output quiet."""


class LocalServer:
    """`handler_class` served on a free port of 127.0.0.1 from a daemon thread; `httpd` is the server."""

    def __init__(self, handler_class):
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler_class)
        self.httpd.daemon_threads = True
        self.thread = None

    @property
    def port(self):
        """The port it listens on."""
        return self.httpd.server_port

    @property
    def base_url(self):
        """http://127.0.0.1:<port>"""
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        """Serve in a background thread; returns self."""
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self):
        """Stop serving and close the socket."""
        self.httpd.shutdown()
        self.httpd.server_close()
