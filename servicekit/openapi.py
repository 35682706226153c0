"""OpenAPI 3 documents built from the routes themselves, and a local Swagger UI page.

A view declares its contract with `@api_doc(...)` placed right under its `@bp.<method>(...)`
line: the marshmallow schema that validates its body or query string, the schema of its
success body, whether it needs credentials and which domain errors it can answer. The
document walks `app.url_map`, so every route is found; a route in scope without
`@api_doc` is listed by `undocumented_routes(app)` (the test suite requires that list to be
empty). The standard error answers (400/413/415/422 for a body, 401 for auth, 429 when
rate limited, ...) are added from what the view declares, all with the one error shape.
"""
import json
import re
from functools import lru_cache
from importlib.resources import files

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Blueprint, Response, current_app, jsonify, render_template_string
from marshmallow import Schema, fields

OPENAPI_VERSION = "3.0.3"
DOC_ATTRIBUTE = "_api_doc"
IGNORED_METHODS = {"HEAD", "OPTIONS"}
ERROR_DESCRIPTIONS = {
    400: "Malformed JSON, or a body that is not a JSON object",
    401: "Missing, invalid, expired or revoked credentials",
    403: "Authenticated but not allowed",
    404: "No such object (or one of another organization)",
    409: "Clashes with the current state",
    410: "No longer usable",
    413: "Body too large",
    415: "Body is not application/json",
    422: "A field failed validation; `errors` names each field",
    429: "Rate limit hit; retry after `Retry-After` seconds",
    503: "A dependency is down",
}
_CONVERTER = re.compile(
    r"<(?:(?P<converter>\w+)(?:\([^)]*\))?:)?(?P<name>\w+)>"
)
_CONVERTER_TYPES = {
    "int": {"type": "integer"}, "float": {"type": "number"}, "uuid": {"type": "string", "format": "uuid"},
}


class ErrorSchema(Schema):
    """Every error answer: `{success: false, message, errors?}`."""

    success = fields.Boolean(required=True, metadata={"enum": [False]})
    message = fields.String(required=True)
    errors = fields.Dict(
        keys=fields.String(),
        metadata={"description": "Per field (or `_schema`) validation messages; nested for nested fields"},
    )


def api_doc(*, body=None, query=None, response=None, status=200, auth=False, errors=(), headers=(),
            rate_limited=None, description=None, response_headers=None):
    """Declare a view's contract for the OpenAPI document.

    body/query: the marshmallow schema (class or instance) the view validates with;
    response: the schema of the success body answered with `status`;
    auth: True when the service's security scheme is required, "optional" when the body can
    stand in for it;
    errors: extra statuses the view can answer (each with the error shape), or a mapping
    status -> description (or -> a whole OpenAPI response object);
    headers: extra request header parameters (dicts, a marshmallow schema as "schema");
    rate_limited: None = the service default.
    """
    if isinstance(errors, dict):
        error_map = dict(errors)
    else:
        error_map = {code: ERROR_DESCRIPTIONS.get(code, "Error") for code in errors}

    def decorator(view):
        setattr(view, DOC_ATTRIBUTE, {
            "body": body, "query": query, "response": response, "status": status, "auth": auth,
            "errors": error_map, "headers": list(headers), "rate_limited": rate_limited,
            "description": description, "response_headers": response_headers or {},
        })
        return view

    return decorator


class ApiDocConfig:
    """What a service's document looks like: title, security scheme, scope."""

    def __init__(self, *, title, version, description="", security_scheme=None, rate_limited=True,
                 prefixes=("/api", "/health"), excluded_paths=("/metrics",), excluded_blueprints=("web", "apidocs")):
        self.title = title
        self.version = version
        self.description = description
        self.security_scheme = security_scheme  # (name, OpenAPI security scheme object)
        self.rate_limited = rate_limited
        self.prefixes = tuple(prefixes)
        self.excluded_paths = set(excluded_paths)
        self.excluded_blueprints = set(excluded_blueprints)

    def in_scope(self, rule):
        """True for a rule the document must describe."""
        if rule.rule in self.excluded_paths:
            return False
        if rule.endpoint.split(".", 1)[0] in self.excluded_blueprints or rule.endpoint == "static":
            return False
        return any(rule.rule == prefix or rule.rule.startswith(prefix + "/") for prefix in self.prefixes)


def _rules_in_scope(app, config):
    return sorted((rule for rule in app.url_map.iter_rules() if config.in_scope(rule)), key=lambda rule: rule.rule)


def openapi_path(rule):
    """`/api/invites/<invite_id>/revoke` -> (`/api/invites/{invite_id}/revoke`, path parameters)."""
    parameters = []
    for match in _CONVERTER.finditer(rule.rule):
        schema = dict(_CONVERTER_TYPES.get(match.group("converter"), {"type": "string"}))
        parameters.append({"in": "path", "name": match.group("name"), "required": True, "schema": schema})
    return _CONVERTER.sub(lambda match: "{" + match.group("name") + "}", rule.rule), parameters


def undocumented_routes(app):
    """`METHOD path` of every route in scope whose view has no `@api_doc`."""
    config = app.extensions["apidocs"]
    missing = []
    for rule in _rules_in_scope(app, config):
        if not hasattr(app.view_functions[rule.endpoint], DOC_ATTRIBUTE):
            missing.extend(f"{method} {rule.rule}" for method in sorted(rule.methods - IGNORED_METHODS))
    return missing


def _error(description):
    return {"description": description, "content": {"application/json": {"schema": "Error"}}}


