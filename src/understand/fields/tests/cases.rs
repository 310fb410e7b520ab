//! The case tables of the field extraction tests: the shapes senders
//! really use for each field, beside what must be read from them.

use super::s;
use crate::domain::{Environment, ProblemCode};
use crate::understand::fields::SignerType;
use crate::understand::fields::attributes::AttributeMatch;

/// Problems as (code, value), the way the tests compare them.
type Codes = Vec<(ProblemCode, &'static str)>;

/// Text, the addresses kept, and those flagged as not public.
pub(super) fn ips() -> Vec<(&'static str, Vec<&'static str>, Vec<&'static str>)> {
    vec![
        ("IP: 193.226.64.10", vec!["193.226.64.10"], vec![]),
        ("IP:193.226.64.10:443.", vec!["193.226.64.10"], vec![]),
        (
            "127.0.0.1 și 169.254.1.1",
            vec!["127.0.0.1", "169.254.1.1"],
            vec!["127.0.0.1", "169.254.1.1"],
        ),
        (
            "100.64.0.1; 172.16.0.1; 10.0.0.1",
            vec!["100.64.0.1", "172.16.0.1", "10.0.0.1"],
            vec!["100.64.0.1", "172.16.0.1", "10.0.0.1"],
        ),
        (
            "192.0.2.1 198.51.100.2 203.0.113.3",
            vec!["192.0.2.1", "198.51.100.2", "203.0.113.3"],
            vec!["192.0.2.1", "198.51.100.2", "203.0.113.3"],
        ),
        (
            "224.0.0.1 0.0.0.0 255.255.255.255",
            vec!["224.0.0.1", "0.0.0.0", "255.255.255.255"],
            vec!["224.0.0.1", "0.0.0.0", "255.255.255.255"],
        ),
        (
            "IPv6: 2001:DB8::1, fe80::1, ::1",
            vec!["2001:db8::1", "fe80::1", "::1"],
            vec!["2001:db8::1", "fe80::1", "::1"],
        ),
        ("[2a02:2f0e:0:0:0:0:0:10]", vec!["2a02:2f0e::10"], vec![]),
        ("193.226.64.10 193.226.64.10", vec!["193.226.64.10"], vec![]),
        ("reteaua 193.226.64.0/24", vec!["193.226.64.0/24"], vec![]),
        // Not addresses: a date, a version, a time, an OID, a URL host.
        (
            "12.05.2024 v1.2.3 10:30 1.3.6.1.5.5.7.3.2 https://10.0.0.1/x",
            vec![],
            vec![],
        ),
        ("999.1.1.1 01.02.03.04", vec![], vec![]),
    ]
}

/// Text, the IDNO chosen, whether its check digit holds, and the problems (code, value).
pub(super) fn idnos() -> Vec<(&'static str, Option<String>, Option<bool>, Codes)> {
    vec![
        (
            "IDNO: 1008600038413",
            s("1008600038413"),
            Some(true),
            vec![],
        ),
        (
            "IDNO: 1008600038412",
            s("1008600038412"),
            Some(false),
            vec![(ProblemCode::IdnoInvalid, "1008600038412")],
        ),
        (
            "IDNO :1008600038413",
            s("1008600038413"),
            Some(true),
            vec![],
        ),
        (
            "idno-ul: 1008 6000 38413",
            s("1008600038413"),
            Some(true),
            vec![],
        ),
        (
            "IDNO-ul instituției:\n1003600005148",
            s("1003600005148"),
            Some(true),
            vec![],
        ),
        // No label: the first number whose check digit holds.
        (
            "cont 1008600038412, apoi 1003600005148",
            s("1003600005148"),
            Some(true),
            vec![],
        ),
        ("1008600038412", None, None, vec![]),
        // A labelled IDNO wins over a valid number elsewhere.
        (
            "nr. 1003600005148\nIDNO: 1008600038412",
            s("1008600038412"),
            Some(false),
            vec![(ProblemCode::IdnoInvalid, "1008600038412")],
        ),
        // IDNP only: flagged, never the IDNO.
        (
            "Solicit integrarea. IDNP: 2002001234563",
            None,
            None,
            vec![(ProblemCode::IdnpNotIdno, "2002001234563")],
        ),
        (
            "ИДНП 2002001234563",
            None,
            None,
            vec![(ProblemCode::IdnpNotIdno, "2002001234563")],
        ),
        (
            "personal number: 0990001234561",
            None,
            None,
            vec![(ProblemCode::IdnpNotIdno, "0990001234561")],
        ),
        (
            "IDNO: 2002001234563",
            None,
            None,
            vec![(ProblemCode::IdnpNotIdno, "2002001234563")],
        ),
        (
            "Vă scriu, 2002001234563",
            None,
            None,
            vec![(ProblemCode::IdnpNotIdno, "2002001234563")],
        ),
        // The director's IDNP beside a good IDNO is not the IDNO's problem.
        (
            "IDNO 1008600038413, IDNP director 2002001234563",
            s("1008600038413"),
            Some(true),
            vec![],
        ),
        (
            "IDNO: 100860003841",
            s("100860003841"),
            Some(false),
            vec![(ProblemCode::IdnoInvalid, "100860003841")],
        ),
        (
            "tel 022123456, IBAN MD24AG000225100013104168",
            None,
            None,
            vec![],
        ),
        (
            "fiscal code 1004600077777",
            s("1004600077777"),
            Some(true),
            vec![],
        ),
    ]
}

/// Text, the LogoutRequest and LogoutResponse URLs, and the problems (code, value).
pub(super) fn logout_urls() -> Vec<(&'static str, Option<String>, Option<String>, Codes)> {
    let same = "LogoutRequest: https://a.md/logout\nLogoutResponse: aceeași";
    vec![
        (
            same,
            s("https://a.md/logout"),
            s("https://a.md/logout"),
            vec![],
        ),
        (
            "LogoutRequest - https://a.md/req\nLogoutResponse – https://a.md/resp",
            s("https://a.md/req"),
            s("https://a.md/resp"),
            vec![],
        ),
        (
            "LogoutRequest/LogoutResponse: https://a.md/lo",
            s("https://a.md/lo"),
            s("https://a.md/lo"),
            vec![],
        ),
        (
            "Logout URL: https://a.md/logout",
            s("https://a.md/logout"),
            s("https://a.md/logout"),
            vec![],
        ),
        (
            "Logout URL: https://a.md/logout\nLogoutResponse: https://a.md/r",
            s("https://a.md/logout"),
            s("https://a.md/r"),
            vec![],
        ),
        (
            "adresa unde se transmite LogoutRequest pentru cazul inițierii logout de către MPass:\nhttps://a.md/x\n\
             adresa unde se transmite LogoutResponse (care poate fi aceeași cu cea de sus): https://a.md/y",
            s("https://a.md/x"),
            s("https://a.md/y"),
            vec![],
        ),
        (
            "URL для LogoutRequest: https://a.md/x; для LogoutResponse то же самое",
            s("https://a.md/x"),
            s("https://a.md/x"),
            vec![],
        ),
        (
            "LogoutRequest: http://portal.md/logout",
            s("http://portal.md/logout"),
            None,
            vec![(ProblemCode::UrlNotHttps, "http://portal.md/logout")],
        ),
        (
            "LogoutRequest: https://localhost:8443/logout\nLogoutResponse: http://127.0.0.1/lo",
            s("https://localhost:8443/logout"),
            s("http://127.0.0.1/lo"),
            vec![
                (ProblemCode::UrlLocalhost, "https://localhost:8443/logout"),
                (ProblemCode::UrlNotHttps, "http://127.0.0.1/lo"),
                (ProblemCode::UrlLocalhost, "http://127.0.0.1/lo"),
            ],
        ),
        (
            "LogoutRequest: https://app.local/lo, LogoutResponse: https://[::1]/lo",
            s("https://app.local/lo"),
            s("https://[::1]/lo"),
            vec![
                (ProblemCode::UrlLocalhost, "https://app.local/lo"),
                (ProblemCode::UrlLocalhost, "https://[::1]/lo"),
            ],
        ),
        (
            "LogoutRequest: /mpass/logout",
            s("/mpass/logout"),
            None,
            vec![(ProblemCode::UrlNotHttps, "/mpass/logout")],
        ),
        ("Site: https://a.md/logout", None, None, vec![]),
        (
            "LogoutRequest: https://a.md/x\nURL pentru LogoutResponse: https://a.md/y",
            s("https://a.md/x"),
            s("https://a.md/y"),
            vec![],
        ),
        (
            "LogoutRequest: localhost:8080/logout",
            s("localhost:8080/logout"),
            None,
            vec![
                (ProblemCode::UrlNotHttps, "localhost:8080/logout"),
                (ProblemCode::UrlLocalhost, "localhost:8080/logout"),
            ],
        ),
        (
            "Logout URL: www.portal.md/logout",
            s("www.portal.md/logout"),
            s("www.portal.md/logout"),
            vec![(ProblemCode::UrlNotHttps, "www.portal.md/logout")],
        ),
    ]
}

/// An attribute as senders write it and how it matches MPass's names.
pub(super) fn attribute_spellings() -> Vec<(&'static str, AttributeMatch)> {
    vec![
        ("FirstName", AttributeMatch::Exact("FirstName")),
        ("firstname", AttributeMatch::Exact("FirstName")),
        ("First Name", AttributeMatch::Exact("FirstName")),
        ("mobile_phone", AttributeMatch::Exact("MobilePhone")),
        ("idno", AttributeMatch::Exact("IDNO")),
        ("Email", AttributeMatch::Near("EmailAddress")),
        ("E-mail", AttributeMatch::Near("EmailAddress")),
        ("mail", AttributeMatch::Synonym("EmailAddress")),
        ("IDNP", AttributeMatch::Near("NameIdentifier")),
        ("personal code", AttributeMatch::Synonym("NameIdentifier")),
        ("CNP", AttributeMatch::Near("NameIdentifier")),
        ("Phone", AttributeMatch::Near("MobilePhone")),
        ("Name", AttributeMatch::Near("FirstName")),
        ("Surname", AttributeMatch::Near("LastName")),
        ("Nume", AttributeMatch::Synonym("LastName")),
        ("Фамилия", AttributeMatch::Synonym("LastName")),
        ("DateOfBirth", AttributeMatch::Near("BirthDate")),
        ("Data nașterii", AttributeMatch::Synonym("BirthDate")),
        ("Data naşterii", AttributeMatch::Synonym("BirthDate")),
        ("Sex", AttributeMatch::Near("Gender")),
        ("Company", AttributeMatch::Near("CompanyName")),
        ("FristName", AttributeMatch::Near("FirstName")),
        ("BirthDat", AttributeMatch::Near("BirthDate")),
        ("IsResidnt", AttributeMatch::Near("IsResident")),
        ("Adresa", AttributeMatch::Unknown),
        ("Cetățenie", AttributeMatch::Unknown),
    ]
}

/// Text and the signer type read from it.
pub(super) fn signer_types() -> Vec<(&'static str, Option<SignerType>)> {
    vec![
        (
            "Tipul semnatarului: persoane fizice și juridice",
            Some(SignerType::Both),
        ),
        (
            "Tipul semnatarului: persoană fizică",
            Some(SignerType::Natural),
        ),
        (
            "tipul semnatarului - persoana juridica",
            Some(SignerType::Legal),
        ),
        ("Semnatari: ambele", Some(SignerType::Both)),
        (
            "Semnatarii vor fi persoane fizice.",
            Some(SignerType::Natural),
        ),
        ("Тип подписанта: физическое лицо", Some(SignerType::Natural)),
        (
            "Подписанты: физические и юридические лица",
            Some(SignerType::Both),
        ),
        ("Тип подписанта: юридическое лицо", Some(SignerType::Legal)),
        ("Signer type: both", Some(SignerType::Both)),
        ("Signers: natural persons", Some(SignerType::Natural)),
        ("Signer type: legal entity", Some(SignerType::Legal)),
        ("Signer type: individual", Some(SignerType::Natural)),
        ("Signers: company", Some(SignerType::Legal)),
        ("Тип подписанта: физические лица", Some(SignerType::Natural)),
        (
            "Tipul semnatarului:\n- persoane fizice\n- persoane juridice",
            Some(SignerType::Both),
        ),
        // Not about signers.
        ("IDNO of the legal person: 1008600038413", None),
        (
            "Semnatari: persoane fizice. IDNO persoanei juridice: 1008600038413",
            Some(SignerType::Natural),
        ),
        (
            "Cererea este semnată de conducătorul persoanei juridice.",
            None,
        ),
        // The list below a signer line belongs to it only when the line has no value.
        ("Semnatar: Ion Popescu\nPersoana juridică: Alfa SRL", None),
        ("", None),
    ]
}

/// Text and the environment read from it.
pub(super) fn environments() -> Vec<(&'static str, Option<Environment>)> {
    vec![
        ("Înregistrare pe mediul de test", Some(Environment::Test)),
        (
            "Integrarea pe mediul de producție",
            Some(Environment::Production),
        ),
        (
            "Integrarea pe mediul de producţie",
            Some(Environment::Production),
        ),
        ("mediul de productie", Some(Environment::Production)),
        ("Регистрация в тестовой среде", Some(Environment::Test)),
        (
            "Подключение к промышленной среде",
            Some(Environment::Production),
        ),
        ("продуктивная среда", Some(Environment::Production)),
        (
            "Please register it in the production environment",
            Some(Environment::Production),
        ),
        ("test environment", Some(Environment::Test)),
        ("după testare, trecem în producție", None),
        ("Mediul: test", Some(Environment::Test)),
        // The label decides over the story around it.
        (
            "După testarea pe mediul de test, solicităm înregistrarea.\nMediul: producție",
            Some(Environment::Production),
        ),
        ("Environment - production (after test)", None),
        (
            "Среда: тестовая\nпотом промышленная",
            Some(Environment::Test),
        ),
        ("contest attestat", None),
        (
            "LogoutRequest: https://test.portal.md/lo (certificat prod.cer)",
            None,
        ),
        ("", None),
    ]
}

/// Text, the institution and the system name read from it.
pub(super) fn label_variants() -> Vec<(&'static str, Option<String>, Option<String>)> {
    vec![
        (
            "Instituția: Inspectoratul Fiscal de Stat",
            s("Inspectoratul Fiscal de Stat"),
            None,
        ),
        (
            "Compania - Beta Consulting SRL",
            s("Beta Consulting SRL"),
            None,
        ),
        (
            "Beneficiar: Primăria mun. Bălți",
            s("Primăria mun. Bălți"),
            None,
        ),
        (
            "Denumire instituție – Consiliul raional Orhei",
            s("Consiliul raional Orhei"),
            None,
        ),
        ("Организация: ООО «Альфа»", s("ООО «Альфа»"), None),
        (
            "Название организации: АО «Молдтелеком»",
            s("АО «Молдтелеком»"),
            None,
        ),
        (
            "Institution name: National Bureau of Statistics",
            s("National Bureau of Statistics"),
            None,
        ),
        ("Organisation: Gamma Ltd", s("Gamma Ltd"), None),
        ("ORGANIZATION: Delta LLC.", s("Delta LLC"), None),
        (
            "Instituția: Primăria X, IDNO 1008600038413",
            s("Primăria X"),
            None,
        ),
        (
            "Compania: Vidnoe Trade SRL (IDNO 1008600038413)",
            s("Vidnoe Trade SRL"),
            None,
        ),
        ("IDNO: 1008600038413\nName: John Smith", None, None),
        (
            "Instituția\nIDNO: 1008600038413\nDenumire: Primăria Orhei",
            s("Primăria Orhei"),
            None,
        ),
        (
            "Denumirea instituției: \"Primăria Cahul\"",
            s("Primăria Cahul"),
            None,
        ),
        ("Название системы: e-Services", None, s("e-Services")),
        ("Information system: TaxPortal", None, s("TaxPortal")),
        ("Sistemul informațional: SIGEDIA", None, s("SIGEDIA")),
        (
            "Sistemul informațional al instituției noastre: e-Registru (versiunea 2)",
            None,
            s("e-Registru (versiunea 2)"),
        ),
        (
            "Denumirea sistemului informațional: «e-Buletin»",
            None,
            s("e-Buletin"),
        ),
        ("Информационная система — «Е-Журнал»", None, s("Е-Журнал")),
        (
            "  denumirea   institutiei  :   Primaria Ungheni  ",
            s("Primaria Ungheni"),
            None,
        ),
    ]
}

/// Running text and the institution it names, if any.
pub(super) fn institutions_in_prose() -> Vec<(&'static str, Option<String>)> {
    vec![
        (
            "Primăria orașului Ialoveni solicită integrarea cu MPass.",
            s("Primăria orașului Ialoveni"),
        ),
        (
            "Primaria orasului Ialoveni solicita integrarea.",
            s("Primaria orasului Ialoveni"),
        ),
        (
            "Компания MedTech SRL просит подключить MSign.",
            s("MedTech SRL"),
        ),
        (
            "Министерство финансов просит подключить систему.",
            s("Министерство финансов"),
        ),
        (
            "We write on behalf of FinTech Solutions SRL.",
            s("FinTech Solutions SRL"),
        ),
        (
            "Ministerul Educației și Cercetării solicită integrarea.",
            s("Ministerul Educației și Cercetării"),
        ),
        (
            "Solicitare din partea SRL „Alfa Soft”, Chișinău",
            s("SRL „Alfa Soft”"),
        ),
        ("Î.S. „Cadastru” solicită conectarea.", s("Î.S. „Cadastru”")),
        (
            "The Ministry of Finance requests access.",
            s("Ministry of Finance"),
        ),
        (
            "The Public Services Agency would like to integrate.",
            s("Public Services Agency"),
        ),
        (
            "City Hall of Balti requests integration.",
            s("City Hall of Balti"),
        ),
        // AGE and its services are never the sender.
        (
            "Solicităm integrarea cu Agenția de Guvernare Electronică.",
            None,
        ),
        ("Vă scriem privind Serviciul MPass.", None),
        ("Adresa IP 193.226.64.10", None),
        ("Bună ziua, vă rugăm să ne ajutați.", None),
    ]
}

/// Text and the service's name in Romanian, Russian and English.
pub(super) const SERVICE_NAMES: &[(&str, [Option<&str>; 3])] = &[
    (
        "Denumirea serviciului în limba română: Plata taxelor locale\n\
         Denumirea serviciului în limba rusă: Оплата местных сборов\n\
         Denumirea serviciului în limba engleză: Local taxes payment",
        [
            Some("Plata taxelor locale"),
            Some("Оплата местных сборов"),
            Some("Local taxes payment"),
        ],
    ),
    (
        "Название услуги (рум.): Eliberarea certificatelor\nНазвание услуги (рус.): Выдача справок\nНазвание услуги (англ.): Certificate issuance",
        [
            Some("Eliberarea certificatelor"),
            Some("Выдача справок"),
            Some("Certificate issuance"),
        ],
    ),
    (
        "Service name (Romanian/Russian/English): Programare online; Онлайн запись; Online booking",
        [
            Some("Programare online"),
            Some("Онлайн запись"),
            Some("Online booking"),
        ],
    ),
    (
        "Denumirea serviciului: Programare online (RO), Онлайн запись (RU), Online booking (EN)",
        [
            Some("Programare online"),
            Some("Онлайн запись"),
            Some("Online booking"),
        ],
    ),
    (
        "Denumirea serviciului: Permise de parcare (ro)",
        [Some("Permise de parcare"), None, None],
    ),
    (
        "Denumirea serviciului: RO: Avize; RU: Заключения; EN: Permits",
        [Some("Avize"), Some("Заключения"), Some("Permits")],
    ),
    (
        "Denumirea serviciului:\n- în limba română: Registrul animalelor\n- în limba rusă: Реестр животных\n- în limba engleză: Animal registry",
        [
            Some("Registrul animalelor"),
            Some("Реестр животных"),
            Some("Animal registry"),
        ],
    ),
    (
        "Denumirea serviciului (în română, rusă și engleză):\nÎnregistrarea vehiculelor\nРегистрация транспортных средств\nVehicle registration",
        [
            Some("Înregistrarea vehiculelor"),
            Some("Регистрация транспортных средств"),
            Some("Vehicle registration"),
        ],
    ),
    (
        "Denumirea serviciului: Cabinetul contribuabilului",
        [Some("Cabinetul contribuabilului"), None, None],
    ),
    // "RO:" lines mean nothing outside a service heading.
    ("RO: Chișinău", [None, None, None]),
];
