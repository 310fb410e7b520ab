//! Smoke test of the fixture generator (tests/support/fixtures.rs) that the detection and leak
//! tests rely on: every promised fixture exists, its secrets are where they are said to be, and
//! the tools that made the files (openssl, ssh-keygen, puttygen) read them back as what the
//! fixture claims — so a failing detection test points at the daemon, not at the corpus.
//!
//! Failures are collected and reported together: one broken fixture should not hide the others.

// Tests slice strings they built themselves, at known ASCII offsets.
#![allow(clippy::string_slice)]

mod support;

use std::fs;
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use mail_parser::{MessageParser, MimeHeaders};
use support::fixtures::{self, Corpus, Expect, Fixture, PASSWORD};
use x509_parser::prelude::*;

/// Every id the brief promises, with what it is and whether it is password-protected.
const EXPECTED: &[(&str, Expect, bool)] = &[
    // PEM private keys.
    ("pkcs8-rsa-pem", Expect::PrivateKey, false),
    ("pkcs8-ec-pem", Expect::PrivateKey, false),
    ("pkcs8-ed25519-pem", Expect::PrivateKey, false),
    ("pkcs8-rsa-pem-encrypted", Expect::PrivateKey, true),
    ("pkcs8-ec-pem-encrypted", Expect::PrivateKey, true),
    ("pkcs1-rsa-pem", Expect::PrivateKey, false),
    ("pkcs1-rsa-pem-legacy-encrypted", Expect::PrivateKey, true),
    ("sec1-ec-pem", Expect::PrivateKey, false),
    ("dsa-pem", Expect::PrivateKey, false),
    ("pem-bundle-cert-key", Expect::PrivateKey, false),
    // DER private keys.
    ("pkcs8-rsa-der", Expect::PrivateKey, false),
    ("pkcs8-rsa-der-encrypted", Expect::PrivateKey, true),
    ("pkcs8-ec-der", Expect::PrivateKey, false),
    ("pkcs8-ec-der-encrypted", Expect::PrivateKey, true),
    ("pkcs1-rsa-der", Expect::PrivateKey, false),
    ("sec1-ec-der", Expect::PrivateKey, false),
    // PKCS#12.
    ("pkcs12-modern-aes", Expect::Pkcs12, true),
    ("pkcs12-legacy-rc2-3des", Expect::Pkcs12, true),
    ("pkcs12-ber-indefinite", Expect::Pkcs12, true),
    ("pkcs12-certonly-nokeys", Expect::Pkcs12, true),
    ("pkcs12-nopass", Expect::Pkcs12, false),
    ("pkcs12-renamed-cer", Expect::Pkcs12, true),
    // OpenSSH.
    ("openssh-ed25519", Expect::PrivateKey, false),
    ("openssh-ed25519-encrypted", Expect::PrivateKey, true),
    ("openssh-rsa", Expect::PrivateKey, false),
    ("openssh-rsa-encrypted", Expect::PrivateKey, true),
    ("openssh-ecdsa", Expect::PrivateKey, false),
    ("openssh-ecdsa-encrypted", Expect::PrivateKey, true),
    ("openssh-sk-ed25519", Expect::PrivateKey, false),
    // PuTTY and ssh.com.
    ("ppk-v2-rsa", Expect::PrivateKey, false),
    ("ppk-v2-rsa-encrypted", Expect::PrivateKey, true),
    ("ppk-v3-rsa", Expect::PrivateKey, false),
    ("ppk-v3-rsa-encrypted", Expect::PrivateKey, true),
    ("ppk-v3-ed25519", Expect::PrivateKey, false),
    ("ppk-v3-ed25519-encrypted", Expect::PrivateKey, true),
    ("sshcom-rsa", Expect::PrivateKey, false),
    ("sshcom-encrypted", Expect::PrivateKey, true),
    // JWK.
    ("jwk-ec-private", Expect::PrivateKey, false),
    ("jwk-rsa-private", Expect::PrivateKey, false),
    ("jwk-ec-public", Expect::PublicKey, false),
    // Certificates.
    ("cert-valid-rsa2048-der", Expect::Certificate, false),
    ("cert-valid-rsa2048-pem", Expect::Certificate, false),
    ("cert-valid-ec-p256", Expect::Certificate, false),
    ("cert-expired", Expect::Certificate, false),
    ("cert-expiring-10d", Expect::Certificate, false),
    ("cert-ca-selfsigned", Expect::Certificate, false),
    ("cert-rsa1024", Expect::Certificate, false),
    ("cert-sha1", Expect::Certificate, false),
    ("cert-eku-serverauth", Expect::Certificate, false),
    ("cert-chain-pem", Expect::Certificate, false),
    // Public keys and decoys.
    ("pubkey-pem", Expect::PublicKey, false),
    ("openssh-pub", Expect::PublicKey, false),
    ("text-plain", Expect::Other, false),
    ("pdf-minimal", Expect::Other, false),
    ("random-bytes", Expect::Other, false),
];

