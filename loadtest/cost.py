"""What each flow costs to run on AWS, from a metered run (`loadtest/run all --store dynamodb`):
the DynamoDB request units, SES sends and store calls the emulator counted per request, and the
server CPU time per request, priced at AWS's public list prices. Prints the tables of
docs/cost.md. Usage: python3 loadtest/cost.py [RESULTS_DIR]

Lambda bills the wall time of an invocation, not its CPU time. The billed time is estimated as the
measured CPU time stretched by the vCPU share of the function's memory (Lambda gives one vCPU at
1,769 MB, proportionally less below), plus a wait per DynamoDB call.
"""

import json
import pathlib
import sys

# us-east-1 list prices (AWS's public pricing pages; see docs/cost.md for the date).
LAMBDA_ARM_GB_SECOND = 0.0000133334
LAMBDA_REQUEST = 0.20 / 1e6
API_GATEWAY_HTTP_REQUEST = 1.00 / 1e6
DYNAMODB_READ_UNIT = 0.125 / 1e6
DYNAMODB_WRITE_UNIT = 0.625 / 1e6
SES_MESSAGE = 0.10 / 1000
CLOUDWATCH_LOGS_GB = 0.50
# Lambda's own START, END and REPORT lines for each invocation, beside the function's log.
PLATFORM_LOG_BYTES = 300

# infra/template.yaml: MemorySize per function (the rest take the global 256 MB).
MEMORY_MB = {"signup": 1024, "login": 1024, "reset-confirm": 1024, "change-password": 1024, "ui": 1024}
FULL_VCPU_MB = 1769
# A DynamoDB call from Lambda in the same region, waited for in full (no overlap assumed).
DYNAMODB_CALL_MS = 5.0
# Flows that answer no sooner than PORTCULLIS_MAIL_RESPONSE_TIME (400 ms), so an unknown address
# takes as long as a known one: Lambda bills the wait.
FLOOR_MS = {"reset-request": 400}

# The worked month: 100,000 monthly active users, each, per month, with these requests.
MONTHLY_USERS = 100_000
PER_USER = {
    "login": 8,  # signs in on 8 days
    "refresh": 32,  # about an hour in the app each time: 4 refreshes of a 15-minute token
    "me": 40,
    "logout": 4,
    "access-key": 2,
    "oidc-token": 4,
    "signup": 0.05,  # 5,000 new accounts a month
    "verify-email": 0.05,
    "reset-request": 0.02,
    "lockout": 0.5,  # wrong-password guesses refused while locked
}
# Verifiers fetch the JWKS and configuration: say 20 instances, once a minute each.
DISCOVERY_PER_MONTH = 20 * 60 * 24 * 30


def main():
    folder = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "loadtest/results")
    rows = {}
    for path in sorted(folder.glob("*.json")):
        result = json.loads(path.read_text())
        if result.get("per_request") and result.get("server_cpu_ms_per_request") is not None:
            rows[result["scenario"]] = result
    if not rows:
        raise SystemExit(f"no metered results in {folder}: run loadtest/run all --store dynamodb")

    print("| flow | function (MB) | CPU ms | DynamoDB calls | read units | write units | SES "
          "| log bytes | billed ms (est.) | USD per million requests |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    per_million = {}
    for name, result in rows.items():
        p = result["per_request"]
        memory = MEMORY_MB.get(result["function"], 256)
        cpu = result["server_cpu_ms_per_request"]
        billed = cpu * max(1.0, FULL_VCPU_MB / memory) + p["dynamodb_calls"] * DYNAMODB_CALL_MS
        billed = max(billed, FLOOR_MS.get(name, 0))
        logged = (result.get("log_bytes_per_request") or 0) + PLATFORM_LOG_BYTES
        cost = (
            billed / 1000 * memory / 1024 * LAMBDA_ARM_GB_SECOND
            + LAMBDA_REQUEST
            + API_GATEWAY_HTTP_REQUEST
            + p["read_units"] * DYNAMODB_READ_UNIT
            + p["write_units"] * DYNAMODB_WRITE_UNIT
            + p["ses_sends"] * SES_MESSAGE
            + logged / 1e9 * CLOUDWATCH_LOGS_GB
        ) * 1e6
        per_million[name] = cost
        print(
            f"| {name} | {result['function']} ({memory}) | {cpu:.2f} | {p['dynamodb_calls']:.2f} "
            f"| {p['read_units']:.2f} | {p['write_units']:.2f} | {p['ses_sends']:.2f} "
            f"| {logged} | {billed:.0f} | {cost:.2f} |"
        )

    print()
    print("| flow | requests a month | USD |")
    print("|---|---:|---:|")
    total = 0.0
    for name, per_user in PER_USER.items():
        if name not in per_million:
            continue
        count = per_user * MONTHLY_USERS
        dollars = count / 1e6 * per_million[name]
        total += dollars
        print(f"| {name} | {count:,.0f} | {dollars:.2f} |")
    if "discovery" in per_million:
        dollars = DISCOVERY_PER_MONTH / 1e6 * per_million["discovery"]
        total += dollars
        print(f"| discovery | {DISCOVERY_PER_MONTH:,} | {dollars:.2f} |")
    print(f"| **all** | | **{total:.2f}** |")


if __name__ == "__main__":
    main()
