//! Understand stage: what the beneficiary is asking for — the language they
//! wrote in, the service (MPass or MSign) and the institution's IDNO.

pub mod documents;
pub mod fields;
#[cfg(test)]
mod golden;
pub mod idno;
pub mod language;

use serde::Serialize;

use crate::config::Role;
use crate::domain::{Environment, Language, Service, Stage};
use crate::inspect::Inspection;
use crate::parse::Mail;
use crate::util::prefix;

#[derive(Debug, Clone, Serialize)]
pub struct Understanding {
    pub language: Option<Language>,
    pub service: Service,
    /// Test or production, when the wording says so and not both.
    pub environment: Option<Environment>,
    /// The step the content is about, when it says: a registration (it
    /// gives service names, logout URLs, addresses…) or a signed agreement.
    pub stage: Option<Stage>,
    /// The fields of the request, as far as the mail gives them.
    pub request: fields::Request,
    /// Problems with values the sender gave (bad IDNO, private IP, …).
    pub problems: Vec<fields::Problem>,
}

/// Most of the subject read, in bytes: subjects are a line or two.
const MAX_SUBJECT: usize = 2 << 10;
/// Most of the body read: a request written in a mail is a few kilobytes.
const MAX_OWN_TEXT: usize = 128 << 10;
/// Most text read in all, attached forms included. Field extraction costs
/// time per byte, and megabytes of text (a mis-declared charset, a pasted
/// log) hold no request a person wrote for us.
const MAX_TEXT: usize = 256 << 10;

/// Reads what `mail` asks for, knowing which mailbox it reached: the
/// sender's own words (quoted history left out) and the text of attached
/// request forms (.txt, .docx, .odt, .pdf), office forms from the parts its
/// `inspection` inflated.
pub fn understand(
    mail: &Mail,
    inspection: &Inspection,
    role: Role,
    options: &fields::Options,
) -> Understanding {
    let subject = prefix(&mail.subject, MAX_SUBJECT);
    let own = own_text(subject, prefix(&mail.text, MAX_OWN_TEXT));
    let mut text = format!("{subject}\n{own}");
    for part in &mail.parts {
        crate::budget::checkpoint();
        let room = MAX_TEXT.saturating_sub(text.len() + 2);
        if room == 0 {
            break;
        }
        let (name, content_type) = (part.name.as_deref(), &part.content_type);
        let package = inspection.package(&part.location);
        if let Some(t) = documents::text_in(name, content_type, &part.data, package) {
            text.push_str("\n\n");
            text.push_str(prefix(&t, room));
        }
    }
    let language = language::detect(subject, &own).or_else(|| language::detect("", &text));
    let service = match role {
        Role::Mpass => Service::Mpass,
        Role::Msign => Service::Msign,
        Role::Office | Role::Services => service_from_text(subject, &text),
    };
    let mut extracted = fields::extract(&text, options);
    let stage = stage_from_content(&extracted.request, &own);
    if role == Role::Office && stage == Some(Stage::Agreement) {
        // "After signing we move to testing" chooses no environment.
        extracted.request.environment = None;
    }
    Understanding {
        language,
        service,
        environment: extracted.request.environment,
        stage,
        request: extracted.request,
        problems: extracted.problems,
    }
}

/// The step a mail's content is about: a registration when it gives what
/// only a registration asks for; an agreement when it speaks of a signed
/// agreement or contract and describes no system.
fn stage_from_content(request: &fields::Request, own: &str) -> Option<Stage> {
    let registration = request.service_name_ro.is_some()
        || request.service_name_ru.is_some()
        || request.service_name_en.is_some()
        || request.logout_request_url.is_some()
        || !request.attributes.is_empty()
        || !request.ip_addresses.is_empty()
        || request.signer_type.is_some()
        || request.certificate_serial.is_some();
    if registration {
        return Some(match request.environment {
            Some(Environment::Production) => Stage::ProductionRegistration,
            _ => Stage::TestRegistration,
        });
    }
    let lower = own.to_lowercase();
    // Not "anexă"/"приложение": a signed request comes attached as often.
    const AGREEMENT: &[&str] = &["acord", "contract", "соглашени", "договор", "agreement"];
    const SIGNED: &[&str] = &["semnat", "подписан", "подписал", "signed"];
    let signed_agreement = lower
        .lines()
        .any(|l| AGREEMENT.iter().any(|a| l.contains(a)) && SIGNED.iter().any(|s| l.contains(s)));
    (signed_agreement && request.system_description.is_none()).then_some(Stage::Agreement)
}

