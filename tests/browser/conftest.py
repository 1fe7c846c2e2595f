"""The hosted pages in a real headless Chromium (Debian's), driven by Playwright.

Each test gets its own `portcullis serve` on a free loopback port, over its own SQLite file and
mail outbox, so tests never share an account. The server is the real binary: PORTCULLIS_BIN names
it (scripts/test builds it).
"""

import email
import glob
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

HERE = Path(__file__).parent
SCREENSHOTS = HERE / "screenshots"
AXE = HERE / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
PASSWORD = "Vx7#quartz-lamp"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One `portcullis serve` with its own folder; `env` adds PORTCULLIS_* settings."""

    def __init__(self, env=None):
        binary = os.environ.get("PORTCULLIS_BIN")
        if not binary or not os.access(binary, os.X_OK):
            raise RuntimeError(f"PORTCULLIS_BIN must name the portcullis binary (got {binary!r})")
        self.dir = tempfile.mkdtemp(prefix="portcullis-pages-")
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        settings = {
            "PORTCULLIS_STORE": f"sqlite://{self.dir}/portcullis.db",
            "PORTCULLIS_MAILER": f"outbox://{self.dir}/outbox",
            "PORTCULLIS_ARGON2": "m=1024,t=1,p=1",
            "PORTCULLIS_IP_RATE_LIMIT": "100000/1m",
            "PORTCULLIS_MAIL_RESPONSE_TIME": "0s",
            "PORTCULLIS_LOG": os.environ.get("PAGES_LOG", "warn"),
        }
        settings.update(env or {})
        base = {k: v for k, v in os.environ.items() if not k.startswith("PORTCULLIS_")}
        self.binary = binary
        self.env = {**base, **settings}
        self.process = subprocess.Popen(
            [binary, "serve", "--addr", f"127.0.0.1:{port}"],
            env=self.env,
            cwd=self.dir,
            stdout=open(os.environ["PAGES_STDOUT"], "w") if "PAGES_STDOUT" in os.environ else subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/v1/health", timeout=1) as reply:
                    if reply.status == 200:
                        return
            except OSError:
                if self.process.poll() is not None:
                    raise RuntimeError(self.process.stderr.read().decode())
                time.sleep(0.1)
        raise RuntimeError("portcullis serve did not answer within 30 s")

    def cli(self, *args):
        """Runs `portcullis <args>` on this server's store; its standard output."""
        done = subprocess.run(
            [self.binary, *args], env=self.env, cwd=self.dir, capture_output=True, text=True
        )
        if done.returncode != 0:
            raise RuntimeError(f"portcullis {' '.join(args)}: {done.stderr}")
        return done.stdout

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=15)
        shutil.rmtree(self.dir, ignore_errors=True)

    def mails_to(self, address):
        """Every message the outbox holds for `address`, oldest first, as (subject, text)."""
        found = []
        for path in sorted(glob.glob(f"{self.dir}/outbox/*.eml")):
            with open(path, "rb") as f:
                message = email.message_from_binary_file(f)
            if address.lower() not in message["To"].lower():
                continue
            text = ""
            for part in message.walk():
                if part.get_content_type() == "text/plain":
                    text = part.get_payload(decode=True).decode()
            found.append((message["Subject"], text))
        return found

    def link(self, address, path):
        """The newest link to `{server}{path}?...` mailed to `address`."""
        for _, text in reversed(self.mails_to(address)):
            match = re.search(re.escape(path) + r"\?[A-Za-z]+=[A-Za-z0-9_-]{43}", text)
            if match:
                return self.url + match.group(0)
        raise AssertionError(f"no {path} link was mailed to {address}")


@pytest.fixture
def start_server():
    servers = []

    def start(**env):
        server = Server(env)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def server(start_server):
    return start_server(PORTCULLIS_EMAIL_VERIFICATION="required")


@pytest.fixture(scope="session")
def chromium():
    if not os.access(CHROMIUM, os.X_OK):
        raise RuntimeError(f"no Chromium at {CHROMIUM}: scripts/test installs Debian's chromium")
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def browser_context(chromium):
    contexts = []

    def new(javascript=True, width=1280, locale="en-US"):
        context = chromium.new_context(
            java_script_enabled=javascript,
            viewport={"width": width, "height": 900},
            locale=locale,
        )
        # axe-core on every page, injected the way the page's own Content-Security-Policy allows
        # an automation tool to (an init script, not an inline one).
        context.add_init_script(path=str(AXE))
        contexts.append(context)
        return context

    yield new
    for context in contexts:
        context.close()


@pytest.fixture
def page(browser_context):
    return browser_context().new_page()


def axe_violations(page):
    """Serious and critical axe-core violations of the page as it is now."""
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def screenshot(page, name):
    """Saves the page at its current width into tests/browser/screenshots/."""
    SCREENSHOTS.mkdir(exist_ok=True)
    width = page.viewport_size["width"]
    page.screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"), full_page=True)


def unique_email(tag):
    return f"{tag}-{os.urandom(6).hex()}@example.com"


@pytest.fixture
def openid_provider():
    """The local OpenID provider the Google sign-in tests use (tests/oidc/provider.mjs): its
    issuer URL. Any login signs in, and the login is the account's email."""
    process = subprocess.Popen(
        ["node", "provider.mjs"],
        cwd=HERE.parent / "oidc",
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    line = process.stdout.readline()
    if not line.startswith("listening "):
        process.kill()
        raise RuntimeError(f"the OpenID provider did not start: {line!r}")
    yield line.split()[1]
    process.kill()
    process.wait()
