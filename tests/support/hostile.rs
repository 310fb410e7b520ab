//! A deterministic corpus of hostile and odd mail for tests/hostile.rs: every way a beneficiary's
//! client, a robot or an attacker can break RFC 5322 and MIME, each as the raw bytes a Maildir
//! would hold.
//!
//! Everything but the private keys is fixed: random-looking bytes come from a seeded
//! SplitMix64, dates and Message-IDs are constants, so a failing mail has the same name and bytes
//! on every run. The keys ([`TestKey`]) are made at test time with `openssl` — one RSA key per
//! key-bearing mail, so a leak found on disk names the mail it came from — and every way a mail
//! encodes one is recorded as a [`Secret`]: the base64 lines that hold the key's private half
//! (never the public modulus, which a certificate may legitimately repeat) and raw DER windows.
#![allow(dead_code)]

use std::io::{Cursor, Write};
use std::ops::Range;
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail, ensure};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// Line width of base64 bodies in the corpus (57 bytes a line), as most clients write.
const B64_WIDTH: usize = 76;
/// The beneficiary who opens case 00001; her tagged follow-ups must thread into it.
const ANA: &str = "Ana Popescu <ana@primaria.md>";
const ANA_ADDR: &str = "ana@primaria.md";
const TO: &str = "office@egov.md";
const DATE: &str = "Thu, 03 Dec 2026 10:00:00 +0200";
/// The tail of the subject AGE's replies carry, with Cyrillic letters right after the tag.
const RU_SUBJECT: &str = "Запрос на интеграцию с MSign, уточнения";
const RO_LETTERS: &str = "ăâîșțĂÂÎȘȚ";
const EMOJI: &str = "🔐📎✅🇲🇩";
const CJK: &str = "证书申请集成";

/// One mail of the corpus.
#[derive(Clone)]
pub struct HostileMail {
    /// Its file name in the Maildir's new/ (also the unique part of the delivery key); names sort
    /// in generation order, so the opener is processed first.
    pub name: String,
    /// Which family of hostility it belongs to, for the summary.
    pub family: &'static str,
    /// What it is, for failure reports.
    pub label: String,
    pub bytes: Vec<u8>,
    /// The Message-ID it carries (with angle brackets), to match replies to it.
    pub message_id: Option<String>,
    /// An auto-reply or bounce: must never be answered.
    pub robot: bool,
    /// Index into [`Corpus::keys`] of the private key it carries.
    pub key: Option<usize>,
    /// The case an intact subject tag from a participant must thread it into.
    pub thread_to: Option<String>,
}

impl std::fmt::Debug for HostileMail {
    // The bytes would drown any report.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ({}, {} bytes)",
            self.name,
            self.label,
            self.bytes.len()
        )
    }
}

/// Bytes that must never be found on disk after the run.
#[derive(Clone, Debug)]
pub struct Secret {
    /// Index into [`Corpus::keys`].
    pub key: usize,
    /// How it is encoded ("pem line", "der", "base64 of cheie.pem", ...).
    pub what: String,
    pub bytes: Vec<u8>,
}

/// A throwaway RSA-2048 key, as PEM (PKCS#8), DER and an unencrypted PKCS#12 with its
/// self-signed certificate (so the key's DER sits verbatim inside the `.p12`).
pub struct TestKey {
    pub pem: String,
    pub pkcs8_der: Vec<u8>,
    pub p12: Vec<u8>,
}

impl TestKey {
    /// The PKCS#1 RSAPrivateKey inside the PKCS#8 (after its 26-byte header).
    fn pkcs1(&self) -> &[u8] {
        &self.pkcs8_der[PKCS8_RSA_HEADER..]
    }

    /// Where the private half (the private exponent onwards) sits in the PKCS#1 DER: after the
    /// 4-byte SEQUENCE header, version (3), modulus (4 + 257) and public exponent (5).
    fn private_range(&self) -> Range<usize> {
        PKCS1_PRIVATE_START..self.pkcs1().len()
    }
}

const PKCS8_RSA_HEADER: usize = 26;
/// A few bytes past the start of the private exponent, as a safety margin.
const PKCS1_PRIVATE_START: usize = 280;

/// The corpus: mails in delivery order, the keys some carry, and what must not leak.
pub struct Corpus {
    pub mails: Vec<HostileMail>,
    pub keys: Vec<TestKey>,
    pub secrets: Vec<Secret>,
}

/// Number of key-bearing mails, hence of keys to make.
pub const KEY_MAILS: usize = 10;

/// Makes `n` RSA keys with the `openssl` CLI, in parallel (key generation is the slow part).
pub fn make_keys(n: usize, dir: &Path) -> Result<Vec<TestKey>> {
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..n)
            .map(|i| scope.spawn(move || make_key(&dir.join(format!("key{i}")))))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("key thread panicked"))
            .collect()
    })
}

