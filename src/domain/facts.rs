//! What a case knows: the request's fields as the beneficiaries gave them,
//! and whether a usable certificate and a signed agreement came in. Each
//! mail's facts are merged into the case's ([`CaseFacts::merge`]); the
//! steps' required [`Field`]s are checked against the result
//! ([`CaseFacts::has`]).

use serde::{Deserialize, Serialize};

use super::{Environment, Stage, UnknownName};

vocabulary! {
    /// Who signs with MSign.
    pub enum SignerType {
        Natural = "natural",
        Legal = "legal",
        Both = "both",
    }
}

vocabulary! {
    /// Every item a step of the procedure can require (rules' `fields.toml`
    /// and `[steps.*]`): the request's fields, then the certificate and the
    /// signed agreement.
    pub enum Field {
        Institution = "institution",
        Idno = "idno",
        SystemName = "system_name",
        SystemDescription = "system_description",
        RegistryEntry = "registry_entry",
        ServiceNameRo = "service_name_ro",
        ServiceNameRu = "service_name_ru",
        ServiceNameEn = "service_name_en",
        ServiceDescription = "service_description",
        Environment = "environment",
        IpAddresses = "ip_addresses",
        SignerType = "signer_type",
        LogoutRequestUrl = "logout_request_url",
        LogoutResponseUrl = "logout_response_url",
        Attributes = "attributes",
        Certificate = "certificate",
        SignedAgreement = "signed_agreement",
    }
}

/// What a beneficiary's mail says, field by field (procedure steps 1, 5, 6).
/// Serialised with every key, `null` when unknown, as templates and the
/// JSON output read it; read back leniently (a missing key is unknown).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Request {
    pub institution: Option<String>,
    pub idno: Option<String>,
    pub idno_valid: Option<bool>,
    pub system_name: Option<String>,
    pub system_description: Option<String>,
    /// The system's entry in the Register of Information Resources and
    /// Systems (a number, as written), asked of public institutions.
    pub registry_entry: Option<String>,
    pub service_name_ro: Option<String>,
    pub service_name_ru: Option<String>,
    pub service_name_en: Option<String>,
    pub service_description: Option<String>,
    pub environment: Option<Environment>,
    pub ip_addresses: Vec<String>,
    pub signer_type: Option<SignerType>,
    pub logout_request_url: Option<String>,
    pub logout_response_url: Option<String>,
    pub attributes: Vec<String>,
    /// The serial of a certificate already registered for the system, sent
    /// instead of the `.cer` (as written; [`normal_serial`] compares).
    pub certificate_serial: Option<String>,
}

/// A certificate serial as lowercase hex digits without separators or
/// leading zeros, as certificates are looked up by.
pub fn normal_serial(written: &str) -> String {
    let hex: String = written
        .trim()
        .trim_start_matches("0x")
        .chars()
        .filter(char::is_ascii_hexdigit)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    hex.trim_start_matches('0').to_string()
}

/// What a case's mail said so far, or what one mail says.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CaseFacts {
    pub request: Request,
    /// A certificate without problems (or the serial of a registered one)
    /// came in for the test environment, or for one not named.
    pub certificate: bool,
    /// Likewise for production: test and production need their own.
    pub production_certificate: bool,
    /// A signed document came in to office@.
    pub signed_agreement: bool,
}

impl CaseFacts {
    /// Later mail adds to what earlier mail said: a field the newer mail
    /// gives replaces the old one; one it leaves out (or leaves empty)
    /// keeps its old value. Certificate and agreement, once in, stay in.
    pub fn merge(&mut self, newer: &CaseFacts) {
        self.request.merge(&newer.request);
        self.certificate |= newer.certificate;
        self.production_certificate |= newer.production_certificate;
        self.signed_agreement |= newer.signed_agreement;
    }

    /// Whether the facts hold `field` for `step`: the production step
    /// counts only a production certificate.
    pub fn has_at(&self, field: Field, step: Stage) -> bool {
        match field {
            Field::Certificate if step == Stage::ProductionRegistration => {
                self.production_certificate
            }
            _ => self.has(field),
        }
    }

    /// Every field the facts hold for `step`, in vocabulary order.
    pub fn present_at(&self, step: Stage) -> Vec<Field> {
        Field::ALL
            .iter()
            .copied()
            .filter(|f| self.has_at(*f, step))
            .collect()
    }

