//! The cryptography of a signature: digests, the signer certificate and
//! the check of the signature value against its public key (with ring).

use ring::digest;
use ring::signature::{self as ring_sig, UnparsedPublicKey, VerificationAlgorithm};

use super::add;
use super::asn1::{
    AlgId, BIT_STRING, CONTEXT_0, CONTEXT_1, INTEGER, OCTET_STRING, OID, OID_EC_PUBLIC_KEY,
    OID_ECDSA_WITH_SHA1, OID_ECDSA_WITH_SHA256, OID_ECDSA_WITH_SHA384, OID_ECDSA_WITH_SHA512,
    OID_MGF1, OID_P256, OID_P384, OID_RSA_ENCRYPTION, OID_RSASSA_PSS, OID_SHA1, OID_SHA1_WITH_RSA,
    OID_SHA256, OID_SHA256_WITH_RSA, OID_SHA384, OID_SHA384_WITH_RSA, OID_SHA512,
    OID_SHA512_WITH_RSA, OID_SUBJECT_KEY_ID, SEQUENCE, Seq, Tlv, is_oid, parse_alg, read_at,
    small_uint,
};
use crate::domain::SignatureProblem;

// ---------------------------------------------------------------- digests

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Hash {
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

impl Hash {
    /// From a digest OID; the `...WithRSAEncryption` OIDs are accepted too
    /// because some signers put those in digestAlgorithm.
    pub(super) fn from_oid(oid: &[u8]) -> Option<Hash> {
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
    pub(super) fn from_uri(uri: &str) -> Option<Hash> {
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

    pub(super) fn output_len(self) -> usize {
        self.algorithm().output_len()
    }

    pub(super) fn digest(self, parts: &[&[u8]]) -> Vec<u8> {
        let mut ctx = digest::Context::new(self.algorithm());
        for part in parts {
            ctx.update(part);
        }
        ctx.finish().as_ref().to_vec()
    }
}

// ---------------------------------------------------------------- certificates

/// What we need of a certificate, all borrowed from its DER.
pub(super) struct Cert<'a> {
    pub(super) raw: &'a [u8],
    pub(super) issuer: &'a [u8],
    pub(super) serial: &'a [u8],
    pub(super) subject_key_id: Option<&'a [u8]>,
    pub(super) spki: &'a [u8],
    pub(super) name: Option<String>,
}

pub(super) fn parse_cert(raw: &[u8]) -> Option<Cert<'_>> {
    let (_, cert) = x509_parser::parse_x509_certificate(raw).ok()?;
    let tbs = &cert.tbs_certificate;
    let subject_key_id = tbs
        .extensions()
        .iter()
        .find(|ext| is_oid(ext.oid.as_bytes(), &OID_SUBJECT_KEY_ID))
        .and_then(|ext| read_at(ext.value, 0))
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
pub(super) fn strip_zeros(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    bytes.get(start..).unwrap_or_default()
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
        let (inner, _) = read_at(item.content, 2)?;
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
    let (spki, _) = read_at(spki, 0)?;
    let mut items = Seq::of(&spki, 1);
    let alg = parse_alg(&items.read()?, 1)?;
    let bits = items.expect(BIT_STRING)?;
    let (&0, key) = bits.content.split_first()? else {
        return None;
    };
    if is_oid(alg.oid, &OID_RSA_ENCRYPTION) || is_oid(alg.oid, &OID_RSASSA_PSS) {
        let (rsa, _) = read_at(key, 1)?;
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
pub(super) fn check_signature(
    spki: &[u8],
    alg: &AlgId<'_>,
    digest_hash: Option<Hash>,
    message: &[u8],
    signature: &[u8],
    problems: &mut Vec<SignatureProblem>,
) -> Option<bool> {
    let unsupported = |problems: &mut Vec<SignatureProblem>| {
        add(problems, SignatureProblem::UnsupportedAlgorithm);
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
        add(problems, SignatureProblem::WeakDigest);
    }
    let (algorithm, key_bytes): (&'static dyn VerificationAlgorithm, &[u8]) = match (&scheme, &key)
    {
        (Scheme::RsaPkcs1(_) | Scheme::RsaPss(_), PublicKey::Rsa(der, bits)) => {
            if *bits < 1024 {
                add(problems, SignatureProblem::WeakKey);
                return unsupported(problems);
            }
            if *bits > 8192 {
                return unsupported(problems);
            }
            let strong = *bits >= 2048;
            if !strong {
                add(problems, SignatureProblem::WeakKey);
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