fn make_key(dir: &Path) -> Result<TestKey> {
    std::fs::create_dir_all(dir)?;
    let openssl = |args: &[&str]| -> Result<()> {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .stdin(Stdio::null())
            .output()
            .context("cannot run openssl (Debian package `openssl`)")?;
        if !out.status.success() {
            bail!(
                "`openssl {}` failed: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(())
    };
    openssl(&[
        "genpkey",
        "-algorithm",
        "RSA",
        "-pkeyopt",
        "rsa_keygen_bits:2048",
        "-out",
        "key.pem",
    ])?;
    openssl(&[
        "req",
        "-x509",
        "-new",
        "-key",
        "key.pem",
        "-subj",
        "/CN=hostile",
        "-days",
        "2",
        "-out",
        "cert.pem",
    ])?;
    // No encryption of the bags: the key's DER then sits verbatim in the file, which makes the
    // raw-byte leak check meaningful for it.
    openssl(&[
        "pkcs12", "-export", "-inkey", "key.pem", "-in", "cert.pem", "-keypbe", "NONE", "-certpbe",
        "NONE", "-passout", "pass:", "-out", "key.p12",
    ])?;
    let pem = std::fs::read_to_string(dir.join("key.pem"))?;
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let pkcs8_der = STANDARD.decode(body)?;
    let p12 = std::fs::read(dir.join("key.p12"))?;
    let key = TestKey {
        pem,
        pkcs8_der,
        p12,
    };
    ensure!(
        key.pkcs1().starts_with(&[0x30, 0x82]) && key.pkcs1().len() > 1000,
        "unexpected PKCS#8 layout from openssl"
    );
    ensure!(
        find(&key.p12, key.pkcs1()).is_some(),
        "the .p12 does not hold the key's DER verbatim"
    );
    Ok(key)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// SplitMix64: tiny, seedable, and fixed forever (unlike a library's default RNG).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

/// Builds the corpus. `year` is the case year (AGE's local year now); `oversize` the size the
/// too-large mails must exceed (the test's `max_message_bytes`).
pub fn generate(year: i32, keys: Vec<TestKey>, oversize: usize) -> Corpus {
    let mut g = Gen {
        mails: Vec::new(),
        secrets: Vec::new(),
        rng: Rng(0x5eed_ca5e_0000_2026),
        case1: format!("AGE-{year}-00001"),
    };
    g.opener();
    g.tagged_subjects();
    g.encoded_words();
    g.malformed_mime();
    g.deep_nesting();
    g.charsets();
    g.huge_headers();
    g.raw_bytes();
    g.zips();
    g.certificates();
    g.attachment_names();
    g.no_structure();
    g.robots();
    g.oversize(oversize);
    g.private_keys(&keys, oversize);
    Corpus {
        mails: g.mails,
        keys,
        secrets: g.secrets,
    }
}

struct Gen {
    mails: Vec<HostileMail>,
    secrets: Vec<Secret>,
    rng: Rng,
    case1: String,
}

impl Gen {
    fn seq(&self) -> usize {
        self.mails.len()
    }

    /// A Message-ID unique to the next mail.
    fn next_id(&self) -> String {
        format!("<hostile-{:04}@primaria.md>", self.seq())
    }

    fn push(&mut self, family: &'static str, label: impl Into<String>, bytes: Vec<u8>) {
        self.push_full(family, label, bytes, false, None, None);
    }

    fn push_full(
        &mut self,
        family: &'static str,
        label: impl Into<String>,
        bytes: Vec<u8>,
        robot: bool,
        key: Option<usize>,
        thread_to: Option<String>,
    ) {
        let seq = self.seq();
        let label = label.into();
        // Maildir names: delivery time first (so name order is arrival order), then a unique part
        // that says what the mail is, for reports.
        let slug: String = label
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .take(40)
            .collect();
        let name = format!(
            "{}.M{seq:06}P4242.hostile.{family}.{slug}",
            1_764_000_000 + seq
        );
        let message_id = header_value(&bytes, "message-id");
        self.mails.push(HostileMail {
            name,
            family,
            label,
            bytes,
            message_id,
            robot,
            key,
            thread_to,
        });
    }

    // -----------------------------------------------------------------------------------------

    /// Ana's request, which opens case 00001 (the first mail processed).
    fn opener(&mut self) {
        let id = self.next_id();
        let mail = text_mail(
            &id,
            ANA,
            "Solicitare de integrare cu MSign",
            "Bună ziua,\r\nPrimăria Ialoveni solicită integrarea sistemului e-Registre cu MSign.\r\n\
             IDNO: 1008600038413\r\nAna Popescu\r\n",
        );
        self.push("opener", "request opening case 00001", mail);
    }

    /// Follow-ups tagged with case 00001 in multi-byte subjects: a multi-byte letter straddles
    /// every byte offset 20..=40, in four scripts, raw UTF-8 and RFC 2047; and tags cut short
    /// right before a multi-byte letter.
    fn tagged_subjects(&mut self) {
        let tag = format!("[{}]", self.case1);
        for encoded in [false, true] {
            let subject = format!("Re: {tag} {RU_SUBJECT}");
            let id = self.next_id();
            let mail = text_mail_subject(&id, ANA, &subject, encoded, "Vă trimit precizările.\r\n");
            let case = Some(self.case1.clone());
            let label = format!(
                "brief subject ({})",
                if encoded { "rfc2047" } else { "utf8" }
            );
            self.push_full("tagged", label, mail, false, None, case);
        }
        let reply_prefix = format!("Re: {tag} ");
        // Without "Re: " when the letter must come earlier than that prefix ends.
        let bare_prefix = format!("{tag} ");
        for (script, letters) in [
            ("cyrillic", RU_SUBJECT),
            ("romanian", RO_LETTERS),
            ("emoji", EMOJI),
            ("cjk", CJK),
        ] {
            let first = letters
                .chars()
                .find(|c| c.len_utf8() > 1)
                .expect("multi-byte");
            for offset in 20..=40usize {
                // The first multi-byte letter starts one byte before `offset`, so `offset` falls
                // inside it; ASCII filler moves it there.
                let start = offset - 1;
                let prefix = if start >= reply_prefix.len() {
                    &reply_prefix
                } else {
                    &bare_prefix
                };
                let filler = start - prefix.len();
                let mut subject = prefix.clone();
                subject.push_str(&"x".repeat(filler));
                subject.push(first);
                subject.push_str(letters);
                subject.push_str(letters);
                assert!(!subject.is_char_boundary(offset), "{subject}: {offset}");
                let encoded = offset % 2 == 1;
                let id = self.next_id();
                let mail = text_mail_subject(&id, ANA, &subject, encoded, "Precizări.\r\n");
                let case = Some(self.case1.clone());
                self.push_full(
                    "tagged",
                    format!("{script} letter across byte {offset}"),
                    mail,
                    false,
                    None,
                    case,
                );
            }
        }
        // Tags cut short, a multi-byte letter where the tag should go on.
        let full = format!("{}]", self.case1);
        for cut in 0..full.len() {
            for (script, letter) in [("cyrillic", "Запрос"), ("romanian", "ștampilă")] {
                let subject = format!("Re: [{}{letter} {RU_SUBJECT}", &full[..cut]);
                let id = self.next_id();
                let mail = text_mail_subject(&id, ANA, &subject, false, "Precizări.\r\n");
                self.push("tagged", format!("tag cut at {cut} then {script}"), mail);
            }
        }
    }

    /// RFC 2047 encoded words broken in every way, in the Subject, the From display name and an
    /// attachment's file name.
    fn encoded_words(&mut self) {
        let big_words: String = vec!["=?UTF-8?B?0JA=?="; 10_000].join(" ");
        let huge_word = format!("=?UTF-8?B?{}?=", STANDARD.encode("Ж".repeat(50_000)));
        let words: Vec<(&str, String)> = vec![
            ("valid b cyrillic", "=?UTF-8?B?0JfQsNC/0YDQvtGB?=".into()),
            (
                "valid q romanian",
                "=?UTF-8?Q?Solicitare_=C8=99i_=C8=9Bar=C4=83?=".into(),
            ),
            ("unterminated", "=?UTF-8?B?0JfQsNC/0YDQvtGB".into()),
            ("no encoding letter", "=?UTF-8??0JfQsNC/?=".into()),
            ("unknown encoding", "=?UTF-8?X?abc?=".into()),
            ("unknown charset", "=?x-unknown?B?0JfQsNC/0YDQvtGB?=".into()),
            ("empty charset", "=??B?0JfQsNC/?=".into()),
            ("empty text", "=?UTF-8?B??=".into()),
            ("base64 garbage", "=?UTF-8?B?!!!*****?=".into()),
            ("base64 unpadded", "=?UTF-8?B?0JfQsNC/0YDQvtG?=".into()),
            ("base64 overpadded", "=?UTF-8?B?0Jc=====?=".into()),
            ("q bad hex", "=?UTF-8?Q?=ZZ=G1=?=".into()),
            ("q trailing equals", "=?UTF-8?Q?abc=?=".into()),
            (
                "letter split across words",
                "=?UTF-8?B?0A==?= =?UTF-8?B?l9Cw?=".into(),
            ),
            (
                "letter split across q words",
                "=?UTF-8?Q?=D0?= =?UTF-8?Q?=97?=".into(),
            ),
            ("invalid utf8", "=?UTF-8?B?/////w==?=".into()),
            ("nul inside", "=?UTF-8?Q?a=00b=00c?=".into()),
            (
                "crlf injection",
                "=?UTF-8?Q?a=0D=0ABcc:_victim@example.com?=".into(),
            ),
            (
                "encoded encoded word",
                "=?UTF-8?B?PT9VVEYtOD9CPzBKZlFzTkMvPz0=?=".into(),
            ),
            ("utf16 odd length", "=?UTF-16?B?AEEAQgA=?=".into()),
            ("utf7", "=?UTF-7?Q?+BBcEMAQ/-?=".into()),
            ("language tag", "=?UTF-8*ro?Q?Cerere_=C8=99?=".into()),
            (
                "charset 1000 chars",
                format!("=?{}?B?QQ==?=", "x".repeat(1000)),
            ),
            ("10000 words", big_words),
            ("100 KB word", huge_word),
            (
                "tag inside split word",
                format!(
                    "Re: =?UTF-8?B?{}?= =?UTF-8?B?{}?=",
                    STANDARD
                        .encode([format!("[{}] ", self.case1).as_bytes(), &[0xd0][..]].concat()),
                    STANDARD.encode(&"Запрос".as_bytes()[1..])
                ),
            ),
            ("whitespace inside word", "=?UTF-8?B?0Jf QsNC/?=".into()),
            ("missing question mark", "=?UTF-8B0JfQsNC/?=".into()),
            ("lone opener", "=?".into()),
            ("many markers", "=?UTF-8?B?=?=?=?=?=".into()),
        ];
        for (label, word) in &words {
            let id = self.next_id();
            let mail = format!(
                "From: {ANA}\r\nTo: {TO}\r\nSubject: {word}\r\nDate: {DATE}\r\nMessage-ID: {id}\r\n\
                 MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
                 Bună ziua, vă scriem despre integrarea cu MPass.\r\n"
            );
            self.push("rfc2047", format!("subject: {label}"), mail.into_bytes());
        }
        for (i, (label, word)) in words.iter().enumerate() {
            let id = self.next_id();
            let mail = format!(
                "From: {word} <ew{i}@primaria.md>\r\nTo: {TO}\r\nSubject: Solicitare MPass\r\n\
                 Date: {DATE}\r\nMessage-ID: {id}\r\nMIME-Version: 1.0\r\n\
                 Content-Type: text/plain; charset=utf-8\r\n\r\nBună ziua.\r\n"
            );
            self.push("rfc2047", format!("from name: {label}"), mail.into_bytes());
        }
        for (label, word) in &words {
            let id = self.next_id();
            let part = format!(
                "Content-Type: application/octet-stream; name=\"{word}\"\r\n\
                 Content-Disposition: attachment; filename=\"{word}\"\r\n\
                 Content-Transfer-Encoding: base64\r\n\r\n{}",
                b64(b"just a document\n")
            );
            let mail = multipart_mail(
                &id,
                ANA,
                "Documente",
                "mixed",
                &[text_part("Vă trimit documentul."), part.into_bytes()],
            );
            self.push("rfc2047", format!("file name: {label}"), mail);
        }
        // RFC 2231 parameters broken.
        for (label, param) in [
            ("2231 unknown charset", "filename*=x-unknown''%FF%FE%00"),
            ("2231 bad percent", "filename*=utf-8''%Z%%"),
            (
                "2231 continuation gap",
                "filename*0*=utf-8''a; filename*7*=b",
            ),
            ("2231 10000 continuations", ""),
        ] {
            let param = if param.is_empty() {
                (0..10_000)
                    .map(|i| format!("filename*{i}=x"))
                    .collect::<Vec<_>>()
                    .join(";\r\n ")
            } else {
                param.to_string()
            };
            let id = self.next_id();
            let part = format!(
                "Content-Type: application/pdf\r\nContent-Disposition: attachment; {param}\r\n\
                 Content-Transfer-Encoding: base64\r\n\r\n{}",
                b64(b"%PDF-1.4\n%%EOF\n")
            );
            let mail = multipart_mail(&id, ANA, "Acord", "mixed", &[part.into_bytes()]);
            self.push("rfc2047", label, mail);
        }
    }

    /// Multiparts that lie about their boundaries, transfer encodings that are not, bodies that
    /// do not decode.
    fn malformed_mime(&mut self) {
        let text = "Content-Type: text/plain; charset=utf-8\r\n\r\nBună ziua.\r\n";
        let cases: Vec<(&str, String, Vec<u8>)> = vec![
            (
                "multipart without boundary",
                "multipart/mixed".into(),
                format!("--X\r\n{text}--X--\r\n").into_bytes(),
            ),
            (
                "boundary never used",
                "multipart/mixed; boundary=\"NEVER\"".into(),
                b"--X\r\nnot a part\r\n".to_vec(),
            ),
            (
                "boundary never closed",
                "multipart/mixed; boundary=\"OPEN\"".into(),
                format!("--OPEN\r\n{text}--OPEN\r\n{text}").into_bytes(),
            ),
            (
                "only the closing boundary",
                "multipart/mixed; boundary=\"C\"".into(),
                b"--C--\r\n".to_vec(),
            ),
            (
                "nested boundaries equal",
                "multipart/mixed; boundary=\"SAME\"".into(),
                format!(
                    "--SAME\r\nContent-Type: multipart/alternative; boundary=\"SAME\"\r\n\r\n\
                     --SAME\r\n{text}--SAME\r\n{text}--SAME--\r\n--SAME\r\n{text}--SAME--\r\n"
                )
                .into_bytes(),
            ),
            (
                "boundary prefix of another",
                "multipart/mixed; boundary=\"B\"".into(),
                format!(
                    "--B\r\nContent-Type: multipart/mixed; boundary=\"B1\"\r\n\r\n--B1\r\n{text}\
                     --B\r\n{text}--B1--\r\n--B--\r\n"
                )
                .into_bytes(),
            ),
            (
                "empty boundary",
                "multipart/mixed; boundary=\"\"".into(),
                format!("--\r\n{text}----\r\n").into_bytes(),
            ),
            (
                "10 KB boundary",
                format!("multipart/mixed; boundary=\"{}\"", "b".repeat(10_000)),
                format!("--{0}\r\n{text}--{0}--\r\n", "b".repeat(10_000)).into_bytes(),
            ),
            (
                "part without headers",
                "multipart/mixed; boundary=\"P\"".into(),
                b"--P\r\n\r\nno headers here\r\n--P\r\n--P--\r\n".to_vec(),
            ),
            (
                "empty multipart alternative",
                "multipart/alternative; boundary=\"E\"".into(),
                b"--E--\r\n".to_vec(),
            ),
            (
                "content type garbage",
                ";;;=\"".into(),
                b"body of an unknown type\r\n".to_vec(),
            ),
            (
                "content type multipart slash",
                "multipart/; boundary=M".into(),
                format!("--M\r\n{text}--M--\r\n").into_bytes(),
            ),
            (
                "10000 content type parameters",
                format!(
                    "text/plain; {}",
                    (0..10_000)
                        .map(|i| format!("p{i}=v"))
                        .collect::<Vec<_>>()
                        .join("; ")
                ),
                b"text\r\n".to_vec(),
            ),
            (
                "base64 on a multipart",
                "multipart/mixed; boundary=\"Q\"\r\nContent-Transfer-Encoding: base64".into(),
                b64(format!("--Q\r\n{text}--Q--\r\n").as_bytes()).into_bytes(),
            ),
            (
                "message/rfc822 base64 encoded",
                "multipart/mixed; boundary=\"R\"".into(),
                format!(
                    "--R\r\nContent-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\n\
                     {}--R--\r\n",
                    b64(b"From: x@y.md\r\nSubject: inner\r\n\r\ninner body\r\n")
                )
                .into_bytes(),
            ),
            (
                "empty message/rfc822",
                "multipart/mixed; boundary=\"R\"".into(),
                b"--R\r\nContent-Type: message/rfc822\r\n\r\n--R--\r\n".to_vec(),
            ),
            (
                "html only, broken",
                "text/html; charset=utf-8".into(),
                b"<html><body><p>Bun\xc4\x83 <script>alert(1)</scr<b><table><tr><td>IDNO 1008600038413<!-- unterminated".to_vec(),
            ),
        ];
        for (label, ct, body) in cases {
            let id = self.next_id();
            let mail = raw_mail(
                &id,
                ANA,
                "Solicitare MPass",
                &format!("Content-Type: {ct}"),
                &body,
            );
            self.push("mime", label, mail);
        }
        let mut rng = Rng(7);
        let garbage = rng.bytes(3000);
        let encodings: Vec<(&str, &str, Vec<u8>)> = vec![
            (
                "cte x-uuencode",
                "x-uuencode",
                b"begin 644 a.txt\r\n#86)C\r\n`\r\nend\r\n".to_vec(),
            ),
            ("cte base65", "base65", b"SGVsbG8=\r\n".to_vec()),
            ("cte 7bit with 8-bit bytes", "7bit", garbage.clone()),
            (
                "cte two conflicting",
                "base64\r\nContent-Transfer-Encoding: quoted-printable",
                b"SGVsbG8=\r\n".to_vec(),
            ),
            (
                "base64 garbage",
                "base64",
                b"!!!!@@@@####$$$$\r\n\xff\xfe\x00\x01SGVs*bG8\r\n".to_vec(),
            ),
            (
                "base64 truncated quantum",
                "base64",
                b"SGVsbG8gd29ybGQ".to_vec(),
            ),
            (
                "base64 only padding",
                "base64",
                "====\r\n".repeat(1000).into_bytes(),
            ),
            (
                "base64 with nuls",
                "base64",
                b"SGVs\x00bG8g\x00d29y\x00bGQ=\r\n".to_vec(),
            ),
            (
                "base64 of binary garbage",
                "base64",
                b64(&garbage).into_bytes(),
            ),
            (
                "qp bad hex",
                "quoted-printable",
                b"=ZZ=G1=0=\r\n=\r\n".to_vec(),
            ),
            ("qp equals at end", "quoted-printable", b"text=".to_vec()),
            (
                "qp 100 KB line",
                "quoted-printable",
                "=C8=99".repeat(17_000).into_bytes(),
            ),
            (
                "qp soft breaks only",
                "quoted-printable",
                "=\r\n".repeat(10_000).into_bytes(),
            ),
        ];
        for (label, cte, body) in encodings {
            let id = self.next_id();
            let part = [
                format!(
                    "Content-Type: application/octet-stream; name=\"date.bin\"\r\n\
                     Content-Transfer-Encoding: {cte}\r\n\r\n"
                )
                .into_bytes(),
                body.clone(),
                b"\r\n".to_vec(),
            ]
            .concat();
            let mail = multipart_mail(&id, ANA, "Date", "mixed", &[text_part("Atașat."), part]);
            self.push("mime", format!("{label} (attachment)"), mail);
            let id = self.next_id();
            let mail = raw_mail(
                &id,
                ANA,
                "Date",
                &format!(
                    "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: {cte}"
                ),
                &body,
            );
            self.push("mime", format!("{label} (body)"), mail);
        }
    }

    /// Multiparts and attached mails nested far past any limit.
    fn deep_nesting(&mut self) {
        for (label, depth, same) in [
            ("multipart 21 levels", 21, false),
            ("multipart 1001 levels", 1001, false),
            ("multipart 1001 levels, one boundary", 1001, true),
        ] {
            let id = self.next_id();
            let inner = nested_multiparts(text_part("Cel mai adânc nivel."), depth, same);
            let mail = [mail_head(&id, ANA, "Adânc"), inner].concat();
            self.push("nesting", label, mail);
        }
        for (label, depth) in [("rfc822 25 levels", 25), ("rfc822 2000 levels", 2000)] {
            let id = self.next_id();
            let innermost = text_mail(
                "<inner@primaria.md>",
                ANA,
                "Original",
                "Textul inițial.\r\n",
            );
            let mail = if depth <= 100 {
                nested_forwards(&id, innermost, depth)
            } else {
                bare_rfc822_nest(&id, innermost, depth)
            };
            self.push("nesting", label, mail);
        }
        // Alternating multipart and attached mail, 600 of each.
        let id = self.next_id();
        let mut inner = text_part("fund");
        for level in 0..600 {
            let boundary = format!("A{level}");
            let mp = [
                format!("Content-Type: multipart/mixed; boundary=\"{boundary}\"\r\n\r\n")
                    .into_bytes(),
                multipart_body(&boundary, &[inner]),
            ]
            .concat();
            inner = [
                b"Content-Type: message/rfc822\r\n\r\nFrom: a@b.md\r\nSubject: n\r\n".to_vec(),
                mp,
            ]
            .concat();
        }
        let mail = [mail_head(&id, ANA, "Alternanță"), inner].concat();
        self.push(
            "nesting",
            "multipart and rfc822 alternating 600 levels",
            mail,
        );
    }

    /// Text in a charset other than the declared one, unknown charsets, UTF-16 without BOM.
    fn charsets(&mut self) {
        // "Запрос на интеграцию" in KOI8-R and windows-1251, written byte by byte.
        let koi8: &[u8] =
            b"\xfa\xc1\xd0\xd2\xcf\xd3 \xce\xc1 \xc9\xce\xd4\xc5\xc7\xd2\xc1\xc3\xc9\xc0";
        let cp1251: &[u8] =
            b"\xc7\xe0\xef\xf0\xee\xf1 \xed\xe0 \xe8\xed\xf2\xe5\xe3\xf0\xe0\xf6\xe8\xfe";
        let utf16le: Vec<u8> = "Solicitare de integrare ăâîșț"
            .encode_utf16()
            .flat_map(|u| u.to_le_bytes())
            .collect();
        let utf16be: Vec<u8> = "Запрос на интеграцию"
            .encode_utf16()
            .flat_map(|u| u.to_be_bytes())
            .collect();
        let cases: Vec<(&str, String, Vec<u8>)> = vec![
            ("koi8-r declared utf-8", "utf-8".into(), koi8.to_vec()),
            (
                "koi8-r declared x-unknown",
                "\"x-unknown\"".into(),
                koi8.to_vec(),
            ),
            (
                "utf-8 declared x-unknown",
                "\"x-unknown\"".into(),
                RU_SUBJECT.as_bytes().to_vec(),
            ),
            (
                "windows-1251 declared koi8-r",
                "koi8-r".into(),
                cp1251.to_vec(),
            ),
            ("utf-16le without bom", "utf-16".into(), utf16le.clone()),
            ("utf-16be without bom", "utf-16".into(), utf16be),
            (
                "utf-16 odd length",
                "utf-16le".into(),
                utf16le[..utf16le.len() - 1].to_vec(),
            ),
            (
                "utf-32 declared",
                "utf-32".into(),
                b"\x00\x00\x00A\x00\x00\x00".to_vec(),
            ),
            ("empty charset", "".into(), RU_SUBJECT.as_bytes().to_vec()),
            (
                "charset with backslash",
                "\"utf-8\\\"".into(),
                b"text".to_vec(),
            ),
            ("charset 1000 chars", "x".repeat(1000), b"text".to_vec()),
            (
                "overlong and surrogate utf-8",
                "utf-8".into(),
                b"\xc0\xaf \xed\xa0\x80 \xf8\x88\x80\x80\x80 \xf4\x90\x80\x80".to_vec(),
            ),
            (
                "iso-2022-jp broken escape",
                "iso-2022-jp".into(),
                b"\x1b$B%F%9%H\x1b(".to_vec(),
            ),
            ("utf-7 garbage", "utf-7".into(), b"+ZZZ-+-+AAAA".to_vec()),
        ];
        for (label, charset, body) in cases {
            let id = self.next_id();
            let mail = raw_mail(
                &id,
                ANA,
                "Запрос",
                &format!(
                    "Content-Type: text/plain; charset={charset}\r\nContent-Transfer-Encoding: 8bit"
                ),
                &body,
            );
            self.push("charset", label, mail);
        }
        let id = self.next_id();
        let html = [
            b"<html><head><meta charset=\"koi8-r\"></head><body>".to_vec(),
            cp1251.to_vec(),
            b"</body></html>".to_vec(),
        ]
        .concat();
        let mail = raw_mail(
            &id,
            ANA,
            "Запрос",
            "Content-Type: text/html; charset=utf-8",
            &html,
        );
        self.push("charset", "html meta charset contradicts header", mail);
        let id = self.next_id();
        let mail = [
            format!("From: {ANA}\r\nTo: {TO}\r\nSubject: ").into_bytes(),
            koi8.to_vec(),
            format!("\r\nDate: {DATE}\r\nMessage-ID: {id}\r\n\r\nraw KOI8-R subject\r\n")
                .into_bytes(),
        ]
        .concat();
        self.push("charset", "raw koi8-r bytes in subject", mail);
    }

    /// Headers far beyond any sane size.
    fn huge_headers(&mut self) {
        let body = "Content-Type: text/plain; charset=utf-8\r\n\r\nBună ziua.\r\n";
        let mail = format!(
            "From: {ANA}\r\nTo: {TO}\r\nSubject: Lung\r\nDate: {DATE}\r\nMessage-ID: <{}@primaria.md>\r\n{body}",
            "a".repeat(100_000)
        );
        self.push("headers", "100 KB Message-ID", mail.into_bytes());
        let id = self.next_id();
        let mail = format!(
            "From: {ANA}\r\nTo: {TO}\r\nSubject: {}\r\nDate: {DATE}\r\nMessage-ID: {id}\r\n{body}",
            "A".repeat(1 << 20)
        );
        self.push("headers", "1 MB ASCII Subject", mail.into_bytes());
        let id = self.next_id();
        let subject = format!("Re: [{}] {}", self.case1, "Запрос ".repeat(80_000));
        let mail = text_mail_subject(&id, ANA, &subject, false, "Precizări.\r\n");
        let case = Some(self.case1.clone());
        self.push_full(
            "headers",
            "1 MB Cyrillic tagged Subject",
            mail,
            false,
            None,
            case,
        );
        let id = self.next_id();
        let received: String = (0..10_000)
            .map(|i| format!("Received: from relay{i}.example.md (relay{i}.example.md [10.0.{}.{}]) by mx.example.md; {DATE}\r\n", i / 256 % 256, i % 256))
            .collect();
        let mail = format!(
            "{received}From: {ANA}\r\nTo: {TO}\r\nSubject: Multe relee\r\nDate: {DATE}\r\nMessage-ID: {id}\r\n{body}"
        );
        self.push("headers", "10000 Received headers", mail.into_bytes());
        let id = self.next_id();
        let mail = format!(
            "From: {ANA}\r\nTo: {TO}\r\nthis header line has no colon\r\nSubject: Fără două puncte\r\nDate: {DATE}\r\nMessage-ID: {id}\r\n{body}"
        );
        self.push(
            "headers",
            "header line without colon (middle)",
            mail.into_bytes(),
        );
        let id = self.next_id();
        let mail = format!(
            "no colon on the first line\r\nFrom: {ANA}\r\nTo: {TO}\r\nSubject: Fără două puncte\r\nDate: {DATE}\r\nMessage-ID: {id}\r\n{body}"
        );
        self.push(
            "headers",
            "header line without colon (first)",
            mail.into_bytes(),
        );
        let id = self.next_id();
        let mail = format!(
            ": value without a name\r\nFrom: {ANA}\r\nSubject: x\r\nMessage-ID: {id}\r\n{body}"
        );
        self.push("headers", "header with empty name", mail.into_bytes());
        let id = self.next_id();
        let mail = format!(
            "From: {ANA}\r\nTo: {TO}\r\nSubject: Linie lungă\r\nX-Long: {}\r\nDate: {DATE}\r\nMessage-ID: {id}\r\n{body}",
            "y".repeat(200_000)
        );
        self.push("headers", "200 KB unfolded header line", mail.into_bytes());
        let id = self.next_id();
        let mail = format!(
            "From: {ANA}\r\nTo: {TO}\r\nSubject: Pliat{}\r\nDate: {DATE}\r\nMessage-ID: {id}\r\n{body}",
            "\r\n x".repeat(10_000)
        );
        self.push("headers", "Subject folded 10000 times", mail.into_bytes());
        let id = self.next_id();
        let to: String = (0..5_000)
            .map(|i| format!("u{i}@example.md"))
            .collect::<Vec<_>>()
            .join(",\r\n ");
        let mail = format!(
            "From: {ANA}\r\nTo: {to}\r\nSubject: Mulți destinatari\r\nDate: {DATE}\r\nMessage-ID: {id}\r\n{body}"
        );
        self.push("headers", "5000 To addresses", mail.into_bytes());
        let id = self.next_id();
        let from: String = (0..1_000)
            .map(|i| format!("F{i} <f{i}@example.md>"))
            .collect::<Vec<_>>()
            .join(", ");
        let mail = format!(
            "From: {from}\r\nTo: {TO}\r\nSubject: Mulți expeditori\r\nDate: {DATE}\r\nMessage-ID: {id}\r\n{body}"
        );
        self.push("headers", "1000 From addresses", mail.into_bytes());
        let id = self.next_id();
        let refs: String = (0..10_000)
            .map(|i| format!("<r{i}@example.md>"))
            .collect::<Vec<_>>()
            .join(" ");
        let mail = format!(
            "From: {ANA}\r\nTo: {TO}\r\nSubject: Referințe\r\nReferences: {refs}\r\nIn-Reply-To: {refs}\r\nDate: {DATE}\r\nMessage-ID: {id}\r\n{body}"
        );
        self.push(
            "headers",
            "10000 References and In-Reply-To",
            mail.into_bytes(),
        );
        for (label, date) in [
            ("garbage Date", "yesterday at noon, roughly"),
            ("Date in year 99999", "Thu, 03 Dec 99999 10:00:00 +0200"),
            ("Date with offset +9999", "Thu, 03 Dec 2026 10:00:00 +9999"),
        ] {
            let id = self.next_id();
            let mail = format!(
                "From: {ANA}\r\nTo: {TO}\r\nSubject: Dată\r\nDate: {date}\r\nMessage-ID: {id}\r\n{body}"
            );
            self.push("headers", label, mail.into_bytes());
        }
        let id = self.next_id();
        let mail = format!(
            "From: {ANA}\r\nFrom: Ion <ion@example.md>\r\nTo: {TO}\r\nSubject: Unu\r\nSubject: Doi\r\nDate: {DATE}\r\nMessage-ID: {id}\r\nMessage-ID: <other-{}\r\n{body}",
            &id[1..]
        );
        self.push(
            "headers",
            "duplicate From, Subject, Message-ID",
            mail.into_bytes(),
        );
        let id = self.next_id();
        let mail = format!(
            "From: {ANA}\r\nX-\u{0103}\u{0219}: non-ASCII header name\r\nTo: {TO}\r\nSubject: Nume\r\nDate: {DATE}\r\nMessage-ID: {id}\r\n{body}"
        );
        self.push("headers", "non-ASCII header name", mail.into_bytes());
    }

    /// NUL bytes and every mix of line ends.
    fn raw_bytes(&mut self) {
        let id = self.next_id();
        let lf = text_mail(&id, ANA, "Doar LF", "Bună ziua.\r\nIDNO 1008600038413\r\n");
        let cases: Vec<(&str, Vec<u8>)> = vec![
            ("bare LF line ends", replace(&lf, b"\r\n", b"\n")),
            ("bare CR line ends", replace(&lf, b"\r\n", b"\r")),
            ("CR CR LF line ends", replace(&lf, b"\r\n", b"\r\r\n")),
            ("LF CR line ends", replace(&lf, b"\r\n", b"\n\r")),
            (
                "mixed CR, LF, CRLF",
                lf.iter()
                    .enumerate()
                    .flat_map(|(i, &b)| match (b, i % 3) {
                        (b'\n', 0) => vec![b'\n'],
                        (b'\r', 1) => vec![b'\r', b'\r'],
                        _ => vec![b],
                    })
                    .collect(),
            ),
            (
                "NUL bytes in header and body",
                format!("From: Ana\0 <ana@primaria.md>\r\nTo: {TO}\r\nSubject: NUL\0NUL\r\nDate: {DATE}\r\nMessage-ID: <nul\0-id@primaria.md>\r\n\r\nBody\0with\0nuls\r\n").into_bytes(),
            ),
            ("1 KB of NUL bytes", vec![0; 1024]),
            ("0xFF bytes in headers", [b"From: \xff\xfe <ana@primaria.md>\r\nSubject: \xff\xff\xff\r\nMessage-ID: <ff@primaria.md>\r\n\r\nbody\r\n".as_slice()].concat()),
            ("UTF-8 BOM before headers", [b"\xef\xbb\xbf".as_slice(), &text_mail("<bom@primaria.md>", ANA, "BOM", "body\r\n")].concat()),
            ("blank line before headers", [b"\r\n".as_slice(), &text_mail("<blank@primaria.md>", ANA, "Gol", "body\r\n")].concat()),
            ("mbox From_ line first", [b"From ana@primaria.md Thu Dec  3 10:00:00 2026\n".as_slice(), &text_mail("<mbox@primaria.md>", ANA, "mbox", "body\r\n")].concat()),
            ("SMTP dot line in body", text_mail("<dot@primaria.md>", ANA, "Punct", "a\r\n.\r\n..\r\nb\r\n")),
        ];
        for (label, bytes) in cases {
            self.push("bytes", label, bytes);
        }
    }

    /// Zip bombs, zips within zips, zips that lie.
    fn zips(&mut self) {
        let bomb = super::fixtures::zip_bomb();
        let claim = lying_zip();
        let mut nested = build_zip(
            &[("certificat.cer", b"not really a certificate".as_slice())],
            false,
        );
        for level in 1..10 {
            nested = build_zip(
                &[(format!("arhiva-{level}.zip").as_str(), nested.as_slice())],
                false,
            );
        }
        let many = super::fixtures::zip_many_entries(10_000);
        let overlapping = overlapping_zip(2_000);
        let mut truncated = build_zip(
            &[("acord.txt", "Acord de integrare ".repeat(200).as_bytes())],
            false,
        );
        truncated.truncate(truncated.len() / 2);
        let traversal = build_zip(
            &[
                ("../../../../etc/passwd", b"root:x:0:0".as_slice()),
                ("/abs/path.cer", b"x"),
            ],
            true,
        );
        let mut encrypted = build_zip(&[("secret.txt", b"secret".as_slice())], true);
        // The "encrypted" general-purpose flag on both headers, without any encryption.
        encrypted[6] |= 1;
        if let Some(c) = find(&encrypted, &[0x50, 0x4b, 0x01, 0x02]) {
            encrypted[c + 8] |= 1;
        }
        let empty = vec![
            0x50, 0x4b, 0x05, 0x06, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        ];
        let zips: Vec<(&str, &str, &str, Vec<u8>)> = vec![
            (
                "zip bomb 1 GiB",
                "documente.zip",
                "application/zip",
                bomb.clone(),
            ),
            (
                "zip bomb named .cer",
                "certificat.cer",
                "application/pkix-cert",
                bomb,
            ),
            ("zip claiming 4 GiB", "acte.zip", "application/zip", claim),
            (
                "zip nested 10 deep",
                "arhiva.zip",
                "application/zip",
                nested,
            ),
            (
                "zip with 10000 entries",
                "multe.zip",
                "application/zip",
                many,
            ),
            (
                "zip with 2000 overlapping entries",
                "suprapus.zip",
                "application/zip",
                overlapping,
            ),
            (
                "zip truncated",
                "trunchiat.zip",
                "application/zip",
                truncated,
            ),
            (
                "zip path traversal names",
                "cale.zip",
                "application/zip",
                traversal,
            ),
            (
                "zip encrypted flag",
                "criptat.zip",
                "application/zip",
                encrypted,
            ),
            ("zip empty", "gol.zip", "application/zip", empty),
        ];
        for (label, name, ct, bytes) in zips {
            let id = self.next_id();
            let mail = attachment_mail(&id, ANA, name, ct, &bytes);
            self.push("zip", label, mail);
        }
    }

    /// Garbage where a certificate should be.
    fn certificates(&mut self) {
        let der = &cert_der();
        let mut items: Vec<(String, &str, Vec<u8>)> = Vec::new();
        for n in [1usize, 16, 1000, 4096] {
            items.push((
                format!("random {n} bytes .cer"),
                "certificat.cer",
                self.rng.bytes(n),
            ));
        }
        {
            for cut in [10, 100, der.len() / 2, der.len() - 1] {
                items.push((
                    format!("DER truncated at {cut}"),
                    "certificat.cer",
                    der[..cut].to_vec(),
                ));
            }
            let mut trailing = der.clone();
            trailing.extend(self.rng.bytes(500));
            items.push((
                "DER with trailing garbage".into(),
                "certificat.cer",
                trailing,
            ));
            let pem = pem_wrap("CERTIFICATE", der);
            let broken = pem.replacen("M", "!", 5).replacen("A", "*", 7);
            items.push((
                "PEM with broken base64".into(),
                "certificat.pem",
                broken.into_bytes(),
            ));
            let no_end: String = pem
                .lines()
                .take_while(|l| !l.starts_with("-----END"))
                .map(|l| format!("{l}\n"))
                .collect();
            items.push((
                "PEM without END line".into(),
                "certificat.pem",
                no_end.into_bytes(),
            ));
            items.push((
                "PEM with CR line ends".into(),
                "certificat.pem",
                pem.replace('\n', "\r").into_bytes(),
            ));
        }
        items.push((
            "10000 PEM BEGIN lines".into(),
            "certificat.pem",
            "-----BEGIN CERTIFICATE-----\n".repeat(10_000).into_bytes(),
        ));
        items.push((
            "DER claiming 4 GiB length".into(),
            "certificat.cer",
            [
                &[0x30u8, 0x84, 0xff, 0xff, 0xff, 0xff][..],
                &self.rng.bytes(64),
            ]
            .concat(),
        ));
        let mut deep = Vec::new();
        for _ in 0..5_000 {
            deep = [vec![0x30, 0x80], deep, vec![0, 0]].concat();
        }
        items.push((
            "5000 nested indefinite SEQUENCEs".into(),
            "certificat.cer",
            deep,
        ));
        items.push(("random .p7b".into(), "lant.p7b", self.rng.bytes(2000)));
        items.push(("random .pfx".into(), "cheie.pfx", self.rng.bytes(2500)));
        items.push((
            "PEM PRIVATE KEY label around garbage".into(),
            "cheie.pem",
            format!(
                "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
                "!@#$".repeat(40)
            )
            .into_bytes(),
        ));
        for (label, name, bytes) in items {
            let id = self.next_id();
            let ct = if name.ends_with(".pem") {
                "application/x-pem-file"
            } else {
                "application/pkix-cert"
            };
            let mail = attachment_mail(&id, ANA, name, ct, &bytes);
            self.push("certificate", label, mail);
        }
    }

    /// File names meant to mislead people or break file systems.
    fn attachment_names(&mut self) {
        let rlo = "factura\u{202e}txt.exe";
        let names: Vec<(&str, String)> = vec![
            (
                "RLO in RFC 2231 name",
                format!("filename*=utf-8''{}", percent(rlo)),
            ),
            (
                "RLO in encoded word",
                format!("filename=\"=?UTF-8?B?{}?=\"", STANDARD.encode(rlo)),
            ),
            ("RLO raw UTF-8", format!("filename=\"{rlo}\"")),
            ("path traversal", "filename=\"../../../etc/passwd\"".into()),
            (
                "windows path",
                "filename=\"C:\\\\Windows\\\\System32\\\\cert.cer\"".into(),
            ),
            ("NUL in name", "filename*=utf-8''cert%00.exe".into()),
            (
                "newline in name",
                "filename=\"=?UTF-8?Q?a=0D=0AX-Injected:_yes?=\"".into(),
            ),
            (
                "10 KB name",
                format!("filename=\"{}.cer\"", "n".repeat(10_000)),
            ),
            ("empty name", "filename=\"\"".into()),
            ("only dots", "filename=\"....\"".into()),
            ("reserved device name", "filename=\"CON.cer\"".into()),
            (
                "zero-width space",
                format!("filename*=utf-8''{}", percent("certi\u{200b}ficat.cer")),
            ),
        ];
        for (label, param) in names {
            let id = self.next_id();
            let part = format!(
                "Content-Type: application/octet-stream\r\nContent-Disposition: attachment; {param}\r\n\
                 Content-Transfer-Encoding: base64\r\n\r\n{}",
                b64(b"MZ not really an executable\n")
            );
            let mail = multipart_mail(
                &id,
                ANA,
                "Factura",
                "mixed",
                &[text_part("Vedeți factura."), part.into_bytes()],
            );
            self.push("names", label, mail);
        }
        let id = self.next_id();
        let part = format!(
            "Content-Type: application/pdf; name=\"acord.pdf\"\r\nContent-Disposition: attachment; filename=\"{rlo}\"\r\n\
             Content-Transfer-Encoding: base64\r\n\r\n{}",
            b64(b"%PDF-1.4\n%%EOF\n")
        );
        let mail = multipart_mail(&id, ANA, "Acord", "mixed", &[part.into_bytes()]);
        self.push("names", "name and filename disagree", mail);
    }

    /// Files that are hardly mail at all. Two empty files on purpose: the same bytes delivered
    /// twice are one message with two deliveries.
    fn no_structure(&mut self) {
        self.push("structure", "empty file", Vec::new());
        self.push("structure", "empty file again", Vec::new());
        self.push("structure", "1-byte file", b"x".to_vec());
        self.push("structure", "only CRLF", b"\r\n".to_vec());
        self.push(
            "structure",
            "no headers, body only",
            "Bună ziua,\r\nvă rog să examinați solicitarea de integrare cu MPass.\r\n"
                .as_bytes()
                .to_vec(),
        );
        self.push(
            "structure",
            "headers only, no blank line",
            format!("From: {ANA}\r\nSubject: Fără corp\r\nMessage-ID: <nobody@primaria.md>")
                .into_bytes(),
        );
        self.push(
            "structure",
            "headers and blank line, no body",
            format!(
                "From: {ANA}\r\nSubject: Corp gol\r\nMessage-ID: <emptybody@primaria.md>\r\n\r\n"
            )
            .into_bytes(),
        );
    }

    /// Auto-replies and bounces: each must be recorded and never answered.
    fn robots(&mut self) {
        let tag = format!("[{}]", self.case1);
        let robots: Vec<(&str, String, String, String)> = vec![
            ("Auto-Submitted auto-replied", "Ana <ana@primaria.md>".into(), format!("Răspuns automat: Re: {tag} {RU_SUBJECT}"), "Auto-Submitted: auto-replied".into()),
            ("Auto-Submitted auto-generated", "Sistem <sistem@primaria.md>".into(), "Notificare".into(), "Auto-Submitted: auto-generated".into()),
            ("Auto-Submitted odd case", "Ion <ion@example.md>".into(), "Out of office".into(), "Auto-Submitted: Auto-Replied; owner=\"ion@example.md\"".into()),
            ("Precedence bulk", "News <news@example.md>".into(), "Buletin".into(), "Precedence: bulk".into()),
            ("Precedence list", "Lista <lista@example.md>".into(), "Discuție".into(), "Precedence: list".into()),
            ("Precedence junk", "Spam <spam@example.md>".into(), "Ofertă".into(), "Precedence: junk".into()),
            ("List-Id", "Membru <membru@example.md>".into(), "Re: integrare".into(), "List-Id: <egov.lists.example.md>".into()),
            ("X-Auto-Response-Suppress", "Exchange <ex@example.md>".into(), "Automatic reply: Solicitare".into(), "X-Auto-Response-Suppress: All".into()),
            ("empty Return-Path", "Someone <someone@example.md>".into(), "Undelivered".into(), "Return-Path: <>".into()),
            ("MAILER-DAEMON", "Mail Delivery System <MAILER-DAEMON@mx.primaria.md>".into(), format!("Undelivered Mail Returned to Sender {tag}"), String::new()),
            ("postmaster", "postmaster@primaria.md".into(), "Delivery Status Notification (Failure)".into(), String::new()),
            ("noreply sender", "No Reply <noreply@portal.gov.md>".into(), "Confirmare".into(), String::new()),
            ("no-reply sender", "<no-reply@example.md>".into(), "Confirmare".into(), String::new()),
            ("our own Message-ID domain", ANA.into(), format!("Re: {tag}"), "In-Reply-To: <loop@intake.egov.md>\r\nMessage-ID: <reply.0123456789abcdef01234567@intake.egov.md>".into()),
            ("from our own address", "Office <office@egov.md>".into(), format!("Re: {tag} {RU_SUBJECT}"), String::new()),
            ("Cyrillic out-of-office with tag", "Иван <ivan@example.ru>".into(), format!("Автоответ: Re: {tag} {RU_SUBJECT}"), "Auto-Submitted: auto-replied\r\nX-Autoreply: yes".into()),
            ("encoded auto-reply subject", ANA.into(), format!("=?UTF-8?B?{}?=", STANDARD.encode(format!("Автоответ: Re: {tag} Запрос"))), "Auto-Submitted: auto-replied".into()),
        ];
        for (label, from, subject, extra) in robots {
            let id = self.next_id();
            let extra = if extra.is_empty() {
                String::new()
            } else {
                format!("{extra}\r\n")
            };
            let message_id = if extra.contains("Message-ID:") {
                String::new()
            } else {
                format!("Message-ID: {id}\r\n")
            };
            let mail = format!(
                "From: {from}\r\nTo: {TO}\r\nSubject: {subject}\r\nDate: {DATE}\r\n{message_id}{extra}\
                 MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
                 Sunt în concediu până pe 10 decembrie. / I am out of office.\r\n"
            );
            self.push_full("robot", label, mail.into_bytes(), true, None, None);
        }
        // A real DSN: multipart/report from MAILER-DAEMON with an empty Return-Path.
        let id = self.next_id();
        let original = text_mail(
            "<reply.abc@intake.egov.md>",
            "AGE <office@egov.md>",
            &format!("Re: {tag} Solicitare"),
            "Răspuns.\r\n",
        );
        let report = "Content-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.primaria.md\r\n\r\n\
             Final-Recipient: rfc822; ana@primaria.md\r\nAction: failed\r\nStatus: 5.1.1\r\n";
        let mut mail = format!(
            "Return-Path: <>\r\nFrom: Mail Delivery System <MAILER-DAEMON@mx.primaria.md>\r\nTo: {TO}\r\n\
             Subject: Undelivered Mail Returned to Sender\r\nDate: {DATE}\r\nMessage-ID: {id}\r\n\
             Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n\
             Content-Type: multipart/report; report-type=delivery-status; boundary=\"DSN\"\r\n\r\n\
             --DSN\r\nContent-Type: text/plain\r\n\r\nThis is the mail system at host mx.primaria.md.\r\n\
             --DSN\r\n{report}--DSN\r\nContent-Type: message/rfc822\r\n\r\n"
        )
        .into_bytes();
        mail.extend(original);
        mail.extend(b"\r\n--DSN--\r\n");
        self.push_full(
            "robot",
            "delivery status notification",
            mail,
            true,
            None,
            None,
        );
        // A bounce with a Cyrillic tagged subject (the panic path, from a robot).
        let id = self.next_id();
        let mail = format!(
            "Return-Path: <>\r\nFrom: MAILER-DAEMON@mx.example.ru\r\nTo: {TO}\r\n\
             Subject: Не доставлено: Re: {tag} {RU_SUBJECT}\r\nDate: {DATE}\r\nMessage-ID: {id}\r\n\r\n\
             Сообщение не доставлено.\r\n"
        );
        self.push_full(
            "robot",
            "Cyrillic bounce with tag",
            mail.into_bytes(),
            true,
            None,
            None,
        );
    }

    /// A mail larger than the configured limit.
    fn oversize(&mut self, limit: usize) {
        let id = self.next_id();
        let data = self.rng.bytes(limit * 3 / 4 + 100_000);
        let mail = attachment_mail(
            &id,
            ANA,
            "arhiva-mare.bin",
            "application/octet-stream",
            &data,
        );
        assert!(mail.len() > limit);
        self.push("oversize", "larger than max_message_bytes", mail);
    }

    /// Mails carrying a private key in hostile shapes, one key each.
    fn private_keys(&mut self, keys: &[TestKey], limit: usize) {
        assert!(keys.len() >= KEY_MAILS, "need {KEY_MAILS} keys");
        for (i, key) in keys.iter().enumerate() {
            self.key_secrets(i, key);
        }
        let pem_file = |k: &TestKey| k.pem.replace('\n', "\r\n");

        // 0: a PEM key in the first text part, then 1,001 nested multiparts.
        let k = &keys[0];
        let id = self.next_id();
        let first = text_part(&format!("Bună ziua, cheia noastră:\r\n{}", pem_file(k)));
        let deep = nested_multiparts(text_part("adânc"), 1001, false);
        let body = multipart_body("TOP", &[first, deep]);
        let mail = [
            mail_head(&id, ANA, "Cheia MSign"),
            b"Content-Type: multipart/mixed; boundary=\"TOP\"\r\n\r\n".to_vec(),
            body,
        ]
        .concat();
        self.push_full(
            "private-key",
            "PEM in first text part, then 1001 nested multiparts",
            mail,
            false,
            Some(0),
            None,
        );

        // 1: a PEM key file inside 25 nested forwarded mails.
        let k = &keys[1];
        let id = self.next_id();
        let file = pem_file(k).into_bytes();
        self.attachment_secrets(
            1,
            &file,
            &pem_private_text_range(&file),
            "base64 of cheie.pem",
        );
        let innermost = attachment_mail(
            "<key-inner-1@primaria.md>",
            ANA,
            "cheie.pem",
            "application/x-pem-file",
            &file,
        );
        let mail = nested_forwards(&id, innermost, 25);
        self.push_full(
            "private-key",
            "PEM key file in 25 nested forwards",
            mail,
            false,
            Some(1),
            None,
        );

        // 2: a .p12 inside 25 nested forwarded mails.
        let k = &keys[2];
        let id = self.next_id();
        let at = find(&k.p12, k.pkcs1()).expect("checked in make_key");
        let range = at + k.private_range().start..at + k.private_range().end;
        self.attachment_secrets(2, &k.p12, &range, "base64 of cheie.p12");
        let innermost = attachment_mail(
            "<key-inner-2@primaria.md>",
            ANA,
            "cheie.p12",
            "application/x-pkcs12",
            &k.p12,
        );
        let mail = nested_forwards(&id, innermost, 25);
        self.push_full(
            "private-key",
            "PKCS#12 in 25 nested forwards",
            mail,
            false,
            Some(2),
            None,
        );

        // 3: a key in a part beyond the part-count limit.
        let k = &keys[3];
        let id = self.next_id();
        let file = pem_file(k).into_bytes();
        self.attachment_secrets(
            3,
            &file,
            &pem_private_text_range(&file),
            "base64 of cheie.pem",
        );
        let mut parts: Vec<Vec<u8>> = (0..1_001)
            .map(|i| text_attachment_part(&format!("anexa-{i:04}.txt"), "anexă\r\n"))
            .collect();
        parts.push(b64_part("cheie.pem", "application/x-pem-file", &file));
        let mail = multipart_mail(&id, ANA, "Anexe", "mixed", &parts);
        self.push_full(
            "private-key",
            "PEM key file after 1001 parts",
            mail,
            false,
            Some(3),
            None,
        );

        // 4: a PEM key in the body of the innermost of 2,000 attached mails.
        let k = &keys[4];
        let id = self.next_id();
        let innermost = text_mail("<key-inner-4@primaria.md>", ANA, "Cheia", &pem_file(k));
        let mail = bare_rfc822_nest(&id, innermost, 2000);
        self.push_full(
            "private-key",
            "PEM in body of innermost of 2000 attached mails",
            mail,
            false,
            Some(4),
            None,
        );

        // 5: a DER key, stored uncompressed, in a zip nested 10 deep.
        let k = &keys[5];
        let id = self.next_id();
        let mut zip = build_zip(&[("certificat.cer", k.pkcs8_der.as_slice())], false);
        for level in 1..10 {
            zip = build_zip(
                &[(format!("arhiva-{level}.zip").as_str(), zip.as_slice())],
                false,
            );
        }
        let at = find(&zip, k.pkcs1()).expect("stored zips keep the bytes");
        let range = at + k.private_range().start..at + k.private_range().end;
        self.attachment_secrets(5, &zip, &range, "base64 of the nested zip");
        let mail = attachment_mail(&id, ANA, "documente.zip", "application/zip", &zip);
        self.push_full(
            "private-key",
            "DER key in zip nested 10 deep",
            mail,
            false,
            Some(5),
            None,
        );

        // 6: a PEM key in the first text part of a mail over the size limit.
        let k = &keys[6];
        let id = self.next_id();
        let padding = self.rng.bytes(limit * 3 / 4 + 100_000);
        let mail = multipart_mail(
            &id,
            ANA,
            "Cheia și arhiva",
            "mixed",
            &[
                text_part(&format!("Cheia:\r\n{}", pem_file(k))),
                b64_part("arhiva.bin", "application/octet-stream", &padding),
            ],
        );
        assert!(mail.len() > limit);
        self.push_full(
            "private-key",
            "PEM in first part of a too-large mail",
            mail,
            false,
            Some(6),
            None,
        );

        // 7: a PEM key in a file with no header block at all.
        let k = &keys[7];
        let mail = format!("Bună ziua, cheia:\r\n\r\n{}", pem_file(k)).into_bytes();
        self.push_full(
            "private-key",
            "PEM in a mail without headers",
            mail,
            false,
            Some(7),
            None,
        );

        // 8: a .p12 in a multipart whose boundary is never closed.
        let k = &keys[8];
        let id = self.next_id();
        let at = find(&k.p12, k.pkcs1()).expect("checked in make_key");
        let range = at + k.private_range().start..at + k.private_range().end;
        self.attachment_secrets(8, &k.p12, &range, "base64 of cheie.pfx");
        let mut body = multipart_body(
            "OPEN",
            &[
                text_part("Certificatul."),
                b64_part("cheie.pfx", "application/x-pkcs12", &k.p12),
            ],
        );
        body.truncate(body.len() - "--OPEN--\r\n".len());
        let mail = [
            mail_head(&id, ANA, "Certificat"),
            b"Content-Type: multipart/mixed; boundary=\"OPEN\"\r\n\r\n".to_vec(),
            body,
        ]
        .concat();
        self.push_full(
            "private-key",
            "PKCS#12 in a multipart never closed",
            mail,
            false,
            Some(8),
            None,
        );

        // 9: a PEM key in an HTML-only body declared in an unknown charset.
        let k = &keys[9];
        let id = self.next_id();
        let html = format!(
            "<html><body><p>Cheia:</p><pre>{}</pre></body></html>\r\n",
            pem_file(k)
        );
        let mail = raw_mail(
            &id,
            ANA,
            "Cheia",
            "Content-Type: text/html; charset=\"x-unknown\"",
            html.as_bytes(),
        );
        self.push_full(
            "private-key",
            "PEM in HTML body with unknown charset",
            mail,
            false,
            Some(9),
            None,
        );
    }

    /// The key's PEM body lines (two 40-character runs of each line past the public modulus)
    /// and raw DER windows of its private half.
    fn key_secrets(&mut self, index: usize, key: &TestKey) {
        let lines: Vec<&str> = key
            .pem
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect();
        // PKCS#8 byte (26 + PKCS1_PRIVATE_START) is at base64 character ~408: line 7 on is private.
        for line in lines.iter().skip(7).filter(|l| l.len() == 64).step_by(3) {
            for run in [&line[..40], &line[24..]] {
                self.secrets.push(Secret {
                    key: index,
                    what: "PEM body line".into(),
                    bytes: run.as_bytes().to_vec(),
                });
            }
        }
        let pkcs1 = key.pkcs1();
        let private = key.private_range();
        let mut at = private.start;
        while at + 32 <= private.end {
            self.secrets.push(Secret {
                key: index,
                what: format!("DER bytes at {at}"),
                bytes: pkcs1[at..at + 32].to_vec(),
            });
            at += 200;
        }
    }

    /// 40-character runs of the base64 lines (as [`b64`] wraps them) that encode only bytes of
    /// `range` in `data`.
    fn attachment_secrets(&mut self, index: usize, data: &[u8], range: &Range<usize>, what: &str) {
        let encoded = b64(data);
        let per_line = B64_WIDTH / 4 * 3;
        for (n, line) in encoded.split("\r\n").enumerate() {
            let start = n * per_line;
            if start >= range.start
                && start + per_line <= range.end
                && line.len() == B64_WIDTH
                && n % 2 == 0
            {
                for run in [&line[..40], &line[36..]] {
                    self.secrets.push(Secret {
                        key: index,
                        what: what.into(),
                        bytes: run.as_bytes().to_vec(),
                    });
                }
            }
        }
    }
}

/// The byte range of a PEM file's private lines (the eighth body line to the last full one).
fn pem_private_text_range(pem: &[u8]) -> Range<usize> {
    let text = std::str::from_utf8(pem).expect("PEM is ASCII");
    let mut offset = 0;
    let mut starts = Vec::new();
    for line in text.split_inclusive('\n') {
        if !line.starts_with("-----") {
            starts.push((offset, line.len()));
        }
        offset += line.len();
    }
    let first = starts[7].0;
    let last = starts[starts.len() - 2];
    first..last.0 + last.1
}

// ---------------------------------------------------------------------------------------------
// Mail building blocks. Every mail has CRLF line ends unless the family is about line ends.

/// From/To/Subject/Date/Message-ID/MIME-Version, without the content type.
fn mail_head(id: &str, from: &str, subject: &str) -> Vec<u8> {
    format!("From: {from}\r\nTo: {TO}\r\nSubject: {subject}\r\nDate: {DATE}\r\nMessage-ID: {id}\r\nMIME-Version: 1.0\r\n").into_bytes()
}

/// A mail whose content headers are `content` (one or more header lines) and whose body is
/// `body`, as given.
fn raw_mail(id: &str, from: &str, subject: &str, content: &str, body: &[u8]) -> Vec<u8> {
    [
        mail_head(id, from, subject),
        format!("{content}\r\n\r\n").into_bytes(),
        body.to_vec(),
        b"\r\n".to_vec(),
    ]
    .concat()
}

fn text_mail(id: &str, from: &str, subject: &str, text: &str) -> Vec<u8> {
    text_mail_subject(id, from, subject, false, text)
}

/// A UTF-8 text mail whose subject is raw UTF-8 (RFC 6532) or RFC 2047 encoded words.
fn text_mail_subject(id: &str, from: &str, subject: &str, encoded: bool, text: &str) -> Vec<u8> {
    let subject = if encoded {
        encoded_words(subject)
    } else {
        subject.to_owned()
    };
    raw_mail(
        id,
        from,
        &subject,
        "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit",
        text.as_bytes(),
    )
}

/// RFC 2047 B-words of at most 45 bytes of text each, split on character boundaries.
fn encoded_words(text: &str) -> String {
    let mut chunks = vec![String::new()];
    for c in text.chars() {
        let last = chunks.last_mut().expect("never empty");
        if last.len() + c.len_utf8() > 45 {
            chunks.push(c.to_string());
        } else {
            last.push(c);
        }
    }
    chunks
        .iter()
        .map(|c| format!("=?UTF-8?B?{}?=", STANDARD.encode(c)))
        .collect::<Vec<_>>()
        .join("\r\n ")
}

fn text_part(text: &str) -> Vec<u8> {
    format!("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{text}\r\n").into_bytes()
}

fn text_attachment_part(name: &str, text: &str) -> Vec<u8> {
    format!("Content-Type: text/plain; charset=utf-8; name=\"{name}\"\r\nContent-Disposition: attachment; filename=\"{name}\"\r\n\r\n{text}").into_bytes()
}

fn b64_part(name: &str, content_type: &str, data: &[u8]) -> Vec<u8> {
    format!(
        "Content-Type: {content_type}; name=\"{name}\"\r\nContent-Disposition: attachment; filename=\"{name}\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{}",
        b64(data)
    )
    .into_bytes()
}

/// The parts between boundary lines, closed.
fn multipart_body(boundary: &str, parts: &[Vec<u8>]) -> Vec<u8> {
    let mut out = b"This is a multi-part message in MIME format.\r\n".to_vec();
    for part in parts {
        out.extend(format!("--{boundary}\r\n").bytes());
        out.extend(part);
        if !part.ends_with(b"\r\n") {
            out.extend(b"\r\n");
        }
    }
    out.extend(format!("--{boundary}--\r\n").bytes());
    out
}

fn multipart_mail(id: &str, from: &str, subject: &str, kind: &str, parts: &[Vec<u8>]) -> Vec<u8> {
    let boundary = format!(
        "=_hostile_{}",
        id.trim_matches(['<', '>']).replace('@', "_")
    );
    [
        mail_head(id, from, subject),
        format!("Content-Type: multipart/{kind}; boundary=\"{boundary}\"\r\n\r\n").into_bytes(),
        multipart_body(&boundary, parts),
    ]
    .concat()
}

fn attachment_mail(id: &str, from: &str, name: &str, content_type: &str, data: &[u8]) -> Vec<u8> {
    multipart_mail(
        id,
        from,
        "Documente",
        "mixed",
        &[
            text_part("Vă trimit documentele."),
            b64_part(name, content_type, data),
        ],
    )
}

/// `inner` (a part: headers, blank line, body) wrapped in `depth` multipart/mixed levels; the
/// result is a part too. With `same`, every level uses one boundary.
fn nested_multiparts(inner: Vec<u8>, depth: usize, same: bool) -> Vec<u8> {
    let mut part = inner;
    for level in 0..depth {
        let boundary = if same {
            "SAME".to_string()
        } else {
            format!("L{level}")
        };
        part = [
            format!("Content-Type: multipart/mixed; boundary=\"{boundary}\"\r\n\r\n").into_bytes(),
            multipart_body(&boundary, &[part]),
        ]
        .concat();
    }
    part
}

/// `innermost` forwarded `depth` times, each forward a complete mail with a text part and the
/// previous mail as a message/rfc822 attachment.
fn nested_forwards(id: &str, innermost: Vec<u8>, depth: usize) -> Vec<u8> {
    let mut mail = innermost;
    for level in 1..=depth {
        let this_id = if level == depth {
            id.to_string()
        } else {
            format!("<fwd-{level}-{}", &id[1..])
        };
        let encoding = if mail.is_ascii() { "7bit" } else { "8bit" };
        let attached = [
            format!("Content-Type: message/rfc822\r\nContent-Disposition: attachment; filename=\"fwd-{level}.eml\"\r\nContent-Transfer-Encoding: {encoding}\r\n\r\n").into_bytes(),
            mail,
        ]
        .concat();
        let parts = vec![
            text_part(&format!("Redirecționez (nivelul {level}).")),
            attached,
        ];
        mail = multipart_mail(
            &this_id,
            ANA,
            &format!("Fwd: nivelul {level}"),
            "mixed",
            &parts,
        );
    }
    mail
}

/// `innermost` as the body of `depth` minimal message/rfc822 mails, one inside the other.
fn bare_rfc822_nest(id: &str, innermost: Vec<u8>, depth: usize) -> Vec<u8> {
    let mut mail = innermost;
    for level in 1..depth {
        mail = [format!("From: a{level}@primaria.md\r\nSubject: n{level}\r\nContent-Type: message/rfc822\r\n\r\n").into_bytes(), mail].concat();
    }
    [
        mail_head(id, ANA, "Fwd: adânc"),
        b"Content-Type: message/rfc822\r\n\r\n".to_vec(),
        mail,
    ]
    .concat()
}

/// Base64 wrapped at [`B64_WIDTH`] with CRLF, ending in CRLF.
pub fn b64(data: &[u8]) -> String {
    let encoded = STANDARD.encode(data);
    let mut out = String::with_capacity(encoded.len() + encoded.len() / B64_WIDTH * 2 + 2);
    for chunk in encoded.as_bytes().chunks(B64_WIDTH) {
        out.push_str(std::str::from_utf8(chunk).expect("base64 is ASCII"));
        out.push_str("\r\n");
    }
    out
}

fn pem_wrap(label: &str, der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).expect("ASCII"))
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

fn percent(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"._-".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn replace(data: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    let mut i = 0;
    while i < data.len() {
        if data[i..].starts_with(from) {
            out.extend(to);
            i += from.len();
        } else {
            out.push(data[i]);
            i += 1;
        }
    }
    out
}

/// The value of the first `name` header (case-insensitive), unfolded, if the mail has one.
fn header_value(raw: &[u8], name: &str) -> Option<String> {
    let text = String::from_utf8_lossy(&raw[..raw.len().min(300_000)]);
    let prefix = format!("{name}:");
    text.split("\r\n")
        .take_while(|l| !l.is_empty())
        // Byte-wise: a header line may start with a multi-byte letter.
        .find(|l| {
            l.as_bytes()
                .get(..prefix.len())
                .is_some_and(|p| p.eq_ignore_ascii_case(prefix.as_bytes()))
        })
        .map(|l| l[prefix.len()..].trim().to_string())
}

// ---------------------------------------------------------------------------------------------
// Zips and DER.

/// A zip of `entries`, deflated or stored.
fn build_zip(entries: &[(&str, &[u8])], deflate: bool) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let method = if deflate {
        zip::CompressionMethod::Deflated
    } else {
        zip::CompressionMethod::Stored
    };
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(method)
        .unix_permissions(0o644);
    for (name, bytes) in entries {
        writer.start_file(*name, options).expect("zip entry");
        writer.write_all(bytes).expect("zip data");
    }
    writer.finish().expect("zip finish").into_inner()
}

/// Local and central headers of one entry (method deflate), as zip writes them.
fn zip_entry_headers(
    name: &str,
    crc: u32,
    compressed: u32,
    size: u32,
    offset: u32,
) -> (Vec<u8>, Vec<u8>) {
    let common = |out: &mut Vec<u8>| {
        out.extend(20u16.to_le_bytes());
        out.extend(0u16.to_le_bytes());
        out.extend(8u16.to_le_bytes());
        out.extend(0u16.to_le_bytes());
        out.extend(0x5a21u16.to_le_bytes());
        out.extend(crc.to_le_bytes());
        out.extend(compressed.to_le_bytes());
        out.extend(size.to_le_bytes());
        out.extend((name.len() as u16).to_le_bytes());
        out.extend(0u16.to_le_bytes());
    };
    let mut local = 0x0403_4b50u32.to_le_bytes().to_vec();
    common(&mut local);
    local.extend(name.as_bytes());
    let mut central = 0x0201_4b50u32.to_le_bytes().to_vec();
    central.extend((3u16 << 8 | 20).to_le_bytes());
    common(&mut central);
    central.extend([0; 8]);
    central.extend((0o100644u32 << 16).to_le_bytes());
    central.extend(offset.to_le_bytes());
    central.extend(name.as_bytes());
    (local, central)
}

fn end_of_central(entries: u16, central_len: u32, central_at: u32) -> Vec<u8> {
    let mut out = 0x0605_4b50u32.to_le_bytes().to_vec();
    out.extend([0; 4]);
    out.extend(entries.to_le_bytes());
    out.extend(entries.to_le_bytes());
    out.extend(central_len.to_le_bytes());
    out.extend(central_at.to_le_bytes());
    out.extend(0u16.to_le_bytes());
    out
}

/// One tiny deflated entry whose headers claim 4 GiB - 1 uncompressed.
fn lying_zip() -> Vec<u8> {
    let data = deflate(&[0u8; 1000]);
    let (mut zip, central) = zip_entry_headers(
        "certificat.cer",
        0xdead_beef,
        data.len() as u32,
        u32::MAX,
        0,
    );
    zip.extend(&data);
    let at = zip.len() as u32;
    zip.extend(&central);
    zip.extend(end_of_central(1, central.len() as u32, at));
    zip
}

/// `n` central-directory entries all pointing at one 1 MiB-of-zeros entry (Fifield's
/// overlapping-file bomb): n MiB from about 1 KB.
fn overlapping_zip(n: usize) -> Vec<u8> {
    let zeros = vec![0u8; 1 << 20];
    let data = deflate(&zeros);
    let crc = crc32(&zeros);
    let (mut zip, _) = zip_entry_headers("a.cer", crc, data.len() as u32, zeros.len() as u32, 0);
    zip.extend(&data);
    let at = zip.len() as u32;
    let mut central = Vec::new();
    for _ in 0..n {
        let (_, c) = zip_entry_headers("a.cer", crc, data.len() as u32, zeros.len() as u32, 0);
        central.extend(c);
    }
    zip.extend(&central);
    zip.extend(end_of_central(n as u16, central.len() as u32, at));
    zip
}

fn deflate(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(data).expect("in memory");
    enc.finish().expect("in memory")
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A fixed self-signed EC certificate (made once with openssl, valid until 2126), for the
/// truncated and mangled certificate mails: fixed bytes keep the corpus the same on every run.
const CERT_DER_B64: &str = "MIIBhTCCASugAwIBAgIUFNZVJLoabZ2BZseaF2DRSka6w5MwCgYIKoZIzj0EAwIwFzEVMBMGA1UEAwwMaG9zdGlsZSBjZXJ0MCAX\
    DTI2MTIwNTEwMTQwNFoYDzIxMjYxMTExMTAxNDA0WjAXMRUwEwYDVQQDDAxob3N0aWxlIGNlcnQwWTATBgcqhkjOPQIBBggqhkjO\
    PQMBBwNCAATHVMleVttB0rQZM69dYghjFYnSvJm7/8h7djlhd91fMD8QKicfUeJQNbseyRI81qTde73oGLhD1oX/s+3s2tJ9o1Mw\
    UTAdBgNVHQ4EFgQU8rw4qw3xK/DwEsowPQaelEcv4RUwHwYDVR0jBBgwFoAU8rw4qw3xK/DwEsowPQaelEcv4RUwDwYDVR0TAQH/\
    BAUwAwEB/zAKBggqhkjOPQQDAgNIADBFAiAa8SWtZ+FsNjTXnCb1Vii+fpTmupaflf0cvMuWNOxY0wIhAO61o8HZN8WSXtWkdBcF\
    qW17nuIzE99ROE2PkZvGCbdJ";

fn cert_der() -> Vec<u8> {
    let text: String = CERT_DER_B64.split_whitespace().collect();
    STANDARD.decode(text).expect("valid base64")
}
