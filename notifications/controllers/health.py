"""Reachability of the service's dependencies."""
import smtplib

import redis
from flask import current_app

from ..utils.redis import get_redis


def check_health():
    """Return {"ok", "redis", "smtp"}; ok is False when Redis is unreachable."""
    config = current_app.config
    redis_up = redis_ok()
    smtp = {"backend": config["MAIL_BACKEND"], "ok": True}
    if config["MAIL_BACKEND"] == "smtp":
        smtp["ok"] = _smtp_ok(config)
    # SMTP down only delays e-mail (jobs wait in the queue), so it does not fail the check.
    return {"ok": redis_up, "redis": {"ok": redis_up}, "smtp": smtp}


def redis_ok():
    """Return True when Redis answers PING."""
    try:
        return bool(get_redis().ping())
    except redis.RedisError:
        return False


def _smtp_ok(config):
    """Return True when the SMTP server answers NOOP."""
    cls = smtplib.SMTP_SSL if config["MAIL_USE_SSL"] else smtplib.SMTP
    try:
        with cls(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=min(2, config["SMTP_TIMEOUT"])) as smtp:
            return smtp.noop()[0] == 250
    except (smtplib.SMTPException, OSError):
        return False
