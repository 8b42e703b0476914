#!/usr/bin/env bash
# Bounded fuzzing of envelope parsing and the pre-screen (libFuzzer via cargo-fuzz).
#   scripts/fuzz.sh [seconds]   (default 60)
# cargo-fuzz needs nightly flags; RUSTC_BOOTSTRAP lets the stable toolchain accept them.
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-60}"
scripts/deps.sh
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
mkdir -p fuzz/corpus/envelope
export RUSTC_BOOTSTRAP=1
cargo fuzz run envelope fuzz/corpus/envelope fuzz/seeds/envelope -- \
  -max_total_time="$secs" -max_len=8192 -timeout=5 -rss_limit_mb=2048 -print_final_stats=1
