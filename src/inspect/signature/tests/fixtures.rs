//! Fixtures are made at test time with the openssl CLI: a throwaway CA
//! and signers (RSA-2048, P-256, P-384) whose subject CN has Romanian
//! diacritics, so UTF-8 subjects are exercised. Signed PDFs and ASiC-E
//! containers are built around them.

use std::io::{Cursor, Write};
use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

use base64::Engine as _;
use ring::digest;

use crate::inspect::signature::rfind;

pub(super) const SIGNER_CN: &str = "Ștefan Țurcanu";
pub(super) const CONTENT: &[u8] =
    "Acord de aderare la MPass și MSign, semnat electronic.\n".as_bytes();

pub(super) struct Signer {
    pub(super) cert_pem: Vec<u8>,
    key_pem: Vec<u8>,
    pub(super) cert_der: Vec<u8>,
}

pub(super) struct Fixtures {
    pub(super) ca_pem: Vec<u8>,
    pub(super) ca_der: Vec<u8>,
    pub(super) rsa: Signer,
    pub(super) p256: Signer,
    pub(super) p384: Signer,
}

/// Runs openssl with `command` (split on spaces) then `more` (which may
/// hold spaces). Fails, never skips, when openssl is missing or refuses.
pub(super) fn openssl(dir: &Path, command: &str, more: &[&str]) {
    let out = Command::new("openssl")
        .args(command.split_whitespace())
        .args(more)
        .current_dir(dir)
        .output()
        .expect("the openssl CLI is required by these tests");
    assert!(
        out.status.success(),
        "openssl {command} {more:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

pub(super) fn read(dir: &Path, name: &str) -> Vec<u8> {
    std::fs::read(dir.join(name)).unwrap()
}

pub(super) fn fixtures() -> &'static Fixtures {
    static FIXTURES: OnceLock<Fixtures> = OnceLock::new();
    FIXTURES.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        openssl(
            d,
            "req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
             -keyout ca.key -out ca.pem -days 3650 -subj",
            &["/CN=Test Root CA"],
        );
        openssl(d, "x509 -in ca.pem -outform DER -out ca.der", &[]);
        std::fs::write(
            d.join("ext.cnf"),
            "subjectKeyIdentifier=hash\nkeyUsage=critical,digitalSignature,nonRepudiation\n",
        )
        .unwrap();
        let subject = format!("/C=MD/O=Agenția de Guvernare Electronică/CN={SIGNER_CN}");
        let make = |name: &str, keygen: &str, serial: u32| {
            openssl(d, &format!("genpkey {keygen} -out {name}.key"), &[]);
            openssl(
                d,
                &format!("req -new -utf8 -key {name}.key -out {name}.csr -subj"),
                &[&subject],
            );
            openssl(
                d,
                &format!(
                    "x509 -req -in {name}.csr -CA ca.pem -CAkey ca.key -set_serial {serial} \
                     -days 365 -extfile ext.cnf -out {name}.pem"
                ),
                &[],
            );
            let to_der = format!("x509 -in {name}.pem -outform DER -out {name}.der");
            openssl(d, &to_der, &[]);
            Signer {
                cert_pem: read(d, &format!("{name}.pem")),
                key_pem: read(d, &format!("{name}.key")),
                cert_der: read(d, &format!("{name}.der")),
            }
        };
        Fixtures {
            ca_pem: read(d, "ca.pem"),
            ca_der: read(d, "ca.der"),
            rsa: make("rsa", "-algorithm RSA -pkeyopt rsa_keygen_bits:2048", 4097),
            p256: make(
                "p256",
                "-algorithm EC -pkeyopt ec_paramgen_curve:P-256",
                4098,
            ),
            p384: make(
                "p384",
                "-algorithm EC -pkeyopt ec_paramgen_curve:P-384",
                4099,
            ),
        }
    })
}

