#!/usr/bin/env bash
# Instructions per request, framework against baseline, counted by callgrind: a figure that,
# unlike requests/s, does not move with the machine's load. Release builds, one worker.
#
#   bench/callgrind.sh                 every scenario below
#   bench/callgrind.sh get post jwt    some of them (get, post, jwt, openapi)
#   N=5000 bench/callgrind.sh get      more requests per measurement (default 2000)
#
# Each side serves 300 warm-up requests, then its counters are zeroed, then N requests are sent
# one after another on one keep-alive connection and the counters dumped. The profiles are
# kept in $OUT (default target/callgrind) for `callgrind_annotate`.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
target="${CARGO_TARGET_DIR:-target}"
case "$target" in /*) ;; *) target="$root/$target" ;; esac
n="${N:-2000}"
out="${OUT:-$target/callgrind}"
mkdir -p "$out"

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
if ! command -v valgrind >/dev/null; then
  as_root apt-get install -y -q valgrind >/dev/null 2>&1 || {
    as_root apt-get update -q >/dev/null && as_root apt-get install -y -q valgrind >/dev/null
  }
fi
cargo build --locked --release -q -p mastra-bench --bins
token=$("$target/release/bench" --print-token)

# name method path body headers...
scenario() {
  case "$1" in
    get) echo "GET|/items/1||" ;;
    post) echo 'POST|/items|{"name":"Lamp","price":12.5}|' ;;
    jwt) echo "GET|/protected||authorization: Bearer $token" ;;
    openapi) echo "GET|/api/openapi.json||" ;;
    *) echo "unknown scenario $1 (get, post, jwt, openapi)" >&2; return 1 ;;
  esac
}

# Prints the instructions per request of one side for one scenario.
measure() {
  local side=$1 name=$2 port=$3 method path body header
  IFS='|' read -r method path body header < <(scenario "$name")
  local work="$out/$side-$name"
  rm -rf "$work" && mkdir -p "$work"
  (cd "$work" && exec env PORT="$port" BENCH_WORKERS=1 RUST_LOG=warn BENCH_OPENAPI_FILE="$out/openapi.json" \
    valgrind --tool=callgrind --callgrind-out-file="$work/callgrind.out.%p" \
    "$target/release/$side" >"$work/server.log" 2>&1) &
  local pid=$!
  for _ in $(seq 1 240); do
    curl -sf "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break
    sleep 0.5
  done
  local args=("$port" 300 "$method" "$path" "$body")
  [ -n "$header" ] && args+=("$header")
  python3 bench/tools/requests.py "${args[@]}"
  callgrind_control -z "$pid" >/dev/null 2>&1
  args[1]=$n
  python3 bench/tools/requests.py "${args[@]}"
  callgrind_control -d "$pid" >/dev/null 2>&1
  kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true
  local dump
  dump=$(ls "$work"/callgrind.out.*.1)
  callgrind_annotate "$dump" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1; exit}' \
    | awk -v n="$n" '{printf "%d\n", $1 / n}'
}

# The baseline serves the framework's document as static bytes: fetch it once.
(cd "$out" && exec env PORT=4590 BENCH_WORKERS=1 "$target/release/framework" >/dev/null 2>&1) &
doc_pid=$!
for _ in $(seq 1 100); do curl -sf http://127.0.0.1:4590/api/openapi.json -o "$out/openapi.json" && break; sleep 0.2; done
kill "$doc_pid" 2>/dev/null; wait "$doc_pid" 2>/dev/null || true

scenarios=("$@")
[ ${#scenarios[@]} -eq 0 ] && scenarios=(get post jwt openapi)
printf '| scenario | framework instr/req | baseline instr/req | ratio baseline/framework |\n|---|---:|---:|---:|\n'
for name in "${scenarios[@]}"; do
  fw=$(measure framework "$name" 4591)
  base=$(measure baseline "$name" 4592)
  awk -v s="$name" -v f="$fw" -v b="$base" 'BEGIN { printf "| %s | %d | %d | %.3f |\n", s, f, b, b / f }'
done
