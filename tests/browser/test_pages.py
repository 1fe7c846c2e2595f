"""Journeys through the hosted pages, as a person makes them, in headless Chromium."""

import os
import re

import pytest
from conftest import PASSWORD, axe_violations, screenshot, unique_email


def sign_up(page, server, email, username=None, password=PASSWORD):
    page.goto(f"{server.url}/signup")
    page.get_by_label("First name").fill("Ada")
    page.get_by_label("Last name").fill("Lovelace")
    page.get_by_label("Email").fill(email)
    if username is not None:
        page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_label(re.compile("I accept")).check()
    page.get_by_role("button", name="Create account").click()


def confirm_email(page, server, email):
    page.goto(server.link(email, "/verify-email"))
    page.get_by_role("button", name="Confirm my email").click()
    page.get_by_role("heading", name="Email confirmed").wait_for()


def log_in(page, server, identifier, password=PASSWORD):
    page.goto(f"{server.url}/login")
    page.get_by_label("Username or email").fill(identifier)
    page.get_by_role("button", name="Next").click()
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Log in", exact=True).click()


def test_signup_fills_the_username_from_the_email_until_it_is_edited(page, server):
    email = unique_email("ada.lovelace")
    page.goto(f"{server.url}/signup")
    page.get_by_label("Email").fill(email)
    username = page.get_by_label("Username")
    expected = email.split("@")[0]
    page.wait_for_function(
        "expected => document.querySelector('input[name=username]').value === expected",
        arg=expected,
    )
    username.fill("countess")
    page.get_by_label("Email").fill("other-" + email)
    page.wait_for_timeout(600)
    assert username.input_value() == "countess"
    # The rules tick as the password meets them.
    page.get_by_label("Password", exact=True).fill("abc")
    assert page.locator("li[data-rule=letter]").get_attribute("class") == "met"
    assert page.locator("li[data-rule=digit]").get_attribute("class") in (None, "")
    screenshot(page, "signup")


def test_signup_confirm_and_log_in_by_username_and_by_email(page, server):
    email = unique_email("grace")
    sign_up(page, server, email, username="grace_h")
    page.get_by_role("heading", name="Check your mail").wait_for()
    assert email in page.content()
    screenshot(page, "check-mail")

    # Before the email is confirmed: the login says so, and offers the mail again.
    log_in(page, server, "grace_h")
    page.get_by_text("Confirm your email before you log in").first.wait_for()
    assert page.get_by_role("button", name="Send the mail again").is_visible()

    # Opening the link uses nothing; the button does.
    page.goto(server.link(email, "/verify-email"))
    page.get_by_role("heading", name="Confirm your email").wait_for()
    screenshot(page, "verify-email")
    assert not axe_violations(page)
    page.get_by_role("button", name="Confirm my email").click()
    page.get_by_role("heading", name="Email confirmed").wait_for()

    log_in(page, server, "grace_h")
    page.get_by_role("heading", name="Your account").wait_for()
    assert "grace_h" in page.content()
    page.get_by_role("button", name="Log out").click()
    page.get_by_role("heading", name="Log in").wait_for()

    log_in(page, server, email.upper())
    page.get_by_role("heading", name="Your account").wait_for()


def test_identifier_first_shows_the_password_without_a_page_load(page, server):
    page.goto(f"{server.url}/login")
    screenshot(page, "login")
    assert not axe_violations(page)
    password = page.get_by_label("Password", exact=True)
    assert not password.is_visible()
    page.evaluate("window.marker = 'same page'")
    page.get_by_label("Username or email").fill("nobody")
    page.get_by_role("button", name="Next").click()
    assert password.is_visible()
    assert page.evaluate("window.marker") == "same page"


