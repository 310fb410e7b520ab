//! Inspect stage: judge every part of a mail — each attachment, every
//! forwarded mail, every entry of zip archives (recursively), and the body
//! text, where people paste PEM blocks — by its **content**, never by its
//! name or Content-Type, and say what it is.
//!
//! The verdict that changes what the daemon may do is a private key: a mail
//! holding one is quarantined, its stored copy redacted (DESIGN §4.3).
//! Certificates are checked against the policy in `rules/certificates.toml`;
//! signed documents report who signed and whether it verifies.

pub mod archive;
pub mod ber;
pub mod certificate;
pub mod private_key;
pub mod raw;
pub mod signature;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::parse::{Mail, Part};
use certificate::CertificateFacts;
use private_key::KeyFacts;
use signature::Signature;

/// What a file is, judged from its bytes.
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

/// One thing found in a file: a key, a certificate, a signature, an entry.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub kind: Kind,
    /// Where: the file, then `/entry` inside archives, `#2` for the second PEM block.
    pub location: String,
    pub details: serde_json::Value,
}

/// The verdict on one file (`egov-intake inspect` prints one per file).
#[derive(Debug, Clone, Serialize)]
pub struct FileReport {
    pub kind: Kind,
    pub contains_private_key: bool,
    pub findings: Vec<Finding>,
    /// Problem codes, explained to the sender from rules/problems.toml.
    pub problems: Vec<String>,
    /// The first (end-entity) certificate, when the file is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate: Option<CertificateFacts>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub signatures: Vec<Signature>,
    /// Keys found (never the key: only what [`KeyFacts`] says).
    #[serde(skip)]
    pub keys: Vec<(String, KeyFacts)>,
    /// DER of every certificate found, for chain building.
    #[serde(skip)]
    pub certificate_ders: Vec<Vec<u8>>,
}

impl FileReport {
    fn new() -> FileReport {
        FileReport {
            kind: Kind::Other,
            contains_private_key: false,
            findings: Vec::new(),
            problems: Vec::new(),
            certificate: None,
            signatures: Vec::new(),
            keys: Vec::new(),
            certificate_ders: Vec::new(),
        }
    }

    fn problem(&mut self, code: &str) {
        if !self.problems.iter().any(|p| p == code) {
            self.problems.push(code.to_string());
        }
    }

    fn key(&mut self, location: String, kind: Kind, facts: KeyFacts) {
        self.contains_private_key = true;
        self.problem("private_key");
        self.findings.push(Finding {
            kind,
            location: location.clone(),
            details: serde_json::to_value(&facts).unwrap_or_default(),
        });
        self.keys.push((location, facts));
    }
}

/// One part of a mail with its verdict.
#[derive(Debug, Clone, Serialize)]
pub struct Attachment {
    pub location: String,
    pub name: Option<String>,
    pub content_type: String,
    pub size: usize,
    pub sha256: String,
    #[serde(flatten)]
    pub report: FileReport,
}

impl Attachment {
    pub fn kind(&self) -> Kind {
        self.report.kind
    }
}

/// The verdict on a whole mail.
#[derive(Debug, Clone, Serialize)]
pub struct Inspection {
    pub attachments: Vec<Attachment>,
    /// What was found in the body text itself.
    pub body: FileReport,
    pub private_key_found: bool,
}

impl Inspection {
    pub fn has(&self, kind: Kind) -> bool {
        self.attachments.iter().any(|a| a.kind() == kind)
    }

    /// Every key found, with where (file name or "body") — for alerts.
    pub fn keys(&self) -> Vec<(String, &KeyFacts)> {
        let mut v: Vec<(String, &KeyFacts)> = Vec::new();
        for a in &self.attachments {
            let file = a.name.clone().unwrap_or_else(|| a.location.clone());
            for (loc, k) in &a.report.keys {
                let at = if loc == &a.location {
                    file.clone()
                } else {
                    format!("{file} ({loc})")
                };
                v.push((at, k));
            }
        }
        v.extend(self.body.keys.iter().map(|(_, k)| ("body".to_string(), k)));
        v
    }

