"""The cheap per-request hooks: the access line in one json.dumps, security headers computed once, CORS only when asked."""
import json
import logging

from pythonjsonlogger.json import JsonFormatter

from servicekit.observability import ServiceJsonFormatter, access_log

FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
RENAMES = {"asctime": "time", "levelname": "level", "name": "logger"}


def access_record():
    record = logging.LogRecord(access_log.name, logging.INFO, __file__, 1, "request", None, None)
    for field, value in {"method": "GET", "path": "/api/auth/profile", "status": 200, "duration_ms": 1.25,
                         "request_id": "abc", "remote_addr": "127.0.0.1"}.items():
        setattr(record, field, value)
    return record


def test_the_access_line_is_the_line_the_generic_formatter_writes():
    options = dict(rename_fields=RENAMES, static_fields={"service": "user_management"})
    record = access_record()
    fast, generic = ServiceJsonFormatter(FORMAT, **options).format(record), JsonFormatter(FORMAT, **options).format(record)
    assert fast == generic
    assert list(json.loads(fast))[-6:] == ["method", "path", "status", "duration_ms", "request_id", "remote_addr"]


def test_other_records_take_the_generic_path():
    options = dict(rename_fields=RENAMES, static_fields={"service": "s"})
    record = logging.LogRecord("app", logging.WARNING, __file__, 1, "went %s", ("wrong",), None)
    record.user_id = "u1"
    assert json.loads(ServiceJsonFormatter(FORMAT, **options).format(record))["user_id"] == "u1"
    assert ServiceJsonFormatter(FORMAT, **options).format(record) == JsonFormatter(FORMAT, **options).format(record)