/// Collects failures so that all of them are reported at the end.
#[derive(Default)]
struct Failures(Vec<String>);

impl Failures {
    fn check(&mut self, ok: bool, what: impl FnOnce() -> String) {
        if !ok {
            self.0.push(what());
        }
    }

    fn finish(self) {
        assert!(
            self.0.is_empty(),
            "{} problem(s):\n- {}",
            self.0.len(),
            self.0.join("\n- ")
        );
    }
}

fn holds_key(f: &Fixture) -> bool {
    f.expect == Expect::PrivateKey
        || (f.expect == Expect::Pkcs12 && f.id != "pkcs12-certonly-nokeys")
}

/// Runs a tool; Ok(stdout + stderr) when it exits 0, Err(the same) otherwise.
fn tool(program: &str, args: &[&str]) -> Result<String, String> {
    let out = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.success() {
        Ok(text)
    } else {
        Err(format!("`{program} {}` failed: {text}", args.join(" ")))
    }
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs() as i64
}

/// DER of the first certificate in a PEM or DER file.
fn first_cert_der(bytes: &[u8]) -> Vec<u8> {
    pem_certs(bytes)
        .into_iter()
        .next()
        .unwrap_or_else(|| bytes.to_vec())
}

fn pem_certs(bytes: &[u8]) -> Vec<Vec<u8>> {
    let text = String::from_utf8_lossy(bytes);
    let mut certs = Vec::new();
    let mut body: Option<String> = None;
    for line in text.lines() {
        if line.starts_with("-----BEGIN CERTIFICATE-----") {
            body = Some(String::new());
        } else if line.starts_with("-----END CERTIFICATE-----") {
            let b64 = body.take().expect("BEGIN before END");
            certs.push(STANDARD.decode(b64).expect("valid PEM base64"));
        } else if let Some(b) = body.as_mut() {
            b.push_str(line.trim());
        }
    }
    certs
}

#[test]
fn corpus_is_complete_and_consistent() {
    let started = Instant::now();
    let corpus = fixtures::generate().expect("generating the fixture corpus");
    let elapsed = started.elapsed();
    println!(
        "generated {} fixtures in {elapsed:?}",
        corpus.fixtures.len()
    );
    for f in &corpus.fixtures {
        println!(
            "{:32} {:12} enc={:5} {:6} B  {} secrets  {} ({})",
            f.id,
            format!("{:?}", f.expect),
            f.encrypted,
            f.bytes.len(),
            f.secrets.len(),
            f.file_name,
            f.content_type
        );
    }
    // Generous: the budget is a few seconds, but CI machines vary.
    assert!(
        elapsed < Duration::from_secs(60),
        "generation took {elapsed:?}"
    );

    let mut failures = Failures::default();
    check_ids(&corpus, &mut failures);
    check_secrets(&corpus, &mut failures);
    check_private_keys_with_openssl(&corpus, &mut failures);
    check_pkcs12(&corpus, &mut failures);
    check_ssh_keys(&corpus, &mut failures);
    check_certificates(&corpus, &mut failures);
    check_jwks(&corpus, &mut failures);
    check_others(&corpus, &mut failures);
    failures.finish();
}

