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

use std::borrow::Cow;
use std::io::{Cursor, Read};

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, SecondsFormat, TimeZone, Utc};
use der::asn1::ObjectIdentifier;
use ring::digest;
use ring::signature::{self as ring_sig, UnparsedPublicKey, VerificationAlgorithm};
use serde::Serialize;

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
    pub problems: Vec<String>,
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
        add(&mut sig.problems, "malformed");
        sig
    }
}

// ---------------------------------------------------------------- limits

/// No real document carries more; past this a file is an attack.
const MAX_SIGNATURES: usize = 16;
/// Deeper than any real CMS structure; hostile nesting stops here.
const MAX_DEPTH: usize = 32;
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

// ---------------------------------------------------------------- OIDs

const OID_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
const OID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const OID_CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
const OID_MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
const OID_SIGNING_TIME: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.5");
const OID_SHA1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.14.3.2.26");
const OID_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const OID_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.2");
const OID_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.3");
const OID_RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const OID_SHA1_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.5");
const OID_MGF1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.8");
const OID_RSASSA_PSS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.10");
const OID_SHA256_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
const OID_SHA384_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.12");
const OID_SHA512_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.13");
const OID_EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const OID_ECDSA_WITH_SHA1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.1");
const OID_ECDSA_WITH_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const OID_ECDSA_WITH_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
const OID_ECDSA_WITH_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.4");
const OID_P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const OID_P384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
const OID_SUBJECT_KEY_ID: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.14");

fn is_oid(content: &[u8], oid: &ObjectIdentifier) -> bool {
    content == oid.as_bytes()
}

fn add(problems: &mut Vec<String>, code: &str) {
    if !problems.iter().any(|p| p == code) {
        problems.push(code.to_owned());
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

// ---------------------------------------------------------------- ASN.1

const INTEGER: u8 = 0x02;
const BIT_STRING: u8 = 0x03;
const OCTET_STRING: u8 = 0x04;
const OID: u8 = 0x06;
const UTC_TIME: u8 = 0x17;
const GENERALIZED_TIME: u8 = 0x18;
const SEQUENCE: u8 = 0x30;
const SET: u8 = 0x31;
/// `[0]` constructed, as both IMPLICIT SET and EXPLICIT wrapper use it.
const CONTEXT_0: u8 = 0xA0;
const CONTEXT_1: u8 = 0xA1;

/// One BER/DER element. `raw` is the whole encoding, header included.
#[derive(Debug, Clone, Copy)]
struct Tlv<'a> {
    tag: u8,
    content: &'a [u8],
    raw: &'a [u8],
}

/// Reads one element and returns it with what follows. Accepts BER
/// indefinite lengths; refuses high tag numbers (never used in what we
/// read), lengths past the input and nesting past [`MAX_DEPTH`].
fn read_tlv(input: &[u8], depth: usize) -> Option<(Tlv<'_>, &[u8])> {
    if depth > MAX_DEPTH {
        return None;
    }
    let (&tag, after_tag) = input.split_first()?;
    if tag & 0x1f == 0x1f {
        return None;
    }
    let (&first, mut rest) = after_tag.split_first()?;
    let len = match first {
        0x80 => {
            // Indefinite: only constructed; the end is found by walking the
            // children up to the end-of-contents marker.
            if tag & 0x20 == 0 {
                return None;
            }
            let body = rest;
            let mut cursor = body;
            while !cursor.starts_with(&[0, 0]) {
                let (_, next) = read_tlv(cursor, depth + 1)?;
                cursor = next;
            }
            let content_len = body.len() - cursor.len();
            let content = body.get(..content_len)?;
            let raw = input.get(..content_len.checked_add(4)?)?;
            return Some((Tlv { tag, content, raw }, cursor.get(2..)?));
        }
        n if n < 0x80 => usize::from(n),
        n => {
            let count = usize::from(n & 0x7f);
            if count > 4 {
                return None;
            }
            let bytes = rest.get(..count)?;
            rest = rest.get(count..)?;
            bytes
                .iter()
                .fold(0usize, |acc, &b| (acc << 8) | usize::from(b))
        }
    };
    let content = rest.get(..len)?;
    let header_len = input.len() - rest.len();
    let raw = input.get(..header_len.checked_add(len)?)?;
    Some((Tlv { tag, content, raw }, rest.get(len..)?))
}

/// Reads the children of a constructed element one at a time.
struct Seq<'a> {
    rest: &'a [u8],
    depth: usize,
}

impl<'a> Seq<'a> {
    fn new(content: &'a [u8], depth: usize) -> Self {
        Seq {
            rest: content,
            depth,
        }
    }

    fn of(tlv: &Tlv<'a>, depth: usize) -> Self {
        Seq::new(tlv.content, depth)
    }

    fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    fn read(&mut self) -> Option<Tlv<'a>> {
        let (tlv, rest) = read_tlv(self.rest, self.depth)?;
        self.rest = rest;
        Some(tlv)
    }

    fn expect(&mut self, tag: u8) -> Option<Tlv<'a>> {
        self.read().filter(|t| t.tag == tag)
    }

    fn optional(&mut self, tag: u8) -> Option<Tlv<'a>> {
        if self.rest.first() == Some(&tag) {
            self.read()
        } else {
            None
        }
    }
}

/// The bytes of an OCTET STRING, joining BER constructed chunks.
fn octets<'a>(tlv: &Tlv<'a>, depth: usize) -> Option<Cow<'a, [u8]>> {
    if tlv.tag & 0x20 == 0 {
        return Some(Cow::Borrowed(tlv.content));
    }
    if depth > MAX_DEPTH {
        return None;
    }
    let mut out = Vec::new();
    let mut chunks = Seq::of(tlv, depth + 1);
    while !chunks.is_empty() {
        let chunk = chunks.read()?;
        if chunk.tag & 0x1f != OCTET_STRING {
            return None;
        }
        out.extend_from_slice(&octets(&chunk, depth + 1)?);
    }
    Some(Cow::Owned(out))
}

/// An AlgorithmIdentifier: the OID's content bytes and the parameters.
#[derive(Debug, Clone, Copy)]
struct AlgId<'a> {
    oid: &'a [u8],
    params: Option<Tlv<'a>>,
}

fn parse_alg<'a>(tlv: &Tlv<'a>, depth: usize) -> Option<AlgId<'a>> {
    if tlv.tag != SEQUENCE {
        return None;
    }
    let mut items = Seq::of(tlv, depth + 1);
    let oid = items.expect(OID)?.content;
    let params = if items.is_empty() {
        None
    } else {
        Some(items.read()?)
    };
    Some(AlgId { oid, params })
}

/// A small non-negative INTEGER (PSS salt length, trailer field).
fn small_uint(tlv: &Tlv<'_>) -> Option<usize> {
    if tlv.tag != INTEGER || tlv.content.is_empty() || tlv.content.len() > 4 {
        return None;
    }
    if tlv.content.first().is_some_and(|b| b & 0x80 != 0) {
        return None;
    }
    Some(
        tlv.content
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b)),
    )
}

/// Two decimal digits (or `n` of them) at `at`, if all are digits.
fn digits(s: &[u8], at: usize, n: usize) -> Option<u32> {
    let part = s.get(at..at.checked_add(n)?)?;
    part.iter().try_fold(0u32, |acc, &b| {
        b.is_ascii_digit().then(|| acc * 10 + u32::from(b - b'0'))
    })
}

/// A calendar time at a UTC offset, as RFC 3339 in UTC.
fn utc_rfc3339(
    date: (i32, u32, u32),
    time: (u32, u32, u32),
    offset_seconds: i32,
) -> Option<String> {
    let naive =
        NaiveDate::from_ymd_opt(date.0, date.1, date.2)?.and_hms_opt(time.0, time.1, time.2)?;
    let local = FixedOffset::east_opt(offset_seconds)?
        .from_local_datetime(&naive)
        .single()?;
    Some(
        local
            .with_timezone(&Utc)
            .to_rfc3339_opts(SecondsFormat::Secs, true),
    )
}

/// UTCTime or GeneralizedTime as RFC 3339 (fractions dropped).
fn asn1_time(tlv: &Tlv<'_>) -> Option<String> {
    let s = tlv.content;
    let (year, rest) = match tlv.tag {
        UTC_TIME => {
            // RFC 5280: two-digit years below 50 are 20xx.
            let yy = i32::try_from(digits(s, 0, 2)?).ok()?;
            (if yy < 50 { 2000 + yy } else { 1900 + yy }, s.get(2..)?)
        }
        GENERALIZED_TIME => (i32::try_from(digits(s, 0, 4)?).ok()?, s.get(4..)?),
        _ => return None,
    };
    let month = digits(rest, 0, 2)?;
    let day = digits(rest, 2, 2)?;
    let hour = digits(rest, 4, 2)?;
    let minute = digits(rest, 6, 2)?;
    let (second, mut pos) = match digits(rest, 8, 2) {
        Some(second) => (second, 10),
        None => (0, 8),
    };
    if matches!(rest.get(pos), Some(b'.' | b',')) {
        pos += 1;
        while rest.get(pos).is_some_and(u8::is_ascii_digit) {
            pos += 1;
        }
    }
    let offset = match rest.get(pos) {
        None | Some(b'Z') => 0,
        Some(&sign @ (b'+' | b'-')) => {
            let hours = digits(rest, pos + 1, 2)?;
            let minutes = digits(rest, pos + 3, 2).unwrap_or(0);
            let seconds = i32::try_from(hours * 3600 + minutes * 60).ok()?;
            if sign == b'-' { -seconds } else { seconds }
        }
        Some(_) => return None,
    };
    utc_rfc3339((year, month, day), (hour, minute, second), offset)
}

// ---------------------------------------------------------------- digests

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hash {
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

impl Hash {
    /// From a digest OID; the `...WithRSAEncryption` OIDs are accepted too
    /// because some signers put those in digestAlgorithm.
    fn from_oid(oid: &[u8]) -> Option<Hash> {
        if is_oid(oid, &OID_SHA256) || is_oid(oid, &OID_SHA256_WITH_RSA) {
            Some(Hash::Sha256)
        } else if is_oid(oid, &OID_SHA384) || is_oid(oid, &OID_SHA384_WITH_RSA) {
            Some(Hash::Sha384)
        } else if is_oid(oid, &OID_SHA512) || is_oid(oid, &OID_SHA512_WITH_RSA) {
            Some(Hash::Sha512)
        } else if is_oid(oid, &OID_SHA1) || is_oid(oid, &OID_SHA1_WITH_RSA) {
            Some(Hash::Sha1)
        } else {
            None
        }
    }

    /// From an XML-DSig DigestMethod URI.
    fn from_uri(uri: &str) -> Option<Hash> {
        match uri.trim() {
            "http://www.w3.org/2000/09/xmldsig#sha1" => Some(Hash::Sha1),
            "http://www.w3.org/2001/04/xmlenc#sha256" => Some(Hash::Sha256),
            "http://www.w3.org/2001/04/xmldsig-more#sha384" => Some(Hash::Sha384),
            "http://www.w3.org/2001/04/xmlenc#sha512" => Some(Hash::Sha512),
            _ => None,
        }
    }

    fn algorithm(self) -> &'static digest::Algorithm {
        match self {
            Hash::Sha1 => &digest::SHA1_FOR_LEGACY_USE_ONLY,
            Hash::Sha256 => &digest::SHA256,
            Hash::Sha384 => &digest::SHA384,
            Hash::Sha512 => &digest::SHA512,
        }
    }

    fn output_len(self) -> usize {
        self.algorithm().output_len()
    }

    fn digest(self, parts: &[&[u8]]) -> Vec<u8> {
        let mut ctx = digest::Context::new(self.algorithm());
        for part in parts {
            ctx.update(part);
        }
        ctx.finish().as_ref().to_vec()
    }
}

// ---------------------------------------------------------------- certificates

/// What we need of a certificate, all borrowed from its DER.
struct Cert<'a> {
    raw: &'a [u8],
    issuer: &'a [u8],
    serial: &'a [u8],
    subject_key_id: Option<&'a [u8]>,
    spki: &'a [u8],
    name: Option<String>,
}

