"""The example of the README: a Django app on django-allauth's `openid_connect` provider
(examples/django-allauth), pointed only at Portcullis' issuer with a client id and secret, signs
a person in through the hosted pages."""

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import PASSWORD, free_port, unique_email
from test_openid import sign_up_by_api

EXAMPLE = Path(__file__).parent.parent.parent / "examples" / "django-allauth"


@pytest.fixture
def django_app(start_server, tmp_path):
    server = start_server(PORTCULLIS_EMAIL_VERIFICATION="off")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    printed = server.cli(
        "clients", "create", "--name", "Django example",
        "--redirect-uri", f"{url}/accounts/oidc/portcullis/login/callback/",
    )
    fields = dict(line.split(":", 1) for line in printed.splitlines() if line.startswith("client_"))
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PORTCULLIS_")},
        "PORTCULLIS_ISSUER": server.url,
        "PORTCULLIS_CLIENT_ID": fields["client_id"].strip(),
        "PORTCULLIS_CLIENT_SECRET": fields["client_secret"].strip(),
        "EXAMPLE_DB": str(tmp_path / "example.sqlite3"),
    }
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=EXAMPLE, env=env, check=True,
    )
    process = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=EXAMPLE, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(url, timeout=1):
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"the Django example did not start: {process.stderr.read()}")
            time.sleep(0.2)
    yield server, url
    process.kill()
    process.wait()


def test_django_allauth_signs_a_person_in_through_portcullis(page, django_app):
    server, app = django_app
    email = unique_email("cvat-user")
    account = sign_up_by_api(server, email)

    page.goto(app)
    page.get_by_role("link", name="Sign in with Portcullis").click()
    page.get_by_label("Username or email").fill(email)
    page.get_by_role("button", name="Next").click()
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()

    page.get_by_role("heading", name="Signed in").wait_for()
    assert page.url.startswith(app)
    who = page.locator("#who").inner_text()
    assert email in who, who
    assert account["username"] in who, who
