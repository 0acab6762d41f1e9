#!/bin/sh
# A development CA and one certificate per process, for [security] tls (docs/security.md,
# "TLS"). Not for production: the CA key sits beside the certificates.
#
#   scripts/dev-certs.sh DIR NAME [NAME...]
#
# makes DIR/ca.pem and DIR/ca.key once (kept if present), then DIR/NAME.pem and DIR/NAME.key
# for each NAME: subject CN=NAME, valid for NAME, localhost and 127.0.0.1, signed by the CA.
# Member names go into tls_allowed_names. DAYS (default 365) sets how long they are valid;
# DAYS=-1 makes an already expired certificate (for tests).
set -eu
if [ $# -lt 2 ]; then
  echo "usage: $0 DIR NAME [NAME...]" >&2
  exit 2
fi
dir=$1
shift
days=${DAYS:-365}
mkdir -p "$dir"
umask 077
if [ ! -f "$dir/ca.pem" ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
    -keyout "$dir/ca.key" -out "$dir/ca.pem" -subj "/CN=gfs development CA $(date +%s) $(openssl rand -hex 4)" 2>/dev/null
fi
for name in "$@"; do
  ext=$(mktemp)
  printf 'subjectAltName=DNS:%s,DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n' "$name" > "$ext"
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$dir/$name.key" -out "$dir/$name.csr" -subj "/CN=$name" 2>/dev/null
  openssl x509 -req -in "$dir/$name.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial \
    -days "$days" -extfile "$ext" -out "$dir/$name.pem" 2>/dev/null
  rm -f "$ext" "$dir/$name.csr"
done
chmod 644 "$dir"/*.pem
