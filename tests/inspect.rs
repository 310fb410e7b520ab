//! Every key, certificate and container format in the generated corpus,
//! in every wrapping a beneficiary's mail can give it — attached under a
//! misleading name and Content-Type, zipped, zipped twice, forwarded,
//! pasted into the body in several charsets — is judged by content; and
//! after a whole pipeline run nothing of any key is left in the database,
//! the spool, the outbox or the logs.

// Tests slice strings they built themselves, at known ASCII offsets.
#![allow(clippy::string_slice)]

mod support;

use std::path::Path;

use egov_intake::domain::{ProblemCode, names};
use egov_intake::inspect::{self, Kind, Settings};
use egov_intake::parse::parse;
use support::fixtures::{self, Corpus, Expect, Fixture};

fn corpus() -> Corpus {
    fixtures::generate().expect("generating the fixture corpus")
}

fn kind_for(expect: Expect) -> &'static [Kind] {
    match expect {
        Expect::PrivateKey => &[Kind::PrivateKey],
        Expect::Pkcs12 => &[Kind::Pkcs12],
        Expect::Certificate => &[Kind::Certificate],
        Expect::PublicKey => &[Kind::PublicKey],
        Expect::Other => &[Kind::Other, Kind::Document],
    }
}

fn holds_key(f: &Fixture) -> bool {
    match f.expect {
        Expect::PrivateKey => true,
        // A PKCS#12 file is never a certificate; a certificate-only one
        // whose contents are sealed counts as a key all the same.
        Expect::Pkcs12 => true,
        _ => false,
    }
}

