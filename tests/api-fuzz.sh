#!/usr/bin/env bash
# API fuzzing with Schemathesis against the servers' own OpenAPI documents: the quickstart, and
# the auth example without a token and with a valid one. Starts the real binaries (built by
# tests/run.sh) on free 127.0.0.1 ports, in temporary directories, and fails on any failure.
#
# Checks: no 5xx; every status, content type, header and response body as documented; operations
# that declare security refuse calls without credentials (ignored_auth). At least
# MASTRA_API_FUZZ_EXAMPLES (100) examples per operation and phase, with a fixed seed
# (MASTRA_API_FUZZ_SEED) printed in the output, so a failure replays exactly.
set -euo pipefail
cd "$(dirname "$0")/.."

seed=${MASTRA_API_FUZZ_SEED:-20261129}
examples=${MASTRA_API_FUZZ_EXAMPLES:-100}
# One worker: with more, Python 3.11's `ast` module can fail in Hypothesis's threads ("AST
# constructor recursion depth mismatch", CPython gh-106905), an error of the tool, not the API.
workers=${MASTRA_API_FUZZ_WORKERS:-1}
# Hard bound on one Schemathesis run, so the test command stays bounded whatever happens.
run_timeout=${MASTRA_API_FUZZ_TIMEOUT:-420}
bin_dir=$(cd "${CARGO_TARGET_DIR:-target}/debug" 2>/dev/null && pwd) \
    || { echo "api-fuzz: ${CARGO_TARGET_DIR:-target}/debug is missing (cargo build --workspace first)" >&2; exit 2; }
# The CLI through the interpreter, so a `pip install --user` off PATH works too.
st=(python3 -m schemathesis.cli)
checks=not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance,ignored_auth

for bin in quickstart auth-example; do
    [ -x "$bin_dir/$bin" ] || { echo "api-fuzz: $bin_dir/$bin is missing (cargo build --workspace first)" >&2; exit 2; }
done

work=$(mktemp -d /tmp/mastra-api-fuzz.XXXXXX)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start NAME BINARY [ENV=VALUE...]: runs the binary in its own directory; sets $port.
start() {
    local name=$1 bin=$2
    shift 2
    port=$(free_port)
    mkdir -p "$work/$name"
    (cd "$work/$name" && exec env -u OPENAI_API_KEY -u ANTHROPIC_API_KEY PORT="$port" "$@" \
        "$bin_dir/$bin" >"$work/$name/server.log" 2>&1) &
    pids+=($!)
    for _ in $(seq 1 200); do
        if curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1; then return 0; fi
        sleep 0.05
    done
    echo "api-fuzz: $name did not answer /health; its log:" >&2
    cat "$work/$name/server.log" >&2
    exit 2
}

failed=0
# fuzz LABEL PORT CONFIG_FILE|- [st run args...]
fuzz() {
    local label=$1 port=$2 config=$3
    shift 3
    local global=()
    [ "$config" = - ] || global=(--config-file "$PWD/$config")
    local report="$work/$label.json"
    printf '\n--- schemathesis %s: %s (seed %s, %s examples per operation, %s workers)\n' \
        "$("${st[@]}" --version | awk '{print $NF}')" "$label" "$seed" "$examples" "$workers"
    local rc=0
    (cd "$work" && timeout --kill-after=10 "$run_timeout" "${st[@]}" "${global[@]}" run \
        "http://127.0.0.1:$port/api/openapi.json" \
        --checks "$checks" --max-examples "$examples" --seed "$seed" --workers "$workers" \
        --generation-database none --request-timeout 10 --no-color --output-truncate true \
        --report json --report-json-path "$report" "$@") || rc=$?
    python3 - "$report" "$label" "$seed" "$rc" <<'PY' || failed=1
import json, sys
path, label, seed, rc = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
try:
    d = json.load(open(path))
except (OSError, ValueError):
    print(f"API FUZZ ERROR: {label}: no report (schemathesis exit code {rc})")
    sys.exit(1)
ops = d.get("operations") or {}
cases = d.get("test_cases") or {}
failures = sum(f.get("count", 0) for f in d.get("failures") or [])
errors = sum(e.get("count", 1) for e in d.get("errors") or [])
ok = rc == 0 and failures == 0 and errors == 0 and ops.get("tested", 0) > 0
print(f"API FUZZ {'PASS' if ok else 'FAIL'}: {label}: {ops.get('tested', 0)} operations, "
      f"{cases.get('generated', 0)} test cases, {failures} failures, {errors} errors, "
      f"seed {d.get('seed', seed)}, {d.get('running_time', 0):.1f}s")
sys.exit(0 if ok else 1)
PY
}

start quickstart quickstart
fuzz quickstart "$port" tests/schemathesis/quickstart.toml

secret=$(head -c 48 /dev/urandom | base64 | tr -d '\n')
start auth auth-example MASTRA_JWT_SECRET="$secret"
token=$(MASTRA_JWT_SECRET="$secret" "$bin_dir/auth-example" --mint '{"sub":"fuzz-user","name":"Fuzz","role":"admin"}')
fuzz auth-no-token "$port" -
fuzz auth-with-token "$port" - -H "Authorization: Bearer $token"

if [ "$failed" -ne 0 ]; then
    echo "API FUZZ FAILED (replay with MASTRA_API_FUZZ_SEED=$seed)" >&2
    exit 1
fi
echo "API FUZZ: all runs passed"
