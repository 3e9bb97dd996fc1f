#!/usr/bin/env bash
# Regenerate the OpenSSL-made CRL test vectors in tests/data/openssl/.
#
#   tests/data/make-openssl-vectors.sh      (may be run from any directory)
#
# Every CRL is made by `openssl ca -gencrl` (OpenSSL >= 3.0 is required for
# -crl_lastupdate/-crl_nextupdate).  All dates and serial numbers are FIXED so
# tests can pin "now"; only the keys (and therefore signatures, SKI/AKI values
# and fingerprints) change from run to run.  See tests/data/openssl/README.md
# for what every file is for.
#
#   CA certificates       notBefore 2025-01-01T00:00:00Z  notAfter 2045-01-01T00:00:00Z
#   end-entity certs      notBefore 2025-01-01T00:00:00Z  notAfter 2035-01-01T00:00:00Z
#   CRL thisUpdate        2026-01-01T00:00:00Z
#   CRL nextUpdate        2026-02-01T00:00:00Z
#   revocation dates      2025-12-01 .. 2025-12-03 (see REVOKED_AT_* below)
#
# `openssl ca -revoke` always records the current time as the revocation date,
# so after each revocation this script rewrites that date in the throwaway
# index.txt (field 3 of the documented tab-separated format) to a fixed value
# before the CRL is generated.
#
# The openssl CA databases live in a mktemp directory that is deleted on exit.
# ALL KEYS WRITTEN HERE ARE PUBLIC TEST KEYS.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="$here/openssl"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

CA_NOT_BEFORE=20250101000000Z
CA_NOT_AFTER=20450101000000Z
EE_NOT_BEFORE=20250101000000Z
EE_NOT_AFTER=20350101000000Z
CRL_LAST_UPDATE=20260101000000Z
CRL_NEXT_UPDATE=20260201000000Z
# index.txt stores revocation dates as UTCTime (YYMMDDHHMMSSZ).
REVOKED_AT_1=251201000000Z
REVOKED_AT_2=251202000000Z
REVOKED_AT_3=251203000000Z

# Use only the config file written below, never /etc/ssl/openssl.cnf.
cnf="$work/openssl.cnf"
export OPENSSL_CONF="$cnf"

