//! ASiC-E containers: XAdES signatures (signer and time) and CAdES ones,
//! verified through their ASiCManifest down to the digests of the signed
//! files.

use std::borrow::Cow;
use std::io::{Cursor, Read};

use chrono::{DateTime, NaiveDateTime, SecondsFormat, Utc};
use quick_xml::errors::Error;
use quick_xml::events::Event;

use crate::domain::SignatureProblem;
use crate::inspect::archive::{Refusal, Walk, Zip};
use crate::util::{lenient_xml_reader, xml_attribute};

use super::cms::{Report, base64_lenient, evaluate_cms};
use super::verify::{Hash, parse_cert};
use super::{
    ASIC_INFLATE_BUDGET, MAX_DATA_OBJECT, MAX_DATA_OBJECTS, MAX_META_FILE, MAX_SIGNATURES,
    MAX_ZIP_ENTRIES, Signature, SignatureFormat, add, both,
};

const ASICE_MIMETYPE: &[u8] = b"application/vnd.etsi.asic-e+zip";

/// The zip's first local header is a file named "mimetype".
fn starts_with_mimetype_entry(data: &[u8]) -> bool {
    let le16 = |at: usize| {
        data.get(at..at + 2)
            .and_then(|b| <[u8; 2]>::try_from(b).ok())
            .map(|b| usize::from(u16::from_le_bytes(b)))
    };
    data.starts_with(b"PK\x03\x04")
        && le16(26).is_some_and(|len| data.get(30..30 + len) == Some(&b"mimetype"[..]))
}

/// Stored "mimetype" entry saying ASiC-E, read from the raw bytes (for
/// containers the zip reader refuses).
fn raw_mimetype_is_asice(data: &[u8]) -> bool {
    let le16 = |at: usize| {
        data.get(at..at + 2)
            .and_then(|b| <[u8; 2]>::try_from(b).ok())
            .map(|b| usize::from(u16::from_le_bytes(b)))
    };
    match (le16(8), le16(26), le16(28)) {
        (Some(0), Some(name), Some(extra)) => data
            .get(30 + name + extra..)
            .is_some_and(|rest| rest.starts_with(ASICE_MIMETYPE)),
        _ => false,
    }
}

pub(super) enum EntryError {
    Missing,
    TooLarge,
    Broken,
}

/// An open ASiC-E container. Every entry read from it is charged to one
/// inflate budget, so a zip bomb cannot make us decompress without end.
/// Entries the archive walk inflated already are read from it, not again.
pub(super) struct Container<'z, 'd, 'w> {
    pub(super) zip: &'z mut Zip<'d>,
    pub(super) walked: Option<&'w Walk>,
    pub(super) names: Vec<String>,
    pub(super) budget: u64,
    /// Data-object digests already computed: the manifests of several
    /// signatures name the same files.
    pub(super) digests: Vec<(String, Hash, Vec<u8>)>,
}

impl<'w> Container<'_, '_, 'w> {
    /// An entry's bytes, refusing more than `cap` or the budget left.
    pub(super) fn read(&mut self, name: &str, cap: u64) -> Result<Cow<'w, [u8]>, EntryError> {
        let limit = cap.min(self.budget);
        let index = self.zip.index_for_name(name).ok_or(EntryError::Missing)?;
        if let Some(walk) = self.walked {
            if let Some(entry) = walk.entry(index) {
                let len = entry.data.len() as u64;
                self.budget = self.budget.saturating_sub(len.min(limit + 1));
                return if len > limit {
                    Err(EntryError::TooLarge)
                } else {
                    Ok(Cow::Borrowed(entry.data.as_slice()))
                };
            }
            match walk.refusal(index) {
                Some(Refusal::Unreadable) => return Err(EntryError::Broken),
                Some(Refusal::TooLarge) => return Err(EntryError::TooLarge),
                None => {}
            }
        }
        let file = self.zip.by_index(index).map_err(|_| EntryError::Missing)?;
        let mut out = Vec::new();
        let result = file.take(limit + 1).read_to_end(&mut out);
        self.budget = self.budget.saturating_sub(out.len() as u64);
        result.map_err(|_| EntryError::Broken)?;
        if out.len() as u64 > limit {
            return Err(EntryError::TooLarge);
        }
        Ok(Cow::Owned(out))
    }

    /// The entry a manifest URI names, if any.
    fn entry_for_uri(&self, uri: &str) -> Option<String> {
        let uri = uri.strip_prefix("./").unwrap_or(uri);
        let decoded = percent_decode(uri);
        self.names
            .iter()
            .find(|n| n.as_str() == uri || n.as_str() == decoded)
            .cloned()
    }

    fn digest(&mut self, entry: &str, hash: Hash) -> Result<Vec<u8>, EntryError> {
        if let Some((_, _, value)) = self
            .digests
            .iter()
            .find(|(n, h, _)| n == entry && *h == hash)
        {
            return Ok(value.clone());
        }
        let bytes = self.read(entry, MAX_DATA_OBJECT)?;
        let value = hash.digest(&[bytes.as_ref()]);
        self.digests.push((entry.to_owned(), hash, value.clone()));
        Ok(value)
    }
}

