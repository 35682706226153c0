"""Browser-facing protections of the web blueprint: the pages' CSP, the CSRF check, cookie flags."""
import hmac
import secrets
from collections.abc import Mapping
from urllib.parse import urlsplit

from flask import current_app, request

from ..exceptions import Forbidden

CSRF_COOKIE = "um_csrf"
CSRF_HEADER = "X-CSRF-Token"
CROSS_SITE_REFUSED = "Cross-site request refused"


def origin_of(url):
    """`scheme://host[:port]` of a URL, lower-cased; None when it has no scheme or host."""
    parts = urlsplit(url or "")
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


def websocket_origin(origin):
    """The ws:// (or wss://) twin of an http(s) origin."""
    if origin.startswith("https://"):
        return "wss://" + origin[len("https://"):]
    if origin.startswith("http://"):
        return "ws://" + origin[len("http://"):]
    return origin


class PagePolicy(Mapping):
    """The pages' Content-Security-Policy, as a mapping talisman renders per request.

    A mapping rather than a dict because connect-src depends on the app's
    NOTIFICATIONS_PUBLIC_URL, which talisman's per-view options (fixed when the
    view is decorated) cannot read; talisman calls `items()` while answering a
    request, when `current_app` is the right app.
    """

    def _policy(self):
        notifications = origin_of(current_app.config["NOTIFICATIONS_PUBLIC_URL"])
        connect = ["'self'"] + ([notifications, websocket_origin(notifications)] if notifications else [])
        return {
            "default-src": "'none'",
            "script-src": "'self'",
            "style-src": "'self'",
            # data: for the TOTP QR code, which the API returns as a data: URL
            "img-src": "'self' data:",
            "connect-src": " ".join(connect),
            "form-action": "'self'",
            "base-uri": "'none'",
            "object-src": "'none'",
            "frame-ancestors": "'none'",
        }

    def __getitem__(self, key):
        return self._policy()[key]

    def __iter__(self):
        return iter(self._policy())

    def __len__(self):
        return len(self._policy())


PAGE_CSP = PagePolicy()


def cookie_secure():
    """Secure cookies in production (and whenever HTTPS is forced); dev and tests run on plain http."""
    return current_app.config["ENV_NAME"] == "production" or bool(current_app.config.get("FORCE_HTTPS"))


def allowed_origins():
    """Origins that may call the cookie endpoints: this service as the browser sees it, and FRONTEND_URL."""
    return {origin for origin in (origin_of(request.host_url), origin_of(current_app.config["FRONTEND_URL"]))
            if origin}


def ensure_csrf_token(response):
    """Give the browser a CSRF token cookie (double-submit) when it has none."""
    if request.cookies.get(CSRF_COOKIE):
        return response
    response.set_cookie(CSRF_COOKIE, secrets.token_urlsafe(32), path="/", secure=cookie_secure(), httponly=False,
                        samesite="Strict")
    return response


def check_same_origin_request():
    """Refuse a cookie-session request unless it comes from our own pages.

    Two independent checks: the Origin header (or, when a browser sends none,
    the Referer) must be one of ours, and the X-CSRF-Token header must equal the
    CSRF cookie, which only a page of our origin can read.
    """
    origin = request.headers.get("Origin")
    if origin is None:
        origin = origin_of(request.headers.get("Referer"))
    if not origin or origin.lower() not in allowed_origins():
        raise Forbidden(CROSS_SITE_REFUSED)
    cookie = request.cookies.get(CSRF_COOKIE, "")
    header = request.headers.get(CSRF_HEADER, "")
    if not cookie or not hmac.compare_digest(cookie.encode(), header.encode()):
        raise Forbidden(CROSS_SITE_REFUSED)
