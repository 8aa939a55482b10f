#!/usr/bin/env bash
# Runs every test of the workspace. On a fresh machine it first installs what the tests need
# (Node.js and npm with the pinned @mastra/client-js in tests/js and the AI SDK's `ai` package
# in tests/js-ai, and the official MCP clients in tests/js-mcp; Debian's Chromium for the Swagger UI browser test; openapi-spec-validator and
# Schemathesis from PyPI for the OpenAPI document and the API fuzzing stage) and builds
# everything once, into one target dir that every stage shares.
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

# Debian packages the tests need, installed together (one `apt-get update`) when missing.
packages=()
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    packages+=(nodejs npm) # the @mastra/client-js and ai package tests
fi
if [ ! -x /usr/bin/chromium ]; then
    packages+=(chromium) # the Swagger UI browser test
fi
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    packages+=(postgresql) # the PostgreSQL storage tests (a throwaway cluster, below)
fi
[ -x /usr/sbin/nginx ] || packages+=(nginx) # the load-balancer test (tests/tests/load_balanced.rs)
if [ ${#packages[@]} -gt 0 ]; then
    step "install ${packages[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" >/dev/null
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
npm_ci tests/js-mcp "the official MCP TypeScript clients, @modelcontextprotocol/sdk and @modelcontextprotocol/client"

if ! python3 -m openapi_spec_validator --version >/dev/null 2>&1; then
    step "pip install openapi-spec-validator (judges the OpenAPI document)"
    python3 -m pip install --quiet --disable-pip-version-check openapi-spec-validator \
        || python3 -m pip install --quiet --disable-pip-version-check --user \
            --break-system-packages openapi-spec-validator
fi

# Schemathesis, pinned: the API fuzzing stage (tests/api-fuzz.sh) runs its 4.x CLI.
SCHEMATHESIS_VERSION=4.32.5
if [ "$(python3 -m schemathesis.cli --version 2>/dev/null | awk '{print $NF}')" != "$SCHEMATHESIS_VERSION" ]; then
    step "pip install schemathesis==$SCHEMATHESIS_VERSION (API fuzzing against the OpenAPI documents)"
    python3 -m pip install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION" \
        || python3 -m pip install --quiet --disable-pip-version-check --user \
            --break-system-packages "schemathesis==$SCHEMATHESIS_VERSION"
fi

# Every test target, binary and library the tests run, built once. `cargo test --no-run` rather
# than `cargo build --all-targets`: after that one, `cargo test` compiled every workspace crate
# again under other unit hashes, which cost minutes and held two copies of each test binary.
step "build (once, what the tests run)"
# routes-only is built and tested on its own: in a workspace build, mastra-runtime's features
# are the union of every member's, and that example exists to show the lean set.
cargo test --workspace --exclude routes-only --locked --no-run
cargo test -p routes-only --locked --no-run

# mastra-runtime's feature combinations that matter compile (the library only: `cargo check`,
# no test run per combination; `default`, everything, is what the tests above use).
tests/features.sh

# --- PostgreSQL for the storage tests (issue 15) -------------------------------------------
# A throwaway cluster from Debian's postgresql package: a temporary directory, a free port on
# 127.0.0.1 only (no Unix socket outside that directory), password authentication over TCP.
# PostgreSQL refuses to run as root, so as root (CI) its programs run as the `postgres` user.
# Exports MASTRA_TEST_POSTGRES_URL (a database the tests create their own databases from),
# MASTRA_TEST_POSTGRES_BIN (initdb, pg_ctl: the outage and TLS tests start private clusters)
# and MASTRA_TEST_POSTGRES_RUN_AS (the user to run them as, empty when not root). Stopped and
# deleted on exit.
PG_DIR=""
PG_BIN=""
as_postgres() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}
stop_postgres() {
    if [ -n "$PG_DIR" ] && [ -d "$PG_DIR" ]; then
        as_postgres "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
        rm -rf "$PG_DIR"
    fi
}
start_postgres() {
    PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
    PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/mastra-pg.XXXXXX")
    trap stop_postgres EXIT
    if [ "$(id -u)" -eq 0 ]; then
        chown postgres: "$PG_DIR"
        export MASTRA_TEST_POSTGRES_RUN_AS=postgres
    else
        export MASTRA_TEST_POSTGRES_RUN_AS=""
    fi
    local port password
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    password=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
    as_postgres sh -c "umask 077; printf '%s\n' '$password' > '$PG_DIR/pwfile'"
    step "PostgreSQL $(basename "$(dirname "$PG_BIN")"): throwaway cluster on 127.0.0.1:$port"
    as_postgres "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres --pwfile="$PG_DIR/pwfile" \
        --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --no-instructions >/dev/null
    as_postgres "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -o \
        "-c listen_addresses=127.0.0.1 -p $port -k $PG_DIR -c max_connections=300 -c fsync=off" \
        start >/dev/null
    as_postgres "$PG_BIN/createdb" -h "$PG_DIR" -p "$port" -U postgres mastra_test
    export MASTRA_TEST_POSTGRES_URL="postgres://postgres:$password@127.0.0.1:$port/mastra_test"
    export MASTRA_TEST_POSTGRES_BIN="$PG_BIN"
}
start_postgres
# --- end of PostgreSQL ------------------------------------------------------------------------

step "tests"
cargo test --workspace --exclude routes-only --locked --no-fail-fast

step "tests of the routes-only example (mastra-runtime with openapi, swagger-ui and jwt only)"
cargo test -p routes-only --locked --no-fail-fast

# The benchmark smoke run (every scenario answers 2xx on both servers; no timing) is one of the
# tests above: bench/tests/smoke.rs, with the binaries this build made.

step "API fuzzing: Schemathesis against the quickstart and auth example documents"
tests/api-fuzz.sh

step "all tests passed"
