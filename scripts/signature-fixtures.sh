#!/usr/bin/env bash
# Regenerates the committed signature test fixtures in src/inspect/signature/tests/fixtures/
# with the openssl CLI, so `cargo test --lib` itself never needs openssl (or any other program).
#
#   scripts/signature-fixtures.sh && cargo test --lib inspect::signature
#
# What it makes: a throwaway P-256 root CA and three signers (RSA-2048, P-256, P-384) whose
# subject has Romanian diacritics (UTF-8 subjects are exercised), then CMS signatures over
# CONTENT in each variant the tests use, signed PDFs and the CAdES pieces of an ASiC-E container.
# Every certificate is valid from 2026-01-01 to 2046-01-01 whatever day this runs, so the
# fixtures do not age. Keys are fresh each run and not kept: the tests only verify, and private
# keys in the tree would trip the project's own (and anyone's) secret scanners.
#
# The file names, flags and contents here are mirrored in src/inspect/signature/tests/fixtures.rs
# (and CONTENT there); change both together. Signatures differ from run to run (signing time,
# ECDSA nonces), which the tests do not depend on.
set -euo pipefail
export LC_ALL=C

cd "$(dirname "${BASH_SOURCE[0]}")/.."
OUT=src/inspect/signature/tests/fixtures

command -v openssl >/dev/null || {
    echo "openssl is required to regenerate the fixtures" >&2
    exit 1
}

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# Keep in step with SIGNER_CN and CONTENT in fixtures.rs.
SIGNER_SUBJECT='/C=MD/O=Agenția de Guvernare Electronică/CN=Ștefan Țurcanu'
printf 'Acord de aderare la MPass și MSign, semnat electronic.\n' >"$WORK/content.bin"
# Fixed validity (UTCTime), so tests neither expire nor start to fail on some date.
NOT_BEFORE=260101000000Z
NOT_AFTER=460101000000Z

# ------------------------------------------------------------ CA and signers

cat >"$WORK/ca.cnf" <<EOF
[ca]
default_ca = test_ca

[test_ca]
database = $WORK/index.txt
serial = $WORK/serial
new_certs_dir = $WORK
default_md = sha256
policy = policy_any
unique_subject = no
email_in_dn = no

[policy_any]
countryName = optional
organizationName = optional
commonName = supplied

[ca_ext]
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always,issuer
basicConstraints = critical,CA:true

[signer_ext]
subjectKeyIdentifier = hash
keyUsage = critical,digitalSignature,nonRepudiation
EOF
: >"$WORK/index.txt"

# issue NAME SERIAL_HEX EXTENSIONS [ca options...]: NAME.csr -> NAME.pem and NAME.der
issue() {
    local name=$1 serial=$2 ext=$3
    shift 3
    echo "$serial" >"$WORK/serial"
    openssl ca -batch -config "$WORK/ca.cnf" -utf8 -preserveDN -notext \
        -startdate "$NOT_BEFORE" -enddate "$NOT_AFTER" -extensions "$ext" \
        -in "$WORK/$name.csr" -out "$WORK/$name.pem" "$@" 2>"$WORK/ca.log" ||
        { cat "$WORK/ca.log" >&2 && return 1; }
    openssl x509 -in "$WORK/$name.pem" -outform DER -out "$WORK/$name.der"
}

openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$WORK/ca.key"
openssl req -new -utf8 -key "$WORK/ca.key" -subj '/CN=Test Root CA' -out "$WORK/ca.csr"
issue ca 1000 ca_ext -selfsign -keyfile "$WORK/ca.key"

# signer NAME SERIAL_HEX genpkey-options...
signer() {
    local name=$1 serial=$2
    shift 2
    openssl genpkey -quiet "$@" -out "$WORK/$name.key"
    openssl req -new -utf8 -key "$WORK/$name.key" -subj "$SIGNER_SUBJECT" -out "$WORK/$name.csr"
    issue "$name" "$serial" signer_ext -cert "$WORK/ca.pem" -keyfile "$WORK/ca.key"
}
signer rsa 1001 -algorithm RSA -pkeyopt rsa_keygen_bits:2048
signer p256 1002 -algorithm EC -pkeyopt ec_paramgen_curve:P-256
signer p384 1003 -algorithm EC -pkeyopt ec_paramgen_curve:P-384

