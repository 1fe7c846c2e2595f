"""Portcullis load scenarios, one user class per scenario; `loadtest/run` picks one and serves the
function it exercises. Every virtual user signs in as its own seeded account (a row of
LOADTEST_CREDENTIALS, written by `portcullis seed`), so lockout never skews a run, except in the
lockout storm, where all of them guess at one account on purpose.

Requests the scenario measures go through Locust's client and are counted; what a scenario needs
beforehand (a session to refresh, a code to redeem) is asked of LOADTEST_SETUP_URL with a plain
HTTP client and is not. Each answer is counted by its status and, for errors, the body's `code`;
an answer the scenario does not expect is a failure.

Settings, from the environment (`loadtest/run` sets them):
  LOADTEST_CREDENTIALS  the CSV of `portcullis seed` (email, username, password, access_key,
                        secret_key); its last row is the lockout storm's target
  LOADTEST_SETUP_URL    where setup requests go (default: the host under test)
  LOADTEST_RATE         requests per second per virtual user (default: as fast as it answers)
  LOADTEST_RESULTS      where to write the counts by status and code, as JSON
  LOADTEST_TOKENS       verification tokens to use up, one per line (verify-email)
  LOADTEST_ADMIN        identifier:password of an administrator (admin)
  LOADTEST_CLIENT       client_id:client_secret:redirect_uri of a registered app (oidc-token)
"""

import base64
import collections
import csv
import json
import os
import re
import secrets
import urllib.parse

import requests
from locust import FastHttpUser, constant, constant_throughput, events, task

CREDENTIALS = []
if os.environ.get("LOADTEST_CREDENTIALS"):
    with open(os.environ["LOADTEST_CREDENTIALS"], newline="") as f:
        CREDENTIALS = list(csv.DictReader(f))

RATE = float(os.environ.get("LOADTEST_RATE") or 0)
PASSWORD = "Vx7#quartz-lamp-load"

# Rows handed out so far; the last row is kept for the lockout storm.
_next_row = 0


def own_account():
    """The next seeded account no other virtual user has."""
    global _next_row
    if _next_row >= len(CREDENTIALS) - 1:
        raise RuntimeError(
            f"{len(CREDENTIALS)} seeded accounts are too few: seed at least one per virtual user "
            "and one more (portcullis seed --users N)"
        )
    row = CREDENTIALS[_next_row]
    _next_row += 1
    return row


def storm_target():
    if not CREDENTIALS:
        raise RuntimeError("LOADTEST_CREDENTIALS names no seeded accounts")
    return CREDENTIALS[-1]


# Answers by request name, then by "status code" ("200", "401 invalid_credentials").
ANSWERS = collections.defaultdict(collections.Counter)


@events.request.add_listener
def count_answer(name, response, exception, **_):
    status = getattr(response, "status_code", 0) or 0
    label = str(status) if status else f"no answer ({type(exception).__name__})"
    if status >= 400:
        code = problem_code(response)
        if code:
            label = f"{status} {code}"
    ANSWERS[name][label] += 1


@events.test_stop.add_listener
def write_results(environment, **_):
    path = os.environ.get("LOADTEST_RESULTS")
    if not path:
        return
    requests_out = []
    for (name, method), entry in sorted(environment.stats.entries.items()):
        if entry.num_requests == 0:
            continue
        requests_out.append(
            {
                "name": name,
                "method": method,
                "requests": entry.num_requests,
                "failures": entry.num_failures,
                "rps": entry.total_rps,
                "p50_ms": entry.get_response_time_percentile(0.50),
                "p95_ms": entry.get_response_time_percentile(0.95),
                "p99_ms": entry.get_response_time_percentile(0.99),
                "answers": dict(ANSWERS[name]),
            }
        )
    failures = [
        {"name": e.name, "method": e.method, "error": str(e.error), "occurrences": e.occurrences}
        for e in environment.stats.errors.values()
    ]
    with open(path, "w") as f:
        json.dump({"requests": requests_out, "failures": failures}, f, indent=2)


def problem_code(response):
    """The problem's `code` (or OAuth's `error`) of an error answer, if it has one."""
    try:
        body = json.loads(response.text or "{}")
    except (ValueError, AttributeError, TypeError):
        return None
    return (body.get("code") or body.get("error")) if isinstance(body, dict) else None


