//! Certificates: the facts a registrar looks at (subject, issuer, serial,
//! validity, key, signature algorithm, usages, CA or not, fingerprint) and
//! the policy from `rules/certificates.toml`, each violation a code.
//! Chains are verified with rustls-webpki against the configured trust
//! anchors, using intermediates found in the same mail.

use chrono::{DateTime, Duration, Utc};
use rustls_pki_types::{CertificateDer, UnixTime};
use serde::{Deserialize, Serialize};
use x509_parser::prelude::*;

use crate::domain::ProblemCode;

use super::ber::{self, OID, SEQUENCE, oid};
use super::private_key::spki_fingerprint;

/// What the daemon reports about one certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CertificateFacts {
    pub subject: String,
    pub issuer: String,
    /// Hex, colon-separated, as `openssl x509 -serial` shows it (less colons).
    pub serial: String,
    pub not_before: String,
    pub not_after: String,
    /// rsa, ec-p256, ec-p384, ed25519, dsa, other
    pub key_type: String,
    pub key_bits: u32,
    pub signature_algorithm: String,
    /// SHA-256 of the certificate (DER), lowercase hex.
    pub sha256: String,
    /// `sha256:<hex>` of the public key, comparable with a private key's.
    pub public_key_fingerprint: String,
    pub is_ca: bool,
    pub self_signed: bool,
    pub key_usage: Vec<String>,
    pub extended_key_usage: Vec<String>,
}

/// The certificate policy (rules/certificates.toml `[policy]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Policy {
    pub min_rsa_bits: u32,
    pub min_ec_bits: u32,
    /// Signature digests accepted: sha256, sha384, sha512.
    pub allowed_digests: Vec<String>,
    pub allow_ca: bool,
    /// When the certificate lists extended key usages, clientAuth must be one.
    pub require_client_auth: bool,
    /// It must stay valid at least this many days from now.
    pub min_days_left: i64,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            min_rsa_bits: 2048,
            min_ec_bits: 256,
            allowed_digests: vec!["sha256".into(), "sha384".into(), "sha512".into()],
            allow_ca: false,
            require_client_auth: true,
            min_days_left: 30,
        }
    }
}

fn time(t: &ASN1Time) -> DateTime<Utc> {
    DateTime::from_timestamp(t.timestamp(), 0).unwrap_or_default()
}

/// Reads a DER certificate.
pub fn facts(der: &[u8]) -> Option<CertificateFacts> {
    let (_, cert) = X509Certificate::from_der(der).ok()?;
    let spki_raw = cert.public_key().raw;
    let (key_type, key_bits) = key_of(spki_raw, &cert);
    let signature_algorithm = x509_parser::objects::oid2sn(
        &cert.signature_algorithm.algorithm,
        x509_parser::objects::oid_registry(),
    )
    .map(str::to_string)
    .unwrap_or_else(|_| cert.signature_algorithm.algorithm.to_id_string());
    let key_usage = match cert.key_usage() {
        Ok(Some(ku)) => ku
            .value
            .to_string()
            .split(", ")
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    };
    let extended_key_usage = match cert.extended_key_usage() {
        Ok(Some(eku)) => {
            let e = eku.value;
            let mut v = Vec::new();
            for (on, name) in [
                (e.any, "any"),
                (e.server_auth, "serverAuth"),
                (e.client_auth, "clientAuth"),
                (e.code_signing, "codeSigning"),
                (e.email_protection, "emailProtection"),
                (e.time_stamping, "timeStamping"),
                (e.ocsp_signing, "OCSPSigning"),
            ] {
                if on {
                    v.push(name.to_string());
                }
            }
            v.extend(e.other.iter().map(|o| o.to_id_string()));
            v
        }
        _ => Vec::new(),
    };
    Some(CertificateFacts {
        subject: name_text(cert.subject()),
        issuer: name_text(cert.issuer()),
        serial: cert
            .raw_serial_as_string()
            .replace(':', "")
            .to_ascii_lowercase(),
        not_before: time(&cert.validity().not_before).to_rfc3339(),
        not_after: time(&cert.validity().not_after).to_rfc3339(),
        key_type,
        key_bits,
        signature_algorithm,
        sha256: crate::util::sha256_hex(der),
        public_key_fingerprint: spki_fingerprint(spki_raw),
        is_ca: cert.is_ca(),
        self_signed: cert.subject() == cert.issuer() && cert.verify_signature(None).is_ok(),
        key_usage,
        extended_key_usage,
    })
}