    /// Whether every part could be looked at: not so when archives were too
    /// deep, too big, encrypted or unreadable, or when the parser skipped
    /// parts of the mail (nesting, part count). A mail not fully inspected
    /// may hide a key, so it is treated as one that might (fail closed).
    pub fn complete(&self) -> bool {
        !self.problems().iter().any(|p| p.starts_with("archive_"))
            && !self.body.problems.iter().any(|p| p == PARTS_SKIPPED)
    }

    /// Adds what the scan of the raw bytes found ([`raw::scan`]): its keys
    /// as the body's, and the problems that make the inspection incomplete.
    pub fn add_raw_findings(&mut self, found: &FileReport) {
        for (location, facts) in &found.keys {
            // The same key seen through the structure is not counted twice.
            let known = self.keys().iter().any(|(_, k)| *k == facts);
            if !known {
                self.body
                    .key(location.clone(), Kind::PrivateKey, facts.clone());
            }
        }
        for p in found.problems.iter().filter(|p| p.starts_with("archive_")) {
            self.body.problem(p);
        }
        if self.body.contains_private_key {
            self.body.kind = Kind::PrivateKey;
            self.private_key_found = true;
        }
    }

    /// Every problem code of the mail's parts, in order, once.
    pub fn problems(&self) -> Vec<String> {
        let mut v: Vec<String> = Vec::new();
        for p in self
            .attachments
            .iter()
            .flat_map(|a| &a.report.problems)
            .chain(&self.body.problems)
        {
            if !v.contains(p) {
                v.push(p.clone());
            }
        }
        v
    }
}

/// What inspection depends on besides the bytes.
#[derive(Debug, Clone)]
pub struct Settings {
    pub policy: certificate::Policy,
    /// Trust anchors (DER); none configured means no chain check.
    pub anchors: Vec<Vec<u8>>,
    pub archive: archive::Limits,
    pub now: DateTime<Utc>,
}

impl Settings {
    /// The default policy, no trust anchors and the default archive limits,
    /// judging validity at `now` (the caller's clock: the stage reads none).
    pub fn at(now: DateTime<Utc>) -> Settings {
        Settings {
            policy: certificate::Policy::default(),
            anchors: Vec::new(),
            archive: archive::Limits::default(),
            now,
        }
    }
}

/// Problem code of a mail whose parser skipped parts (nested too deep, too
/// many parts, or the body not read at all): they were never inspected.
pub const PARTS_SKIPPED: &str = "parts_skipped";

/// Inspects every part of `mail` and its body text.
pub fn inspect(mail: &Mail, settings: &Settings) -> Inspection {
    let mut attachments: Vec<Attachment> = mail
        .parts
        .iter()
        .map(|p| inspect_part(p, settings))
        .collect();

    // A detached signature (x.pdf.p7s) verifies over its sibling (x.pdf).
    let by_name: std::collections::HashMap<&str, &[u8]> = mail
        .parts
        .iter()
        .filter_map(|p| p.name.as_deref().map(|n| (n, p.data.as_slice())))
        .collect();
    for (i, a) in attachments.iter_mut().enumerate() {
        let Some(base) = a
            .name
            .as_deref()
            .and_then(|n| n.strip_suffix(".p7s").or_else(|| n.strip_suffix(".P7S")))
        else {
            continue;
        };
        if let Some(content) = by_name.get(base)
            && let Some(sig) = signature::cms_signature(&mail.parts[i].data, Some(content))
        {
            a.report.signatures = vec![sig];
            a.report.kind = Kind::SignedDocument;
        }
    }

    // Chains: intermediates may be anywhere in the mail.
    if !settings.anchors.is_empty() {
        let all: Vec<Vec<u8>> = attachments
            .iter()
            .flat_map(|a| a.report.certificate_ders.clone())
            .collect();
        for a in &mut attachments {
            if let Some(first) = a.report.certificate_ders.first().cloned()
                && a.report.kind == Kind::Certificate
                && !certificate::chains_to(&first, &all, &settings.anchors, settings.now)
            {
                a.report.problem("cert_untrusted");
            }
        }
    }

    let mut body = FileReport::new();
    if mail.flags.iter().any(|f| {
        matches!(
            f,
            crate::parse::Flag::NestingLimit | crate::parse::Flag::TooManyParts
        )
    }) {
        body.problem(PARTS_SKIPPED);
    }
    let text = if mail.all_text.is_empty() {
        &mail.text
    } else {
        &mail.all_text
    };
    examine_text("body", text.as_bytes(), settings, &mut body);
    if body.contains_private_key {
        body.kind = Kind::PrivateKey;
    }
    let private_key_found =
        body.contains_private_key || attachments.iter().any(|a| a.report.contains_private_key);
    Inspection {
        attachments,
        body,
        private_key_found,
    }
}

