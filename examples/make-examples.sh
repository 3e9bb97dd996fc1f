#!/usr/bin/env bash
# Regenerate the demo PKI in examples/ with the openssl CLI.
#
#   examples/make-examples.sh          (may be run from any directory)
#
# Produces, next to this script:
#   ca.pem / ca.key              self-signed example root CA (EC P-256, ~20 years)
#   good.pem / good.key          client certificate CN=good-client (not revoked)
#   revoked.pem / revoked.key    client certificate CN=revoked-client (revoked)
#   ca.crl / ca.crl.der          CRL from `openssl ca -gencrl`, PEM and DER
#
# ALL KEYS WRITTEN HERE ARE PUBLIC DEMO KEYS. Never use them for anything real.
#
# Keys and serial numbers are random, so every run produces different files;
# the structure (names, extensions, validity lengths, revocation reason) is
# always the same.  The openssl CA database lives in a throwaway mktemp
# directory and is deleted on exit; nothing outside examples/ is written.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Use only the config file written below, never /etc/ssl/openssl.cnf.
cnf="$work/openssl.cnf"
export OPENSSL_CONF="$cnf"

mkdir -p "$work/db/newcerts"
: >"$work/db/index.txt"
echo 01 >"$work/db/crlnumber"

cat >"$cnf" <<EOF
# Throwaway config written by examples/make-examples.sh
[ req ]
distinguished_name = req_dn
prompt             = no
utf8               = yes
string_mask        = utf8only

[ req_dn ]
# unused: every subject is given with -subj

[ ca ]
default_ca = CA_example

[ CA_example ]
database         = $work/db/index.txt
new_certs_dir    = $work/db/newcerts
serial           = $work/db/serial
crlnumber        = $work/db/crlnumber
certificate      = $here/ca.pem
private_key      = $here/ca.key
default_md       = sha256
default_days     = 3650
default_crl_days = 3650
policy           = policy_client
unique_subject   = no
copy_extensions  = none
email_in_dn      = no
crl_extensions   = crl_ext

[ policy_client ]
organizationName = optional
commonName       = supplied

[ v3_ca ]
basicConstraints     = critical, CA:TRUE
keyUsage             = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[ client_ext ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature
extendedKeyUsage       = clientAuth
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

[ crl_ext ]
authorityKeyIdentifier = keyid:always
EOF

ec_key() {
    openssl genpkey -algorithm EC \
        -pkeyopt ec_paramgen_curve:P-256 -pkeyopt ec_param_enc:named_curve \
        -out "$1"
}

# --- root CA ------------------------------------------------------------
# DN in openssl order is /O=crlcheck/CN=...; RFC 4514: "CN=crlcheck Example CA,O=crlcheck".
ec_key "$here/ca.key"
openssl req -new -x509 -config "$cnf" -key "$here/ca.key" \
    -subj "/O=crlcheck/CN=crlcheck Example CA" \
    -days 7300 -sha256 -extensions v3_ca -out "$here/ca.pem"

# --- client certificates, issued through the openssl ca database -----------
issue_client() {
    local name="$1" cn="$2"
    ec_key "$here/$name.key"
    openssl req -new -config "$cnf" -key "$here/$name.key" \
        -subj "/O=crlcheck/CN=$cn" -out "$work/$name.csr"
    openssl ca -batch -config "$cnf" -rand_serial -preserveDN -notext \
        -days 3650 -extensions client_ext \
        -in "$work/$name.csr" -out "$here/$name.pem"
}
issue_client good good-client
issue_client revoked revoked-client

# --- revoke and publish the CRL -----------------------------------------
openssl ca -batch -config "$cnf" -revoke "$here/revoked.pem" -crl_reason keyCompromise

# -crldays 3650: the CRL's nextUpdate is ~10 years out on purpose, so the
# demo command in the README keeps working on a fresh checkout for years
# without regenerating anything (a real CA would publish every few days).
openssl ca -batch -config "$cnf" -gencrl -crldays 3650 -out "$work/ca.crl"
# Re-encode so the committed PEM holds only the CRL block.
openssl crl -in "$work/ca.crl" -out "$here/ca.crl"
openssl crl -in "$here/ca.crl" -outform DER -out "$here/ca.crl.der"

# --- sanity checks (fail the script if anything is off) ---------------------
openssl verify -CAfile "$here/ca.pem" "$here/good.pem" "$here/revoked.pem"
# `openssl crl -CAfile` exits 0 even on "verify failure"; check the message.
crl_check="$(openssl crl -in "$here/ca.crl" -CAfile "$here/ca.pem" -noout 2>&1)"
[[ "$crl_check" == "verify OK" ]] ||
    { echo "error: ca.crl signature does not verify: $crl_check" >&2; exit 1; }
echo "ca.crl: verify OK"
openssl verify -crl_check -CAfile "$here/ca.pem" -CRLfile "$here/ca.crl" "$here/good.pem"
if openssl verify -crl_check -CAfile "$here/ca.pem" -CRLfile "$here/ca.crl" \
    "$here/revoked.pem" >/dev/null 2>&1; then
    echo "error: revoked.pem unexpectedly verifies against ca.crl" >&2
    exit 1
fi
echo "revoked.pem is rejected as revoked by ca.crl (expected)"
echo "wrote examples to $here"