fn parse_cert(raw: &[u8]) -> Option<Cert<'_>> {
    let (_, cert) = x509_parser::parse_x509_certificate(raw).ok()?;
    let tbs = &cert.tbs_certificate;
    let subject_key_id = tbs
        .extensions()
        .iter()
        .find(|ext| is_oid(ext.oid.as_bytes(), &OID_SUBJECT_KEY_ID))
        .and_then(|ext| read_tlv(ext.value, 0))
        .filter(|(tlv, _)| tlv.tag == OCTET_STRING)
        .map(|(tlv, _)| tlv.content);
    let name = tbs
        .subject
        .iter_common_name()
        .find_map(|cn| directory_string(cn.attr_value().header.tag().0, cn.attr_value().data))
        .or_else(|| Some(tbs.subject.to_string()))
        .filter(|name| !name.is_empty());
    Some(Cert {
        raw,
        issuer: tbs.issuer.as_raw(),
        serial: tbs.raw_serial(),
        subject_key_id,
        spki: tbs.subject_pki.raw,
        name,
    })
}

/// A DirectoryString value as text, whatever its ASN.1 string type.
fn directory_string(tag: u32, data: &[u8]) -> Option<String> {
    match tag {
        // UTF8String, NumericString, PrintableString, IA5String, VisibleString
        12 | 18 | 19 | 22 | 26 => std::str::from_utf8(data).ok().map(str::to_owned),
        // TeletexString: in practice Latin-1 (or UTF-8 from sloppy CAs).
        20 => Some(
            std::str::from_utf8(data)
                .map(str::to_owned)
                .unwrap_or_else(|_| data.iter().map(|&b| char::from(b)).collect()),
        ),
        // BMPString: UTF-16BE.
        30 => {
            let units: Vec<u16> = data
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect();
            String::from_utf16(&units).ok()
        }
        // UniversalString: UTF-32BE.
        28 => data
            .chunks_exact(4)
            .map(|c| char::from_u32(u32::from_be_bytes([c[0], c[1], c[2], c[3]])))
            .collect(),
        _ => None,
    }
}

/// Leading zero bytes do not change an INTEGER's value; sloppy encoders add them.
fn strip_zeros(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    bytes.get(start..).unwrap_or_default()
}

// ---------------------------------------------------------------- CMS

enum SignerId<'a> {
    IssuerSerial { issuer: &'a [u8], serial: &'a [u8] },
    KeyId(Cow<'a, [u8]>),
}

struct SignerInfo<'a> {
    sid: SignerId<'a>,
    digest_alg: AlgId<'a>,
    signed_attrs: Option<Tlv<'a>>,
    signature_alg: AlgId<'a>,
    signature: Cow<'a, [u8]>,
}

struct SignedData<'a> {
    content_type: &'a [u8],
    content: Option<Cow<'a, [u8]>>,
    certificates: Vec<&'a [u8]>,
    signers: Vec<SignerInfo<'a>>,
    signer_count: usize,
}

/// Cheap check of the first bytes: a SEQUENCE (any length form) opening
/// with the signedData OID. Decides "this is CMS" before full parsing, so
/// truncated or broken CMS is still reported, as malformed.
fn looks_like_signed_data(data: &[u8]) -> bool {
    let Some((&SEQUENCE, rest)) = data.split_first() else {
        return false;
    };
    let Some((&first, rest)) = rest.split_first() else {
        return false;
    };
    let skip = if first <= 0x80 {
        0
    } else {
        usize::from(first & 0x7f)
    };
    let oid = OID_SIGNED_DATA.as_bytes();
    let Ok(oid_len) = u8::try_from(oid.len()) else {
        return false;
    };
    rest.get(skip..)
        .and_then(|r| r.strip_prefix(&[OID, oid_len][..]))
        .is_some_and(|r| r.starts_with(oid))
}

fn parse_signed_data(data: &[u8]) -> Option<SignedData<'_>> {
    let (info, _) = read_tlv(data, 0)?;
    if info.tag != SEQUENCE {
        return None;
    }
    let mut info_items = Seq::of(&info, 1);
    if !is_oid(info_items.expect(OID)?.content, &OID_SIGNED_DATA) {
        return None;
    }
    let explicit = info_items.expect(CONTEXT_0)?;
    let signed_data = Seq::of(&explicit, 2).expect(SEQUENCE)?;
    let mut items = Seq::of(&signed_data, 3);
    items.expect(INTEGER)?;
    items.expect(SET)?;

    let encap = items.expect(SEQUENCE)?;
    let mut encap_items = Seq::of(&encap, 4);
    let content_type = encap_items.expect(OID)?.content;
    let content = match encap_items.optional(CONTEXT_0) {
        Some(wrapper) => {
            let inner = Seq::of(&wrapper, 5).read()?;
            if inner.tag & 0x1f == OCTET_STRING {
                Some(octets(&inner, 5)?)
            } else {
                // PKCS#7 v1.5 content of another type: its content octets
                // are what was digested.
                Some(Cow::Borrowed(inner.content))
            }
        }
        None => None,
    };

    let mut certificates = Vec::new();
    if let Some(set) = items.optional(CONTEXT_0) {
        let mut certs = Seq::of(&set, 4);
        while !certs.is_empty() && certificates.len() < MAX_CERTIFICATES {
            let cert = certs.read()?;
            // Other CertificateChoices (attribute certificates) cannot sign.
            if cert.tag == SEQUENCE {
                certificates.push(cert.raw);
            }
        }
    }
    items.optional(CONTEXT_1);

    let infos = items.expect(SET)?;
    let mut signers = Vec::new();
    let mut signer_count = 0;
    let mut infos = Seq::of(&infos, 4);
    while !infos.is_empty() {
        let info = infos.expect(SEQUENCE)?;
        signer_count += 1;
        if signers.len() < MAX_SIGNATURES {
            signers.push(parse_signer_info(&info, 5)?);
        } else {
            break;
        }
    }
    Some(SignedData {
        content_type,
        content,
        certificates,
        signers,
        signer_count,
    })
}

fn parse_signer_info<'a>(info: &Tlv<'a>, depth: usize) -> Option<SignerInfo<'a>> {
    let mut items = Seq::of(info, depth + 1);
    items.expect(INTEGER)?;
    let sid_tlv = items.read()?;
    let sid = match sid_tlv.tag {
        SEQUENCE => {
            let mut parts = Seq::of(&sid_tlv, depth + 2);
            let issuer = parts.expect(SEQUENCE)?.raw;
            let serial = parts.expect(INTEGER)?.content;
            SignerId::IssuerSerial { issuer, serial }
        }
        // [0] IMPLICIT SubjectKeyIdentifier (constructed only in BER)
        0x80 | CONTEXT_0 => SignerId::KeyId(octets(&sid_tlv, depth + 2)?),
        _ => return None,
    };
    let digest_alg = parse_alg(&items.read()?, depth + 1)?;
    let signed_attrs = items.optional(CONTEXT_0);
    let signature_alg = parse_alg(&items.read()?, depth + 1)?;
    let signature_tlv = items.read()?;
    if signature_tlv.tag & 0x1f != OCTET_STRING {
        return None;
    }
    let signature = octets(&signature_tlv, depth + 1)?;
    Some(SignerInfo {
        sid,
        digest_alg,
        signed_attrs,
        signature_alg,
        signature,
    })
}

/// The signed attributes we act on.
#[derive(Default)]
struct Attributes<'a> {
    message_digest: Option<&'a [u8]>,
    content_type: Option<&'a [u8]>,
    signing_time: Option<String>,
    /// An attribute we act on appears twice or with several values: the
    /// signature is ambiguous, so it must not count as verified.
    ambiguous: bool,
}

fn parse_attributes<'a>(attrs: &Tlv<'a>, depth: usize) -> Option<Attributes<'a>> {
    let mut out = Attributes::default();
    let mut items = Seq::of(attrs, depth + 1);
    while !items.is_empty() {
        let attr = items.expect(SEQUENCE)?;
        let mut parts = Seq::of(&attr, depth + 2);
        let oid = parts.expect(OID)?.content;
        let values = parts.expect(SET)?;
        let mut values = Seq::of(&values, depth + 3);
        let first = values.read()?;
        let single = values.is_empty();
        if is_oid(oid, &OID_MESSAGE_DIGEST) {
            out.ambiguous |= !single || out.message_digest.is_some() || first.tag != OCTET_STRING;
            out.message_digest.get_or_insert(first.content);
        } else if is_oid(oid, &OID_CONTENT_TYPE) {
            out.ambiguous |= !single || out.content_type.is_some() || first.tag != OID;
            out.content_type.get_or_insert(first.content);
        } else if is_oid(oid, &OID_SIGNING_TIME) && out.signing_time.is_none() {
            out.signing_time = asn1_time(&first);
        }
    }
    Some(out)
}

/// What one CMS SignedData says, before it is dressed as a [`Signature`].
#[derive(Default)]
struct Report {
    signer: Option<String>,
    certificate_sha256: Option<String>,
    signing_time: Option<String>,
    verified: Option<bool>,
    problems: Vec<String>,
    enveloping: bool,
    /// A certs-only SignedData (.p7b/.p7c bundle): no signature at all.
    no_signers: bool,
    /// Recognised as SignedData but not parseable (truncated, corrupt).
    unparsed: bool,
}

impl Report {
    fn malformed() -> Self {
        let mut report = Report {
            unparsed: true,
            ..Report::default()
        };
        add(&mut report.problems, "malformed");
        report
    }
}

/// Judges a CMS SignedData. `external` is the detached content in parts (a
/// PDF's byte ranges). In a PDF, encapsulated content is an intermediary
/// (the SHA-1 of the ranges for adbe.pkcs7.sha1) that must in turn match
/// the ranges. None when `der` is not SignedData at all.
fn evaluate_cms(der: &[u8], external: Option<&[&[u8]]>, in_pdf: bool) -> Option<Report> {
    if !looks_like_signed_data(der) {
        return None;
    }
    let Some(sd) = parse_signed_data(der) else {
        return Some(Report::malformed());
    };
    let mut report = Report {
        enveloping: sd.content.is_some(),
        ..Report::default()
    };
    if sd.signer_count == 0 {
        report.no_signers = true;
        add(&mut report.problems, "no_signer_info");
        return Some(report);
    }
    let certs: Vec<Cert<'_>> = sd
        .certificates
        .iter()
        .filter_map(|raw| parse_cert(raw))
        .collect();
    let embedded;
    let content: Option<&[&[u8]]> = match &sd.content {
        Some(c) => {
            embedded = [c.as_ref()];
            Some(&embedded)
        }
        None => external,
    };
    if content.is_none() && !in_pdf {
        add(&mut report.problems, "content_missing");
    }

    let mut verified = Some(true);
    for (index, signer) in sd.signers.iter().enumerate() {
        let outcome = evaluate_signer(&sd, signer, &certs, content, &mut report.problems);
        if index == 0 {
            report.signer = outcome.signer;
            report.certificate_sha256 = outcome.certificate_sha256;
            report.signing_time = outcome.signing_time;
        }
        verified = both(verified, outcome.verified);
    }
    if sd.signer_count > 1 {
        add(&mut report.problems, "multiple_signers");
    }

    if in_pdf && let Some(inner) = &sd.content {
        let ranges_ok = match external {
            None => None,
            Some(ranges)
                if is_oid(sd.content_type, &OID_DATA) && inner.len() == Hash::Sha1.output_len() =>
            {
                // adbe.pkcs7.sha1: the signed content is the SHA-1 of the ranges.
                add(&mut report.problems, "weak_digest");
                Some(Hash::Sha1.digest(ranges) == inner.as_ref())
            }
            Some(ranges) => Some(parts_equal(ranges, inner)),
        };
        if ranges_ok == Some(false) {
            add(&mut report.problems, "digest_mismatch");
        }
        verified = both(verified, ranges_ok);
    }
    report.verified = verified;
    Some(report)
}

fn parts_equal(parts: &[&[u8]], whole: &[u8]) -> bool {
    let mut rest = whole;
    for part in parts {
        match (rest.get(..part.len()), rest.get(part.len()..)) {
            (Some(head), Some(tail)) if head == *part => rest = tail,
            _ => return false,
        }
    }
    rest.is_empty()
}

struct SignerOutcome {
    signer: Option<String>,
    certificate_sha256: Option<String>,
    signing_time: Option<String>,
    verified: Option<bool>,
}

