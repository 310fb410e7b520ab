//! Inspect stage, text: what people paste or save as text — PEM blocks (also
//! flattened onto one line or quoted with `>`), OpenSSH/PuTTY/ssh.com keys,
//! JWKs, SSH public keys — and whether a file is a saved mail, which the
//! inspection then opens like the daemon would.

use base64::Engine as _;

use crate::domain::ProblemCode;
use base64::engine::general_purpose::STANDARD;

use super::{
    FileReport, Finding, Kind, Settings, add_certificate, certificate, private_key, signature,
    signed,
};

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
    let blocks = pem_blocks(text);
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
    block: &PemBlock,
    settings: &Settings,
    report: &mut FileReport,
) -> Option<Kind> {
    let der = STANDARD.decode(block.base64.as_bytes()).unwrap_or_default();
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

/// One `-----BEGIN X-----` … `-----END X-----` block.
struct PemBlock {
    label: String,
    base64: String,
    legacy_encrypted: bool,
    /// The whole block, armour included.
    text: String,
}

/// The text's lines, with PEM armour put on lines of its own: mail clients
/// and people flatten a block onto one line, or start it mid-sentence.
fn pem_lines(text: &str) -> Vec<&str> {
    let mut lines = Vec::new();
    for line in text.lines() {
        if line.contains("-----") {
            split_markers(line, &mut lines);
        } else {
            lines.push(line);
        }
    }
    lines
}

/// Puts each `-----BEGIN X-----` / `-----END X-----` of `line` on a line of
/// its own, in order, and the words around them on theirs. Where the next
/// marker of each kind is, is remembered and only looked for again once
/// passed: a line of thousands of markers is read once, not once per marker.
fn split_markers<'t>(line: &'t str, lines: &mut Vec<&'t str>) {
    const BEGIN: &str = "-----BEGIN ";
    const END: &str = "-----END ";
    let find_from = |pat: &str, pos: usize| line.get(pos..)?.find(pat).map(|i| i + pos);
    let mut pos = 0;
    let mut begin = find_from(BEGIN, 0);
    let mut end = find_from(END, 0);
    while let Some(at) = begin.into_iter().chain(end).min() {
        // The marker runs to its closing dashes.
        let Some(close) = find_from("-----", at + 5) else {
            break;
        };
        let stop = close + 5;
        let before = line.get(pos..at).unwrap_or_default();
        lines.extend(before.split_whitespace());
        lines.push(line.get(at..stop).unwrap_or_default());
        pos = stop;
        if begin.is_some_and(|b| b < pos) {
            begin = find_from(BEGIN, pos);
        }
        if end.is_some_and(|e| e < pos) {
            end = find_from(END, pos);
        }
    }
    let rest = line.get(pos..).unwrap_or_default();
    lines.extend(rest.split_whitespace());
}

/// Every PEM block in a text, tolerant of `>` quoting and CRLF.
fn pem_blocks(text: &str) -> Vec<PemBlock> {
    let mut blocks = Vec::new();
    // Most text has no block at all: one fast search instead of one per line.
    if memchr::memmem::find(text.as_bytes(), b"-----BEGIN ").is_none() {
        return blocks;
    }
    let mut current: Option<PemBlock> = None;
    for raw_line in pem_lines(text) {
        // Quoting ("> > "), indentation and text before the marker are not part of it.
        let mut line = raw_line
            .trim_start_matches(|c: char| c == '>' || c.is_whitespace())
            .trim_end();
        if let Some(at) = line.find("-----BEGIN ") {
            line = line.get(at..).unwrap_or(line);
        }
        if let Some(label) = line
            .strip_prefix("-----BEGIN ")
            .and_then(|l| l.strip_suffix("-----"))
        {
            current = Some(PemBlock {
                label: label.trim().to_ascii_uppercase(),
                base64: String::new(),
                legacy_encrypted: false,
                text: format!("{line}\n"),
            });
            continue;
        }
        let Some(block) = current.as_mut() else {
            continue;
        };
        block.text.push_str(line);
        block.text.push('\n');
        if line.starts_with("-----END ") {
            if let Some(done) = current.take() {
                blocks.push(done);
            }
        } else if line.starts_with("Proc-Type:") {
            block.legacy_encrypted |= line.contains("ENCRYPTED");
        } else if !line.contains(':') {
            block.base64.push_str(line);
        }
        if blocks.len() >= 64 {
            break;
        }
    }
    blocks
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 80,000 END markers on one line: each marker is looked for once.
    #[test]
    fn many_markers_on_one_line_are_read_in_one_pass() {
        let mut text = "-----END X----- ".repeat(80_000);
        text.push_str("-----BEGIN EC PRIVATE KEY----- MHcC -----END EC PRIVATE KEY-----");
        let lines = pem_lines(&text);
        assert_eq!(lines.len(), 80_003);
        assert_eq!(lines[80_001], "MHcC");
        let blocks = pem_blocks(&text);
        assert_eq!(blocks.len(), 1);
        assert_eq!(blocks[0].label, "EC PRIVATE KEY");
        assert_eq!(blocks[0].base64, "MHcC");
        assert_eq!(
            pem_lines("a -----END X----- b -----BEGIN Y----- c"),
            ["a", "-----END X-----", "b", "-----BEGIN Y-----", "c"]
        );
    }
}