def test_every_login_error_has_its_own_words(page, start_server):
    server = start_server(
        PORTCULLIS_EMAIL_VERIFICATION="off", PORTCULLIS_LOCKOUT_THRESHOLD="3"
    )
    email = unique_email("kate")
    sign_up(page, server, email, username="kate")
    page.get_by_role("heading", name="Your account").wait_for()
    page.get_by_role("button", name="Log out").click()
    # This browser signed in: it keeps a device cookie through logging out. A stranger has none.
    cookies = page.context.cookies()
    device = [c for c in cookies if c["name"] == "pc_device"]
    assert len(device) == 1 and device[0]["httpOnly"], cookies
    page.context.clear_cookies()

    # One message for an unknown account and a wrong password.
    log_in(page, server, "nobody-here", "Wrong#pass1")
    unknown = page.locator(".summary").inner_text()
    log_in(page, server, "kate", "Wrong#pass1")
    wrong = page.locator(".summary").inner_text()
    assert unknown == wrong
    assert "not right" in wrong
    screenshot(page, "login-error")
    assert not axe_violations(page)

    # The third failure locks: the next attempt, even with the right password, is told how long.
    log_in(page, server, "kate", "Wrong#pass1")
    log_in(page, server, "kate", "Wrong#pass1")
    log_in(page, server, "kate", PASSWORD)
    text = page.locator(".summary").inner_text()
    assert re.search(r"Try again in 20 minutes", text), text

    # The stranger is locked out, not the owner: the browser that signed in before still does.
    page.context.clear_cookies()
    page.context.add_cookies(device)
    log_in(page, server, "kate", PASSWORD)
    page.get_by_role("heading", name="Your account").wait_for()


def test_login_while_waiting_for_approval_and_when_disabled(page, start_server):
    server = start_server(PORTCULLIS_EMAIL_VERIFICATION="off", PORTCULLIS_SIGNUP_MODE="approval")
    email = unique_email("lin")
    sign_up(page, server, email, username="lin")
    page.get_by_role("heading", name="Waiting for approval").wait_for()
    log_in(page, server, "lin")
    page.get_by_text("waiting for an administrator's approval").first.wait_for()


def test_signup_errors_sit_next_to_their_fields(page, server):
    page.goto(f"{server.url}/signup")
    page.get_by_label("Email").fill("not-an-email")
    page.get_by_label("Password", exact=True).fill("password")
    page.get_by_role("button", name="Create account").click()
    page.locator(".summary").wait_for()
    assert page.locator("#email-error").is_visible()
    assert page.locator("#accept_terms-error").is_visible()
    assert page.get_by_label("Email").get_attribute("aria-invalid") == "true"
    # What was typed stays; the password is typed again.
    assert page.get_by_label("Email").input_value() == "not-an-email"
    screenshot(page, "signup-errors")
    assert not axe_violations(page)

    # A weak password: each rule it breaks, next to the field.
    page.get_by_label("Email").fill(unique_email("weak"))
    page.get_by_label("Password", exact=True).fill("password")
    page.get_by_label(re.compile("I accept")).check()
    page.get_by_role("button", name="Create account").click()
    errors = page.locator("#password-error").all_inner_texts()
    assert any("digit" in e for e in errors), errors
    assert any("too common" in e for e in errors), errors


def test_forgot_and_reset_from_the_mailed_link(page, start_server):
    server = start_server(PORTCULLIS_EMAIL_VERIFICATION="off")
    email = unique_email("reset")
    sign_up(page, server, email, username="resetter")
    page.get_by_role("heading", name="Your account").wait_for()
    page.get_by_role("button", name="Log out").click()

    page.goto(f"{server.url}/forgot-password")
    screenshot(page, "forgot-password")
    assert not axe_violations(page)
    page.get_by_label("Email").fill(email)
    page.get_by_role("button", name="Send").click()
    known = page.locator("main").inner_text()
    page.goto(f"{server.url}/forgot-password")
    page.get_by_label("Email").fill(unique_email("nobody"))
    page.get_by_role("button", name="Send").click()
    assert page.locator("main").inner_text() == known

    page.goto(server.link(email, "/reset-password"))
    screenshot(page, "reset-password")
    page.get_by_label("New password", exact=True).fill("Brand#new-pass9")
    page.get_by_label("New password again").fill("Brand#new-pass8")
    page.get_by_role("button", name="Change password").click()
    assert page.locator("#new_password_again-error").is_visible()
    page.get_by_label("New password", exact=True).fill("Brand#new-pass9")
    page.get_by_label("New password again").fill("Brand#new-pass9")
    page.get_by_role("button", name="Change password").click()
    page.get_by_role("heading", name="Password changed").wait_for()
    log_in(page, server, "resetter", "Brand#new-pass9")
    page.get_by_role("heading", name="Your account").wait_for()