#[test]
fn every_file_is_judged_by_its_content() {
    let c = corpus();
    let settings = Settings::at(chrono::Utc::now());
    let mut failures = Vec::new();
    for f in &c.fixtures {
        let r = inspect::inspect_file(&f.file_name, &f.bytes, &settings);
        if !kind_for(f.expect).contains(&r.kind) || r.contains_private_key != holds_key(f) {
            failures.push(format!(
                "{}: got {:?} key={} want {:?} key={}",
                f.id,
                r.kind,
                r.contains_private_key,
                f.expect,
                holds_key(f)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn keys_report_type_encryption_and_public_fingerprint() {
    let c = corpus();
    let settings = Settings::at(chrono::Utc::now());
    for (id, key_type, encrypted, has_fingerprint) in [
        ("pkcs8-rsa-pem", Some("rsa"), false, true),
        ("pkcs8-ec-pem", Some("ec-p256"), false, true),
        ("pkcs8-ed25519-pem", Some("ed25519"), false, true),
        ("pkcs8-rsa-pem-encrypted", None, true, false),
        ("pkcs1-rsa-der", Some("rsa"), false, true),
        ("pkcs1-rsa-3prime-der", Some("rsa"), false, true),
        ("pkcs8-rsa-3prime-der", Some("rsa"), false, true),
        ("sec1-ec-der", Some("ec-p256"), false, true),
        ("pkcs1-rsa-pem-legacy-encrypted", Some("rsa"), true, false),
        ("openssh-ed25519-encrypted", Some("ssh-ed25519"), true, true),
        (
            "openssh-ecdsa-encrypted",
            Some("ecdsa-sha2-nistp256"),
            true,
            true,
        ),
        (
            "openssh-sk-ed25519",
            Some("sk-ssh-ed25519@openssh.com"),
            false,
            true,
        ),
        ("ppk-v3-ed25519-encrypted", Some("ssh-ed25519"), true, true),
        ("ppk-v2-rsa", Some("ssh-rsa"), false, true),
        ("jwk-ec-private", Some("ec-p-256"), false, true),
    ] {
        let f = c.get(id);
        let r = inspect::inspect_file(&f.file_name, &f.bytes, &settings);
        let (_, k) = r
            .keys
            .first()
            .unwrap_or_else(|| panic!("{id}: no key found"));
        if let Some(t) = key_type {
            assert_eq!(k.key_type.as_deref(), Some(t), "{id}: {k:?}");
        }
        assert_eq!(k.encrypted, encrypted, "{id}: {k:?}");
        assert_eq!(k.fingerprint.is_some(), has_fingerprint, "{id}: {k:?}");
    }
    // The RSA key behind the PKCS#8 file and the certificate is the same:
    // the key's public fingerprint names the certificate it belongs to.
    let key = inspect::inspect_file("k", &c.get("pkcs8-rsa-pem").bytes, &settings);
    let cert = inspect::inspect_file("c", &c.get("cert-valid-rsa2048-der").bytes, &settings);
    assert_eq!(
        key.keys[0].1.fingerprint.as_ref(),
        Some(&cert.certificate.unwrap().public_key_fingerprint)
    );
    let p12 = inspect::inspect_file("p", &c.get("pkcs12-nopass").bytes, &settings);
    assert_eq!(p12.keys[0].1.key_bag, Some(true));
}

#[test]
fn certificate_policy_table() {
    let c = corpus();
    let settings = Settings::at(chrono::Utc::now());
    for (id, want) in [
        ("cert-valid-rsa2048-der", &[][..]),
        ("cert-valid-rsa2048-pem", &[]),
        ("cert-valid-ec-p256", &[]),
        ("cert-chain-pem", &["cert_is_ca"]),
        ("cert-expired", &["cert_expired"]),
        ("cert-expiring-10d", &["cert_expires_soon"]),
        ("cert-rsa1024", &["cert_key_too_small"]),
        ("cert-sha1", &["cert_weak_signature"]),
        ("cert-eku-serverauth", &["cert_no_client_auth"]),
        ("cert-ca-selfsigned", &["cert_is_ca"]),
    ] {
        let f = c.get(id);
        let r = inspect::inspect_file(&f.file_name, &f.bytes, &settings);
        assert_eq!(r.kind, Kind::Certificate, "{id}");
        let facts = r.certificate.as_ref().unwrap();
        assert!(
            !facts.subject.is_empty() && facts.sha256.len() == 64,
            "{id}: {facts:?}"
        );
        assert_eq!(names(&r.problems), want, "{id}: {facts:?}");
    }
    let valid = inspect::inspect_file("c", &c.get("cert-valid-rsa2048-der").bytes, &settings);
    let facts = valid.certificate.unwrap();
    assert_eq!(
        (facts.key_type.as_str(), facts.key_bits, facts.is_ca),
        ("rsa", 2048, false)
    );
    assert!(facts.extended_key_usage.contains(&"clientAuth".to_string()));
    assert_eq!(facts.signature_algorithm, "sha256WithRSAEncryption");
}

#[test]
fn chains_are_checked_against_configured_anchors() {
    let c = corpus();
    let anchor = rustls_pki_types_der(&c.root_ca_pem);
    let settings = Settings {
        anchors: anchor.clone(),
        ..Settings::at(chrono::Utc::now())
    };
    // The leaf alone cannot reach the root; with the intermediate in the same mail it can.
    let leaf = c.get("cert-valid-rsa2048-der");
    let alone = parse(
        &fixtures::mail_with_attachment("<c1@primaria.md>", leaf),
        10,
    );
    let i = inspect::inspect(&alone, &settings);
    assert!(
        i.attachments[0]
            .report
            .problems
            .contains(&ProblemCode::CertUntrusted)
    );
    let chain = c.get("cert-chain-pem");
    let with_chain = parse(
        &fixtures::mail_with_zip("<c2@primaria.md>", &[leaf, chain], false),
        10,
    );
    let i = inspect::inspect(&with_chain, &settings);
    let leaf_report = i
        .attachments
        .iter()
        .find(|a| a.report.certificate.is_some())
        .map(|a| &a.report);
    assert!(
        leaf_report.is_none()
            || !leaf_report
                .unwrap()
                .problems
                .contains(&ProblemCode::CertUntrusted)
    );
    let other_root = Settings {
        anchors: rustls_pki_types_der(&c.intermediate_ca_pem),
        ..Settings::at(chrono::Utc::now())
    };
    let direct = parse(
        &fixtures::mail_with_attachment("<c3@primaria.md>", leaf),
        10,
    );
    let i = inspect::inspect(&direct, &other_root);
    assert!(
        !i.attachments[0]
            .report
            .problems
            .contains(&ProblemCode::CertUntrusted),
        "issued by the anchor itself"
    );
}

fn rustls_pki_types_der(pem: &[u8]) -> Vec<Vec<u8>> {
    use rustls_pki_types::pem::PemObject;
    rustls_pki_types::CertificateDer::pem_slice_iter(pem)
        .map(|c| c.unwrap().to_vec())
        .collect()
}

/// Every key fixture, every wrapping: the mail is found to hold a key.
#[test]
fn keys_are_found_in_every_wrapping() {
    let c = corpus();
    let settings = Settings::at(chrono::Utc::now());
    let mut failures = Vec::new();
    for f in c.fixtures.iter().filter(|f| holds_key(f)) {
        let mut wrappings: Vec<(String, Vec<u8>)> = vec![
            (
                "attachment".into(),
                fixtures::mail_with_attachment("<w1@primaria.md>", f),
            ),
            (
                "zip".into(),
                fixtures::mail_with_zip("<w2@primaria.md>", &[f], false),
            ),
            (
                "zip in zip".into(),
                fixtures::mail_with_zip("<w3@primaria.md>", &[f], true),
            ),
            (
                "forwarded".into(),
                fixtures::forwarded_mail(
                    "<w4@primaria.md>",
                    &fixtures::mail_with_attachment("<w5@primaria.md>", f),
                ),
            ),
        ];
        if let Ok(text) = std::str::from_utf8(&f.bytes)
            && text.is_ascii()
        {
            for (charset, intro) in [
                ("utf-8", "Bună ziua, atașăm cheia / Прилагаем ключ:"),
                ("windows-1251", "Прилагаем ключ:"),
                ("koi8-r", "Прилагаем ключ:"),
                ("iso-8859-2", "Bună ziua, ataşăm cheia:"),
            ] {
                let body = format!("{intro}\n\n{text}\n");
                wrappings.push((
                    format!("pasted {charset}"),
                    fixtures::mail_with_pasted_body("<w6@primaria.md>", &body, charset),
                ));
            }
        }
        for (how, raw) in wrappings {
            let mail = parse(&raw, 20);
            let i = inspect::inspect(&mail, &settings);
            if !i.private_key_found {
                failures.push(format!("{} {how}", f.id));
            }
        }
    }
    assert!(failures.is_empty(), "keys missed:\n{}", failures.join("\n"));
}

#[test]
fn archives_are_opened_within_limits() {
    let c = corpus();
    let settings = Settings::at(chrono::Utc::now());
    let bomb = inspect::inspect_file("bomb.zip", &fixtures::zip_bomb(), &settings);
    assert_eq!(bomb.kind, Kind::Archive);
    assert!(
        bomb.problems.contains(&ProblemCode::ArchiveBomb),
        "{:?}",
        bomb.problems
    );
    let many = inspect::inspect_file("many.zip", &fixtures::zip_many_entries(5000), &settings);
    assert!(
        many.problems.contains(&ProblemCode::ArchiveTooManyEntries),
        "{:?}",
        many.problems
    );
    let key = c.get("pkcs8-rsa-pem");
    let deep = inspect::inspect_file("deep.zip", &fixtures::zip_nested(6, key), &settings);
    assert!(
        deep.problems.contains(&ProblemCode::ArchiveTooDeep),
        "{:?}",
        deep.problems
    );
    let shallow = inspect::inspect_file("ok.zip", &fixtures::zip_nested(2, key), &settings);
    assert!(shallow.contains_private_key, "{:?}", shallow.findings);
}

/// The whole pipeline on every wrapped key: afterwards no secret of any key
/// is in the database, the spool, the outbox or the log.
#[test]
fn no_key_is_persisted_anywhere() {
    let c = corpus();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let rules = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
    std::fs::write(
        d.join("intake.toml"),
        format!(
            "[database]\nurl = \"sqlite://{d}/intake.db\"\n[rules]\ndir = \"{r}\"\n[spool]\ndir = \"{d}/spool\"\n\
             [[mailbox]]\nname = \"mpass\"\nrole = \"mpass\"\naddress = \"support.mpass@egov.md\"\n\
             source = {{ kind = \"maildir\", path = \"{d}/mail\" }}\n\
             [transport]\nkind = \"file\"\ndir = \"{d}/outbox\"\n[staff]\nalerts = [\"staff@egov.md\"]\n\
             [limits]\nreplies_per_recipient_10min = 1000\nreplies_per_recipient_day = 1000\n",
            d = d.display(),
            r = rules.display()
        ),
    )
    .unwrap();
    std::fs::create_dir_all(d.join("mail/new")).unwrap();
    let mut secrets = Vec::new();
    let mut n = 0;
    for f in c.fixtures.iter().filter(|f| holds_key(f)) {
        secrets.extend(f.secrets.iter().cloned());
        for raw in [
            fixtures::mail_with_attachment(&format!("<p{n}a@primaria.md>"), f),
            fixtures::mail_with_zip(&format!("<p{n}z@primaria.md>"), &[f], false),
            fixtures::forwarded_mail(
                &format!("<p{n}f@primaria.md>"),
                &fixtures::mail_with_attachment(&format!("<p{n}i@primaria.md>"), f),
            ),
            unreachable_parts(&fixtures::mail_with_attachment(
                &format!("<p{n}u@primaria.md>"),
                f,
            )),
        ] {
            n += 1;
            std::fs::write(d.join(format!("mail/new/17000{n:05}.{n}.host")), raw).unwrap();
        }
    }
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_egov-intake"))
        .args(["run", "--once", "--config"])
        .arg(d.join("intake.toml"))
        .env("RUST_LOG", "debug")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        std::fs::read_dir(d.join("mail/new"))
            .unwrap()
            .next()
            .is_none(),
        "every mail handled"
    );
    let quarantined = std::fs::read_dir(d.join("mail/.Quarantine.PrivateKeys/cur"))
        .unwrap()
        .count();
    assert_eq!(quarantined, n, "every key mail in the restricted folder");

    let mut haystacks: Vec<(String, Vec<u8>)> = vec![
        ("stdout".into(), out.stdout.clone()),
        ("stderr (log)".into(), out.stderr.clone()),
    ];
    for entry in walk(d) {
        let rel = entry
            .strip_prefix(d)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        // The Maildir holds the mail as delivered: that is the server's copy.
        if rel.starts_with("mail") {
            continue;
        }
        haystacks.push((rel, std::fs::read(&entry).unwrap()));
    }
    assert!(haystacks.iter().any(|(n, _)| n == "intake.db"));
    assert!(
        secrets.len() > 20,
        "too few secrets to check: {}",
        secrets.len()
    );
    for (name, bytes) in &haystacks {
        for s in &secrets {
            assert!(
                !bytes.windows(s.len()).any(|w| w == s.as_bytes()),
                "a key's bytes ({s}) are in {name}"
            );
        }
    }
}

/// `raw` with its multipart boundary declared as one that never occurs:
/// the parser reaches none of its parts, so only the raw scan can find a
/// key in them (its base64 lines run up to the real delimiter lines).
fn unreachable_parts(raw: &[u8]) -> Vec<u8> {
    let text = String::from_utf8(raw.to_vec()).expect("fixture mails are ASCII");
    assert!(text.contains("boundary=\""));
    text.replacen("boundary=\"", "boundary=\"never", 1)
        .into_bytes()
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}
