"""Passkeys in a real browser: Debian's Chromium with its virtual authenticator (CDP WebAuthn domain).

The pages are served on http://localhost:<port> (a relying party id must be a domain name, and
localhost is a secure context). The super admin adds a passkey on its account page, signs in with
password + passkey, signs in with the passkey alone, and removes it. Screenshots land in
test-artifacts/web/<test>/.
"""

import pytest
import requests

from support.api import ADMIN_EMAIL, ADMIN_PASSWORD, SUBJECT_OTP, otp_code
from support.processes import free_port
from support.smtp import wait_for_message

DESKTOP = {"width": 1280, "height": 900}
PASSKEY_NAME = "Virtual key"


@pytest.fixture
def services(smtp_server, service_stack, user_management_port):
    """Both services as real processes; the pages on http://localhost:<port>."""
    smtp_server.start()
    web_url = f"http://localhost:{user_management_port}"
    notifications_port = free_port()
    notifications_url = f"http://127.0.0.1:{notifications_port}"
    service_stack(notifications_ports=[notifications_port],
                  notifications_env={"CORS_ORIGIN": web_url, "JWT_ISSUER": web_url, "JWT_AUDIENCE": web_url},
                  FRONTEND_URL=web_url, NOTIFICATIONS_PUBLIC_URL=notifications_url)
    return {"web": web_url}


def virtual_authenticator(page):
    """A platform authenticator that keeps discoverable credentials and verifies the user (CDP WebAuthn)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    added = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True, "hasUserVerification": True,
        "isUserVerified": True, "automaticPresenceSimulation": True,
    }})
    return cdp, added["authenticatorId"]


def require_email_codes(web, smtp_server):
    """The super admin turns on email codes (staff choose their own second factor), through the API."""
    session = requests.post(f"{web}/api/auth/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD},
                            timeout=10).json()
    headers = {"Authorization": f"Bearer {session['accessToken']}"}
    response = requests.put(f"{web}/api/auth/two-factor", json={"method": "otp", "currentPassword": ADMIN_PASSWORD},
                            headers=headers, timeout=10)
    assert response.status_code == 200, response.text
    code = otp_code(wait_for_message(smtp_server, ADMIN_EMAIL, SUBJECT_OTP))
    response = requests.post(f"{web}/api/auth/two-factor/otp/confirm", json={"otp": code}, headers=headers,
                             timeout=10)
    assert response.status_code == 200, response.text


def sign_out(page, web):
    """Drop the session cookie and go back to the login page."""
    page.context.clear_cookies()
    page.goto(f"{web}/login")


def test_register_sign_in_twice_and_remove(services, smtp_server, browser_context, artifacts):
    from playwright.sync_api import expect

    web = services["web"]
    _, page, problems = browser_context(viewport=DESKTOP)

    # --- 1. Signed in with the password, the admin adds a passkey on the account page.
    page.goto(f"{web}/login")
    page.get_by_label("Email").fill(ADMIN_EMAIL)
    page.get_by_label("Password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url(f"{web}/console")
    # Let the console finish its own cookie refresh first (a rotated cookie lost mid-flight ends the session).
    expect(page.locator("#profile-email")).to_have_text(ADMIN_EMAIL)
    page.goto(f"{web}/account/passkeys")
    cdp, authenticator_id = virtual_authenticator(page)
    expect(page.locator("#passkeys-empty")).to_be_visible()
    page.get_by_label("Passkey name").fill(PASSKEY_NAME)
    page.get_by_label("Your password", exact=True).fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Add a passkey").click()
    row = page.locator("#passkeys-table tbody tr", has_text=PASSKEY_NAME)
    expect(row).to_be_visible()
    expect(row).to_contain_text("Never")
    page.screenshot(path=str(artifacts / "01-passkey-added.png"), full_page=True)
    [stored] = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})["credentials"]
    assert stored["isResidentCredential"] is True

    # --- 2. Password, then the passkey as the second step (the admin now requires email codes).
    require_email_codes(web, smtp_server)
    sign_out(page, web)
    page.get_by_label("Email").fill(ADMIN_EMAIL)
    page.get_by_label("Password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    page.screenshot(path=str(artifacts / "02-second-step-offers-passkey.png"), full_page=True)
    page.get_by_role("button", name="Use a passkey").click()
    page.wait_for_url(f"{web}/console")
    expect(page.locator("#profile-email")).to_have_text(ADMIN_EMAIL)

    # --- 3. Passwordless: no email, no password.
    sign_out(page, web)
    page.get_by_role("button", name="Sign in with a passkey").click()
    page.wait_for_url(f"{web}/console")
    expect(page.locator("#profile-email")).to_have_text(ADMIN_EMAIL)
    counts = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})["credentials"]
    assert counts[0]["signCount"] >= 2

    # --- 4. Remove it (after the password); a passwordless sign-in then fails with a clear message.
    page.goto(f"{web}/account/passkeys")
    row = page.locator("#passkeys-table tbody tr", has_text=PASSKEY_NAME)
    expect(row).not_to_contain_text("Never")
    row.get_by_role("button", name=f"Remove {PASSKEY_NAME}").click()
    page.get_by_label("Your password, to confirm").fill("Wrong-Password-00")
    page.get_by_role("button", name="Remove passkey").click()
    expect(page.locator("#remove-password-error")).to_contain_text("incorrect")
    page.get_by_label("Your password, to confirm").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Remove passkey").click()
    expect(page.locator("#passkeys-empty")).to_be_visible()
    page.screenshot(path=str(artifacts / "03-passkey-removed.png"), full_page=True)
    sign_out(page, web)
    page.get_by_role("button", name="Sign in with a passkey").click()
    expect(page.locator("#login-form .form-error")).to_contain_text("could not be verified")
    page.screenshot(path=str(artifacts / "04-removed-passkey-refused.png"), full_page=True)
    serious = [text for text in problems if "Content Security Policy" in text or text.startswith("pageerror")]
    assert serious == [], problems
