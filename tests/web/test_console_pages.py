"""The console's signed-in pages in Debian's Chromium, at desktop width and at 390 px: your account, users,
organizations (list and detail), audit log, and the console itself as a client_user. Each test walks the
happy path and one refusal, and checks the page with axe-core. Screenshots land in test-artifacts/web/<test>/;
UPDATE_DOCS_SCREENSHOT=1 also writes the account, users and organizations pages to docs/screenshots/.
"""
import pyotp
import pytest

from support.api import ADMIN_EMAIL, ADMIN_PASSWORD, INVITEE_PASSWORD
from support.browser import (VIEWPORTS, assert_accessible, assert_clean, confirm_dialog, onboard, open_page,
                             sign_in)

pytestmark = pytest.mark.parametrize("viewport", list(VIEWPORTS))


def shoot(page, artifacts, docs, name, viewport):
    """A full-page screenshot into the test's artifacts, and into docs/screenshots/ when asked."""
    page.screenshot(path=str(artifacts / f"{name}.png"), full_page=True)
    if docs is not None:
        page.screenshot(path=str(docs / f"{name}-{viewport}.png"), full_page=True)


def test_account(console, browser_context, artifacts, docs_screenshots, viewport):
    from playwright.sync_api import expect

    _, page, problems = browser_context(viewport=VIEWPORTS[viewport])
    sign_in(page, console.web)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Your account").click()
    expect(page.get_by_role("heading", name="Your account", level=1)).to_be_visible()
    expect(page.locator("#account-email")).to_have_text(ADMIN_EMAIL)
    # This browser, and the API login of the fixture.
    expect(page.locator("#sessions-table tbody tr")).to_have_count(2)
    expect(page.locator("#sessions-table tbody tr", has_text="This browser")).to_have_count(1)
    assert_accessible(page)

    # Name.
    page.get_by_label("First name").fill("Ada")
    page.get_by_label("Last name").fill("Root")
    page.get_by_role("button", name="Save name").click()
    expect(page.locator("#whoami")).to_contain_text("Ada Root")

    # Refusal: a wrong current password does not change the password.
    form = page.locator("#password-form")
    form.get_by_label("Your current password").fill("Not-The-Password-1")
    form.get_by_label("New password").fill("Velvet-Tractor-Orbit-9")
    form.get_by_label("Repeat the password").fill("Velvet-Tractor-Orbit-9")
    form.get_by_role("button", name="Change password").click()
    expect(form.locator(".form-error")).not_to_be_empty()
    expect(form.get_by_label("Your current password")).to_have_attribute("aria-invalid", "true")

    # Staff turn the authenticator app on for themselves: QR code, a code from the app, recovery codes.
    methods = page.locator("#method-form")
    methods.get_by_label("Second factor at sign-in").select_option("totp")
    methods.get_by_label("Your current password").fill(ADMIN_PASSWORD)
    methods.get_by_role("button", name="Save second factor").click()
    expect(page.get_by_role("heading", name="Scan the QR code")).to_be_focused()
    secret = page.locator("#totp-secret").inner_text()
    page.get_by_label("Code from the app").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Confirm").click()
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    expect(page.locator("#two-factor-status")).to_contain_text("authenticator app")
    expect(page.get_by_role("button", name="Download the codes")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the codes").click()
    assert download.value.suggested_filename == "recovery-codes.txt"
    first_codes = page.locator("#recovery-codes li").all_inner_texts()
    recovery = page.locator("#recovery-form")
    recovery.get_by_label("Your current password").fill(ADMIN_PASSWORD)
    recovery.get_by_role("button", name="Make new recovery codes").click()
    expect(page.locator("#recovery-codes li").first).not_to_have_text(first_codes[0])
    shoot(page, artifacts, docs_screenshots, "account", viewport)
    assert_accessible(page)

    # The password changes; this browser stays signed in (its cookie is the new session's).
    form.get_by_label("Your current password").fill(ADMIN_PASSWORD)
    form.get_by_label("New password").fill("Velvet-Tractor-Orbit-9")
    form.get_by_label("Repeat the password").fill("Velvet-Tractor-Orbit-9")
    form.get_by_role("button", name="Change password").click()
    expect(page.locator("#toasts")).to_contain_text("Password changed")
    page.reload()
    expect(page.locator("#account-email")).to_have_text(ADMIN_EMAIL)
    expect(page.locator("#recovery-count")).to_have_text("You have 10 recovery codes left.")
    assert_clean(problems)


def test_users(console, browser_context, artifacts, docs_screenshots, viewport):
    from playwright.sync_api import expect

    onboard(console.api, console.smtp, console.admin, "boss@acme.test", "client_admin", "Acme Corp")
    onboard(console.api, console.smtp, console.admin, "ops@example.test", "operator", first_name="Oli")
    _, page, problems = browser_context(viewport=VIEWPORTS[viewport])
    sign_in(page, console.web)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Users").click()
    expect(page.get_by_role("heading", name="Users", level=1)).to_be_visible()
    expect(page.locator("#users-table tbody tr")).to_have_count(3)
    # Nobody manages themselves: the super admin's row has no buttons.
    expect(page.locator("#users-table tbody tr", has_text=ADMIN_EMAIL).get_by_role("button")).to_have_count(0)

    page.get_by_label("Search by name or email").fill("acme")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("#users-table tbody tr")).to_have_count(1)
    row = page.locator("#users-table tbody tr", has_text="boss@acme.test")
    expect(row).to_contain_text("Acme Corp")
    shoot(page, artifacts, docs_screenshots, "users", viewport)
    assert_accessible(page)

    # Refusal by the person: cancelling the confirmation changes nothing.
    row.get_by_role("button", name="Deactivate").click()
    page.get_by_role("dialog").get_by_role("button", name="Cancel").click()
    expect(row.locator(".status")).to_have_text("Active")
    expect(row.get_by_role("button", name="Deactivate")).to_be_focused()

    row.get_by_role("button", name="Deactivate").click()
    confirm_dialog(page, "Deactivate")
    expect(row.locator(".status")).to_have_text("Deactivated")
    page.get_by_label("Status").select_option("inactive")
    page.get_by_label("Search by name or email").fill("")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("#users-table tbody tr")).to_have_count(1)
    page.locator("#users-table tbody tr").get_by_role("button", name="Reactivate").click()
    expect(page.locator("#users-table tbody tr .status")).to_have_text("Active")
    assert_clean(problems)