fn find_signer_cert<'c, 'a>(certs: &'c [Cert<'a>], sid: &SignerId<'_>) -> Option<&'c Cert<'a>> {
    match sid {
        SignerId::IssuerSerial { issuer, serial } => certs
            .iter()
            .find(|c| c.issuer == *issuer && strip_zeros(c.serial) == strip_zeros(serial)),
        SignerId::KeyId(id) => certs.iter().find(|c| c.subject_key_id == Some(id.as_ref())),
    }
}

fn evaluate_signer(
    sd: &SignedData<'_>,
    si: &SignerInfo<'_>,
    certs: &[Cert<'_>],
    content: Option<&[&[u8]]>,
    problems: &mut Vec<String>,
) -> SignerOutcome {
    let cert = find_signer_cert(certs, &si.sid);
    let mut outcome = SignerOutcome {
        signer: cert.and_then(|c| c.name.clone()),
        certificate_sha256: cert.map(|c| crate::util::sha256_hex(c.raw)),
        signing_time: None,
        verified: None,
    };
    if cert.is_none() {
        add(problems, "no_signer_certificate");
    }
    let hash = Hash::from_oid(si.digest_alg.oid);
    match hash {
        None => add(problems, "unsupported_algorithm"),
        Some(Hash::Sha1) => add(problems, "weak_digest"),
        Some(_) => {}
    }

    // What the signature is over, and whether the content digest matches.
    let (digest_ok, message): (Option<bool>, Option<Cow<'_, [u8]>>) = match &si.signed_attrs {
        Some(attrs_tlv) => {
            let Some(attrs) = parse_attributes(attrs_tlv, 6) else {
                add(problems, "malformed");
                return outcome;
            };
            outcome.signing_time = attrs.signing_time.clone();
            let mut digest_ok = match (content, hash, attrs.message_digest) {
                (Some(parts), Some(hash), Some(expected)) => {
                    let ok = hash.digest(parts) == expected;
                    if !ok {
                        add(problems, "digest_mismatch");
                    }
                    Some(ok)
                }
                (_, _, None) => {
                    // messageDigest is mandatory whenever attributes are signed.
                    add(problems, "malformed");
                    Some(false)
                }
                _ => None,
            };
            if attrs.ambiguous {
                add(problems, "malformed");
                digest_ok = Some(false);
            }
            if attrs.content_type.is_some_and(|ct| ct != sd.content_type) {
                add(problems, "content_type_mismatch");
                digest_ok = Some(false);
            }
            // Signed over the DER SET OF, not the [0] IMPLICIT tag stored.
            let mut der = attrs_tlv.raw.to_vec();
            if let Some(tag) = der.first_mut() {
                *tag = SET;
            }
            (digest_ok, Some(Cow::Owned(der)))
        }
        None => match content {
            Some([single]) => (Some(true), Some(Cow::Borrowed(*single))),
            Some(parts) => (Some(true), Some(Cow::Owned(parts.concat()))),
            None => (None, None),
        },
    };

    let signature_ok = match (cert, message) {
        (Some(cert), Some(message)) => {
            let ok = check_signature(
                cert.spki,
                &si.signature_alg,
                hash,
                &message,
                &si.signature,
                problems,
            );
            if ok == Some(false) {
                add(problems, "bad_signature");
            }
            ok
        }
        _ => None,
    };
    outcome.verified = both(digest_ok, signature_ok);
    outcome
}

// ---------------------------------------------------------------- signature check

enum Scheme {
    RsaPkcs1(Hash),
    RsaPss(Hash),
    Ecdsa(Hash),
}

/// The signature scheme from signatureAlgorithm; bare key OIDs
/// (rsaEncryption, id-ecPublicKey) take the hash from digestAlgorithm.
fn scheme(alg: &AlgId<'_>, digest_hash: Option<Hash>) -> Option<Scheme> {
    let oid = alg.oid;
    if is_oid(oid, &OID_RSA_ENCRYPTION) {
        digest_hash.map(Scheme::RsaPkcs1)
    } else if is_oid(oid, &OID_SHA1_WITH_RSA) {
        Some(Scheme::RsaPkcs1(Hash::Sha1))
    } else if is_oid(oid, &OID_SHA256_WITH_RSA) {
        Some(Scheme::RsaPkcs1(Hash::Sha256))
    } else if is_oid(oid, &OID_SHA384_WITH_RSA) {
        Some(Scheme::RsaPkcs1(Hash::Sha384))
    } else if is_oid(oid, &OID_SHA512_WITH_RSA) {
        Some(Scheme::RsaPkcs1(Hash::Sha512))
    } else if is_oid(oid, &OID_RSASSA_PSS) {
        pss_hash(alg.params.as_ref()).map(Scheme::RsaPss)
    } else if is_oid(oid, &OID_EC_PUBLIC_KEY) {
        digest_hash.map(Scheme::Ecdsa)
    } else if is_oid(oid, &OID_ECDSA_WITH_SHA1) {
        Some(Scheme::Ecdsa(Hash::Sha1))
    } else if is_oid(oid, &OID_ECDSA_WITH_SHA256) {
        Some(Scheme::Ecdsa(Hash::Sha256))
    } else if is_oid(oid, &OID_ECDSA_WITH_SHA384) {
        Some(Scheme::Ecdsa(Hash::Sha384))
    } else if is_oid(oid, &OID_ECDSA_WITH_SHA512) {
        Some(Scheme::Ecdsa(Hash::Sha512))
    } else {
        None
    }
}

/// RSASSA-PSS parameters ring can verify: one SHA-2 hash for message and
/// MGF1, salt as long as the hash, standard trailer.
fn pss_hash(params: Option<&Tlv<'_>>) -> Option<Hash> {
    let params = params.filter(|p| p.tag == SEQUENCE)?;
    let (mut hash, mut mgf_hash, mut salt) = (Hash::Sha1, Hash::Sha1, 20);
    let mut items = Seq::of(params, 1);
    while !items.is_empty() {
        let item = items.read()?;
        let (inner, _) = read_tlv(item.content, 2)?;
        match item.tag {
            CONTEXT_0 => hash = Hash::from_oid(parse_alg(&inner, 2)?.oid)?,
            CONTEXT_1 => {
                let mgf = parse_alg(&inner, 2)?;
                if !is_oid(mgf.oid, &OID_MGF1) {
                    return None;
                }
                mgf_hash = Hash::from_oid(parse_alg(mgf.params.as_ref()?, 3)?.oid)?;
            }
            0xA2 => salt = small_uint(&inner)?,
            0xA3 if small_uint(&inner)? == 1 => {}
            _ => return None,
        }
    }
    (hash != Hash::Sha1 && mgf_hash == hash && salt == hash.output_len()).then_some(hash)
}

enum PublicKey<'a> {
    /// RSAPublicKey DER and modulus size in bits.
    Rsa(&'a [u8], usize),
    /// Uncompressed point, and whether the curve is P-384 (else P-256).
    Ec(&'a [u8], bool),
}

fn public_key(spki: &[u8]) -> Option<PublicKey<'_>> {
    let (spki, _) = read_tlv(spki, 0)?;
    let mut items = Seq::of(&spki, 1);
    let alg = parse_alg(&items.read()?, 1)?;
    let bits = items.expect(BIT_STRING)?;
    let (&0, key) = bits.content.split_first()? else {
        return None;
    };
    if is_oid(alg.oid, &OID_RSA_ENCRYPTION) || is_oid(alg.oid, &OID_RSASSA_PSS) {
        let (rsa, _) = read_tlv(key, 1)?;
        let modulus = strip_zeros(Seq::of(&rsa, 2).expect(INTEGER)?.content);
        let top = u32::from(*modulus.first()?);
        let bits = (modulus.len() - 1) * 8 + (32 - top.leading_zeros()) as usize;
        Some(PublicKey::Rsa(key, bits))
    } else if is_oid(alg.oid, &OID_EC_PUBLIC_KEY) {
        let curve = alg.params.filter(|p| p.tag == OID)?.content;
        if is_oid(curve, &OID_P256) {
            Some(PublicKey::Ec(key, false))
        } else if is_oid(curve, &OID_P384) {
            Some(PublicKey::Ec(key, true))
        } else {
            None
        }
    } else {
        None
    }
}

/// Some(result) when checked, None (with a problem noted) when the
/// algorithm or key is one we cannot check.
fn check_signature(
    spki: &[u8],
    alg: &AlgId<'_>,
    digest_hash: Option<Hash>,
    message: &[u8],
    signature: &[u8],
    problems: &mut Vec<String>,
) -> Option<bool> {
    let unsupported = |problems: &mut Vec<String>| {
        add(problems, "unsupported_algorithm");
        None
    };
    let Some(scheme) = scheme(alg, digest_hash) else {
        return unsupported(problems);
    };
    let Some(key) = public_key(spki) else {
        return unsupported(problems);
    };
    if matches!(
        scheme,
        Scheme::RsaPkcs1(Hash::Sha1) | Scheme::Ecdsa(Hash::Sha1)
    ) {
        add(problems, "weak_digest");
    }
    let (algorithm, key_bytes): (&'static dyn VerificationAlgorithm, &[u8]) = match (&scheme, &key)
    {
        (Scheme::RsaPkcs1(_) | Scheme::RsaPss(_), PublicKey::Rsa(der, bits)) => {
            if *bits < 1024 {
                add(problems, "weak_key");
                return unsupported(problems);
            }
            if *bits > 8192 {
                return unsupported(problems);
            }
            let strong = *bits >= 2048;
            if !strong {
                add(problems, "weak_key");
            }
            let algorithm: &'static dyn VerificationAlgorithm = match scheme {
                Scheme::RsaPkcs1(Hash::Sha1) => {
                    &ring_sig::RSA_PKCS1_1024_8192_SHA1_FOR_LEGACY_USE_ONLY
                }
                Scheme::RsaPkcs1(Hash::Sha256) => {
                    &ring_sig::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY
                }
                Scheme::RsaPkcs1(Hash::Sha384) if strong => &ring_sig::RSA_PKCS1_2048_8192_SHA384,
                Scheme::RsaPkcs1(Hash::Sha512) => {
                    &ring_sig::RSA_PKCS1_1024_8192_SHA512_FOR_LEGACY_USE_ONLY
                }
                Scheme::RsaPss(Hash::Sha256) if strong => &ring_sig::RSA_PSS_2048_8192_SHA256,
                Scheme::RsaPss(Hash::Sha384) if strong => &ring_sig::RSA_PSS_2048_8192_SHA384,
                Scheme::RsaPss(Hash::Sha512) if strong => &ring_sig::RSA_PSS_2048_8192_SHA512,
                _ => return unsupported(problems),
            };
            (algorithm, der)
        }
        (Scheme::Ecdsa(hash), PublicKey::Ec(point, p384)) => {
            if point.first() != Some(&0x04) {
                // Compressed points: ring takes only uncompressed ones.
                return unsupported(problems);
            }
            let algorithm: &'static dyn VerificationAlgorithm = match (hash, p384) {
                (Hash::Sha256, false) => &ring_sig::ECDSA_P256_SHA256_ASN1,
                (Hash::Sha384, false) => &ring_sig::ECDSA_P256_SHA384_ASN1,
                (Hash::Sha256, true) => &ring_sig::ECDSA_P384_SHA256_ASN1,
                (Hash::Sha384, true) => &ring_sig::ECDSA_P384_SHA384_ASN1,
                _ => return unsupported(problems),
            };
            (algorithm, point)
        }
        // An RSA signature claimed for an EC key or the reverse cannot verify.
        _ => return Some(false),
    };
    Some(
        UnparsedPublicKey::new(algorithm, key_bytes)
            .verify(message, signature)
            .is_ok(),
    )
}

// ---------------------------------------------------------------- CMS entry point

