//! Committed fixtures for the signature tests, made by
//! `scripts/signature-fixtures.sh` with the openssl CLI so that the tests
//! themselves run no program: a throwaway CA and signers (RSA-2048, P-256,
//! P-384) whose subject CN has Romanian diacritics, so UTF-8 subjects are
//! exercised; CMS signatures over [`CONTENT`] in each variant the tests
//! use; signed PDFs; the CAdES pieces of an ASiC-E container.
//! Certificates are valid from 2026-01-01 to 2046-01-01, and nothing here
//! reads the clock, so the fixtures do not age.
//!
//! To refresh them (the script replaces the whole `fixtures/` folder):
//!
//! ```text
//! scripts/signature-fixtures.sh && cargo test --lib inspect::signature
//! ```
//!
//! A new CMS variant needs a line in the script and an arm in [`signed`].

use std::io::{Cursor, Write};

use base64::Engine as _;
use ring::digest;

/// `include_bytes!` of a file in `fixtures/`, as a `&'static [u8]`.
macro_rules! fixture {
    ($name:literal) => {{
        const BYTES: &[u8] = include_bytes!(concat!("fixtures/", $name));
        BYTES
    }};
}

pub(super) const SIGNER_CN: &str = "Ștefan Țurcanu";
pub(super) const CONTENT: &[u8] =
    "Acord de aderare la MPass și MSign, semnat electronic.\n".as_bytes();

pub(super) struct Signer {
    /// How the script names this signer's files: `rsa`, `p256`, `p384`.
    name: &'static str,
    pub(super) cert_der: &'static [u8],
}

pub(super) struct Fixtures {
    pub(super) ca_pem: &'static [u8],
    pub(super) ca_der: &'static [u8],
    pub(super) rsa: Signer,
    pub(super) p256: Signer,
    pub(super) p384: Signer,
}

static FIXTURES: Fixtures = Fixtures {
    ca_pem: fixture!("ca.pem"),
    ca_der: fixture!("ca.der"),
    rsa: Signer {
        name: "rsa",
        cert_der: fixture!("rsa.der"),
    },
    p256: Signer {
        name: "p256",
        cert_der: fixture!("p256.der"),
    },
    p384: Signer {
        name: "p384",
        cert_der: fixture!("p384.der"),
    },
};

pub(super) fn fixtures() -> &'static Fixtures {
    &FIXTURES
}

/// The committed signature over [`CONTENT`] that `openssl cms -sign
/// -binary -certfile ca.pem -outform DER` made with `signer`'s key and
/// `args` (detached DER unless `args` say otherwise). Tests that damage it
/// get their own copy.
pub(super) fn signed(signer: &Signer, args: &[&str]) -> Vec<u8> {
    let bytes = match (signer.name, args.join(" ").as_str()) {
        ("rsa", "") => fixture!("rsa.p7s"),
        ("rsa", "-nodetach") => fixture!("rsa-enveloping.p7s"),
        ("rsa", "-nodetach -stream") => fixture!("rsa-enveloping-ber.p7s"),
        ("rsa", "-noattr") => fixture!("rsa-noattr.p7s"),
        ("rsa", "-noattr -nodetach") => fixture!("rsa-enveloping-noattr.p7s"),
        ("rsa", "-md sha384") => fixture!("rsa-sha384.p7s"),
        ("rsa", "-md sha512") => fixture!("rsa-sha512.p7s"),
        ("rsa", "-md sha1") => fixture!("rsa-sha1.p7s"),
        ("rsa", "-keyopt rsa_padding_mode:pss -keyopt rsa_pss_saltlen:digest") => {
            fixture!("rsa-pss.p7s")
        }
        ("rsa", "-keyopt rsa_padding_mode:pss -keyopt rsa_pss_saltlen:max") => {
            fixture!("rsa-pss-saltlen-max.p7s")
        }
        ("rsa", "-keyid") => fixture!("rsa-keyid.p7s"),
        ("rsa", "-nocerts") => fixture!("rsa-nocerts.p7s"),
        ("p256", "") => fixture!("p256.p7s"),
        ("p256", "-md sha384") => fixture!("p256-sha384.p7s"),
        ("p256", "-md sha512") => fixture!("p256-sha512.p7s"),
        ("p256", "-noattr") => fixture!("p256-noattr.p7s"),
        ("p256", "-outform PEM") => fixture!("p256.cms.pem"),
        ("p384", "-md sha384") => fixture!("p384-sha384.p7s"),
        ("p384", "-nodetach") => fixture!("p384-enveloping.p7s"),
        (name, args) => panic!(
            "no committed signature by {name} with {args:?}: \
             add it to scripts/signature-fixtures.sh and to `signed`"
        ),
    };
    bytes.to_vec()
}

