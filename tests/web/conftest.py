"""Fixtures of the browser tests: Debian's Chromium driven by Playwright, real server processes, screenshots.

Chromium is the system one (`/usr/bin/chromium`, or CHROMIUM_PATH); `playwright install` is never needed.
Without Chromium or Playwright the browser tests skip, unless REQUIRE_CHROMIUM=1 (CI) makes that a failure.
Screenshots go to test-artifacts/web/ (or TEST_ARTIFACTS_DIR/web/), which git ignores.
"""
import os
import shutil
from pathlib import Path

import pytest

from support.processes import PROJECT_ROOT

CHROMIUM_PATH = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--disable-quic", "--no-first-run",
]


def _missing_browser():
    """Why the browser tests cannot run here, or None."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -r requirements/dev.txt)"
    if not (Path(CHROMIUM_PATH).exists() or shutil.which(CHROMIUM_PATH)):
        return f"no Chromium at {CHROMIUM_PATH} (apt-get install -y chromium)"
    return None


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the session."""
    reason = _missing_browser()
    if reason:
        if os.environ.get("REQUIRE_CHROMIUM") == "1":
            pytest.fail(f"REQUIRE_CHROMIUM=1 but {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM_PATH, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def artifacts(request):
    """Directory for this test's screenshots: test-artifacts/web/<test name>/ (emptied first)."""
    root = Path(os.environ.get("TEST_ARTIFACTS_DIR", PROJECT_ROOT / "test-artifacts")) / "web"
    directory = root / request.node.name.replace("/", "_")
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    return directory


@pytest.fixture
def browser_context(browser):
    """`new(**options) -> (context, page, problems)`: isolated contexts (own cookies), closed at teardown.

    `problems` collects console errors, page errors and CSP violations of the page.
    """
    contexts = []

    def new(**options):
        context = browser.new_context(**options)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15000)
        problems = []
        page.on("console", lambda message: message.type == "error" and problems.append(message.text))
        page.on("pageerror", lambda error: problems.append(f"pageerror: {error}"))
        return context, page, problems

    yield new
    for context in contexts:
        context.close()


@pytest.fixture
def console(request, smtp_server, service_stack, redis_prefix, user_management_port):
    """Both services as real processes for the console tests; the pages on http://localhost:<port>.

    `@pytest.mark.console_env(NAME=value)` adds user_management settings.

    Returns `web` (the pages' origin), `api` (a `support.api.Api` on it), `admin` (the bootstrap super
    admin's access token) and `channel` (the Socket.IO channel, to wait for subscribers).
    """
    from types import SimpleNamespace

    from support.api import Api
    from support.processes import free_port

    smtp_server.start()
    web_url = f"http://localhost:{user_management_port}"
    notifications_url = f"http://127.0.0.1:{free_port()}"
    service_stack(notifications_ports=[int(notifications_url.rsplit(":", 1)[1])],
                  notifications_env={"CORS_ORIGIN": web_url, "JWT_ISSUER": web_url, "JWT_AUDIENCE": web_url},
                  FRONTEND_URL=web_url, NOTIFICATIONS_PUBLIC_URL=notifications_url,
                  **(marker.kwargs if (marker := request.node.get_closest_marker("console_env")) else {}))
    api = Api(web_url)
    return SimpleNamespace(web=web_url, api=api, admin=api.login()["accessToken"], smtp=smtp_server,
                           channel=f"{redis_prefix}-socketio")


@pytest.fixture
def docs_screenshots():
    """Where screenshots for docs/ go: docs/screenshots/ when UPDATE_DOCS_SCREENSHOT=1, else None."""
    if os.environ.get("UPDATE_DOCS_SCREENSHOT") != "1":
        return None
    directory = PROJECT_ROOT / "docs" / "screenshots"
    directory.mkdir(exist_ok=True)
    return directory