fn inspect_part(part: &Part, settings: &Settings) -> Attachment {
    let location = part
        .name
        .clone()
        .unwrap_or_else(|| format!("part {}", part.location));
    let report = if part.content_type == "message/rfc822" || part.content_type == "message/global" {
        // The parser flattened its parts already; each is inspected on its own.
        FileReport {
            kind: Kind::Message,
            ..FileReport::new()
        }
    } else {
        inspect_file(&location, &part.data, settings)
    };
    Attachment {
        location: part.location.clone(),
        name: part.name.clone(),
        content_type: part.content_type.clone(),
        size: part.data.len(),
        sha256: crate::util::sha256_hex(&part.data),
        report,
    }
}

/// Inspects one file's bytes.
pub fn inspect_file(location: &str, data: &[u8], settings: &Settings) -> FileReport {
    let mut report = FileReport::new();
    let mut budget = archive::Budget::new(&settings.archive);
    report.kind = examine(location, data, settings, 0, &mut budget, &mut report);
    if report.contains_private_key
        && !matches!(report.kind, Kind::Pkcs12 | Kind::Archive | Kind::Message)
    {
        // A PEM bundle with a certificate and a key is a key.
        report.kind = Kind::PrivateKey;
    }
    report
}

/// Looks at `data`, adds findings to `report`, returns what `data` itself is.
fn examine(
    location: &str,
    data: &[u8],
    settings: &Settings,
    depth: usize,
    budget: &mut archive::Budget,
    report: &mut FileReport,
) -> Kind {
    crate::budget::checkpoint();
    if data.starts_with(b"PK\x03\x04") || data.starts_with(b"PK\x05\x06") {
        let signatures = signature::asice_signatures(data);
        if let Some(sigs) = &signatures {
            for s in sigs {
                signed(location, s, report);
            }
            report.signatures.extend(sigs.iter().cloned());
        }
        if depth >= settings.archive.max_depth {
            report.problem("archive_too_deep");
            return if signatures.is_some() {
                Kind::SignedDocument
            } else {
                Kind::Archive
            };
        }
        let (entries, problems) = archive::entries(data, &settings.archive, budget);
        for p in problems {
            report.problem(p);
        }
        // Office documents and signature containers are zips too: what they
        // are is a document, but a key hidden inside is still found.
        let office = archive::is_office_document(&entries);
        for entry in entries {
            let at = format!("{location}/{}", entry.name);
            let kind = examine(&at, &entry.data, settings, depth + 1, budget, report);
            if !office && signatures.is_none() && !matches!(kind, Kind::PrivateKey | Kind::Pkcs12) {
                report.findings.push(Finding {
                    kind,
                    location: at,
                    details: serde_json::json!({"size": entry.data.len()}),
                });
            }
        }
        return match (signatures.is_some(), office) {
            (true, _) => Kind::SignedDocument,
            (false, true) => Kind::Document,
            (false, false) => Kind::Archive,
        };
    }
    if data.starts_with(b"%PDF-") {
        let sigs = signature::pdf_signatures(data);
        if sigs.is_empty() {
            return Kind::Document;
        }
        for s in &sigs {
            signed(location, s, report);
        }
        report.signatures.extend(sigs);
        return Kind::SignedDocument;
    }
    if looks_like_mail(data) {
        // A mail saved as a file (.eml, or forwarded as an attachment that
        // is not message/rfc822): look inside it like the daemon would.
        if depth >= settings.archive.max_depth {
            report.problem("archive_too_deep");
            return Kind::Message;
        }
        let mail = crate::parse::parse(data, settings.archive.max_depth * 4);
        examine_text(
            &format!("{location}/body"),
            mail.text.as_bytes(),
            settings,
            report,
        );
        for part in &mail.parts {
            if part.content_type == "message/rfc822" || part.content_type == "message/global" {
                continue;
            }
            let at = format!(
                "{location}/{}",
                part.name
                    .clone()
                    .unwrap_or_else(|| format!("part {}", part.location))
            );
            let kind = examine(&at, &part.data, settings, depth + 1, budget, report);
            if !matches!(kind, Kind::PrivateKey | Kind::Pkcs12) {
                report.findings.push(Finding {
                    kind,
                    location: at,
                    details: serde_json::json!({"size": part.data.len()}),
                });
            }
        }
        return Kind::Message;
    }
    if let Some(kind) = examine_text(location, data, settings, report) {
        return kind;
    }
    examine_der(location, data, settings, report).unwrap_or_else(|| {
        if data.starts_with(b"\xd0\xcf\x11\xe0") || data.starts_with(b"{\\rtf") {
            Kind::Document
        } else {
            Kind::Other
        }
    })
}