/// The sender's own words: quoted history (ours above all) is left out.
pub fn own_text(subject: &str, body: &str) -> String {
    let lines: Vec<&str> = body.lines().collect();
    let end =
        language::quote_start(&lines, language::is_forward_subject(subject)).unwrap_or(lines.len());
    lines[..end]
        .iter()
        .filter(|l| !l.trim_start().starts_with('>'))
        .copied()
        .collect::<Vec<_>>()
        .join("\n")
}

/// The service a mail is about, by its words: the one the subject names,
/// else the one named right after "integration with" and the like, else
/// the one named clearly more often (the legal names of the services
/// count as their names).
fn service_from_text(subject: &str, text: &str) -> Service {
    let (mpass, msign) = service_mentions(subject);
    if let Some(one) = one_service(mpass, msign) {
        return one;
    }
    if let Some(one) = service_after_integration(text) {
        return one;
    }
    let (mpass, msign) = service_mentions(text);
    match (mpass, msign) {
        (a, b) if a > 0 && a >= 2 * b => Service::Mpass,
        (a, b) if b > 0 && b >= 2 * a => Service::Msign,
        _ => Service::Unknown,
    }
}

fn one_service(mpass: usize, msign: usize) -> Option<Service> {
    match (mpass > 0, msign > 0) {
        (true, false) => Some(Service::Mpass),
        (false, true) => Some(Service::Msign),
        _ => None,
    }
}

/// The legal names of the services, folded, beside their short names.
#[rustfmt::skip]
const MPASS_NAMES: &[&str] = &[
    "mpass", "autentificare si control al accesului", "autentificare și control al accesului",
    "аутентификации и контроля доступа", "authentication and access control",
];
#[rustfmt::skip]
const MSIGN_NAMES: &[&str] = &[
    "msign", "serviciul electronic guvernamental de semnătură", "serviciul guvernamental de semnătură",
    "serviciul electronic guvernamental de semnatura", "serviciul guvernamental de semnatura",
    "serviciul de semnătură electronică", "serviciul de semnatura electronica",
    "служба электронной подписи", "службы электронной подписи", "службой электронной подписи",
    "сервис электронной подписи", "government electronic signature service",
    "electronic signature service",
];

/// How often the text names MPass and MSign.
fn service_mentions(text: &str) -> (usize, usize) {
    let lower = text.to_lowercase();
    let count = |names: &[&str]| names.iter().map(|n| lower.matches(n).count()).sum();
    (count(MPASS_NAMES), count(MSIGN_NAMES))
}