class Scenario(FastHttpUser):
    abstract = True
    wait_time = constant_throughput(RATE) if RATE > 0 else constant(0)

    def setup_url(self, path):
        return (os.environ.get("LOADTEST_SETUP_URL") or self.host).rstrip("/") + path

    def expect(self, method, path, name, statuses, codes=(), **kwargs):
        """A measured request; any answer but `statuses` (or, for errors, `codes`) fails it."""
        with self.client.request(
            method, path, name=name, catch_response=True, **kwargs
        ) as response:
            if response.status_code in statuses and (
                response.status_code < 400 or not codes or problem_code(response) in codes
            ):
                response.success()
            else:
                response.failure(f"{response.status_code} {problem_code(response) or ''}".strip())
            return response

    def key_login(self, row):
        """A session for `row`, by its access key (no password hash to pay for), on the setup URL."""
        answer = requests.post(
            self.setup_url("/v1/login/access-key"),
            json={"access_key": row["access_key"], "secret_key": row["secret_key"]},
            timeout=30,
        )
        if answer.status_code != 200:
            raise RuntimeError(f"setup login answered {answer.status_code}: {answer.text}")
        return answer.json()


class Signup(Scenario):
    """POST /v1/signup with a new address each time: one hash, one write, one mail."""

    @task
    def sign_up(self):
        email = f"signup-{secrets.token_hex(8)}@example.com"
        self.expect(
            "POST",
            "/v1/signup",
            "/v1/signup",
            (201,),
            json={"email": email, "password": PASSWORD, "accept_terms": True},
        )


class Login(Scenario):
    """POST /v1/login by username: nine right passwords, then a wrong one, and again. The device
    token of each success goes with the next attempt, as a client that keeps it sends it."""

    def on_start(self):
        self.row = own_account()
        self.attempts = 0
        self.device_token = None

    @task
    def log_in(self):
        self.attempts += 1
        wrong = self.attempts % 10 == 0
        body = {
            "identifier": self.row["username"],
            "password": "not-" + self.row["password"] if wrong else self.row["password"],
        }
        if self.device_token:
            body["device_token"] = self.device_token
        if wrong:
            self.expect(
                "POST", "/v1/login", "/v1/login (wrong password)", (401,),
                ("invalid_credentials",), json=body,
            )
        else:
            response = self.expect("POST", "/v1/login", "/v1/login", (200,), json=body)
            if response.status_code == 200:
                self.device_token = response.json().get("device_token")


class LockoutStorm(Scenario):
    """Every virtual user guesses at one account: ten wrong passwords are checked, then every
    attempt is refused as locked, its password unchecked."""

    def on_start(self):
        self.row = storm_target()

    @task
    def guess(self):
        self.expect(
            "POST",
            "/v1/login",
            "/v1/login (storm)",
            (401, 429),
            ("invalid_credentials", "account_locked"),
            json={"identifier": self.row["username"], "password": secrets.token_urlsafe(12)},
        )


class AccessKeyLogin(Scenario):
    """POST /v1/login/access-key with the account's own key and secret."""

    def on_start(self):
        self.row = own_account()

    @task
    def log_in(self):
        self.expect(
            "POST",
            "/v1/login/access-key",
            "/v1/login/access-key",
            (200,),
            json={"access_key": self.row["access_key"], "secret_key": self.row["secret_key"]},
        )


class Refresh(Scenario):
    """POST /v1/token/refresh, each time with the refresh token the last one answered."""

    def on_start(self):
        self.refresh_token = self.key_login(own_account())["refresh_token"]

    @task
    def refresh(self):
        response = self.expect(
            "POST",
            "/v1/token/refresh",
            "/v1/token/refresh",
            (200,),
            json={"refresh_token": self.refresh_token},
        )
        if response.status_code == 200:
            self.refresh_token = response.json()["refresh_token"]


class Me(Scenario):
    """GET /v1/me with an access token."""

    def on_start(self):
        token = self.key_login(own_account())["access_token"]
        self.headers = {"authorization": f"Bearer {token}"}

    @task
    def me(self):
        self.expect("GET", "/v1/me", "/v1/me", (200,), headers=self.headers)


class Logout(Scenario):
    """POST /v1/logout of a session just opened (the opening is setup, not measured)."""

    def on_start(self):
        self.row = own_account()

    @task
    def log_out(self):
        token = self.key_login(self.row)["access_token"]
        self.expect(
            "POST", "/v1/logout", "/v1/logout", (204,),
            headers={"authorization": f"Bearer {token}"},
        )


class ResetRequest(Scenario):
    """POST /v1/password/reset-request for the account's address (202 whatever happens)."""

    def on_start(self):
        self.row = own_account()

    @task
    def reset_request(self):
        self.expect(
            "POST",
            "/v1/password/reset-request",
            "/v1/password/reset-request",
            (202,),
            json={"email": self.row["email"]},
        )


_tokens = []
if os.environ.get("LOADTEST_TOKENS"):
    with open(os.environ["LOADTEST_TOKENS"]) as f:
        _tokens = [line.strip() for line in f if line.strip()]


