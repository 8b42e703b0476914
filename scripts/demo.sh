#!/usr/bin/env bash
# Runs the gateway on the bundled demo configuration, with the sample EC behind it, on 127.0.0.1
# (gateway :8080, sample EC :8090). It prints ready-to-paste curl commands. Stop with Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
exec cargo run --locked -- demo "$@"