/// A CMS SignedData (DER, or PEM with label PKCS7/CMS); `detached_content` is the signed file for a .p7s. None when `data` is not SignedData.
///
/// A certs-only SignedData (a .p7b certificate bundle) is not a signature
/// and also gives None. Signer, certificate and time are those of the
/// first SignerInfo; `verified` needs every SignerInfo to verify.
pub fn cms_signature(data: &[u8], detached_content: Option<&[u8]>) -> Option<Signature> {
    let pem;
    let der: &[u8] = if looks_like_signed_data(data) {
        data
    } else {
        pem = pem_body(data)?;
        &pem
    };
    let parts = detached_content.map(|c| [c]);
    let report = evaluate_cms(der, parts.as_ref().map(|p| &p[..]), false)?;
    if report.no_signers {
        return None;
    }
    // Unparseable CMS does not say whether content is inside; the caller
    // offering content suggests detached.
    let enveloping = report.enveloping || (report.unparsed && detached_content.is_none());
    let format = if enveloping {
        SignatureFormat::CmsEnveloping
    } else {
        SignatureFormat::CmsDetached
    };
    Some(Signature {
        format,
        signer: report.signer,
        signer_certificate_sha256: report.certificate_sha256,
        signing_time: report.signing_time,
        covers_whole_file: None,
        verified: report.verified,
        problems: report.problems,
    })
}

/// The lenient base64 PEM bodies and XML need: padding optional.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// Base64 text with whitespace, line breaks and XML character references
/// (`&#13;` from Java signers) ignored.
fn base64_lenient(text: &[u8]) -> Option<Vec<u8>> {
    let mut clean = Vec::with_capacity(text.len());
    let mut in_reference = false;
    for &b in text {
        match b {
            b'&' => in_reference = true,
            b';' if in_reference => in_reference = false,
            _ if in_reference => {}
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'+' | b'/' => clean.push(b),
            _ => {}
        }
    }
    if clean.is_empty() {
        return None;
    }
    BASE64.decode(&clean).ok()
}

/// The DER inside the first PKCS7/CMS PEM block, if it is SignedData.
fn pem_body(data: &[u8]) -> Option<Vec<u8>> {
    for label in ["PKCS7", "CMS", "PKCS #7 SIGNED DATA"] {
        let begin = format!("-----BEGIN {label}-----");
        let Some(start) = find(data, begin.as_bytes(), 0) else {
            continue;
        };
        let body_start = start + begin.len();
        let end = format!("-----END {label}-----");
        let body_end = find(data, end.as_bytes(), body_start)?;
        let der = base64_lenient(data.get(body_start..body_end)?)?;
        return looks_like_signed_data(&der).then_some(der);
    }
    None
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() {
        return None;
    }
    haystack
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|i| i + from)
}

fn rfind(haystack: &[u8], needle: &[u8], from: usize, to: usize) -> Option<usize> {
    if needle.is_empty() {
        return None;
    }
    haystack
        .get(from..to)?
        .windows(needle.len())
        .rposition(|w| w == needle)
        .map(|i| i + from)
}

// ---------------------------------------------------------------- PDF

#[derive(Debug, Clone, Copy, PartialEq)]
enum Tok<'a> {
    DictOpen,
    DictClose,
    ArrayOpen,
    ArrayClose,
    Name(&'a [u8]),
    Int(i64),
    Real,
    /// Literal string: offsets of `(` and just past `)`.
    Literal(usize, usize),
    /// Hex string: offsets of `<` and just past `>`.
    Hex(usize, usize),
    Keyword(&'a [u8]),
}

fn is_pdf_space(b: u8) -> bool {
    matches!(b, 0 | 9 | 10 | 12 | 13 | 32)
}

fn is_pdf_delimiter(b: u8) -> bool {
    matches!(
        b,
        b'(' | b')' | b'<' | b'>' | b'[' | b']' | b'{' | b'}' | b'/' | b'%'
    )
}

/// End of a run of regular (non-space, non-delimiter) characters.
fn regular_end(data: &[u8], from: usize) -> usize {
    let mut end = from;
    while data
        .get(end)
        .is_some_and(|&c| !is_pdf_space(c) && !is_pdf_delimiter(c))
    {
        end += 1;
    }
    end
}

/// A PDF tokenizer over the raw file, on a token budget.
struct Lexer<'a> {
    data: &'a [u8],
    pos: usize,
    budget: usize,
}

impl<'a> Lexer<'a> {
    fn byte(&self, at: usize) -> Option<u8> {
        self.data.get(at).copied()
    }

    fn skip_space(&mut self) -> Option<()> {
        loop {
            let b = self.byte(self.pos)?;
            if is_pdf_space(b) {
                self.pos += 1;
            } else if b == b'%' {
                while self
                    .byte(self.pos)
                    .is_some_and(|c| c != b'\n' && c != b'\r')
                {
                    self.pos += 1;
                }
            } else {
                return Some(());
            }
        }
    }

    fn token(&mut self) -> Option<Tok<'a>> {
        self.budget = self.budget.checked_sub(1)?;
        self.skip_space()?;
        let start = self.pos;
        let b = self.byte(start)?;
        let tok = match b {
            b'<' if self.byte(start + 1) == Some(b'<') => {
                self.pos = start + 2;
                Tok::DictOpen
            }
            b'<' => {
                let mut end = start + 1;
                loop {
                    match self.byte(end) {
                        Some(b'>') => break,
                        Some(c) if c.is_ascii_hexdigit() || is_pdf_space(c) => end += 1,
                        _ => {
                            self.pos = end;
                            return None;
                        }
                    }
                }
                self.pos = end + 1;
                Tok::Hex(start, end + 1)
            }
            b'>' if self.byte(start + 1) == Some(b'>') => {
                self.pos = start + 2;
                Tok::DictClose
            }
            b'[' => {
                self.pos = start + 1;
                Tok::ArrayOpen
            }
            b']' => {
                self.pos = start + 1;
                Tok::ArrayClose
            }
            b'(' => {
                let mut depth = 0usize;
                let mut at = start;
                loop {
                    let Some(c) = self.byte(at) else {
                        self.pos = at;
                        return None;
                    };
                    match c {
                        b'\\' => at += 1,
                        b'(' => depth += 1,
                        b')' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                    at += 1;
                }
                self.pos = at + 1;
                Tok::Literal(start, at + 1)
            }
            b'/' => {
                let end = regular_end(self.data, start + 1);
                self.pos = end;
                Tok::Name(self.data.get(start + 1..end)?)
            }
            b'{' | b'}' => {
                self.pos = start + 1;
                Tok::Keyword(self.data.get(start..start + 1)?)
            }
            _ if is_pdf_delimiter(b) => return None,
            _ => {
                let end = regular_end(self.data, start);
                self.pos = end;
                let word = self.data.get(start..end)?;
                let numeric = word
                    .iter()
                    .all(|c| c.is_ascii_digit() || matches!(c, b'+' | b'-' | b'.'));
                if numeric {
                    match std::str::from_utf8(word).ok().and_then(|s| s.parse().ok()) {
                        Some(n) => Tok::Int(n),
                        None => Tok::Real,
                    }
                } else {
                    Tok::Keyword(word)
                }
            }
        };
        Some(tok)
    }
}

#[derive(Debug)]
enum Obj<'a> {
    Name(&'a [u8]),
    Int(i64),
    Literal(usize, usize),
    Hex(usize, usize),
    Array(Vec<Obj<'a>>),
    Dict(Vec<(&'a [u8], Obj<'a>)>),
    Other,
}

enum Parsed<'a> {
    Obj(Obj<'a>),
    DictEnd,
    ArrayEnd,
}

/// Parses the object starting with `tok`. References (`5 0 R`) come out as
/// stray integers and keywords, which dictionaries skip: we never follow
/// them.
fn parse_object<'a>(lex: &mut Lexer<'a>, tok: Tok<'a>, depth: usize) -> Option<Parsed<'a>> {
    let obj = match tok {
        Tok::DictClose => return Some(Parsed::DictEnd),
        Tok::ArrayClose => return Some(Parsed::ArrayEnd),
        Tok::DictOpen => {
            if depth > PDF_MAX_DEPTH {
                return None;
            }
            let mut entries = Vec::new();
            loop {
                match lex.token()? {
                    Tok::DictClose => break,
                    Tok::Name(key) => {
                        let value = lex.token()?;
                        match parse_object(lex, value, depth + 1)? {
                            Parsed::Obj(value) => entries.push((key, value)),
                            Parsed::DictEnd => break,
                            Parsed::ArrayEnd => return None,
                        }
                    }
                    other => match parse_object(lex, other, depth + 1)? {
                        Parsed::Obj(_) => {}
                        Parsed::DictEnd => break,
                        Parsed::ArrayEnd => return None,
                    },
                }
            }
            Obj::Dict(entries)
        }
        Tok::ArrayOpen => {
            if depth > PDF_MAX_DEPTH {
                return None;
            }
            let mut items = Vec::new();
            loop {
                let next = lex.token()?;
                match parse_object(lex, next, depth + 1)? {
                    Parsed::Obj(item) => items.push(item),
                    Parsed::ArrayEnd => break,
                    Parsed::DictEnd => return None,
                }
            }
            Obj::Array(items)
        }
        Tok::Name(name) => Obj::Name(name),
        Tok::Int(n) => Obj::Int(n),
        Tok::Literal(start, end) => Obj::Literal(start, end),
        Tok::Hex(start, end) => Obj::Hex(start, end),
        Tok::Real | Tok::Keyword(_) => Obj::Other,
    };
    Some(Parsed::Obj(obj))
}

type Dict<'a> = Vec<(&'a [u8], Obj<'a>)>;

fn lookup<'d, 'a>(dict: &'d Dict<'a>, key: &[u8]) -> Option<&'d Obj<'a>> {
    dict.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
}

/// The dictionary holding the `/ByteRange` at `at`, if it is a signature
/// dictionary. Its start is found by trying the nearest `<<` before it,
/// then earlier ones (nested dictionaries such as /Prop_Build come first).
/// Every byte lexed is charged to `budget`, which bounds the work for the
/// whole file however many candidates hostile input offers.
fn signature_dict_around<'a>(data: &'a [u8], at: usize, budget: &mut usize) -> Option<Dict<'a>> {
    let low = at.saturating_sub(DICT_SEARCH_WINDOW);
    let mut high = at;
    for _ in 0..DICT_START_TRIES {
        let start = rfind(data, b"<<", low, high)?;
        high = start + 1;
        let limit = data
            .len()
            .min(start.saturating_add(MAX_DICT_BYTES))
            .min(start.saturating_add(*budget));
        let mut lex = Lexer {
            data: data.get(..limit)?,
            pos: start,
            budget: PDF_TOKEN_BUDGET,
        };
        let parsed = match lex.token() {
            Some(Tok::DictOpen) => parse_object(&mut lex, Tok::DictOpen, 0),
            _ => None,
        };
        *budget = budget.saturating_sub(lex.pos.saturating_sub(start));
        let dict = match parsed {
            Some(Parsed::Obj(Obj::Dict(dict))) if lex.pos > at => dict,
            // Ends before our /ByteRange: a nested dictionary, try further back.
            Some(_) if lex.pos <= at => continue,
            None if lex.pos <= at && *budget > 0 => continue,
            // The innermost candidate around /ByteRange is broken: give up.
            _ => return None,
        };
        let is_signature = match lookup(&dict, b"Type") {
            Some(Obj::Name(t)) => *t == b"Sig",
            Some(_) => false,
            // /Type is optional in signature dictionaries.
            None => true,
        };
        // Document timestamps (/Type /DocTimeStamp, or untyped with this
        // SubFilter) are a TSA's, not a signer's: not reported.
        let timestamp = matches!(
            lookup(&dict, b"SubFilter"),
            Some(Obj::Name(b"ETSI.RFC3161"))
        );
        let complete =
            lookup(&dict, b"ByteRange").is_some() && lookup(&dict, b"Contents").is_some();
        return (is_signature && !timestamp && complete).then_some(dict);
    }
    None
}

/// A literal string's bytes with escapes resolved.
fn unescape_literal(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while let Some(&b) = raw.get(i) {
        i += 1;
        if b != b'\\' {
            out.push(b);
            continue;
        }
        let Some(&e) = raw.get(i) else {
            break;
        };
        i += 1;
        match e {
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'b' => out.push(8),
            b'f' => out.push(12),
            b'0'..=b'7' => {
                let mut value = u32::from(e - b'0');
                for _ in 0..2 {
                    match raw.get(i) {
                        Some(&d @ b'0'..=b'7') => {
                            value = value * 8 + u32::from(d - b'0');
                            i += 1;
                        }
                        _ => break,
                    }
                }
                out.push((value & 0xff) as u8);
            }
            // Line continuation.
            b'\r' => {
                if raw.get(i) == Some(&b'\n') {
                    i += 1;
                }
            }
            b'\n' => {}
            other => out.push(other),
        }
    }
    out
}

