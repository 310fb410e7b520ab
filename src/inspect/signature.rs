//! Signed documents: recognise PDF signatures (PAdES and the older
//! adbe.pkcs7 forms), CMS SignedData (.p7s detached, .p7m enveloping) and
//! ASiC-E containers, and say who signed, when, and whether the signature
//! verifies against the signer certificate carried with it.
//!
//! "Verified" is cryptographic only: the signed bytes are unchanged and the
//! key in the embedded signer certificate made the signature. Whether that
//! certificate deserves trust (chain, validity period, revocation) is not
//! judged here.
//!
//! All input is hostile mail from the internet, so nothing here panics and
//! all work is bounded: at most 16 signatures per file, ASN.1 nesting at
//! most 32, PDF lexing on a byte budget proportional to the file, zip
//! entries inflated under a size cap and a per-container budget.
//!
//! ASN.1 is walked by a small reader of our own rather than decoded with
//! `cms`: `der` re-sorts every SET OF while decoding, which is quadratic on
//! hostile input and loses the exact signed-attribute bytes the signature
//! was made over; our reader also accepts the BER indefinite lengths some
//! PDF signers emit.

mod asice;
mod asn1;
mod cms;
mod pdf;
mod verify;

use serde::Serialize;

use crate::domain::SignatureProblem;

pub use asice::{asice_signatures, asice_signatures_in};
pub use cms::cms_signature;
pub use pdf::pdf_signatures;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SignatureFormat {
    Pades,
    CmsDetached,
    CmsEnveloping,
    AsicE,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Signature {
    pub format: SignatureFormat,
    /// The signer certificate's subject common name (else the whole subject as a string).
    pub signer: Option<String>,
    /// SHA-256 (lowercase hex) of the signer certificate DER.
    pub signer_certificate_sha256: Option<String>,
    /// RFC 3339: CMS signingTime signed attribute, else the PDF signature dictionary's /M, else XAdES SigningTime.
    pub signing_time: Option<String>,
    /// PDF only: the /ByteRange covers the whole file except exactly the /Contents hex string. None for other formats.
    pub covers_whole_file: Option<bool>,
    /// The cryptographic signature verifies over the signed content (messageDigest attribute matches the content digest AND the signature over the DER signed attributes — or over the content when there are none — verifies with the signer certificate's public key). None when it could not be checked (detached signature without its content, XAdES in ASiC-E, unsupported algorithm).
    pub verified: Option<bool>,
    /// Short snake_case codes, e.g. "byte_range_partial", "digest_mismatch", "bad_signature", "no_signer_certificate", "unsupported_algorithm", "malformed".
    pub problems: Vec<SignatureProblem>,
}

impl Signature {
    fn new(format: SignatureFormat) -> Self {
        Signature {
            format,
            signer: None,
            signer_certificate_sha256: None,
            signing_time: None,
            covers_whole_file: None,
            verified: None,
            problems: Vec::new(),
        }
    }

    fn malformed(format: SignatureFormat) -> Self {
        let mut sig = Signature::new(format);
        add(&mut sig.problems, SignatureProblem::Malformed);
        sig
    }
}

fn add(problems: &mut Vec<SignatureProblem>, code: SignatureProblem) {
    if !problems.contains(&code) {
        problems.push(code);
    }
}

/// Three-valued AND: a known failure wins, success needs both known.
fn both(a: Option<bool>, b: Option<bool>) -> Option<bool> {
    match (a, b) {
        (Some(false), _) | (_, Some(false)) => Some(false),
        (Some(true), Some(true)) => Some(true),
        _ => None,
    }
}

/// `needle` in `haystack` from `from` on (memmem: linear however hostile).
fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() {
        return None;
    }
    memchr::memmem::find(haystack.get(from..)?, needle).map(|i| i + from)
}

/// The last `needle` within `from..to`.
fn rfind(haystack: &[u8], needle: &[u8], from: usize, to: usize) -> Option<usize> {
    if needle.is_empty() {
        return None;
    }
    memchr::memmem::rfind(haystack.get(from..to)?, needle).map(|i| i + from)
}

// ---------------------------------------------------------------- limits

/// No real document carries more; past this a file is an attack.
const MAX_SIGNATURES: usize = 16;
/// Certificates looked at per SignedData (real ones carry a chain of a few).
const MAX_CERTIFICATES: usize = 64;
/// `/ByteRange` occurrences looked at per PDF (duplicates and junk included).
const MAX_BYTE_RANGE_HITS: usize = 64;
/// How far back from `/ByteRange` its dictionary may start: /Contents,
/// which may precede it, is hex of a CMS blob of at most a few MiB.
const DICT_SEARCH_WINDOW: usize = 4 << 20;
/// Bytes one signature dictionary may span.
const MAX_DICT_BYTES: usize = 16 << 20;
/// Candidate `<<` positions tried when looking for that start.
const DICT_START_TRIES: usize = 8;
/// Tokens one PDF dictionary parse may consume.
const PDF_TOKEN_BUDGET: usize = 100_000;
/// PDF object nesting, far beyond what a signature dictionary needs.
const PDF_MAX_DEPTH: usize = 32;
/// Zip entries looked at in an ASiC-E container.
const MAX_ZIP_ENTRIES: usize = 10_000;
/// Size cap for signature and manifest files inside ASiC-E.
const MAX_META_FILE: u64 = 4 << 20;
/// Size cap for a signed data object inside ASiC-E (zip bombs).
const MAX_DATA_OBJECT: u64 = 64 << 20;
/// Data objects checked per ASiC manifest.
const MAX_DATA_OBJECTS: usize = 256;
/// Bytes inflated from one ASiC-E container in all.
const ASIC_INFLATE_BUDGET: u64 = 256 << 20;

#[cfg(test)]
mod tests;
