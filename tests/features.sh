#!/usr/bin/env bash
# Checks that mastra-runtime compiles with the feature combinations that matter: none, the
# routes-only set, each store alone, each capability without a store, and the optional JWKS
# fetcher. `cargo check` of the library, so no combination costs a full build or test run;
# `default` (everything) is built and tested by tests/run.sh.
#
#   tests/features.sh              every combination below
#   tests/features.sh sqlite mcp   some of them, by their feature lists
set -euo pipefail
cd "$(dirname "$0")/.."

combinations=(
    ""                         # nothing: custom routes, the plain checker, /health and /ready
    "openapi,swagger-ui,jwt"   # routes-only (examples/routes-only)
    "validation"               # the full validator (jsonschema) alone
    "openapi"
    "jwks-url"
    "memory"                   # the Storage trait and memory routes, a store of your own
    "sqlite"
    "postgres"
    "agents"
    "workflows,sqlite"
    "mcp,postgres"
)
if [ $# -gt 0 ]; then
    combinations=("$@")
fi

# A warning fails the check too (code left unused when a feature is off is dead code to gate).
# Checked in the output rather than with RUSTFLAGS=-Dwarnings, which would rebuild every
# dependency under other flags.
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for features in "${combinations[@]}"; do
    printf '\n==> cargo check -p mastra-runtime --no-default-features --features "%s"\n' "$features"
    cargo check -p mastra-runtime --lib --locked --no-default-features --features "$features" \
        --message-format short 2>&1 | tee "$log"
    if grep -q '^mastra-runtime/.*warning' "$log"; then
        echo "mastra-runtime warns with features \"$features\"" >&2
        exit 1
    fi
done
