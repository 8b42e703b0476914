#!/usr/bin/env bash
# Where a request's instructions go: the release gateway under callgrind (exact, repeatable
# instruction counts; no hardware counters needed) on the demo configuration, the sample EC in its
# own process. 50 warm-up requests, then N measured ones on one keep-alive connection.
#   scripts/profile.sh [demand|syntax-ko|ec-ko|catalog] [N]      (default: demand 1000)
# Prints the inclusive instruction counts per request of the functions that matter and leaves
# the full profile in target/profile/callgrind.out (callgrind_annotate, kcachegrind).
set -euo pipefail
cd "$(dirname "$0")/.."
scenario=${1:-demand}
n=${2:-1000}
command -v valgrind >/dev/null || { echo "profile: valgrind is needed (apt-get install valgrind)" >&2; exit 2; }
# The same features as `cargo bench` builds (dev-dependencies unify tokio features), so the
# binary is not rebuilt between the benchmark and the profile.
cargo build --release --locked --bins --benches
out=target/profile
mkdir -p "$out"
rm -f "$out"/callgrind.out*
bin=target/release/sanp-gateway
body=fixtures/demo/demand.xml
action=demandPaymentNotice
case "$scenario" in
  demand) ;;
  # The idPSP of 36 characters of issue #14's syntax KO row.
  syntax-ko) sed 's|<idPSP>[^<]*</idPSP>|<idPSP>AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA</idPSP>|' "$body" >"$out/body.xml"; body=$out/body.xml ;;
  # The sample EC answers KO to service data carrying its `ko` marker (docs/conformance-fixtures.md).
  ec-ko)
    data=$(sed -n 's|.*<datiSpecificiServizio>\([^<]*\)<.*|\1|p' "$body" | base64 -d | sed 's|AB345CD|XX000XX|' | base64 -w0)
    sed "s|<datiSpecificiServizio>[^<]*<|<datiSpecificiServizio>$data<|" "$body" >"$out/body.xml"; body=$out/body.xml ;;
  catalog) body=fixtures/demo/catalog.xml; action=nodoChiediCatalogoServiziV2 ;;
  *) echo "profile: unknown scenario $scenario" >&2; exit 2 ;;
esac
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
"$bin" sample-ec --listen 127.0.0.1:8090 >"$out/ec.log" 2>&1 &
pids+=($!)
valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$out/callgrind.out" \
  "$bin" serve --config fixtures/demo/gateway.toml >"$out/gateway.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 600); do
  curl -sf -o /dev/null http://127.0.0.1:9090/health/ready 2>/dev/null && break
  sleep 0.1
done
requests() {
  # `next` separates the transfers: without it curl would merge every body into one.
  for i in $(seq 1 "$1"); do
    [ "$i" = 1 ] || echo next
    printf 'url = "http://127.0.0.1:8080/nodeForPsp"\nheader = "SOAPAction: \\"%s\\""\nheader = "Content-Type: text/xml; charset=utf-8"\ndata-binary = "@%s"\noutput = "/dev/null"\n' "$action" "$body"
  done
}
requests 50 | curl -s -K - >/dev/null
callgrind_control -i on >/dev/null
requests "$n" | curl -s -K - >/dev/null
callgrind_control -d >/dev/null
callgrind_control -i off >/dev/null
sleep 0.5
file=$(ls -t "$out"/callgrind.out* | head -1)
total=$(callgrind_annotate "$file" | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
echo "profile: $scenario, $n requests: $((total / n)) instructions per request (whole gateway process)"
callgrind_annotate --inclusive=yes "$file" 2>/dev/null |
  awk -v n="$n" 'NR>1 && $1 ~ /^[0-9,]+$/ { v=$1; gsub(",", "", v); if (v/n >= 2000) printf "%9d  %s\n", v/n, substr($0, index($0,$3)) }' |
  grep -E 'sanp_gateway::|quick_xml::|xmlSchema|xmlCtxt|hyper::|rustls::|tracing|mi_malloc|mi_free|base64' | head -60
echo "profile: full profile in $file"