def test_account_change_password_sessions_and_access_keys(browser_context, start_server):
    server = start_server(PORTCULLIS_EMAIL_VERIFICATION="off")
    first = browser_context().new_page()
    email = unique_email("owner")
    sign_up(first, server, email, username="owner")
    first.get_by_role("heading", name="Your account").wait_for()

    # A second browser signs in too; the first signs it out.
    second = browser_context().new_page()
    log_in(second, server, "owner")
    second.get_by_role("heading", name="Your account").wait_for()
    first.reload()
    assert first.get_by_role("button", name="Sign out", exact=True).count() == 1
    screenshot(first, "account")
    assert not axe_violations(first)
    first.get_by_role("button", name="Sign out", exact=True).click()
    first.get_by_text("The session was signed out.").wait_for()
    second.reload()
    second.get_by_role("heading", name="Log in").wait_for()

    # An access key: the password is asked first, the secret is shown once, and it logs in on
    # the access-key page.
    first.get_by_role("button", name="Create an access key").click()
    first.get_by_text("This field is required.").first.wait_for()
    first.get_by_label("Your password").fill("not-my-password")
    first.get_by_role("button", name="Create an access key").click()
    first.get_by_text("The username, email or password is not right.").first.wait_for()
    assert first.locator("#new-access-key").count() == 0
    first.get_by_label("Your password").fill(PASSWORD)
    first.get_by_role("button", name="Create an access key").click()
    key = first.locator("#new-access-key").inner_text().strip()
    secret = first.locator("#new-secret-key").inner_text().strip()
    assert key.startswith("PCAK") and len(secret) > 20
    first.reload()
    assert secret not in first.content()
    keyed = browser_context().new_page()
    keyed.goto(f"{server.url}/login")
    keyed.get_by_role("link", name="Log in with access key").click()
    screenshot(keyed, "access-key-login")
    keyed.get_by_label("Access key").fill(key)
    keyed.get_by_label("Secret key").fill(secret)
    keyed.get_by_role("button", name="Log in").click()
    keyed.get_by_role("heading", name="Your account").wait_for()

    # Change password: a wrong current password is named, the right one works.
    first.get_by_label("Current password").fill("Not#the-one1")
    first.get_by_label("New password", exact=True).fill("Another#pass77")
    first.get_by_label("New password again").fill("Another#pass77")
    first.get_by_role("button", name="Change password").click()
    assert first.locator("#current_password-error").is_visible()
    first.get_by_label("Current password").fill(PASSWORD)
    first.get_by_label("New password", exact=True).fill("Another#pass77")
    first.get_by_label("New password again").fill("Another#pass77")
    first.get_by_role("button", name="Change password").click()
    first.get_by_text("Your password is changed").wait_for()


@pytest.mark.parametrize("width", [375, 1280])
def test_every_page_reads_at_both_widths_and_passes_axe(browser_context, server, width):
    page = browser_context(width=width).new_page()
    for path, name in [
        ("/login", "login"),
        ("/signup", "signup"),
        ("/forgot-password", "forgot-password"),
        ("/reset-password?token=x", "reset-password"),
        ("/verify-email?token=x", "verify-email"),
        ("/login/access-key", "access-key-login"),
        ("/oauth/complete", "oauth-complete"),
        ("/signup?lang=ko", "signup-ko"),
    ]:
        page.goto(server.url + path)
        # Nothing wider than the screen: no sideways scrolling at 375 px.
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} is {overflow}px too wide at {width}"
        screenshot(page, name)
        violations = axe_violations(page)
        assert not violations, f"{path}: {violations}"


def test_login_and_signup_without_javascript(browser_context, start_server):
    server = start_server(PORTCULLIS_EMAIL_VERIFICATION="off")
    page = browser_context(javascript=False).new_page()
    email = unique_email("nojs")
    sign_up(page, server, email, username="nojs_user")
    page.get_by_role("heading", name="Your account").wait_for()
    page.get_by_role("button", name="Log out").click()

    # Two steps, each a page of its own.
    page.goto(f"{server.url}/login")
    page.get_by_label("Username or email").fill("nojs_user")
    page.get_by_role("button", name="Next").click()
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()
    page.get_by_role("heading", name="Your account").wait_for()