/// ASiC-E (a zip whose first entry "mimetype" says application/vnd.etsi.asic-e+zip, with META-INF/*signatures*.xml (XAdES) or META-INF/*.p7s (CAdES)); None when not ASiC-E. For XAdES report the signer from the ds:X509Certificate and the SigningTime, verified = None. For CAdES inside ASiC verify like a detached CMS over the signed data objects when that is straightforward (ASiCManifest), else None.
///
/// A container the zip reader refuses, but whose stored mimetype says
/// ASiC-E, gives one signature with problem "malformed".
pub fn asice_signatures(data: &[u8]) -> Option<Vec<Signature>> {
    let mut zip = zip::ZipArchive::new(Cursor::new(data)).ok();
    asice_signatures_in(data, zip.as_mut(), None)
}

/// [`asice_signatures`] of `data` through `zip`, the same bytes already
/// opened by the caller (`None` when the zip reader refused them), reading
/// the entries `walked` inflated from it rather than inflating them again.
pub fn asice_signatures_in(
    data: &[u8],
    zip: Option<&mut Zip<'_>>,
    walked: Option<&Walk>,
) -> Option<Vec<Signature>> {
    if !starts_with_mimetype_entry(data) {
        return None;
    }
    let zip = match zip {
        Some(zip) => zip,
        None if raw_mimetype_is_asice(data) => {
            return Some(vec![Signature::malformed(SignatureFormat::AsicE)]);
        }
        None => return None,
    };
    let names = zip
        .file_names()
        .take(MAX_ZIP_ENTRIES)
        .map(str::to_owned)
        .collect();
    let mut container = Container {
        zip,
        walked,
        names,
        budget: ASIC_INFLATE_BUDGET,
        digests: Vec::new(),
    };
    let mimetype = container.read("mimetype", 256).ok()?;
    if mimetype.trim_ascii() != ASICE_MIMETYPE {
        return None;
    }
    let meta_inf = |suffix: &str, part: &str| -> Vec<String> {
        container
            .names
            .iter()
            .filter(|name| {
                let lowered = name.to_ascii_lowercase();
                name.starts_with("META-INF/") && lowered.ends_with(suffix) && lowered.contains(part)
            })
            .take(MAX_SIGNATURES)
            .cloned()
            .collect()
    };
    let xades_files = meta_inf(".xml", "signatures");
    let cades_files = meta_inf(".p7s", "");
    let manifest_files = meta_inf(".xml", "asicmanifest");

    let mut out = xades_in(&mut container, &xades_files);
    let manifests = manifests_in(&mut container, &manifest_files);
    for name in &cades_files {
        if out.len() >= MAX_SIGNATURES {
            break;
        }
        let manifest = manifests
            .iter()
            .find(|(signature, _)| signature.as_deref() == Some(name.as_str()))
            .map(|(_, bytes)| bytes.as_ref());
        out.push(asic_cades(&mut container, name, manifest));
    }
    Some(out)
}

/// The XAdES signatures of the container's signature files, at most
/// [`MAX_SIGNATURES`] in all.
fn xades_in(container: &mut Container<'_, '_, '_>, files: &[String]) -> Vec<Signature> {
    let mut out = Vec::new();
    for name in files {
        let room = MAX_SIGNATURES.saturating_sub(out.len());
        if room == 0 {
            break;
        }
        match container.read(name, MAX_META_FILE) {
            Ok(xml) => out.extend(xades_signatures(&String::from_utf8_lossy(&xml), room)),
            Err(EntryError::TooLarge) => {
                let mut sig = Signature::new(SignatureFormat::AsicE);
                add(&mut sig.problems, SignatureProblem::TooLarge);
                out.push(sig);
            }
            Err(_) => out.push(Signature::malformed(SignatureFormat::AsicE)),
        }
    }
    out
}