fn check_ids(corpus: &Corpus, failures: &mut Failures) {
    for &(id, expect, encrypted) in EXPECTED {
        match corpus.fixtures.iter().find(|f| f.id == id) {
            None => failures.0.push(format!("missing fixture {id}")),
            Some(f) => {
                failures.check(f.expect == expect, || {
                    format!("{id}: expect {:?}, wanted {expect:?}", f.expect)
                });
                failures.check(f.encrypted == encrypted, || {
                    format!("{id}: encrypted = {}, wanted {encrypted}", f.encrypted)
                });
                failures.check(!f.bytes.is_empty(), || format!("{id}: empty"));
                failures.check(corpus.path(id).is_file(), || {
                    format!("{id}: not on disk at {}", corpus.path(id).display())
                });
            }
        }
    }
    // The alias the Fixture docs use.
    failures.check(
        corpus.get("cert-valid-rsa2048").id == "cert-valid-rsa2048-der",
        || "alias cert-valid-rsa2048 does not resolve".to_owned(),
    );
    let mut ids: Vec<&str> = corpus.fixtures.iter().map(|f| f.id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    failures.check(ids.len() == corpus.fixtures.len(), || {
        "duplicate fixture ids".to_owned()
    });
    // Misleading names are part of the point.
    for (id, name) in [
        ("pkcs8-rsa-der", "cheie.cer"),
        ("pkcs1-rsa-der", "certificat.crt"),
        ("pkcs12-renamed-cer", "certificat.cer"),
        ("pkcs12-modern-aes", "sistem.pfx"),
    ] {
        failures.check(corpus.get(id).file_name == name, || {
            format!("{id}: file name {:?}", corpus.get(id).file_name)
        });
    }
}

fn check_secrets(corpus: &Corpus, failures: &mut Failures) {
    let public_text: Vec<String> = corpus
        .fixtures
        .iter()
        .filter(|f| matches!(f.expect, Expect::Certificate | Expect::PublicKey))
        .flat_map(|f| {
            [
                STANDARD.encode(&f.bytes),
                String::from_utf8_lossy(&f.bytes).into_owned(),
            ]
        })
        .collect();
    for f in &corpus.fixtures {
        if !holds_key(f) {
            failures.check(f.secrets.is_empty(), || {
                format!("{}: holds no key but has secrets", f.id)
            });
            continue;
        }
        failures.check(!f.secrets.is_empty(), || format!("{}: no secrets", f.id));
        let encoded = STANDARD.encode(&f.bytes);
        let text = String::from_utf8_lossy(&f.bytes);
        let mail = String::from_utf8(fixtures::mail_with_attachment("<s@test>", f))
            .expect("mails are ASCII");
        for secret in &f.secrets {
            failures.check(
                secret.len() >= 40
                    && secret
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(&b)),
                || format!("{}: secret {secret:?} is not a 40+ char base64 run", f.id),
            );
            let in_base64 = encoded.contains(secret.as_str());
            failures.check(in_base64 || text.contains(secret.as_str()), || {
                format!(
                    "{}: secret {secret} is in neither the file nor its base64",
                    f.id
                )
            });
            // Runs of base64(bytes) must survive the mail's 76-column wrapping.
            failures.check(!in_base64 || mail.contains(secret.as_str()), || {
                format!("{}: secret {secret} is split in the attachment mail", f.id)
            });
            failures.check(
                !public_text.iter().any(|p| p.contains(secret.as_str())),
                || format!("{}: secret {secret} occurs in a public fixture", f.id),
            );
        }
    }
}

/// PEM/DER private keys: `openssl pkey` reads them, with the password exactly when encrypted.
fn check_private_keys_with_openssl(corpus: &Corpus, failures: &mut Failures) {
    for f in &corpus.fixtures {
        let openssl_format = ["pkcs8-", "pkcs1-", "sec1-", "dsa-", "pem-bundle-"]
            .iter()
            .any(|p| f.id.starts_with(p));
        if !openssl_format {
            continue;
        }
        let path = corpus.path(&f.id);
        let path = path.to_str().expect("UTF-8 temp path");
        let inform = if f.bytes.starts_with(b"-----") || f.bytes.starts_with(b"-----BEGIN") {
            "PEM"
        } else {
            "DER"
        };
        let right = format!("pass:{}", if f.encrypted { PASSWORD } else { "" });
        let args = ["pkey", "-in", path, "-inform", inform, "-noout", "-passin"];
        if let Err(e) = tool("openssl", &[&args[..], &[&right]].concat()) {
            failures.0.push(format!("{}: {e}", f.id));
        }
        if f.encrypted {
            failures.check(
                tool("openssl", &[&args[..], &["pass:wrong"]].concat()).is_err(),
                || format!("{}: opens with a wrong password", f.id),
            );
        }
    }
    let bundle = String::from_utf8_lossy(&corpus.get("pem-bundle-cert-key").bytes).into_owned();
    failures.check(
        bundle.find("BEGIN CERTIFICATE") < bundle.find("BEGIN PRIVATE KEY"),
        || "pem-bundle-cert-key: not a certificate followed by a key".to_owned(),
    );
    let legacy =
        String::from_utf8_lossy(&corpus.get("pkcs1-rsa-pem-legacy-encrypted").bytes).into_owned();
    failures.check(
        legacy.contains("BEGIN RSA PRIVATE KEY") && legacy.contains("Proc-Type: 4,ENCRYPTED"),
        || "pkcs1-rsa-pem-legacy-encrypted: no Proc-Type header".to_owned(),
    );
    for (id, label) in [
        ("pkcs8-rsa-pem", "PRIVATE KEY"),
        ("pkcs8-rsa-pem-encrypted", "ENCRYPTED PRIVATE KEY"),
        ("pkcs1-rsa-pem", "RSA PRIVATE KEY"),
        ("sec1-ec-pem", "EC PRIVATE KEY"),
        ("dsa-pem", "DSA PRIVATE KEY"),
    ] {
        let begin = format!("-----BEGIN {label}-----");
        failures.check(corpus.get(id).bytes.starts_with(begin.as_bytes()), || {
            format!("{id}: does not start with {begin}")
        });
    }
}

