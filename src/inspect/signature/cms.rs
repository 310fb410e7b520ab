//! CMS SignedData (.p7s detached, .p7m enveloping, PEM-armoured or
//! embedded in a PDF or ASiC-E): who signed it, when, and whether every
//! signer's signature verifies.

use std::borrow::Cow;

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

use super::asn1::{
    AlgId, CONTEXT_0, CONTEXT_1, INTEGER, OCTET_STRING, OID, OID_CONTENT_TYPE, OID_DATA,
    OID_MESSAGE_DIGEST, OID_SIGNED_DATA, OID_SIGNING_TIME, SEQUENCE, SET, Seq, Tlv, asn1_time,
    is_oid, octets, parse_alg, read_at,
};
use super::verify::{Cert, Hash, check_signature, parse_cert, strip_zeros};
use super::{MAX_CERTIFICATES, MAX_SIGNATURES, Signature, SignatureFormat, add, both};
use crate::domain::SignatureProblem;
use crate::inspect::pem;

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
    let (info, _) = read_at(data, 0)?;
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
pub(super) struct Report {
    pub(super) signer: Option<String>,
    pub(super) certificate_sha256: Option<String>,
    pub(super) signing_time: Option<String>,
    pub(super) verified: Option<bool>,
    pub(super) problems: Vec<SignatureProblem>,
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
        add(&mut report.problems, SignatureProblem::Malformed);
        report
    }
}

/// Judges a CMS SignedData. `external` is the detached content in parts (a
/// PDF's byte ranges). In a PDF, encapsulated content is an intermediary
/// (the SHA-1 of the ranges for adbe.pkcs7.sha1) that must in turn match
/// the ranges. None when `der` is not SignedData at all.
pub(super) fn evaluate_cms(der: &[u8], external: Option<&[&[u8]]>, in_pdf: bool) -> Option<Report> {
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
        add(&mut report.problems, SignatureProblem::NoSignerInfo);
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
        add(&mut report.problems, SignatureProblem::ContentMissing);
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
        add(&mut report.problems, SignatureProblem::MultipleSigners);
    }

    if in_pdf && let Some(inner) = &sd.content {
        let ranges_ok = match external {
            None => None,
            Some(ranges)
                if is_oid(sd.content_type, &OID_DATA) && inner.len() == Hash::Sha1.output_len() =>
            {
                // adbe.pkcs7.sha1: the signed content is the SHA-1 of the ranges.
                add(&mut report.problems, SignatureProblem::WeakDigest);
                Some(Hash::Sha1.digest(ranges) == inner.as_ref())
            }
            Some(ranges) => Some(parts_equal(ranges, inner)),
        };
        if ranges_ok == Some(false) {
            add(&mut report.problems, SignatureProblem::DigestMismatch);
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
    problems: &mut Vec<SignatureProblem>,
) -> SignerOutcome {
    let cert = find_signer_cert(certs, &si.sid);
    let mut outcome = SignerOutcome {
        signer: cert.and_then(|c| c.name.clone()),
        certificate_sha256: cert.map(|c| crate::util::sha256_hex(c.raw)),
        signing_time: None,
        verified: None,
    };
    if cert.is_none() {
        add(problems, SignatureProblem::NoSignerCertificate);
    }
    let hash = Hash::from_oid(si.digest_alg.oid);
    match hash {
        None => add(problems, SignatureProblem::UnsupportedAlgorithm),
        Some(Hash::Sha1) => add(problems, SignatureProblem::WeakDigest),
        Some(_) => {}
    }

    // What the signature is over, and whether the content digest matches.
    let (digest_ok, message) = match &si.signed_attrs {
        Some(attrs_tlv) => {
            let Some(attrs) = parse_attributes(attrs_tlv, 6) else {
                add(problems, SignatureProblem::Malformed);
                return outcome;
            };
            outcome.signing_time = attrs.signing_time.clone();
            signed_attributes(sd, attrs_tlv, &attrs, content, hash, problems)
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
                add(problems, SignatureProblem::BadSignature);
            }
            ok
        }
        _ => None,
    };
    outcome.verified = both(digest_ok, signature_ok);
    outcome
}

/// With signed attributes: whether their message digest matches the
/// content (and nothing in them is ambiguous or contradicts the content
/// type), and the bytes the signature is over — the attributes re-tagged
/// as the DER SET OF they were signed as.
fn signed_attributes<'a>(
    sd: &SignedData<'_>,
    attrs_tlv: &Tlv<'a>,
    attrs: &Attributes,
    content: Option<&[&[u8]]>,
    hash: Option<Hash>,
    problems: &mut Vec<SignatureProblem>,
) -> (Option<bool>, Option<Cow<'a, [u8]>>) {
    let mut digest_ok = match (content, hash, attrs.message_digest) {
        (Some(parts), Some(hash), Some(expected)) => {
            let ok = hash.digest(parts) == expected;
            if !ok {
                add(problems, SignatureProblem::DigestMismatch);
            }
            Some(ok)
        }
        (_, _, None) => {
            // messageDigest is mandatory whenever attributes are signed.
            add(problems, SignatureProblem::Malformed);
            Some(false)
        }
        _ => None,
    };
    if attrs.ambiguous {
        add(problems, SignatureProblem::Malformed);
        digest_ok = Some(false);
    }
    if attrs.content_type.is_some_and(|ct| ct != sd.content_type) {
        add(problems, SignatureProblem::ContentTypeMismatch);
        digest_ok = Some(false);
    }
    // Signed over the DER SET OF, not the [0] IMPLICIT tag stored.
    let mut der = attrs_tlv.raw.to_vec();
    if let Some(tag) = der.first_mut() {
        *tag = SET;
    }
    (digest_ok, Some(Cow::Owned(der)))
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
pub(super) fn base64_lenient(text: &[u8]) -> Option<Vec<u8>> {
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
        let Some(begin) = pem::begin_labelled(data, label.as_bytes()) else {
            continue;
        };
        let end = pem::find_end(data, label.as_bytes(), begin.body)?;
        let der = base64_lenient(data.get(begin.body..end.start)?)?;
        return looks_like_signed_data(&der).then_some(der);
    }
    None
}