def test_organizations(console, browser_context, artifacts, docs_screenshots, viewport):
    from playwright.sync_api import expect

    onboard(console.api, console.smtp, console.admin, "boss@acme.test", "client_admin", "Acme Corp")
    console.api.create_invite(console.admin, "second@globex.test", "client_admin", "Globex")
    _, page, problems = browser_context(viewport=VIEWPORTS[viewport])
    sign_in(page, console.web)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Organizations").click()
    expect(page.get_by_role("heading", name="Organizations", level=1)).to_be_visible()
    expect(page.locator("#organizations-table tbody tr")).to_have_count(2)
    acme = page.locator("#organizations-table tbody tr", has_text="Acme Corp")
    expect(acme.locator('td[data-label="Members"]')).to_have_text("1")
    shoot(page, artifacts, docs_screenshots, "organizations", viewport)
    assert_accessible(page)

    acme.get_by_role("link", name="Acme Corp").click()
    expect(page.get_by_role("heading", name="Acme Corp", level=1)).to_be_visible()
    expect(page.locator("#members-table tbody tr", has_text="boss@acme.test")).to_be_visible()
    expect(page.locator("#invites-table tbody tr", has_text="boss@acme.test")).to_contain_text("accepted")
    page.get_by_role("button", name="Deactivate Acme Corp").click()
    confirm_dialog(page, "Deactivate organization")
    expect(page.locator("#organization-status")).to_have_text("Deactivated")
    expect(page.get_by_role("button", name="Reactivate Acme Corp")).to_be_focused()
    shoot(page, artifacts, docs_screenshots, "organization", viewport)
    assert_accessible(page)
    page.get_by_role("button", name="Reactivate Acme Corp").click()
    expect(page.locator("#organization-status")).to_have_text("Active")

    # Refusal: an organization that does not exist.
    page.goto(f"{console.web}/organizations/000000000000000000000000")
    expect(page.get_by_role("heading", name="Organization not found")).to_be_visible()
    expect(page.locator("#organization-error")).not_to_be_empty()
    assert_clean(problems)