fn check_pkcs12(corpus: &Corpus, failures: &mut Failures) {
    for f in corpus
        .fixtures
        .iter()
        .filter(|f| f.expect == Expect::Pkcs12)
    {
        let path = corpus.path(&f.id);
        let pass = format!("pass:{}", if f.encrypted { PASSWORD } else { "" });
        let mut args = vec![
            "pkcs12",
            "-info",
            "-noout",
            "-in",
            path.to_str().expect("UTF-8 temp path"),
            "-passin",
            &pass,
        ];
        if f.id == "pkcs12-legacy-rc2-3des" {
            // RC2 lives in OpenSSL 3's legacy provider.
            args.push("-legacy");
        }
        match tool("openssl", &args) {
            Err(e) => failures.0.push(format!("{}: {e}", f.id)),
            Ok(info) => {
                let has_key = info.contains("Shrouded Keybag") || info.contains("Key bag");
                failures.check(has_key == holds_key(f), || {
                    format!("{}: key bag present = {has_key}:\n{info}", f.id)
                });
                let algorithms_ok = match f.id.as_str() {
                    "pkcs12-modern-aes" | "pkcs12-ber-indefinite" => info.contains("AES-256-CBC"),
                    "pkcs12-legacy-rc2-3des" => info.contains("RC2") && info.contains("TripleDES"),
                    "pkcs12-nopass" => info.contains("MAC is absent"),
                    _ => true,
                };
                failures.check(algorithms_ok, || {
                    format!("{}: unexpected algorithms:\n{info}", f.id)
                });
            }
        }
    }
    // Firefox-style BER: indefinite-length PFX, then version 3, then an indefinite authSafe.
    let ber = &corpus.get("pkcs12-ber-indefinite").bytes;
    failures.check(
        ber.starts_with(&[0x30, 0x80, 0x02, 0x01, 0x03, 0x30, 0x80]) && ber.ends_with(&[0, 0]),
        || {
            format!(
                "pkcs12-ber-indefinite starts {:02x?}",
                &ber[..8.min(ber.len())]
            )
        },
    );
}

fn check_ssh_keys(corpus: &Corpus, failures: &mut Failures) {
    let scratch = tempfile::tempdir().expect("temp dir");
    let password_file = scratch.path().join("password.txt");
    fs::write(&password_file, format!("{PASSWORD}\n")).expect("write password file");
    let password_file = password_file.to_str().expect("UTF-8 temp path");
    for f in &corpus.fixtures {
        let path = corpus.path(&f.id);
        let path = path.to_str().expect("UTF-8 temp path");
        if f.id.starts_with("openssh-") && f.expect == Expect::PrivateKey {
            let pass = if f.encrypted { PASSWORD } else { "" };
            match tool("ssh-keygen", &["-y", "-P", pass, "-f", path]) {
                Ok(public) => failures.check(
                    public.starts_with("ssh-")
                        || public.starts_with("ecdsa-")
                        || public.starts_with("sk-ssh-ed25519@openssh.com "),
                    || format!("{}: ssh-keygen -y printed {public}", f.id),
                ),
                Err(e) => failures.0.push(format!("{}: {e}", f.id)),
            }
            if f.encrypted {
                failures.check(
                    tool("ssh-keygen", &["-y", "-P", "wrong", "-f", path]).is_err(),
                    || format!("{}: opens with a wrong passphrase", f.id),
                );
            }
            // ssh-key is built without its "ecdsa" feature ("unknown algorithm" for ECDSA keys),
            // so ECDSA relies on the ssh-keygen check above.
            if f.id.starts_with("openssh-ecdsa") {
                continue;
            }
            match ssh_key::PrivateKey::from_openssh(&f.bytes) {
                Ok(key) => {
                    failures.check(key.is_encrypted() == f.encrypted, || {
                        format!("{}: ssh-key says encrypted = {}", f.id, key.is_encrypted())
                    });
                    if f.id == "openssh-sk-ed25519" {
                        failures.check(key.algorithm() == ssh_key::Algorithm::SkEd25519, || {
                            format!("{}: algorithm {}", f.id, key.algorithm())
                        });
                    }
                }
                Err(e) => failures
                    .0
                    .push(format!("{}: ssh-key cannot parse: {e}", f.id)),
            }
        }
        if f.id.starts_with("ppk-") || f.id.starts_with("sshcom-") {
            let mut args = vec![path, "-L"];
            if f.encrypted {
                args.extend(["--old-passphrase", password_file]);
            }
            match tool("puttygen", &args) {
                Ok(public) => failures.check(public.starts_with("ssh-"), || {
                    format!("{}: puttygen -L printed {public}", f.id)
                }),
                Err(e) => failures.0.push(format!("{}: {e}", f.id)),
            }
        }
    }
    for (id, first_line) in [
        ("ppk-v2-rsa", "PuTTY-User-Key-File-2: ssh-rsa"),
        (
            "ppk-v3-ed25519-encrypted",
            "PuTTY-User-Key-File-3: ssh-ed25519",
        ),
        (
            "sshcom-encrypted",
            "---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----",
        ),
        ("sshcom-rsa", "---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----"),
        ("openssh-sk-ed25519", "-----BEGIN OPENSSH PRIVATE KEY-----"),
    ] {
        failures.check(
            corpus.get(id).bytes.starts_with(first_line.as_bytes()),
            || format!("{id}: does not start with {first_line}"),
        );
    }
    let pubkey = corpus.path("openssh-pub");
    if let Err(e) = tool("ssh-keygen", &["-l", "-f", pubkey.to_str().expect("UTF-8")]) {
        failures.0.push(format!("openssh-pub: {e}"));
    }
    let pem = corpus.path("pubkey-pem");
    if let Err(e) = tool(
        "openssl",
        &[
            "pkey",
            "-pubin",
            "-noout",
            "-in",
            pem.to_str().expect("UTF-8"),
        ],
    ) {
        failures.0.push(format!("pubkey-pem: {e}"));
    }
}