fn hex_lenient(raw: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(raw.len() / 2);
    let mut high: Option<u8> = None;
    for &b in raw {
        if is_pdf_space(b) {
            continue;
        }
        let nibble = u8::try_from(char::from(b).to_digit(16)?).ok()?;
        match high.take() {
            Some(h) => out.push((h << 4) | nibble),
            None => high = Some(nibble),
        }
    }
    if let Some(h) = high {
        // An odd final digit is followed by an implied 0.
        out.push(h << 4);
    }
    Some(out)
}

/// A PDF text string's bytes (UTF-16 when it has a byte-order mark).
fn pdf_string(data: &[u8], obj: &Obj<'_>) -> Option<String> {
    let bytes = match *obj {
        Obj::Literal(start, end) => unescape_literal(data.get(start + 1..end.checked_sub(1)?)?),
        Obj::Hex(start, end) => hex_lenient(data.get(start + 1..end.checked_sub(1)?)?)?,
        _ => return None,
    };
    if let Some(utf16) = bytes.strip_prefix(&[0xfe, 0xff]) {
        let units: Vec<u16> = utf16
            .chunks_exact(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect();
        return String::from_utf16(&units).ok();
    }
    Some(bytes.iter().map(|&b| char::from(b)).collect())
}

/// A PDF date `D:YYYYMMDDHHmmSSOHH'mm'` (all but the year optional) as
/// RFC 3339 in UTC. No zone means UTC: the spec leaves it unknown.
fn pdf_date(text: &str) -> Option<String> {
    let s = text.trim();
    let s = s.strip_prefix("D:").unwrap_or(s).as_bytes();
    let year = i32::try_from(digits(s, 0, 4)?).ok()?;
    let mut fields = [1u32, 1, 0, 0, 0];
    let mut pos = 4;
    for field in &mut fields {
        match digits(s, pos, 2) {
            Some(value) => {
                *field = value;
                pos += 2;
            }
            None => break,
        }
    }
    let offset = match s.get(pos) {
        Some(&sign @ (b'+' | b'-')) => {
            let hours = digits(s, pos + 1, 2)?;
            let mut at = pos + 3;
            if s.get(at) == Some(&b'\'') {
                at += 1;
            }
            let minutes = digits(s, at, 2).unwrap_or(0);
            let seconds = i32::try_from(hours * 3600 + minutes * 60).ok()?;
            if sign == b'-' { -seconds } else { seconds }
        }
        _ => 0,
    };
    let [month, day, hour, minute, second] = fields;
    utc_rfc3339((year, month, day), (hour, minute, second), offset)
}

fn is_pdf(data: &[u8]) -> bool {
    // Readers accept the header anywhere in the first kilobyte.
    let head = data.get(..1024).unwrap_or(data);
    find(head, b"%PDF-", 0).is_some()
}

/// Every signature in a PDF (each /Type /Sig dictionary with /ByteRange and /Contents); empty when unsigned or not a PDF.
///
/// Signature dictionaries are found by their `/ByteRange` in the raw file
/// (they may not live in object streams, since /Contents must be
/// patchable). Document timestamps (/Type /DocTimeStamp) are not
/// signatures of a person and are left out.
pub fn pdf_signatures(data: &[u8]) -> Vec<Signature> {
    let mut out = Vec::new();
    if !is_pdf(data) {
        return out;
    }
    // Lexing budget for the whole file: a few passes over it at most.
    let mut budget = data.len().saturating_mul(2).saturating_add(MAX_DICT_BYTES);
    let mut seen: Vec<(Vec<(usize, usize)>, usize)> = Vec::new();
    let mut from = 0;
    for _ in 0..MAX_BYTE_RANGE_HITS {
        if out.len() >= MAX_SIGNATURES || budget == 0 {
            break;
        }
        let Some(at) = find(data, b"/ByteRange", from) else {
            break;
        };
        from = at + 1;
        let Some(dict) = signature_dict_around(data, at, &mut budget) else {
            continue;
        };
        if let Some(signature) = pdf_signature(data, &dict, &mut seen) {
            out.push(signature);
        }
    }
    out
}

/// The (offset, length) pairs of a /ByteRange, if sane and inside the file.
fn byte_ranges(obj: &Obj<'_>, file_len: usize) -> Option<Vec<(usize, usize)>> {
    let Obj::Array(items) = obj else {
        return None;
    };
    if items.is_empty() || items.len() % 2 != 0 || items.len() > 16 {
        return None;
    }
    let numbers: Vec<usize> = items
        .iter()
        .map(|item| match item {
            Obj::Int(n) => usize::try_from(*n).ok(),
            _ => None,
        })
        .collect::<Option<_>>()?;
    let ranges: Vec<(usize, usize)> = numbers.chunks_exact(2).map(|p| (p[0], p[1])).collect();
    ranges
        .iter()
        .all(|&(offset, len)| offset.checked_add(len).is_some_and(|end| end <= file_len))
        .then_some(ranges)
}

fn pdf_signature(
    data: &[u8],
    dict: &Dict<'_>,
    seen: &mut Vec<(Vec<(usize, usize)>, usize)>,
) -> Option<Signature> {
    let mut signature = Signature::new(SignatureFormat::Pades);
    let hole = match lookup(dict, b"Contents")? {
        Obj::Hex(start, end) => Some((*start, *end)),
        _ => None,
    };
    let ranges = byte_ranges(lookup(dict, b"ByteRange")?, data.len());

    // The same dictionary is found again when /ByteRange text repeats.
    let key = (ranges.clone().unwrap_or_default(), hole.map_or(0, |h| h.0));
    if seen.contains(&key) {
        return None;
    }
    seen.push(key);

    let pdf_time = lookup(dict, b"M")
        .and_then(|m| pdf_string(data, m))
        .and_then(|m| pdf_date(&m));
    signature.signing_time = pdf_time.clone();

    let Some((hole_start, hole_end)) = hole else {
        signature.covers_whole_file = Some(false);
        add(&mut signature.problems, "malformed");
        return Some(signature);
    };
    match &ranges {
        Some(ranges) => {
            let covers = ranges.len() == 2
                && ranges[0] == (0, hole_start)
                && ranges[1] == (hole_end, data.len() - hole_end);
            signature.covers_whole_file = Some(covers);
            if !covers {
                add(&mut signature.problems, "byte_range_partial");
            }
        }
        None => {
            signature.covers_whole_file = Some(false);
            add(&mut signature.problems, "byte_range_invalid");
        }
    }

    let der = data
        .get(hole_start + 1..hole_end.saturating_sub(1))
        .and_then(hex_lenient);
    let Some(der) = der else {
        add(&mut signature.problems, "malformed");
        return Some(signature);
    };
    if der.iter().all(|&b| b == 0) {
        // A prepared field whose signature was never filled in: unsigned.
        return None;
    }
    let parts: Option<Vec<&[u8]>> = ranges.as_ref().map(|ranges| {
        ranges
            .iter()
            .filter_map(|&(offset, len)| data.get(offset..offset + len))
            .collect()
    });
    let Some(report) = evaluate_cms(&der, parts.as_deref(), true) else {
        add(&mut signature.problems, "malformed");
        return Some(signature);
    };
    signature.signer = report.signer;
    signature.signer_certificate_sha256 = report.certificate_sha256;
    signature.signing_time = report.signing_time.or(pdf_time);
    signature.verified = if ranges.is_some() {
        report.verified
    } else {
        // Only a definite failure is worth reporting without the ranges.
        report.verified.filter(|v| !v)
    };
    for problem in &report.problems {
        add(&mut signature.problems, problem);
    }
    Some(signature)
}

// ---------------------------------------------------------------- ASiC-E

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

enum EntryError {
    Missing,
    TooLarge,
    Broken,
}

/// An open ASiC-E container. Every entry read from it is charged to one
/// inflate budget, so a zip bomb cannot make us decompress without end.
struct Container<'d> {
    zip: zip::ZipArchive<Cursor<&'d [u8]>>,
    names: Vec<String>,
    budget: u64,
    /// Data-object digests already computed: the manifests of several
    /// signatures name the same files.
    digests: Vec<(String, Hash, Vec<u8>)>,
}

impl Container<'_> {
    /// An entry's bytes, refusing more than `cap` or the budget left.
    fn read(&mut self, name: &str, cap: u64) -> Result<Vec<u8>, EntryError> {
        let limit = cap.min(self.budget);
        let file = self.zip.by_name(name).map_err(|_| EntryError::Missing)?;
        let mut out = Vec::new();
        let result = file.take(limit + 1).read_to_end(&mut out);
        self.budget = self.budget.saturating_sub(out.len() as u64);
        result.map_err(|_| EntryError::Broken)?;
        if out.len() as u64 > limit {
            return Err(EntryError::TooLarge);
        }
        Ok(out)
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
        let value = hash.digest(&[bytes.as_slice()]);
        self.digests.push((entry.to_owned(), hash, value.clone()));
        Ok(value)
    }
}

/// ASiC-E (a zip whose first entry "mimetype" says application/vnd.etsi.asic-e+zip, with META-INF/*signatures*.xml (XAdES) or META-INF/*.p7s (CAdES)); None when not ASiC-E. For XAdES report the signer from the ds:X509Certificate and the SigningTime, verified = None. For CAdES inside ASiC verify like a detached CMS over the signed data objects when that is straightforward (ASiCManifest), else None.
///
/// A container the zip reader refuses, but whose stored mimetype says
/// ASiC-E, gives one signature with problem "malformed".
pub fn asice_signatures(data: &[u8]) -> Option<Vec<Signature>> {
    if !starts_with_mimetype_entry(data) {
        return None;
    }
    let zip = match zip::ZipArchive::new(Cursor::new(data)) {
        Ok(zip) => zip,
        Err(_) if raw_mimetype_is_asice(data) => {
            return Some(vec![Signature::malformed(SignatureFormat::AsicE)]);
        }
        Err(_) => return None,
    };
    let names = zip
        .file_names()
        .take(MAX_ZIP_ENTRIES)
        .map(str::to_owned)
        .collect();
    let mut container = Container {
        zip,
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

    let mut out = Vec::new();
    for name in &xades_files {
        let room = MAX_SIGNATURES.saturating_sub(out.len());
        if room == 0 {
            break;
        }
        match container.read(name, MAX_META_FILE) {
            Ok(xml) => out.extend(xades_signatures(&String::from_utf8_lossy(&xml), room)),
            Err(EntryError::TooLarge) => {
                let mut sig = Signature::new(SignatureFormat::AsicE);
                add(&mut sig.problems, "too_large");
                out.push(sig);
            }
            Err(_) => out.push(Signature::malformed(SignatureFormat::AsicE)),
        }
    }
    // Each manifest, with the signature file its SigReference names.
    let mut manifests: Vec<(Option<String>, Vec<u8>)> = Vec::new();
    for name in &manifest_files {
        let Ok(bytes) = container.read(name, MAX_META_FILE) else {
            continue;
        };
        let text = String::from_utf8_lossy(&bytes);
        let signature = elements(&text, "SigReference", 1)
            .first()
            .and_then(|r| attribute(r.start_tag, "URI"))
            .and_then(|uri| container.entry_for_uri(uri));
        manifests.push((signature, bytes));
    }
    for name in &cades_files {
        if out.len() >= MAX_SIGNATURES {
            break;
        }
        let manifest = manifests
            .iter()
            .find(|(signature, _)| signature.as_deref() == Some(name.as_str()))
            .map(|(_, bytes)| bytes.as_slice());
        out.push(asic_cades(&mut container, name, manifest));
    }
    Some(out)
}

/// One element found by local name (namespace prefix ignored).
struct Element<'a> {
    start_tag: &'a str,
    content: &'a str,
}