/// `openssl crl2pkcs7 -nocrl` of the RSA signer's certificate: signedData
/// with certificates and no signer.
pub(super) const CERTS_ONLY_BUNDLE: &[u8] = fixture!("rsa-certs-only.p7b");

// The PDFs share one template: five objects, the last a /Sig dictionary
// with a zero-filled 16384-digit /Contents hole and a fixed-width
// /ByteRange; signing fills both the way a PAdES signer does, the CMS
// detached over the bytes around the hole.

/// The template, never signed.
pub(super) const PDF_PREPARED: &[u8] = fixture!("prepared.pdf");
/// Signed by RSA, CMS with signed attributes.
pub(super) const PDF_SIGNED_RSA: &[u8] = fixture!("signed-rsa.pdf");
/// `/M (D:20240315103000+02'00')` in the /Sig, signed by RSA with `-noattr`.
pub(super) const PDF_SIGNED_RSA_M_NOATTR: &[u8] = fixture!("signed-rsa-m-noattr.pdf");
/// `/M (D:20240315103000Z)` in the /Sig, signed by P-256 with `-cades`.
pub(super) const PDF_SIGNED_P256_CADES_M: &[u8] = fixture!("signed-p256-cades-m.pdf");
/// Signed by P-256.
pub(super) const PDF_SIGNED_P256: &[u8] = fixture!("signed-p256.pdf");
/// [`PDF_SIGNED_RSA`], then an incremental update adding a second /Sig
/// (object 6) signed by P-384 with `-md sha384`.
pub(super) const PDF_TWO_SIGNATURES: &[u8] = fixture!("two-signatures.pdf");

/// The data object of the CAdES ASiC-E container.
pub(super) const CONTRACT: &[u8] = b"%PDF-1.7 contract";
/// `META-INF/ASiCManifest.xml` naming `contract semnat.pdf` with the
/// SHA-256 of [`CONTRACT`].
pub(super) const ASICE_MANIFEST: &[u8] = fixture!("asice-manifest.xml");
/// `META-INF/signature001.p7s`: P-256, `-cades`, detached over [`ASICE_MANIFEST`].
pub(super) const ASICE_SIGNATURE: &[u8] = fixture!("asice-signature001.p7s");

pub(super) fn incremental_update(pdf: &[u8], body: &str) -> Vec<u8> {
    let mut out = pdf.to_vec();
    out.extend_from_slice(format!("6 0 obj\n{body}\nendobj\n%%EOF\n").as_bytes());
    out
}

pub(super) fn zip(entries: &[(&str, &[u8], bool)]) -> Vec<u8> {
    use zip::write::SimpleFileOptions;
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, data, stored) in entries {
        let method = if *stored {
            zip::CompressionMethod::Stored
        } else {
            zip::CompressionMethod::Deflated
        };
        writer
            .start_file(
                *name,
                SimpleFileOptions::default().compression_method(method),
            )
            .unwrap();
        writer.write_all(data).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

fn b64(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(data)
}

/// XAdES as DSS writes it, the CA certificate listed before the
/// signer's (which SigningCertificateV2 names), base64 wrapped with
/// `&#13;` line ends as Java emits.
pub(super) fn xades(f: &Fixtures) -> String {
    let signer_b64: String = b64(f.rsa.cert_der)
        .as_bytes()
        .chunks(64)
        .map(|c| format!("{}&#13;\n", std::str::from_utf8(c).unwrap()))
        .collect();
    let cert_digest = b64(digest::digest(&digest::SHA256, f.rsa.cert_der).as_ref());
    format!(
        r##"<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<asic:XAdESSignatures xmlns:asic="http://uri.etsi.org/02918/v1.2.1#" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" xmlns:xades="http://uri.etsi.org/01903/v1.3.2#"><ds:Signature Id="id-1">
<ds:SignedInfo><ds:Reference URI="contract.pdf"><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue>AAAA</ds:DigestValue></ds:Reference></ds:SignedInfo>
<ds:SignatureValue Id="value-id-1">AAAA</ds:SignatureValue>
<ds:KeyInfo><ds:X509Data><ds:X509Certificate>{ca}</ds:X509Certificate><ds:X509Certificate>
{signer_b64}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>
<ds:Object><xades:QualifyingProperties Target="#id-1"><xades:SignedProperties Id="xades-id-1"><xades:SignedSignatureProperties>
<xades:SigningTime>2024-03-15T10:30:00+02:00</xades:SigningTime>
<xades:SigningCertificateV2><xades:Cert><xades:CertDigest><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue>{cert_digest}</ds:DigestValue></xades:CertDigest></xades:Cert></xades:SigningCertificateV2>
</xades:SignedSignatureProperties></xades:SignedProperties></xades:QualifyingProperties></ds:Object>
</ds:Signature></asic:XAdESSignatures>"##,
        ca = b64(f.ca_der),
    )
}
