"""The Swagger UI page of a service's OpenAPI document, served from local files (no CDN).

`add_page(bp, title, csp_decorator)` adds `/api/docs`, its start-up script and the Swagger UI
files (from the flask-swagger-ui package) to the blueprint that serves the document, `apidocs`.
"""
import functools
from importlib.resources import files

from flask import Response, abort, make_response, render_template_string

DOCS_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>{{ title }}</title>
  <link rel="stylesheet" href="{{ url_for('apidocs.asset', filename='swagger-ui.css') }}">
  <link rel="icon" type="image/png" href="{{ url_for('apidocs.asset', filename='favicon-32x32.png') }}">
</head>
<body>
  <div id="swagger-ui" data-spec-url="{{ url_for('apidocs.document') }}"></div>
  <script src="{{ url_for('apidocs.asset', filename='swagger-ui-bundle.js') }}"></script>
  <script src="{{ url_for('apidocs.initializer') }}"></script>
</body>
</html>
"""
# An external script, so the page's CSP needs no 'unsafe-inline' for scripts.
INITIALIZER = """window.addEventListener("load", function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({url: root.dataset.specUrl, dom_id: "#swagger-ui", deepLinking: true,
                               persistAuthorization: false});
});
"""
# What the docs page may load: only its own files, and data: images (Swagger UI's inline SVG icons).
# Swagger UI sets style attributes from JavaScript, hence 'unsafe-inline' for styles only.
DOCS_CSP = {
    "default-src": "'none'",
    "script-src": "'self'",
    "style-src": "'self' 'unsafe-inline'",
    "img-src": "'self' data:",
    "connect-src": "'self'",
    "font-src": "'self'",
    "frame-ancestors": "'none'",
    "base-uri": "'none'",
    "form-action": "'none'",
}
ASSETS = {"swagger-ui.css": "text/css", "swagger-ui-bundle.js": "text/javascript",
          "favicon-32x32.png": "image/png", "favicon-16x16.png": "image/png"}


def swagger_ui_dist():
    """Directory of the Swagger UI files shipped by the flask-swagger-ui package (no CDN)."""
    return files("flask_swagger_ui") / "dist"


@functools.lru_cache(maxsize=None)
def _asset(filename):
    return (swagger_ui_dist() / filename).read_bytes()


def with_docs_csp(view):
    """Give the view's answer the docs page's CSP (for an app without Talisman to do it)."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        response = make_response(view(*args, **kwargs))
        response.headers["Content-Security-Policy"] = "; ".join(f"{k} {v}" for k, v in DOCS_CSP.items())
        return response

    return wrapper


def add_page(bp, title, csp_decorator=with_docs_csp):
    """Serve the page, its script and its assets from `bp`, each under `csp_decorator` (DOCS_CSP)."""

    @bp.get("/api/docs")
    @csp_decorator
    def page():
        """Swagger UI for this service's document (not served in production)."""
        return Response(render_template_string(DOCS_PAGE, title=title), mimetype="text/html")

    @bp.get("/api/docs/init.js")
    @csp_decorator
    def initializer():
        """Starts Swagger UI on the page."""
        return Response(INITIALIZER, mimetype="text/javascript")

    @bp.get("/api/docs/assets/<filename>")
    @csp_decorator
    def asset(filename):
        """One file of the Swagger UI distribution."""
        if filename not in ASSETS:
            abort(404)
        response = Response(_asset(filename), mimetype=ASSETS[filename])
        response.cache_control.public = True
        response.cache_control.max_age = 3600
        return response
