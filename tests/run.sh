#!/usr/bin/env bash
# Runs every test of the workspace. On a fresh machine it first installs what the tests need
# (Node.js and npm, the pinned @mastra/client-js in tests/js and the AI SDK's `ai` package in
# tests/js-ai) and builds everything once,
# into one target dir that every stage shares.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
export RUST_BACKTRACE="${RUST_BACKTRACE:-1}"

step() { printf '\n==> %s\n' "$*"; }

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    step "install Node.js and npm (for the @mastra/client-js and ai package tests)"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
fi

# Installs a test's npm packages exactly as its package-lock.json pins them, unless that is
# already done (npm ci records the lockfile it installed in node_modules/.package-lock.json).
npm_ci() {
    local dir=$1 what=$2
    if [ ! -f "$dir/node_modules/.package-lock.json" ] ||
        [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
        step "npm ci ($dir: $what, pinned by package-lock.json)"
        (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
    fi
}
npm_ci tests/js "the official @mastra/client-js"
npm_ci tests/js-ai "the AI SDK's ai package, whose reader parses UI message streams"

step "build (once, every target)"
cargo build --workspace --all-targets --locked

step "tests"
cargo test --workspace --locked --no-fail-fast

step "all tests passed"
