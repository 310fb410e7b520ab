//! How the signature checks walk CMS: sequences, octet strings, algorithm
//! identifiers and times, on the crate's one BER reader ([`crate::inspect::ber`],
//! which keeps the exact bytes that were signed and accepts indefinite
//! lengths), and the object identifiers they act on.

use std::borrow::Cow;

use chrono::{FixedOffset, NaiveDate, SecondsFormat, TimeZone, Utc};
use der::asn1::ObjectIdentifier;

// ---------------------------------------------------------------- OIDs

pub(super) const OID_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
pub(super) const OID_SIGNED_DATA: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
pub(super) const OID_CONTENT_TYPE: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
pub(super) const OID_MESSAGE_DIGEST: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
pub(super) const OID_SIGNING_TIME: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.5");
pub(super) const OID_SHA1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.14.3.2.26");
pub(super) const OID_SHA256: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
pub(super) const OID_SHA384: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.2");
pub(super) const OID_SHA512: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.3");
pub(super) const OID_RSA_ENCRYPTION: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
pub(super) const OID_SHA1_WITH_RSA: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.5");
pub(super) const OID_MGF1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.8");
pub(super) const OID_RSASSA_PSS: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.10");
pub(super) const OID_SHA256_WITH_RSA: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
pub(super) const OID_SHA384_WITH_RSA: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.12");
pub(super) const OID_SHA512_WITH_RSA: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.13");
pub(super) const OID_EC_PUBLIC_KEY: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
pub(super) const OID_ECDSA_WITH_SHA1: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.10045.4.1");
pub(super) const OID_ECDSA_WITH_SHA256: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
pub(super) const OID_ECDSA_WITH_SHA384: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
pub(super) const OID_ECDSA_WITH_SHA512: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.4");
pub(super) const OID_P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
pub(super) const OID_P384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
pub(super) const OID_SUBJECT_KEY_ID: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.14");

pub(super) fn is_oid(content: &[u8], oid: &ObjectIdentifier) -> bool {
    content == oid.as_bytes()
}

// ---------------------------------------------------------------- ASN.1

pub(super) use crate::inspect::ber::{BIT_STRING, INTEGER, OCTET_STRING, OID, SEQUENCE, SET};
pub(super) const UTC_TIME: u8 = 0x17;
pub(super) const GENERALIZED_TIME: u8 = 0x18;
/// `[0]` constructed, as both IMPLICIT SET and EXPLICIT wrapper use it.
pub(super) const CONTEXT_0: u8 = 0xA0;
pub(super) const CONTEXT_1: u8 = 0xA1;

pub(super) use crate::inspect::ber::{MAX_DEPTH, Tlv, read_at};

/// Reads the children of a constructed element one at a time.
pub(super) struct Seq<'a> {
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

    pub(super) fn of(tlv: &Tlv<'a>, depth: usize) -> Self {
        Seq::new(tlv.content, depth)
    }

    pub(super) fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    pub(super) fn read(&mut self) -> Option<Tlv<'a>> {
        let (tlv, rest) = read_at(self.rest, self.depth)?;
        self.rest = rest;
        Some(tlv)
    }

    pub(super) fn expect(&mut self, tag: u8) -> Option<Tlv<'a>> {
        self.read().filter(|t| t.tag == tag)
    }

    pub(super) fn optional(&mut self, tag: u8) -> Option<Tlv<'a>> {
        if self.rest.first() == Some(&tag) {
            self.read()
        } else {
            None
        }
    }
}

/// The bytes of an OCTET STRING, joining BER constructed chunks.
pub(super) fn octets<'a>(tlv: &Tlv<'a>, depth: usize) -> Option<Cow<'a, [u8]>> {
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
pub(super) struct AlgId<'a> {
    pub(super) oid: &'a [u8],
    pub(super) params: Option<Tlv<'a>>,
}

pub(super) fn parse_alg<'a>(tlv: &Tlv<'a>, depth: usize) -> Option<AlgId<'a>> {
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
pub(super) fn small_uint(tlv: &Tlv<'_>) -> Option<usize> {
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
pub(super) fn digits(s: &[u8], at: usize, n: usize) -> Option<u32> {
    let part = s.get(at..at.checked_add(n)?)?;
    part.iter().try_fold(0u32, |acc, &b| {
        b.is_ascii_digit().then(|| acc * 10 + u32::from(b - b'0'))
    })
}

/// A calendar time at a UTC offset, as RFC 3339 in UTC.
pub(super) fn utc_rfc3339(
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
pub(super) fn asn1_time(tlv: &Tlv<'_>) -> Option<String> {
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