def test_korean_from_accept_language_and_the_switcher(browser_context, server):
    page = browser_context(locale="ko-KR").new_page()
    page.goto(f"{server.url}/login")
    assert page.get_by_role("heading", name="로그인").is_visible()
    assert page.locator("html").get_attribute("lang") == "ko"
    page.get_by_role("link", name="English").click()
    page.get_by_role("heading", name="Log in").wait_for()
    page.goto(f"{server.url}/signup")
    assert page.get_by_role("heading", name="Create an account").is_visible()
    # Switching language on a mailed link keeps its token.
    page.goto(f"{server.url}/reset-password?token=abc")
    page.get_by_role("link", name="한국어").click()
    page.get_by_role("heading", name="새 비밀번호 정하기").wait_for()
    assert page.locator("input[name=token]").input_value() == "abc"


def test_forms_from_another_site_are_refused(page, server):
    page.goto(f"{server.url}/login")
    # The form without its token, as another site could send it.
    status = page.evaluate(
        """async () => {
            const r = await fetch('/login', {method: 'POST',
                headers: {'content-type': 'application/x-www-form-urlencoded'},
                body: 'identifier=a&password=b'});
            return r.status;
        }"""
    )
    assert status == 403
    headers = page.request.get(f"{server.url}/login").headers
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert "script-src 'self'" in headers["content-security-policy"]


def test_google_sign_in_through_the_local_openid_provider_ends_signed_in(
    page, start_server, openid_provider
):
    server = start_server(
        PORTCULLIS_OAUTH_GOOGLE_CLIENT_ID="portcullis",
        PORTCULLIS_OAUTH_GOOGLE_CLIENT_SECRET="portcullis-test-secret",
        PORTCULLIS_OAUTH_GOOGLE_ISSUER=openid_provider,
    )
    email = unique_email("google")
    page.goto(f"{server.url}/login")
    page.get_by_role("link", name="Continue with Google").click()
    # The provider's own pages: sign in, then consent.
    page.locator("input[name=login]").fill(email)
    page.locator("input[name=password]").fill("any")
    page.locator("button[type=submit]").first.click()
    page.locator("button[type=submit]").first.click()
    page.get_by_role("heading", name="Your account").wait_for()
    assert email in page.content()
    # The tokens stayed in HttpOnly cookies: nothing the page's script can read.
    assert page.evaluate("document.cookie") == ""


def test_invitation_signup_from_the_mailed_link(page, start_server):
    server = start_server(
        PORTCULLIS_SIGNUP_MODE="invitation", PORTCULLIS_EMAIL_VERIFICATION="off"
    )
    # The first admin, then an invitation mailed to the invitee, through the JSON API.
    import json
    import subprocess as sp
    import urllib.request

    admin_email = unique_email("admin")
    sp.run(
        [os.environ["PORTCULLIS_BIN"], "createsuperuser", "--email", admin_email,
         "--username", "boss", "--password-stdin"],
        input=PASSWORD + "\n", text=True, check=True, cwd=server.dir,
        env={**{k: v for k, v in os.environ.items() if not k.startswith("PORTCULLIS_")},
             "PORTCULLIS_STORE": f"sqlite://{server.dir}/portcullis.db"},
        stdout=sp.DEVNULL,
    )

    def api(path, body, token=None):
        request = urllib.request.Request(
            server.url + path, data=json.dumps(body).encode(), method="POST",
            headers={"content-type": "application/json",
                     **({"authorization": f"Bearer {token}"} if token else {})},
        )
        with urllib.request.urlopen(request) as reply:
            return json.load(reply)

    token = api("/v1/login", {"identifier": "boss", "password": PASSWORD})["access_token"]
    invitee = unique_email("invitee")
    api("/v1/admin/invitations", {"email": invitee}, token)

    # Signup without the invitation is refused; from the mailed link it works.
    page.goto(f"{server.url}/signup")
    assert page.get_by_text("needs an invitation").first.is_visible()
    page.goto(server.link(invitee, "/signup"))
    assert page.get_by_label("Invitation code").input_value() != ""
    page.get_by_label("Email").fill(invitee)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label(re.compile("I accept")).check()
    page.get_by_role("button", name="Create account").click()
    page.get_by_role("heading", name="Your account").wait_for()


def test_forms_count_against_the_client_ip_limit(page, start_server):
    server = start_server(PORTCULLIS_IP_RATE_LIMIT="3/1h")
    for _ in range(3):
        log_in(page, server, "someone", "Wrong#pass1")
        assert "not right" in page.locator(".summary").inner_text()
    # Showing the page never counts; the fourth form is refused with words, not JSON.
    log_in(page, server, "someone", "Wrong#pass1")
    assert "Too many tries from your network" in page.locator(".summary").inner_text()
