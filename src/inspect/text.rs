//! Inspect stage, text: what people paste or save as text — PEM blocks (also
//! flattened onto one line or quoted with `>`), OpenSSH/PuTTY/ssh.com keys,
//! JWKs, SSH public keys — and whether a file is a saved mail, which the
//! inspection then opens like the daemon would.

use super::pem::{self, Block};
use super::{
    FileReport, Finding, Kind, Settings, add_certificate, certificate, private_key, signature,
    signed,
};
use crate::domain::ProblemCode;

/// Text: PEM blocks, OpenSSH/PuTTY/ssh.com keys, JWKs. Returns what the text
/// is when it held any of them.
pub(super) fn examine_text(
    location: &str,
    data: &[u8],
    settings: &Settings,
    report: &mut FileReport,
) -> Option<Kind> {
    examine_str(location, &text_of(data)?, settings, report)
}

/// [`examine_text`] on text already decoded.
pub(super) fn examine_str(
    location: &str,
    text: &str,
    settings: &Settings,
    report: &mut FileReport,
) -> Option<Kind> {
    let mut kind = examine_pem(location, text, settings, report);
    for k in private_key::from_text(text) {
        report.key(location.to_string(), Kind::PrivateKey, k);
        kind = Some(Kind::PrivateKey);
    }
    // Whatever shape it came in, this marker means a private key.
    if kind != Some(Kind::PrivateKey)
        && (text.contains("PRIVATE KEY-----") || text.contains("PRIVATE KEY ----"))
    {
        let mut k = private_key::KeyFacts::unknown();
        k.format = "pem";
        report.key(location.to_string(), Kind::PrivateKey, k);
        kind = Some(Kind::PrivateKey);
    }
    if kind.is_none() && (private_key::is_public_jwk(text) || is_ssh_public_key(text)) {
        report.findings.push(Finding {
            kind: Kind::PublicKey,
            location: location.to_string(),
            details: serde_json::json!({}),
        });
        kind = Some(Kind::PublicKey);
    }
    kind
}

/// Every PEM block of `text`, each reported at `location` (`#2` appended for
/// the second when there are several); the strongest verdict among them.
fn examine_pem(
    location: &str,
    text: &str,
    settings: &Settings,
    report: &mut FileReport,
) -> Option<Kind> {
    let mut kind = None;
    let blocks = pem::blocks(text);
    let many = blocks.len() > 1;
    for (i, block) in blocks.iter().enumerate() {
        let at = if many {
            format!("{location}#{}", i + 1)
        } else {
            location.to_string()
        };
        let Some(k) = examine_block(at, block, settings, report) else {
            continue;
        };
        kind = Some(strongest(kind, k));
    }
    kind
}

/// One PEM block, judged by its label; `None` for labels that name nothing
/// inspection looks for.
fn examine_block(
    at: String,
    block: &Block,
    settings: &Settings,
    report: &mut FileReport,
) -> Option<Kind> {
    let der = block.der();
    let label = block.label.as_str();
    let kind = if label.ends_with("PRIVATE KEY") {
        report.key(
            at,
            Kind::PrivateKey,
            private_key::from_pem(label, block.legacy_encrypted, &der, &block.text),
        );
        Kind::PrivateKey
    } else if label == "CERTIFICATE"
        || label == "X509 CERTIFICATE"
        || label == "TRUSTED CERTIFICATE"
    {
        match certificate::facts(&der) {
            Some(f) => add_certificate(&at, &der, f, settings, report),
            None => report.problem(ProblemCode::CertUnreadable),
        }
        Kind::Certificate
    } else if label == "PKCS12" {
        if let Some(k) = private_key::pkcs12(&der) {
            report.key(at, Kind::Pkcs12, k);
        }
        Kind::Pkcs12
    } else if label == "PKCS7" || label == "CMS" {
        if let Some(s) = signature::cms_signature(&der, None) {
            signed(&at, &s, report);
            report.signatures.push(s);
        }
        Kind::SignedDocument
    } else if label.ends_with("PUBLIC KEY") {
        report.findings.push(Finding {
            kind: Kind::PublicKey,
            location: at,
            details: serde_json::json!({"label": label}),
        });
        Kind::PublicKey
    } else {
        return None;
    };
    Some(kind)
}

/// The strongest verdict wins: key over certificate over the rest.
fn strongest(so_far: Option<Kind>, k: Kind) -> Kind {
    match (so_far, k) {
        (Some(Kind::PrivateKey), _) | (_, Kind::PrivateKey) => Kind::PrivateKey,
        (Some(Kind::Pkcs12), _) | (_, Kind::Pkcs12) => Kind::Pkcs12,
        (Some(Kind::Certificate), _) | (_, Kind::Certificate) => Kind::Certificate,
        (_, other) => other,
    }
}

/// Starts like an RFC 5322 message: header lines, among them one that every
/// mail has.
pub(super) fn looks_like_mail(data: &[u8]) -> bool {
    let head = &data[..data.len().min(4096)];
    let Ok(text) = std::str::from_utf8(head) else {
        return false;
    };
    let mut lines = text.lines();
    let first = lines.next().unwrap_or_default();
    let is_header = |l: &str| {
        l.split_once(':').is_some_and(|(name, _)| {
            !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
    };
    if !is_header(first) {
        return false;
    }
    text.lines().take_while(|l| !l.is_empty()).any(|l| {
        let lower = l.to_ascii_lowercase();
        [
            "from:",
            "received:",
            "message-id:",
            "mime-version:",
            "return-path:",
        ]
        .iter()
        .any(|h| lower.starts_with(h))
    })
}

fn is_ssh_public_key(text: &str) -> bool {
    let t = text.trim();
    !t.contains('\n') && ssh_key::PublicKey::from_openssh(t).is_ok()
}

/// The bytes as text, when they plausibly are: UTF-8, UTF-16 with a BOM, or
/// any ASCII-compatible single-byte text (PEM is ASCII in all of them).
fn text_of(data: &[u8]) -> Option<std::borrow::Cow<'_, str>> {
    if let Some(rest) = data.strip_prefix(&[0xff, 0xfe]) {
        let units: Vec<u16> = rest
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        return String::from_utf16(&units).ok().map(Into::into);
    }
    if let Some(rest) = data.strip_prefix(&[0xfe, 0xff]) {
        let units: Vec<u16> = rest
            .chunks_exact(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect();
        return String::from_utf16(&units).ok().map(Into::into);
    }
    let sample = &data[..data.len().min(4096)];
    let controls = sample
        .iter()
        .filter(|b| **b < 0x20 && !matches!(**b, b'\n' | b'\r' | b'\t' | 0x0c))
        .count();
    // A stray control byte (a trailing ^Z, a form feed) is still text.
    if controls * 100 > sample.len() {
        return None;
    }
    // Borrowed when it is UTF-8 already (the body text): no copy of megabytes.
    Some(String::from_utf8_lossy(data))
}
