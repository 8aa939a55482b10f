#!/usr/bin/env bash
# The benchmark suite: the framework against the same handlers on raw actix-web, same run.
#   bench/run.sh                 full run (release builds, wrk, ~10 min on 2 cores)
#   bench/run.sh --smoke         every scenario answers 2xx, debug builds, no timing
#   bench/run.sh --only SSE ...  extra arguments go to the driver (see bench/src/bin/bench/main.rs)
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-target}"

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

if [ "${1:-}" = "--smoke" ]; then
  cargo build --locked -q -p mastra-bench --bins
  exec "$target/debug/bench" --smoke --bin-dir "$target/debug"
fi

if ! command -v wrk >/dev/null; then
  as_root apt-get install -y -q wrk >/dev/null 2>&1 || {
    as_root apt-get update -q >/dev/null && as_root apt-get install -y -q wrk >/dev/null
  }
fi
cargo build --locked --release -q -p mastra-bench --bins
exec "$target/release/bench" --bin-dir "$target/release" "$@"