rm -rf "$OUT"
mkdir -p "$OUT"
# Line-ending conversion (core.autocrlf) would break the signatures and PDF byte ranges.
printf '* -text\n' >"$OUT/.gitattributes"
cp "$WORK/ca.pem" "$WORK/ca.der" "$WORK/rsa.der" "$WORK/p256.der" "$WORK/p384.der" "$OUT/"

# ------------------------------------------------------------ CMS

# sign OUTPUT SIGNER CONTENT [openssl cms options...]: detached DER unless the options say otherwise.
sign() {
    local out=$1 signer=$2 content=$3
    shift 3
    openssl cms -sign -binary -in "$content" -signer "$WORK/$signer.pem" \
        -inkey "$WORK/$signer.key" -certfile "$WORK/ca.pem" -outform DER -out "$out" "$@"
}

cms() {
    local file=$1
    shift
    sign "$OUT/$file" "$1" "$WORK/content.bin" "${@:2}"
}
cms rsa.p7s rsa
cms rsa-enveloping.p7s rsa -nodetach
cms rsa-enveloping-ber.p7s rsa -nodetach -stream
cms rsa-noattr.p7s rsa -noattr
cms rsa-enveloping-noattr.p7s rsa -noattr -nodetach
cms rsa-sha384.p7s rsa -md sha384
cms rsa-sha512.p7s rsa -md sha512
cms rsa-sha1.p7s rsa -md sha1
cms rsa-pss.p7s rsa -keyopt rsa_padding_mode:pss -keyopt rsa_pss_saltlen:digest
cms rsa-pss-saltlen-max.p7s rsa -keyopt rsa_padding_mode:pss -keyopt rsa_pss_saltlen:max
cms rsa-keyid.p7s rsa -keyid
cms rsa-nocerts.p7s rsa -nocerts
cms p256.p7s p256
cms p256-sha384.p7s p256 -md sha384
cms p256-sha512.p7s p256 -md sha512
cms p256-noattr.p7s p256 -noattr
cms p256.cms.pem p256 -outform PEM
cms p384-sha384.p7s p384 -md sha384
cms p384-enveloping.p7s p384 -nodetach

# A certificates-only PKCS#7 bundle: signedData without a signer.
openssl crl2pkcs7 -nocrl -certfile "$WORK/rsa.pem" -outform DER -out "$OUT/rsa-certs-only.p7b"

# ------------------------------------------------------------ PDF

HOLE_HEX=16384
BYTE_RANGE_PLACEHOLDER='/ByteRange [0 0000000000 0000000000 0000000000]'
ZEROS=$(printf "%${HOLE_HEX}s" '' | tr ' ' 0)

size() { wc -c <"$1" | tr -d ' '; }

