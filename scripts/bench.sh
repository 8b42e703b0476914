#!/usr/bin/env bash
# The benchmark of BENCHMARKS.md: installs oha when missing (cargo install, ~10 min once), builds
# the release gateway and runs the load harness (benches/load/), which rewrites BENCHMARKS.md.
# Arguments go to the harness: --duration SECONDS (8), --concurrency N (16), --rounds N (3),
# --quick (3 s runs, one round),
# --no-tls, --out FILE. Criterion micro-benchmarks: cargo bench --bench micro
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
if ! command -v oha >/dev/null && [ ! -x "$HOME/.cargo/bin/oha" ]; then
  echo "bench: installing oha (load generator) with cargo install"
  cargo install oha --locked --version 1.16.0
fi
cargo bench --locked --bench load -- "$@"
