#!/usr/bin/env bash
# Runs the whole test suite: system packages, a private virtualenv with zeep, then cargo test.
# Extra arguments go to `cargo test` (e.g. scripts/test.sh --test it demand:: for one area of the
# integration tests).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh

# zeep (an independent SOAP client) drives the gateway from the official WSDL in tests/it/zeep.rs.
venv=target/pyenv
if ! "$venv/bin/python" -c 'import zeep' >/dev/null 2>&1; then
  echo "test: creating $venv with zeep"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check 'zeep==4.3.*'
fi
export SANP_PYTHON="$PWD/$venv/bin/python"

if [ -d ../shared/pagopa-api ]; then
  echo "test: official pagoPA schemas found in ../shared/pagopa-api"
else
  echo "test: NOTE ../shared/pagopa-api is missing; tests use the project's own xsd/ and skip the official-contract checks"
fi

time cargo test --locked "$@"
