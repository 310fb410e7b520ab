//! Table tests for the signature checker: CMS in its forms, signed PDFs,
//! ASiC-E containers, the date formats, and random input.

mod fixtures;

use std::io::Cursor;

use base64::Engine as _;
use chrono::DateTime;

use super::asice::{Container, EntryError, attribute, elements, percent_decode, xml_date};
use super::asn1::{
    CONTEXT_0, GENERALIZED_TIME, OCTET_STRING, OID, OID_SIGNED_DATA, OID_SIGNING_TIME, SEQUENCE,
    Tlv, UTC_TIME, asn1_time,
};
use super::pdf::pdf_date;
use super::*;
use crate::domain::{SignatureProblem, names};
use fixtures::*;

fn flip_in(data: &mut [u8], needle: &[u8]) {
    let at = find(data, needle, 0).expect("needle present");
    data[at + needle.len() / 2] ^= 0x01;
}

fn assert_signer(sig: &Signature, signer: &Signer) {
    assert_eq!(sig.signer.as_deref(), Some(SIGNER_CN));
    assert_eq!(
        sig.signer_certificate_sha256.as_deref(),
        Some(crate::util::sha256_hex(signer.cert_der).as_str())
    );
}

fn assert_rfc3339_utc(time: Option<&str>) {
    let time = time.expect("a signing time");
    assert!(time.ends_with('Z'), "{time}");
    DateTime::parse_from_rfc3339(time).expect("RFC 3339");
}

type Pick = fn(&Fixtures) -> &Signer;
/// (name, signer, openssl args of the committed signature, what is given, verified, problems)
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
    // args name the committed signature (see `signed`); the format follows
    // -nodetach; a signingTime is there unless -noattr.
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
        let mut der = signed(signer, args);
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
        let sig = cms_signature(&der, detached).unwrap_or_else(|| panic!("{name}: not recognised"));
        assert_eq!(sig.verified, verified, "{name}: {sig:?}");
        assert_eq!(sig.format, format, "{name}");
        assert_eq!(names(&sig.problems), problems, "{name}");
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
    let mut der = signed(&f.rsa, &[]);
    let oid = OID_SIGNING_TIME.as_bytes();
    let at = find(&der, oid, 0).expect("a signingTime attribute") + oid.len();
    // SET { UTCTime }: skip the SET header and UTCTime header, hit a digit.
    assert_eq!(&der[at + 2..at + 4], [UTC_TIME, 13]);
    der[at + 6] ^= 0x01;
    let sig = cms_signature(&der, Some(CONTENT)).unwrap();
    assert_eq!(sig.verified, Some(false));
    assert_eq!(names(&sig.problems), ["bad_signature"]);
}

