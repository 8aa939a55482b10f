#!/usr/bin/env bash
# Runs every test of the workspace. On a fresh machine it first installs what the tests need
# (Node.js and npm, and the pinned @mastra/client-js in tests/js) and builds everything once,
# into one target dir that every stage shares.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
export RUST_BACKTRACE="${RUST_BACKTRACE:-1}"

step() { printf '\n==> %s\n' "$*"; }

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    step "install Node.js and npm (for the @mastra/client-js test)"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
fi

if [ ! -d tests/js/node_modules/@mastra/client-js ]; then
    step "npm ci (tests/js: the official @mastra/client-js, pinned by package-lock.json)"
    (cd tests/js && npm ci --no-audit --no-fund --loglevel=error)
fi

step "build (once, every target)"
cargo build --workspace --all-targets --locked

step "tests"
cargo test --workspace --locked --no-fail-fast

step "all tests passed"
