"""Runs Portcullis' load scenarios (loadtest/locustfile.py) with Locust, one function at a time.

Locally (no --url), each scenario gets a fresh folder with its own SQLite store, seeded accounts
(`portcullis seed`), the function it exercises alone (`portcullis serve --function NAME`) and, for
scenarios that need sessions, codes or mailed tokens first, a second server with every route on the
same store to ask them of. The server's CPU time is read from /proc before and after the run.
Against a deployed stack (--url), give the credentials file of a `portcullis seed` run on its
table, and --admin or --client for the scenarios that need them.

Results: loadtest/results/<scenario>.json and a table (also in loadtest/results/summary.md):
throughput, p50/p95/p99, answers by status and code, and server CPU per request when local. Any
answer a scenario does not expect, or a scenario that measured nothing, makes the exit status 1.
Speed is reported, never judged.

With --store dynamodb, the servers use a fresh table in the DynamoDB emulator (scripts/emulator.py,
started unless MOTO_ENDPOINT_URL names one) and send mail through its SES, and each request's cost
is added: DynamoDB read and write request units and SES sends per measured request, from the
emulator's meter (the function's calls only, not the setup server's). docs/cost.md prices them.

    loadtest/run login                      # one scenario for 10 s with 8 virtual users
    loadtest/run all --seconds 30 --users 16
    loadtest/run me --rate 500              # a fixed 500 requests per second in all
    loadtest/run login --ramp 2             # 2 more virtual users each second
    loadtest/run all --store dynamodb --seconds 5   # what each request costs on AWS
    loadtest/run login --url https://auth.example.com --credentials seed.csv
"""

import argparse
import json
import os
import pathlib
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parent.parent
RESULTS = ROOT / "loadtest" / "results"

# scenario: (Locust user class, function, what it needs before it runs)
SCENARIOS = {
    "signup": ("Signup", "signup", set()),
    "login": ("Login", "login", set()),
    "lockout": ("LockoutStorm", "login", set()),
    "access-key": ("AccessKeyLogin", "login", set()),
    "refresh": ("Refresh", "session", {"setup"}),
    "me": ("Me", "session", {"setup"}),
    "logout": ("Logout", "session", {"setup"}),
    "reset-request": ("ResetRequest", "reset-request", set()),
    "verify-email": ("VerifyEmail", "verify-email", {"setup", "tokens"}),
    "admin": ("AdminList", "admin", {"setup", "admin"}),
    "discovery": ("Discovery", "discovery", set()),
    "oidc-token": ("OidcToken", "oidc", {"setup", "client"}),
}

ADMIN_PASSWORD = "Vx7#quartz-lamp-admin"
REDIRECT_URI = "http://127.0.0.1:9/callback"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def main():
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="scenarios: " + ", ".join(SCENARIOS) + ", or all",
    )
    parser.add_argument("scenarios", nargs="+", metavar="SCENARIO")
    parser.add_argument("--seconds", type=int, default=10, help="length of each run (10)")
    parser.add_argument("--users", type=int, default=8, help="virtual users (8)")
    parser.add_argument(
        "--rate", type=float, default=0,
        help="requests per second in all, spread over the users (default: as fast as answered)",
    )
    parser.add_argument(
        "--ramp", type=float, default=0,
        help="virtual users started per second (default: all at once)",
    )
    parser.add_argument("--bin", help="the portcullis binary (default: build it with cargo)")
    parser.add_argument(
        "--release", action="store_true",
        help="build the binary with the profiling profile (release, with symbols) instead of dev",
    )
    parser.add_argument(
        "--store", choices=["sqlite", "dynamodb"], default="sqlite",
        help="the local servers' store (sqlite); dynamodb also meters each request's cost",
    )
    parser.add_argument("--url", help="a deployed stack to load instead of a local server")
    parser.add_argument("--credentials", help="with --url: the CSV of `portcullis seed`")
    parser.add_argument("--admin", help="with --url: identifier:password of an administrator")
    parser.add_argument(
        "--client", help="with --url: client_id:client_secret:redirect_uri of a registered app"
    )
    parser.add_argument(
        "--tokens", type=int, default=0,
        help="verify-email: verification tokens to make first (default: 20 per second of run)",
    )
    args = parser.parse_args()

    names = list(SCENARIOS) if args.scenarios == ["all"] else args.scenarios
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        parser.error(f"no scenario is named {', '.join(unknown)}; they are {', '.join(SCENARIOS)}")
    if args.url and not args.credentials:
        parser.error("--url needs --credentials, the CSV of `portcullis seed` run on that stack")
    if args.users < 1 or args.seconds <= 0:
        parser.error("--users and --seconds must be positive")

    binary = None if args.url else portcullis_binary(args)
    if args.store == "dynamodb" and not args.url:
        args.emulator = os.environ.get("MOTO_ENDPOINT_URL") or start_emulator()
    RESULTS.mkdir(parents=True, exist_ok=True)
    machine = describe_machine()
    results, ok = [], True
    for name in names:
        print(f"== {name}", file=sys.stderr, flush=True)
        if args.url:
            result = run_remote(name, args)
        else:
            result = run_local(name, args, binary)
        result["machine"] = machine
        (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
        problems = judge(result)
        for problem in problems:
            print(f"{name}: {problem}", file=sys.stderr)
        ok = ok and not problems
        results.append(result)
    table = render(results, machine)
    (RESULTS / "summary.md").write_text(table)
    print(table)
    sys.exit(0 if ok else 1)


def portcullis_binary(args):
    if args.bin:
        return pathlib.Path(args.bin).resolve()
    profile = "profiling" if args.release else "dev"
    print(f"building portcullis ({profile} profile)", file=sys.stderr, flush=True)
    subprocess.run(
        ["cargo", "build", "--quiet", "-p", "portcullis-cli", "--features", "aws",
         "--profile", profile],
        cwd=ROOT, check=True,
    )
    target = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    return target / ("profiling" if args.release else "debug") / "portcullis"


def describe_machine():
    model = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{os.cpu_count()} cores, {model}"


def start_emulator():
    log = tempfile.NamedTemporaryFile("w+", suffix=".log", delete=False)
    process = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "python"), str(ROOT / "scripts" / "emulator.py"), "0"],
        stdout=log, stderr=subprocess.STDOUT,
    )
    for _ in range(300):
        found = re.search(r"http://127\.0\.0\.1:\d+", pathlib.Path(log.name).read_text())
        if found:
            import atexit
            atexit.register(process.terminate)
            return found.group(0)
        time.sleep(0.1)
    process.kill()
    raise SystemExit(f"the emulator did not start: {pathlib.Path(log.name).read_text()}")