#[test]
fn cms_pem_armour() {
    let f = fixtures();
    let pem = signed(&f.p256, &["-outform", "PEM"]);
    assert!(pem.starts_with(b"-----BEGIN CMS-----"));
    let sig = cms_signature(&pem, Some(CONTENT)).unwrap();
    assert_eq!(sig.verified, Some(true));
    assert_signer(&sig, &f.p256);

    // PKCS7 label, text around it, as pasted into a mail body.
    let der = signed(&f.rsa, &["-nodetach"]);
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
    let cases: &[(&str, &[u8])] = &[
        ("certs-only bundle", CERTS_ONLY_BUNDLE),
        ("certificate", f.ca_der),
        ("certificate PEM", f.ca_pem),
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
    let der = signed(&f.p256, &[]);
    for len in 0..der.len() {
        let sig = cms_signature(&der[..len], Some(CONTENT));
        if len >= 15 {
            // The signedData OID is visible: reported, as malformed.
            let sig = sig.unwrap_or_else(|| panic!("prefix {len}"));
            assert_eq!(names(&sig.problems), ["malformed"], "prefix {len}");
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
    let ber = signed(&f.rsa, &["-nodetach", "-stream"]);
    for len in (0..ber.len()).step_by(7) {
        let _ = cms_signature(&ber[..len], None);
    }
}

// ------------------------------------------------------------ PDF

#[test]
fn pdf_table() {
    let f = fixtures();
    let signed = PDF_SIGNED_RSA.to_vec();
    let signed_m = PDF_SIGNED_RSA_M_NOATTR.to_vec();
    let signed_ec = PDF_SIGNED_P256_CADES_M;
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
        ("ecdsa cades", signed_ec, Some(true), Some(true), &[], ""),
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
        assert_eq!(names(&sig.problems), problems, "{name}");
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
    // RSA-signed, then an incremental update signed by P-384.
    let sigs = pdf_signatures(PDF_TWO_SIGNATURES);
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
    let cases: &[(&str, &[u8], usize)] = &[
        ("unsigned", unsigned, 0),
        ("not a pdf", b"/ByteRange [0 1 2 3] /Contents <00>", 0),
        (
            "bare /ByteRange beyond the file",
            b"%PDF-1.7\n/ByteRange [0 99999999 5 5]",
            0,
        ),
        ("prepared, never signed", PDF_PREPARED, 0),
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

    let beyond =
        b"%PDF-1.7\n1 0 obj << /Type /Sig /ByteRange [0 99999999 5 5] /Contents <3080> >> endobj";
    let sigs = pdf_signatures(beyond);
    assert_eq!(sigs.len(), 1);
    assert_eq!(sigs[0].verified, None);
    assert_eq!(sigs[0].covers_whole_file, Some(false));
    assert!(
        sigs[0]
            .problems
            .contains(&SignatureProblem::ByteRangeInvalid)
    );

    let negative = b"%PDF-1.7\n<< /ByteRange [0 -5 2 3] /Contents <3000> /Type /Sig >>";
    assert_eq!(
        names(&pdf_signatures(negative)[0].problems),
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
    let signed = PDF_SIGNED_P256;
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

#[test]
fn asice_table() {
    let f = fixtures();
    let mime: &[u8] = b"application/vnd.etsi.asic-e+zip";
    let contract: &[u8] = CONTRACT;
    let xml = xades(f);
    let xades_zip = zip(&[
        ("mimetype", mime, true),
        ("contract.pdf", contract, false),
        ("META-INF/signatures0.xml", xml.as_bytes(), false),
    ]);
    let manifest = ASICE_MANIFEST;
    let p7s = ASICE_SIGNATURE;
    let cades_zip = |data: &[u8]| {
        zip(&[
            ("mimetype", mime, true),
            ("contract semnat.pdf", data, false),
            ("META-INF/ASiCManifest.xml", manifest, false),
            ("META-INF/signature001.p7s", p7s, false),
        ])
    };
    let cades_ok = cades_zip(contract);
    let cades_tampered = cades_zip(b"%PDF-1.7 contract, altered");
    let cades_no_manifest = zip(&[
        ("mimetype", mime, true),
        ("contract.pdf", contract, false),
        ("META-INF/signature001.p7s", p7s, false),
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
        assert_eq!(names(&sig.problems), problems, "{name}");
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
    assert_eq!(names(&truncated[0].problems), ["malformed"]);
}

#[test]
fn container_reads_are_capped() {
    let mime: &[u8] = b"application/vnd.etsi.asic-e+zip";
    let data = zip(&[("mimetype", mime, true), ("big.bin", &[0u8; 4096], false)]);
    let mut zip = zip::ZipArchive::new(Cursor::new(data.as_slice())).unwrap();
    let mut container = Container {
        zip: &mut zip,
        walked: None,
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
fn container_reads_what_the_archive_walk_inflated() {
    use crate::inspect::archive::{Entry, Refusal, Walk};
    let mime: &[u8] = b"application/vnd.etsi.asic-e+zip";
    let data = zip(&[
        ("mimetype", mime, true),
        ("a.txt", b"in the zip", false),
        ("b.txt", b"crc fails", false),
    ]);
    let mut zip = zip::ZipArchive::new(Cursor::new(data.as_slice())).unwrap();
    // The walk's bytes differ from the zip's: reading them shows they were
    // taken from the walk, not inflated again.
    let walk = Walk {
        entries: vec![Entry {
            name: "a.txt".into(),
            index: 1,
            data: b"from the walk".to_vec(),
        }],
        refused: vec![(2, Refusal::Unreadable)],
        problems: Vec::new(),
    };
    let mut container = Container {
        zip: &mut zip,
        walked: Some(&walk),
        names: vec!["mimetype".into(), "a.txt".into(), "b.txt".into()],
        budget: 5000,
        digests: Vec::new(),
    };
    assert_eq!(
        container.read("a.txt", 100).ok().as_deref(),
        Some(&b"from the walk"[..])
    );
    assert!(matches!(
        container.read("a.txt", 4),
        Err(EntryError::TooLarge)
    ));
    assert!(matches!(
        container.read("b.txt", 100),
        Err(EntryError::Broken)
    ));
    // Not reached by the walk: inflated here, once.
    assert_eq!(container.read("mimetype", 100).ok().as_deref(), Some(mime));
    assert_eq!(container.budget, 5000 - 13 - 5 - 31);
}

#[test]
fn xml_helpers() {
    let xml = r#"<a:Signature Id="1"><b/><a:Signature>inner</a:Signature><x:SigningTime>t</x:SigningTime></a:Signature><Signature/><SignatureValue>v</SignatureValue>"#;
    let found = elements(xml, "Signature", 8);
    assert_eq!(found.len(), 2);
    assert!(found[0].content.contains("inner"));
    assert_eq!(found[1].content, "");
    assert_eq!(attribute(found[0].start_tag, "Id").as_deref(), Some("1"));
    assert_eq!(
        attribute(r#"<r xURI="no" URI='yes'>"#, "URI").as_deref(),
        Some("yes")
    );
    assert_eq!(
        attribute(r#"<r URI="a&amp;b.pdf"/>"#, "URI").as_deref(),
        Some("a&b.pdf")
    );
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
    // Ill-formed markup the reader reads past, over and over.
    let ill = format!(
        "{}{}",
        "<?xml?></x><!DOCTYPE>".repeat(50_000),
        "<Signature/>"
    );
    assert_eq!(elements(&ill, "Signature", 16).len(), 1);
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
    assert_eq!(
        cms_signature(&deep, None).unwrap().problems,
        [SignatureProblem::Malformed]
    );
}
