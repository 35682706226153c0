"""The pages in a real browser, against real processes of both services, real Redis and a real SMTP sink.

A super admin signs in and invites a client_admin; in a second browser context the link from the received
email is opened and accepted; the first context shows the toast and the invite turns "accepted" without a
reload; the new client_admin signs in with the emailed code. Screenshots of every page land in
test-artifacts/web/<test>/; UPDATE_DOCS_SCREENSHOT=1 also refreshes docs/console.png.
"""
import os
import re
import shutil

import pytest

from support.api import ADMIN_EMAIL, ADMIN_PASSWORD, SUBJECT_INVITE, SUBJECT_OTP, otp_code
from support.api import INVITEE_PASSWORD as BOSS_PASSWORD
from support.processes import PROJECT_ROOT, free_port, wait_until
from support.redis_store import wait_for_subscribers
from support.smtp import text_part, wait_for_message

BOSS_EMAIL = "boss@acme.test"
ORGANIZATION = "Acme Corp"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def services(smtp_server, service_stack, redis_prefix, user_management_port):
    """Both services as real processes; the pages are served by user_management on its own origin."""
    smtp_server.start()
    port, notifications_port = user_management_port, free_port()
    web_url, notifications_url = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{notifications_port}"
    service_stack(notifications_ports=[notifications_port],
                  notifications_env={"CORS_ORIGIN": web_url, "JWT_ISSUER": web_url, "JWT_AUDIENCE": web_url},
                  FRONTEND_URL=web_url, NOTIFICATIONS_PUBLIC_URL=notifications_url)
    return {"web": web_url, "notifications": notifications_url, "channel": f"{redis_prefix}-socketio"}


def shoot(page, directory, name, full_page=True):
    """Save a screenshot; return its path."""
    path = directory / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def link_in(message, path):
    """The one link to `path` in an email's text part."""
    links = re.findall(r"https?://\S+", text_part(message))
    matching = [link for link in links if link.split("?")[0].endswith(path)]
    assert len(matching) == 1, links
    return matching[0]


def assert_clean(problems):
    """No script error and no CSP violation on the page."""
    serious = [text for text in problems if "Content Security Policy" in text or text.startswith("pageerror")]
    assert serious == [], problems