fn check_certificates(corpus: &Corpus, failures: &mut Failures) {
    use x509_parser::oid_registry::{OID_PKCS1_SHA1WITHRSA, OID_PKCS1_SHA256WITHRSA};
    use x509_parser::public_key::PublicKey;
    let day = 86_400;
    let intermediate_der = first_cert_der(&corpus.intermediate_ca_pem);
    let (_, intermediate) =
        parse_x509_certificate(&intermediate_der).expect("the intermediate parses");
    let root_der = first_cert_der(&corpus.root_ca_pem);
    let (_, root) = parse_x509_certificate(&root_der).expect("the root parses");
    failures.check(
        intermediate
            .verify_signature(Some(root.public_key()))
            .is_ok()
            && intermediate.is_ca(),
        || "the intermediate is not a CA signed by the root".to_owned(),
    );

    for f in corpus
        .fixtures
        .iter()
        .filter(|f| f.expect == Expect::Certificate)
    {
        let der = first_cert_der(&f.bytes);
        let cert = match parse_x509_certificate(&der) {
            Ok((_, cert)) => cert,
            Err(e) => {
                failures.0.push(format!("{}: x509-parser: {e}", f.id));
                continue;
            }
        };
        let not_after = cert.validity().not_after.timestamp();
        let eku = cert.extended_key_usage().ok().flatten().map(|e| e.value);
        let client_auth = eku.is_some_and(|e| e.client_auth);
        let server_auth = eku.is_some_and(|e| e.server_auth);
        let rsa_bits = match cert.public_key().parsed() {
            Ok(PublicKey::RSA(rsa)) => rsa.key_size(),
            _ => 0,
        };
        let sig = &cert.signature_algorithm.algorithm;
        if f.id != "cert-ca-selfsigned" {
            failures.check(
                cert.issuer() == intermediate.subject()
                    && cert
                        .verify_signature(Some(intermediate.public_key()))
                        .is_ok(),
                || format!("{}: not signed by the intermediate", f.id),
            );
        }
        let ok = match f.id.as_str() {
            "cert-valid-rsa2048-der" | "cert-valid-rsa2048-pem" | "cert-chain-pem" => {
                rsa_bits == 2048
                    && *sig == OID_PKCS1_SHA256WITHRSA
                    && client_auth
                    && !cert.is_ca()
                    && (729 * day..=731 * day).contains(&(not_after - now()))
            }
            "cert-valid-ec-p256" => {
                rsa_bits == 0
                    && matches!(cert.public_key().parsed(), Ok(PublicKey::EC(_)))
                    && client_auth
            }
            "cert-expired" => not_after < now() && rsa_bits == 2048 && client_auth,
            "cert-expiring-10d" => {
                (9 * day..=10 * day + 600).contains(&(not_after - now())) && client_auth
            }
            "cert-ca-selfsigned" => {
                cert.is_ca()
                    && cert.issuer() == cert.subject()
                    && cert.verify_signature(None).is_ok()
            }
            "cert-rsa1024" => rsa_bits == 1024 && client_auth,
            "cert-sha1" => *sig == OID_PKCS1_SHA1WITHRSA && rsa_bits == 2048,
            "cert-eku-serverauth" => server_auth && !client_auth,
            _ => true,
        };
        failures.check(ok, || {
            format!(
                "{}: unexpected properties (rsa {rsa_bits}, sig {sig}, clientAuth {client_auth}, \
                 serverAuth {server_auth}, CA {}, expires in {} days)",
                f.id,
                cert.is_ca(),
                (not_after - now()) / day
            )
        });
    }

    let chain = pem_certs(&corpus.get("cert-chain-pem").bytes);
    failures.check(chain.len() == 2 && chain[1] == intermediate_der, || {
        "cert-chain-pem is not leaf + intermediate".to_owned()
    });
    failures.check(
        first_cert_der(&corpus.get("cert-valid-rsa2048-pem").bytes)
            == corpus.get("cert-valid-rsa2048-der").bytes,
        || "the valid RSA leaf differs between DER and PEM".to_owned(),
    );

    // openssl agrees: the valid leaf chains to the root, the expired one does not.
    let scratch = tempfile::tempdir().expect("temp dir");
    let root = scratch.path().join("root.pem");
    let int = scratch.path().join("int.pem");
    fs::write(&root, &corpus.root_ca_pem).expect("write root");
    fs::write(&int, &corpus.intermediate_ca_pem).expect("write intermediate");
    let verify = |id: &str| {
        tool(
            "openssl",
            &[
                "verify",
                "-CAfile",
                root.to_str().expect("UTF-8"),
                "-untrusted",
                int.to_str().expect("UTF-8"),
                "-purpose",
                "sslclient",
                corpus.path(id).to_str().expect("UTF-8"),
            ],
        )
    };
    // `openssl verify` reads PEM only.
    if let Err(e) = verify("cert-valid-rsa2048-pem") {
        failures.0.push(format!("cert-valid-rsa2048-pem: {e}"));
    }
    let expired_pem = scratch.path().join("expired.pem");
    fs::write(
        &expired_pem,
        format!(
            "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
            STANDARD.encode(&corpus.get("cert-expired").bytes)
        ),
    )
    .expect("write expired");
    let expired = tool(
        "openssl",
        &[
            "verify",
            "-CAfile",
            root.to_str().expect("UTF-8"),
            "-untrusted",
            int.to_str().expect("UTF-8"),
            expired_pem.to_str().expect("UTF-8"),
        ],
    );
    failures.check(
        expired.as_ref().is_err_and(|e| e.contains("expired")),
        || format!("cert-expired verifies: {expired:?}"),
    );
}

