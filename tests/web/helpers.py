"""Helpers of the web tests: calling the cookie-session endpoints the way the pages do."""
ORIGIN = "http://localhost"  # the Flask test client's host
REFRESH_COOKIE = "um_refresh"
CSRF_COOKIE = "um_csrf"


def csrf_token(client):
    """Open a page (which hands out the CSRF cookie) and return the token."""
    cookie = client.get_cookie(CSRF_COOKIE)
    if cookie is None:
        assert client.get("/login").status_code == 200
        cookie = client.get_cookie(CSRF_COOKIE)
    return cookie.value


def session_post(client, path, json=None, origin=ORIGIN, csrf=True, **kwargs):
    """POST /web/session{path} with Origin and X-CSRF-Token, as the pages' script does."""
    headers = dict(kwargs.pop("headers", {}))
    if origin is not None:
        headers["Origin"] = origin
    if csrf is True:
        headers["X-CSRF-Token"] = csrf_token(client)
    elif csrf:
        headers["X-CSRF-Token"] = csrf
    return client.post(f"/web/session{path}", json=json if json is not None else {}, headers=headers, **kwargs)


def set_cookie_header(response, name):
    """The Set-Cookie header of cookie `name`, split into its attributes: ({attr lower-case: value}, raw)."""
    for header in response.headers.getlist("Set-Cookie"):
        if header.startswith(f"{name}="):
            parts = [part.strip() for part in header.split(";")]
            attributes = {}
            for part in parts[1:]:
                key, _, value = part.partition("=")
                attributes[key.lower()] = value
            attributes["value"] = parts[0].partition("=")[2]
            return attributes, header
    return None, None


def refresh_cookie(client):
    """The refresh token the test client holds for /web/session, or None."""
    cookie = client.get_cookie(REFRESH_COOKIE, path="/web/session")
    return cookie.value if cookie is not None else None
