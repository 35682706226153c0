"""Helpers of the browser tests: signing in through the pages, onboarding people, axe-core, screenshots.

Nothing here waits on a sleep: every wait is Playwright's (an element, a URL) or `wait_for_message`.
"""
import re

from .api import ADMIN_EMAIL, ADMIN_PASSWORD, INVITEE_PASSWORD, SUBJECT_INVITE, SUBJECT_OTP, otp_code
from .smtp import messages, text_part, wait_for_message

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
VIEWPORTS = {"desktop": DESKTOP, "phone": PHONE}


def link_in(message, path):
    """The one link to `path` in an email's text part."""
    links = re.findall(r"https?://\S+", text_part(message))
    matching = [link for link in links if link.split("?")[0].endswith(path)]
    assert len(matching) == 1, links
    return matching[0]


def onboard(api, smtp, inviter_token, email, role, organization_name=None, first_name="Pat", last_name=None):
    """Invite `email` through the API, accept the emailed link; return the new user."""
    api.create_invite(inviter_token, email, role, organization_name)
    link = link_in(wait_for_message(smtp, email, SUBJECT_INVITE), "/accept-invite")
    token = link.split("token=", 1)[1]
    return api.accept_invite(token, INVITEE_PASSWORD, first_name=first_name,
                             last_name=last_name or role.replace("_", " ").title())


def sign_in(page, web, email=ADMIN_EMAIL, password=ADMIN_PASSWORD, smtp=None):
    """Sign in through the login page (with the emailed code when `smtp` is given); wait for the console."""
    from playwright.sync_api import expect

    already = len(messages(smtp, to=email, subject=SUBJECT_OTP)) if smtp else 0
    page.goto(f"{web}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    if smtp is not None:
        expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
        code = otp_code(wait_for_message(smtp, email, SUBJECT_OTP, count=already + 1))
        page.get_by_label("Code from the email").fill(code)
        page.get_by_role("button", name="Verify").click()
    page.wait_for_url(f"{web}/console")
    expect(page.locator("#profile-email")).to_have_text(email)
    # The console's own cookie refresh is done; now other pages may refresh too.


def open_page(page, web, path, heading):
    """Open a signed-in page and wait until it has drawn itself (its title focused)."""
    from playwright.sync_api import expect

    page.goto(f"{web}{path}")
    expect(page.locator("#page")).to_have_attribute("aria-busy", "false")
    expect(page.get_by_role("heading", name=heading, level=1)).to_be_visible()


def assert_accessible(page, context=None):
    """axe-core finds no violation on the page as it is now (every rule axe runs by default)."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, context=context)
    assert results.violations_count == 0, results.generate_report()


def assert_clean(problems):
    """No script error and no CSP violation on the page."""
    serious = [text for text in problems if "Content Security Policy" in text or text.startswith("pageerror")]
    assert serious == [], problems


def confirm_dialog(page, button_name):
    """The confirmation dialog is open with focus inside; press its confirm button."""
    from playwright.sync_api import expect

    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()
    dialog.get_by_role("button", name=button_name).click()
    expect(dialog).to_be_hidden()
