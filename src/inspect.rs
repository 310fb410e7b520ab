//! Inspect stage: judge every part of a mail — and the body text, where
//! people paste PEM blocks — by its content, never by its name or
//! Content-Type, and say what it is.
//!
//! The one verdict that changes what the daemon may do is a private key: a
//! mail holding one is never stored verbatim (DESIGN §4.3).

use serde::Serialize;

use crate::parse::{Mail, Part};

/// What a part is, judged from its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Certificate,
    PrivateKey,
    Pkcs12,
    PublicKey,
    SignedDocument,
    Document,
    Archive,
    Message,
    Other,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Certificate => "certificate",
            Kind::PrivateKey => "private_key",
            Kind::Pkcs12 => "pkcs12",
            Kind::PublicKey => "public_key",
            Kind::SignedDocument => "signed_document",
            Kind::Document => "document",
            Kind::Archive => "archive",
            Kind::Message => "message",
            Kind::Other => "other",
        }
    }
}

/// The verdict on one part.
#[derive(Debug, Clone, Serialize)]
pub struct Attachment {
    pub location: String,
    pub name: Option<String>,
    pub content_type: String,
    pub size: usize,
    pub sha256: String,
    pub kind: Kind,
    pub contains_private_key: bool,
}

/// The verdict on a whole mail.
#[derive(Debug, Clone, Serialize)]
pub struct Inspection {
    pub attachments: Vec<Attachment>,
    /// Key material was pasted into the body text.
    pub private_key_in_body: bool,
    pub private_key_found: bool,
}

impl Inspection {
    pub fn has(&self, kind: Kind) -> bool {
        self.attachments.iter().any(|a| a.kind == kind)
    }
}

/// Inspects every part of `mail` and its body text.
pub fn inspect(mail: &Mail) -> Inspection {
    let attachments: Vec<Attachment> = mail.parts.iter().map(inspect_part).collect();
    let private_key_in_body = pem_labels(mail.text.as_bytes()).any(|l| is_private_label(&l));
    let private_key_found =
        private_key_in_body || attachments.iter().any(|a| a.contains_private_key);
    Inspection {
        attachments,
        private_key_in_body,
        private_key_found,
    }
}

fn inspect_part(part: &Part) -> Attachment {
    let (kind, contains_private_key) = classify(&part.data, &part.content_type);
    Attachment {
        location: part.location.clone(),
        name: part.name.clone(),
        content_type: part.content_type.clone(),
        size: part.data.len(),
        sha256: crate::util::sha256_hex(&part.data),
        kind,
        contains_private_key,
    }
}

/// Classifies bytes; the second value says whether key material is inside.
pub fn classify(data: &[u8], content_type: &str) -> (Kind, bool) {
    if content_type == "message/rfc822" || content_type == "message/global" {
        // The parser flattened its parts already; they are inspected one by one.
        return (Kind::Message, false);
    }
    let labels: Vec<String> = pem_labels(data).collect();
    if labels.iter().any(|l| is_private_label(l)) {
        return (Kind::PrivateKey, true);
    }
    if labels
        .iter()
        .any(|l| l == "CERTIFICATE" || l == "X509 CERTIFICATE")
    {
        return (Kind::Certificate, false);
    }
    if labels
        .iter()
        .any(|l| l == "PUBLIC KEY" || l == "RSA PUBLIC KEY")
    {
        return (Kind::PublicKey, false);
    }
    if labels.iter().any(|l| l == "PKCS7" || l == "CMS") {
        return (Kind::SignedDocument, false);
    }
    if data.starts_with(b"PuTTY-User-Key-File-")
        || data.starts_with(b"---- BEGIN SSH2 ENCRYPTED PRIVATE KEY")
    {
        return (Kind::PrivateKey, true);
    }
    if data.starts_with(b"%PDF-") {
        let signed = find(data, b"/ByteRange").is_some() && find(data, b"/Sig").is_some();
        return (
            if signed {
                Kind::SignedDocument
            } else {
                Kind::Document
            },
            false,
        );
    }
    if data.starts_with(b"PK\x03\x04") || data.starts_with(b"PK\x05\x06") {
        return (Kind::Archive, false);
    }
    if let Some(kind) = der::classify(data) {
        return (kind, matches!(kind, Kind::PrivateKey | Kind::Pkcs12));
    }
    if data.starts_with(b"\xd0\xcf\x11\xe0") || data.starts_with(b"{\\rtf") {
        return (Kind::Document, false);
    }
    (Kind::Other, false)
}

