//! Table tests for threading, the loop guard and the replies.

use std::path::PathBuf;

use chrono::TimeZone;

use super::*;
use crate::config::{Limits, MailboxConfig, MaildirConfig, ReplyConfig, Role, SourceConfig};
use crate::domain::{EventKind, OutgoingKind};
use crate::inspect::inspect;
use crate::parse::parse;
use crate::understand::understand;

fn rules() -> Rules {
    Rules::load(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("rules")).unwrap()
}

fn mailbox(role: Role) -> MailboxConfig {
    MailboxConfig {
        name: role.as_str().into(),
        role,
        address: match role {
            Role::Office => "office@egov.md",
            Role::Mpass => "support.mpass@egov.md",
            Role::Msign => "support.msign@egov.md",
            Role::Services => "servicii@egov.md",
        }
        .into(),
        source: SourceConfig::Maildir(MaildirConfig {
            path: "x".into(),
            poll_interval: std::time::Duration::from_secs(1),
        }),
    }
}

struct Fixture {
    rules: Rules,
    reply: ReplyConfig,
    limits: Limits,
}

impl Fixture {
    fn new() -> Fixture {
        Fixture::with(rules())
    }

    fn with(rules: Rules) -> Fixture {
        Fixture {
            rules,
            reply: ReplyConfig {
                message_id_domain: "intake.egov.md".into(),
                from_name: "AGE".into(),
            },
            limits: Limits {
                max_message_bytes: 1 << 20,
                max_nesting_depth: 10,
                replies_per_recipient_10min: 3,
                replies_per_recipient_day: 20,
                analysis_budget: crate::budget::Limits {
                    time: std::time::Duration::from_secs(10),
                    memory_bytes: 256 << 20,
                },
            },
        }
    }

    fn settings(&self) -> Settings<'_> {
        Settings {
            rules: &self.rules,
            reply: &self.reply,
            limits: &self.limits,
            staff: vec!["staff@egov.md".into()],
            staff_from: "intake@egov.md".into(),
            our_addresses: vec!["office@egov.md".into(), "support.mpass@egov.md".into()],
            private_key_action: crate::config::PrivateKeyAction::Quarantine,
        }
    }

    fn decide(&self, raw: &str, role: Role, history: &History) -> Decision {
        let mail = parse(raw.as_bytes(), 10);
        let inspection = inspect(&mail, &crate::inspect::Settings::at(chrono::Utc::now()));
        let options = crate::understand::fields::Options::default();
        let understanding = understand(&mail, &inspection, role, &options);
        let threading = thread(&mail, history);
        let mb = mailbox(role);
        let settings = self.settings();
        let suppression = loop_guard::check(&mail, history, &settings);
        let input = Input {
            mailbox: &mb,
            mail: &mail,
            inspection: &inspection,
            understanding: &understanding,
            rejection: None,
            threading: &threading,
            history,
            suppression: suppression.as_ref(),
            new_case_number: Some("AGE-2026-00007"),
            spool_path: None,
            kept_copy: "original",
            now: chrono::Utc.with_ymd_and_hms(2026, 11, 24, 9, 0, 0).unwrap(),
        };
        let mut d = decide(&input, &settings).unwrap();
        d.outgoing = crate::compose::compose(&input, &settings, &d).unwrap();
        d
    }
}

fn mail(extra_headers: &str, subject: &str, body: &str) -> String {
    format!(
        "From: Ana Popescu <ana@primaria.md>\r\nTo: office@egov.md\r\nSubject: {subject}\r\n\
         Message-ID: <m1@primaria.md>\r\nDate: Tue, 24 Nov 2026 10:00:00 +0200\r\n\
         Content-Type: text/plain; charset=utf-8\r\n{extra_headers}\r\n{body}\r\n"
    )
}

const RO_BODY: &str =
    "Bună ziua, vă rog să examinați solicitarea de integrare a sistemului nostru cu MPass.";

fn case(id: i64, number: &str, participants: &[&str]) -> CaseRef {
    CaseRef {
        id,
        number: number.into(),
        language: Some(Language::Ro),
        participants: participants.iter().map(|s| s.to_string()).collect(),
        stage: crate::domain::Stage::Request,
        service: Service::Mpass,
        facts: crate::domain::CaseFacts::default(),
        opened: "2026-11-24".parse().unwrap(),
    }
}

