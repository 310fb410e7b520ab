//! Writes the starting corpora of the fuzz targets (`fuzz/corpus/<target>/`)
//! from what the tests already know: the golden and example mails, every
//! fixture of tests/support/fixtures.rs (keys, PKCS#12, certificates, zips)
//! alone and wrapped in mail, the committed signed PDFs, and the shipped
//! configuration and rules.
//!
//! Ignored by default — it writes into the source tree and needs the fixture
//! tools (openssl, ssh-keygen, puttygen):
//! `cargo test --test fuzz_seeds -- --ignored`.

// Test code may cut strings where it built them itself.
#![allow(clippy::string_slice)]

mod support;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use egov_intake::fuzzing::RULES_FILES;
use egov_intake::parse;
use support::fixtures::{self, Fixture};

/// libFuzzer's `-max_len` in the documented runs; longer seeds would be cut.
const MAX_LEN: usize = 256 * 1024;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn files_with(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    v.sort();
    v
}

/// Seeds by target, named by what they are.
#[derive(Default)]
struct Seeds(BTreeMap<&'static str, Vec<(String, Vec<u8>)>>);

impl Seeds {
    /// A PDF seeding `inspect` seeds `pdf` too.
    fn add(&mut self, target: &'static str, name: impl Into<String>, bytes: Vec<u8>) {
        let name = name.into();
        if target == "inspect" && bytes.starts_with(b"%PDF-") {
            self.add("pdf", name.clone(), bytes.clone());
        }
        if bytes.len() <= MAX_LEN {
            self.0.entry(target).or_default().push((name, bytes));
        }
    }

    /// A whole mail seeds `pipeline`, its header block `headers`, and each
    /// of its parts `inspect`.
    fn mail(&mut self, name: &str, raw: Vec<u8>) {
        self.add("headers", name, parse::header_block(&raw).to_vec());
        for (i, part) in parse::parse(&raw, 10).parts.into_iter().enumerate() {
            self.add("inspect", format!("{name}-part{i}"), part.data);
        }
        self.add("pipeline", name, raw);
    }
}

#[test]
#[ignore = "writes fuzz/corpus/; run by hand before fuzzing"]
fn write_seed_corpora() {
    let mut seeds = Seeds::default();
    for dir in [root().join("tests/golden"), root().join("examples/mail")] {
        for path in files_with(&dir, "eml") {
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            seeds.mail(&name, fs::read(&path).unwrap());
        }
    }

    let corpus = fixtures::generate().unwrap();
    for f in &corpus.fixtures {
        seeds.add("inspect", f.id.clone(), f.bytes.clone());
        seeds.mail(
            &format!("mail-{}", f.id),
            fixtures::mail_with_attachment(&format!("<{}@seed>", f.id), f),
        );
        // Keys pasted into the body, as people do, in the charsets they use.
        if f.bytes.is_ascii() && f.bytes.len() < 16 * 1024 {
            let key = String::from_utf8(f.bytes.clone()).unwrap();
            let text = format!("Здравствуйте, вот наш ключ:\n\n{key}\nС уважением,\nИван\n");
            for charset in ["utf-8", "koi8-r", "windows-1251"] {
                seeds.mail(
                    &format!("pasted-{}-{charset}", f.id),
                    fixtures::mail_with_pasted_body(&format!("<{}@paste>", f.id), &text, charset),
                );
            }
        }
    }
    let by_kind = |k: fixtures::Expect| -> Vec<&Fixture> {
        corpus
            .fixtures
            .iter()
            .filter(|f| f.expect == k)
            .take(4)
            .collect()
    };
    let mixed: Vec<&Fixture> = [fixtures::Expect::PrivateKey, fixtures::Expect::Certificate]
        .into_iter()
        .flat_map(by_kind)
        .collect();
    seeds.mail(
        "zip-mixed",
        fixtures::mail_with_zip("<zip@seed>", &mixed, false),
    );
    seeds.mail(
        "zip-nested",
        fixtures::mail_with_zip("<nested@seed>", &mixed, true),
    );
    seeds.add("inspect", "zip-many", fixtures::zip_many_entries(50));
    seeds.add(
        "inspect",
        "zip-deep",
        fixtures::zip_nested(5, corpus.get("pkcs8-rsa-pem")),
    );
    let inner = fs::read(root().join("examples/mail/01-solicitare-mpass.ro.eml")).unwrap();
    seeds.mail("forwarded", fixtures::forwarded_mail("<fwd@seed>", &inner));
    seeds.add("inspect", "root-ca", corpus.root_ca_pem.clone());

    // The signed and prepared PDFs the signature tests read.
    let signed = root().join("src/inspect/signature/tests/fixtures");
    for path in files_with(&signed, "pdf") {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        seeds.add("pdf", name, fs::read(&path).unwrap());
    }

    // Config seeds: the first byte picks the rules file the rest stands for.
    for path in files_with(&root().join("examples"), "toml") {
        let mut bytes = vec![0];
        bytes.extend(fs::read(&path).unwrap());
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        seeds.add("config", format!("config-{name}"), bytes);
    }
    for (i, file) in RULES_FILES.iter().enumerate() {
        let mut bytes = vec![u8::try_from(i).unwrap()];
        bytes.extend(fs::read(root().join("rules").join(file)).unwrap());
        seeds.add("config", format!("rules-{}", file.replace('/', "-")), bytes);
    }

    for target in ["pipeline", "inspect", "headers", "config", "pdf"] {
        let list = &seeds.0[target];
        assert!(list.len() >= 5, "{target}: only {} seeds", list.len());
        let dir = root().join("fuzz/corpus").join(target);
        fs::create_dir_all(&dir).unwrap();
        for (name, bytes) in list {
            fs::write(dir.join(format!("seed-{name}")), bytes).unwrap();
        }
        eprintln!("{target}: {} seeds in {}", list.len(), dir.display());
    }
}