/// `openssl cms -sign` over `content`; detached DER unless `extra` says otherwise.
pub(super) fn sign(signer: &Signer, content: &[u8], extra: &[&str]) -> Vec<u8> {
    let f = fixtures();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("content.bin"), content).unwrap();
    std::fs::write(d.join("signer.pem"), &signer.cert_pem).unwrap();
    std::fs::write(d.join("signer.key"), &signer.key_pem).unwrap();
    std::fs::write(d.join("ca.pem"), &f.ca_pem).unwrap();
    openssl(
        d,
        "cms -sign -binary -in content.bin -signer signer.pem -inkey signer.key \
         -certfile ca.pem -outform DER -out out.p7",
        extra,
    );
    read(d, "out.p7")
}

pub(super) const HOLE_HEX: usize = 16384;
pub(super) const BYTE_RANGE_PLACEHOLDER: &str = "/ByteRange [0 0000000000 0000000000 0000000000]";

/// A small PDF with an unsigned signature field: `/Contents` is a
/// zero-filled hex placeholder, `/ByteRange` a fixed-width one.
pub(super) fn pdf_template(extra_sig_keys: &str) -> Vec<u8> {
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [4 0 R] /SigFlags 3 >> >>".to_owned(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Annots [4 0 R] >>".to_owned(),
        "<< /Type /Annot /Subtype /Widget /FT /Sig /Rect [0 0 0 0] /V 5 0 R /T (Semnătura) /P 3 0 R /F 132 >>".to_owned(),
        format!(
            "<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached {BYTE_RANGE_PLACEHOLDER} /Contents <{}> /Reason (Acord \\(MPass\\) >> semnat) {extra_sig_keys} /Prop_Build << /App << /Name /egov-test >> >> >>",
            "0".repeat(HOLE_HEX)
        ),
    ];
    let mut pdf = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(pdf.len());
        pdf.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes());
    }
    let xref = pdf.len();
    pdf.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for offset in offsets {
        pdf.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    pdf.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    pdf
}

/// Signs the last placeholder in `pdf` the way a PAdES signer does:
/// byte ranges around the /Contents hex string, CMS detached over them.
pub(super) fn sign_pdf(mut pdf: Vec<u8>, signer: &Signer, extra: &[&str]) -> Vec<u8> {
    let hole_start = rfind(&pdf, b"/Contents <0000", 0, pdf.len()).unwrap() + "/Contents ".len();
    let hole_end = hole_start + HOLE_HEX + 2;
    assert_eq!(pdf[hole_end - 1], b'>');
    let ranges = format!(
        "/ByteRange [0 {:<10} {:<10} {:<10}]",
        hole_start,
        hole_end,
        pdf.len() - hole_end
    );
    assert_eq!(ranges.len(), BYTE_RANGE_PLACEHOLDER.len());
    let at = rfind(&pdf, BYTE_RANGE_PLACEHOLDER.as_bytes(), 0, pdf.len()).unwrap();
    pdf[at..at + ranges.len()].copy_from_slice(ranges.as_bytes());
    let mut signed = pdf[..hole_start].to_vec();
    signed.extend_from_slice(&pdf[hole_end..]);
    let der = sign(signer, &signed, extra);
    let hex = hex::encode_upper(der);
    assert!(hex.len() <= HOLE_HEX);
    pdf[hole_start + 1..hole_start + 1 + hex.len()].copy_from_slice(hex.as_bytes());
    pdf
}

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
    let signer_b64: String = b64(&f.rsa.cert_der)
        .as_bytes()
        .chunks(64)
        .map(|c| format!("{}&#13;\n", std::str::from_utf8(c).unwrap()))
        .collect();
    let cert_digest = b64(digest::digest(&digest::SHA256, &f.rsa.cert_der).as_ref());
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
        ca = b64(&f.ca_der),
    )
}

pub(super) fn manifest(contract: &[u8]) -> Vec<u8> {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<asic:ASiCManifest xmlns:asic="http://uri.etsi.org/02918/v1.2.1#" xmlns:ds="http://www.w3.org/2000/09/xmldsig#">
<asic:SigReference URI="META-INF/signature001.p7s" MimeType="application/x-pkcs7-signature"/>
<asic:DataObjectReference URI="contract%20semnat.pdf" MimeType="application/pdf">
<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>
<ds:DigestValue>{}</ds:DigestValue>
</asic:DataObjectReference>
</asic:ASiCManifest>"#,
        b64(digest::digest(&digest::SHA256, contract).as_ref())
    )
    .into_bytes()
}
