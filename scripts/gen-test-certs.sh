#!/usr/bin/env bash
# Generates a small test PKI with openssl, for trying mutual TLS (docs/tls.md, "Worked example"):
#   ca.pem/ca.key           test CA
#   server.pem/server.key   gateway listener certificate for localhost and 127.0.0.1
#   psp.pem/psp.key         a PSP broker's client certificate
#   revoked.pem/revoked.key a client certificate revoked by ca.crl.pem
#   ca.crl.pem              the CA's CRL
# and prints the psp.pem SHA-256 fingerprint to put in [[psp_bindings]].
# Usage: scripts/gen-test-certs.sh DIR      (test material only: keys are unencrypted)
set -euo pipefail
dir="${1:?usage: $0 DIR}"
mkdir -p "$dir"
cd "$dir"
umask 077
cat > openssl.cnf <<'CNF'
[ ca ]
default_ca = test_ca
[ test_ca ]
dir = .
database = index.txt
new_certs_dir = .
certificate = ca.pem
private_key = ca.key
serial = serial
crlnumber = crlnumber
default_md = sha256
default_days = 825
default_crl_days = 365
policy = anything
[ anything ]
commonName = supplied
[ v3_ca ]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ server ]
basicConstraints = CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
[ client ]
basicConstraints = CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
CNF
: > index.txt
echo 1000 > serial
echo 1000 > crlnumber
openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem \
  -days 3650 -subj "/CN=sanp example CA/O=Example" -config openssl.cnf -extensions v3_ca 2>/dev/null
issue() { # name subject extensions
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$1.key" -out "$1.csr" -subj "$2" 2>/dev/null
  openssl ca -batch -config openssl.cnf -in "$1.csr" -out "$1.pem" -extensions "$3" -notext 2>/dev/null
  rm -f "$1.csr"
}
issue server "/CN=localhost" server
issue psp "/CN=BROKER_OK gateway client" client
issue revoked "/CN=revoked client" client
openssl ca -config openssl.cnf -revoke revoked.pem 2>/dev/null
openssl ca -config openssl.cnf -gencrl -out ca.crl.pem 2>/dev/null
# Private keys: PKCS#8 PEM, readable by rustls.
for k in ca server psp revoked; do openssl pkcs8 -topk8 -nocrypt -in "$k.key" -out "$k.key.tmp" && mv "$k.key.tmp" "$k.key"; done
chmod 644 ./*.pem
echo "psp.pem sha256: $(openssl x509 -noout -fingerprint -sha256 -in psp.pem | cut -d= -f2)"
