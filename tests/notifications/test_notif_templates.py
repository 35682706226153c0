"""E-mail templates: every template renders an HTML and a text part with its link or code."""
import email

import pytest

from notifications.utils.mailer import TEMPLATES, build_message, render_job

CONTEXTS = {
    "invite": {"link": "https://app.example.com/invite/tok123", "inviterName": "Ada", "organizationName": "Acme",
               "role": "client_user", "expiresAt": "2030-01-01"},
    "otp": {"code": "493817", "expiresInMinutes": 10},
    "password-reset": {"link": "https://app.example.com/reset/tok456"},
    "invite-accepted": {"email": "bob@example.com", "name": "Bob", "role": "operator"},
}
MARKERS = {"invite": "https://app.example.com/invite/tok123", "otp": "493817",
           "password-reset": "https://app.example.com/reset/tok456", "invite-accepted": "bob@example.com"}


def test_every_template_has_a_fixture():
    """Adding a template means adding it here."""
    assert set(CONTEXTS) == set(TEMPLATES)


@pytest.mark.parametrize("name", TEMPLATES)
def test_renders_html_and_text(app, name):
    """Both parts carry the link (or code), the subject is set."""
    with app.test_request_context():
        subject, html, text = render_job({"template": name, "context": CONTEXTS[name]})
    assert subject and "\n" not in subject
    assert MARKERS[name] in html and MARKERS[name] in text
    assert html.lstrip().lower().startswith("<!doctype html>")
    assert "<html" not in text.lower()


def test_invite_link_is_an_anchor(app):
    """The invite link is clickable in the HTML part."""
    with app.app_context():
        _subject, html, _text = render_job({"template": "invite", "context": CONTEXTS["invite"]})
    assert 'href="https://app.example.com/invite/tok123"' in html


def test_html_escapes_context(app):
    """Names come from users: they are escaped in HTML."""
    context = {**CONTEXTS["invite"], "inviterName": "<script>alert(1)</script>"}
    with app.app_context():
        _subject, html, text = render_job({"template": "invite", "context": context})
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<script>alert(1)</script>" in text


def test_optional_context_may_be_missing(app):
    """Only the required fields are needed."""
    with app.app_context():
        _subject, html, text = render_job({"template": "invite", "context": {"link": "http://localhost/i/1"}})
    assert "You have been invited" in text and "http://localhost/i/1" in html


def test_message_is_multipart(app):
    """The built message has a text/plain and a text/html alternative."""
    with app.app_context():
        subject, html, text = render_job({"template": "otp", "context": CONTEXTS["otp"]})
        message = build_message("no-reply@example.com", "a@example.com", subject, html, text)
    types = [part.get_content_type() for part in message.walk()]
    assert "multipart/alternative" in types
    assert "text/plain" in types and "text/html" in types