mkdir -p "$out"
# Remove previous outputs (README.md is hand-written and kept).
rm -f "$out"/*.pem "$out"/*.key "$out"/*.crl "$out"/*.crl.der

cat >"$cnf" <<'EOF'
# Throwaway config written by tests/data/make-openssl-vectors.sh.
# One [ CA_<name> ] section per test CA is appended below by ca_section().
[ req ]
distinguished_name = req_dn
prompt             = no
utf8               = yes
string_mask        = utf8only

[ req_dn ]
# unused: every subject is given with -subj

[ policy_any ]
organizationName = optional
commonName       = supplied

[ v3_ca ]
basicConstraints     = critical, CA:TRUE
keyUsage             = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

# Same as v3_ca but WITHOUT cRLSign (for nosign-ku.pem).
[ v3_ca_no_crlsign ]
basicConstraints     = critical, CA:TRUE
keyUsage             = critical, keyCertSign
subjectKeyIdentifier = hash

[ client_ext ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature
extendedKeyUsage       = clientAuth
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

# Separate CRL-signing certificate (crlsigner.pem).
[ crlsigner_ext ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, cRLSign
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

[ crl_ext ]
authorityKeyIdentifier = keyid:always
EOF

# ca_section NAME MD SERIAL_HEX CRLNUMBER_HEX|"" CERT KEY
# Appends [ CA_NAME ] with its own database under $work/NAME.  An empty
# CRLNUMBER_HEX gives a section with neither crlnumber nor crl_extensions,
# which makes `openssl ca -gencrl` emit a version 1 CRL.
ca_section() {
    local name="$1" md="$2" serial="$3" crlnumber="$4" cert="$5" key="$6"
    local db="$work/$name"
    mkdir -p "$db/newcerts"
    : >"$db/index.txt"
    echo "$serial" >"$db/serial"
    {
        echo
        echo "[ CA_$name ]"
        echo "database        = $db/index.txt"
        echo "new_certs_dir   = $db/newcerts"
        echo "serial          = $db/serial"
        echo "certificate     = $cert"
        echo "private_key     = $key"
        echo "default_md      = $md"
        echo "policy          = policy_any"
        echo "unique_subject  = no"
        echo "copy_extensions = none"
        echo "email_in_dn     = no"
        if [[ -n "$crlnumber" ]]; then
            echo "$crlnumber" >"$db/crlnumber"
            echo "crlnumber       = $db/crlnumber"
            echo "crl_extensions  = crl_ext"
        fi
    } >>"$cnf"
}

# ca NAME ARGS...: openssl ca with the section for NAME, never prompting.
# The RSA-PSS CA makes every signature with PSS (salt length = digest length).
ca() {
    local name="$1"
    shift
    local -a sigopts=()
    if [[ "$name" == rsa-pss ]]; then
        sigopts=(-sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:digest)
    fi
    openssl ca -batch -config "$cnf" -name "CA_$name" "${sigopts[@]}" "$@"
}

genkey() {
    local alg="$1" file="$2"
    case "$alg" in
        rsa2048) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$file" ;;
        p256) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
            -pkeyopt ec_param_enc:named_curve -out "$file" ;;
        p384) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 \
            -pkeyopt ec_param_enc:named_curve -out "$file" ;;
        ed25519) openssl genpkey -algorithm ED25519 -out "$file" ;;
        *) echo "unknown key type $alg" >&2; exit 1 ;;
    esac
}

# new_ca NAME KEYALG MD SERIAL_HEX CRLNUMBER_HEX SUBJECT
# Writes $out/NAME-ca.key and a self-signed $out/NAME-ca.pem (first serial).
new_ca() {
    local name="$1" alg="$2" md="$3" serial="$4" crlnumber="$5" subject="$6"
    ca_section "$name" "$md" "$serial" "$crlnumber" "$out/$name-ca.pem" "$out/$name-ca.key"
    genkey "$alg" "$out/$name-ca.key"
    openssl req -new -config "$cnf" -key "$out/$name-ca.key" -subj "$subject" \
        -out "$work/$name-ca.csr"
    ca "$name" -selfsign -preserveDN -notext -extensions v3_ca \
        -startdate "$CA_NOT_BEFORE" -enddate "$CA_NOT_AFTER" \
        -in "$work/$name-ca.csr" -out "$out/$name-ca.pem"
}

# issue CANAME OUTFILE CN [EXTENSIONS [KEYALG]]: end-entity cert issued by CANAME.
# The client key is kept in $work only; tests do not need it.
issue() {
    local name="$1" file="$2" cn="$3" ext="${4:-client_ext}" alg="${5:-p256}"
    local base
    base="$(basename "$file" .pem)"
    genkey "$alg" "$work/$base.key"
    openssl req -new -config "$cnf" -key "$work/$base.key" \
        -subj "/O=crlcheck tests/CN=$cn" -out "$work/$base.csr"
    ca "$name" -preserveDN -notext -extensions "$ext" \
        -startdate "$EE_NOT_BEFORE" -enddate "$EE_NOT_AFTER" \
        -in "$work/$base.csr" -out "$file"
}

# revoke CANAME CERT DATE [REASON ARGS...]: revoke, then pin the revocation date.
revoke() {
    local name="$1" cert="$2" when="$3"
    shift 3
    ca "$name" -revoke "$cert" "$@"
    local serial db="$work/$name/index.txt"
    serial="$(openssl x509 -in "$cert" -noout -serial)"
    serial="${serial#serial=}"
    awk -F '\t' -v OFS='\t' -v s="$serial" -v d="$when" '
        $1 == "R" && $4 == s { sub(/^[0-9]+Z/, d, $3) } { print }
    ' "$db" >"$db.new"
    mv "$db.new" "$db"
    awk -F '\t' -v s="$serial" -v d="$when" '
        $1 == "R" && $4 == s && index($3, d) == 1 { found = 1 } END { exit !found }
    ' "$db" || { echo "failed to pin revocation date of $serial" >&2; exit 1; }
}

# gencrl CANAME OUTFILE [ARGS...]: CRL with the fixed lastUpdate/nextUpdate.
gencrl() {
    local name="$1" file="$2"
    shift 2
    ca "$name" -gencrl -crl_lastupdate "$CRL_LAST_UPDATE" \
        -crl_nextupdate "$CRL_NEXT_UPDATE" "$@" -out "$work/crl.tmp"
    openssl crl -in "$work/crl.tmp" -out "$file" # PEM block only, no text
}

# --- rsa: RSA-2048 root CA, three revocations with different reasons -------
new_ca rsa rsa2048 sha256 1000 0100 "/O=crlcheck tests/CN=crlcheck Test RSA CA"
issue rsa "$out/rsa-revoked-1.pem" rsa-revoked-1
issue rsa "$out/rsa-revoked-2.pem" rsa-revoked-2
issue rsa "$out/rsa-revoked-3.pem" rsa-revoked-3
issue rsa "$out/rsa-good.pem" rsa-good
revoke rsa "$out/rsa-revoked-1.pem" "$REVOKED_AT_1" -crl_reason keyCompromise
revoke rsa "$out/rsa-revoked-2.pem" "$REVOKED_AT_2" -crl_hold holdInstructionCallIssuer
revoke rsa "$out/rsa-revoked-3.pem" "$REVOKED_AT_3"
gencrl rsa "$out/rsa.crl"
openssl crl -in "$out/rsa.crl" -outform DER -out "$out/rsa.crl.der"

# nosign-ku.pem: same subject and same public key as rsa-ca.pem, re-signed by
# rsa-ca.key, but keyUsage keyCertSign only (no cRLSign).  Separate database.
ca_section rsa-nosign sha256 10FF "" "$out/rsa-ca.pem" "$out/rsa-ca.key"
ca rsa-nosign -selfsign -preserveDN -notext -extensions v3_ca_no_crlsign \
    -startdate "$CA_NOT_BEFORE" -enddate "$CA_NOT_AFTER" \
    -in "$work/rsa-ca.csr" -out "$out/nosign-ku.pem"

# v1.crl: signed by rsa-ca.key from a separate database that has neither a
# crlnumber file nor crl_extensions, revoking rsa-revoked-3.pem with no reason
# (so the entry has no extensions either).  openssl then writes a v1 CRL.
ca_section rsa-v1 sha256 10FE "" "$out/rsa-ca.pem" "$out/rsa-ca.key"
revoke rsa-v1 "$out/rsa-revoked-3.pem" "$REVOKED_AT_3"
gencrl rsa-v1 "$out/v1.crl"

# --- ec: P-384 root CA, everything signed with ECDSA-SHA384 ------------------
new_ca ec p384 sha384 2000 0200 "/O=crlcheck tests/CN=crlcheck Test EC P-384 CA"
issue ec "$out/ec-revoked.pem" ec-revoked
issue ec "$out/ec-good.pem" ec-good
revoke ec "$out/ec-revoked.pem" "$REVOKED_AT_1" -crl_reason keyCompromise
gencrl ec "$out/ec.crl"

# --- rsa-pss: rsaEncryption key, all signatures RSASSA-PSS/SHA-256 ----------
new_ca rsa-pss rsa2048 sha256 3000 0300 "/O=crlcheck tests/CN=crlcheck Test RSA-PSS CA"
issue rsa-pss "$out/rsa-pss-revoked.pem" rsa-pss-revoked
revoke rsa-pss "$out/rsa-pss-revoked.pem" "$REVOKED_AT_1" -crl_reason keyCompromise
gencrl rsa-pss "$out/rsa-pss.crl"

# --- ed25519: Ed25519 root CA (default_md=default -> pure Ed25519) ----------
new_ca ed25519 ed25519 default 4000 0400 "/O=crlcheck tests/CN=crlcheck Test Ed25519 CA"
issue ed25519 "$out/ed25519-revoked.pem" ed25519-revoked
revoke ed25519 "$out/ed25519-revoked.pem" "$REVOKED_AT_1" -crl_reason keyCompromise
gencrl ed25519 "$out/ed25519.crl"

# --- crlsigner: CA + separate CRL-signing cert with the SAME subject ---------
new_ca crlsigner p256 sha256 5000 0500 "/O=crlcheck tests/CN=crlcheck Test CRL-Signer CA"
genkey p256 "$out/crlsigner.key"
openssl req -new -config "$cnf" -key "$out/crlsigner.key" \
    -subj "/O=crlcheck tests/CN=crlcheck Test CRL-Signer CA" -out "$work/crlsigner.csr"
ca crlsigner -preserveDN -notext -extensions crlsigner_ext \
    -startdate "$CA_NOT_BEFORE" -enddate "$CA_NOT_AFTER" \
    -in "$work/crlsigner.csr" -out "$out/crlsigner.pem"
issue crlsigner "$out/crlsigner-revoked.pem" crlsigner-revoked
revoke crlsigner "$out/crlsigner-revoked.pem" "$REVOKED_AT_1" -crl_reason keyCompromise
gencrl crlsigner "$out/crlsigner.crl" -cert "$out/crlsigner.pem" -keyfile "$out/crlsigner.key"

# --- checks: fail the script if any signature does not verify ---------------
check_crl() {
    local crl="$1" signer="$2"
    printf '%-14s signer %-16s ' "$(basename "$crl")" "$(basename "$signer")"
    # `openssl crl -CAfile` prints "verify failure" but still exits 0 when the
    # signature does not verify, so check the message instead of the status.
    local result form=PEM
    [[ "$crl" == *.der ]] && form=DER
    result="$(openssl crl -inform "$form" -in "$crl" -CAfile "$signer" -noout 2>&1)"
    echo "$result"
    [[ "$result" == "verify OK" ]] || { echo "error: $crl does not verify" >&2; exit 1; }
}
check_crl "$out/rsa.crl" "$out/rsa-ca.pem"
check_crl "$out/v1.crl" "$out/rsa-ca.pem"
check_crl "$out/ec.crl" "$out/ec-ca.pem"
check_crl "$out/rsa-pss.crl" "$out/rsa-pss-ca.pem"
check_crl "$out/ed25519.crl" "$out/ed25519-ca.pem"
check_crl "$out/crlsigner.crl" "$out/crlsigner.pem"
check_crl "$out/rsa.crl.der" "$out/rsa-ca.pem"
# The CA's own key did NOT sign crlsigner.crl, even though the names match.
wrong_signer="$(openssl crl -in "$out/crlsigner.crl" -CAfile "$out/crlsigner-ca.pem" \
    -noout 2>&1 || true)"
if [[ "$wrong_signer" == "verify OK" ]]; then
    echo "error: crlsigner.crl unexpectedly verifies with crlsigner-ca.pem" >&2
    exit 1
fi
for c in rsa-revoked-1 rsa-revoked-2 rsa-revoked-3 rsa-good; do
    openssl verify -CAfile "$out/rsa-ca.pem" "$out/$c.pem"
done
openssl verify -CAfile "$out/ec-ca.pem" "$out/ec-revoked.pem" "$out/ec-good.pem"
openssl verify -CAfile "$out/rsa-pss-ca.pem" "$out/rsa-pss-revoked.pem"
openssl verify -CAfile "$out/ed25519-ca.pem" "$out/ed25519-revoked.pem"
openssl verify -CAfile "$out/crlsigner-ca.pem" \
    "$out/crlsigner.pem" "$out/crlsigner-revoked.pem"
echo "wrote test vectors to $out"