/// The service named within a few words after "integrarea cu", "integration
/// with", "подключение к", "интеграция с".
fn service_after_integration(text: &str) -> Option<Service> {
    let lower = text.to_lowercase();
    const OPENERS: &[&str] = &[
        "integrare cu",
        "integrarea cu",
        "integrarii cu",
        "integrării cu",
        "conectare la",
        "conectarea la",
        "integration with",
        "integrate with",
        "connect to",
        "connection to",
        "интеграци",
        "подключени",
        "подключить",
    ];
    let mut found = None;
    for opener in OPENERS {
        for (at, _) in lower.match_indices(opener) {
            let window: String = lower
                .get(at..)
                .unwrap_or_default()
                .chars()
                .take(opener.chars().count() + 90)
                .collect();
            let (a, b) = service_mentions(&window);
            let Some(here) = one_service(a, b) else {
                continue;
            };
            if found.is_some_and(|f| f != here) {
                return None;
            }
            found = Some(here);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mail(subject: &str, body: &str) -> Mail {
        let raw = format!(
            "From: a@b.md\r\nSubject: {subject}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
        );
        crate::parse::parse(raw.as_bytes(), 10)
    }

    /// What a mail without attachments says, on the default options.
    fn read(m: &Mail, role: Role) -> Understanding {
        understand(m, &Inspection::default(), role, &fields::Options::default())
    }

    #[test]
    fn service_from_role_then_text() {
        let m = mail("Solicitare integrare MSign", "IDNO 1003600005148");
        assert_eq!(read(&m, Role::Office).service, Service::Msign);
        assert_eq!(read(&m, Role::Mpass).service, Service::Mpass);
        let both = mail("MPass si MSign", "");
        assert_eq!(read(&both, Role::Office).service, Service::Unknown);
    }

    /// 36 MB of KOI8-R declared as UTF-8 (every Cyrillic byte becomes
    /// U+FFFD): only the first part of the text is read, and what the sender
    /// put at the top is still understood.
    #[test]
    fn megabytes_of_misdeclared_text_are_read_only_in_part() {
        let koi8: Vec<u8> = [
            0xf0u8, 0xd2, 0xc9, 0xd7, 0xc5, 0xd4, b' ', 0xcd, 0xc9, 0xd2, b',', b' ',
        ]
        .iter()
        .copied()
        .cycle()
        .take(36 << 20)
        .collect();
        let mut raw = b"From: a@b.md\r\nSubject: Solicitare integrare MSign\r\n\
Content-Type: text/plain; charset=utf-8\r\n\r\nIDNO: 1003600005148\r\n"
            .to_vec();
        for line in koi8.chunks(76) {
            raw.extend_from_slice(line);
            raw.extend_from_slice(b"\r\n");
        }
        let m = crate::parse::parse(&raw, 10);
        assert!(m.text.len() > 36 << 20);
        let u = understand(
            &m,
            &Inspection::default(),
            Role::Office,
            &fields::Options::default(),
        );
        assert_eq!(u.service, Service::Msign);
        assert_eq!(u.request.idno.as_deref(), Some("1003600005148"));
    }

    /// An attached .docx is read from the parts its inspection inflated:
    /// understanding opens no zip of its own.
    #[test]
    fn an_office_form_is_read_from_the_inspection() {
        use base64::Engine as _;
        use std::io::Write as _;
        let body = r#"<w:document xmlns:w="w"><w:body><w:p><w:r><w:t>Solicitare MSign, IDNO: 1003600005148</w:t></w:r></w:p></w:body></w:document>"#;
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for (name, data) in [
            ("[Content_Types].xml", "<Types/>"),
            ("word/document.xml", body),
        ] {
            w.start_file(name, zip::write::SimpleFileOptions::default())
                .unwrap();
            w.write_all(data.as_bytes()).unwrap();
        }
        let docx = w.finish().unwrap().into_inner();
        let raw = format!(
            "From: a@b.md\r\nSubject: cerere\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nVedeti atasat.\r\n\
--b\r\nContent-Type: application/octet-stream; name=cerere.docx\r\n\
Content-Transfer-Encoding: base64\r\n\r\n{}\r\n--b--\r\n",
            base64::engine::general_purpose::STANDARD.encode(&docx)
        );
        let m = crate::parse::parse(raw.as_bytes(), 10);
        let settings = crate::inspect::Settings::at(chrono::DateTime::UNIX_EPOCH);
        let inspection = crate::inspect::inspect(&m, &settings);
        assert!(!inspection.package(&m.parts[0].location).is_empty());
        let options = fields::Options::default();
        let u = understand(&m, &inspection, Role::Office, &options);
        assert_eq!(u.request.idno.as_deref(), Some("1003600005148"));
        assert_eq!(u.service, Service::Msign);
        let blind = understand(&m, &Inspection::default(), Role::Office, &options);
        assert_eq!(blind.request.idno, None);
    }

    #[test]
    fn a_signed_agreement_is_told_from_a_signed_request() {
        let none = fields::Request::default();
        for (text, stage) in [
            (
                "Vă transmitem Acordul semnat de director.",
                Some(Stage::Agreement),
            ),
            (
                "Подписанное соглашение во вложении.",
                Some(Stage::Agreement),
            ),
            (
                "Please find the signed agreement attached.",
                Some(Stage::Agreement),
            ),
            ("Solicitarea semnată de primar o transmitem în anexă.", None),
            ("Подписанный запрос в приложении.", None),
        ] {
            assert_eq!(stage_from_content(&none, text), stage, "{text}");
        }
    }
}
