#!/usr/bin/env bash
# Throwaway certificates for the TLS tests and make bench, made fresh each run (no private key
# is ever committed). Usage: tests/tls/make_test_certs.sh DIR
#
# DIR/ca.pem              the test root CA: what clients trust
# DIR/ec.pem, ec.key      ECDSA P-256 leaf for localhost + 127.0.0.1, signed by an intermediate:
#                         ec.pem is the chain file (leaf, then the intermediate)
# DIR/rsa.pem, rsa.key    the same with an RSA 2048 key
# DIR/other.pem, other.key  a second ECDSA chain (CN other.localhost) for reload tests
set -euo pipefail
dir=${1:?usage: make_test_certs.sh DIR}
mkdir -p "$dir"
cd "$dir"
days=7
quiet() { "$@" 2>/dev/null >/dev/null || { echo "make_test_certs: failed: $*" >&2; "$@"; exit 1; }; }

cat > ext.cnf <<'CNF'
[ca]
basicConstraints=critical,CA:TRUE
keyUsage=critical,keyCertSign,cRLSign
subjectKeyIdentifier=hash
[leaf]
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,IP:127.0.0.1
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
CNF

quiet openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem \
    -days $days -subj "/CN=wspush test root CA" -addext basicConstraints=critical,CA:TRUE \
    -addext keyUsage=critical,keyCertSign,cRLSign
quiet openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout inter.key -out inter.csr \
    -subj "/CN=wspush test intermediate CA"
quiet openssl x509 -req -in inter.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days $days \
    -extfile ext.cnf -extensions ca -out inter.pem

leaf() {  # leaf NAME CN KEYSPEC...
    local name=$1 cn=$2; shift 2
    quiet openssl req -newkey "$@" -nodes -keyout "$name.key" -out "$name.csr" -subj "/CN=$cn"
    quiet openssl x509 -req -in "$name.csr" -CA inter.pem -CAkey inter.key -CAcreateserial -days $days \
        -extfile ext.cnf -extensions leaf -out "$name.leaf.pem"
    cat "$name.leaf.pem" inter.pem > "$name.pem"
}
leaf ec localhost ec -pkeyopt ec_paramgen_curve:P-256
leaf rsa localhost rsa:2048
leaf other other.localhost ec -pkeyopt ec_paramgen_curve:P-256
rm -f ./*.csr ./*.srl ext.cnf
chmod 600 ./*.key
