"""The `web` blueprint: the product's pages (Jinja templates, static CSS and plain JavaScript).

Pages are shells; their scripts call the same JSON API as every other client. The
only server-side additions are the cookie sessions under /web/session
(`session.py`): the refresh token lives in an HttpOnly cookie, the access token
only in the page's memory.
"""
from flask import Blueprint

bp = Blueprint("web", __name__, template_folder="templates", static_folder="static",
               static_url_path="/web/static")

from . import pages, passkeys, session  # noqa: E402,F401  (register the views on `bp`)