fn is_private_label(label: &str) -> bool {
    label.ends_with("PRIVATE KEY")
}

/// Labels of the PEM blocks (`-----BEGIN <label>-----`) in `data`.
fn pem_labels(data: &[u8]) -> impl Iterator<Item = String> + '_ {
    const BEGIN: &[u8] = b"-----BEGIN ";
    let mut rest = data;
    std::iter::from_fn(move || {
        let at = find(rest, BEGIN)?;
        let after = &rest[at + BEGIN.len()..];
        let end = find(after, b"-----").unwrap_or(after.len());
        let label = String::from_utf8_lossy(&after[..end.min(64)])
            .trim()
            .to_ascii_uppercase();
        rest = &after[end.min(after.len())..];
        Some(label)
    })
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Just enough DER to tell the common binary containers apart.
mod der {
    use super::Kind;

    /// One TLV: tag, content, and the rest after it.
    fn tlv(data: &[u8]) -> Option<(u8, &[u8], &[u8])> {
        let (&tag, rest) = data.split_first()?;
        let (&first, rest) = rest.split_first()?;
        let (len, rest) = if first < 0x80 {
            (first as usize, rest)
        } else if first == 0x80 {
            // BER indefinite length (PKCS#12 files exported by some browsers):
            // the content runs to the end; good enough to look at its start.
            (rest.len(), rest)
        } else {
            let n = (first & 0x7f) as usize;
            if n > 4 || rest.len() < n {
                return None;
            }
            let len = rest[..n]
                .iter()
                .fold(0usize, |acc, b| (acc << 8) | *b as usize);
            (len, &rest[n..])
        };
        if len > rest.len() {
            return None;
        }
        Some((tag, &rest[..len], &rest[len..]))
    }

