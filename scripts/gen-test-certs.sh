#!/usr/bin/env bash
# Generates throwaway certificates for the security tests, into OUT_DIR:
#   ca.pem            the test CA (its key ca.key signs everything below)
#   NAME.pem/.key     a certificate for each NAME given, its subject
#                     alternative names DNS:NAME, DNS:localhost and
#                     IP:127.0.0.1, usable as server and client; given as
#                     NAME=DNS1,DNS2 it also names DNS1 and DNS2 (wildcards
#                     are not matched by gRPC below two labels: *.a.b, not *.b)
#   expired.pem/.key  signed by the CA for DNS:expired, valid only in 2020
#   rogue-ca.pem      another CA; rogue.pem/.key, signed by it, claims a
#                     name the real CA also signed (the first NAME)
# Nothing here is ever committed: the tests run this at test time.
#   scripts/gen-test-certs.sh OUT_DIR NAME...
set -euo pipefail
out="$1"
shift
mkdir -p "$out"
cd "$out"
umask 077

make_ca() {  # make_ca NAME SUBJECT
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -subj "/CN=$2" -keyout "$1.key" -out "$1.pem" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
    2>/dev/null
}

extensions() {  # extensions NAME [EXTRA_DNS_NAMES,...]
  local extra=""
  if [ -n "${2:-}" ]; then extra=",DNS:${2//,/,DNS:}"; fi
  printf '%s\n' \
    "subjectAltName=DNS:$1$extra,DNS:localhost,IP:127.0.0.1" \
    "basicConstraints=CA:FALSE" \
    "keyUsage=critical,digitalSignature,keyEncipherment" \
    "extendedKeyUsage=serverAuth,clientAuth"
}

make_leaf() {  # make_leaf FILE NAME CA [EXTRA_DNS_NAMES]
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -subj "/CN=$2" -keyout "$1.key" -out "$1.csr" 2>/dev/null
  openssl x509 -req -in "$1.csr" -CA "$3.pem" -CAkey "$3.key" -CAcreateserial -days 2 \
    -extfile <(extensions "$2" "${4:-}") -out "$1.pem" 2>/dev/null
  rm -f "$1.csr"
}

make_ca ca "Switchboard test CA"
for spec in "$@"; do
  name=${spec%%=*}
  extra=""
  if [ "$spec" != "$name" ]; then extra=${spec#*=}; fi
  make_leaf "$name" "$name" ca "$extra"
done

make_ca rogue-ca "Rogue test CA"
first=${1:-rogue}
make_leaf rogue "${first%%=*}" rogue-ca

# An expired certificate: `openssl ca` is the one that takes explicit dates.
mkdir -p ca-db
: > ca-db/index.txt
echo 1000 > ca-db/serial
cat > ca-db/ca.cnf <<CONF
[ca]
default_ca = test
[test]
dir = $PWD/ca-db
database = \$dir/index.txt
serial = \$dir/serial
new_certs_dir = \$dir
certificate = $PWD/ca.pem
private_key = $PWD/ca.key
default_md = sha256
policy = anything
copy_extensions = none
[anything]
commonName = supplied
CONF
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
  -subj "/CN=expired" -keyout expired.key -out expired.csr 2>/dev/null
openssl ca -batch -config ca-db/ca.cnf -startdate 20200101000000Z -enddate 20200102000000Z \
  -extfile <(extensions expired) -in expired.csr -out expired.pem -notext 2>/dev/null
rm -f expired.csr
chmod 0644 ./*.pem
