//! Understand stage: what the beneficiary is asking for — the language they
//! wrote in, the service (MPass or MSign) and the institution's IDNO.

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

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Idno {
    pub value: String,
    pub valid: bool,
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
    pub idno: Option<Idno>,
    /// Test or production, when the wording says so and not both.
    pub environment: Option<Environment>,
}

/// Reads what `mail` asks for, knowing which mailbox it reached.
pub fn understand(mail: &Mail, role: Role) -> Understanding {
    let language = language::detect(&mail.subject, &mail.text);
    let service = match role {
        Role::Mpass => Service::Mpass,
        Role::Msign => Service::Msign,
        Role::Office => service_from_text(&format!("{}\n{}", mail.subject, own_text(&mail.text))),
    };
    let found = idno::candidates(&own_text(&mail.text));
    // Prefer a number whose check digit holds; else report the first, invalid.
    let idno = found
        .iter()
        .find(|c| idno::is_valid(c))
        .or(found.first())
        .map(|v| Idno {
            value: v.clone(),
            valid: idno::is_valid(v),
        });
    let environment = environment_from_text(&format!("{}\n{}", mail.subject, own_text(&mail.text)));
    Understanding {
        language,
        service,
        idno,
        environment,
    }
}

/// Test or production from the wording (ro, ru, en), when only one is named.
fn environment_from_text(text: &str) -> Option<Environment> {
    let lower = text.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let production = words.iter().any(|w| {
        w.starts_with("producți")
            || w.starts_with("productie")
            || w.starts_with("producţi")
            || w.starts_with("production")
            || *w == "prod"
            || w.starts_with("продакшн")
            || w.starts_with("промышленн")
            || w.starts_with("продуктив")
    });
    let test = words
        .iter()
        .any(|w| *w == "test" || *w == "testare" || *w == "testing" || w.starts_with("тест"));
    match (test, production) {
        (true, false) => Some(Environment::Test),
        (false, true) => Some(Environment::Production),
        _ => None,
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
    fn environment_table() {
        for (text, want) in [
            ("Înregistrare pe mediul de test", Some(Environment::Test)),
            (
                "Integrarea pe mediul de producție",
                Some(Environment::Production),
            ),
            ("Regisration for production", Some(Environment::Production)),
            ("Регистрация в тестовой среде", Some(Environment::Test)),
            (
                "Подключение к промышленной среде",
                Some(Environment::Production),
            ),
            ("test and then production", None),
            ("Certificatul nostru", None),
            ("contest", None),
        ] {
            assert_eq!(environment_from_text(text), want, "{text}");
        }
    }

    #[test]
    fn service_from_role_then_text() {
        let m = mail("Solicitare integrare MSign", "IDNO 1003600005148");
        assert_eq!(understand(&m, Role::Office).service, Service::Msign);
        assert_eq!(understand(&m, Role::Mpass).service, Service::Mpass);
        let both = mail("MPass si MSign", "");
        assert_eq!(understand(&both, Role::Office).service, Service::Unknown);
    }

    #[test]
    fn idno_prefers_a_valid_number_and_ignores_quotes() {
        let m = mail("x", "cod 1008600038412 sau 1008600038413\n> 1003600005148");
        let u = understand(&m, Role::Office);
        assert_eq!(
            u.idno,
            Some(Idno {
                value: "1008600038413".into(),
                valid: true
            })
        );
        let bad = understand(&mail("x", "IDNO 1008600038412"), Role::Office);
        assert!(!bad.idno.unwrap().valid);
    }
}
