"""The console live, in two browser contexts (two browsers, own cookies): a deactivated user's console is back at
sign-in within 5 s; ending one of two sessions signs that browser out; lists follow socket events without
polling, and refreshes after a burst of events are coalesced (at most one per list every 2 s).
"""
from support.api import INVITEE_PASSWORD
from support.browser import DESKTOP, assert_clean, confirm_dialog, onboard, open_page, sign_in
from support.redis_store import wait_for_subscribers

OPERATOR = "ops@example.test"


def live(page):
    """Wait until the page's socket is connected."""
    from playwright.sync_api import expect

    expect(page.locator("body")).to_have_attribute("data-live", "on")


def test_deactivated_user_is_back_at_sign_in(console, browser_context):
    from playwright.sync_api import expect

    onboard(console.api, console.smtp, console.admin, OPERATOR, "operator", first_name="Oli")
    _, operator, operator_problems = browser_context(viewport=DESKTOP)
    sign_in(operator, console.web, OPERATOR, INVITEE_PASSWORD)
    live(operator)

    _, admin, admin_problems = browser_context(viewport=DESKTOP)
    sign_in(admin, console.web)
    open_page(admin, console.web, "/users", "Users")
    row = admin.locator("#users-table tbody tr", has_text=OPERATOR)
    row.get_by_role("button", name="Deactivate").click()
    confirm_dialog(admin, "Deactivate")
    expect(row.locator(".status")).to_have_text("Deactivated")
    operator.wait_for_url(f"{console.web}/login", timeout=5000)
    assert_clean(operator_problems)
    assert_clean(admin_problems)


def test_two_sessions_and_ending_one(console, browser_context):
    from playwright.sync_api import expect

    onboard(console.api, console.smtp, console.admin, OPERATOR, "operator", first_name="Oli")
    _, first, first_problems = browser_context(viewport=DESKTOP)
    _, second, _ = browser_context(viewport=DESKTOP, user_agent="Mozilla/5.0 (Windows NT 10.0) Firefox/140.0")
    sign_in(first, console.web, OPERATOR, INVITEE_PASSWORD)
    sign_in(second, console.web, OPERATOR, INVITEE_PASSWORD)
    live(second)

    open_page(first, console.web, "/account", "Your account")
    rows = first.locator("#sessions-table tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text="This browser")).to_have_count(1)
    other = rows.filter(has_text="Firefox on Windows")
    other.get_by_role("button", name="Sign out").click()
    confirm_dialog(first, "Sign out")
    second.wait_for_url(f"{console.web}/login", timeout=5000)
    expect(rows).to_have_count(1)

    # The first browser is still signed in; "sign out everywhere" ends it too.
    first.reload()
    expect(first.locator("#sessions-table tbody tr")).to_have_count(1)
    first.get_by_role("button", name="Sign out everywhere").click()
    confirm_dialog(first, "Sign out everywhere")
    first.wait_for_url(f"{console.web}/login")
    first.goto(f"{console.web}/account")
    first.wait_for_url(f"{console.web}/login")
    assert_clean(first_problems)


def test_lists_follow_events_without_polling(console, browser_context):
    from playwright.sync_api import expect

    _, page, problems = browser_context(viewport=DESKTOP)
    lists = []
    page.on("request", lambda request: "/api/invites/list" in request.url and lists.append(request.url))
    sign_in(page, console.web)
    live(page)
    wait_for_subscribers(console.channel, 1)
    expect(page.locator("#invites-empty")).to_be_visible()

    # An invite sent elsewhere (here through the API) appears: one coalesced fetch of the list.
    invite = console.api.create_invite(console.admin, "new@example.test", "operator")
    row = page.locator("#invites-table tbody tr", has_text="new@example.test")
    expect(row.locator(".status")).to_have_text("pending")
    fetched = len(lists)

    # Its revocation changes the row in place: no request at all.
    response = console.api.request("DELETE", f"/api/invites/{invite['id']}/revoke", token=console.admin)
    assert response.status_code == 200, response.text
    expect(row.locator(".status")).to_have_text("revoked")
    expect(row.get_by_role("button", name="Invite new@example.test again")).to_be_visible()
    assert len(lists) == fetched, lists
    assert_clean(problems)


def test_audit_refreshes_are_coalesced(console, browser_context):
    from playwright.sync_api import expect

    _, page, problems = browser_context(viewport=DESKTOP)
    sign_in(page, console.web)
    open_page(page, console.web, "/audit", "Audit log")
    live(page)
    wait_for_subscribers(console.channel, 1)

    # The browser's own clock and resource timings: when the page sent each /api/audit request.
    started = page.evaluate("() => performance.now()")
    for number in range(10):
        console.api.create_invite(console.admin, f"burst{number}@example.test", "operator")
    # The last event must show up (a trailing refresh); only then count the fetches.
    expect(page.locator("#audit-table tbody tr", has_text="burst9@example.test")).to_be_visible()
    audits, elapsed = page.evaluate("""started => [
        performance.getEntriesByType("resource").filter(entry => entry.name.includes("/api/audit?"))
          .map(entry => entry.startTime).filter(time => time >= started),
        performance.now() - started]""", started)
    # Ten events, yet at most one fetch per 2 s window (plus the trailing one).
    assert 1 <= len(audits) <= 2 + int(elapsed / 2000), (audits, elapsed)
    gaps = [later - earlier for earlier, later in zip(audits, audits[1:])]
    assert all(gap >= 1990 for gap in gaps), gaps
    assert_clean(problems)