#[test]
fn new_request_opens_a_case_and_answers_in_romanian() {
    let f = Fixture::new();
    let d = f.decide(
        &mail("", "Solicitare integrare", RO_BODY),
        Role::Office,
        &History::default(),
    );
    let CaseAction::Open {
        number,
        service,
        stage,
        ..
    } = &d.case
    else {
        panic!("{:?}", d.case)
    };
    assert_eq!(number, "AGE-2026-00007");
    assert_eq!(*service, Service::Mpass);
    assert_eq!(*stage, crate::domain::Stage::Request);
    assert_eq!(d.outgoing.len(), 1);
    let reply = &d.outgoing[0];
    assert_eq!(reply.to, "ana@primaria.md");
    assert_eq!(reply.subject, "Re: Solicitare integrare [AGE-2026-00007]");
    assert_eq!(reply.in_reply_to.as_deref(), Some("<m1@primaria.md>"));
    assert_eq!(reply.references, vec!["<m1@primaria.md>".to_string()]);
    assert_eq!(reply.languages, vec![Language::Ro]);
    assert!(reply.message_id.ends_with("@intake.egov.md>"));
    assert!(reply.body.contains("AGE-2026-00007"), "{}", reply.body);
    assert!(reply.body.contains("10 zile lucrătoare"), "{}", reply.body);
    assert_eq!(d.disposition, Disposition::Processed);
    let kinds: Vec<_> = d.events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "mail_received",
            "case_opened",
            "request_assessed",
            "reply_queued"
        ]
    );
}

#[test]
fn unclear_language_gets_all_three() {
    let f = Fixture::new();
    let d = f.decide(
        &mail("", "MPass", "IDNO 1008600038413"),
        Role::Office,
        &History::default(),
    );
    let reply = &d.outgoing[0];
    assert_eq!(
        reply.languages,
        vec![Language::Ro, Language::Ru, Language::En]
    );
    for needle in ["Bună ziua", "Здравствуйте", "Hello"] {
        assert!(
            reply.body.contains(needle),
            "{needle} missing:\n{}",
            reply.body
        );
    }
}

#[test]
fn threading_table() {
    let references = History {
        replied_case: Some(case(3, "AGE-2026-00003", &[])),
        replied_to_ours: true,
        ..Default::default()
    };
    // A stranger quoting a beneficiary's Message-ID does not get in.
    let references_of_others = History {
        replied_case: Some(case(3, "AGE-2026-00003", &["someone@else.md"])),
        ..Default::default()
    };
    let tag_from_participant = History {
        tagged_case: Some(case(4, "AGE-2026-00004", &["ana@primaria.md"])),
        ..Default::default()
    };
    let tag_from_stranger = History {
        tagged_case: Some(case(4, "AGE-2026-00004", &["someone@else.md"])),
        ..Default::default()
    };
    let duplicate = History {
        duplicate_of: Some((9, Some(case(5, "AGE-2026-00005", &[])))),
        ..Default::default()
    };

    let f = Fixture::new();
    for (name, history, want_number, want_template_word) in [
        ("references", &references, "AGE-2026-00003", Some("adăugat")),
        (
            "references of others",
            &references_of_others,
            "AGE-2026-00007",
            Some("înregistrat"),
        ),
        (
            "tag from participant",
            &tag_from_participant,
            "AGE-2026-00004",
            Some("adăugat"),
        ),
        (
            "tag from stranger",
            &tag_from_stranger,
            "AGE-2026-00007",
            Some("înregistrat"),
        ),
        ("duplicate", &duplicate, "AGE-2026-00005", None),
    ] {
        let d = f.decide(
            &mail("", "Re: x [AGE-2026-00004]", RO_BODY),
            Role::Office,
            history,
        );
        assert_eq!(d.case.number(), Some(want_number), "{name}");
        match want_template_word {
            Some(word) => assert!(
                d.outgoing[0].body.contains(word),
                "{name}: {}",
                d.outgoing[0].body
            ),
            None => {
                assert!(d.outgoing.is_empty(), "{name}");
                assert!(d.suppressed.is_some(), "{name}");
                assert_eq!(d.events.last().unwrap().kind, EventKind::DuplicateDelivery);
            }
        }
    }
}

