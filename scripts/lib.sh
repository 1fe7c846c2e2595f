# Shared by scripts/test and scripts/bench: the Python tools in .venv, and the emulator.

# Creates .venv with moto and PyJWT when they are missing; `ensure_venv lambda` also adds cargo-lambda, zig and
# cfn-lint (for packaging and the template check).
ensure_venv() {
  if ! .venv/bin/python -c "import moto.server, jwt" 2>/dev/null; then
    echo "installing the DynamoDB/SES emulator (moto) and PyJWT in .venv" >&2
    python3 -m venv .venv
    .venv/bin/pip install --quiet --disable-pip-version-check "moto[server]>=5.2,<5.3" "pyjwt[crypto]>=2.8,<3"
  fi
  # The import tests make their hashes and dumpdata with the real libraries (tests/import/).
  if ! .venv/bin/python -c "import django, allauth, bcrypt, argon2" 2>/dev/null; then
    echo "installing Django, django-allauth, bcrypt and argon2-cffi in .venv" >&2
    .venv/bin/pip install --quiet --disable-pip-version-check "django>=5.2,<6" \
      "django-allauth>=65.21,<66" "bcrypt>=4,<6" "argon2-cffi>=23,<26"
  fi
  if [ "${1:-}" = lambda ] && ! { [ -x .venv/bin/cargo-lambda ] && [ -x .venv/bin/cfn-lint ] && .venv/bin/python -c "import ziglang" 2>/dev/null; }; then
    echo "installing cargo-lambda, zig and cfn-lint in .venv" >&2
    .venv/bin/pip install --quiet --disable-pip-version-check "cargo-lambda>=1.8,<2" ziglang cfn-lint
  fi
}

# Installs schemathesis in .venv when it is missing: it checks the server against the OpenAPI
# document (scripts/schemathesis).
ensure_schemathesis() {
  if [ ! -x .venv/bin/schemathesis ]; then
    echo "installing schemathesis in .venv" >&2
    .venv/bin/pip install --quiet --disable-pip-version-check "schemathesis>=4.32,<5"
  fi
}

# Installs Locust in .venv when it is missing: it drives the load scenarios of loadtest/.
ensure_locust() {
  if [ ! -x .venv/bin/locust ]; then
    echo "installing Locust in .venv" >&2
    .venv/bin/pip install --quiet --disable-pip-version-check "locust>=2.40,<3"
  fi
}

# Installs the OpenID parts of the tests (tests/oidc, pinned by its package-lock.json) when they
# are missing: the provider the Google sign-in tests run against (oidc-provider), and the
# certified relying party that signs in through Portcullis (openid-client).
ensure_oidc_provider() {
  if [ ! -d tests/oidc/node_modules/oidc-provider ] || [ ! -d tests/oidc/node_modules/openid-client ]; then
    echo "installing oidc-provider and openid-client in tests/oidc" >&2
    (cd tests/oidc && npm ci --no-audit --no-fund --loglevel=error)
  fi
}

# Starts the emulator on a free loopback port, exports MOTO_ENDPOINT_URL, and stops it when the
# calling script exits.
start_emulator() {
  emulator_log=$(mktemp)
  .venv/bin/python scripts/emulator.py 0 >"$emulator_log" 2>&1 &
  emulator_pid=$!
  trap 'kill $emulator_pid 2>/dev/null; rm -f "$emulator_log"' EXIT
  local url=""
  for _ in $(seq 1 300); do
    url=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$emulator_log" | head -n 1 || true)
    [ -n "$url" ] && break
    kill -0 $emulator_pid 2>/dev/null || break
    sleep 0.1
  done
  if [ -z "$url" ]; then
    echo "the emulator did not start:" >&2
    cat "$emulator_log" >&2
    return 1
  fi
  export MOTO_ENDPOINT_URL="$url"
}

# Installs what the browser tests of the hosted pages need when it is missing: Debian's Chromium,
# Playwright and pytest in .venv, and axe-core in tests/browser (pinned by its package-lock.json).
ensure_browser() {
  if [ ! -x /usr/bin/chromium ]; then
    echo "installing Debian's chromium" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  fi
  if ! .venv/bin/python -c "import playwright.sync_api, pytest, django, allauth, requests" 2>/dev/null; then
    echo "installing Playwright, pytest, and Django with django-allauth (the example app) in .venv" >&2
    .venv/bin/pip install --quiet --disable-pip-version-check "playwright>=1.49,<2" "pytest>=8,<9" \
      "django>=5.2,<6" "django-allauth>=65.21,<66" "requests>=2.32,<3"
  fi
  if [ ! -f tests/browser/node_modules/axe-core/axe.min.js ]; then
    echo "installing axe-core in tests/browser" >&2
    (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
  fi
}