def emulator_call(url, method, path, body=None, service=None):
    headers = {"content-type": "application/json"}
    if service:
        headers["authorization"] = (
            f"AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/{service}/aws4_request, "
            "SignedHeaders=host, Signature=0"
        )
    request = urllib.request.Request(
        url + path, data=json.dumps(body).encode() if body is not None else None,
        headers=headers, method=method,
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read() or b"{}")


def dynamodb_env(env, args, table, caller):
    """`env` on a DynamoDB table and SES in the emulator, its calls metered as `caller`."""
    env.update(
        {
            "PORTCULLIS_STORE": f"dynamodb://{table}",
            "PORTCULLIS_DYNAMODB_ENDPOINT": args.emulator,
            "PORTCULLIS_MAILER": "ses://load@example.com",
            "PORTCULLIS_SES_ENDPOINT": args.emulator,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": "us-east-1",
            "AWS_SDK_UA_APP_ID": caller,
        }
    )
    return env


def server_env(argon2=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTCULLIS_")}
    env.update(
        {
            # A load test comes from one address: the per-IP and per-address limits would
            # answer it with 429 after a second.
            "PORTCULLIS_IP_RATE_LIMIT": "1000000000/1m",
            "PORTCULLIS_MAIL_RATE_LIMIT": "1000000000/1m",
        }
    )
    if argon2:
        env["PORTCULLIS_ARGON2"] = argon2
    return env


def run_cli(binary, folder, args, env, stdin=None):
    done = subprocess.run(
        [str(binary), *args], cwd=folder, env=env, input=stdin, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"portcullis {' '.join(args)} failed: {done.stderr}")
    return done.stdout


class Server:
    """`portcullis serve` on a free port, its log in a file."""

    def __init__(self, binary, folder, env, function=None):
        args = [str(binary), "serve", "--addr", "127.0.0.1:0"]
        if function:
            args += ["--function", function]
        self.log = open(folder / f"serve-{function or 'all'}.log", "w+")
        self.process = subprocess.Popen(
            args, cwd=folder, env=env, stdout=subprocess.PIPE, stderr=self.log, text=True
        )
        first = self.process.stdout.readline()
        match = re.search(r"listening on (http://[0-9.:]+)", first)
        if not match:
            self.process.kill()
            self.log.seek(0)
            raise SystemExit(f"portcullis serve did not start: {first}{self.log.read()}")
        self.url = match.group(1)
        # The rest of its log goes to the file, read by nobody while it runs.
        self.drain = subprocess.Popen(["cat"], stdin=self.process.stdout, stdout=self.log)
        for _ in range(100):
            try:
                urllib.request.urlopen(self.url + "/", timeout=1)
                break
            except urllib.error.HTTPError:
                break
            except OSError:
                time.sleep(0.05)

    def cpu_seconds(self):
        with open(f"/proc/{self.process.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS

    def log_bytes(self):
        self.log.flush()
        return os.path.getsize(self.log.name)

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.drain.wait()
        self.log.close()


def run_local(name, args, binary):
    user_class, function, needs = SCENARIOS[name]
    folder = pathlib.Path(tempfile.mkdtemp(prefix=f"portcullis-load-{name}-"))
    servers = []
    try:
        env = server_env()
        dynamodb = args.store == "dynamodb"
        if dynamodb:
            table = f"load-{name}-{os.getpid()}-{int(time.time())}"
            dynamodb_env(env, args, table, "function")
            run_cli(binary, folder, ["table", "create"], env)
            emulator_call(
                args.emulator, "POST", "/v2/email/identities",
                {"EmailIdentity": "load@example.com"}, service="ses",
            )
        # One account per virtual user, and one more for the lockout storm.
        run_cli(binary, folder, ["seed", "--users", str(args.users + 1), "-o", "seed.csv"], env)
        extra = {"LOADTEST_CREDENTIALS": str(folder / "seed.csv")}
        if "admin" in needs:
            run_cli(
                binary, folder,
                ["createsuperuser", "--email", "root@example.com", "--username", "root",
                 "--password-stdin"],
                env, stdin=ADMIN_PASSWORD + "\n",
            )
            extra["LOADTEST_ADMIN"] = f"root:{ADMIN_PASSWORD}"
        if "client" in needs:
            out = run_cli(
                binary, folder,
                ["clients", "create", "--name", "Load test", "--redirect-uri", REDIRECT_URI],
                env,
            )
            client_id = re.search(r"client_id:\s+(\S+)", out).group(1)
            secret = re.search(r"client_secret:\s+(\S+)", out).group(1)
            extra["LOADTEST_CLIENT"] = f"{client_id}:{secret}:{REDIRECT_URI}"
        server = Server(binary, folder, env, function)
        servers.append(server)
        if "setup" in needs:
            # Setup hashes cheaply (the signups that mail verification tokens); the function
            # under test keeps the configured cost. Its tokens must name the same issuer.
            setup_env = server_env("m=1024,t=1,p=1")
            if dynamodb:
                dynamodb_env(setup_env, args, table, "setup")
                # Its mail (the verification tokens) is read from the outbox.
                setup_env["PORTCULLIS_MAILER"] = "outbox://.portcullis/outbox"
            setup_env["PORTCULLIS_PUBLIC_URL"] = server.url
            setup = Server(binary, folder, setup_env)
            servers.append(setup)
            extra["LOADTEST_SETUP_URL"] = setup.url
            if "tokens" in needs:
                count = args.tokens or int(20 * args.seconds)
                extra["LOADTEST_TOKENS"] = str(make_tokens(setup.url, folder, count))
        if dynamodb:
            emulator_call(args.emulator, "DELETE", "/_portcullis/meter")
        before = server.cpu_seconds()
        logged = server.log_bytes()
        result = locust(name, user_class, server.url, args, extra, folder)
        cpu = server.cpu_seconds() - before
        logged = server.log_bytes() - logged
        measured = sum(r["requests"] for r in result["requests"])
        if dynamodb:
            meter = emulator_call(args.emulator, "GET", "/_portcullis/meter").get("function", {})
            result["store"] = "dynamodb"
            result["meter"] = meter
            calls = sum(v for k, v in meter.items() if k[0].isupper())
            result["per_request"] = {
                key: round(value / measured, 3) if measured else None
                for key, value in (
                    ("read_units", meter.get("read_units", 0)),
                    ("write_units", meter.get("write_units", 0)),
                    ("ses_sends", meter.get("ses_sends", 0)),
                    ("dynamodb_calls", calls),
                )
            }
        result.update(
            {
                "function": function,
                "url": "local: portcullis serve --function " + function,
                "server_cpu_seconds": round(cpu, 3),
                "server_cpu_ms_per_request": round(1000 * cpu / measured, 3) if measured else None,
                "log_bytes_per_request": round(logged / measured) if measured else None,
            }
        )
        return result
    finally:
        for server in servers:
            server.stop()
        if os.environ.get("LOADTEST_KEEP"):
            print(f"kept {folder}", file=sys.stderr)
        else:
            shutil.rmtree(folder, ignore_errors=True)


def run_remote(name, args):
    user_class, function, needs = SCENARIOS[name]
    extra = {"LOADTEST_CREDENTIALS": str(pathlib.Path(args.credentials).resolve())}
    if "admin" in needs:
        if not args.admin:
            raise SystemExit(f"{name} needs --admin identifier:password")
        extra["LOADTEST_ADMIN"] = args.admin
    if "client" in needs:
        if not args.client:
            raise SystemExit(f"{name} needs --client client_id:client_secret:redirect_uri")
        extra["LOADTEST_CLIENT"] = args.client
    with tempfile.TemporaryDirectory() as folder:
        result = locust(name, user_class, args.url, args, extra, pathlib.Path(folder))
    result.update({"function": function, "url": args.url})
    return result


def make_tokens(url, folder, count):
    """Signs up `count` accounts on the setup server and reads their tokens from the outbox."""
    for n in range(count):
        body = json.dumps(
            {"email": f"verify-{n}@example.com", "password": "Vx7#quartz-lamp-load",
             "accept_terms": True}
        ).encode()
        request = urllib.request.Request(
            url + "/v1/signup", data=body, headers={"content-type": "application/json"}
        )
        urllib.request.urlopen(request, timeout=30).read()
    import email

    tokens = []
    for path in sorted((folder / ".portcullis" / "outbox").glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes())
        for part in message.walk():
            if part.get_content_type() == "text/plain":
                text = part.get_payload(decode=True).decode()
                found = re.search(r"token=([A-Za-z0-9_-]{43})", text)
                if found:
                    tokens.append(found.group(1))
    if len(tokens) != count:
        raise SystemExit(f"{count} signups mailed {len(tokens)} verification tokens")
    out = folder / "tokens.txt"
    out.write_text("\n".join(tokens) + "\n")
    return out


def locust(name, user_class, url, args, extra, folder):
    results = folder / "locust.json"
    env = dict(os.environ, **extra)
    env["LOADTEST_RESULTS"] = str(results)
    env["LOADTEST_RATE"] = str(args.rate / args.users) if args.rate else ""
    command = [
        sys.executable, "-m", "locust",
        "-f", str(ROOT / "loadtest" / "locustfile.py"),
        "--headless", "--only-summary", "--loglevel", "WARNING",
        "--users", str(args.users),
        "--spawn-rate", str(args.ramp or args.users),
        "--run-time", f"{max(1, round(args.seconds))}s",
        "--stop-timeout", "5",
        "--host", url,
        user_class,
    ]
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if not results.exists():
        raise SystemExit(f"locust wrote no results:\n{done.stdout}\n{done.stderr}")
    result = json.loads(results.read_text())
    result.update(
        {
            "scenario": name,
            "users": args.users,
            "seconds": args.seconds,
            "rate": args.rate or None,
            "locust_exit": done.returncode,
        }
    )
    # Locust's own errors (a setup step that failed, say) are in its output.
    tail = [
        line.strip() for line in done.stderr.splitlines()
        if "Traceback" in line or re.match(r"\s*\w+(Error|Exception):", line)
    ]
    result["locust_errors"] = tail[:20]
    return result


def judge(result):
    problems = []
    if not any(r["requests"] for r in result["requests"]):
        problems.append("no request was measured")
    for failure in result["failures"]:
        problems.append(
            f"{failure['occurrences']} × {failure['method']} {failure['name']}: {failure['error']}"
        )
    problems += result["locust_errors"]
    if result.get("store") == "dynamodb" and result["scenario"] != "discovery":
        if not result["meter"].get("read_units") and not result["meter"].get("write_units"):
            problems.append("the emulator's meter counted no DynamoDB work for the function")
    if result["locust_exit"] != 0 and not problems:
        problems.append(f"locust exited with status {result['locust_exit']}")
    return problems


def render(results, machine):
    lines = [
        f"Machine: {machine}.",
        "",
        "| scenario | request | req/s | p50 ms | p95 ms | p99 ms | answers | server CPU ms/req |",
        "|---|---|---:|---:|---:|---:|---|---:|",
    ]
    for result in results:
        cpu = result.get("server_cpu_ms_per_request")
        for r in result["requests"]:
            answers = ", ".join(f"{k}: {v}" for k, v in sorted(r["answers"].items()))
            lines.append(
                f"| {result['scenario']} | {r['method']} {r['name']} "
                f"| {r['rps']:.0f} | {r['p50_ms']:.0f} | {r['p95_ms']:.0f} | {r['p99_ms']:.0f} "
                f"| {answers} | {'' if cpu is None else f'{cpu:.2f}'} |"
            )
    metered = [r for r in results if r.get("per_request")]
    if metered:
        lines += [
            "",
            "DynamoDB request units and SES sends per measured request (the emulator's meter):",
            "",
            "| scenario | read units | write units | SES sends | server CPU ms/req |",
            "|---|---:|---:|---:|---:|",
        ]
        for result in metered:
            p = result["per_request"]
            cpu = result.get("server_cpu_ms_per_request")
            lines.append(
                f"| {result['scenario']} | {p['read_units']} | {p['write_units']} "
                f"| {p['ses_sends']} | {'' if cpu is None else f'{cpu:.2f}'} |"
            )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