#[test]
fn loop_guard_table() {
    let f = Fixture::new();
    let busy = History {
        replies_last_10min: 3,
        ..Default::default()
    };
    let busy_day = History {
        replies_last_day: 20,
        ..Default::default()
    };
    let calm = History::default();
    let from = |addr: &str| mail("", "x", RO_BODY).replace("Ana Popescu <ana@primaria.md>", addr);
    for (name, raw, history, automated) in [
        (
            "auto-submitted",
            mail("Auto-Submitted: auto-replied\r\n", "Out of office", RO_BODY),
            &calm,
            true,
        ),
        (
            "precedence bulk",
            mail("Precedence: bulk\r\n", "News", RO_BODY),
            &calm,
            true,
        ),
        (
            "list",
            mail("List-Id: <gov.lists.md>\r\n", "x", RO_BODY),
            &calm,
            true,
        ),
        (
            "suppress",
            mail("X-Auto-Response-Suppress: OOF, AutoReply\r\n", "x", RO_BODY),
            &calm,
            true,
        ),
        (
            "bounce",
            mail("Return-Path: <>\r\n", "Undelivered", RO_BODY),
            &calm,
            true,
        ),
        (
            "mailer-daemon",
            from("MAILER-DAEMON@mx.primaria.md"),
            &calm,
            true,
        ),
        ("noreply", from("noreply@portal.gov.md"), &calm, true),
        ("our mailbox", from("support.mpass@egov.md"), &calm, true),
        (
            "our message-id",
            mail("", "x", RO_BODY).replace("<m1@primaria.md>", "<reply.abc@intake.egov.md>"),
            &calm,
            true,
        ),
        ("rate 10 min", mail("", "x", RO_BODY), &busy, false),
        ("rate day", mail("", "x", RO_BODY), &busy_day, false),
        (
            "no sender",
            mail("", "x", RO_BODY).replace("From: Ana Popescu <ana@primaria.md>\r\n", ""),
            &calm,
            false,
        ),
    ] {
        let d = f.decide(&raw, Role::Office, history);
        assert!(d.outgoing.is_empty(), "{name}: {:?}", d.outgoing);
        assert!(d.suppressed.is_some(), "{name}");
        assert_eq!(
            d.events.last().unwrap().kind,
            EventKind::ReplySuppressed,
            "{name}"
        );
        // Robots open no case on their own; people over the limit still do.
        assert_eq!(
            matches!(d.case, CaseAction::None),
            automated,
            "{name}: {:?}",
            d.case
        );
    }
    // Auto-Submitted: no is a person.
    let d = f.decide(
        &mail("Auto-Submitted: no\r\n", "x", RO_BODY),
        Role::Office,
        &calm,
    );
    assert_eq!(d.outgoing.len(), 1);
}

#[test]
fn auto_reply_to_our_reply_stays_on_its_case_unanswered() {
    let f = Fixture::new();
    let h = History {
        replied_case: Some(case(3, "AGE-2026-00003", &["ana@primaria.md"])),
        ..Default::default()
    };
    let d = f.decide(
        &mail(
            "Auto-Submitted: auto-replied\r\n",
            "Automatic reply",
            RO_BODY,
        ),
        Role::Office,
        &h,
    );
    assert_eq!(d.case.number(), Some("AGE-2026-00003"));
    assert!(d.outgoing.is_empty());
}