fn check_jwks(corpus: &Corpus, failures: &mut Failures) {
    let json = |id: &str| -> serde_json::Value {
        serde_json::from_slice(&corpus.get(id).bytes).unwrap_or_else(|e| panic!("{id}: {e}"))
    };
    let b64 = |v: &serde_json::Value, member: &str| -> Vec<u8> {
        URL_SAFE_NO_PAD
            .decode(v[member].as_str().unwrap_or_default())
            .unwrap_or_default()
    };
    let ec = json("jwk-ec-private");
    let public = json("jwk-ec-public");
    let rsa = json("jwk-rsa-private");
    failures.check(b64(&ec, "d").len() == 32, || {
        "jwk-ec-private: no 32-byte d".to_owned()
    });
    failures.check(public.get("d").is_none(), || {
        "jwk-ec-public has d".to_owned()
    });
    failures.check(
        b64(&rsa, "d").len() >= 250 && b64(&rsa, "p").len() == 128,
        || "jwk-rsa-private: d/p missing or wrong size".to_owned(),
    );
    // Same keys as the EC and RSA leaves: the public halves must match the certificates.
    let ec_leaf = first_cert_der(&corpus.get("cert-valid-ec-p256").bytes);
    let (_, ec_leaf) = parse_x509_certificate(&ec_leaf).expect("EC leaf parses");
    let mut point = vec![4];
    point.extend(b64(&ec, "x"));
    point.extend(b64(&ec, "y"));
    failures.check(
        ec_leaf.public_key().subject_public_key.data.as_ref() == point.as_slice(),
        || "jwk-ec-private x/y differ from the EC leaf's key".to_owned(),
    );
    failures.check(b64(&public, "x") == b64(&ec, "x"), || {
        "jwk-ec-public differs from jwk-ec-private".to_owned()
    });
    let rsa_leaf = corpus.get("cert-valid-rsa2048-der").bytes.clone();
    let (_, rsa_leaf) = parse_x509_certificate(&rsa_leaf).expect("RSA leaf parses");
    let modulus = match rsa_leaf.public_key().parsed() {
        Ok(x509_parser::public_key::PublicKey::RSA(rsa)) => {
            let m = rsa.modulus;
            m[m.iter().position(|&b| b != 0).unwrap_or(0)..].to_vec()
        }
        _ => Vec::new(),
    };
    failures.check(b64(&rsa, "n") == modulus, || {
        "jwk-rsa-private n differs from the RSA leaf's modulus".to_owned()
    });
}