/// Top-level elements with local name `local`, at most `limit`. An element
/// nested in a same-named one (a XAdES counter-signature) is part of its
/// parent's content, not returned on its own.
fn elements<'a>(xml: &'a str, local: &str, limit: usize) -> Vec<Element<'a>> {
    let mut out = Vec::new();
    let bytes = xml.as_bytes();
    let mut cursor = 0;
    while out.len() < limit {
        let Some(open) = xml
            .get(cursor..)
            .and_then(|s| s.find('<'))
            .map(|i| i + cursor)
        else {
            break;
        };
        cursor = open + 1;
        let name_end = (open + 1..bytes.len())
            .find(|&i| matches!(bytes[i], b' ' | b'\t' | b'\r' | b'\n' | b'>' | b'/' | b'<'))
            .unwrap_or(bytes.len());
        let Some(qname) = xml.get(open + 1..name_end) else {
            continue;
        };
        if qname.rsplit(':').next() != Some(local) {
            continue;
        }
        let Some(tag_end) = xml
            .get(name_end..)
            .and_then(|s| s.find('>'))
            .map(|i| i + name_end)
        else {
            break;
        };
        let Some(start_tag) = xml.get(open..=tag_end) else {
            break;
        };
        if start_tag.ends_with("/>") {
            out.push(Element {
                start_tag,
                content: "",
            });
            cursor = tag_end + 1;
            continue;
        }
        let content_start = tag_end + 1;
        let Some(content_end) = matching_close(xml, qname, content_start) else {
            break;
        };
        out.push(Element {
            start_tag,
            content: xml.get(content_start..content_end).unwrap_or_default(),
        });
        cursor = content_end;
    }
    out
}

/// Offset of the `</qname>` closing the element whose content starts at
/// `from`, counting nested same-named elements.
fn matching_close(xml: &str, qname: &str, from: usize) -> Option<usize> {
    let bytes = xml.as_bytes();
    let ends_name = |at: usize| {
        bytes
            .get(at)
            .is_none_or(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b'>' | b'/'))
    };
    let mut depth = 1usize;
    let mut cursor = from;
    loop {
        let at = xml.get(cursor..)?.find('<')? + cursor;
        let rest = xml.get(at + 1..)?;
        if let Some(after) = rest.strip_prefix('/') {
            if after.starts_with(qname) && ends_name(at + 2 + qname.len()) {
                depth -= 1;
                if depth == 0 {
                    return Some(at);
                }
            }
        } else if rest.starts_with(qname) && ends_name(at + 1 + qname.len()) {
            let tag_end = xml.get(at..)?.find('>')? + at;
            if !xml.get(at..=tag_end)?.ends_with("/>") {
                depth += 1;
            }
            // Past the whole tag, so no byte is scanned twice.
            cursor = tag_end + 1;
            continue;
        }
        cursor = at + 1;
    }
}

/// An attribute's value in a start tag.
fn attribute<'a>(start_tag: &'a str, name: &str) -> Option<&'a str> {
    let mut search = 0;
    loop {
        let at = start_tag.get(search..)?.find(name)? + search;
        search = at + 1;
        let preceded = start_tag
            .as_bytes()
            .get(at.checked_sub(1)?)
            .is_some_and(u8::is_ascii_whitespace);
        let after = start_tag.get(at + name.len()..)?.trim_start();
        let Some(after) = after.strip_prefix('=') else {
            continue;
        };
        if !preceded {
            continue;
        }
        let after = after.trim_start();
        let quote = after.chars().next().filter(|c| *c == '"' || *c == '\'')?;
        let value = after.get(1..)?;
        return value.find(quote).and_then(|end| value.get(..end));
    }
}

/// xsd:dateTime as RFC 3339 in UTC; no zone means UTC.
fn xml_date(text: &str) -> Option<String> {
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
            let hash = Hash::from_uri(attribute(method.first()?.start_tag, "Algorithm")?)?;
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
                None => add(&mut signature.problems, "malformed"),
            }
        }
        None => add(&mut signature.problems, "no_signer_certificate"),
    }
    signature.signing_time = elements(body, "SigningTime", 1)
        .first()
        .and_then(|e| xml_date(e.content));
    signature
}

/// Minimal %XX decoding for manifest URIs.
fn percent_decode(uri: &str) -> String {
    let bytes = uri.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let escaped = (b == b'%')
            .then(|| bytes.get(i + 1..i + 3))
            .flatten()
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match escaped {
            Some(v) => {
                out.push(v);
                i += 3;
            }
            None => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A CAdES signature in ASiC-E: it signs an ASiCManifest, which in turn
/// lists digests of the data objects.
fn asic_cades(container: &mut Container<'_>, p7s_name: &str, manifest: Option<&[u8]>) -> Signature {
    let p7s = match container.read(p7s_name, MAX_META_FILE) {
        Ok(p7s) => p7s,
        Err(_) => return Signature::malformed(SignatureFormat::AsicE),
    };
    let mut signature = Signature::new(SignatureFormat::AsicE);
    let Some(manifest) = manifest else {
        fill_from_report(&mut signature, evaluate_cms(&p7s, None, false));
        signature.problems.retain(|p| p != "content_missing");
        add(&mut signature.problems, "no_manifest");
        return signature;
    };
    fill_from_report(&mut signature, evaluate_cms(&p7s, Some(&[manifest]), false));

    let text = String::from_utf8_lossy(manifest);
    let references = elements(&text, "DataObjectReference", MAX_DATA_OBJECTS);
    let mut objects_ok = if references.is_empty() {
        add(&mut signature.problems, "no_data_objects");
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
                add(&mut signature.problems, problem);
            }
        }
        None => add(&mut signature.problems, "malformed"),
    }
}

/// Whether one DataObjectReference's digest matches its zip entry.
fn data_object_ok(
    container: &mut Container<'_>,
    reference: &Element<'_>,
    problems: &mut Vec<String>,
) -> Option<bool> {
    let method = elements(reference.content, "DigestMethod", 1);
    let value = elements(reference.content, "DigestValue", 1);
    let uri = attribute(reference.start_tag, "URI");
    let (Some(method), Some(value), Some(uri)) = (method.first(), value.first(), uri) else {
        add(problems, "malformed");
        return Some(false);
    };
    let Some(hash) = attribute(method.start_tag, "Algorithm").and_then(Hash::from_uri) else {
        add(problems, "unsupported_algorithm");
        return None;
    };
    if hash == Hash::Sha1 {
        add(problems, "weak_digest");
    }
    let Some(expected) = base64_lenient(value.content.as_bytes()) else {
        add(problems, "malformed");
        return Some(false);
    };
    let Some(entry) = container.entry_for_uri(uri) else {
        add(problems, "missing_data_object");
        return Some(false);
    };
    match container.digest(&entry, hash) {
        Ok(actual) => {
            let ok = actual == expected;
            if !ok {
                add(problems, "digest_mismatch");
            }
            Some(ok)
        }
        Err(EntryError::TooLarge) => {
            add(problems, "too_large");
            None
        }
        // A CRC failure is tampering as much as a wrong digest.
        Err(EntryError::Broken) => {
            add(problems, "digest_mismatch");
            Some(false)
        }
        Err(EntryError::Missing) => {
            add(problems, "missing_data_object");
            Some(false)
        }
    }
}

#[cfg(test)]
mod tests {
    //! Fixtures are made at test time with the openssl CLI: a throwaway CA
    //! and signers (RSA-2048, P-256, P-384) whose subject CN has Romanian
    //! diacritics, so UTF-8 subjects are exercised.

    use super::*;
    use std::io::Write;
    use std::path::Path;
    use std::process::Command;
    use std::sync::OnceLock;

    const SIGNER_CN: &str = "Ștefan Țurcanu";
    const CONTENT: &[u8] = "Acord de aderare la MPass și MSign, semnat electronic.\n".as_bytes();

    struct Signer {
        cert_pem: Vec<u8>,
        key_pem: Vec<u8>,
        cert_der: Vec<u8>,
    }

    struct Fixtures {
        ca_pem: Vec<u8>,
        ca_der: Vec<u8>,
        rsa: Signer,
        p256: Signer,
        p384: Signer,
    }

