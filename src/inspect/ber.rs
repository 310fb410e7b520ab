//! The crate's one BER view (and the few DER writes we need), on `asn1-rs`'s
//! BER parser: key and certificate containers are told apart with it, and
//! CMS signatures are walked with it (`signature::asn1`). Lenient because real
//! files are not always strict DER: browsers export PKCS#12 with BER
//! indefinite lengths. Bounded: nesting deeper than [`MAX_DEPTH`] is refused.

/// Deeper than any real key container or CMS structure; hostile input
/// stops here.
pub const MAX_DEPTH: usize = 32;

/// One element: its first identifier byte, its contents, and `raw`, the
/// whole encoding with its header (signed attributes are verified over it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tlv<'a> {
    pub tag: u8,
    pub content: &'a [u8],
    pub raw: &'a [u8],
}

impl Tlv<'_> {
    pub fn constructed(&self) -> bool {
        self.tag & 0x20 != 0
    }
}

pub const SEQUENCE: u8 = 0x30;
pub const SET: u8 = 0x31;
pub const INTEGER: u8 = 0x02;
pub const BIT_STRING: u8 = 0x03;
pub const OCTET_STRING: u8 = 0x04;
pub const NULL: u8 = 0x05;
pub const OID: u8 = 0x06;

/// Reads one element; returns it and what follows.
pub fn read(data: &[u8]) -> Option<(Tlv<'_>, &[u8])> {
    read_at(data, 0)
}

/// [`read`] of an element found `depth` levels down. The header and the
/// extent (BER indefinite lengths included, found by walking to the
/// end-of-contents marker) come from `asn1-rs`; refused are high tag numbers
/// (never used in what we read), lengths past the input, primitive
/// indefinite lengths and nesting past [`MAX_DEPTH`].
pub fn read_at(input: &[u8], depth: usize) -> Option<(Tlv<'_>, &[u8])> {
    use asn1_rs::FromBer;
    if depth > MAX_DEPTH {
        return None;
    }
    let (rest, any) = asn1_rs::Any::from_ber(input).ok()?;
    let number = u8::try_from(any.header.tag().0)
        .ok()
        .filter(|n| *n < 0x1f)?;
    let class = any.header.class() as u8;
    let tag = class << 6 | u8::from(any.header.is_constructed()) << 5 | number;
    let raw = input.get(..input.len() - rest.len())?;
    Some((
        Tlv {
            tag,
            content: any.data,
            raw,
        },
        rest,
    ))
}

/// The children of a constructed element, in order; stops at the first
/// element that does not parse.
pub fn children(content: &[u8]) -> impl Iterator<Item = Tlv<'_>> {
    let mut rest = content;
    std::iter::from_fn(move || {
        if rest.is_empty() || (rest.len() >= 2 && rest[0] == 0 && rest[1] == 0) {
            return None;
        }
        let (tlv, after) = read(rest)?;
        rest = after;
        Some(tlv)
    })
}

/// The whole input is exactly one element (nothing trailing but padding zeros).
pub fn read_whole(data: &[u8]) -> Option<Tlv<'_>> {
    let (tlv, rest) = read(data)?;
    rest.iter().all(|b| *b == 0).then_some(tlv)
}

/// True when `oid` (content bytes) occurs anywhere in the element tree,
/// looking inside OCTET STRINGs that hold BER themselves (as PKCS#12 does).
pub fn contains_oid(data: &[u8], oid: &[u8]) -> bool {
    contains_oid_at(data, oid, 0)
}

fn contains_oid_at(data: &[u8], oid: &[u8], depth: usize) -> bool {
    if depth > MAX_DEPTH {
        return false;
    }
    children(data).any(|t| match t.tag {
        OID => t.content == oid,
        OCTET_STRING | 0x24 => {
            // Constructed (0x24) or primitive octet strings may wrap BER.
            contains_oid_at(t.content, oid, depth + 1)
        }
        _ if t.constructed() => contains_oid_at(t.content, oid, depth + 1),
        _ => false,
    })
}

/// Bits in an unsigned big-endian INTEGER's content.
pub fn integer_bits(content: &[u8]) -> u32 {
    let trimmed: &[u8] = {
        let mut c = content;
        while c.len() > 1 && c[0] == 0 {
            c = &c[1..];
        }
        c
    };
    match trimmed.first() {
        None | Some(0) => 0,
        Some(b) => (trimmed.len() as u32 - 1) * 8 + (8 - b.leading_zeros()),
    }
}

/// DER: one element with the given tag and content.
pub fn der(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

/// Object identifiers we look for, as encoded content bytes.
pub mod oid {
    pub const RSA_ENCRYPTION: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
    pub const EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
    pub const DSA: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x38, 0x04, 0x01];
    pub const ED25519: &[u8] = &[0x2b, 0x65, 0x70];
    pub const ED448: &[u8] = &[0x2b, 0x65, 0x71];
    pub const X25519: &[u8] = &[0x2b, 0x65, 0x6e];
    pub const P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
    pub const P384: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x22];
    pub const P521: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x23];
    pub const PKCS7_DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01];
    pub const PKCS7_SIGNED: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02];
    pub const PKCS7_ENCRYPTED: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x06];
    /// PKCS#12 bag types (1.2.840.113549.1.12.10.1.x).
    pub const KEY_BAG: &[u8] = &[
        0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x0c, 0x0a, 0x01, 0x01,
    ];
    pub const SHROUDED_KEY_BAG: &[u8] = &[
        0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x0c, 0x0a, 0x01, 0x02,
    ];
    pub const CERT_BAG: &[u8] = &[
        0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x0c, 0x0a, 0x01, 0x03,
    ];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definite_and_indefinite() {
        let def = [0x30, 0x03, 0x02, 0x01, 0x05];
        let (t, rest) = read(&def).unwrap();
        assert_eq!((t.tag, t.content, rest.len()), (0x30, &def[2..], 0));
        let indef = [0x30, 0x80, 0x02, 0x01, 0x05, 0x00, 0x00, 0xff];
        let (t, rest) = read(&indef).unwrap();
        assert_eq!(t.content, &[0x02, 0x01, 0x05]);
        assert_eq!(rest, &[0xff]);
        assert_eq!(children(t.content).count(), 1);
    }

    #[test]
    fn hostile_input_is_refused_not_followed() {
        assert!(read(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]).is_none());
        assert!(read(&[0x30, 0x85, 1, 1, 1, 1, 1]).is_none());
        assert!(read(&[0x04, 0x80, 0, 0]).is_none(), "primitive indefinite");
        let deep: Vec<u8> = std::iter::repeat_n([0x30u8, 0x80], 200).flatten().collect();
        assert!(read(&deep).is_none());
        assert!(!contains_oid(&deep, oid::KEY_BAG));
    }

    #[test]
    fn der_lengths_and_bits() {
        assert_eq!(der(0x04, &[1, 2]), vec![0x04, 2, 1, 2]);
        let long = der(0x04, &[0; 300]);
        assert_eq!(&long[..4], &[0x04, 0x82, 0x01, 0x2c]);
        assert_eq!(read(&long).unwrap().0.content.len(), 300);
        assert_eq!(integer_bits(&[0x00, 0x80, 0x00]), 16);
        assert_eq!(integer_bits(&[0x01, 0x00, 0x01]), 17);
        assert_eq!(integer_bits(&[0x00]), 0);
    }
}
