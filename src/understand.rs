//! Understand stage: what the beneficiary is asking for — the language they
//! wrote in, the service (MPass or MSign) and the institution's IDNO.

pub mod documents;
pub mod fields;
pub mod idno;
pub mod language;

use serde::Serialize;

use crate::config::Role;
use crate::parse::Mail;
use crate::rules::Language;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Service {
    Mpass,
    Msign,
    Unknown,
}

impl Service {
    pub fn as_str(self) -> &'static str {
        match self {
            Service::Mpass => "mpass",
            Service::Msign => "msign",
            Service::Unknown => "unknown",
        }
    }

    pub fn parse(s: &str) -> Service {
        match s {
            "mpass" => Service::Mpass,
            "msign" => Service::Msign,
            _ => Service::Unknown,
        }
    }
}

/// Which environment a registration is for (procedure steps 5 and 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    Test,
    Production,
}

impl Environment {
    pub fn as_str(self) -> &'static str {
        match self {
            Environment::Test => "test",
            Environment::Production => "production",
        }
    }

    pub fn parse(s: &str) -> Option<Environment> {
        match s {
            "test" => Some(Environment::Test),
            "production" => Some(Environment::Production),
            _ => None,
        }
    }
}

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

/// Reads what `mail` asks for, knowing which mailbox it reached: the
/// sender's own words (quoted history left out) and the text of attached
/// request forms (.txt, .docx, .odt, .pdf).
pub fn understand(mail: &Mail, role: Role, options: &fields::Options) -> Understanding {
    let own = own_text(&mail.text);
    let mut text = format!("{}\n{own}", mail.subject);
    for part in &mail.parts {
        if let Some(t) = documents::text_of(part.name.as_deref(), &part.content_type, &part.data) {
            text.push_str("\n\n");
            text.push_str(&t);
        }
    }
    let language = language::detect(&mail.subject, &own).or_else(|| language::detect("", &text));
    let service = match role {
        Role::Mpass => Service::Mpass,
        Role::Msign => Service::Msign,
        Role::Office => service_from_text(&text),
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

    #[test]
    fn service_from_role_then_text() {
        let m = mail("Solicitare integrare MSign", "IDNO 1003600005148");
        assert_eq!(
            understand(&m, Role::Office, &fields::Options::default()).service,
            Service::Msign
        );
        assert_eq!(
            understand(&m, Role::Mpass, &fields::Options::default()).service,
            Service::Mpass
        );
        let both = mail("MPass si MSign", "");
        assert_eq!(
            understand(&both, Role::Office, &fields::Options::default()).service,
            Service::Unknown
        );
    }
}
