//! Recognising label lines ("Denumirea instituției:", "Название системы —",
//! "IDNO | …") in Romanian, Russian and English, and telling which request
//! field each one names.

use super::text::words;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Lang {
    Ro,
    Ru,
    En,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Field {
    Institution,
    Idno,
    Idnp,
    SystemName,
    SystemDesc,
    /// The languages the key names, in order ("Denumirea serviciului (ro/ru/en)").
    ServiceName(Vec<Lang>),
    ServiceDesc,
    /// "Denumire" / "Name": whose name depends on the heading above.
    BareName,
    /// "Descriere" / "Description": the system's unless under a service heading.
    BareDesc,
    /// "RO:", "în limba rusă:" — a service name under a service heading.
    LangTag(Lang),
    Environment,
    Ip,
    Signer,
    Logout,
    Attributes,
    /// The system's entry in the Register of Information Resources and Systems.
    Registry,
    /// A label of something else (contact, phone, …): ends the value above.
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Subject {
    Institution,
    System,
    Service,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Section {
    None,
    Institution,
    System,
    Service,
    Other,
}

pub(super) struct Label<'a> {
    pub(super) field: Field,
    pub(super) value: &'a str,
}

#[rustfmt::skip]
const INSTITUTION_STEMS: &[&str] = &[
    "institut", "compan", "organiza", "organisa", "beneficiar", "entitat", "entit", "intreprinder",
    "autoritat", "solicitant", "applicant", "juridic", "учрежден", "организац", "компани",
    "предприят", "бенефициар", "юридическ", "заявител",
];
#[rustfmt::skip]
const SYSTEM_STEMS: &[&str] = &[
    "sistem", "system", "систем", "produs", "product", "продукт", "aplicati", "application",
    "приложени", "platform", "платформ", "portal", "портал",
];
const SERVICE_STEMS: &[&str] = &["servici", "service", "услуг"];
#[rustfmt::skip]
const NAME_STEMS: &[&str] = &[
    "denumir", "nume", "наименован", "назван", "name", "titlu", "title",
];
const DESC_STEMS: &[&str] = &["descrier", "descript", "описан"];
pub(super) const SIGNER_STEMS: &[&str] = &["semnatar", "подписант", "signer", "signator"];
#[rustfmt::skip]
const CONTACT_STEMS: &[&str] = &[
    "contact", "контакт", "responsabil", "ответствен", "persoan", "person", "director",
    "conducator", "руководител", "prenume", "surname", "фамили", "имя", "telefon", "телефон",
    "phone", "tel", "mob", "email", "mail", "почт", "adresa", "address", "адрес", "fax", "functi",
    "должност", "position",
];
#[rustfmt::skip]
const OTHER_STARTS: &[&str] = &[
    "alte", "other", "друг", "проч", "data", "дата", "nr", "numar", "номер", "subiect", "subject",
    "тема", "iban", "cont", "banca", "bank", "certificat", "certificate", "сертификат", "serial",
    "seria", "website", "site", "web", "url", "link",
];
/// Words a short label may carry besides its subject ("Instituția solicitantă",
/// "Information system", "Date despre instituție").
#[rustfmt::skip]
const FILLER: &[&str] = &[
    "a", "al", "ale", "of", "the", "de", "si", "sau", "or", "and", "или", "и", "для", "your", "our",
    "noastra", "nostru", "noastre", "nostri", "dvs", "solicitanta", "beneficiara", "requesting",
    "наша", "наш", "publica", "public", "publice", "stat", "state", "informational",
    "informationala", "informationale", "informatic", "informatica", "informatice",
    "информационная", "информационной", "информационный", "информационного", "information",
    "informatics", "succinta", "scurta", "short", "brief", "краткое", "краткая", "completa",
    "complete", "full", "полное", "полная", "oficiala", "official", "официальное", "date", "despre",
    "informatii", "details", "detalii", "about", "данные", "сведения", "об", "о", "ul", "returnate",
    "solicitate", "necesare", "requested", "required", "запрашиваемые", "необходимые", "dupa",
    "autentificare", "list", "lista", "список", "cod", "codul", "fiscal", "код", "фискальный",
    "url", "adresa", "address", "адрес",
];
#[rustfmt::skip]
const LANG_FILLER: &[&str] = &[
    "in", "limba", "lb", "language", "version", "versiunea", "varianta", "на", "языке", "язык",
    "версия",
];

fn any_stem(w: &[String], stems: &[&str]) -> bool {
    w.iter().any(|x| stems.iter().any(|s| x.starts_with(s)))
}

fn subject_of(word: &str) -> Option<Subject> {
    let has = |stems: &[&str]| stems.iter().any(|s| word.starts_with(s));
    if has(INSTITUTION_STEMS) {
        Some(Subject::Institution)
    } else if has(SYSTEM_STEMS) {
        Some(Subject::System)
    } else if has(SERVICE_STEMS) {
        Some(Subject::Service)
    } else {
        None
    }
}

fn lang_of_word(w: &str) -> Option<Lang> {
    match w {
        "ro" | "rom" | "rum" => Some(Lang::Ro),
        "ru" | "rus" => Some(Lang::Ru),
        "en" | "eng" => Some(Lang::En),
        _ if w.starts_with("roman") || w.starts_with("рум") => Some(Lang::Ro),
        _ if w.starts_with("rus") || w.starts_with("рус") => Some(Lang::Ru),
        _ if w.starts_with("engl") || w.starts_with("англ") => Some(Lang::En),
        _ => None,
    }
}

fn langs_of(w: &[String]) -> Vec<Lang> {
    let mut out = Vec::new();
    for l in w.iter().filter_map(|x| lang_of_word(x)) {
        if !out.contains(&l) {
            out.push(l);
        }
    }
    out
}

#[rustfmt::skip]
pub(super) const IDNP_KEYS: &[&str] = &[
    "idnp", "иднп", "personal number", "personal code", "personal identification number",
    "cod personal", "codul personal", "numar personal", "numarul personal",
    "numar de identificare personal", "cnp", "личный код", "персональный код", "персональный номер",
    "личный номер",
];
#[rustfmt::skip]
pub(super) const IDNO_KEYS: &[&str] = &[
    "idno", "идно", "cod fiscal", "codul fiscal", "fiscal code", "tax code", "tax id",
    "код фискальн", "фискальный код", "cod de identificare", "identification number",
    "идентификационный номер",
];

/// What a label key names, judged by word stems on the folded key.
fn classify(key: &str) -> Option<Field> {
    if key.len() > 200 {
        return None;
    }
    let w = words(key);
    let n = w.len();
    if n == 0 || n > 14 {
        return None;
    }
    keyword_field(&w).or_else(|| subject_field(&w))
}

/// Fields named by a key word of their own (IDNO, logout, IP, signer…),
/// which win over any subject the key also mentions.
fn keyword_field(w: &[String]) -> Option<Field> {
    let n = w.len();
    // Keys match at a word start: "idno" also in "IDNO-ul", "idnoul".
    let joined = format!(" {}", w.join(" "));
    let has_key = |keys: &[&str]| keys.iter().any(|k| joined.contains(&format!(" {k}")));
    if n <= 12 && super::registry::names_register(w) {
        return Some(Field::Registry);
    }
    if n <= 8 && has_key(IDNP_KEYS) {
        return Some(Field::Idnp);
    }
    if n <= 8 && has_key(IDNO_KEYS) {
        return Some(Field::Idno);
    }
    if any_stem(w, &["logout"]) {
        return Some(Field::Logout);
    }
    if any_stem(w, &["atribut", "атрибут", "attribut"]) {
        return Some(Field::Attributes);
    }
    // "Avem nevoie de următoarele date despre utilizator:", "user data we need:".
    if n <= 10
        && any_stem(w, &["utilizator", "user", "пользовател"])
        && any_stem(w, &["date", "data", "данн", "informati", "сведени"])
    {
        return Some(Field::Attributes);
    }
    if n <= 8
        && w.iter()
            .any(|x| x == "ip" || x.starts_with("ipv") || x == "ipuri")
    {
        return Some(Field::Ip);
    }
    if n <= 8
        && (any_stem(w, SIGNER_STEMS)
            || (any_stem(w, &["tip", "type", "тип"])
                && any_stem(w, &["semnatur", "signature", "подпис"])))
    {
        return Some(Field::Signer);
    }
    if n <= 4
        && ["mediu", "environment", "сред", "окружени"]
            .iter()
            .any(|s| w[0].starts_with(s))
    {
        return Some(Field::Environment);
    }
    None
}

/// Fields named by what they are about (institution, system, service) and
/// whether the key asks for a name or a description; `w` is not empty.
fn subject_field(w: &[String]) -> Option<Field> {
    let n = w.len();
    let name = any_stem(w, NAME_STEMS);
    let desc = any_stem(w, DESC_STEMS);
    let subject = w.iter().find_map(|x| subject_of(x));
    let langs = langs_of(w);
    if desc && n <= 10 {
        return Some(match subject {
            Some(Subject::Service) => Field::ServiceDesc,
            Some(Subject::System) => Field::SystemDesc,
            Some(Subject::Institution) => Field::Other,
            None if any_stem(w, &["fraz", "sentence", "предложени"]) => {
                Field::ServiceDesc
            }
            None => Field::BareDesc,
        });
    }
    if name && n <= 10 {
        match subject {
            Some(Subject::Institution) => return Some(Field::Institution),
            Some(Subject::System) => return Some(Field::SystemName),
            Some(Subject::Service) => return Some(Field::ServiceName(langs)),
            None => {}
        }
    }
    // Contact details come before bare names: "Nume, prenume" is a person.
    if n <= 8 && any_stem(w, CONTACT_STEMS) {
        return Some(Field::Other);
    }
    if name && n <= 10 {
        return Some(if langs.is_empty() {
            Field::BareName
        } else {
            Field::ServiceName(langs)
        });
    }
    if let Some(s) = subject
        && n <= 6
        && w.iter().all(|x| {
            subject_of(x).is_some() || lang_of_word(x).is_some() || FILLER.contains(&x.as_str())
        })
    {
        match s {
            Subject::Institution => return Some(Field::Institution),
            Subject::System => return Some(Field::SystemName),
            // "Serviciul" alone heads the service's name and description.
            Subject::Service => return Some(Field::ServiceName(langs)),
        }
    }
    if n <= 4
        && !langs.is_empty()
        && w.iter()
            .all(|x| lang_of_word(x).is_some() || LANG_FILLER.contains(&x.as_str()))
    {
        return Some(if langs.len() == 1 {
            Field::LangTag(langs[0])
        } else {
            Field::ServiceName(langs)
        });
    }
    if n <= 6 && OTHER_STARTS.iter().any(|s| w[0].starts_with(s)) {
        return Some(Field::Other);
    }
    None
}

/// Whether every word of a line without a separator could belong to a label:
/// "Denumirea instituției" alone on a line is a label, "Denumirea instituției
/// noastre este X" is prose.
fn all_label_words(s: &str) -> bool {
    const STEMS: &[&[&str]] = &[
        INSTITUTION_STEMS,
        SYSTEM_STEMS,
        SERVICE_STEMS,
        NAME_STEMS,
        DESC_STEMS,
        SIGNER_STEMS,
        &[
            "idno",
            "идно",
            "idnp",
            "иднп",
            "ip",
            "ipv",
            "atribut",
            "атрибут",
            "attribut",
            "logout",
            "tip",
            "type",
            "тип",
            "mediu",
            "environment",
            "сред",
        ],
    ];
    let w = words(s);
    !w.is_empty()
        && w.len() <= 8
        && w.iter().all(|x| {
            FILLER.contains(&x.as_str())
                || LANG_FILLER.contains(&x.as_str())
                || lang_of_word(x).is_some()
                || STEMS
                    .iter()
                    .any(|stems| stems.iter().any(|st| x.starts_with(st)))
        })
}

/// The label on a line and the value after it, if the line is a label line.
pub(super) fn label_of(body: &str) -> Option<Label<'_>> {
    if body.is_empty() {
        return None;
    }
    let mut seps: Vec<(usize, usize)> = Vec::new();
    for pat in [":", "：", "|", "\t", " - ", " – ", " — "] {
        // A key has at most 14 words: separators far into the line end none.
        seps.extend(
            body.match_indices(pat)
                .take(3)
                .filter(|(p, _)| *p <= 200)
                .map(|(p, m)| (p, m.len())),
        );
    }
    seps.sort_unstable();
    for &(p, len) in &seps {
        if let Some(field) = classify(body.get(..p).unwrap_or_default()) {
            return Some(Label {
                field,
                value: body.get(p + len..).unwrap_or_default().trim(),
            });
        }
    }
    // A table flattened with runs of spaces, only when nothing else separates.
    if seps.is_empty()
        && let Some(p) = body.find("  ")
        && let Some(field) = classify(body.get(..p).unwrap_or_default())
    {
        return Some(Label {
            field,
            value: body.get(p..).unwrap_or_default().trim(),
        });
    }
    let bare = body.trim_end_matches([':', '-', '–', '—', ' ']);
    if !bare.ends_with('.') && all_label_words(bare) {
        return classify(bare).map(|field| Label { field, value: "" });
    }
    None
}
