"""Dead ends of the pages, each gone, each in Debian's Chromium: after too many wrong codes a way back to sign
in; the OTP resend wait in words, matching Retry-After; a replaced invite link; a used reset link refused
before the form; an HTML 404 page (the API keeps JSON); sign-in links on invite errors; the TOTP warning
for an organization; a 429 said in words, then recovered from by itself.
"""
import re

import pytest
import requests

from servicekit.errors import wait_in_words
from support.api import INVITEE_PASSWORD, SUBJECT_INVITE, SUBJECT_OTP
from support.browser import DESKTOP, PHONE, assert_accessible, assert_clean, link_in, onboard, sign_in
from support.smtp import wait_for_message

BOSS = "boss@acme.test"


def boss_at_code_step(console, browser_context, viewport=DESKTOP):
    """A client_admin (email codes) who gave the right password: the page asks for the emailed code."""
    from playwright.sync_api import expect

    onboard(console.api, console.smtp, console.admin, BOSS, "client_admin", "Acme Corp")
    _, page, problems = browser_context(viewport=viewport)
    page.goto(f"{console.web}/login")
    page.get_by_label("Email").fill(BOSS)
    page.get_by_label("Password").fill(INVITEE_PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    wait_for_message(console.smtp, BOSS, SUBJECT_OTP)
    return page, problems


def test_too_many_wrong_codes_offers_sign_in_again(console, browser_context):
    from playwright.sync_api import expect

    page, problems = boss_at_code_step(console, browser_context, PHONE)
    again = page.get_by_role("button", name="Sign in again")
    for _ in range(6):
        page.get_by_label("Code from the email").fill("000000")
        with page.expect_response("**/web/session/verify-otp") as answer:
            page.get_by_role("button", name="Verify").click()
        if "again" in answer.value.json()["message"]:
            break
    expect(again).to_be_focused()
    # No code form and no "Send a new code" (it could only fail now).
    expect(page.locator("#code-form")).to_be_hidden()
    expect(page.get_by_role("button", name="Send a new code")).to_be_hidden()
    assert_accessible(page)
    again.click()
    expect(page.get_by_role("heading", name="Sign in", exact=True)).to_be_visible()
    expect(page.locator("#email")).to_be_focused()
    assert_clean(problems)


def test_resend_wait_in_words_matches_retry_after(console, browser_context):
    from playwright.sync_api import expect

    page, problems = boss_at_code_step(console, browser_context)
    with page.expect_response("**/api/auth/resend-otp") as answer:
        page.get_by_role("button", name="Send a new code").click()
    response = answer.value
    assert response.status == 429
    retry_after = int(response.headers["retry-after"])
    status = page.locator("#code-status")
    expect(status).to_have_text(f"You can ask for a new code in {wait_in_words(retry_after)}.")
    expect(page.get_by_role("button", name="Send a new code")).to_be_disabled()
    assert_clean(problems)


@pytest.mark.console_env(INVITE_RESEND_INTERVAL=0)
def test_replaced_invite_link_and_sign_in_links(console, browser_context):
    from playwright.sync_api import expect

    invite = console.api.create_invite(console.admin, "late@example.test", "operator")
    first_link = link_in(wait_for_message(console.smtp, "late@example.test", SUBJECT_INVITE), "/accept-invite")
    response = console.api.request("POST", f"/api/invites/{invite['id']}/resend", token=console.admin)
    assert response.status_code == 200, response.text
    _, page, problems = browser_context(viewport=PHONE)
    page.goto(first_link)
    expect(page.get_by_role("heading", name="This invite link was replaced by a newer one")).to_be_visible()
    expect(page.locator("#gone-help")).to_contain_text("newest invite email")
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()
    assert_accessible(page)

    page.goto(f"{console.web}/accept-invite?token=not-a-real-token-at-all")
    expect(page.get_by_role("heading", name="This invite link is not valid")).to_be_visible()
    page.get_by_role("link", name="Sign in").click()
    page.wait_for_url(f"{console.web}/login")
    assert_clean(problems)


def test_reset_link_is_checked_before_the_form(console, browser_context):
    from playwright.sync_api import expect

    _, page, problems = browser_context(viewport=DESKTOP)
    page.goto(f"{console.web}/reset-password?token=not-a-real-token")
    expect(page.get_by_role("heading", name="This link can no longer be used")).to_be_visible()
    expect(page.locator("#reset-form")).to_be_hidden()
    expect(page.get_by_role("link", name="Ask for a new link")).to_be_visible()
    assert_accessible(page)
    assert_clean(problems)


def test_unknown_page_is_html_with_a_link_home(console, browser_context):
    from playwright.sync_api import expect

    _, page, problems = browser_context(viewport=PHONE)
    response = page.goto(f"{console.web}/no-such-page")
    assert response.status == 404
    assert response.headers["content-type"].startswith("text/html")
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Go to the console").click()
    page.wait_for_url(f"{console.web}/login")
    # The API keeps its JSON 404, even for a browser.
    api = requests.get(f"{console.web}/api/no-such-thing", headers={"Accept": "text/html"}, timeout=10)
    assert api.status_code == 404 and api.json() == {"success": False, "message": "Not found"}
    assert_clean(problems)


def test_totp_for_an_organization_warns_its_admin(console, browser_context):
    from playwright.sync_api import expect

    onboard(console.api, console.smtp, console.admin, BOSS, "client_admin", "Acme Corp")
    _, page, problems = browser_context(viewport=DESKTOP)
    sign_in(page, console.web, BOSS, INVITEE_PASSWORD, smtp=console.smtp)
    warning = page.locator("#totp-warning")
    expect(warning).to_be_hidden()
    page.get_by_label("Second factor for members").select_option("totp")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("you included")
    assert_accessible(page)
    page.get_by_role("button", name="Save").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("you included")
    dialog.get_by_role("button", name="Cancel").click()
    expect(page.locator("#toasts")).not_to_contain_text("Organization updated")
    assert_clean(problems)


def test_429_says_the_wait_in_words_and_recovers(console, browser_context):
    from playwright.sync_api import expect

    _, page, problems = browser_context(viewport=PHONE)
    sign_in(page, console.web)
    refused = []

    def refuse_once(retry_after):
        def handle(route):
            if len(refused) < retry_after[1]:
                refused.append(route.request.url)
                route.fulfill(status=429, headers={"Retry-After": retry_after[0], "Content-Type": "application/json"},
                              body='{"success": false, "message": "Too many requests, please try again later"}')
            else:
                route.continue_()
        return handle

    # A long wait is said in words (and the list waits for it).
    page.route(re.compile(r"/api/users\?"), refuse_once(("240", 1)))
    page.goto(f"{console.web}/users")
    banner = page.locator("#wait-banner")
    expect(banner).to_have_text("Too many requests. Please wait about 4 minutes; this page tries again by itself.")
    assert_accessible(page)

    # A short one passes, and the page asks again by itself: the list appears and the banner goes.
    page.unroute(re.compile(r"/api/users\?"))
    page.route(re.compile(r"/api/users\?"), refuse_once(("1", 2)))
    page.reload()
    expect(page.locator("#users-table tbody tr")).to_have_count(1)
    expect(banner).to_be_hidden()
    assert len(refused) == 2
    assert_clean([problem for problem in problems if "429" not in problem])


def test_signed_in_pages_need_a_session(console, browser_context):
    _, page, problems = browser_context(viewport=DESKTOP)
    for path in ("/account", "/users", "/organizations", "/organizations/x", "/audit", "/account/passkeys"):
        page.goto(f"{console.web}{path}")
        page.wait_for_url(f"{console.web}/login")
    assert_clean(problems)