class VerifyEmail(Scenario):
    """POST /v1/verify-email: mailed tokens while they last (each used once), then tokens nobody
    was mailed, which are refused."""

    @task
    def verify(self):
        if _tokens:
            self.expect(
                "POST", "/v1/verify-email", "/v1/verify-email", (200,),
                json={"token": _tokens.pop()},
            )
        else:
            self.expect(
                "POST",
                "/v1/verify-email",
                "/v1/verify-email (unknown token)",
                (400,),
                ("invalid_token",),
                json={"token": secrets.token_urlsafe(32)},
            )


class AdminList(Scenario):
    """GET /v1/admin/users, the first page, as an administrator."""

    def on_start(self):
        identifier, _, password = os.environ["LOADTEST_ADMIN"].partition(":")
        answer = requests.post(
            self.setup_url("/v1/login"),
            json={"identifier": identifier, "password": password},
            timeout=30,
        )
        if answer.status_code != 200:
            raise RuntimeError(f"administrator login answered {answer.status_code}: {answer.text}")
        self.headers = {"authorization": f"Bearer {answer.json()['access_token']}"}

    @task
    def list_users(self):
        self.expect(
            "GET", "/v1/admin/users?limit=50", "/v1/admin/users", (200,),
            headers=self.headers,
        )


class Discovery(Scenario):
    """The JWKS, the OpenID configuration and /v1/config, as verifiers and frontends fetch them."""

    @task(3)
    def jwks(self):
        self.expect("GET", "/.well-known/jwks.json", "/.well-known/jwks.json", (200,))

    @task(1)
    def configuration(self):
        self.expect(
            "GET",
            "/.well-known/openid-configuration",
            "/.well-known/openid-configuration",
            (200,),
        )

    @task(1)
    def config(self):
        self.expect("GET", "/v1/config", "/v1/config", (200,))


class OidcToken(Scenario):
    """POST /oauth2/token: a code redeemed once per virtual user (signed in on the hosted pages
    with its access key, as setup), then its refresh token rotated again and again."""

    def on_start(self):
        client_id, client_secret, redirect_uri = os.environ["LOADTEST_CLIENT"].split(":", 2)
        self.auth = "Basic " + base64.b64encode(
            f"{urllib.parse.quote(client_id, safe='')}:{urllib.parse.quote(client_secret, safe='')}".encode()
        ).decode()
        self.redirect_uri = redirect_uri
        code = self.authorize(own_account(), client_id)
        response = self.expect(
            "POST",
            "/oauth2/token",
            "/oauth2/token (code)",
            (200,),
            data={"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri},
            headers={"authorization": self.auth},
        )
        self.refresh_token = response.json()["refresh_token"] if response.status_code == 200 else None

    def authorize(self, row, client_id):
        """Signs in on the hosted pages with the account's access key and takes a code."""
        browser = requests.Session()
        query = urllib.parse.urlencode(
            {
                "client_id": client_id,
                "redirect_uri": self.redirect_uri,
                "response_type": "code",
                "scope": "openid profile email",
                "state": secrets.token_urlsafe(8),
            }
        )
        authorize = self.setup_url(f"/oauth2/authorize?{query}")
        first = browser.get(authorize, allow_redirects=False, timeout=30)
        if first.status_code != 303:
            raise RuntimeError(f"authorize answered {first.status_code}: {first.text[:200]}")
        page = browser.get(self.setup_url("/login/access-key"), timeout=30)
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        if not csrf:
            raise RuntimeError("the access-key login page has no csrf field")
        signed_in = browser.post(
            self.setup_url("/login/access-key"),
            data={
                "csrf": csrf.group(1),
                "access_key": row["access_key"],
                "secret_key": row["secret_key"],
            },
            allow_redirects=False,
            timeout=30,
        )
        if signed_in.status_code not in (200, 303):
            raise RuntimeError(f"page login answered {signed_in.status_code}")
        again = browser.get(authorize, allow_redirects=False, timeout=30)
        location = again.headers.get("location", "")
        code = urllib.parse.parse_qs(urllib.parse.urlparse(location).query).get("code")
        if again.status_code != 303 or not location.startswith(self.redirect_uri) or not code:
            raise RuntimeError(f"authorize gave no code: {again.status_code} {location[:200]}")
        return code[0]

    @task
    def refresh(self):
        if not self.refresh_token:
            return
        response = self.expect(
            "POST",
            "/oauth2/token",
            "/oauth2/token (refresh)",
            (200,),
            data={"grant_type": "refresh_token", "refresh_token": self.refresh_token},
            headers={"authorization": self.auth},
        )
        if response.status_code == 200:
            self.refresh_token = response.json()["refresh_token"]