/// Each manifest, with the signature file its SigReference names.
fn manifests_in<'w>(
    container: &mut Container<'_, '_, 'w>,
    files: &[String],
) -> Vec<(Option<String>, Cow<'w, [u8]>)> {
    let mut manifests = Vec::new();
    for name in files {
        let Ok(bytes) = container.read(name, MAX_META_FILE) else {
            continue;
        };
        let text = String::from_utf8_lossy(&bytes);
        let signature = elements(&text, "SigReference", 1)
            .first()
            .and_then(|r| attribute(r.start_tag, "URI"))
            .and_then(|uri| container.entry_for_uri(&uri));
        manifests.push((signature, bytes));
    }
    manifests
}

/// One element found by local name (namespace prefix ignored).
pub(super) struct Element<'a> {
    pub(super) start_tag: &'a str,
    pub(super) content: &'a str,
}

/// Top-level elements with local name `local`, at most `limit`. An element
/// nested in a same-named one (a XAdES counter-signature) is part of its
/// parent's content, not returned on its own. Markup that cannot be read
/// on ends the search.
pub(super) fn elements<'a>(xml: &'a str, local: &str, limit: usize) -> Vec<Element<'a>> {
    let mut out = Vec::new();
    let mut reader = lenient_xml_reader(xml);
    while out.len() < limit {
        let open = offset(reader.buffer_position());
        let (tag, empty) = match reader.read_event() {
            Ok(Event::Start(tag)) => (tag, false),
            Ok(Event::Empty(tag)) => (tag, true),
            Ok(Event::Eof) => break,
            // A misnested or undeclared detail of the markup: read on.
            Ok(_) | Err(Error::IllFormed(_)) => continue,
            // A truncated tag or unreadable markup: nothing more to read.
            Err(_) => break,
        };
        if tag.local_name().as_ref() != local {
            continue;
        }
        let Some(start_tag) = xml.get(open..offset(reader.buffer_position())) else {
            break;
        };
        let content = if empty {
            ""
        } else {
            match reader.read_to_end(tag.name()) {
                Ok(span) => xml
                    .get(offset(span.start)..offset(span.end))
                    .unwrap_or_default(),
                Err(_) => break,
            }
        };
        out.push(Element { start_tag, content });
    }
    out
}

fn offset(position: u64) -> usize {
    usize::try_from(position).unwrap_or(usize::MAX)
}

/// An attribute's value in a start tag, entities decoded.
pub(super) fn attribute(start_tag: &str, name: &str) -> Option<String> {
    match lenient_xml_reader(start_tag).read_event() {
        Ok(Event::Start(tag) | Event::Empty(tag)) => Some(xml_attribute(&tag, name)?.into_owned()),
        _ => None,
    }
}

/// xsd:dateTime as RFC 3339 in UTC; no zone means UTC.
pub(super) fn xml_date(text: &str) -> Option<String> {
    let text = text.trim();
    let utc = match DateTime::parse_from_rfc3339(text) {
        Ok(dt) => dt.with_timezone(&Utc),
        Err(_) => NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
            .ok()?
            .and_utc(),
    };
    Some(utc.to_rfc3339_opts(SecondsFormat::Secs, true))
}

fn xades_signatures(xml: &str, limit: usize) -> Vec<Signature> {
    elements(xml, "Signature", limit)
        .into_iter()
        .map(|signature| xades_signature(signature.content))
        .collect()
}

/// Signer and time of one ds:Signature. The signer certificate is the
/// X509Certificate whose digest XAdES SigningCertificate(V2) names, else
/// the first one.
fn xades_signature(body: &str) -> Signature {
    let mut signature = Signature::new(SignatureFormat::AsicE);
    let certs: Vec<Vec<u8>> = elements(body, "X509Certificate", 16)
        .iter()
        .filter_map(|e| base64_lenient(e.content.as_bytes()))
        .collect();
    let named: Vec<(Hash, Vec<u8>)> = elements(body, "CertDigest", 16)
        .iter()
        .filter_map(|cert_digest| {
            let method = elements(cert_digest.content, "DigestMethod", 1);
            let hash = Hash::from_uri(&attribute(method.first()?.start_tag, "Algorithm")?)?;
            let value = elements(cert_digest.content, "DigestValue", 1);
            Some((hash, base64_lenient(value.first()?.content.as_bytes())?))
        })
        .collect();
    let chosen = certs
        .iter()
        .find(|cert| {
            named
                .iter()
                .any(|(hash, value)| hash.digest(&[cert.as_slice()]) == *value)
        })
        .or(certs.first());
    match chosen {
        Some(der) => {
            signature.signer_certificate_sha256 = Some(crate::util::sha256_hex(der));
            match parse_cert(der) {
                Some(cert) => signature.signer = cert.name,
                None => add(&mut signature.problems, SignatureProblem::Malformed),
            }
        }
        None => add(
            &mut signature.problems,
            SignatureProblem::NoSignerCertificate,
        ),
    }
    signature.signing_time = elements(body, "SigningTime", 1)
        .first()
        .and_then(|e| xml_date(e.content));
    signature
}

