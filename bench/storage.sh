#!/usr/bin/env bash
# The storage benchmark: message appends, thread reads and workflow runs per second through the
# HTTP API, on SQLite and on PostgreSQL, one server instance and two, in one run.
#   bench/storage.sh                  release build, 3 rounds x 5 s per scenario (~6 min)
#   bench/storage.sh --smoke          every scenario answers on every configuration (debug build)
#   bench/storage.sh --out table.md   also write the table to a file
# PostgreSQL: MASTRA_BENCH_POSTGRES_URL when set (its database is written to), otherwise a
# throwaway cluster from /usr/lib/postgresql/*/bin with fsync on. See bench/src/bin/storage.rs.
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-target}"

if [ "${1:-}" = "--smoke" ]; then
  cargo build --locked -q -p mastra-bench --bin storage --bin storage_server
  exec "$target/debug/storage" --bin-dir "$target/debug" "$@"
fi
cargo build --locked --release -q -p mastra-bench --bin storage --bin storage_server
exec "$target/release/storage" --bin-dir "$target/release" "$@"
