"""One JSON log line per request, an X-Request-ID on every request, and /metrics.

The logged path is the matched route pattern (`/api/invites/details/<token>`),
never the raw URL, and query strings are never logged, so one-time tokens in
links cannot reach the logs.
"""
import json
import logging
import os
import re
import sys
import time
import uuid

from flask import Response, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from pythonjsonlogger.json import JsonFormatter

REQUEST_ID_HEADER = "X-Request-ID"
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
access_log = logging.getLogger("access")
# The access line's own fields, in the order they are logged.
ACCESS_FIELDS = ("method", "path", "status", "duration_ms", "request_id", "remote_addr")


class ServiceJsonFormatter(JsonFormatter):
    """python-json-logger's formatter, with the access line (known fields, plain values) built in one json.dumps.

    The same keys in the same order as the generic path, without its scan of every record attribute.
    """

    def format(self, record):
        if record.name != access_log.name or record.exc_info or record.stack_info or record.args:
            return super().format(record)
        line = {"time": self.formatTime(record, self.datefmt), "level": record.levelname, "logger": record.name,
                "message": record.msg, **self.static_fields}
        for field in ACCESS_FIELDS:
            line[field] = getattr(record, field, None)
        return json.dumps(line)


def configure_logging(service, level="INFO"):
    """Send every log record to stdout as one JSON object (idempotent)."""
    root = logging.getLogger()
    if any(getattr(handler, "_servicekit", False) for handler in root.handlers):
        return
    handler = logging.StreamHandler(sys.stdout)
    handler._servicekit = True
    handler.setFormatter(ServiceJsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s",
                                       rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
                                       static_fields={"service": service}))
    handler.addFilter(_RequestIdFilter())
    root.addHandler(handler)
    root.setLevel(level)


class _RequestIdFilter(logging.Filter):
    """Stamp the current request id on records logged while serving a request."""

    def filter(self, record):
        if not hasattr(record, "request_id"):
            try:
                record.request_id = g.get("request_id")
            except RuntimeError:  # outside an app context
                record.request_id = None
        return True


def current_request_id():
    """The id of the request being served (None outside a request)."""
    try:
        return g.get("request_id")
    except RuntimeError:
        return None


class Metrics:
    """Request counters and latency histograms in a registry of the app's own."""

    def __init__(self, service):
        self.registry = CollectorRegistry()
        self.requests = Counter("http_requests_total", "HTTP requests served", ["service", "method", "endpoint", "status"],
                                registry=self.registry)
        self.latency = Histogram("http_request_duration_seconds", "HTTP request latency", ["service", "method", "endpoint"],
                                 registry=self.registry,
                                 buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
        self.service = service

    def counter(self, name, documentation, labelnames=()):
        """A service-specific counter in this registry."""
        return Counter(name, documentation, labelnames, registry=self.registry)

    def gauge(self, name, documentation, labelnames=()):
        """A service-specific gauge in this registry."""
        return Gauge(name, documentation, labelnames, registry=self.registry)

    def observe(self, method, endpoint, status, seconds):
        """Count one request."""
        self.requests.labels(self.service, method, endpoint, str(status)).inc()
        self.latency.labels(self.service, method, endpoint).observe(seconds)

    def exposition(self):
        """The registry in Prometheus text format."""
        return generate_latest(self.registry)


def init_observability(app, service):
    """Install JSON logging, request ids, the per-request log line and /metrics on `app`."""
    configure_logging(service, os.environ.get("LOG_LEVEL", "INFO"))
    metrics = Metrics(service)
    app.extensions["metrics"] = metrics

    @app.before_request
    def _start_request():
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        g.request_started = time.perf_counter()

    @app.after_request
    def _finish_request(response):
        started = g.pop("request_started", None)
        if started is None:
            return response
        duration = time.perf_counter() - started
        route = request.url_rule.rule if request.url_rule is not None else "<unmatched>"
        response.headers[REQUEST_ID_HEADER] = g.request_id
        if route != "/metrics":
            metrics.observe(request.method, route, response.status_code, duration)
        access_log.info("request", extra={
            "method": request.method,
            "path": route,
            "status": response.status_code,
            "duration_ms": round(duration * 1000, 2),
            "request_id": g.request_id,
            "remote_addr": request.remote_addr,
        })
        return response

    def metrics_view():
        return Response(metrics.exposition(), mimetype=CONTENT_TYPE_LATEST)

    app.add_url_rule("/metrics", "metrics", metrics_view)
    return metrics
