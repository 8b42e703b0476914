#!/usr/bin/env bash
# Installs the system packages the build and the tests need (Debian; run as root or with sudo).
#   libxml2-dev + pkg-config: the gateway links libxml2 for XSD validation.
#   libxml2-utils: xmllint, handy to check fixtures by hand.
#   python3-venv: the zeep client used by the tests runs in a private virtualenv.
#   openssl, curl: the TLS example of docs/tls.md (scripts/gen-test-certs.sh) is run by the tests.
#   nginx-light, libnginx-mod-stream: the scale-out tests put two replicas behind nginx, with the
#   example configurations in deploy/nginx/
#   chromium, chromium-driver: the portal's tests drive a real browser over WebDriver
set -euo pipefail
need=()
for pkg in libxml2-dev pkg-config libxml2-utils openssl curl nginx-light libnginx-mod-stream chromium chromium-driver; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
  need+=(python3-venv)
fi
if ((${#need[@]})); then
  echo "deps: installing ${need[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
command -v cargo >/dev/null || {
  echo "deps: cargo not found; install Rust first: https://rustup.rs" >&2
  exit 1
}