/// A distinguished name as `CN=…, O=…`, with every value decoded as the
/// text it is — UTF-8 even where a client mis-tagged it as a Latin string,
/// which Romanian and Russian names often are.
fn name_text(name: &X509Name<'_>) -> String {
    name.iter_rdn()
        .map(|rdn| {
            rdn.iter()
                .map(|atv| {
                    let key = x509_parser::objects::oid2abbrev(
                        atv.attr_type(),
                        x509_parser::objects::oid_registry(),
                    )
                    .map(str::to_string)
                    .unwrap_or_else(|_| atv.attr_type().to_id_string());
                    format!("{key}={}", value_text(atv.attr_value()))
                })
                .collect::<Vec<_>>()
                .join("+")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn value_text(any: &x509_parser::der_parser::asn1_rs::Any<'_>) -> String {
    let data = any.data;
    if any.tag() == x509_parser::der_parser::asn1_rs::Tag::BmpString {
        let units: Vec<u16> = data
            .chunks_exact(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect();
        return String::from_utf16_lossy(&units);
    }
    match std::str::from_utf8(data) {
        Ok(s) => s.to_string(),
        // Latin-1 (T61/Teletex in practice): every byte is its own code point.
        Err(_) => data.iter().map(|b| *b as char).collect(),
    }
}

fn key_of(spki_raw: &[u8], cert: &X509Certificate<'_>) -> (String, u32) {
    let alg = ber::read(spki_raw)
        .filter(|(t, _)| t.tag == SEQUENCE)
        .and_then(|(t, _)| ber::children(t.content).next())
        .map(|alg| {
            ber::children(alg.content)
                .filter(|t| t.tag == OID)
                .map(|t| t.content.to_vec())
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    let bits = cert
        .public_key()
        .parsed()
        .map(|k| k.key_size() as u32)
        .unwrap_or(0);
    match alg.first().map(Vec::as_slice) {
        Some(oid::RSA_ENCRYPTION) => ("rsa".into(), bits),
        Some(oid::EC_PUBLIC_KEY) => match alg.get(1).map(Vec::as_slice) {
            Some(oid::P256) => ("ec-p256".into(), 256),
            Some(oid::P384) => ("ec-p384".into(), 384),
            Some(oid::P521) => ("ec-p521".into(), 521),
            _ => ("ec".into(), bits),
        },
        Some(oid::ED25519) => ("ed25519".into(), 256),
        Some(oid::DSA) => ("dsa".into(), bits),
        _ => ("other".into(), bits),
    }
}

/// The digest named in a signature algorithm (sha1, sha256, …), if any.
fn digest_of(signature_algorithm: &str) -> Option<String> {
    let lower = signature_algorithm.to_ascii_lowercase();
    ["sha512", "sha384", "sha256", "sha224", "sha1", "md5", "md2"]
        .into_iter()
        .find(|d| lower.contains(d))
        .map(str::to_string)
        .or_else(|| lower.contains("ed25519").then(|| "sha512".to_string()))
}

/// Policy violations, as codes.
pub fn check(f: &CertificateFacts, policy: &Policy, now: DateTime<Utc>) -> Vec<ProblemCode> {
    let mut problems = Vec::new();
    let too_small = match f.key_type.as_str() {
        "rsa" | "dsa" => f.key_bits < policy.min_rsa_bits,
        t if t.starts_with("ec") => f.key_bits < policy.min_ec_bits,
        _ => false,
    };
    if too_small {
        problems.push(ProblemCode::CertKeyTooSmall);
    }
    match digest_of(&f.signature_algorithm) {
        Some(d) if policy.allowed_digests.contains(&d) => {}
        _ => problems.push(ProblemCode::CertWeakSignature),
    }
    if f.is_ca && !policy.allow_ca {
        problems.push(ProblemCode::CertIsCa);
    }
    if policy.require_client_auth
        && !f.extended_key_usage.is_empty()
        && !f
            .extended_key_usage
            .iter()
            .any(|u| u == "clientAuth" || u == "any")
    {
        problems.push(ProblemCode::CertNoClientAuth);
    }
    let not_before = DateTime::parse_from_rfc3339(&f.not_before)
        .map(|d| d.with_timezone(&Utc))
        .unwrap_or(now);
    let not_after = DateTime::parse_from_rfc3339(&f.not_after)
        .map(|d| d.with_timezone(&Utc))
        .unwrap_or(now);
    if not_after < now {
        problems.push(ProblemCode::CertExpired);
    } else if not_after < now + Duration::days(policy.min_days_left) {
        problems.push(ProblemCode::CertExpiresSoon);
    }
    if not_before > now {
        problems.push(ProblemCode::CertNotYetValid);
    }
    problems
}

/// Verifies `end_entity` up to one of `anchors` (DER) for TLS client
/// authentication, with `intermediates` from the same mail.
pub fn chains_to(
    end_entity: &[u8],
    intermediates: &[Vec<u8>],
    anchors: &[Vec<u8>],
    now: DateTime<Utc>,
) -> bool {
    let anchor_ders: Vec<CertificateDer<'_>> = anchors
        .iter()
        .map(|a| CertificateDer::from(a.as_slice()))
        .collect();
    let Ok(trust) = anchor_ders
        .iter()
        .map(|a| webpki::anchor_from_trusted_cert(a).map(|t| t.to_owned()))
        .collect::<Result<Vec<_>, _>>()
    else {
        return false;
    };
    let ee_der = CertificateDer::from(end_entity);
    let Ok(ee) = webpki::EndEntityCert::try_from(&ee_der) else {
        return false;
    };
    let inter: Vec<CertificateDer<'_>> = intermediates
        .iter()
        .map(|i| CertificateDer::from(i.as_slice()))
        .collect();
    let Some(time) = u64::try_from(now.timestamp())
        .ok()
        .map(|s| UnixTime::since_unix_epoch(std::time::Duration::from_secs(s)))
    else {
        return false;
    };
    ee.verify_for_usage(
        webpki::ALL_VERIFICATION_ALGS,
        &trust,
        &inter,
        time,
        webpki::KeyUsage::client_auth(),
        None,
        None,
    )
    .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts_with(
        key_type: &str,
        bits: u32,
        sig: &str,
        eku: &[&str],
        not_after_days: i64,
    ) -> CertificateFacts {
        let now = Utc::now();
        CertificateFacts {
            subject: "CN=x".into(),
            issuer: "CN=y".into(),
            serial: "01".into(),
            not_before: (now - Duration::days(1)).to_rfc3339(),
            not_after: (now + Duration::days(not_after_days)).to_rfc3339(),
            key_type: key_type.into(),
            key_bits: bits,
            signature_algorithm: sig.into(),
            sha256: String::new(),
            public_key_fingerprint: String::new(),
            is_ca: false,
            self_signed: false,
            key_usage: vec![],
            extended_key_usage: eku.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn policy_table() {
        let p = Policy::default();
        let now = Utc::now();
        for (f, want) in [
            (
                facts_with("rsa", 2048, "sha256WithRSAEncryption", &["clientAuth"], 700),
                vec![],
            ),
            (
                facts_with("ec-p256", 256, "ecdsa-with-SHA256", &[], 700),
                vec![],
            ),
            (
                facts_with("rsa", 1024, "sha256WithRSAEncryption", &[], 700),
                vec![ProblemCode::CertKeyTooSmall],
            ),
            (
                facts_with("rsa", 2048, "sha1WithRSAEncryption", &[], 700),
                vec![ProblemCode::CertWeakSignature],
            ),
            (
                facts_with("rsa", 2048, "sha256WithRSAEncryption", &["serverAuth"], 700),
                vec![ProblemCode::CertNoClientAuth],
            ),
            (
                facts_with("rsa", 2048, "sha256WithRSAEncryption", &[], 10),
                vec![ProblemCode::CertExpiresSoon],
            ),
            (
                facts_with("rsa", 2048, "sha256WithRSAEncryption", &[], -1),
                vec![ProblemCode::CertExpired],
            ),
        ] {
            assert_eq!(check(&f, &p, now), want, "{f:?}");
        }
        let mut ca = facts_with("rsa", 4096, "sha384WithRSAEncryption", &[], 3650);
        ca.is_ca = true;
        assert_eq!(check(&ca, &p, now), vec![ProblemCode::CertIsCa]);
    }

    #[test]
    fn garbage_is_not_a_certificate() {
        assert!(facts(b"").is_none());
        assert!(facts(&[0x30, 0x03, 0x02, 0x01, 0x00]).is_none());
        assert!(!chains_to(b"junk", &[], &[b"junk".to_vec()], Utc::now()));
    }
}