fn signed(location: &str, s: &Signature, report: &mut FileReport) {
    for p in &s.problems {
        report.problem(&format!("signature_{p}"));
    }
    if s.verified == Some(false) {
        report.problem("signature_invalid");
    }
    report.findings.push(Finding {
        kind: Kind::SignedDocument,
        location: location.to_string(),
        details: serde_json::to_value(s).unwrap_or_default(),
    });
}

/// Binary DER: certificate, PKCS#12, private key, public key, CMS.
fn examine_der(
    location: &str,
    data: &[u8],
    settings: &Settings,
    report: &mut FileReport,
) -> Option<Kind> {
    if data.first() != Some(&ber::SEQUENCE) {
        return None;
    }
    if let Some(k) = private_key::pkcs12(data) {
        report.key(location.to_string(), Kind::Pkcs12, k);
        return Some(Kind::Pkcs12);
    }
    if let Some(k) = private_key::from_der(data) {
        report.key(location.to_string(), Kind::PrivateKey, k);
        return Some(Kind::PrivateKey);
    }
    if let Some(f) = certificate::facts(data) {
        add_certificate(location, data, f, settings, report);
        return Some(Kind::Certificate);
    }
    if let Some(s) = signature::cms_signature(data, None) {
        signed(location, &s, report);
        report.signatures.push(s);
        return Some(Kind::SignedDocument);
    }
    if is_spki(data) {
        report.findings.push(Finding {
            kind: Kind::PublicKey,
            location: location.to_string(),
            details: serde_json::json!({"fingerprint": private_key::spki_fingerprint(data)}),
        });
        return Some(Kind::PublicKey);
    }
    None
}

fn is_spki(data: &[u8]) -> bool {
    ber::read_whole(data)
        .filter(|t| t.tag == ber::SEQUENCE)
        .map(|t| ber::children(t.content).map(|c| c.tag).collect::<Vec<_>>())
        .is_some_and(|tags| tags == [ber::SEQUENCE, ber::BIT_STRING])
}

fn add_certificate(
    location: &str,
    der: &[u8],
    facts: CertificateFacts,
    settings: &Settings,
    report: &mut FileReport,
) {
    let problems = certificate::check(&facts, &settings.policy, settings.now);
    for p in &problems {
        report.problem(p);
    }
    report.findings.push(Finding {
        kind: Kind::Certificate,
        location: location.to_string(),
        details: serde_json::json!({"certificate": facts, "problems": problems}),
    });
    if report.certificate.is_none() {
        report.certificate = Some(facts);
    }
    report.certificate_ders.push(der.to_vec());
}

/// Text: PEM blocks, OpenSSH/PuTTY/ssh.com keys, JWKs. Returns what the text
/// is when it held any of them.
fn examine_text(
    location: &str,
    data: &[u8],
    settings: &Settings,
    report: &mut FileReport,
) -> Option<Kind> {
    examine_str(location, &text_of(data)?, settings, report)
}

/// [`examine_text`] on text already decoded.
fn examine_str(
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
        let der = STANDARD.decode(block.base64.as_bytes()).unwrap_or_default();
        let label = block.label.as_str();
        let k = if label.ends_with("PRIVATE KEY") {
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
                None => report.problem("cert_unreadable"),
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
            continue;
        };
        // The strongest verdict wins: key over certificate over the rest.
        kind = Some(match (kind, k) {
            (Some(Kind::PrivateKey), _) | (_, Kind::PrivateKey) => Kind::PrivateKey,
            (Some(Kind::Pkcs12), _) | (_, Kind::Pkcs12) => Kind::Pkcs12,
            (Some(Kind::Certificate), _) | (_, Kind::Certificate) => Kind::Certificate,
            (_, other) => other,
        });
    }
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