fn check_others(corpus: &Corpus, failures: &mut Failures) {
    let pdf = &corpus.get("pdf-minimal").bytes;
    failures.check(
        pdf.starts_with(b"%PDF-1.4") && pdf.ends_with(b"%%EOF\n"),
        || "pdf-minimal is not a PDF".to_owned(),
    );
    // The xref offsets must point at the objects (in bytes: line 2 is binary, as usual).
    let find_last = |needle: &[u8]| pdf.windows(needle.len()).rposition(|w| w == needle);
    let startxref: usize = find_last(b"startxref\n")
        .and_then(|at| {
            let rest = &pdf[at + b"startxref\n".len()..];
            let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
            std::str::from_utf8(&rest[..digits]).ok()?.parse().ok()
        })
        .unwrap_or(0);
    failures.check(pdf[startxref..].starts_with(b"xref\n"), || {
        "pdf-minimal: startxref is wrong".to_owned()
    });
    let table = String::from_utf8_lossy(&pdf[startxref..]).into_owned();
    for (i, line) in table.lines().skip(3).take(5).enumerate() {
        let offset: usize = line.get(..10).and_then(|o| o.parse().ok()).unwrap_or(0);
        let object = format!("{} 0 obj", i + 1);
        failures.check(pdf[offset..].starts_with(object.as_bytes()), || {
            format!("pdf-minimal: xref entry {} is wrong", i + 1)
        });
    }
    failures.check(corpus.get("random-bytes").bytes.len() >= 1024, || {
        "random-bytes is too short".to_owned()
    });
}

// ---------------------------------------------------------------------------------------------
// Mails and zips, with a hand-made fixture: no generation needed.

fn sample_fixture(name: &str) -> Fixture {
    Fixture {
        id: "sample".to_owned(),
        file_name: name.to_owned(),
        content_type: "application/x-x509-ca-cert".to_owned(),
        bytes: (0..=255u8).cycle().take(3000).collect(),
        expect: Expect::Other,
        encrypted: false,
        secrets: Vec::new(),
    }
}

fn parse(raw: &[u8]) -> mail_parser::Message<'_> {
    MessageParser::default()
        .parse(raw)
        .expect("mail-parser reads the mail")
}

#[test]
fn mails_round_trip_through_mail_parser() {
    let f = sample_fixture("certificat.cer");
    let raw = fixtures::mail_with_attachment("<att-1@primaria.md>", &f);
    let raw_text = String::from_utf8(raw.clone()).expect("ASCII");
    assert!(
        raw_text
            .split("\r\n")
            .all(|line| line.len() <= 78 && !line.contains('\n'))
    );
    assert!(!raw_text.replace("\r\n", "").contains('\r'), "bare CR");
    let mail = parse(&raw);
    assert_eq!(mail.message_id(), Some("att-1@primaria.md"));
    assert_eq!(
        mail.from()
            .and_then(|a| a.first())
            .and_then(|a| a.address()),
        Some("ana@primaria.md")
    );
    assert_eq!(
        mail.to().and_then(|a| a.first()).and_then(|a| a.address()),
        Some("support.mpass@egov.md")
    );
    assert!(mail.subject().unwrap_or_default().contains("Primăria"));
    let attachment = mail.attachments().next().expect("one attachment");
    assert_eq!(attachment.attachment_name(), Some("certificat.cer"));
    assert_eq!(attachment.contents(), f.bytes.as_slice());
    let ct = attachment.content_type().expect("content type");
    assert_eq!(
        (ct.ctype(), ct.subtype()),
        ("application", Some("x-x509-ca-cert"))
    );

    // Non-ASCII names use RFC 2231 / encoded words.
    let unicode = sample_fixture("cheia mea privată.pem");
    let raw = fixtures::mail_with_attachment("<att-2@primaria.md>", &unicode);
    assert!(raw.is_ascii());
    let mail = parse(&raw);
    let attachment = mail.attachments().next().expect("one attachment");
    assert_eq!(attachment.attachment_name(), Some("cheia mea privată.pem"));

    // Zip, plain and nested.
    let other = sample_fixture("certificat.cer");
    for nested in [false, true] {
        let raw = fixtures::mail_with_zip("<zip@primaria.md>", &[&f, &other], nested);
        let mail = parse(&raw);
        let attachment = mail.attachments().next().expect("the zip");
        assert_eq!(attachment.attachment_name(), Some("documente.zip"));
        let mut archive =
            zip::ZipArchive::new(std::io::Cursor::new(attachment.contents())).expect("a valid zip");
        if nested {
            assert_eq!(archive.len(), 1);
            let mut inner = Vec::new();
            archive
                .by_index(0)
                .expect("inner zip")
                .read_to_end(&mut inner)
                .expect("read inner zip");
            archive = zip::ZipArchive::new(std::io::Cursor::new(inner.leak() as &[u8]))
                .expect("a valid inner zip");
        }
        assert_eq!(archive.len(), 2, "both files, despite the same name");
        let mut content = Vec::new();
        archive
            .by_name("certificat.cer")
            .expect("entry")
            .read_to_end(&mut content)
            .expect("read entry");
        assert_eq!(content, f.bytes);
    }

    // Forwarded: the inner mail survives intact, attachment included.
    let inner = fixtures::mail_with_attachment("<inner@primaria.md>", &f);
    let raw = fixtures::forwarded_mail("<fwd@primaria.md>", &inner);
    let mail = parse(&raw);
    assert!(mail.subject().unwrap_or_default().starts_with("Fwd: "));
    let forwarded = mail
        .attachments()
        .find_map(|part| part.message())
        .expect("a message/rfc822 part");
    assert_eq!(forwarded.message_id(), Some("inner@primaria.md"));
    let attachment = forwarded.attachments().next().expect("inner attachment");
    assert_eq!(attachment.contents(), f.bytes.as_slice());
}

