"""Portcullis as an OpenID provider, as an app meets it: openid-client (an OpenID Certified
relying-party library, tests/oidc/relying-party.mjs) signs a person in through the hosted pages in
headless Chromium, and checks everything itself: discovery, PKCE, state, nonce, the ID token,
UserInfo, refresh, revocation and RP-initiated logout."""

import json
import re
import subprocess
from pathlib import Path

import pytest
from conftest import PASSWORD, axe_violations, free_port, screenshot, unique_email

OIDC = Path(__file__).parent.parent / "oidc"


class RelyingParty:
    def __init__(self, server, public=False):
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        args = [
            "clients", "create", "--name", "Annotation tool",
            "--redirect-uri", f"{self.url}/callback",
            "--post-logout-redirect-uri", f"{self.url}/signed-out",
        ]
        if public:
            args.append("--public")
        printed = server.cli(*args)
        self.client_id = re.search(r"client_id:\s+(\S+)", printed).group(1)
        secret = re.search(r"client_secret:\s+(\S+)", printed)
        assert (secret is None) == public, printed
        env = {
            "PATH": "/usr/bin:/bin:/usr/local/bin",
            "ISSUER": server.url,
            "CLIENT_ID": self.client_id,
            "CLIENT_SECRET": secret.group(1) if secret else "",
            "PORT": str(port),
        }
        self.process = subprocess.Popen(
            ["node", "relying-party.mjs"], cwd=OIDC, env=env,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        line = self.process.stdout.readline()
        if not line.startswith("listening "):
            self.process.kill()
            raise RuntimeError(f"the relying party did not start: {line!r} {self.process.stderr.read()}")

    def stop(self):
        self.process.kill()
        self.process.wait()


@pytest.fixture
def relying_party():
    parties = []

    def start(server, public=False):
        party = RelyingParty(server, public)
        parties.append(party)
        return party

    yield start
    for party in parties:
        party.stop()


def outcome(page):
    try:
        page.locator("#outcome, #error").wait_for(timeout=15000)
    except Exception:
        raise AssertionError(f"no outcome at {page.url}: {page.content()[:3000]}")
    error = page.locator("#error")
    if error.count():
        raise AssertionError(f"the app failed: {error.inner_text()}")
    return json.loads(page.locator("#outcome").inner_text())


def sign_up_by_api(server, email):
    import urllib.request
    body = json.dumps({"email": email, "password": PASSWORD, "accept_terms": True}).encode()
    request = urllib.request.Request(
        f"{server.url}/v1/signup", data=body, headers={"content-type": "application/json"}
    )
    with urllib.request.urlopen(request) as reply:
        return json.loads(reply.read())


@pytest.mark.parametrize("public", [False, True], ids=["confidential", "public"])
def test_an_app_signs_a_person_in_with_a_certified_client(page, start_server, relying_party, public):
    server = start_server(PORTCULLIS_EMAIL_VERIFICATION="off")
    app = relying_party(server, public=public)
    email = unique_email("ada")
    account = sign_up_by_api(server, email)

    page.goto(f"{app.url}/login?login_hint={email}")
    # The hosted login, with the app's hint already in the identifier field.
    page.get_by_role("heading", name="Log in").wait_for()
    assert page.get_by_label("Username or email").input_value() == email
    page.get_by_role("button", name="Next").click()
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()

    result = outcome(page)
    assert result["claims"]["sub"] == account["user_id"]
    assert result["claims"]["email"] == email
    assert result["claims"]["preferred_username"] == account["username"]
    assert result["claims"]["aud"] == app.client_id
    assert result["userinfo"]["sub"] == account["user_id"]
    assert result["userinfo"]["email"] == email
    assert result["scope"] == "openid profile email"
    assert result["refreshed_sub"] == account["user_id"]
    assert result["refresh_rotated"] is True
    assert result["after_revocation"] == "invalid_grant"

    # A second sign-in needs no password: the hosted pages' session answers at once.
    page.goto(f"{app.url}/login")
    assert outcome(page)["claims"]["sub"] == account["user_id"]

    # RP-initiated logout: back to the app, and signed out of Portcullis too.
    page.get_by_role("link", name="Sign out").click()
    page.get_by_role("heading", name="Signed out").wait_for()
    assert page.locator("#state").inner_text() == "signed-out-state"
    page.goto(f"{server.url}/account")
    page.get_by_role("heading", name="Log in").wait_for()


def test_a_new_person_signs_up_and_confirms_on_the_way_to_the_app(page, server, relying_party):
    app = relying_party(server)
    email = unique_email("grace")
    page.goto(f"{app.url}/login")
    page.get_by_role("link", name="Create an account").click()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label(re.compile("I accept")).check()
    page.get_by_role("button", name="Create account").click()
    page.get_by_role("heading", name="Check your mail").wait_for()

    page.goto(server.link(email, "/verify-email"))
    page.get_by_role("button", name="Confirm my email").click()
    page.get_by_role("link", name="Log in").click()
    page.get_by_label("Username or email").fill(email)
    page.get_by_role("button", name="Next").click()
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()

    # The app's request waited through signup and confirmation.
    result = outcome(page)
    assert result["claims"]["email"] == email
    assert result["claims"]["email_verified"] is True


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_refusals_and_the_logout_question_are_pages_for_people(browser_context, server, javascript):
    page = browser_context(javascript=javascript, width=375).new_page()
    page.goto(f"{server.url}/oauth2/authorize?response_type=code&client_id=nope"
              "&redirect_uri=https://evil.example.com/&scope=openid")
    page.get_by_role("heading", name="This sign-in link doesn't work").wait_for()
    assert "not registered" in page.content()
    assert page.url.startswith(server.url), "never sent on"
    if javascript:  # axe-core is a script: it runs only where scripts do
        assert not axe_violations(page)
    screenshot(page, "oidc-refused")

    page.goto(f"{server.url}/oauth2/logout")
    page.get_by_role("heading", name="Sign out?").wait_for()
    if javascript:
        assert not axe_violations(page)
    screenshot(page, "oidc-logout")
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("heading", name="You are signed out").wait_for()

    page.goto(f"{server.url}/oauth2/logout?lang=ko")
    page.get_by_role("heading", name="로그아웃할까요?").wait_for()