/// Starts like an RFC 5322 message: header lines, among them one that every
/// mail has.
fn looks_like_mail(data: &[u8]) -> bool {
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

    fn kind_of(data: &[u8]) -> (Kind, bool) {
        let r = inspect_file("f", data, &Settings::at(chrono::Utc::now()));
        (r.kind, r.contains_private_key)
    }

    #[test]
    fn classify_by_content_not_by_label() {
        let pem_key = b"-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n";
        let pem_rsa = b"-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----\n";
        let legacy = b"-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nAAAA\n-----END RSA PRIVATE KEY-----\n";
        let ppk = b"PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\n";
        let sshcom = b"---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----\nAAAA\n---- END SSH2 ENCRYPTED PRIVATE KEY ----\n";
        let jwk = br#"{"kty":"EC","crv":"P-256","x":"a","y":"b","d":"c"}"#;
        // PKCS#12 skeleton: SEQ { INT 3, SEQ { OID data } }, DER and BER.
        let mut pfx = vec![0x30, 0x10, 0x02, 0x01, 0x03, 0x30, 0x0b, 0x06, 0x09];
        pfx.extend_from_slice(ber::oid::PKCS7_DATA);
        let mut pfx_ber = vec![0x30, 0x80, 0x02, 0x01, 0x03, 0x30, 0x80, 0x06, 0x09];
        pfx_ber.extend_from_slice(ber::oid::PKCS7_DATA);
        pfx_ber.extend_from_slice(&[0, 0, 0, 0]);
        // PKCS#8: SEQ { INT 0, SEQ { OID rsaEncryption }, OCTET STRING {} }
        let mut pkcs8 = vec![0x30, 0x12, 0x02, 0x01, 0x00, 0x30, 0x0b, 0x06, 0x09];
        pkcs8.extend_from_slice(ber::oid::RSA_ENCRYPTION);
        pkcs8.extend_from_slice(&[0x04, 0x00]);
        for (data, want) in [
            (&pem_key[..], (Kind::PrivateKey, true)),
            (&pem_rsa[..], (Kind::PrivateKey, true)),
            (&legacy[..], (Kind::PrivateKey, true)),
            (&ppk[..], (Kind::PrivateKey, true)),
            (&sshcom[..], (Kind::PrivateKey, true)),
            (&jwk[..], (Kind::PrivateKey, true)),
            (&pfx[..], (Kind::Pkcs12, true)),
            (&pfx_ber[..], (Kind::Pkcs12, true)),
            (&pkcs8[..], (Kind::PrivateKey, true)),
            (b"%PDF-1.7\nplain", (Kind::Document, false)),
            (b"hello", (Kind::Other, false)),
            (&[0x30, 0x82, 0xff, 0xff][..], (Kind::Other, false)),
            (
                br#"{"kty":"EC","crv":"P-256","x":"a","y":"b"}"#,
                (Kind::PublicKey, false),
            ),
        ] {
            assert_eq!(kind_of(data), want, "{}", String::from_utf8_lossy(data));
        }
    }

    #[test]
    fn key_pasted_in_body_is_found_even_quoted() {
        let raw = b"From: a@b.md\r\nSubject: key\r\n\r\nHere:\r\n> -----BEGIN EC PRIVATE KEY-----\r\n> MHcC\r\n> -----END EC PRIVATE KEY-----\r\n";
        let mail = crate::parse::parse(raw, 10);
        let i = inspect(&mail, &Settings::at(chrono::Utc::now()));
        assert!(i.body.contains_private_key && i.private_key_found);
        assert_eq!(i.keys()[0].0, "body");
    }

    #[test]
    fn utf16_text_is_read() {
        let text = "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n";
        let mut data = vec![0xff, 0xfe];
        data.extend(text.encode_utf16().flat_map(|u| u.to_le_bytes()));
        assert_eq!(kind_of(&data), (Kind::PrivateKey, true));
    }

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