#[test]
fn pasted_bodies_decode_in_every_charset() {
    let pem = "-----BEGIN PRIVATE KEY-----\n\
               MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg/x+y==\n\
               -----END PRIVATE KEY-----\n";
    let long = "x".repeat(200); // forces soft line breaks in quoted-printable
    for (charset, greeting) in [
        ("utf-8", "Bună ziua, «cheia» — Здравствуйте"),
        ("windows-1251", "Здравствуйте! Вот мой ключ, Ёжик ё:"),
        ("koi8-r", "Здравствуйте! Вот мой ключ, Ёжик ё:"),
        ("iso-8859-2", "Bună ziua, vă trimit cheia şi ţara Îmi ÂĂŞŢ:"),
        ("us-ascii", "Hello, here is my key:"),
    ] {
        let text = format!("{greeting}\n\n{pem}{long} end\n");
        let raw = fixtures::mail_with_pasted_body("<paste@primaria.md>", &text, charset);
        assert!(
            raw.is_ascii() || charset == "us-ascii",
            "{charset}: 7-bit clean"
        );
        let mail = parse(&raw);
        let body = mail.body_text(0).expect("a text body");
        assert_eq!(
            body.replace("\r\n", "\n"),
            text,
            "{charset}: body does not round-trip"
        );
    }
}

#[test]
fn zip_helpers() {
    let started = Instant::now();
    let bomb = fixtures::zip_bomb();
    println!("zip bomb: {} bytes in {:?}", bomb.len(), started.elapsed());
    assert!(bomb.len() < 2 << 20, "the bomb is {} bytes", bomb.len());
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(&bomb)).expect("valid zip");
    assert_eq!(archive.len(), 1);
    let mut entry = archive.by_index(0).expect("the entry");
    assert!(entry.size() >= 1 << 30, "declared size {}", entry.size());
    assert_eq!(entry.size(), fixtures::ZIP_BOMB_SIZE);
    // A sample of the stream here; the full inflate (and CRC check) has its own test.
    let mut head = vec![0xffu8; 1 << 20];
    entry.read_exact(&mut head).expect("inflate the first MiB");
    assert!(head.iter().all(|&b| b == 0));
    drop(entry);

    let many = fixtures::zip_many_entries(5000);
    let archive = zip::ZipArchive::new(std::io::Cursor::new(&many)).expect("valid zip");
    assert_eq!(archive.len(), 5000);

    let innermost = sample_fixture("certificat.cer");
    let mut bytes = fixtures::zip_nested(4, &innermost);
    for level in (1..=4).rev() {
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(&bytes)).expect("valid zip");
        assert_eq!(archive.len(), 1);
        let mut entry = archive.by_index(0).expect("entry");
        let expected_name = if level == 1 {
            "certificat.cer".to_owned()
        } else {
            format!("arhiva-{}.zip", level - 1)
        };
        assert_eq!(entry.name(), expected_name);
        let mut inner = Vec::new();
        entry.read_to_end(&mut inner).expect("read entry");
        drop(entry);
        bytes = inner;
    }
    assert_eq!(bytes, innermost.bytes);
}

/// The full inflate of the zip bomb: checks the hand-made deflate stream and CRC (the zip crate
/// verifies the CRC at the end of the entry).
#[test]
fn zip_bomb_inflates_to_zeros_with_a_valid_crc() {
    let bomb = fixtures::zip_bomb();
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(&bomb)).expect("valid zip");
    let mut entry = archive.by_index(0).expect("the entry");
    let mut buf = vec![0u8; 1 << 20];
    let mut total = 0u64;
    loop {
        let n = entry
            .read(&mut buf)
            .expect("inflate (the CRC is checked at the end)");
        if n == 0 {
            break;
        }
        assert!(buf[..n].iter().all(|&b| b == 0));
        total += n as u64;
    }
    assert_eq!(total, fixtures::ZIP_BOMB_SIZE);
}
