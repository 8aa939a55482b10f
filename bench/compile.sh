#!/usr/bin/env bash
# Compile times, each comparison's two sides in one run, interleaved round by round:
#   bench/compile.sh                 both comparisons below
#   bench/compile.sh cost [ARGS]     incremental rebuild, 200 #[api_route] fns against 200
#                                    actix-web #[get]/#[post] fns (--rounds N, default 5;
#                                    --dir DIR keeps the crates and their target dir there)
#   bench/compile.sh clean [ARGS]    clean build of examples/routes-only against the same app on
#                                    plain actix-web + apistos + jsonwebtoken (bench/compile-plain)
#                                    (--rounds N, default 3)
# Not run in CI: the clean builds take minutes each. The driver is the debug `bench` binary.
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-target}"
cargo build --locked -q -p mastra-bench --bin bench
case "${1:-all}" in
  cost) shift; exec "$target/debug/bench" compile-cost "$@" ;;
  clean) shift; exec "$target/debug/bench" compile-clean "$@" ;;
  all)
    "$target/debug/bench" compile-cost
    exec "$target/debug/bench" compile-clean ;;
  *) echo "usage: bench/compile.sh [cost|clean] [--rounds N] [--dir DIR]" >&2; exit 2 ;;
esac