def _operation(rule, method, view, doc, config, path_parameters):
    lines = (view.__doc__ or "").strip().splitlines()
    operation = {
        "operationId": rule.endpoint if len(rule.methods - IGNORED_METHODS) == 1 else f"{rule.endpoint}.{method}",
        "summary": lines[0].strip() if lines else rule.endpoint,
        "tags": [rule.endpoint.split(".", 1)[0]],
        "parameters": list(doc["headers"]),
        "responses": {},
    }
    if doc["description"] or len(lines) > 1:
        operation["description"] = doc["description"] or "\n".join(line.strip() for line in lines[1:]).strip()
    success = {"description": "Success"}
    if doc["response"] is not None:
        success["content"] = {"application/json": {"schema": doc["response"]}}
    if doc["response_headers"]:
        success["headers"] = doc["response_headers"]
    responses = {str(doc["status"]): success}
    errors = {}
    if doc["body"] is not None:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": doc["body"]}}}
        errors.update({code: ERROR_DESCRIPTIONS[code] for code in (400, 413, 415, 422)})
    if doc["query"] is not None:
        operation["parameters"].append({"in": "query", "schema": doc["query"]})
        errors[422] = ERROR_DESCRIPTIONS[422]
    if path_parameters:
        errors[404] = ERROR_DESCRIPTIONS[404]
    if doc["auth"] and config.security_scheme:
        # "optional": the credentials are one of two ways in (e.g. an access token or a twoFactorToken).
        operation["security"] = [{config.security_scheme[0]: []}] + ([{}] if doc["auth"] == "optional" else [])
        errors[401] = ERROR_DESCRIPTIONS[401]
    rate_limited = config.rate_limited if doc["rate_limited"] is None else doc["rate_limited"]
    if rate_limited:
        errors[429] = ERROR_DESCRIPTIONS[429]
    errors.update(doc["errors"])
    for code in sorted(errors):
        answer = errors[code]
        responses.setdefault(str(code), dict(answer) if isinstance(answer, dict) else _error(answer))
        if code == 429:
            responses["429"]["headers"] = {
                "Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}
            }
    operation["responses"] = responses
    return operation


def build_document(app):
    """The OpenAPI document of `app` as a dict (every documented route in scope)."""
    config = app.extensions["apidocs"]
    spec = APISpec(title=config.title, version=config.version, openapi_version=OPENAPI_VERSION,
                   plugins=[MarshmallowPlugin()], info={"description": config.description})
    spec.components.schema("Error", schema=ErrorSchema)
    if config.security_scheme:
        spec.components.security_scheme(*config.security_scheme)
    for rule in _rules_in_scope(app, config):
        view = app.view_functions[rule.endpoint]
        doc = getattr(view, DOC_ATTRIBUTE, None)
        if doc is None:
            continue
        path, path_parameters = openapi_path(rule)
        operations = {
            method.lower(): _operation(rule, method, view, doc, config, path_parameters)
            for method in sorted(rule.methods - IGNORED_METHODS)
        }
        spec.path(path=path, operations=operations, parameters=path_parameters)
    return spec.to_dict()


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
ASSETS = {"swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png", "favicon-16x16.png"}


def swagger_ui_dist():
    """Directory of the Swagger UI files shipped by the flask-swagger-ui package (no CDN)."""
    return files("flask_swagger_ui") / "dist"


@lru_cache(maxsize=None)
def _asset(filename):
    return (swagger_ui_dist() / filename).read_bytes()


def init_api_docs(app, config, *, interactive, csp_decorator=None):
    """Serve `GET /api/openapi.json` and, when `interactive`, the Swagger UI page at `/api/docs`.

    `csp_decorator` wraps the page views (e.g. `talisman(content_security_policy=DOCS_CSP)`);
    without one the page sets `DOCS_CSP` itself.
    """
    app.extensions["apidocs"] = config
    bp = Blueprint("apidocs", __name__)
    wrap = csp_decorator or (lambda view: view)

    @bp.get("/api/openapi.json")
    def document():
        """The OpenAPI 3 document of this service."""
        cache = app.extensions.setdefault("apidocs_document", {})
        if "body" not in cache:
            cache["body"] = json.dumps(build_document(current_app), indent=2)
        return Response(cache["body"], mimetype="application/json")

    if interactive:
        def _with_csp(response):
            if csp_decorator is None:
                response.headers["Content-Security-Policy"] = "; ".join(f"{k} {v}" for k, v in DOCS_CSP.items())
            return response

        @bp.get("/api/docs")
        @wrap
        def page():
            """Swagger UI for this service's document (not served in production)."""
            return _with_csp(Response(render_template_string(DOCS_PAGE, title=config.title), mimetype="text/html"))

        @bp.get("/api/docs/init.js")
        @wrap
        def initializer():
            """Starts Swagger UI on the page."""
            return _with_csp(Response(INITIALIZER, mimetype="text/javascript"))

        @bp.get("/api/docs/assets/<filename>")
        @wrap
        def asset(filename):
            """One file of the Swagger UI distribution."""
            if filename not in ASSETS:
                return jsonify(success=False, message="Not found"), 404
            mimetype = {"css": "text/css", "js": "text/javascript", "png": "image/png"}[filename.rsplit(".", 1)[1]]
            response = Response(_asset(filename), mimetype=mimetype)
            response.cache_control.public = True
            response.cache_control.max_age = 3600
            return _with_csp(response)

    app.register_blueprint(bp)
    return bp