# pdf_template FILE EXTRA_SIG_KEYS: a small PDF with an unsigned signature field; /Contents is
# a zero-filled hex placeholder, /ByteRange a fixed-width one.
pdf_template() {
    local file=$1 extra=$2 i
    local objects=(
        '<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [4 0 R] /SigFlags 3 >> >>'
        '<< /Type /Pages /Kids [3 0 R] /Count 1 >>'
        '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Annots [4 0 R] >>'
        '<< /Type /Annot /Subtype /Widget /FT /Sig /Rect [0 0 0 0] /V 5 0 R /T (Semnătura) /P 3 0 R /F 132 >>'
        "<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached $BYTE_RANGE_PLACEHOLDER /Contents <$ZEROS> /Reason (Acord \\(MPass\\) >> semnat) $extra /Prop_Build << /App << /Name /egov-test >> >> >>"
    )
    local offsets=()
    printf '%%PDF-1.7\n%%\xe2\xe3\xcf\xd3\n' >"$file"
    for i in "${!objects[@]}"; do
        offsets+=("$(size "$file")")
        printf '%d 0 obj\n%s\nendobj\n' $((i + 1)) "${objects[i]}" >>"$file"
    done
    local xref
    xref=$(size "$file")
    printf 'xref\n0 %d\n0000000000 65535 f \n' $((${#objects[@]} + 1)) >>"$file"
    for i in "${offsets[@]}"; do
        printf '%010d 00000 n \n' "$i" >>"$file"
    done
    printf 'trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n' \
        $((${#objects[@]} + 1)) "$xref" >>"$file"
}

incremental_update() { # FILE BODY: appends object 6
    printf '6 0 obj\n%s\nendobj\n%%%%EOF\n' "$2" >>"$1"
}

# Last byte offset of a fixed string in a file.
last_offset() {
    grep -obUaF -- "$2" "$1" | tail -n 1 | cut -d: -f1
}

# sign_pdf FILE SIGNER [openssl cms options...]: signs the last placeholder in FILE the way a
# PAdES signer does: byte ranges around the /Contents hex string, CMS detached over them.
sign_pdf() {
    local file=$1 signer=$2
    shift 2
    local hole_start hole_end ranges at hex
    hole_start=$(($(last_offset "$file" '/Contents <0000') + 10))  # past "/Contents "
    hole_end=$((hole_start + HOLE_HEX + 2))
    [[ $(tail -c +"$hole_end" "$file" | head -c 1) == '>' ]]
    ranges=$(printf '/ByteRange [0 %-10d %-10d %-10d]' \
        "$hole_start" "$hole_end" $(($(size "$file") - hole_end)))
    ((${#ranges} == ${#BYTE_RANGE_PLACEHOLDER}))
    at=$(last_offset "$file" "$BYTE_RANGE_PLACEHOLDER")
    printf '%s' "$ranges" | dd of="$file" bs=1 seek="$at" conv=notrunc status=none
    { head -c "$hole_start" "$file" && tail -c +$((hole_end + 1)) "$file"; } >"$WORK/signed.bin"
    sign "$WORK/pdf.p7s" "$signer" "$WORK/signed.bin" "$@"
    hex=$(od -An -v -tx1 "$WORK/pdf.p7s" | tr -d ' \n' | tr a-f A-F)
    ((${#hex} <= HOLE_HEX))
    printf '%s' "$hex" | dd of="$file" bs=1 seek=$((hole_start + 1)) conv=notrunc status=none
}

pdf_template "$OUT/prepared.pdf" ''

pdf_template "$OUT/signed-rsa.pdf" ''
sign_pdf "$OUT/signed-rsa.pdf" rsa

pdf_template "$OUT/signed-rsa-m-noattr.pdf" "/M (D:20240315103000+02'00')"
sign_pdf "$OUT/signed-rsa-m-noattr.pdf" rsa -noattr

pdf_template "$OUT/signed-p256-cades-m.pdf" '/M (D:20240315103000Z)'
sign_pdf "$OUT/signed-p256-cades-m.pdf" p256 -cades

pdf_template "$OUT/signed-p256.pdf" ''
sign_pdf "$OUT/signed-p256.pdf" p256

# Signed by RSA, then an incremental update with a second field signed by P-384.
cp "$OUT/signed-rsa.pdf" "$OUT/two-signatures.pdf"
incremental_update "$OUT/two-signatures.pdf" \
    "<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached /Contents <$ZEROS> $BYTE_RANGE_PLACEHOLDER >>"
sign_pdf "$OUT/two-signatures.pdf" p384 -md sha384

# ------------------------------------------------------------ ASiC-E (CAdES)

# The manifest names "contract semnat.pdf" whose content is CONTRACT in fixtures.rs.
digest=$(printf '%s' '%PDF-1.7 contract' | openssl dgst -sha256 -binary | openssl base64 -A)
printf '%s' '<?xml version="1.0" encoding="UTF-8"?>
<asic:ASiCManifest xmlns:asic="http://uri.etsi.org/02918/v1.2.1#" xmlns:ds="http://www.w3.org/2000/09/xmldsig#">
<asic:SigReference URI="META-INF/signature001.p7s" MimeType="application/x-pkcs7-signature"/>
<asic:DataObjectReference URI="contract%20semnat.pdf" MimeType="application/pdf">
<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>
<ds:DigestValue>'"$digest"'</ds:DigestValue>
</asic:DataObjectReference>
</asic:ASiCManifest>' >"$OUT/asice-manifest.xml"
sign "$OUT/asice-signature001.p7s" p256 "$OUT/asice-manifest.xml" -cades

echo "wrote $(find "$OUT" -type f | wc -l) files, $(du -cb "$OUT"/* | tail -n 1 | cut -f1) bytes, to $OUT"