    /// Runs openssl with `command` (split on spaces) then `more` (which may
    /// hold spaces). Fails, never skips, when openssl is missing or refuses.
    fn openssl(dir: &Path, command: &str, more: &[&str]) {
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

    fn read(dir: &Path, name: &str) -> Vec<u8> {
        std::fs::read(dir.join(name)).unwrap()
    }

    fn fixtures() -> &'static Fixtures {
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
    fn sign(signer: &Signer, content: &[u8], extra: &[&str]) -> Vec<u8> {
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

    fn flip_in(data: &mut [u8], needle: &[u8]) {
        let at = find(data, needle, 0).expect("needle present");
        data[at + needle.len() / 2] ^= 0x01;
    }

    fn assert_signer(sig: &Signature, signer: &Signer) {
        assert_eq!(sig.signer.as_deref(), Some(SIGNER_CN));
        assert_eq!(
            sig.signer_certificate_sha256.as_deref(),
            Some(crate::util::sha256_hex(&signer.cert_der).as_str())
        );
    }

    fn assert_rfc3339_utc(time: Option<&str>) {
        let time = time.expect("a signing time");
        assert!(time.ends_with('Z'), "{time}");
        DateTime::parse_from_rfc3339(time).expect("RFC 3339");
    }

    type Pick = fn(&Fixtures) -> &Signer;
    /// (name, signer, openssl args, what is given, verified, problems)
    type CmsCase = (
        &'static str,
        Pick,
        &'static [&'static str],
        Given,
        Option<bool>,
        &'static [&'static str],
    );
    /// (name, file, verified, covers_whole_file, problems, signing time)
    type PdfCase<'a> = (
        &'a str,
        &'a [u8],
        Option<bool>,
        Option<bool>,
        &'a [&'a str],
        &'a str,
    );
    /// (name, container, verified, problems, signing time)
    type AsicCase<'a> = (&'a str, &'a [u8], Option<bool>, &'a [&'a str], &'a str);

    #[derive(Clone, Copy)]
    enum Given {
        Content,
        Tampered,
        Nothing,
        /// Enveloping, with a byte of the embedded content flipped.
        TamperedInside,
    }

    #[test]
    fn cms_table() {
        let f = fixtures();
        let rsa: Pick = |f| &f.rsa;
        let p256: Pick = |f| &f.p256;
        let p384: Pick = |f| &f.p384;
        // (name, signer, openssl args, what is given, verified, problems). The
        // format follows -nodetach; a signingTime is there unless -noattr.
        #[rustfmt::skip]
        let cases: &[CmsCase] = &[
            ("detached", rsa, &[], Given::Content, Some(true), &[]),
            ("detached tampered", rsa, &[], Given::Tampered, Some(false), &["digest_mismatch"]),
            ("detached alone", rsa, &[], Given::Nothing, None, &["content_missing"]),
            ("enveloping", rsa, &["-nodetach"], Given::Nothing, Some(true), &[]),
            ("enveloping tampered", rsa, &["-nodetach"], Given::TamperedInside, Some(false), &["digest_mismatch"]),
            ("BER indefinite length", rsa, &["-nodetach", "-stream"], Given::Nothing, Some(true), &[]),
            ("no signed attributes", rsa, &["-noattr"], Given::Content, Some(true), &[]),
            ("no signed attributes tampered", rsa, &["-noattr"], Given::Tampered, Some(false), &["bad_signature"]),
            ("enveloping no attributes tampered", rsa, &["-noattr", "-nodetach"], Given::TamperedInside, Some(false), &["bad_signature"]),
            ("sha384", rsa, &["-md", "sha384"], Given::Content, Some(true), &[]),
            ("sha512", rsa, &["-md", "sha512"], Given::Content, Some(true), &[]),
            ("sha1", rsa, &["-md", "sha1"], Given::Content, Some(true), &["weak_digest"]),
            ("rsa-pss", rsa, &["-keyopt", "rsa_padding_mode:pss", "-keyopt", "rsa_pss_saltlen:digest"], Given::Content, Some(true), &[]),
            ("rsa-pss odd salt", rsa, &["-keyopt", "rsa_padding_mode:pss", "-keyopt", "rsa_pss_saltlen:max"], Given::Content, None, &["unsupported_algorithm"]),
            ("subject key identifier", rsa, &["-keyid"], Given::Content, Some(true), &[]),
            ("no certificates", rsa, &["-nocerts"], Given::Content, None, &["no_signer_certificate"]),
            ("p256", p256, &[], Given::Content, Some(true), &[]),
            ("p256 tampered", p256, &[], Given::Tampered, Some(false), &["digest_mismatch"]),
            ("p256 sha384", p256, &["-md", "sha384"], Given::Content, Some(true), &[]),
            ("p256 sha512", p256, &["-md", "sha512"], Given::Content, None, &["unsupported_algorithm"]),
            ("p256 no attributes tampered", p256, &["-noattr"], Given::Tampered, Some(false), &["bad_signature"]),
            ("p384", p384, &["-md", "sha384"], Given::Content, Some(true), &[]),
            ("p384 enveloping", p384, &["-nodetach"], Given::Nothing, Some(true), &[]),
        ];
        let mut tampered_content = CONTENT.to_vec();
        tampered_content[3] ^= 0x20;
        for &(name, pick, args, given, verified, problems) in cases {
            let format = if args.contains(&"-nodetach") {
                SignatureFormat::CmsEnveloping
            } else {
                SignatureFormat::CmsDetached
            };
            let has_time = !args.contains(&"-noattr");
            let signer = pick(f);
            let mut der = sign(signer, CONTENT, args);
            if name.starts_with("BER") {
                assert_eq!(der.get(1), Some(&0x80), "openssl should emit BER here");
            }
            let detached = match given {
                Given::Content => Some(CONTENT),
                Given::Tampered => Some(tampered_content.as_slice()),
                Given::Nothing => None,
                Given::TamperedInside => {
                    flip_in(&mut der, CONTENT);
                    None
                }
            };
            let sig =
                cms_signature(&der, detached).unwrap_or_else(|| panic!("{name}: not recognised"));
            assert_eq!(sig.verified, verified, "{name}: {sig:?}");
            assert_eq!(sig.format, format, "{name}");
            assert_eq!(sig.problems, problems, "{name}");
            assert_eq!(sig.covers_whole_file, None, "{name}");
            if args.contains(&"-nocerts") {
                assert_eq!(sig.signer, None, "{name}");
            } else {
                assert_signer(&sig, signer);
            }
            if has_time {
                assert_rfc3339_utc(sig.signing_time.as_deref());
            } else {
                assert_eq!(sig.signing_time, None, "{name}");
            }
        }
    }

    #[test]
    fn cms_signed_attributes_tampered() {
        // Changing a signed attribute (the signingTime) leaves the content
        // digest intact but breaks the signature over the attributes.
        let f = fixtures();
        let mut der = sign(&f.rsa, CONTENT, &[]);
        let oid = OID_SIGNING_TIME.as_bytes();
        let at = find(&der, oid, 0).expect("a signingTime attribute") + oid.len();
        // SET { UTCTime }: skip the SET header and UTCTime header, hit a digit.
        assert_eq!(&der[at + 2..at + 4], [UTC_TIME, 13]);
        der[at + 6] ^= 0x01;
        let sig = cms_signature(&der, Some(CONTENT)).unwrap();
        assert_eq!(sig.verified, Some(false));
        assert_eq!(sig.problems, ["bad_signature"]);
    }

    #[test]
    fn cms_pem_armour() {
        let f = fixtures();
        let pem = sign(&f.p256, CONTENT, &["-outform", "PEM"]);
        assert!(pem.starts_with(b"-----BEGIN CMS-----"));
        let sig = cms_signature(&pem, Some(CONTENT)).unwrap();
        assert_eq!(sig.verified, Some(true));
        assert_signer(&sig, &f.p256);

        // PKCS7 label, text around it, as pasted into a mail body.
        let der = sign(&f.rsa, CONTENT, &["-nodetach"]);
        let body = base64::engine::general_purpose::STANDARD.encode(&der);
        let mut text = String::from("Bună ziua,\nvă trimit semnătura:\n-----BEGIN PKCS7-----\n");
        for line in body.as_bytes().chunks(64) {
            text.push_str(std::str::from_utf8(line).unwrap());
            text.push_str("\r\n");
        }
        text.push_str("-----END PKCS7-----\nCu stimă\n");
        let sig = cms_signature(text.as_bytes(), None).unwrap();
        assert_eq!(sig.format, SignatureFormat::CmsEnveloping);
        assert_eq!(sig.verified, Some(true));
    }

    #[test]
    fn cms_not_a_signature() {
        let f = fixtures();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("signer.pem"), &f.rsa.cert_pem).unwrap();
        openssl(
            dir.path(),
            "crl2pkcs7 -nocrl -certfile signer.pem -outform DER -out bundle.p7b",
            &[],
        );
        let bundle = read(dir.path(), "bundle.p7b");
        let cases: &[(&str, &[u8])] = &[
            ("certs-only bundle", &bundle),
            ("certificate", &f.ca_der),
            ("certificate PEM", &f.ca_pem),
            ("text", b"hello"),
            ("empty", b""),
            (
                "PEM of garbage",
                b"-----BEGIN PKCS7-----\n!!!!\n-----END PKCS7-----\n",
            ),
        ];
        for (name, data) in cases {
            assert_eq!(cms_signature(data, Some(CONTENT)), None, "{name}");
        }
    }

    #[test]
    fn cms_truncated_and_corrupted() {
        let f = fixtures();
        let der = sign(&f.p256, CONTENT, &[]);
        for len in 0..der.len() {
            let sig = cms_signature(&der[..len], Some(CONTENT));
            if len >= 15 {
                // The signedData OID is visible: reported, as malformed.
                let sig = sig.unwrap_or_else(|| panic!("prefix {len}"));
                assert_eq!(sig.problems, ["malformed"], "prefix {len}");
                assert_eq!(sig.verified, None);
            }
        }
        for at in 0..der.len() {
            for mask in [0x01, 0x80, 0xff] {
                let mut bad = der.clone();
                bad[at] ^= mask;
                let _ = cms_signature(&bad, Some(CONTENT));
                let _ = cms_signature(&bad, None);
            }
        }
        let ber = sign(&f.rsa, CONTENT, &["-nodetach", "-stream"]);
        for len in (0..ber.len()).step_by(7) {
            let _ = cms_signature(&ber[..len], None);
        }
    }

    // ------------------------------------------------------------ PDF

    const HOLE_HEX: usize = 16384;
    const BYTE_RANGE_PLACEHOLDER: &str = "/ByteRange [0 0000000000 0000000000 0000000000]";

    /// A small PDF with an unsigned signature field: `/Contents` is a
    /// zero-filled hex placeholder, `/ByteRange` a fixed-width one.
    fn pdf_template(extra_sig_keys: &str) -> Vec<u8> {
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
    fn sign_pdf(mut pdf: Vec<u8>, signer: &Signer, extra: &[&str]) -> Vec<u8> {
        let hole_start =
            rfind(&pdf, b"/Contents <0000", 0, pdf.len()).unwrap() + "/Contents ".len();
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

    fn incremental_update(pdf: &[u8], body: &str) -> Vec<u8> {
        let mut out = pdf.to_vec();
        out.extend_from_slice(format!("6 0 obj\n{body}\nendobj\n%%EOF\n").as_bytes());
        out
    }

    #[test]
    fn pdf_table() {
        let f = fixtures();
        let signed = sign_pdf(pdf_template(""), &f.rsa, &[]);
        let signed_m = sign_pdf(
            pdf_template("/M (D:20240315103000+02'00')"),
            &f.rsa,
            &["-noattr"],
        );
        let signed_ec = sign_pdf(pdf_template("/M (D:20240315103000Z)"), &f.p256, &["-cades"]);
        let appended = incremental_update(
            &signed,
            "<< /Type /Annot /Subtype /Text /Contents (nota) >>",
        );
        let mut corrupted = signed.clone();
        flip_in(&mut corrupted, b"/MediaBox [0 0 595 842]");
        let mut corrupted_m = signed_m.clone();
        flip_in(&mut corrupted_m, b"/MediaBox [0 0 595 842]");
        let mut bad_hole = signed.clone();
        // Widen the signed range's hole: two unsigned bytes before /Contents.
        let at = find(&bad_hole, b"/ByteRange [0 ", 0).unwrap() + "/ByteRange [0 ".len();
        let first_len: usize = std::str::from_utf8(&bad_hole[at..at + 10])
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        bad_hole[at..at + 10].copy_from_slice(format!("{:<10}", first_len - 2).as_bytes());

        // (name, file, verified, covers, problems, signing time; "" = from CMS)
        #[rustfmt::skip]
        let cases: &[PdfCase] = &[
            ("signed", &signed, Some(true), Some(true), &[], ""),
            ("time from /M", &signed_m, Some(true), Some(true), &[], "2024-03-15T08:30:00Z"),
            // CMS signingTime wins over /M.
            ("ecdsa cades", &signed_ec, Some(true), Some(true), &[], ""),
            ("incremental update", &appended, Some(true), Some(false), &["byte_range_partial"], ""),
            ("corrupted", &corrupted, Some(false), Some(true), &["digest_mismatch"], ""),
            ("corrupted, no attributes", &corrupted_m, Some(false), Some(true), &["bad_signature"], "2024-03-15T08:30:00Z"),
            ("hole wider than /Contents", &bad_hole, Some(false), Some(false), &["byte_range_partial", "digest_mismatch"], ""),
        ];
        for &(name, pdf, verified, covers, problems, time) in cases {
            let sigs = pdf_signatures(pdf);
            assert_eq!(sigs.len(), 1, "{name}: {sigs:?}");
            let sig = &sigs[0];
            assert_eq!(sig.format, SignatureFormat::Pades, "{name}");
            assert_eq!(sig.verified, verified, "{name}: {sig:?}");
            assert_eq!(sig.covers_whole_file, covers, "{name}");
            assert_eq!(sig.problems, problems, "{name}");
            let signer = if name.starts_with("ecdsa") {
                &f.p256
            } else {
                &f.rsa
            };
            assert_signer(sig, signer);
            if time.is_empty() {
                assert_rfc3339_utc(sig.signing_time.as_deref());
            } else {
                assert_eq!(sig.signing_time.as_deref(), Some(time), "{name}");
            }
        }
    }

    #[test]
    fn pdf_two_signatures() {
        let f = fixtures();
        let first = sign_pdf(pdf_template(""), &f.rsa, &[]);
        let update = format!(
            "<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached /Contents <{}> {BYTE_RANGE_PLACEHOLDER} >>",
            "0".repeat(HOLE_HEX)
        );
        let second = sign_pdf(
            incremental_update(&first, &update),
            &f.p384,
            &["-md", "sha384"],
        );
        let sigs = pdf_signatures(&second);
        assert_eq!(sigs.len(), 2, "{sigs:?}");
        assert_eq!(
            (sigs[0].verified, sigs[0].covers_whole_file),
            (Some(true), Some(false))
        );
        assert_signer(&sigs[0], &f.rsa);
        assert_eq!(
            (sigs[1].verified, sigs[1].covers_whole_file),
            (Some(true), Some(true))
        );
        assert_signer(&sigs[1], &f.p384);
        assert!(sigs[1].problems.is_empty());
    }

    #[test]
    fn pdf_unsigned_and_hostile() {
        let unsigned =
            b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";
        let template = pdf_template("");
        let cases: &[(&str, &[u8], usize)] = &[
            ("unsigned", unsigned, 0),
            ("not a pdf", b"/ByteRange [0 1 2 3] /Contents <00>", 0),
            (
                "bare /ByteRange beyond the file",
                b"%PDF-1.7\n/ByteRange [0 99999999 5 5]",
                0,
            ),
            ("prepared, never signed", &template, 0),
            (
                "broken dictionary",
                b"%PDF-1.7\n<< /ByteRange [0 1 2 3 /Contents <0> (>>",
                0,
            ),
            ("empty", b"", 0),
        ];
        for (name, pdf, count) in cases {
            assert_eq!(pdf_signatures(pdf).len(), *count, "{name}");
        }

        let beyond = b"%PDF-1.7\n1 0 obj << /Type /Sig /ByteRange [0 99999999 5 5] /Contents <3080> >> endobj";
        let sigs = pdf_signatures(beyond);
        assert_eq!(sigs.len(), 1);
        assert_eq!(sigs[0].verified, None);
        assert_eq!(sigs[0].covers_whole_file, Some(false));
        assert!(sigs[0].problems.contains(&"byte_range_invalid".to_owned()));

        let negative = b"%PDF-1.7\n<< /ByteRange [0 -5 2 3] /Contents <3000> /Type /Sig >>";
        assert_eq!(
            pdf_signatures(negative)[0].problems,
            ["byte_range_invalid", "malformed"]
        );

        // Deep nesting must neither overflow the stack nor take long.
        let mut deep = b"%PDF-1.7\n".to_vec();
        deep.extend(b"<<".repeat(5000));
        deep.extend(b"[".repeat(50_000));
        deep.extend(b"/ByteRange [0 1 2 3] /Contents <00>");
        deep.extend(b">>".repeat(5000));
        let _ = pdf_signatures(&deep);

        // Document timestamps are a TSA's, not a signer's.
        let timestamp = b"%PDF-1.7\n<< /Type /DocTimeStamp /SubFilter /ETSI.RFC3161 /ByteRange [0 1 2 3] /Contents <3000> >>\n<< /SubFilter /ETSI.RFC3161 /ByteRange [0 1 2 3] /Contents <3000> >>";
        assert_eq!(pdf_signatures(timestamp), []);

        // Nested dictionaries around a large /Contents: each candidate
        // start re-lexes it, which the byte budget bounds.
        let mut nested = b"%PDF-1.7\n".to_vec();
        nested.extend(b"<< /A ".repeat(8));
        nested.extend(b"<< /Contents <");
        nested.extend(b"0".repeat(1 << 20));
        nested.extend(b"> >>".repeat(9));
        for _ in 0..64 {
            nested.extend(b" /ByteRange [0 1 2 3]");
        }
        assert_eq!(pdf_signatures(&nested), []);

        // Many /ByteRange hits: bounded.
        let mut many = b"%PDF-1.7\n".to_vec();
        for i in 0..200 {
            many.extend(
                format!("<< /Type /Sig /ByteRange [0 {i} 2 3] /Contents <3000> >>\n").as_bytes(),
            );
        }
        assert_eq!(pdf_signatures(&many).len(), MAX_SIGNATURES);
    }

    #[test]
    fn pdf_truncated() {
        let f = fixtures();
        let signed = sign_pdf(pdf_template(""), &f.p256, &[]);
        for len in (0..signed.len()).step_by(97) {
            for sig in pdf_signatures(&signed[..len]) {
                assert_ne!(sig.verified, Some(true), "prefix {len}");
            }
        }
    }

    #[test]
    fn dates() {
        let pdf: &[(&str, Option<&str>)] = &[
            ("D:20240315103000+02'00'", Some("2024-03-15T08:30:00Z")),
            ("D:20240315103000+02'00", Some("2024-03-15T08:30:00Z")),
            ("D:20240315103000-05'30'", Some("2024-03-15T16:00:00Z")),
            ("D:20240315103000Z00'00'", Some("2024-03-15T10:30:00Z")),
            ("20240315", Some("2024-03-15T00:00:00Z")),
            ("D:2024", Some("2024-01-01T00:00:00Z")),
            ("D:20241340", None),
            ("azi", None),
            ("", None),
        ];
        for (text, want) in pdf {
            assert_eq!(pdf_date(text).as_deref(), *want, "{text}");
        }
        let asn1: &[(u8, &str, Option<&str>)] = &[
            (UTC_TIME, "240315103000Z", Some("2024-03-15T10:30:00Z")),
            (UTC_TIME, "991231235959Z", Some("1999-12-31T23:59:59Z")),
            (UTC_TIME, "2403151030Z", Some("2024-03-15T10:30:00Z")),
            (UTC_TIME, "240315103000+0200", Some("2024-03-15T08:30:00Z")),
            (
                GENERALIZED_TIME,
                "20240315103000.123Z",
                Some("2024-03-15T10:30:00Z"),
            ),
            (GENERALIZED_TIME, "2024031510", None),
            (UTC_TIME, "24031510300xZ", None),
            (OCTET_STRING, "240315103000Z", None),
        ];
        for (tag, text, want) in asn1 {
            let tlv = Tlv {
                tag: *tag,
                content: text.as_bytes(),
                raw: &[],
            };
            assert_eq!(asn1_time(&tlv).as_deref(), *want, "{text}");
        }
        let xml: &[(&str, Option<&str>)] = &[
            ("2024-03-15T10:30:00+02:00", Some("2024-03-15T08:30:00Z")),
            (" 2024-03-15T10:30:00.5Z\n", Some("2024-03-15T10:30:00Z")),
            ("2024-03-15T10:30:00", Some("2024-03-15T10:30:00Z")),
            ("ieri", None),
        ];
        for (text, want) in xml {
            assert_eq!(xml_date(text).as_deref(), *want, "{text}");
        }
    }

    // ------------------------------------------------------------ ASiC-E

    fn zip(entries: &[(&str, &[u8], bool)]) -> Vec<u8> {
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
    fn xades(f: &Fixtures) -> String {
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

    fn manifest(contract: &[u8]) -> Vec<u8> {
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

    #[test]
    fn asice_table() {
        let f = fixtures();
        let mime: &[u8] = b"application/vnd.etsi.asic-e+zip";
        let contract: &[u8] = b"%PDF-1.7 contract";
        let xml = xades(f);
        let xades_zip = zip(&[
            ("mimetype", mime, true),
            ("contract.pdf", contract, false),
            ("META-INF/signatures0.xml", xml.as_bytes(), false),
        ]);
        let manifest = manifest(contract);
        let p7s = sign(&f.p256, &manifest, &["-cades"]);
        let cades_zip = |data: &[u8]| {
            zip(&[
                ("mimetype", mime, true),
                ("contract semnat.pdf", data, false),
                ("META-INF/ASiCManifest.xml", &manifest, false),
                ("META-INF/signature001.p7s", &p7s, false),
            ])
        };
        let cades_ok = cades_zip(contract);
        let cades_tampered = cades_zip(b"%PDF-1.7 contract, altered");
        let cades_no_manifest = zip(&[
            ("mimetype", mime, true),
            ("contract.pdf", contract, false),
            ("META-INF/signature001.p7s", &p7s, false),
        ]);

        // (name, zip, verified, problems, time; "" = from CMS)
        #[rustfmt::skip]
        let cases: &[AsicCase] = &[
            ("xades", &xades_zip, None, &[], "2024-03-15T08:30:00Z"),
            ("cades", &cades_ok, Some(true), &[], ""),
            ("cades, data object changed", &cades_tampered, Some(false), &["digest_mismatch"], ""),
            ("cades without manifest", &cades_no_manifest, None, &["no_manifest"], ""),
        ];
        for &(name, data, verified, problems, time) in cases {
            let sigs = asice_signatures(data).unwrap_or_else(|| panic!("{name}: not ASiC-E"));
            assert_eq!(sigs.len(), 1, "{name}: {sigs:?}");
            let sig = &sigs[0];
            assert_eq!(sig.format, SignatureFormat::AsicE);
            assert_eq!(sig.verified, verified, "{name}: {sig:?}");
            assert_eq!(sig.problems, problems, "{name}");
            assert_eq!(sig.covers_whole_file, None);
            assert_signer(sig, if name == "xades" { &f.rsa } else { &f.p256 });
            if time.is_empty() {
                assert_rfc3339_utc(sig.signing_time.as_deref());
            } else {
                assert_eq!(sig.signing_time.as_deref(), Some(time), "{name}");
            }
        }

        let not_asice: &[(&str, Vec<u8>)] = &[
            (
                "plain zip",
                zip(&[
                    ("contract.pdf", contract, false),
                    ("notes.txt", b"x", false),
                ]),
            ),
            (
                "other mimetype",
                zip(&[("mimetype", b"application/vnd.etsi.asic-s+zip", true)]),
            ),
            (
                "mimetype not first",
                zip(&[("a.txt", b"x", true), ("mimetype", mime, true)]),
            ),
            ("pdf", contract.to_vec()),
            ("empty", Vec::new()),
        ];
        for (name, data) in not_asice {
            assert_eq!(asice_signatures(data), None, "{name}");
        }

        // Truncated containers: no panic; the stored mimetype still says ASiC-E.
        for len in (40..xades_zip.len()).step_by(13) {
            let _ = asice_signatures(&xades_zip[..len]);
        }
        let truncated = asice_signatures(&cades_ok[..cades_ok.len() / 2]).unwrap();
        assert_eq!(truncated[0].problems, ["malformed"]);
    }

    #[test]
    fn container_reads_are_capped() {
        let mime: &[u8] = b"application/vnd.etsi.asic-e+zip";
        let data = zip(&[("mimetype", mime, true), ("big.bin", &[0u8; 4096], false)]);
        let mut container = Container {
            zip: zip::ZipArchive::new(Cursor::new(data.as_slice())).unwrap(),
            names: vec!["mimetype".into(), "big.bin".into()],
            budget: 5000,
            digests: Vec::new(),
        };
        assert!(matches!(
            container.read("big.bin", 100),
            Err(EntryError::TooLarge)
        ));
        assert!(matches!(
            container.read("absent", 100),
            Err(EntryError::Missing)
        ));
        assert_eq!(
            container.read("big.bin", 8192).ok().map(|b| b.len()),
            Some(4096)
        );
        // What is left of the budget is less than the entry.
        assert!(matches!(
            container.read("big.bin", 8192),
            Err(EntryError::TooLarge)
        ));
    }

    #[test]
    fn xml_helpers() {
        let xml = r#"<a:Signature Id="1"><b/><a:Signature>inner</a:Signature><x:SigningTime>t</x:SigningTime></a:Signature><Signature/><SignatureValue>v</SignatureValue>"#;
        let found = elements(xml, "Signature", 8);
        assert_eq!(found.len(), 2);
        assert!(found[0].content.contains("inner"));
        assert_eq!(found[1].content, "");
        assert_eq!(attribute(found[0].start_tag, "Id"), Some("1"));
        assert_eq!(attribute(r#"<r xURI="no" URI='yes'>"#, "URI"), Some("yes"));
        assert_eq!(
            elements("<a:Signature>never closed", "Signature", 8).len(),
            0
        );
        assert_eq!(
            percent_decode("contract%20semnat%zz.pdf"),
            "contract semnat%zz.pdf"
        );

        // Pathological markup stays linear (quadratic would not finish).
        let angles = "<".repeat(1 << 20);
        assert!(elements(&angles, "Signature", 16).is_empty());
        let opens = format!("<ds:Signature>{}", "<ds:Signature x='1' ".repeat(50_000));
        assert!(elements(&opens, "Signature", 16).is_empty());
        let nested = format!("{}>{}", "<ds:Signature ".repeat(50_000), "</ds:Signature>");
        let _ = elements(&nested, "Signature", 16);
    }

    // ------------------------------------------------------------ garbage

    #[test]
    fn random_input_never_panics() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut random = |len: usize| -> Vec<u8> {
            (0..len)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    (state >> 24) as u8
                })
                .collect()
        };
        let mut signed_data_prefix = vec![SEQUENCE, 0x80, OID, 9];
        signed_data_prefix.extend_from_slice(OID_SIGNED_DATA.as_bytes());
        let prefixes: &[&[u8]] = &[
            b"",
            b"%PDF-1.7\n<< /Type /Sig /ByteRange [0 10 20 30] /Contents <",
            b"PK\x03\x04\x14\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x08\x00\x00\x00mimetypeapplication/vnd.etsi.asic-e+zip",
            &signed_data_prefix,
        ];
        for prefix in prefixes {
            for len in [0, 1, 2, 7, 64, 1000, 20_000] {
                let mut data = prefix.to_vec();
                data.extend(random(len));
                let _ = pdf_signatures(&data);
                let _ = cms_signature(&data, Some(&data));
                let _ = cms_signature(&data, None);
                let _ = asice_signatures(&data);
            }
        }
        // Deeply nested BER behind a real signedData header.
        let mut deep = signed_data_prefix.clone();
        deep.push(CONTEXT_0);
        deep.push(0x80);
        for _ in 0..10_000 {
            deep.extend_from_slice(&[SEQUENCE, 0x80]);
        }
        assert_eq!(cms_signature(&deep, None).unwrap().problems, ["malformed"]);
    }
}