/// %XX decoding for manifest URIs; a `%` not followed by two hex digits
/// stays as it is.
pub(super) fn percent_decode(uri: &str) -> String {
    percent_encoding::percent_decode_str(uri)
        .decode_utf8_lossy()
        .into_owned()
}

/// A CAdES signature in ASiC-E: it signs an ASiCManifest, which in turn
/// lists digests of the data objects.
fn asic_cades(
    container: &mut Container<'_, '_, '_>,
    p7s_name: &str,
    manifest: Option<&[u8]>,
) -> Signature {
    let p7s = match container.read(p7s_name, MAX_META_FILE) {
        Ok(p7s) => p7s,
        Err(_) => return Signature::malformed(SignatureFormat::AsicE),
    };
    let mut signature = Signature::new(SignatureFormat::AsicE);
    let Some(manifest) = manifest else {
        fill_from_report(&mut signature, evaluate_cms(&p7s, None, false));
        signature
            .problems
            .retain(|p| *p != SignatureProblem::ContentMissing);
        add(&mut signature.problems, SignatureProblem::NoManifest);
        return signature;
    };
    fill_from_report(&mut signature, evaluate_cms(&p7s, Some(&[manifest]), false));

    let text = String::from_utf8_lossy(manifest);
    let references = elements(&text, "DataObjectReference", MAX_DATA_OBJECTS);
    let mut objects_ok = if references.is_empty() {
        add(&mut signature.problems, SignatureProblem::NoDataObjects);
        None
    } else {
        Some(true)
    };
    for reference in &references {
        let ok = data_object_ok(container, reference, &mut signature.problems);
        objects_ok = both(objects_ok, ok);
    }
    signature.verified = both(signature.verified, objects_ok);
    signature
}

fn fill_from_report(signature: &mut Signature, report: Option<Report>) {
    match report {
        Some(report) => {
            signature.signer = report.signer;
            signature.signer_certificate_sha256 = report.certificate_sha256;
            signature.signing_time = report.signing_time;
            signature.verified = report.verified;
            for problem in &report.problems {
                add(&mut signature.problems, *problem);
            }
        }
        None => add(&mut signature.problems, SignatureProblem::Malformed),
    }
}

/// Whether one DataObjectReference's digest matches its zip entry.
fn data_object_ok(
    container: &mut Container<'_, '_, '_>,
    reference: &Element<'_>,
    problems: &mut Vec<SignatureProblem>,
) -> Option<bool> {
    let method = elements(reference.content, "DigestMethod", 1);
    let value = elements(reference.content, "DigestValue", 1);
    let uri = attribute(reference.start_tag, "URI");
    let (Some(method), Some(value), Some(uri)) = (method.first(), value.first(), uri) else {
        add(problems, SignatureProblem::Malformed);
        return Some(false);
    };
    let algorithm = attribute(method.start_tag, "Algorithm");
    let Some(hash) = algorithm.as_deref().and_then(Hash::from_uri) else {
        add(problems, SignatureProblem::UnsupportedAlgorithm);
        return None;
    };
    if hash == Hash::Sha1 {
        add(problems, SignatureProblem::WeakDigest);
    }
    let Some(expected) = base64_lenient(value.content.as_bytes()) else {
        add(problems, SignatureProblem::Malformed);
        return Some(false);
    };
    let Some(entry) = container.entry_for_uri(&uri) else {
        add(problems, SignatureProblem::MissingDataObject);
        return Some(false);
    };
    match container.digest(&entry, hash) {
        Ok(actual) => {
            let ok = actual == expected;
            if !ok {
                add(problems, SignatureProblem::DigestMismatch);
            }
            Some(ok)
        }
        Err(EntryError::TooLarge) => {
            add(problems, SignatureProblem::TooLarge);
            None
        }
        // A CRC failure is tampering as much as a wrong digest.
        Err(EntryError::Broken) => {
            add(problems, SignatureProblem::DigestMismatch);
            Some(false)
        }
        Err(EntryError::Missing) => {
            add(problems, SignatureProblem::MissingDataObject);
            Some(false)
        }
    }
}
