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
pub(crate) mod pem;
pub mod private_key;
pub mod raw;
pub mod signature;
mod text;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::domain::ProblemCode;
use crate::parse::{Mail, Part};
use certificate::CertificateFacts;
use private_key::KeyFacts;
use signature::Signature;
use text::{examine_text, looks_like_mail};

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
    pub problems: Vec<ProblemCode>,
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
    /// When the file is an office document: the parts its text is read
    /// from ([`archive::text_parts`]), inflated once here; [`inspect`]
    /// hands them on in [`Inspection::packages`].
    #[serde(skip)]
    pub package: Vec<archive::Entry>,
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
            package: Vec::new(),
        }
    }

    fn problem(&mut self, code: ProblemCode) {
        if !self.problems.contains(&code) {
            self.problems.push(code);
        }
    }

    fn key(&mut self, location: String, kind: Kind, facts: KeyFacts) {
        self.contains_private_key = true;
        self.problem(ProblemCode::PrivateKey);
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
    /// The text parts of each attached office document, by the part's
    /// location: read by the understand stage, never shown or stored.
    #[serde(skip)]
    pub packages: Vec<(String, Vec<archive::Entry>)>,
}

impl Default for Inspection {
    /// Nothing found: a mail with no parts and an empty body.
    fn default() -> Inspection {
        Inspection {
            attachments: Vec::new(),
            body: FileReport::new(),
            private_key_found: false,
            packages: Vec::new(),
        }
    }
}

impl Inspection {
    /// The text parts of the office document at `location` (none if it is
    /// not one).
    pub fn package(&self, location: &str) -> &[archive::Entry] {
        self.packages
            .iter()
            .find(|(at, _)| at == location)
            .map_or(&[], |(_, parts)| parts.as_slice())
    }

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
        !self.problems().iter().any(|p| p.is_archive())
            && !self.body.problems.contains(&ProblemCode::PartsSkipped)
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
        for p in found.problems.iter().filter(|p| p.is_archive()) {
            self.body.problem(*p);
        }
        if self.body.contains_private_key {
            self.body.kind = Kind::PrivateKey;
            self.private_key_found = true;
        }
    }

    /// Every problem code of the mail's parts, in order, once.
    pub fn problems(&self) -> Vec<ProblemCode> {
        let all = self.attachments.iter().flat_map(|a| &a.report.problems);
        crate::util::dedup(all.chain(&self.body.problems).copied())
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

/// Inspects every part of `mail` and its body text.
pub fn inspect(mail: &Mail, settings: &Settings) -> Inspection {
    let mut packages = Vec::new();
    let mut attachments: Vec<Attachment> = mail
        .parts
        .iter()
        .map(|p| {
            let mut a = inspect_part(p, settings);
            let package = std::mem::take(&mut a.report.package);
            if !package.is_empty() {
                packages.push((p.location.clone(), package));
            }
            a
        })
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
                a.report.problem(ProblemCode::CertUntrusted);
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
        body.problem(ProblemCode::PartsSkipped);
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
        packages,
    }
}

/// Whether a part is a forwarded mail, whose own parts the parser listed.
fn is_message(part: &Part) -> bool {
    part.content_type == "message/rfc822" || part.content_type == "message/global"
}

/// The bytes [`inspect`] examines as files, one per part: what the raw
/// scan of the same mail need not examine again ([`raw::scan_except`]).
pub fn examined_files(mail: &Mail) -> Vec<&[u8]> {
    mail.parts
        .iter()
        .filter(|p| !is_message(p))
        .map(|p| p.data.as_slice())
        .collect()
}

fn inspect_part(part: &Part, settings: &Settings) -> Attachment {
    let location = part
        .name
        .clone()
        .unwrap_or_else(|| format!("part {}", part.location));
    let report = if is_message(part) {
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
/// The checks run in this order: zip containers, PDF, saved mail, text,
/// DER; the first that recognises `data` decides.
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
        return examine_zip(location, data, settings, depth, budget, report);
    }
    if data.starts_with(b"%PDF-") {
        return examine_pdf(location, data, report);
    }
    if looks_like_mail(data) {
        return examine_mail(location, data, settings, depth, budget, report);
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

/// A zip: an archive, an office document, or an ASiC signature container;
/// every entry is examined in turn.
fn examine_zip(
    location: &str,
    data: &[u8],
    settings: &Settings,
    depth: usize,
    budget: &mut archive::Budget,
    report: &mut FileReport,
) -> Kind {
    // Opened once, each entry inflated once: the walk over the entries runs
    // first and the ASiC-E reader reads what it inflated.
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(data)).ok();
    let walk = (depth < settings.archive.max_depth).then(|| match zip.as_mut() {
        Some(zip) => archive::entries_of(zip, &settings.archive, budget),
        None => archive::Walk::unreadable(),
    });
    let signatures = signature::asice_signatures_in(data, zip.as_mut(), walk.as_ref());
    if let Some(sigs) = &signatures {
        for s in sigs {
            signed(location, s, report);
        }
        report.signatures.extend(sigs.iter().cloned());
    }
    let Some(walk) = walk else {
        report.problem(ProblemCode::ArchiveTooDeep);
        return if signatures.is_some() {
            Kind::SignedDocument
        } else {
            Kind::Archive
        };
    };
    for p in walk.problems {
        report.problem(p);
    }
    let entries = walk.entries;
    // Office documents and signature containers are zips too: what they
    // are is a document, but a key hidden inside is still found.
    let office = archive::is_office_document(&entries);
    let keep = if depth == 0 {
        archive::text_parts(&entries)
    } else {
        vec![false; entries.len()]
    };
    for (entry, keep) in entries.into_iter().zip(keep) {
        let at = format!("{location}/{}", entry.name);
        let kind = examine(&at, &entry.data, settings, depth + 1, budget, report);
        if !office && signatures.is_none() && !matches!(kind, Kind::PrivateKey | Kind::Pkcs12) {
            report.findings.push(Finding {
                kind,
                location: at,
                details: serde_json::json!({"size": entry.data.len()}),
            });
        }
        // What a document's text is read from, for the file itself only.
        if keep {
            report.package.push(entry);
        }
    }
    match (signatures.is_some(), office) {
        (true, _) => Kind::SignedDocument,
        (false, true) => Kind::Document,
        (false, false) => Kind::Archive,
    }
}

/// A PDF: a signed document when it carries signatures, else a document.
fn examine_pdf(location: &str, data: &[u8], report: &mut FileReport) -> Kind {
    let sigs = signature::pdf_signatures(data);
    if sigs.is_empty() {
        return Kind::Document;
    }
    for s in &sigs {
        signed(location, s, report);
    }
    report.signatures.extend(sigs);
    Kind::SignedDocument
}

/// A mail saved as a file (.eml, or forwarded as an attachment that is not
/// message/rfc822): looked inside like the daemon would, its body text and
/// each of its parts.
fn examine_mail(
    location: &str,
    data: &[u8],
    settings: &Settings,
    depth: usize,
    budget: &mut archive::Budget,
    report: &mut FileReport,
) -> Kind {
    if depth >= settings.archive.max_depth {
        report.problem(ProblemCode::ArchiveTooDeep);
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
        if is_message(part) {
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
    Kind::Message
}

fn signed(location: &str, s: &Signature, report: &mut FileReport) {
    for p in &s.problems {
        report.problem((*p).into());
    }
    if s.verified == Some(false) {
        report.problem(ProblemCode::SignatureInvalid);
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
        report.problem(*p);
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

#[cfg(test)]
mod tests;