#[test]
fn private_key_quarantines_stores_nothing_and_warns() {
    let f = Fixture::new();
    let body = "Atașăm cheia:\r\n-----BEGIN PRIVATE KEY-----\r\nMIIEvQIBADANBg\r\n-----END PRIVATE KEY-----\r\n";
    let d = f.decide(
        &mail("", "Certificat MPass", body),
        Role::Mpass,
        &History::default(),
    );
    assert_eq!(d.disposition, Disposition::PrivateKey);
    assert!(d.problems.contains(&crate::domain::ProblemCode::PrivateKey));
    let reply = d
        .outgoing
        .iter()
        .find(|o| o.kind == OutgoingKind::Reply)
        .unwrap();
    assert!(reply.body.contains("STISC"), "{}", reply.body);
    let alert = d
        .outgoing
        .iter()
        .find(|o| o.kind == OutgoingKind::Alert)
        .unwrap();
    assert_eq!(alert.to, "staff@egov.md");
    assert_eq!(alert.from_address, "intake@egov.md");
    assert!(alert.subject.contains("PRIVATE KEY"), "{}", alert.subject);
    assert!(alert.body.contains("AGE-2026-00007"), "{}", alert.body);
    assert!(alert.body.contains("body: pem"), "{}", alert.body);
    for o in &d.outgoing {
        assert!(
            !o.body.contains("MIIEvQIBADANBg"),
            "key material leaked into {:?}",
            o.kind
        );
    }
    assert!(
        d.events
            .iter()
            .any(|e| e.kind == EventKind::PrivateKeyReceived)
    );
    assert!(
        !serde_json::to_string(&d.events)
            .unwrap()
            .contains("MIIEvQIBADANBg")
    );
}

/// A 100 KB Message-ID is answered, but not copied into the reply's
/// In-Reply-To or References: it would make a header line far longer than
/// RFC 5322 allows.
#[test]
fn over_long_message_ids_are_not_copied_into_replies() {
    let f = Fixture::new();
    let huge = format!("<{}@primaria.md>", "x".repeat(100_000));
    let raw = mail(
        &format!("References: <p@primaria.md> {huge}\r\n"),
        "Solicitare integrare",
        RO_BODY,
    )
    .replace("<m1@primaria.md>", &huge);
    let d = f.decide(&raw, Role::Office, &History::default());
    let reply = d
        .outgoing
        .iter()
        .find(|o| o.kind == OutgoingKind::Reply)
        .expect("a reply");
    assert_eq!(reply.in_reply_to, None);
    assert_eq!(reply.references, vec!["<p@primaria.md>".to_string()]);
}

