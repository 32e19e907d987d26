#!/usr/bin/env bash
# Makes a certificate authority and one certificate per node for a TEST cluster, with the openssl
# command-line tool (docs/security.md, "Certificates for a test cluster").
#
#   scripts/make-test-certs.sh DIR NODE[=ADDRESS,...] ...
#
# DIR gets ca.pem and ca.key (the CA), and for each NODE NODE.pem (its certificate, signed by the
# CA) and NODE.key (its private key). Each certificate names the node (DNS:NODE), localhost and
# 127.0.0.1, plus the addresses given after '=' (IP addresses or host names), e.g.
#
#   scripts/make-test-certs.sh certs a=10.0.0.1 b=10.0.0.2,b.example.org
#   node --api-tls-cert certs/a.pem --api-tls-key certs/a.key ...
#   perdure --endpoint https://10.0.0.1:8080 --cacert certs/ca.pem list
#
# Keys are ECDSA P-256, certificates valid for 30 days. An existing CA in DIR is reused, so nodes
# can be added later. The keys are written unencrypted (mode 600): this is for tests, not for a
# production CA.
set -euo pipefail

if [ $# -lt 2 ]; then
  echo "usage: $0 DIR NODE[=ADDRESS,...] ..." >&2
  exit 2
fi
dir=$1
shift
mkdir -p "$dir"
umask 077
days=30

if [ ! -f "$dir/ca.pem" ] || [ ! -f "$dir/ca.key" ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days "$days" \
    -subj "/CN=Perdure test CA" -keyout "$dir/ca.key" -out "$dir/ca.pem" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
fi

for spec in "$@"; do
  node=${spec%%=*}
  if ! [[ $node =~ ^[A-Za-z0-9._-]+$ ]]; then
    echo "$0: '$node' is not a node name (letters, digits, '.', '_' and '-')" >&2
    exit 2
  fi
  names="DNS:$node,DNS:localhost,IP:127.0.0.1"
  if [ "$spec" != "$node" ]; then
    IFS=, read -ra addresses <<<"${spec#*=}"
    for address in "${addresses[@]}"; do
      if [[ $address =~ ^[0-9.]+$ || $address == *:* ]]; then names+=",IP:$address"; else names+=",DNS:$address"; fi
    done
  fi
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$node" \
    -keyout "$dir/$node.key" -out "$dir/$node.csr" 2>/dev/null
  openssl x509 -req -in "$dir/$node.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial \
    -days "$days" -out "$dir/$node.pem" \
    -extfile <(printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth,clientAuth\nbasicConstraints=CA:FALSE\n' "$names") \
    2>/dev/null
  rm -f "$dir/$node.csr"
  echo "$dir/$node.pem ($names)"
done
