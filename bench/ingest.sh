#!/usr/bin/env bash
# bench/ingest.sh — ingest benchmark of the consent endpoint (loopback only, bounded).
#
# Builds the endpoint in release mode and runs its load generator (endpoint/src/bin/ingest_bench/):
# events/s and p50/p99 latency of POST /v1/events with durable commits (SQLite WAL, every answer
# after an fsync of the WAL covering its commit, group commit) at 1, 16 and 64 concurrent
# keep-alive clients, next to a trivial axum handler answering 204 and the durable floor (append +
# fdatasync, nothing else) measured in the same run. The endpoint / trivial column is the figure.
#
#   bash bench/ingest.sh                         # defaults: --events 20000 --seconds 8 --clients 1,16,64
#   bash bench/ingest.sh --clients 64 --events 50000
#
# Databases go to target/ingest-bench/ (deleted and recreated per client count). The table is also
# written to bench/ingest/last-run.md.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
cargo build --release -q -p consent-endpoint --bin ingest-bench
bin="${CARGO_TARGET_DIR:-target}/release/ingest-bench"
mkdir -p bench/ingest
"$bin" "$@" | tee bench/ingest/last-run.md