    /// Whether the facts hold `field` (a certificate for any environment).
    pub fn has(&self, field: Field) -> bool {
        let r = &self.request;
        let text = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.is_empty());
        match field {
            Field::Institution => text(&r.institution),
            // An IDNO counts only with a valid check digit.
            Field::Idno => text(&r.idno) && r.idno_valid != Some(false),
            Field::SystemName => text(&r.system_name),
            Field::SystemDescription => text(&r.system_description),
            Field::RegistryEntry => text(&r.registry_entry),
            Field::ServiceNameRo => text(&r.service_name_ro),
            Field::ServiceNameRu => text(&r.service_name_ru),
            Field::ServiceNameEn => text(&r.service_name_en),
            Field::ServiceDescription => text(&r.service_description),
            Field::Environment => r.environment.is_some(),
            Field::IpAddresses => !r.ip_addresses.is_empty(),
            Field::SignerType => r.signer_type.is_some(),
            Field::LogoutRequestUrl => text(&r.logout_request_url),
            Field::LogoutResponseUrl => text(&r.logout_response_url),
            Field::Attributes => !r.attributes.is_empty(),
            Field::Certificate => self.certificate || self.production_certificate,
            Field::SignedAgreement => self.signed_agreement,
        }
    }

    /// Every field the facts hold, in vocabulary order.
    pub fn present(&self) -> Vec<Field> {
        Field::ALL
            .iter()
            .copied()
            .filter(|f| self.has(*f))
            .collect()
    }

    /// The facts kept in a case's `facts` column, read field by field: a
    /// value that does not read (a hand edit, a name a later version wrote)
    /// is unknown, and the rest still counts, as a damaged row must not fail
    /// or set back the mail that continues the case.
    pub fn from_column(text: &str) -> CaseFacts {
        let Ok(serde_json::Value::Object(column)) = serde_json::from_str(text) else {
            return CaseFacts::default();
        };
        let mut facts = CaseFacts::default();
        if let Some(serde_json::Value::Object(request)) = column.get("request") {
            for (key, value) in request {
                let one = serde_json::json!({ key: value });
                if let Ok(field) = serde_json::from_value::<Request>(one) {
                    facts.request.merge(&field);
                }
            }
        }
        let flag = |name: &str| column.get(name).and_then(|v| v.as_bool()) == Some(true);
        facts.certificate = flag("certificate");
        facts.production_certificate = flag("production_certificate");
        facts.signed_agreement = flag("signed_agreement");
        facts
    }

    /// The text for the `facts` column.
    pub fn to_column(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

impl Request {
    fn merge(&mut self, newer: &Request) {
        fn text(old: &mut Option<String>, new: &Option<String>) {
            if new.as_deref().is_some_and(|s| !s.is_empty()) {
                old.clone_from(new);
            }
        }
        fn some<T: Clone>(old: &mut Option<T>, new: &Option<T>) {
            if new.is_some() {
                old.clone_from(new);
            }
        }
        fn list(old: &mut Vec<String>, new: &[String]) {
            if !new.is_empty() {
                *old = new.to_vec();
            }
        }
        // Destructured so that a new field cannot be left out of the merge.
        let Request {
            institution,
            idno,
            idno_valid,
            system_name,
            system_description,
            registry_entry,
            service_name_ro,
            service_name_ru,
            service_name_en,
            service_description,
            environment,
            ip_addresses,
            signer_type,
            logout_request_url,
            logout_response_url,
            attributes,
            certificate_serial,
        } = newer;
        text(&mut self.institution, institution);
        text(&mut self.idno, idno);
        some(&mut self.idno_valid, idno_valid);
        text(&mut self.system_name, system_name);
        text(&mut self.system_description, system_description);
        text(&mut self.registry_entry, registry_entry);
        text(&mut self.service_name_ro, service_name_ro);
        text(&mut self.service_name_ru, service_name_ru);
        text(&mut self.service_name_en, service_name_en);
        text(&mut self.service_description, service_description);
        some(&mut self.environment, environment);
        list(&mut self.ip_addresses, ip_addresses);
        some(&mut self.signer_type, signer_type);
        text(&mut self.logout_request_url, logout_request_url);
        text(&mut self.logout_response_url, logout_response_url);
        list(&mut self.attributes, attributes);
        text(&mut self.certificate_serial, certificate_serial);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(institution: &str, idno: Option<(&str, bool)>) -> Request {
        Request {
            institution: Some(institution.into()),
            idno: idno.map(|(n, _)| n.into()),
            idno_valid: idno.map(|(_, v)| v),
            ..Request::default()
        }
    }

    #[test]
    fn later_mail_adds_and_replaces_but_never_empties() {
        let mut case = CaseFacts {
            request: Request {
                ip_addresses: vec!["193.0.2.1".into()],
                ..request("Primăria Bălți", Some(("1002600001234", true)))
            },
            certificate: true,
            production_certificate: false,
            signed_agreement: false,
        };
        let newer = CaseFacts {
            request: Request {
                institution: Some(String::new()),
                system_name: Some("e-Registru".into()),
                environment: Some(Environment::Production),
                ..Request::default()
            },
            certificate: false,
            production_certificate: false,
            signed_agreement: true,
        };
        case.merge(&newer);
        assert_eq!(case.request.institution.as_deref(), Some("Primăria Bălți"));
        assert_eq!(case.request.system_name.as_deref(), Some("e-Registru"));
        assert_eq!(case.request.ip_addresses, ["193.0.2.1"]);
        assert_eq!(case.request.environment, Some(Environment::Production));
        assert!(case.certificate && case.signed_agreement);
        assert_eq!(
            case.present(),
            [
                Field::Institution,
                Field::Idno,
                Field::SystemName,
                Field::Environment,
                Field::IpAddresses,
                Field::Certificate,
                Field::SignedAgreement
            ]
        );
    }

    #[test]
    fn an_idno_with_a_bad_check_digit_is_not_present() {
        let mut facts = CaseFacts {
            request: request("X", Some(("1002600001235", false))),
            ..CaseFacts::default()
        };
        assert!(facts.has(Field::Institution) && !facts.has(Field::Idno));
        facts.merge(&CaseFacts {
            request: request("X", Some(("1002600001234", true))),
            ..CaseFacts::default()
        });
        assert!(facts.has(Field::Idno));
    }

    #[test]
    fn the_column_reads_back_what_was_written_and_survives_damage() {
        let facts = CaseFacts {
            request: Request {
                signer_type: Some(SignerType::Both),
                attributes: vec!["FirstName".into()],
                ..request("Î.M. „Apă-Canal”", None)
            },
            certificate: true,
            production_certificate: false,
            signed_agreement: false,
        };
        assert_eq!(CaseFacts::from_column(&facts.to_column()), facts);
        // Written by earlier versions: only the keys known, nulls left out.
        let old = r#"{"request":{"idno":"1002600001234","environment":"test"},"certificate":true}"#;
        let read = CaseFacts::from_column(old);
        assert_eq!(read.request.environment, Some(Environment::Test));
        assert!(read.certificate && !read.signed_agreement);
        assert_eq!(CaseFacts::from_column("{not json"), CaseFacts::default());
        assert_eq!(CaseFacts::from_column("null"), CaseFacts::default());
        // One value that does not read loses only itself.
        let damaged = r#"{"request":{"idno":"1002600001234","signer_type":"robot",
            "ip_addresses":"193.0.2.1","environment":"production"},"signed_agreement":true}"#;
        let read = CaseFacts::from_column(damaged);
        assert_eq!(read.request.idno.as_deref(), Some("1002600001234"));
        assert_eq!(read.request.environment, Some(Environment::Production));
        assert_eq!(
            (read.request.signer_type, read.request.ip_addresses.len()),
            (None, 0)
        );
        assert!(read.signed_agreement && !read.certificate);
    }

    #[test]
    fn fields_are_spelt_as_in_the_rules() {
        assert_eq!(Field::IpAddresses.as_str(), "ip_addresses");
        assert_eq!("signed_agreement".parse(), Ok(Field::SignedAgreement));
        assert_eq!(Field::ALL.len(), 17);
        assert_eq!(
            serde_json::to_value(SignerType::Natural).unwrap(),
            serde_json::json!("natural")
        );
    }
}
