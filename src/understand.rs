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
use crate::domain::{Environment, Language, Service};
use crate::inspect::Inspection;
use crate::parse::Mail;
use crate::util::prefix;

#[derive(Debug, Clone, Serialize)]
pub struct Understanding {
    pub language: Option<Language>,
    pub service: Service,
    /// Test or production, when the wording says so and not both.
    pub environment: Option<Environment>,
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
    let own = own_text(prefix(&mail.text, MAX_OWN_TEXT));
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
        Role::Office | Role::Services => service_from_text(&text),
    };
    let extracted = fields::extract(&text, options);
    Understanding {
        language,
        service,
        environment: extracted.request.environment,
        request: extracted.request,
        problems: extracted.problems,
    }
}

/// The sender's own words: quoted history (ours above all) is left out.
pub fn own_text(body: &str) -> String {
    body.lines()
        .take_while(|l| !language::is_quote_header(l))
        .filter(|l| !l.trim_start().starts_with('>'))
        .collect::<Vec<_>>()
        .join("\n")
}

fn service_from_text(text: &str) -> Service {
    let lower = text.to_lowercase();
    let mpass = lower.contains("mpass");
    let msign = lower.contains("msign");
    match (mpass, msign) {
        (true, false) => Service::Mpass,
        (false, true) => Service::Msign,
        _ => Service::Unknown,
    }
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
}