    const OID_PKCS7_DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01];
    const OID_PKCS7_SIGNED: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02];

    pub fn classify(data: &[u8]) -> Option<Kind> {
        let (tag, body, _) = tlv(data)?;
        if tag != 0x30 {
            return None;
        }
        let (t1, c1, rest1) = tlv(body)?;
        match t1 {
            // Certificate: SEQUENCE { tbsCertificate SEQUENCE { [0] version ... } ... }
            0x30 => {
                let (t, _, _) = tlv(c1)?;
                let (t2, _, _) = tlv(rest1)?;
                if (t == 0xa0 || t == 0x02) && t2 == 0x30 {
                    return Some(Kind::Certificate);
                }
                // EncryptedPrivateKeyInfo: SEQUENCE { AlgorithmIdentifier, OCTET STRING }
                if t2 == 0x04 {
                    return Some(Kind::PrivateKey);
                }
                // SubjectPublicKeyInfo: SEQUENCE { AlgorithmIdentifier, BIT STRING }
                if t2 == 0x03 {
                    return Some(Kind::PublicKey);
                }
                None
            }
            // SignedData ContentInfo: SEQUENCE { OID signedData, [0] ... }
            0x06 if c1 == OID_PKCS7_SIGNED => Some(Kind::SignedDocument),
            0x02 => {
                let version = c1;
                let (t2, c2, rest2) = tlv(rest1)?;
                // PFX: SEQUENCE { INTEGER 3, ContentInfo { OID data, ... } }
                if version == [3] && t2 == 0x30 {
                    let (t3, c3, _) = tlv(c2)?;
                    if t3 == 0x06 && (c3 == OID_PKCS7_DATA || c3 == OID_PKCS7_SIGNED) {
                        return Some(Kind::Pkcs12);
                    }
                }
                // PKCS#8: SEQUENCE { INTEGER 0|1, AlgorithmIdentifier, OCTET STRING }
                if (version == [0] || version == [1]) && t2 == 0x30 {
                    let (t3, _, _) = tlv(rest2)?;
                    if t3 == 0x04 {
                        return Some(Kind::PrivateKey);
                    }
                }
                // PKCS#1 RSA: SEQUENCE { INTEGER 0, INTEGER n, INTEGER e, ... }
                if version == [0] && t2 == 0x02 && c2.len() >= 64 {
                    return Some(Kind::PrivateKey);
                }
                // SEC1 EC: SEQUENCE { INTEGER 1, OCTET STRING key, ... }
                if version == [1] && t2 == 0x04 {
                    return Some(Kind::PrivateKey);
                }
                None
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classify_by_content_not_by_label() {
        let pem_key = b"-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n";
        let pem_rsa = b"-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----\n";
        let ssh = b"-----BEGIN OPENSSH PRIVATE KEY-----\nb3Bl\n-----END OPENSSH PRIVATE KEY-----\n";
        let cert = b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
        let mixed = [&cert[..], &pem_key[..]].concat();
        let ppk = b"PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\n";
        // DER certificate skeleton: SEQ { SEQ { [0] {INT 2} ... } SEQ {...} BIT STRING }
        let der_cert = [
            0x30, 0x0c, 0x30, 0x05, 0xa0, 0x03, 0x02, 0x01, 0x02, 0x30, 0x00, 0x03, 0x01, 0x00,
        ];
        // PKCS#12 skeleton: SEQ { INT 3, SEQ { OID data } }
        let mut pfx = vec![0x30, 0x10, 0x02, 0x01, 0x03, 0x30, 0x0b, 0x06, 0x09];
        pfx.extend_from_slice(&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01]);
        // The same with BER indefinite lengths.
        let mut pfx_ber = vec![0x30, 0x80, 0x02, 0x01, 0x03, 0x30, 0x80, 0x06, 0x09];
        pfx_ber.extend_from_slice(&[
            0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01, 0, 0, 0, 0,
        ]);
        // PKCS#8: SEQ { INT 0, SEQ {}, OCTET STRING {} }
        let pkcs8 = [0x30, 0x07, 0x02, 0x01, 0x00, 0x30, 0x00, 0x04, 0x00];
        for (data, ct, want, key) in [
            (
                &pem_key[..],
                "application/x-x509-ca-cert",
                Kind::PrivateKey,
                true,
            ),
            (&pem_rsa[..], "text/plain", Kind::PrivateKey, true),
            (&ssh[..], "text/plain", Kind::PrivateKey, true),
            (
                &cert[..],
                "application/octet-stream",
                Kind::Certificate,
                false,
            ),
            (&mixed[..], "application/x-pem-file", Kind::PrivateKey, true),
            (&ppk[..], "text/plain", Kind::PrivateKey, true),
            (
                &der_cert[..],
                "application/pkcs12",
                Kind::Certificate,
                false,
            ),
            (&pfx[..], "application/x-x509-ca-cert", Kind::Pkcs12, true),
            (&pfx_ber[..], "application/octet-stream", Kind::Pkcs12, true),
            (
                &pkcs8[..],
                "application/octet-stream",
                Kind::PrivateKey,
                true,
            ),
            (
                b"%PDF-1.7\n/Type /Sig /ByteRange [0 1 2 3]",
                "application/pdf",
                Kind::SignedDocument,
                false,
            ),
            (
                b"%PDF-1.7\nplain",
                "application/octet-stream",
                Kind::Document,
                false,
            ),
            (
                b"PK\x03\x04rest",
                "application/octet-stream",
                Kind::Archive,
                false,
            ),
            (b"hello", "text/plain", Kind::Other, false),
            (
                &[0x30, 0x82, 0xff, 0xff][..],
                "application/octet-stream",
                Kind::Other,
                false,
            ),
        ] {
            assert_eq!(
                classify(data, ct),
                (want, key),
                "{}",
                String::from_utf8_lossy(data)
            );
        }
    }

    #[test]
    fn key_pasted_in_body_is_found() {
        let raw = b"From: a@b.md\r\nSubject: key\r\n\r\nHere:\r\n-----BEGIN EC PRIVATE KEY-----\r\nMHcC\r\n-----END EC PRIVATE KEY-----\r\n";
        let mail = crate::parse::parse(raw, 10);
        let i = inspect(&mail);
        assert!(i.private_key_in_body && i.private_key_found);
    }
}