def test_audit(console, browser_context, artifacts, viewport):
    from playwright.sync_api import expect

    console.api.create_invite(console.admin, "one@example.test", "operator")
    _, page, problems = browser_context(viewport=VIEWPORTS[viewport])
    sign_in(page, console.web)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Audit log").click()
    expect(page.get_by_role("heading", name="Audit log", level=1)).to_be_visible()
    # Event names a person can read, times in words.
    expect(page.locator("#audit-table tbody tr", has_text="Invite sent")).to_have_count(1)
    expect(page.locator("#audit-table tbody tr").first.locator("time")).not_to_have_text("")
    page.get_by_label("Event", exact=True).select_option(label="Signed in")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("#audit-table tbody tr", has_text="Invite sent")).to_have_count(0)
    expect(page.locator("#audit-table tbody tr").first).to_contain_text("Signed in")
    page.get_by_label("Event", exact=True).select_option("")
    page.get_by_label("Person (email)").fill(ADMIN_EMAIL)
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("#audit-table tbody tr", has_text="Invite sent")).to_have_count(1)
    page.screenshot(path=str(artifacts / "audit.png"), full_page=True)
    assert_accessible(page)

    # A date range with nothing in it.
    page.get_by_label("From (date)").fill("2001-01-01")
    page.get_by_label("To (date)").fill("2001-01-31")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("#audit-empty")).to_be_visible()

    # Refusal: nobody with that email.
    page.get_by_label("Person (email)").fill("nobody@example.test")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("#audit-person-error")).to_have_text("No one with this email.")
    assert_clean(problems)


def test_client_user_console(console, browser_context, artifacts, viewport):
    from playwright.sync_api import expect

    onboard(console.api, console.smtp, console.admin, "boss@acme.test", "client_admin", "Acme Corp")
    session, _, _ = console.api.login_with_otp(console.smtp, "boss@acme.test", INVITEE_PASSWORD)
    onboard(console.api, console.smtp, session["accessToken"], "user@acme.test", "client_user", first_name="Uma")
    _, page, problems = browser_context(viewport=VIEWPORTS[viewport])
    sign_in(page, console.web, "user@acme.test", INVITEE_PASSWORD, smtp=console.smtp)
    # Their organization and its members, read-only; no invite form and no invite list.
    expect(page.locator("#organization-facts")).to_contain_text("Acme Corp")
    expect(page.locator("#organization-form")).to_be_hidden()
    expect(page.locator("#members-table tbody tr")).to_have_count(2)
    expect(page.locator("#members-table").get_by_role("button")).to_have_count(0)
    expect(page.locator("#invite-section")).to_be_hidden()
    expect(page.locator("#invites-section")).to_be_hidden()
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link")).to_have_count(2)
    page.screenshot(path=str(artifacts / "client-user-console.png"), full_page=True)
    assert_accessible(page)

    # Refusal: the users page is not theirs.
    page.goto(f"{console.web}/users")
    expect(page.locator("#users-error")).not_to_be_empty()
    # Their account page: the organization decides the second factor.
    open_page(page, console.web, "/account", "Your account")
    expect(page.locator("#two-factor-policy")).to_contain_text("Acme Corp")
    expect(page.locator("#method-form")).to_be_hidden()
    assert_accessible(page)
    assert_clean(problems)


def test_invites(console, browser_context, artifacts, viewport):
    from playwright.sync_api import expect

    console.api.create_invite(console.admin, "keep@example.test", "operator")
    console.api.create_invite(console.admin, "drop@example.test", "operator")
    _, page, problems = browser_context(viewport=VIEWPORTS[viewport])
    sign_in(page, console.web)
    rows = page.locator("#invites-table tbody tr")
    expect(rows).to_have_count(2)
    drop = rows.filter(has_text="drop@example.test")

    # Refusal by the person: a cancelled revocation leaves the invite pending.
    drop.get_by_role("button", name="Revoke").click()
    page.get_by_role("dialog").get_by_role("button", name="Cancel").click()
    expect(drop.locator(".status")).to_have_text("pending")
    drop.get_by_role("button", name="Revoke").click()
    confirm_dialog(page, "Revoke invite")
    expect(drop.locator(".status")).to_have_text("revoked")

    # Filter by status, search by email.
    invites = page.get_by_role("search", name="Filter invites")
    invites.get_by_label("Status").select_option("revoked")
    invites.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("drop@example.test")
    assert_accessible(page)
    invites.get_by_label("Status").select_option("")
    invites.get_by_label("Search by email").fill("keep@")
    invites.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("keep@example.test")

    # One click re-invites the revoked address: a new pending invite.
    invites.get_by_label("Search by email").fill("drop@")
    invites.get_by_role("button", name="Filter").click()
    rows.filter(has_text="revoked").get_by_role("button", name="Invite drop@example.test again").click()
    expect(page.locator("#toasts")).to_contain_text("A new invite was sent to drop@example.test")
    expect(rows.filter(has_text="pending")).to_have_count(1)
    page.screenshot(path=str(artifacts / "invites.png"), full_page=True)
    assert_clean(problems)
