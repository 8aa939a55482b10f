#!/usr/bin/env bash
# Runs every test of the workspace. On a fresh machine it first installs what the tests need
# (nothing beyond the Rust toolchain yet) and builds everything once, into one target dir that
# every stage shares.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
export RUST_BACKTRACE="${RUST_BACKTRACE:-1}"

step() { printf '\n==> %s\n' "$*"; }

step "build (once, every target)"
cargo build --workspace --all-targets --locked

step "tests"
cargo test --workspace --locked --no-fail-fast

step "all tests passed"