def test_invite_accept_toast_and_otp_login(services, smtp_server, browser_context, artifacts):
    web = services["web"]
    from playwright.sync_api import expect

    # --- 1. The super admin signs in (no second factor) and lands on the console.
    _, admin, admin_problems = browser_context(viewport=DESKTOP)
    admin.goto(f"{web}/login")
    expect(admin.get_by_role("heading", name="Sign in")).to_be_visible()
    shoot(admin, artifacts, "01-login")
    admin.get_by_label("Email").fill(ADMIN_EMAIL)
    admin.get_by_label("Password").fill(ADMIN_PASSWORD)
    admin.get_by_role("button", name="Sign in", exact=True).click()
    admin.wait_for_url(f"{web}/console")
    expect(admin.get_by_role("heading", name="Your profile")).to_be_visible()
    expect(admin.locator("#profile-email")).to_have_text(ADMIN_EMAIL)
    # Only the roles a super admin may invite are offered.
    assert admin.locator("#invite-role option").all_inner_texts() == ["Site admin", "Operator", "Client admin"]
    # The refresh token is an HttpOnly cookie the page cannot read; the CSRF token is readable.
    cookies = {cookie["name"]: cookie for cookie in admin.context.cookies()}
    assert cookies["um_refresh"]["httpOnly"] is True and cookies["um_refresh"]["sameSite"] == "Strict"
    assert cookies["um_refresh"]["path"] == "/web/session"
    assert "um_refresh" not in admin.evaluate("document.cookie")
    expect(admin.locator("body")).to_have_attribute("data-live", "on")
    wait_for_subscribers(services["channel"], 1)

    # --- 2. It invites a client_admin, which creates the organization.
    admin.get_by_label("Role").select_option("client_admin")
    admin.get_by_label("Email", exact=True).fill(BOSS_EMAIL)
    admin.get_by_label("New organization's name").fill(ORGANIZATION)
    admin.get_by_role("button", name="Send invite").click()
    row = admin.locator("#invites-table tbody tr", has_text=BOSS_EMAIL)
    expect(row.locator(".status")).to_have_text("pending")
    expect(row).to_contain_text(ORGANIZATION)
    shoot(admin, artifacts, "02-console-invite-sent")

    # --- 3. In a second browser, the link from the received email is opened and accepted.
    link = link_in(wait_for_message(smtp_server, BOSS_EMAIL, SUBJECT_INVITE), "/accept-invite")
    assert link.startswith(f"{web}/accept-invite?token="), link
    _, boss, boss_problems = browser_context(viewport=DESKTOP)
    boss.goto(link)
    expect(boss.locator("#invite-card")).to_be_visible()
    expect(boss.get_by_role("heading", name=f"Join {ORGANIZATION}")).to_be_visible()
    expect(boss.locator("#invite-inviter")).to_have_text("Super Admin")
    expect(boss.locator("#invite-role")).to_have_text("Client admin")
    expect(boss.locator("#invite-organization")).to_have_text(ORGANIZATION)
    expect(boss.locator("#invite-email")).to_have_text(BOSS_EMAIL)
    shoot(boss, artifacts, "03-accept-invite")

    boss.get_by_label("First name").fill("Bea")
    boss.get_by_label("Last name").fill("Boss")
    boss.get_by_label("New password").fill("short")
    expect(boss.locator('#password-policy li[data-rule="lower"]')).to_have_class(re.compile(r"\bmet\b"))
    expect(boss.locator('#password-policy li[data-rule="length"]')).not_to_have_class(re.compile(r"\bmet\b"))
    boss.get_by_role("button", name="Create my account").click()
    expect(boss.locator("#password-error")).to_contain_text("8 to 128 characters")
    expect(boss.get_by_label("New password")).to_be_focused()
    expect(boss.locator("#accept-form .form-error")).to_have_text("Please fix the password.")
    shoot(boss, artifacts, "04-accept-invite-password-policy")
    boss.get_by_label("New password").fill(BOSS_PASSWORD)
    boss.get_by_label("Repeat the password").fill(BOSS_PASSWORD)
    expect(boss.locator("#password-policy li.met")).to_have_count(4)
    boss.get_by_role("button", name="Create my account").click()
    expect(boss.get_by_role("heading", name="Your account is ready")).to_be_visible()
    shoot(boss, artifacts, "05-accept-invite-done")

    # --- 4. The inviter's console shows the toast and the invite as accepted, without a reload.
    toast = admin.locator("#toasts .toast", has_text="accepted your invite")
    expect(toast).to_be_visible()
    expect(toast).to_contain_text("Bea Boss")
    expect(row.locator(".status")).to_have_text("accepted")
    expect(row.get_by_role("button")).to_have_count(0)
    console_shot = shoot(admin, artifacts, "06-console-toast-accepted", full_page=False)
    if os.environ.get("UPDATE_DOCS_SCREENSHOT") == "1":
        shutil.copyfile(console_shot, PROJECT_ROOT / "docs" / "console.png")
    admin.set_viewport_size(PHONE)
    shoot(admin, artifacts, "07-console-phone")

    # The used link now gets a clear page.
    boss.goto(link)
    expect(boss.get_by_role("heading", name="This invite has already been used")).to_be_visible()
    shoot(boss, artifacts, "08-accept-invite-used")

    # --- 5. The new client_admin signs in with the emailed code (organizations default to email codes).
    boss.goto(f"{web}/login")
    boss.get_by_label("Email").fill(BOSS_EMAIL)
    boss.get_by_label("Password").fill(BOSS_PASSWORD)
    boss.get_by_role("button", name="Sign in", exact=True).click()
    expect(boss.get_by_role("heading", name="Check your email")).to_be_visible()
    expect(boss.get_by_role("heading", name="Check your email")).to_be_focused()
    shoot(boss, artifacts, "09-login-email-code")
    code = otp_code(wait_for_message(smtp_server, BOSS_EMAIL, SUBJECT_OTP))
    boss.get_by_label("Code from the email").fill("000000" if code != "000000" else "111111")
    boss.get_by_role("button", name="Verify").click()
    expect(boss.locator("#code-form .form-error")).to_have_text("Invalid or expired verification code")
    boss.get_by_label("Code from the email").fill(code)
    boss.get_by_role("button", name="Verify").click()
    boss.wait_for_url(f"{web}/console")
    expect(boss.locator("#profile-email")).to_have_text(BOSS_EMAIL)
    expect(boss.locator("#organization-section")).to_be_visible()
    expect(boss.get_by_label("Name", exact=True)).to_have_value(ORGANIZATION)
    expect(boss.get_by_label("Second factor for members")).to_have_value("otp")
    expect(boss.locator("#members-table tbody tr", has_text=BOSS_EMAIL)).to_be_visible()
    assert boss.locator("#invite-role option").all_inner_texts() == ["Client user"]
    expect(boss.locator("body")).to_have_attribute("data-live", "on")
    shoot(boss, artifacts, "10-console-client-admin")

    # A reload keeps the session (the cookie gives the page a new access token), sign-out ends it.
    boss.reload()
    expect(boss.locator("#profile-email")).to_have_text(BOSS_EMAIL)
    boss.get_by_role("button", name="Sign out").click()
    boss.wait_for_url(f"{web}/login")
    boss.goto(f"{web}/console")
    boss.wait_for_url(f"{web}/login")

    # --- 6. The password pages.
    boss.goto(f"{web}/forgot-password")
    boss.get_by_label("Email").fill(BOSS_EMAIL)
    boss.get_by_role("button", name="Send the link").click()
    expect(boss.locator("#forgot-done")).to_contain_text("If an account exists")
    shoot(boss, artifacts, "11-forgot-password")
    # A dead reset link is refused when the page opens, before the form.
    boss.goto(f"{web}/reset-password?token=not-a-real-token")
    expect(boss.get_by_role("heading", name="This link can no longer be used")).to_be_visible()
    expect(boss.locator("#reset-form")).to_be_hidden()
    shoot(boss, artifacts, "12-reset-password-invalid")
    reset_email = wait_until(lambda: [m for m in smtp_server.messages
                                      if m["To"] == BOSS_EMAIL and "/reset-password?token=" in text_part(m)])
    assert reset_email, [(m["To"], m["Subject"]) for m in smtp_server.messages]
    boss.goto(link_in(reset_email[0], "/reset-password"))
    boss.get_by_label("New password").fill("Velvet-Tractor-Orbit-9")
    expect(boss.locator("#password-policy li.met")).to_have_count(4)
    shoot(boss, artifacts, "13-reset-password")
    boss.get_by_label("Repeat the password").fill("Velvet-Tractor-Orbit-9")
    boss.get_by_role("button", name="Set the password").click()
    expect(boss.get_by_role("heading", name="Password changed")).to_be_visible()
    shoot(boss, artifacts, "14-reset-password-done")

    assert_clean(admin_problems)
    assert_clean(boss_problems)
