#!/usr/bin/env bash
# Runs every test of the workspace. On a fresh machine it first installs what the tests need
# (Debian's Chromium for the Swagger UI browser test, openapi-spec-validator from PyPI for the
# OpenAPI document) and builds everything once, into one target dir that every stage shares.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
export RUST_BACKTRACE="${RUST_BACKTRACE:-1}"

step() { printf '\n==> %s\n' "$*"; }

# Runs a command as root: directly when we are root, else through sudo.
as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        echo "need root (or sudo) to run: $*" >&2
        return 1
    fi
}

step "tools the tests need"
if [ ! -x /usr/bin/chromium ]; then
    echo "installing Debian's chromium (Swagger UI browser test)"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        chromium >/dev/null
fi
if ! python3 -m openapi_spec_validator --version >/dev/null 2>&1; then
    echo "installing openapi-spec-validator (OpenAPI document validity)"
    python3 -m pip install --quiet --disable-pip-version-check openapi-spec-validator \
        || python3 -m pip install --quiet --disable-pip-version-check --user \
            --break-system-packages openapi-spec-validator
fi
echo "chromium: $(/usr/bin/chromium --version 2>/dev/null | head -1)"
echo "openapi-spec-validator: $(python3 -m openapi_spec_validator --version 2>/dev/null)"

step "build (once, every target)"
cargo build --workspace --all-targets --locked

step "tests"
cargo test --workspace --locked --no-fail-fast

step "all tests passed"