/// A multipart mail: the body in Romanian, then each `(filename, bytes)` as
/// an attachment, its name in RFC 2231 form so that any character survives.
fn mail_with_files(subject: &str, files: &[(&str, &[u8])]) -> String {
    use base64::Engine as _;
    let mut raw = mail(
        "MIME-Version: 1.0\r\n",
        subject,
        &format!("--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{RO_BODY}\r\n"),
    )
    .replace(
        "Content-Type: text/plain; charset=utf-8\r\nMIME",
        "Content-Type: multipart/mixed; boundary=b\r\nMIME",
    );
    for (name, data) in files {
        let encoded: String = name
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b == b'.' {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect();
        raw.push_str(&format!(
            "--b\r\nContent-Type: application/octet-stream\r\n\
             Content-Disposition: attachment; filename*=utf-8''{encoded}\r\n\
             Content-Transfer-Encoding: base64\r\n\r\n{}\r\n",
            base64::engine::general_purpose::STANDARD.encode(data)
        ));
    }
    raw.push_str("--b--\r\n");
    raw
}

const BIDI: [char; 12] = [
    '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', '\u{2066}', '\u{2067}', '\u{2068}',
    '\u{2069}', '\u{200E}', '\u{200F}', '\u{061C}',
];

fn assert_no_bidi(d: &Decision) {
    for o in &d.outgoing {
        for (what, text) in [("subject", &o.subject), ("body", &o.body)] {
            assert!(
                !text.contains(BIDI),
                "a bidirectional control in the {what} of a {:?}: {text:?}",
                o.kind
            );
        }
    }
    let events = serde_json::to_string(&d.events).unwrap();
    assert!(!events.contains(BIDI), "{events}");
}

/// `factura\u{202e}txt.exe` would display as "facturaexe.txt": neither the
/// attachment name nor the subject reaches a reply with its bidi controls.
#[test]
fn bidirectional_controls_do_not_reach_replies() {
    let f = Fixture::new();
    let raw = mail_with_files(
        "=?utf-8?q?Solicitare_=E2=80=AEintegrare?=",
        &[("factura\u{202e}txt.exe", b"MZ\x90\x00")],
    );
    let d = f.decide(&raw, Role::Office, &History::default());
    let reply = d
        .outgoing
        .iter()
        .find(|o| o.kind == OutgoingKind::Reply)
        .expect("a reply");
    assert!(reply.body.contains("- factura txt.exe"), "{}", reply.body);
    assert_eq!(
        reply.subject, "Re: Solicitare integrare [AGE-2026-00007]",
        "{:?}",
        reply.subject
    );
    assert_no_bidi(&d);
}

/// The staff alert for a private key names the file it came in: a name with
/// bidi controls, of an attachment or of an entry in a zip, is shown without.
#[test]
fn bidirectional_controls_do_not_reach_staff_alerts() {
    use std::io::Write as _;
    let key = b"-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg\n-----END PRIVATE KEY-----\n";
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    zip.start_file(
        "cheie\u{202e}txt.pem",
        zip::write::SimpleFileOptions::default(),
    )
    .unwrap();
    zip.write_all(key).unwrap();
    let zip = zip.finish().unwrap().into_inner();
    let f = Fixture::new();
    let raw = mail_with_files(
        "=?utf-8?q?Certificat_=E2=81=A7MPass?=",
        &[("arhiva\u{2067}piz.zip", &zip), ("cheie\u{200f}.pem", key)],
    );
    let d = f.decide(&raw, Role::Mpass, &History::default());
    assert_eq!(d.disposition, Disposition::PrivateKey);
    let alert = d
        .outgoing
        .iter()
        .find(|o| o.kind == OutgoingKind::Alert)
        .expect("a staff alert");
    assert!(alert.body.contains("arhiva piz.zip"), "{}", alert.body);
    assert!(alert.body.contains("cheie txt.pem"), "{}", alert.body);
    assert!(alert.body.contains("cheie .pem"), "{}", alert.body);
    assert_no_bidi(&d);
}

/// The shipped rules with public institutions asked for their register entry.
fn rules_asking_public_institutions() -> Rules {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("rules");
    let fields = dir.join("fields.toml");
    let read = |path: &std::path::Path| {
        let bytes = std::fs::read(path)?;
        if path != fields {
            return Ok(bytes);
        }
        let text = String::from_utf8(bytes).unwrap();
        let on = "public_institution = [\"registry_entry\"]";
        assert!(text.contains("public_institution = []"));
        Ok(text.replacen("public_institution = []", on, 1).into_bytes())
    };
    Rules::load_with(&dir, &read).unwrap()
}

#[test]
fn public_institutions_are_asked_for_their_register_entry_when_the_rules_say_so() {
    let request = |institution: &str, extra: &str| {
        mail(
            "",
            "Solicitare integrare MPass",
            &format!(
                "Denumirea instituției: {institution}\nIDNO: 1003600012345\n\
                 Denumirea sistemului: SI „Registrul elevilor”\n\
                 Descrierea sistemului: evidența elevilor din școli.\n{extra}"
            ),
        )
    };
    let asked = |f: &Fixture, raw: &str| {
        let d = f.decide(raw, Role::Office, &History::default());
        let body = d.outgoing[0].body.clone();
        (d.missing.contains(&Field::RegistryEntry), body)
    };
    let on = Fixture::with(rules_asking_public_institutions());
    let (missing, body) = asked(&on, &request("Ministerul Educației și Cercetării", ""));
    assert!(missing, "{body}");
    assert!(
        body.contains("Registrul resurselor și sistemelor informaționale"),
        "{body}"
    );
    // A company is not asked; nor is anyone while the rules leave it off.
    let (missing, body) = asked(&on, &request("EduSoft SRL", ""));
    assert!(!missing && !body.contains("Registrul resurselor"), "{body}");
    let off = Fixture::new();
    let (missing, _) = asked(&off, &request("Ministerul Educației și Cercetării", ""));
    assert!(!missing);
    // Given, it is shown back and not asked again.
    let given = "Nr. în Registrul resurselor și sistemelor informaționale: 0456/2021\n";
    let (missing, body) = asked(&on, &request("Ministerul Educației și Cercetării", given));
    assert!(!missing, "{body}");
    assert!(body.contains("Nr. în Registru:   0456/2021"), "{body}");
}
