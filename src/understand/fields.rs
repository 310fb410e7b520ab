//! Request fields from the sender's own words (procedure steps 1, 5 and 6).
//!
//! Beneficiaries write however they like: Romanian with or without diacritics
//! (ș/ş and ț/ţ mixed), Russian, English, or a mix; `Label: value`,
//! `Label – value`, the label on one line and the value on the next, bullet
//! lists, Outlook tables flattened to `Label | value` or tabs, signatures
//! below. [`extract`] reads what it can and never guesses beyond the text:
//! a field it cannot find stays empty. Values the sender got wrong (an IDNP
//! instead of the IDNO, a bad check digit, a private IP, an `http://` or
//! localhost logout URL, an attribute name MPass does not know) come back as
//! [`Problem`]s; the caller decides which of them matter for the step.
//!
//! How it reads, in order:
//! 1. lines are trimmed, bullets and numbering stripped, sign-offs
//!    ("Cu stimă,", "С уважением,", "Regards,", `--`) marked;
//! 2. label lines are recognised by their key (the words before `:`, `|`,
//!    a tab or a spaced dash), matched by word stems on a case- and
//!    diacritic-folded copy, and their values taken from the same line or the
//!    next one (descriptions may run over wrapped lines);
//! 3. IDNO/IDNP, logout URLs, signer type, IP addresses and the environment
//!    have their own scanners, since they also appear in running text;
//! 4. only when no label names the institution, it is looked for in the prose
//!    (a legal form such as SRL/ООО, or a public body such as "Primăria …").
//!
//! Pure: no I/O, no logging, no regex (hand-written scanning, linear in the
//! text times the number of labels).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde::Serialize;

use super::idno;
use super::language::is_quote_header;
use crate::domain::Environment;

/// Who signs with MSign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SignerType {
    Natural,
    Legal,
    Both,
}

/// What a beneficiary's mail says, field by field (procedure steps 1, 5, 6).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Request {
    pub institution: Option<String>,
    pub idno: Option<String>,
    pub idno_valid: Option<bool>,
    pub system_name: Option<String>,
    pub system_description: Option<String>,
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
}

/// A problem with one value the sender gave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub code: String,
    /// The value it is about, as the sender wrote it.
    pub value: Option<String>,
    /// What was probably meant (e.g. "EmailAddress" for "Email").
    pub suggestion: Option<String>,
}

/// What extraction found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Extracted {
    pub request: Request,
    pub problems: Vec<Problem>,
}

/// Options from rules/ that change what counts as a problem.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// CIDR ranges of private addresses that may be registered anyway.
    pub allowed_private_ranges: Vec<String>,
}

/// The attributes MPass can return, spelled exactly as they are registered.
pub const MPASS_ATTRIBUTES: [&str; 13] = [
    "NameIdentifier",
    "IsResident",
    "FirstName",
    "LastName",
    "BirthDate",
    "Gender",
    "EmailAddress",
    "MobilePhone",
    "HomePhone",
    "Language",
    "AdministeredLegalEntity",
    "IDNO",
    "CompanyName",
];

/// Problem codes [`extract`] reports.
pub const IDNP_NOT_IDNO: &str = "idnp_not_idno";
pub const IDNO_INVALID: &str = "idno_invalid";
pub const IP_NOT_PUBLIC: &str = "ip_not_public";
pub const URL_NOT_HTTPS: &str = "url_not_https";
pub const URL_LOCALHOST: &str = "url_localhost";
pub const ATTRIBUTE_UNKNOWN: &str = "attribute_unknown";

/// Longest value kept, in characters: enough for any real name or one-line
/// description, short enough for replies and the case record.
const MAX_CHARS: usize = 300;

/// Extracts the request fields from the sender's own text.
pub fn extract(text: &str, options: &Options) -> Extracted {
    let lines = prepare(text);
    let mut out = Extracted::default();
    let mut used = vec![false; lines.len()];
    read_labels(&lines, &mut out, &mut used);
    read_idno(&lines, &mut out);
    read_logout_urls(&lines, &mut out);
    out.request.signer_type = read_signer(&lines);
    out.request.environment = read_environment(&lines);
    read_ips(&lines, options, &mut out);
    if out.request.institution.is_none() {
        out.request.institution = institution_from_prose(&lines, &used);
    }
    let mut seen: Vec<Problem> = Vec::new();
    out.problems.retain(|p| {
        let new = !seen.contains(p);
        if new {
            seen.push(p.clone());
        }
        new
    });
    out
}

// ---------------------------------------------------------------------------
// Text helpers

/// Folds one character for matching: lowercase, Romanian diacritics (comma and
/// cedilla forms alike) to plain letters, ё to е. Always one char for one char,
/// so positions in the folded text are positions in the original.
fn fold_char(c: char) -> char {
    if c.is_ascii() {
        return c.to_ascii_lowercase();
    }
    match c {
        'ă' | 'Ă' | 'â' | 'Â' | 'á' | 'Á' | 'à' | 'ä' => 'a',
        'î' | 'Î' | 'í' | 'Í' => 'i',
        'ș' | 'Ș' | 'ş' | 'Ş' => 's',
        'ț' | 'Ț' | 'ţ' | 'Ţ' => 't',
        'é' | 'É' | 'è' => 'e',
        'ё' | 'Ё' => 'е',
        '\u{a0}' => ' ',
        _ => c.to_lowercase().next().unwrap_or(c),
    }
}

fn fold(s: &str) -> String {
    s.chars().map(fold_char).collect()
}

/// Folded words, split at anything that is not a letter or digit.
fn words(s: &str) -> Vec<String> {
    fold(s)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

fn word_count(s: &str) -> usize {
    s.split_whitespace().count()
}

fn is_cyrillic(c: char) -> bool {
    ('\u{0400}'..='\u{04FF}').contains(&c)
}

/// Byte position in `hay` where the folded `needle` starts at a word start.
fn find_word_folded(hay: &str, needle: &str) -> Option<usize> {
    let hay: Vec<(usize, char)> = hay.char_indices().map(|(i, c)| (i, fold_char(c))).collect();
    let needle: Vec<char> = needle.chars().collect();
    if needle.is_empty() || needle.len() > hay.len() {
        return None;
    }
    (0..=hay.len() - needle.len())
        .find(|&s| {
            (s == 0 || !hay[s - 1].1.is_alphanumeric())
                && needle.iter().enumerate().all(|(k, c)| hay[s + k].1 == *c)
        })
        .map(|s| hay[s].0)
}

const OPEN_QUOTES: &[char] = &['"', '\'', '„', '“', '”', '«', '‘', '‚'];
const CLOSE_QUOTES: &[char] = &['"', '\'', '”', '“', '»', '’', '‘'];

/// A value as it should be stored: trimmed, without the rest of a table row,
/// trailing punctuation or surrounding quotes, at most [`MAX_CHARS`].
fn clean(value: &str) -> Option<String> {
    let mut v = value.split(['|', '\t']).next().unwrap_or("").trim();
    loop {
        let before = v;
        v = v.trim_start_matches(|c: char| {
            c.is_whitespace() || matches!(c, ':' | '-' | '–' | '—' | '=' | '•')
        });
        v = strip_trailing_punct(v);
        v = strip_quotes(v);
        if v == before {
            break;
        }
    }
    if !v.chars().any(char::is_alphanumeric) {
        return None;
    }
    if matches!(
        fold(v).as_str(),
        "n/a" | "na" | "none" | "нет" | "lipsa" | "nu"
    ) {
        return None;
    }
    let capped: String = v.chars().take(MAX_CHARS).collect();
    Some(capped.trim_end().to_string())
}

fn strip_trailing_punct(v: &str) -> &str {
    let mut v = v.trim_end();
    while let Some(c) = v.chars().next_back() {
        // "S.R.L." and "Î.S." keep their last dot: it belongs to the name.
        let strip = matches!(c, ',' | ';' | ':' | '!' | '?' | '…')
            || (c == '.' && !ends_with_abbreviation(v));
        if !strip {
            break;
        }
        v = v.split_at(v.len() - c.len_utf8()).0.trim_end();
    }
    v
}

/// Whether the last word is like "S.R.L." or "Î.S.": at most eight
/// characters with two dots. Only those eight are looked at, so stripping a
/// long run of dots stays linear.
fn ends_with_abbreviation(v: &str) -> bool {
    let mut chars = 0;
    let mut dots = 0;
    for c in v.chars().rev().take_while(|c| !c.is_whitespace()).take(9) {
        chars += 1;
        dots += usize::from(c == '.');
    }
    dots >= 2 && chars <= 8
}

fn strip_quotes(v: &str) -> &str {
    let mut chars = v.chars();
    let (Some(first), Some(last)) = (chars.next(), chars.next_back()) else {
        return v;
    };
    if OPEN_QUOTES.contains(&first) && CLOSE_QUOTES.contains(&last) {
        let inner = v
            .get(first.len_utf8()..v.len() - last.len_utf8())
            .unwrap_or_default();
        // `"Alfa" și "Beta"` is two quoted names, not one quoted value.
        if !inner.contains(CLOSE_QUOTES) {
            return inner.trim();
        }
    }
    v
}

fn set_once(slot: &mut Option<String>, value: Option<String>) {
    if slot.is_none() {
        *slot = value;
    }
}

fn problem(code: &str, value: &str, suggestion: Option<&str>) -> Problem {
    Problem {
        code: code.to_string(),
        value: Some(value.to_string()),
        suggestion: suggestion.map(str::to_string),
    }
}

// ---------------------------------------------------------------------------
// Lines

struct Line<'a> {
    /// The line without surrounding space, table pipes, bullet or numbering.
    body: &'a str,
    bulleted: bool,
    /// "Cu stimă,", "С уважением,", "Regards,", "--" and the like.
    signoff: bool,
    /// At or after a sign-off: names here are the last resort.
    signature: bool,
}

fn prepare(text: &str) -> Vec<Line<'_>> {
    let mut out = Vec::new();
    let mut in_signature = false;
    for raw in text.lines() {
        // The caller strips quoted history; stop at one that slipped through.
        if is_quote_header(raw) {
            break;
        }
        let trimmed = raw.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
        let signoff = is_signoff(trimmed);
        in_signature |= signoff;
        let (body, bulleted) = strip_bullet(trimmed);
        out.push(Line {
            body,
            bulleted,
            signoff,
            signature: in_signature,
        });
    }
    out
}

const BULLETS: &str = "•·▪◦●○■□►▸➢✓✔❖\u{f0b7}\u{f0a7}\u{f076}\u{f0d8}";

fn strip_bullet(s: &str) -> (&str, bool) {
    let mut rest = s.trim_matches(|c: char| c.is_whitespace() || c == '|');
    let mut bulleted = false;
    for _ in 0..2 {
        let mut chars = rest.chars();
        let Some(c) = chars.next() else { break };
        let after = chars.as_str();
        if BULLETS.contains(c)
            || (matches!(c, '-' | '*' | '+' | '–' | '—') && after.starts_with(char::is_whitespace))
        {
            rest = after.trim_start();
        } else if let Some(n) = numbering_len(rest) {
            rest = rest.get(n..).unwrap_or_default().trim_start();
        } else {
            break;
        }
        bulleted = true;
    }
    (rest, bulleted)
}

/// Length of "1.", "2)", "1.2.", "(3)", "a)" or "(b)" at the start of `s`
/// when followed by a space. Numbers of three or more digits are values.
fn numbering_len(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let start = usize::from(b.first() == Some(&b'('));
    let mut i = start;
    while i < b.len() && i - start < 6 && (b[i].is_ascii_digit() || b[i] == b'.') {
        i += 1;
    }
    let number = s.get(start..i).unwrap_or_default();
    if number.bytes().any(|c| c.is_ascii_digit()) && number.split('.').all(|g| g.len() <= 2) {
        if b.get(i) == Some(&b')') {
            i += 1;
        } else if !number.ends_with('.') {
            return None;
        }
    } else if b.get(start).is_some_and(u8::is_ascii_alphabetic) && b.get(start + 1) == Some(&b')') {
        i = start + 2;
    } else {
        return None;
    }
    s.get(i..)?.starts_with(char::is_whitespace).then_some(i)
}

#[rustfmt::skip]
const SIGNOFFS: &[&str] = &[
    "cu stima", "cu respect", "cu deosebita stima", "cu deosebit respect", "cu consideratie",
    "toate cele bune", "o zi buna", "multumesc", "multumim", "va multumesc", "va multumim",
    "multumesc anticipat", "va multumesc anticipat", "va multumim anticipat", "cu multumiri",
    "с уважением", "с наилучшими пожеланиями", "спасибо", "благодарю", "заранее спасибо",
    "заранее благодарим", "с благодарностью", "regards", "best regards", "kind regards",
    "warm regards", "best wishes", "best", "sincerely", "yours sincerely", "yours faithfully",
    "respectfully", "thank you", "thanks", "many thanks", "thank you in advance",
    "thanks in advance",
];

fn is_signoff(line: &str) -> bool {
    let t = line.trim();
    if t == "--" || (t.chars().count() >= 5 && t.chars().all(|c| c == '_')) {
        return true;
    }
    let f = fold(t);
    if [
        "sent from my",
        "trimis de pe",
        "trimis din",
        "отправлено с",
        "get outlook for",
    ]
    .iter()
    .any(|p| f.starts_with(p))
    {
        return true;
    }
    let f = f.trim_end_matches(|c: char| !c.is_alphanumeric());
    SIGNOFFS.iter().any(|s| {
        f == *s || (f.strip_prefix(s).is_some_and(|r| r.starts_with(',')) && word_count(f) <= 6)
    })
}

/// Contact details: never a name or a description.
fn looks_contact(s: &str) -> bool {
    let f = fold(s);
    s.contains('@')
        || ["tel", "тел", "mob", "fax", "факс", "+373", "www.", "http"]
            .iter()
            .any(|p| f.starts_with(p))
}

// ---------------------------------------------------------------------------
// Labels

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lang {
    Ro,
    Ru,
    En,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Field {
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
enum Section {
    None,
    Institution,
    System,
    Service,
    Other,
}

struct Label<'a> {
    field: Field,
    value: &'a str,
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
const SIGNER_STEMS: &[&str] = &["semnatar", "подписант", "signer", "signator"];
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
const IDNP_KEYS: &[&str] = &[
    "idnp", "иднп", "personal number", "personal code", "personal identification number",
    "cod personal", "codul personal", "numar personal", "numarul personal",
    "numar de identificare personal", "cnp", "личный код", "персональный код", "персональный номер",
    "личный номер",
];
#[rustfmt::skip]
const IDNO_KEYS: &[&str] = &[
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
    // Keys match at a word start: "idno" also in "IDNO-ul", "idnoul".
    let joined = format!(" {}", w.join(" "));
    let has_key = |keys: &[&str]| keys.iter().any(|k| joined.contains(&format!(" {k}")));
    if n <= 8 && has_key(IDNP_KEYS) {
        return Some(Field::Idnp);
    }
    if n <= 8 && has_key(IDNO_KEYS) {
        return Some(Field::Idno);
    }
    if any_stem(&w, &["logout"]) {
        return Some(Field::Logout);
    }
    if any_stem(&w, &["atribut", "атрибут", "attribut"]) {
        return Some(Field::Attributes);
    }
    if n <= 8
        && w.iter()
            .any(|x| x == "ip" || x.starts_with("ipv") || x == "ipuri")
    {
        return Some(Field::Ip);
    }
    if n <= 8
        && (any_stem(&w, SIGNER_STEMS)
            || (any_stem(&w, &["tip", "type", "тип"])
                && any_stem(&w, &["semnatur", "signature", "подпис"])))
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
    let name = any_stem(&w, NAME_STEMS);
    let desc = any_stem(&w, DESC_STEMS);
    let subject = w.iter().find_map(|x| subject_of(x));
    let langs = langs_of(&w);
    if desc && n <= 10 {
        return Some(match subject {
            Some(Subject::Service) => Field::ServiceDesc,
            Some(Subject::System) => Field::SystemDesc,
            Some(Subject::Institution) => Field::Other,
            None if any_stem(&w, &["fraz", "sentence", "предложени"]) => {
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
    if n <= 8 && any_stem(&w, CONTACT_STEMS) {
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
fn label_of(body: &str) -> Option<Label<'_>> {
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

/// What a label fills, once headings are taken into account.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    Institution,
    SystemName,
    SystemDesc,
    ServiceName(Vec<Lang>),
    ServiceDesc,
}

impl Target {
    fn section(&self) -> Section {
        match self {
            Target::Institution => Section::Institution,
            Target::SystemName | Target::SystemDesc => Section::System,
            Target::ServiceName(_) | Target::ServiceDesc => Section::Service,
        }
    }
}

fn target_of(field: &Field, section: Section) -> Option<Target> {
    match field {
        Field::Institution => Some(Target::Institution),
        Field::SystemName => Some(Target::SystemName),
        Field::SystemDesc => Some(Target::SystemDesc),
        Field::ServiceName(l) => Some(Target::ServiceName(l.clone())),
        Field::ServiceDesc => Some(Target::ServiceDesc),
        Field::BareName => match section {
            Section::Institution => Some(Target::Institution),
            Section::System => Some(Target::SystemName),
            Section::Service => Some(Target::ServiceName(Vec::new())),
            Section::None | Section::Other => None,
        },
        Field::BareDesc => Some(if section == Section::Service {
            Target::ServiceDesc
        } else {
            Target::SystemDesc
        }),
        Field::LangTag(l) => (section == Section::Service).then(|| Target::ServiceName(vec![*l])),
        _ => None,
    }
}

fn read_labels(lines: &[Line<'_>], out: &mut Extracted, used: &mut [bool]) {
    let mut section = Section::None;
    let mut i = 0;
    while i < lines.len() {
        let body = lines[i].body;
        let Some(label) = label_of(body) else {
            i += 1;
            continue;
        };
        match &label.field {
            Field::Attributes => {
                let last = read_attributes(lines, i, label.value, out);
                used[i..=last].fill(true);
                section = Section::Other;
                i = last + 1;
                continue;
            }
            // An IDNO line leaves the heading as it was; personal data follows an IDNP.
            Field::Idno => {}
            Field::Idnp => section = Section::Other,
            Field::Ip | Field::Signer | Field::Logout => {
                section = Section::Service;
                used[i] = true;
            }
            Field::Environment => {}
            Field::Other => section = Section::Other,
            field => {
                let Some(target) = target_of(field, section) else {
                    i += 1;
                    continue;
                };
                if !(matches!(target, Target::ServiceName(_)) && is_age_service(label.value)) {
                    section = target.section();
                }
                used[i] = true;
                if let Field::LangTag(_) = field {
                    // "RO: …; RU: …; EN: …" on one line.
                    let tagged = inline_tags(body);
                    if tagged.len() > 1 {
                        for (lang, v) in tagged {
                            set_service_name(&mut out.request, lang, &v);
                        }
                        i += 1;
                        continue;
                    }
                }
                let last = if clean(label.value).is_some() {
                    fill(lines, i, label.value, &target, &mut out.request)
                } else if let Some(j) = next_value_line(lines, i) {
                    used[i..=j].fill(true);
                    fill(lines, j, lines[j].body, &target, &mut out.request)
                } else {
                    // A heading: what follows belongs to `section`.
                    i
                };
                used[i..=last].fill(true);
                i = last + 1;
                continue;
            }
        }
        i += 1;
    }
}

/// The line after a label left empty, when it holds the value and not the
/// next label (one blank line in between is allowed).
fn next_value_line(lines: &[Line<'_>], i: usize) -> Option<usize> {
    let mut j = i + 1;
    if lines.get(j).is_some_and(|l| l.body.is_empty()) {
        j += 1;
    }
    let l = lines.get(j)?;
    let value =
        !l.body.is_empty() && !l.signoff && !looks_contact(l.body) && label_of(l.body).is_none();
    value.then_some(j)
}

/// Fills `target` from `first` (found on line `j`) and the lines that belong
/// to it; returns the last line used.
fn fill(lines: &[Line<'_>], j: usize, first: &str, target: &Target, req: &mut Request) -> usize {
    match target {
        Target::Institution => set_once(&mut req.institution, clean(cut_institution(first))),
        Target::SystemName => set_once(&mut req.system_name, clean(first)),
        Target::SystemDesc | Target::ServiceDesc => {
            let last = continuation(lines, j, first);
            let mut text = first.to_string();
            for l in &lines[j + 1..=last] {
                text.push(' ');
                text.push_str(l.body);
            }
            let slot = if *target == Target::SystemDesc {
                &mut req.system_description
            } else {
                &mut req.service_description
            };
            set_once(slot, clean(&text));
            return last;
        }
        // "Serviciul: MPass" says which AGE service, not the service's name.
        Target::ServiceName(_) if is_age_service(first) => {}
        Target::ServiceName(langs) => return service_names(lines, j, first, langs, req),
    }
    j
}

fn is_age_service(v: &str) -> bool {
    let w = words(v);
    !w.is_empty()
        && w.iter().all(|x| {
            matches!(
                x.as_str(),
                "mpass" | "msign" | "si" | "and" | "и" | "sau" | "or"
            )
        })
}

/// The last line of a value that runs over several lines. Plain-text mail is
/// wrapped at ~72 columns, so a long line not ending a sentence, or a next
/// line starting in lowercase, continues; a signature never does.
fn continuation(lines: &[Line<'_>], j: usize, first: &str) -> usize {
    let mut last = j;
    let mut prev = first;
    for (k, l) in lines.iter().enumerate().skip(j + 1) {
        if l.body.is_empty()
            || l.signoff
            || l.bulleted
            || looks_contact(l.body)
            || label_of(l.body).is_some()
        {
            break;
        }
        let ends_sentence = prev.trim_end().ends_with(['.', '!', '?']);
        let wrapped = prev.chars().count() >= 60 && !ends_sentence;
        let lowercase = l.body.chars().next().is_some_and(char::is_lowercase);
        if !(wrapped || lowercase) {
            break;
        }
        last = k;
        prev = l.body;
    }
    last
}

/// Cuts "Primăria X, IDNO 1008600038413" down to the name.
fn cut_institution(v: &str) -> &str {
    let mut end = v.len();
    for key in [
        "idno",
        "идно",
        "cod fiscal",
        "codul fiscal",
        "fiscal code",
        "код фискальн",
    ] {
        if let Some(p) = find_word_folded(v, key) {
            end = end.min(p);
        }
    }
    if let Some(&(p, _)) = digit_runs(v).first() {
        end = end.min(p);
    }
    v.get(..end).unwrap_or(v).trim_end_matches(|c: char| {
        c.is_whitespace() || matches!(c, ',' | ';' | '(' | '-' | '–' | ':' | '/')
    })
}

// ---------------------------------------------------------------------------
// Service names in three languages

fn set_service_name(req: &mut Request, lang: Lang, v: &str) {
    let slot = match lang {
        Lang::Ro => &mut req.service_name_ro,
        Lang::Ru => &mut req.service_name_ru,
        Lang::En => &mut req.service_name_en,
    };
    set_once(slot, clean(v));
}

/// Tags that mark the language of a service name inside a value.
fn tag_lang(folded: &str) -> Option<Lang> {
    match folded {
        "ro" | "rom" | "rum" | "romana" | "romanian" | "рум" | "румынский" | "румынском" => {
            Some(Lang::Ro)
        }
        "ru" | "rus" | "rusa" | "russian" | "рус" | "русский" | "русском" => {
            Some(Lang::Ru)
        }
        "en" | "eng" | "engl" | "engleza" | "english" | "англ" | "английский" | "английском" => {
            Some(Lang::En)
        }
        _ => None,
    }
}

/// "RO: X; RU: Y; EN: Z" or "(ro) X, (ru) Y" → the names by language. Only
/// when the value starts with a tag, so a stray "en:" in a name is not one.
fn inline_tags(s: &str) -> Vec<(Lang, String)> {
    let mut marks: Vec<(usize, usize, Lang)> = Vec::new(); // (tag start, value start, lang)
    let mut pos = 0;
    let mut prev: Option<char> = None;
    while let Some(c) = s.get(pos..).and_then(|r| r.chars().next()) {
        if c.is_alphabetic() && !prev.is_some_and(char::is_alphanumeric) {
            let end = s
                .get(pos..)
                .unwrap_or_default()
                .find(|x: char| !x.is_alphabetic())
                .map_or(s.len(), |p| pos + p);
            if let Some(lang) = tag_lang(&fold(s.get(pos..end).unwrap_or_default())) {
                let rest = s.get(end..).unwrap_or_default();
                let rest = rest.strip_prefix('.').unwrap_or(rest);
                let open = prev == Some('(');
                let value_start = if open && rest.starts_with(')') {
                    Some(s.len() - rest.len() + 1)
                } else if let Some(r) = rest.trim_start().strip_prefix(':') {
                    Some(s.len() - r.len())
                } else {
                    [" - ", " – ", " — "]
                        .iter()
                        .find_map(|d| rest.strip_prefix(d))
                        .map(|r| s.len() - r.len())
                };
                if let Some(v) = value_start {
                    marks.push((if open { pos - 1 } else { pos }, v, lang));
                }
            }
            prev = s.get(..end).and_then(|r| r.chars().next_back());
            pos = end;
            continue;
        }
        prev = Some(c);
        pos += c.len_utf8();
    }
    let Some(first) = marks.first() else {
        return Vec::new();
    };
    if !s
        .get(..first.0)
        .unwrap_or_default()
        .trim_matches(|c: char| c.is_whitespace() || "-•*".contains(c))
        .is_empty()
    {
        return Vec::new();
    }
    marks
        .iter()
        .enumerate()
        .map(|(k, &(_, start, lang))| {
            let end = marks.get(k + 1).map_or(s.len(), |m| m.0);
            let v = s
                .get(start..end)
                .unwrap_or_default()
                .trim_matches(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | '/' | '|'));
            (lang, v.to_string())
        })
        .collect()
}

/// A name with its language after it: "Online booking (EN)".
fn trailing_tag(part: &str) -> Option<(Lang, &str)> {
    let inner = part.trim().strip_suffix(')')?;
    let open = inner.rfind('(')?;
    let lang = tag_lang(&fold(inner.get(open + 1..)?.trim().trim_end_matches('.')))?;
    let name = inner.get(..open)?.trim();
    (!name.is_empty()).then_some((lang, name))
}

#[rustfmt::skip]
const RO_HINTS: &[&str] = &[
    "de", "si", "pentru", "privind", "din", "cu", "la", "al", "a", "ale", "prin", "pe", "serviciul",
    "cerere", "cererea", "registrul", "sistemul", "certificat", "eliberare", "inregistrare",
    "plata", "online",
];
#[rustfmt::skip]
const EN_HINTS: &[&str] = &[
    "the", "of", "for", "and", "to", "issue", "service", "register", "system", "certificate",
    "request", "payment", "registry", "application", "portal", "public",
];

/// The language of a short phrase such as a service name.
fn phrase_lang(s: &str) -> Lang {
    if s.chars().any(is_cyrillic) {
        return Lang::Ru;
    }
    if s.chars().any(|c| "ăâîșşțţĂÂÎȘŞȚŢ".contains(c)) {
        return Lang::Ro;
    }
    let (mut ro, mut en) = (0, 0);
    for w in words(s) {
        if RO_HINTS.contains(&w.as_str())
            || ["ului", "area", "ilor", "rii", "ie"]
                .iter()
                .any(|e| w.ends_with(e))
        {
            ro += 1;
        }
        if EN_HINTS.contains(&w.as_str())
            || ["tion", "ing", "ance", "ment"]
                .iter()
                .any(|e| w.ends_with(e))
        {
            en += 1;
        }
    }
    if en > ro { Lang::En } else { Lang::Ro }
}

/// Service names from `first` (line `j`) and, when the key did not name a
/// single language, up to two more lines in other languages right below.
fn service_names(
    lines: &[Line<'_>],
    j: usize,
    first: &str,
    langs: &[Lang],
    req: &mut Request,
) -> usize {
    let tagged = inline_tags(first);
    if !tagged.is_empty() {
        for (lang, v) in tagged {
            set_service_name(req, lang, &v);
        }
        return j;
    }
    // "Programare online (RO), Онлайн запись (RU), Online booking (EN)".
    let suffixed: Vec<Option<(Lang, &str)>> = split_outside_parens(first, &[',', ';', '/', '|'])
        .into_iter()
        .map(trailing_tag)
        .collect();
    if suffixed.iter().all(Option::is_some) {
        for (lang, v) in suffixed.into_iter().flatten() {
            set_service_name(req, lang, v);
        }
        return j;
    }
    if langs.len() == 1 {
        set_service_name(req, langs[0], first);
        return j;
    }
    let parts: Vec<&str> = first
        .split(['/', ';', '|'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    if langs.len() >= 2 && parts.len() == langs.len() {
        for (lang, v) in langs.iter().zip(&parts) {
            set_service_name(req, *lang, v);
        }
        return j;
    }
    if (2..=3).contains(&parts.len()) {
        let detected: Vec<Lang> = parts.iter().map(|p| phrase_lang(p)).collect();
        if (1..detected.len()).all(|k| !detected[..k].contains(&detected[k])) {
            for (lang, v) in detected.iter().zip(&parts) {
                set_service_name(req, *lang, v);
            }
            return j;
        }
    }
    // One name per line, each in another language.
    let mut texts = vec![first];
    let mut last = j;
    for (k, l) in lines.iter().enumerate().skip(j + 1).take(2) {
        let seen: Vec<Lang> = texts.iter().map(|t| phrase_lang(t)).collect();
        let fits = !l.body.is_empty()
            && !l.signoff
            && !looks_contact(l.body)
            && word_count(l.body) <= 12
            && label_of(l.body).is_none()
            && !seen.contains(&phrase_lang(l.body));
        if !fits {
            break;
        }
        texts.push(l.body);
        last = k;
    }
    if texts.len() > 1 && texts.len() == langs.len() {
        for (lang, v) in langs.iter().zip(&texts) {
            set_service_name(req, *lang, v);
        }
    } else {
        for t in &texts {
            set_service_name(req, phrase_lang(t), t);
        }
    }
    last
}

// ---------------------------------------------------------------------------
// MPass attributes

const ATTRIBUTE_SYNONYMS: &[(&str, &str)] = &[
    ("email", "EmailAddress"),
    ("mail", "EmailAddress"),
    ("emailul", "EmailAddress"),
    ("adresaemail", "EmailAddress"),
    ("adresadeemail", "EmailAddress"),
    ("postaelectronica", "EmailAddress"),
    ("почта", "EmailAddress"),
    ("электроннаяпочта", "EmailAddress"),
    ("элпочта", "EmailAddress"),
    ("idnp", "NameIdentifier"),
    ("иднп", "NameIdentifier"),
    ("personalcode", "NameIdentifier"),
    ("personalnumber", "NameIdentifier"),
    ("codpersonal", "NameIdentifier"),
    ("codulpersonal", "NameIdentifier"),
    ("cnp", "NameIdentifier"),
    ("nameid", "NameIdentifier"),
    ("phone", "MobilePhone"),
    ("telefon", "MobilePhone"),
    ("telefonul", "MobilePhone"),
    ("telephone", "MobilePhone"),
    ("tel", "MobilePhone"),
    ("mobile", "MobilePhone"),
    ("mobil", "MobilePhone"),
    ("telefonmobil", "MobilePhone"),
    ("phonenumber", "MobilePhone"),
    ("телефон", "MobilePhone"),
    ("мобильныйтелефон", "MobilePhone"),
    ("telefonfix", "HomePhone"),
    ("домашнийтелефон", "HomePhone"),
    ("name", "FirstName"),
    ("prenume", "FirstName"),
    ("prenumele", "FirstName"),
    ("givenname", "FirstName"),
    ("имя", "FirstName"),
    ("surname", "LastName"),
    ("nume", "LastName"),
    ("numele", "LastName"),
    ("familyname", "LastName"),
    ("numedefamilie", "LastName"),
    ("фамилия", "LastName"),
    ("dateofbirth", "BirthDate"),
    ("datanasterii", "BirthDate"),
    ("birthday", "BirthDate"),
    ("dob", "BirthDate"),
    ("датарождения", "BirthDate"),
    ("sex", "Gender"),
    ("gen", "Gender"),
    ("genul", "Gender"),
    ("пол", "Gender"),
    ("company", "CompanyName"),
    ("companie", "CompanyName"),
    ("compania", "CompanyName"),
    ("denumireacompaniei", "CompanyName"),
    ("названиекомпании", "CompanyName"),
    ("наименованиекомпании", "CompanyName"),
    ("limba", "Language"),
    ("язык", "Language"),
    ("lang", "Language"),
    ("resident", "IsResident"),
    ("rezident", "IsResident"),
    ("rezidenta", "IsResident"),
    ("резидент", "IsResident"),
    ("codfiscal", "IDNO"),
    ("фискальныйкод", "IDNO"),
    ("legalentity", "AdministeredLegalEntity"),
    ("persoanajuridica", "AdministeredLegalEntity"),
    ("юридическоелицо", "AdministeredLegalEntity"),
];

#[derive(Debug, PartialEq, Eq)]
enum AttributeMatch {
    Exact(&'static str),
    Near(&'static str),
    Unknown,
}

/// Matches one attribute as written against MPass's names: exact modulo case,
/// spaces and underscores; else a known synonym or a close spelling.
fn match_attribute(item: &str) -> AttributeMatch {
    let squeezed: String = item
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '_')
        .collect::<String>()
        .to_lowercase();
    if let Some(a) = MPASS_ATTRIBUTES
        .iter()
        .find(|a| a.to_lowercase() == squeezed)
    {
        return AttributeMatch::Exact(a);
    }
    let norm: String = fold(item).chars().filter(|c| c.is_alphanumeric()).collect();
    if norm.is_empty() {
        return AttributeMatch::Unknown;
    }
    if let Some(&(_, a)) = ATTRIBUTE_SYNONYMS.iter().find(|(s, _)| *s == norm) {
        return AttributeMatch::Near(attribute_name(a));
    }
    let limit = if norm.chars().count() <= 4 { 1 } else { 2 };
    let best = MPASS_ATTRIBUTES
        .iter()
        .map(|a| (edit_distance(&norm, &a.to_lowercase()), *a))
        .chain(
            ATTRIBUTE_SYNONYMS
                .iter()
                .filter(|(s, _)| s.chars().count() >= 5)
                .map(|(s, a)| (edit_distance(&norm, s), attribute_name(a))),
        )
        .min_by_key(|(d, _)| *d);
    match best {
        Some((d, a)) if d <= limit => AttributeMatch::Near(a),
        _ => AttributeMatch::Unknown,
    }
}

fn attribute_name(a: &str) -> &'static str {
    MPASS_ATTRIBUTES
        .iter()
        .find(|x| **x == a)
        .copied()
        .unwrap_or("NameIdentifier")
}

fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut diag = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diag + usize::from(ca != cb));
            diag = above;
        }
    }
    row[b.len()]
}

/// Splits at `seps` outside parentheses ("Data nașterii (zz/ll/aaaa)" stays whole).
fn split_outside_parens<'a>(s: &'a str, seps: &[char]) -> Vec<&'a str> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            _ if depth == 0 && seps.contains(&c) => {
                out.push(s.get(start..i).unwrap_or_default());
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    out.push(s.get(start..).unwrap_or_default());
    out
}

/// Words that introduce no attribute ("conform ghidului", "all standard ones").
fn is_attribute_filler(item: &str) -> bool {
    let f = fold(item);
    [
        "conform",
        "according",
        "согласно",
        "toate",
        "all ",
        "все",
        "etc",
        "standard",
        "стандарт",
    ]
    .iter()
    .any(|p| f.starts_with(p))
}

/// The attributes named in one list entry, with how each matched.
fn attribute_items(line: &str) -> Vec<(String, AttributeMatch)> {
    let mut out = Vec::new();
    for piece in split_outside_parens(line, &[',', ';', '|', '\t']) {
        let piece = strip_bullet(piece.trim()).0;
        let piece = strip_trailing_punct(piece);
        if piece.is_empty() || is_attribute_filler(piece) {
            continue;
        }
        // "Prenume (FirstName)" or "FirstName – prenumele": the exact name wins.
        let paren = piece
            .find('(')
            .map(|p| piece.get(p + 1..).unwrap_or_default().trim_end_matches(')'));
        let outside = piece
            .find('(')
            .map_or(piece, |p| piece.get(..p).unwrap_or(piece).trim());
        let mut parts: Vec<&str> = vec![outside];
        for sep in [" - ", " – ", " — ", ":", "="] {
            parts = parts
                .iter()
                .flat_map(|p| p.split(sep))
                .map(str::trim)
                .collect();
        }
        let exact = paren
            .into_iter()
            .chain(parts.iter().copied())
            .find_map(|p| match match_attribute(p) {
                AttributeMatch::Exact(a) => Some(a),
                _ => None,
            });
        if let Some(a) = exact {
            out.push((a.to_string(), AttributeMatch::Exact(a)));
            continue;
        }
        let head = parts.first().copied().unwrap_or("");
        let mut subs: Vec<&str> = vec![head];
        for sep in ["/", " si ", " și ", " şi ", " and ", " и ", " & "] {
            subs = subs
                .iter()
                .flat_map(|p| p.split(sep))
                .map(str::trim)
                .collect();
        }
        for sub in subs {
            let sub = strip_quotes(strip_trailing_punct(sub));
            if sub.is_empty() || !sub.chars().any(char::is_alphabetic) || word_count(sub) > 3 {
                continue;
            }
            out.push((sub.to_string(), match_attribute(sub)));
        }
    }
    out
}

/// Reads the list an attributes label introduces: on the label's line, then
/// one or more entries per line below it. Returns the last line read.
fn read_attributes(lines: &[Line<'_>], i: usize, value: &str, out: &mut Extracted) -> usize {
    let mut items = attribute_items(value);
    let mut last = i;
    let mut blanks = 0;
    for (j, l) in lines.iter().enumerate().skip(i + 1) {
        if l.body.is_empty() {
            blanks += 1;
            if last > i || !items.is_empty() || blanks > 1 {
                break;
            }
            continue;
        }
        if l.signoff {
            break;
        }
        let entry = attribute_items(l.body);
        let known = entry.iter().any(|(_, m)| *m != AttributeMatch::Unknown);
        // Unbulleted lines must name an attribute; bulleted ones must be short.
        let other_label = label_of(l.body)
            .is_some_and(|lb| lb.field != Field::Other && lb.field != Field::BareName);
        let belongs = known || (l.bulleted && word_count(l.body) <= 6 && !other_label);
        if !belongs || (!known && l.body.ends_with(':')) {
            break;
        }
        items.extend(entry);
        last = j;
    }
    for (written, m) in items {
        match m {
            AttributeMatch::Exact(a) => {
                if !out.request.attributes.iter().any(|x| x == a) {
                    out.request.attributes.push(a.to_string());
                }
            }
            AttributeMatch::Near(a) => {
                out.problems
                    .push(problem(ATTRIBUTE_UNKNOWN, &written, Some(a)))
            }
            AttributeMatch::Unknown => {
                out.problems
                    .push(problem(ATTRIBUTE_UNKNOWN, &written, None))
            }
        }
    }
    last
}

// ---------------------------------------------------------------------------
// IDNO

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NumberKind {
    Idno,
    Idnp,
}

/// Byte ranges of digit runs of 10 to 15 digits (13 is an IDNO/IDNP; the
/// others matter only when labelled, as a mistyped IDNO).
fn digit_runs(s: &str) -> Vec<(usize, usize)> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_digit() {
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            if (10..=15).contains(&(i - start)) {
                out.push((start, i));
            }
        } else {
            i += 1;
        }
    }
    out
}

/// The kind named by the label closest before a number, in folded text.
fn number_kind(folded: &str) -> Option<NumberKind> {
    let last = |keys: &[&str]| {
        keys.iter()
            .filter_map(|k| folded.rfind(k).map(|p| p + k.len()))
            .max()
    };
    match (last(IDNO_KEYS), last(IDNP_KEYS)) {
        (Some(o), Some(p)) if o > p => Some(NumberKind::Idno),
        (_, Some(_)) => Some(NumberKind::Idnp),
        (Some(_), None) => Some(NumberKind::Idno),
        (None, None) => None,
    }
}

/// "1008 6000 38413" or "1008-6000-38413" after a label.
fn spaced_number(s: &str) -> Option<String> {
    let mut digits = String::new();
    let mut sep = false;
    for c in s.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            sep = false;
        } else if digits.is_empty() {
            if c.is_alphanumeric() {
                return None;
            }
        } else if matches!(c, ' ' | '-' | '.') && !sep {
            sep = true;
        } else {
            break;
        }
    }
    (digits.len() == 13).then_some(digits)
}

fn read_idno(lines: &[Line<'_>], out: &mut Extracted) {
    let mut found: Vec<(String, Option<NumberKind>)> = Vec::new();
    // A label alone on its line ("IDNO:") names the number on the next one.
    let mut pending: Option<NumberKind> = None;
    for l in lines {
        if l.body.is_empty() {
            continue;
        }
        let runs = digit_runs(l.body);
        let mut seg_start = 0;
        for &(s, e) in &runs {
            let seg = l.body.get(seg_start..s).unwrap_or_default();
            let mut kind = number_kind(&fold(seg));
            if kind.is_none() && seg_start == 0 && !seg.chars().any(char::is_alphanumeric) {
                kind = pending;
            }
            found.push((l.body.get(s..e).unwrap_or_default().to_string(), kind));
            seg_start = e;
        }
        let kind_here = number_kind(&fold(l.body));
        if runs.is_empty() {
            let spaced = match label_of(l.body) {
                Some(lb) if matches!(lb.field, Field::Idno | Field::Idnp) => {
                    spaced_number(lb.value)
                }
                _ => pending.and_then(|_| spaced_number(l.body)),
            };
            let kind = kind_here.or(pending);
            let bare_label = spaced.is_none() && kind_here.is_some() && word_count(l.body) <= 8;
            if let Some(n) = spaced {
                found.push((n, kind));
            }
            pending = if bare_label { kind_here } else { None };
        } else {
            pending = None;
        }
    }

    let personal = |n: &str| n.len() == 13 && (n.starts_with('0') || n.starts_with('2'));
    let labelled: Vec<&String> = found
        .iter()
        .filter(|(n, k)| *k == Some(NumberKind::Idno) && !personal(n))
        .map(|(n, _)| n)
        .collect();
    let chosen = labelled
        .iter()
        .find(|n| idno::is_valid(n))
        .or(labelled.first())
        .copied()
        .or_else(|| {
            found
                .iter()
                .find(|(n, k)| k.is_none() && n.len() == 13 && !personal(n) && idno::is_valid(n))
                .map(|(n, _)| n)
        });
    if let Some(n) = chosen {
        let valid = idno::is_valid(n);
        out.request.idno = Some(n.clone());
        out.request.idno_valid = Some(valid);
        if !valid {
            out.problems.push(problem(IDNO_INVALID, n, None));
        }
    }
    // A personal number is a problem where it stands for the IDNO: given as
    // the IDNO, or the only number a request without an IDNO carries. The
    // director's IDNP next to a good IDNO is not.
    for (n, kind) in &found {
        let is_personal = *kind == Some(NumberKind::Idnp)
            || (personal(n) && (kind.is_some() || idno::is_valid(n)));
        if is_personal && n.len() == 13 && (chosen.is_none() || *kind == Some(NumberKind::Idno)) {
            out.problems.push(problem(IDNP_NOT_IDNO, n, None));
        }
    }
}

// ---------------------------------------------------------------------------
// Logout URLs

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LogoutKind {
    Request,
    Response,
    Either,
}

#[rustfmt::skip]
const SAME_WORDS: &[&str] = &[
    "aceeasi", "aceiasi", "aceeas", "la fel", "identic", "same", "то же", "тот же", "такой же",
    "совпада", "идентичн",
];

/// Byte ranges of URL-looking tokens: with a scheme, "www.", a host with a
/// path, or an absolute path.
fn url_spans(s: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut pos = 0;
    for tok in s.split_whitespace() {
        let start = pos + s.get(pos..).and_then(|r| r.find(tok)).unwrap_or(0);
        pos = start + tok.len();
        let lower = tok.to_ascii_lowercase();
        let (from, t) = match lower.find("http") {
            Some(p) if lower.get(p..).is_some_and(|r| r.contains("://")) => {
                (p, tok.get(p..).unwrap_or_default())
            }
            _ => {
                let p = tok.len()
                    - tok
                        .trim_start_matches(|c: char| "(<\"'«„“[:".contains(c))
                        .len();
                (p, tok.get(p..).unwrap_or_default())
            }
        };
        let t = t.trim_end_matches(|c: char| ".,;:)>\"'»”“]!?".contains(c));
        let lower = t.to_ascii_lowercase();
        let host_path = lower.split_once('/').is_some_and(|(h, p)| {
            (h.contains('.') || h.starts_with("localhost"))
                && !p.is_empty()
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || ".-:".contains(c))
        });
        let is_url = lower.contains("://")
            || lower.starts_with("www.")
            || host_path
            || (lower.starts_with('/') && lower.chars().any(|c| c.is_ascii_alphabetic()));
        if is_url && !t.contains('@') {
            out.push((start + from, start + from + t.len()));
        }
    }
    out
}

fn logout_keywords(line: &str, urls: &[(usize, usize)]) -> Vec<(usize, usize, LogoutKind)> {
    let lower = line.to_ascii_lowercase(); // same byte positions as `line`
    // `urls` is sorted by start: the only candidate is the last one starting at or before `p`.
    let inside_url = |p: usize| {
        let k = urls.partition_point(|&(s, _)| s <= p);
        k > 0 && p < urls[k - 1].1
    };
    let mut out = Vec::new();
    for (kind, keys) in [
        (
            LogoutKind::Request,
            [
                "logoutrequest",
                "logout request",
                "logout-request",
                "logout_request",
            ],
        ),
        (
            LogoutKind::Response,
            [
                "logoutresponse",
                "logout response",
                "logout-response",
                "logout_response",
            ],
        ),
    ] {
        for key in keys {
            for (p, m) in lower.match_indices(key) {
                if !inside_url(p) {
                    out.push((p, p + m.len(), kind));
                }
            }
        }
    }
    if out.is_empty() {
        out.extend(
            lower
                .match_indices("logout")
                .filter(|(p, _)| !inside_url(*p))
                .map(|(p, m)| (p, p + m.len(), LogoutKind::Either)),
        );
    }
    out.sort_unstable_by_key(|k| k.0);
    out
}

fn read_logout_urls(lines: &[Line<'_>], out: &mut Extracted) {
    let mut request: Option<String> = None;
    let mut response: Option<String> = None;
    let mut either: Option<String> = None;
    let (mut request_same, mut response_same) = (false, false);
    for (i, l) in lines.iter().enumerate() {
        let urls = url_spans(l.body);
        let keys = logout_keywords(l.body, &urls);
        if keys.is_empty() {
            continue;
        }
        // Each keyword owns the URLs up to the next keyword.
        let mut found: Vec<(LogoutKind, Option<String>, bool)> = Vec::new();
        for (k, &(_, end, kind)) in keys.iter().enumerate() {
            let seg_end = keys.get(k + 1).map_or(l.body.len(), |n| n.0);
            let url = urls
                .get(urls.partition_point(|&(s, _)| s < end))
                .filter(|&&(s, _)| s < seg_end)
                .map(|&(s, e)| l.body.get(s..e).unwrap_or_default().to_string());
            let seg = fold(l.body.get(end.min(seg_end)..seg_end).unwrap_or_default());
            let same = url.is_none() && SAME_WORDS.iter().any(|w| seg.contains(w));
            found.push((kind, url, same));
        }
        // "LogoutRequest / LogoutResponse: URL" — both keywords share it.
        for k in (0..found.len().saturating_sub(1)).rev() {
            let (_, end, _) = keys[k];
            let between: String = l
                .body
                .get(end..keys[k + 1].0)
                .unwrap_or_default()
                .chars()
                .filter(|c| c.is_alphanumeric())
                .collect();
            let joiner = matches!(
                fold(&between).as_str(),
                "" | "si" | "and" | "и" | "sau" | "or" | "или"
            );
            if found[k].1.is_none() && !found[k].2 && joiner {
                found[k].1 = found[k + 1].1.clone();
                found[k].2 = found[k + 1].2;
            }
        }
        // The label alone on its line, the URL on the next one.
        if let Some(last) = found.last_mut()
            && last.1.is_none()
            && !last.2
            && let Some(next) = lines
                .iter()
                .skip(i + 1)
                .take(2)
                .find(|n| !n.body.is_empty())
            && logout_keywords(next.body, &url_spans(next.body)).is_empty()
            && let Some(&(s, e)) = url_spans(next.body).first()
            && s <= 2
        {
            last.1 = Some(next.body.get(s..e).unwrap_or_default().to_string());
        }
        for (kind, url, same) in found {
            match kind {
                LogoutKind::Request => {
                    request_same |= same;
                    set_once(&mut request, url);
                }
                LogoutKind::Response => {
                    response_same |= same;
                    set_once(&mut response, url);
                }
                LogoutKind::Either => set_once(&mut either, url),
            }
        }
    }
    if response.is_none() && response_same {
        response.clone_from(&request);
    }
    if request.is_none() && request_same {
        request.clone_from(&response);
    }
    // "Logout URL: …" alone serves for both.
    if request.is_none() {
        request.clone_from(&either);
    }
    if response.is_none() {
        response.clone_from(&either);
    }
    for url in request.iter().chain(response.iter()) {
        check_url(url, &mut out.problems);
    }
    out.request.logout_request_url = request.map(|u| u.chars().take(MAX_CHARS).collect());
    out.request.logout_response_url = response.map(|u| u.chars().take(MAX_CHARS).collect());
}

fn check_url(url: &str, problems: &mut Vec<Problem>) {
    let lower = url.to_ascii_lowercase();
    if !lower.starts_with("https://") || lower.len() <= "https://".len() {
        problems.push(problem(URL_NOT_HTTPS, url, None));
    }
    let rest = lower.split_once("://").map_or(lower.as_str(), |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if let Some(v6) = host_port.strip_prefix('[') {
        v6.split(']').next().unwrap_or("")
    } else {
        host_port.split(':').next().unwrap_or("")
    };
    let local = host == "localhost"
        || host.ends_with(".localhost")
        || host.ends_with(".local")
        || host
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback() || ip.is_unspecified());
    if local {
        problems.push(problem(URL_LOCALHOST, url, None));
    }
}

// ---------------------------------------------------------------------------
// Signer type (MSign)

fn signer_keyword(folded: &str) -> Option<usize> {
    let direct = SIGNER_STEMS.iter().filter_map(|k| folded.find(k)).min();
    let typed = [
        "tip semnatur",
        "tipul semnatur",
        "signature type",
        "тип подпис",
    ]
    .iter()
    .filter_map(|k| folded.find(k))
    .min();
    direct.into_iter().chain(typed).min()
}

fn signer_in(folded: &str) -> Option<SignerType> {
    let w: Vec<&str> = folded
        .split(|c: char| !c.is_alphanumeric())
        .filter(|x| !x.is_empty())
        .collect();
    let starts = |stems: &[&str]| w.iter().any(|x| stems.iter().any(|s| x.starts_with(s)));
    let is = |list: &[&str]| w.iter().any(|x| list.contains(x));
    let both = is(&["ambele", "ambii", "оба", "обе", "обоих", "both"]);
    let natural =
        starts(&["fizic", "физическ"]) || is(&["individual", "individuals", "natural", "pf", "фл"]);
    let legal =
        starts(&["juridic", "юридическ"]) || is(&["legal", "company", "companies", "pj", "юл"]);
    match (both || (natural && legal), natural, legal) {
        (true, _, _) => Some(SignerType::Both),
        (_, true, _) => Some(SignerType::Natural),
        (_, _, true) => Some(SignerType::Legal),
        _ => None,
    }
}

/// Only from the sentence that talks about signers (and the list below it),
/// so "IDNO of the legal person" elsewhere does not count.
fn read_signer(lines: &[Line<'_>]) -> Option<SignerType> {
    for (i, l) in lines.iter().enumerate() {
        let f = fold(l.body);
        let Some(pos) = signer_keyword(&f) else {
            continue;
        };
        let start = f
            .get(..pos)
            .and_then(|r| r.rfind(['.', '!', '?']))
            .map_or(0, |p| p + 1);
        let end = f
            .get(pos..)
            .and_then(|r| r.find(['.', '!', '?']))
            .map_or(f.len(), |p| pos + p);
        let mut segment = f.get(start..end).unwrap_or_default().to_string();
        // "Tipul semnatarului:" with the list below it.
        let heading = l.body.trim_end().ends_with(':')
            || label_of(l.body)
                .is_some_and(|lb| lb.field == Field::Signer && clean(lb.value).is_none());
        if heading && signer_in(&segment).is_none() {
            let mut blank_ok = true;
            for n in lines.iter().skip(i + 1).take(5) {
                if n.body.is_empty() {
                    if blank_ok {
                        blank_ok = false;
                        continue;
                    }
                    break;
                }
                blank_ok = false;
                let other = label_of(n.body).is_some_and(|lb| lb.field != Field::Other);
                if n.signoff || other || (!n.bulleted && word_count(n.body) > 6) {
                    break;
                }
                segment.push(' ');
                segment.push_str(&fold(n.body));
            }
        }
        if let Some(t) = signer_in(&segment) {
            return Some(t);
        }
    }
    None
}

// ---------------------------------------------------------------------------
// Environment

/// Whether folded text names the test and/or the production environment.
/// Hosts and file names ("test.cer", "https://test.x.md") say nothing.
fn environment_words(folded: &str) -> (bool, bool) {
    const FILES: &[&str] = &[
        ".cer", ".crt", ".pem", ".pfx", ".p12", ".key", ".pdf", ".doc", ".zip", ".odt", ".txt",
    ];
    #[rustfmt::skip]
    const PRODUCTION: &[&str] = &[
        "productie", "productia", "production", "producere", "producerii", "промышленн",
        "продуктив", "продакшн", "продакшен",
    ];
    let (mut test, mut production) = (false, false);
    for tok in folded.split_whitespace() {
        let skip = tok.contains("://")
            || tok.contains('@')
            || tok.starts_with("www.")
            || FILES.iter().any(|e| tok.contains(e));
        if skip {
            continue;
        }
        for w in tok
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
        {
            test |= matches!(w, "test" | "teste" | "testing")
                || w.starts_with("testar")
                || w.starts_with("тест");
            production |= w == "prod" || PRODUCTION.iter().any(|p| w.starts_with(p));
        }
    }
    (test, production)
}

fn environment_of(test: bool, production: bool) -> Option<Environment> {
    match (test, production) {
        (true, false) => Some(Environment::Test),
        (false, true) => Some(Environment::Production),
        _ => None,
    }
}

/// An "Environment:" label decides; else the wording, when it names only one.
fn read_environment(lines: &[Line<'_>]) -> Option<Environment> {
    let labelled = lines.iter().find_map(|l| match label_of(l.body) {
        Some(lb) if lb.field == Field::Environment => {
            let (t, p) = environment_words(&fold(lb.value));
            environment_of(t, p)
        }
        _ => None,
    });
    if labelled.is_some() {
        return labelled;
    }
    let (mut test, mut production) = (false, false);
    for l in lines {
        // Folding keeps whitespace where it was, so tokens line up.
        let (t, p) = environment_words(&fold(l.body));
        test |= t;
        production |= p;
    }
    environment_of(test, production)
}

// ---------------------------------------------------------------------------
// IP addresses (MSign)

/// A CIDR range (`10.20.0.0/16`, `fd00::/8`) or a single address.
pub fn parse_range(s: &str) -> Option<(IpAddr, u8)> {
    let s = s.trim();
    let (addr, bits) = s.split_once('/').map_or((s, None), |(a, b)| (a, Some(b)));
    let ip: IpAddr = addr.trim().parse().ok()?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let bits = match bits {
        Some(b) => b.trim().parse().ok()?,
        None => max,
    };
    (bits <= max).then_some((ip, bits))
}

fn in_range(ip: IpAddr, (net, bits): (IpAddr, u8)) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

/// Whether an address is reachable on the public Internet: not private,
/// loopback, link-local, CGNAT, documentation, multicast or reserved.
fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_multicast()
                || v4.is_broadcast()
                || v4.is_documentation()
                || o[0] == 0
                || (o[0] == 100 && (o[1] & 0xc0) == 64)
                || (o[0] == 192 && o[1] == 0 && o[2] == 0)
                || (o[0] == 198 && (o[1] & 0xfe) == 18)
                || o[0] >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let s = v6.segments();
            // Only 2000::/3 is global unicast; within it, documentation
            // (2001:db8::/32, 3fff::/20) and IETF special use (2001::/23).
            (s[0] & 0xe000) == 0x2000
                && !(s[0] == 0x2001 && s[1] == 0x0db8)
                && !(s[0] == 0x2001 && s[1] < 0x0200)
                && !(s[0] == 0x3fff && s[1] < 0x1000)
        }
    }
}

/// An address (or CIDR range) in one token such as "IP:193.226.1.10",
/// "10.0.0.1:443," or "2001:db8::1".
fn ip_in_token(tok: &str) -> Option<(IpAddr, Option<u8>)> {
    let t = tok.trim_matches(|c: char| matches!(c, '.' | ',' | ';'));
    // A label glued on with a colon ("IP:", "IPv6:") — not hex digits.
    let t = match t.split_once(':') {
        Some((label, rest))
            if label.chars().any(|c| c.is_ascii_alphabetic())
                && label.chars().any(|c| !c.is_ascii_hexdigit()) =>
        {
            rest
        }
        _ => t,
    };
    let (addr, bits) = match t.split_once('/') {
        Some((a, b)) => (a, Some(b.parse::<u8>().ok()?)),
        None => (t, None),
    };
    let addr = addr.split('%').next().unwrap_or(addr);
    let ip = if addr.matches(':').count() >= 2
        && let Ok(v6) = addr.parse::<Ipv6Addr>()
    {
        IpAddr::V6(v6)
    } else if let Ok(v4) = addr.parse::<Ipv4Addr>() {
        IpAddr::V4(v4)
    } else {
        let (a, port) = addr.rsplit_once(':')?;
        if port.is_empty() || !port.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        IpAddr::V4(a.parse::<Ipv4Addr>().ok()?)
    };
    let max = if ip.is_ipv4() { 32 } else { 128 };
    match bits {
        Some(b) if b > max => None,
        Some(b) if b == max => Some((ip, None)),
        b => Some((ip, b)),
    }
}

fn read_ips(lines: &[Line<'_>], options: &Options, out: &mut Extracted) {
    let allowed: Vec<(IpAddr, u8)> = options
        .allowed_private_ranges
        .iter()
        .filter_map(|r| parse_range(r))
        .collect();
    for l in lines {
        for ws in l.body.split_whitespace() {
            // An address inside a URL is a host, not an MSign client address.
            if ws.contains("://") || ws.contains('@') {
                continue;
            }
            for tok in ws.split(|c: char| ",;()[]<>\"'«»„“”|".contains(c)) {
                let Some((ip, bits)) = ip_in_token(tok) else {
                    continue;
                };
                let shown = match bits {
                    Some(b) => format!("{ip}/{b}"),
                    None => ip.to_string(),
                };
                if out.request.ip_addresses.contains(&shown) {
                    continue;
                }
                if !is_public(ip) && !allowed.iter().any(|r| in_range(ip, *r)) {
                    out.problems.push(problem(IP_NOT_PUBLIC, &shown, None));
                }
                out.request.ip_addresses.push(shown);
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Institution named in prose

/// Words that start the name of a public body.
#[rustfmt::skip]
const BODY_STARTS: &[&str] = &[
    "primaria", "ministerul", "agentia", "inspectoratul", "serviciul", "cancelaria", "consiliul",
    "biroul", "centrul", "casa", "oficiul", "directia", "autoritatea", "institutul",
    "universitatea", "curtea", "judecatoria", "procuratura", "comisia", "departamentul",
    "administratia", "institutia", "intreprinderea", "министерство", "агентство", "служба",
    "инспекция", "инспекторат", "примэрия", "мэрия", "канцелярия", "ministry",
];
/// English names put the kind of body last: "Public Services Agency".
#[rustfmt::skip]
const BODY_ENDS: &[&str] = &[
    "agency", "inspectorate", "council", "chancellery", "authority", "office", "hall", "bureau",
    "centre", "center", "municipality", "university", "court", "service", "bank",
];
const CONNECTORS: &[&str] = &[
    "de", "a", "al", "ale", "si", "pentru", "din", "cu", "la", "in", "of", "for", "and", "и", "по",
    "для",
];
#[rustfmt::skip]
const ADMIN_WORDS: &[&str] = &[
    "orasului", "municipiului", "satului", "comunei", "raionului", "or.", "mun.", "s.", "com.",
    "r-nul", "r.", "города", "района", "села", "г.", "city",
];
/// Words before a company name that are not part of it.
#[rustfmt::skip]
const GENERIC: &[&str] = &[
    "compania", "company", "firma", "firm", "компания", "фирма", "организация", "предприятие",
    "beneficiarul", "beneficiar", "dear", "hello",
];
/// AGE and its services are named in many requests; they are never the sender.
#[rustfmt::skip]
const NOT_THE_SENDER: &[&str] = &[
    "guvernare electronic", "e-governance", "egov", "электронного управления", "mpass", "msign",
    "securitate cibernetic",
];

fn core(tok: &str) -> &str {
    tok.trim_matches(|c: char| !c.is_alphanumeric())
}

fn ends_clause(tok: &str) -> bool {
    !ADMIN_WORDS.contains(&fold(tok).as_str()) && tok.ends_with([',', '.', ';', ':', '!', '?', ')'])
}

fn capitalised(tok: &str) -> bool {
    tok.trim_start_matches(OPEN_QUOTES)
        .chars()
        .next()
        .is_some_and(|c| c.is_uppercase() || c.is_ascii_digit())
}

/// Russian names run on in lowercase ("Министерство финансов") until a verb.
fn russian_continues(word: &str) -> bool {
    let w = fold(word);
    let stop = [
        "просит",
        "просим",
        "обращается",
        "направляет",
        "хочет",
        "хотела",
        "хотел",
        "планирует",
        "сообщает",
        "запрашивает",
        "подает",
        "подаёт",
        "является",
        "будет",
        "с",
        "в",
        "на",
        "к",
        "о",
        "об",
        "что",
        "который",
        "которая",
        "которое",
    ];
    w.chars().next().is_some_and(is_cyrillic)
        && !stop.contains(&w.as_str())
        && !w.ends_with("ся")
        && !(w.chars().count() >= 6 && (w.ends_with("ет") || w.ends_with("ит")))
}

fn legal_form(tok: &str) -> Option<bool> {
    let c = tok.trim_end_matches([',', ';', ':', ')', '!', '?']);
    let letters: String = c.chars().filter(|ch| *ch != '.').collect();
    match letters.as_str() {
        "SRL" | "SA" | "ÎS" | "ÎI" | "ÎCS" | "ICS" | "ООО" | "АО" | "ОАО" | "ЗАО" | "ИП"
        | "LLC" | "Ltd" | "LTD" | "JSC" | "GmbH" | "Inc" | "INC" => Some(false),
        // Too common as plain words ("adresa IP"): only before a quoted name.
        "IP" | "IS" => Some(true),
        _ => None,
    }
}

fn institution_in(line: &str) -> Option<String> {
    let toks: Vec<&str> = line.split_whitespace().collect();
    let mut best: Option<(usize, String)> = None;
    let mut consider = |start: usize, name: Vec<&str>| {
        let text = name.join(" ");
        let f = fold(&text);
        if name.len() >= 2
            && !NOT_THE_SENDER.iter().any(|x| f.contains(x))
            && best.as_ref().is_none_or(|b| start < b.0)
        {
            best = Some((start, text));
        }
    };
    for (t, tok) in toks.iter().enumerate() {
        let word = fold(core(tok));
        // "Primăria orașului Ialoveni", "Ministerul Educației și Cercetării".
        let city_hall = word == "city" && toks.get(t + 1).is_some_and(|n| fold(core(n)) == "hall");
        if capitalised(tok) && (BODY_STARTS.contains(&word.as_str()) || city_hall) {
            let russian = core(tok).chars().next().is_some_and(is_cyrillic);
            let mut name = vec![*tok];
            let mut k = t;
            while !ends_clause(toks[k]) && name.len() < 10 {
                k += 1;
                let Some(next) = toks.get(k) else { break };
                let w = fold(core(next));
                let fits = (!core(next).is_empty() && capitalised(next))
                    || CONNECTORS.contains(&w.as_str())
                    || ADMIN_WORDS.contains(&fold(next).as_str())
                    || ADMIN_WORDS.contains(&w.as_str())
                    || (russian && russian_continues(core(next)));
                if !fits {
                    break;
                }
                name.push(next);
            }
            while name.len() > 1 && {
                let w = fold(core(name[name.len() - 1]));
                CONNECTORS.contains(&w.as_str()) || ADMIN_WORDS.contains(&w.as_str())
            } {
                name.pop();
            }
            consider(t, name);
        }
        // "Public Services Agency".
        if capitalised(tok) && BODY_ENDS.contains(&word.as_str()) && !word.is_empty() {
            let mut start = t;
            while start > 0 && t - start < 8 {
                let prev = toks[start - 1];
                let w = fold(core(prev));
                let article = matches!(
                    w.as_str(),
                    "the" | "a" | "an" | "our" | "we" | "dear" | "this" | "from"
                );
                if ends_clause(prev)
                    || article
                    || !(capitalised(prev) || matches!(w.as_str(), "of" | "for" | "and"))
                {
                    break;
                }
                start -= 1;
            }
            while start < t && !capitalised(toks[start]) {
                start += 1;
            }
            if start < t {
                consider(start, toks[start..=t].to_vec());
            }
        }
        // "MedTech SRL", "SRL „Alfa Soft”", "ООО «Альфа»".
        if let Some(needs_quote) = legal_form(tok) {
            let quoted_after = toks.get(t + 1).is_some_and(|n| n.starts_with(OPEN_QUOTES));
            // The form's own dots ("Î.S.") do not end the clause.
            if quoted_after && !tok.ends_with([',', ';', ':', '!', '?', ')']) {
                let mut name = vec![*tok];
                for n in toks.iter().skip(t + 1).take(8) {
                    name.push(n);
                    let end = n.trim_end_matches([',', '.', ';', ':', ')']);
                    if end.chars().count() > 1 && end.ends_with(CLOSE_QUOTES) {
                        break;
                    }
                }
                consider(t, name);
            } else if !needs_quote {
                let mut start = t;
                while start > 0 && t - start < 6 {
                    let prev = toks[start - 1];
                    let w = fold(core(prev));
                    let fits = capitalised(prev) || prev.starts_with(OPEN_QUOTES) || prev == "&";
                    if ends_clause(prev) || !fits || GENERIC.contains(&w.as_str()) {
                        break;
                    }
                    start -= 1;
                }
                if start < t {
                    consider(start, toks[start..=t].to_vec());
                }
            }
        }
    }
    best.map(|(_, name)| name)
}

/// The institution named in running text or, last, in the signature.
fn institution_from_prose(lines: &[Line<'_>], used: &[bool]) -> Option<String> {
    for in_signature in [false, true] {
        for (l, _) in lines
            .iter()
            .zip(used)
            .filter(|(l, u)| l.signature == in_signature && !**u)
        {
            if let Some(name) = institution_in(l.body).and_then(|n| clean(&n)) {
                return Some(name);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str) -> Extracted {
        extract(text, &Options::default())
    }

    fn s(v: &str) -> Option<String> {
        Some(v.to_string())
    }

    fn codes(e: &Extracted) -> Vec<(&str, &str)> {
        e.problems
            .iter()
            .map(|p| (p.code.as_str(), p.value.as_deref().unwrap_or("")))
            .collect()
    }

    #[test]
    fn romanian_request_from_the_procedure_template() {
        let e = run("Solicitare de integrare cu MPass\n\
            Bună ziua,\n\n\
            Prin prezenta, solicităm integrarea sistemului nostru cu serviciul MPass.\n\n\
            • Denumirea instituției sau companiei, care solicită integrarea: Primăria orașului Ialoveni\n\
            • IDNO-ul instituției sau a companiei: 1008600038413\n\
            • Denumirea sistemului/produsului informațional: Registrul electronic al cererilor cetățenilor\n\
            • Descrierea succintă a sistemului/produsului informațional: Sistemul permite depunerea online a cererilor și urmărirea statutului acestora.\n\
            • Alte informații/date relevante: -\n\n\
            Cu stimă,\n\
            Ion Popescu\n\
            Primar, Primăria orașului Ialoveni\n\
            tel. 0268 2 22 22\n");
        let r = &e.request;
        assert_eq!(r.institution, s("Primăria orașului Ialoveni"));
        assert_eq!(r.idno, s("1008600038413"));
        assert_eq!(r.idno_valid, Some(true));
        assert_eq!(
            r.system_name,
            s("Registrul electronic al cererilor cetățenilor")
        );
        assert_eq!(
            r.system_description,
            s("Sistemul permite depunerea online a cererilor și urmărirea statutului acestora")
        );
        assert_eq!(r.environment, None);
        assert_eq!(r.service_name_ro, None);
        assert!(r.ip_addresses.is_empty() && r.attributes.is_empty());
        assert_eq!(e.problems, vec![]);
    }

    #[test]
    fn romanian_without_diacritics_sloppy_and_wrapped() {
        let e = run("Buna ziua,\n\
            DENUMIREA INSTITUTIEI :  Agentia Servicii Publice\n\
            IDNO :1003600005148\n\
            Denumirea sistemului - Sistemul informational „e-Cerere”\n\
            Descriere:\n\
            Sistemul gestioneaza cererile de eliberare a actelor de identitate si\n\
            permite plata online a serviciilor.\n\
            Multumesc,\n\
            Vasile Rusu\n\
            Sef sectie IT\n");
        let r = &e.request;
        assert_eq!(r.institution, s("Agentia Servicii Publice"));
        assert_eq!(r.idno, s("1003600005148"));
        assert_eq!(r.idno_valid, Some(true));
        assert_eq!(r.system_name, s("Sistemul informational „e-Cerere”"));
        assert_eq!(
            r.system_description,
            s(
                "Sistemul gestioneaza cererile de eliberare a actelor de identitate si permite plata online a serviciilor"
            )
        );
        assert_eq!(e.problems, vec![]);
    }

    #[test]
    fn cedillas_value_on_next_line_and_quotes() {
        let e = run("Denumirea instituţiei:\n\
            \n\
            Întreprinderea de Stat „Centrul de Telecomunicaţii Speciale”\n\
            Cod fiscal\n\
            1002600012347\n\
            Sistemul informaţional: „e-Arhivă”\n\
            Descrierea succintă: Arhivarea electronică a documentelor instituţiei.\n");
        let r = &e.request;
        assert_eq!(
            r.institution,
            s("Întreprinderea de Stat „Centrul de Telecomunicaţii Speciale”")
        );
        assert_eq!(r.idno, s("1002600012347"));
        assert_eq!(r.idno_valid, Some(true));
        assert_eq!(r.system_name, s("e-Arhivă"));
        assert_eq!(
            r.system_description,
            s("Arhivarea electronică a documentelor instituţiei")
        );
    }

    #[test]
    fn russian_request() {
        let e = run("Добрый день!\n\
            Просим подключить нашу информационную систему к MPass.\n\
            Наименование учреждения/организации/компании: Министерство финансов Республики Молдова\n\
            Код фискальный: 1003600011118\n\
            Наименование информационной системы: «Электронный бюджет»\n\
            Описание: Система планирования и исполнения государственного бюджета.\n\
            С уважением,\n\
            Иван Иванов\n\
            Министерство финансов\n");
        let r = &e.request;
        assert_eq!(r.institution, s("Министерство финансов Республики Молдова"));
        assert_eq!(r.idno, s("1003600011118"));
        assert_eq!(r.system_name, s("Электронный бюджет"));
        assert_eq!(
            r.system_description,
            s("Система планирования и исполнения государственного бюджета")
        );
    }

    #[test]
    fn english_request_institution_from_prose_signature_not_swallowed() {
        let e = run("Integration request MSign\n\
            Dear AGE team,\n\
            We are writing on behalf of FinTech Solutions SRL to request integration with MSign.\n\
            Fiscal code: 1008600038413\n\
            System name: PayDesk\n\
            Short description: Online invoicing platform for small businesses\n\
            Regards,\n\
            John Smith\n\
            CTO\n");
        let r = &e.request;
        assert_eq!(r.institution, s("FinTech Solutions SRL"));
        assert_eq!(r.idno, s("1008600038413"));
        assert_eq!(r.system_name, s("PayDesk"));
        assert_eq!(
            r.system_description,
            s("Online invoicing platform for small businesses")
        );
    }

    #[test]
    fn mixed_romanian_and_russian() {
        let e = run("Buna ziua / Добрый день,\n\
            Denumirea companiei / Название организации: MedTech SRL\n\
            IDNO / ИДНО: 1013600044445\n\
            Название системы: MedCard\n\
            Descrierea sistemului: Fișa medicală electronică a pacientului\n");
        let r = &e.request;
        assert_eq!(r.institution, s("MedTech SRL"));
        assert_eq!(r.idno, s("1013600044445"));
        assert_eq!(r.system_name, s("MedCard"));
        assert_eq!(
            r.system_description,
            s("Fișa medicală electronică a pacientului")
        );
    }

    #[test]
    fn full_mpass_test_registration() {
        let e = run("Înregistrare serviciu MPass pe mediul de test\n\
            Bună ziua,\n\
            Vă rugăm să înregistrați serviciul nostru pe mediul de test MPass.\n\n\
            Denumirea serviciului:\n\
            RO: Registrul cererilor online\n\
            RU: Реестр онлайн-заявлений\n\
            EN: Online Applications Register\n\n\
            Descrierea serviciului: Permite cetățenilor să depună cereri online către primărie.\n\n\
            Adresa unde se transmite LogoutRequest: https://cereri.ialoveni.md/mpass/logout\n\
            Adresa unde se transmite LogoutResponse: https://cereri.ialoveni.md/mpass/logout-response\n\n\
            Atributele solicitate:\n\
            - FirstName\n\
            - LastName\n\
            - Email\n\
            - IDNP\n\
            - BirthDate\n\n\
            Certificatul (partea publică) este atașat.\n\n\
            Cu stimă,\n\
            Ana Ciobanu\n");
        let r = &e.request;
        assert_eq!(r.environment, Some(Environment::Test));
        assert_eq!(r.service_name_ro, s("Registrul cererilor online"));
        assert_eq!(r.service_name_ru, s("Реестр онлайн-заявлений"));
        assert_eq!(r.service_name_en, s("Online Applications Register"));
        assert_eq!(
            r.service_description,
            s("Permite cetățenilor să depună cereri online către primărie")
        );
        assert_eq!(r.system_description, None);
        assert_eq!(
            r.logout_request_url,
            s("https://cereri.ialoveni.md/mpass/logout")
        );
        assert_eq!(
            r.logout_response_url,
            s("https://cereri.ialoveni.md/mpass/logout-response")
        );
        assert_eq!(r.attributes, vec!["FirstName", "LastName", "BirthDate"]);
        assert_eq!(
            e.problems,
            vec![
                problem(ATTRIBUTE_UNKNOWN, "Email", Some("EmailAddress")),
                problem(ATTRIBUTE_UNKNOWN, "IDNP", Some("NameIdentifier")),
            ]
        );
    }

    #[test]
    fn full_msign_production_registration() {
        let e = run("Bună ziua,\n\
            Solicităm înregistrarea serviciului pe mediul de producție MSign.\n\
            1. Denumirea serviciului (ro/ru/en): Semnarea contractelor / Подписание договоров / Contract signing\n\
            2. Descrierea într-o frază: Semnarea electronică a contractelor de achiziții.\n\
            3. Adresele IP ale serviciului: 193.226.64.10, 192.168.1.10, 2a02:2f0e:1:2::10\n\
            4. Tipul semnatarului: persoane fizice și juridice\n\
            --\n\
            Departamentul IT\n");
        let r = &e.request;
        assert_eq!(r.environment, Some(Environment::Production));
        assert_eq!(r.service_name_ro, s("Semnarea contractelor"));
        assert_eq!(r.service_name_ru, s("Подписание договоров"));
        assert_eq!(r.service_name_en, s("Contract signing"));
        assert_eq!(
            r.service_description,
            s("Semnarea electronică a contractelor de achiziții")
        );
        assert_eq!(
            r.ip_addresses,
            vec!["193.226.64.10", "192.168.1.10", "2a02:2f0e:1:2::10"]
        );
        assert_eq!(r.signer_type, Some(SignerType::Both));
        assert_eq!(codes(&e), vec![(IP_NOT_PUBLIC, "192.168.1.10")]);
    }

    #[test]
    fn allowed_private_ranges_are_not_problems() {
        let options = Options {
            allowed_private_ranges: vec!["10.20.0.0/16".into(), "fd00::/8".into()],
        };
        let e = extract("IP: 10.20.5.1, 10.21.0.1, fd00::5, 8.8.8.8", &options);
        assert_eq!(
            e.request.ip_addresses,
            vec!["10.20.5.1", "10.21.0.1", "fd00::5", "8.8.8.8"]
        );
        assert_eq!(codes(&e), vec![(IP_NOT_PUBLIC, "10.21.0.1")]);
    }

    #[test]
    fn ip_table() {
        for (text, ips, flagged) in [
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
        ] {
            let e = run(text);
            assert_eq!(e.request.ip_addresses, ips, "{text}");
            let got: Vec<&str> = e
                .problems
                .iter()
                .filter_map(|p| p.value.as_deref())
                .collect();
            assert_eq!(got, flagged, "{text}");
        }
    }

    #[test]
    fn idno_table() {
        for (text, idno, valid, problems) in [
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
                vec![(IDNO_INVALID, "1008600038412")],
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
                vec![(IDNO_INVALID, "1008600038412")],
            ),
            // IDNP only: flagged, never the IDNO.
            (
                "Solicit integrarea. IDNP: 2002001234563",
                None,
                None,
                vec![(IDNP_NOT_IDNO, "2002001234563")],
            ),
            (
                "ИДНП 2002001234563",
                None,
                None,
                vec![(IDNP_NOT_IDNO, "2002001234563")],
            ),
            (
                "personal number: 0990001234561",
                None,
                None,
                vec![(IDNP_NOT_IDNO, "0990001234561")],
            ),
            (
                "IDNO: 2002001234563",
                None,
                None,
                vec![(IDNP_NOT_IDNO, "2002001234563")],
            ),
            (
                "Vă scriu, 2002001234563",
                None,
                None,
                vec![(IDNP_NOT_IDNO, "2002001234563")],
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
                vec![(IDNO_INVALID, "100860003841")],
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
        ] {
            let e = run(text);
            assert_eq!(e.request.idno, idno, "{text}");
            assert_eq!(e.request.idno_valid, valid, "{text}");
            assert_eq!(codes(&e), problems, "{text}");
        }
    }

    #[test]
    fn logout_url_table() {
        let same = "LogoutRequest: https://a.md/logout\nLogoutResponse: aceeași";
        for (text, req, resp, problems) in [
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
                vec![(URL_NOT_HTTPS, "http://portal.md/logout")],
            ),
            (
                "LogoutRequest: https://localhost:8443/logout\nLogoutResponse: http://127.0.0.1/lo",
                s("https://localhost:8443/logout"),
                s("http://127.0.0.1/lo"),
                vec![
                    (URL_LOCALHOST, "https://localhost:8443/logout"),
                    (URL_NOT_HTTPS, "http://127.0.0.1/lo"),
                    (URL_LOCALHOST, "http://127.0.0.1/lo"),
                ],
            ),
            (
                "LogoutRequest: https://app.local/lo, LogoutResponse: https://[::1]/lo",
                s("https://app.local/lo"),
                s("https://[::1]/lo"),
                vec![
                    (URL_LOCALHOST, "https://app.local/lo"),
                    (URL_LOCALHOST, "https://[::1]/lo"),
                ],
            ),
            (
                "LogoutRequest: /mpass/logout",
                s("/mpass/logout"),
                None,
                vec![(URL_NOT_HTTPS, "/mpass/logout")],
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
                    (URL_NOT_HTTPS, "localhost:8080/logout"),
                    (URL_LOCALHOST, "localhost:8080/logout"),
                ],
            ),
            (
                "Logout URL: www.portal.md/logout",
                s("www.portal.md/logout"),
                s("www.portal.md/logout"),
                vec![(URL_NOT_HTTPS, "www.portal.md/logout")],
            ),
        ] {
            let e = run(text);
            assert_eq!(e.request.logout_request_url, req, "{text}");
            assert_eq!(e.request.logout_response_url, resp, "{text}");
            assert_eq!(codes(&e), problems, "{text}");
        }
    }

    #[test]
    fn attribute_lists() {
        let e = run(
            "Atributele necesare: NameIdentifier, first name; Last_Name, EmailAdress, Cetățenie",
        );
        assert_eq!(
            e.request.attributes,
            vec!["NameIdentifier", "FirstName", "LastName"]
        );
        assert_eq!(
            e.problems,
            vec![
                problem(ATTRIBUTE_UNKNOWN, "EmailAdress", Some("EmailAddress")),
                Problem {
                    code: ATTRIBUTE_UNKNOWN.into(),
                    value: s("Cetățenie"),
                    suggestion: None
                },
            ]
        );

        let e = run("Атрибуты:\n1. Имя\n2. Фамилия\n3. Дата рождения\n4. IDNO\n\nСпасибо!");
        assert_eq!(e.request.attributes, vec!["IDNO"]);
        let suggestions: Vec<_> = e
            .problems
            .iter()
            .map(|p| p.suggestion.as_deref().unwrap_or(""))
            .collect();
        assert_eq!(suggestions, vec!["FirstName", "LastName", "BirthDate"]);

        let e = run(
            "Requested attributes:\n* FirstName (prenumele)\n* Prenume - LastName\n* Telefon\n* CompanyName\nThank you",
        );
        assert_eq!(
            e.request.attributes,
            vec!["FirstName", "LastName", "CompanyName"]
        );
        assert_eq!(
            e.problems,
            vec![problem(ATTRIBUTE_UNKNOWN, "Telefon", Some("MobilePhone"))]
        );

        // Attribute names in prose, without an attributes label, are not a list.
        let e = run("Avem nevoie de FirstName si Email pentru profil.");
        assert!(e.request.attributes.is_empty() && e.problems.is_empty());

        // The list ends at prose and at the next label.
        let e = run("Atribute:\nFirstName\nLastName\nLogoutRequest: https://a.md/lo\nGender");
        assert_eq!(e.request.attributes, vec!["FirstName", "LastName"]);
        let e = run(
            "Atributele returnate după autentificare (conform ghidului de integrare):\nNume, prenume, IDNP, data nașterii",
        );
        assert!(e.request.attributes.is_empty());
        let suggestions: Vec<_> = e
            .problems
            .iter()
            .map(|p| p.suggestion.as_deref().unwrap_or(""))
            .collect();
        assert_eq!(
            suggestions,
            vec!["LastName", "FirstName", "NameIdentifier", "BirthDate"]
        );
    }

    #[test]
    fn attribute_matching_table() {
        for (written, want) in [
            ("FirstName", AttributeMatch::Exact("FirstName")),
            ("firstname", AttributeMatch::Exact("FirstName")),
            ("First Name", AttributeMatch::Exact("FirstName")),
            ("mobile_phone", AttributeMatch::Exact("MobilePhone")),
            ("idno", AttributeMatch::Exact("IDNO")),
            ("Email", AttributeMatch::Near("EmailAddress")),
            ("E-mail", AttributeMatch::Near("EmailAddress")),
            ("mail", AttributeMatch::Near("EmailAddress")),
            ("IDNP", AttributeMatch::Near("NameIdentifier")),
            ("personal code", AttributeMatch::Near("NameIdentifier")),
            ("CNP", AttributeMatch::Near("NameIdentifier")),
            ("Phone", AttributeMatch::Near("MobilePhone")),
            ("Name", AttributeMatch::Near("FirstName")),
            ("Surname", AttributeMatch::Near("LastName")),
            ("Nume", AttributeMatch::Near("LastName")),
            ("Фамилия", AttributeMatch::Near("LastName")),
            ("DateOfBirth", AttributeMatch::Near("BirthDate")),
            ("Data nașterii", AttributeMatch::Near("BirthDate")),
            ("Data naşterii", AttributeMatch::Near("BirthDate")),
            ("Sex", AttributeMatch::Near("Gender")),
            ("Company", AttributeMatch::Near("CompanyName")),
            ("FristName", AttributeMatch::Near("FirstName")),
            ("BirthDat", AttributeMatch::Near("BirthDate")),
            ("IsResidnt", AttributeMatch::Near("IsResident")),
            ("Adresa", AttributeMatch::Unknown),
            ("Cetățenie", AttributeMatch::Unknown),
        ] {
            assert_eq!(match_attribute(written), want, "{written}");
        }
    }

    #[test]
    fn signer_type_table() {
        for (text, want) in [
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
        ] {
            assert_eq!(run(text).request.signer_type, want, "{text}");
        }
    }

    #[test]
    fn environment_table() {
        for (text, want) in [
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
        ] {
            assert_eq!(run(text).request.environment, want, "{text}");
        }
    }

    #[test]
    fn tables_from_outlook_and_documents() {
        let e = run("Denumirea instituției | Primăria satului Bubuieci |\n\
            IDNO | 1007601001234 |\n\
            Denumirea sistemului\tSIA Evidența Populației Locale\n\
            Descrierea succintă\tEvidența locuitorilor satului\n");
        let r = &e.request;
        assert_eq!(r.institution, s("Primăria satului Bubuieci"));
        assert_eq!(r.idno, s("1007601001234"));
        assert_eq!(r.idno_valid, Some(idno::is_valid("1007601001234")));
        assert_eq!(r.system_name, s("SIA Evidența Populației Locale"));
        assert_eq!(r.system_description, s("Evidența locuitorilor satului"));

        // A table turned into one cell per line (docx/odt extraction).
        let e = run(
            "Denumirea instituției\nAgenția Servicii Publice\nIDNO\n1003600005148\nDenumirea sistemului\nRegistrul de stat al populației\n",
        );
        let r = &e.request;
        assert_eq!(r.institution, s("Agenția Servicii Publice"));
        assert_eq!(r.idno, s("1003600005148"));
        assert_eq!(r.system_name, s("Registrul de stat al populației"));

        // Columns separated by runs of spaces.
        let e = run("Company name      Alfa Soft SRL\nSystem name       AlfaDocs");
        assert_eq!(e.request.institution, s("Alfa Soft SRL"));
        assert_eq!(e.request.system_name, s("AlfaDocs"));
    }

    #[test]
    fn label_variants_table() {
        for (text, institution, system) in [
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
        ] {
            let r = run(text).request;
            assert_eq!(r.institution, institution, "{text}");
            assert_eq!(r.system_name, system, "{text}");
        }
    }

    #[test]
    fn institution_from_prose_table() {
        for (text, want) in [
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
        ] {
            assert_eq!(run(text).request.institution, want, "{text}");
        }
    }

    #[test]
    fn institution_in_signature_is_the_last_resort() {
        let e = run(
            "Bună ziua,\nVă transmitem cererea atașată.\nCu stimă,\nIon Popescu\nPrimăria or. Ialoveni\n",
        );
        assert_eq!(e.request.institution, s("Primăria or. Ialoveni"));
        let e = run("Vă scrie Alfa Soft SRL.\nCu stimă,\nIon\nPrimăria or. Ialoveni\n");
        assert_eq!(e.request.institution, s("Alfa Soft SRL"));
    }

    #[test]
    fn service_names_in_many_shapes() {
        let cases: &[(&str, [Option<&str>; 3])] = &[
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
        for (text, [ro, ru, en]) in cases {
            let r = run(text).request;
            assert_eq!(r.service_name_ro.as_deref(), *ro, "{text}");
            assert_eq!(r.service_name_ru.as_deref(), *ru, "{text}");
            assert_eq!(r.service_name_en.as_deref(), *en, "{text}");
        }
    }

    #[test]
    fn descriptions_follow_their_heading() {
        let e = run("Serviciul\nDenumire: Programări\nDescriere: Programarea online la medic\n");
        assert_eq!(e.request.service_name_ro, s("Programări"));
        assert_eq!(
            e.request.service_description,
            s("Programarea online la medic")
        );
        assert_eq!(e.request.system_description, None);
        let e = run("Serviciul: MPass\nDenumire: SIRSA");
        assert_eq!(e.request.service_name_ro, None);
        let e = run("Denumirea serviciului: Programări\nDescriere: Programarea online la medic\n");
        assert_eq!(
            e.request.service_description,
            s("Programarea online la medic")
        );
        assert_eq!(e.request.system_description, None);
        let e = run("Sistemul informațional:\nDenumire: SIRSA\nDescriere: Registrul sanitar\n");
        assert_eq!(e.request.system_name, s("SIRSA"));
        assert_eq!(e.request.system_description, s("Registrul sanitar"));
        let e = run("Описание услуги: Запись на приём\nService description: ignored, first wins");
        assert_eq!(e.request.service_description, s("Запись на приём"));
        // Contact details are not the institution's name.
        let e =
            run("Instituția\nDenumire: Primăria Hîncești\nPersoana de contact:\nNume: Ion Rusu\n");
        assert_eq!(e.request.institution, s("Primăria Hîncești"));
    }

    #[test]
    fn signatures_do_not_leak_into_values() {
        for sig in [
            "--\nIon Popescu\nDirector",
            "Cu stimă,\nIon Popescu\nDirector",
            "Cu stima, Ion Popescu",
            "С уважением,\nИван Петров",
            "Regards,\nJohn",
            "Best regards\nJohn Smith, CTO",
            "Ion Popescu\nDirector",
        ] {
            let text = format!("Descrierea sistemului: Evidența contractelor de arendă.\n{sig}\n");
            let e = run(&text);
            assert_eq!(
                e.request.system_description,
                s("Evidența contractelor de arendă"),
                "{sig}"
            );
            let text =
                format!("Descriere:\nSistem pentru evidența contractelor de arendă\n{sig}\n");
            let e = run(&text);
            assert_eq!(
                e.request.system_description,
                s("Sistem pentru evidența contractelor de arendă"),
                "{sig}"
            );
        }
    }

    #[test]
    fn values_are_cleaned_and_capped() {
        let e = run("Denumirea sistemului: «SIA Registrul»;\nDescriere: „Un sistem.”");
        assert_eq!(e.request.system_name, s("SIA Registrul"));
        assert_eq!(e.request.system_description, s("Un sistem"));
        let long = "x".repeat(500);
        let e = run(&format!("Descriere: {long}"));
        assert_eq!(
            e.request.system_description.map(|d| d.chars().count()),
            Some(MAX_CHARS)
        );
        let e = run("Denumirea sistemului: -\nDescriere: N/A");
        assert_eq!(e.request.system_name, None);
        assert_eq!(e.request.system_description, None);
        assert_eq!(
            run("Compania: Alfa S.R.L.").request.institution,
            s("Alfa S.R.L.")
        );
    }

    #[test]
    fn nothing_is_invented() {
        for text in [
            "",
            "Bună ziua,\nVă mulțumim pentru răspuns.\nCu stimă,\nIon",
            "Vă transmitem acordul semnat.",
            "OK",
            "Denumirea instituției:\n\nIDNO:\n",
        ] {
            let e = run(text);
            assert_eq!(e.request, Request::default(), "{text}");
            assert!(e.problems.is_empty(), "{text}");
        }
    }

    #[test]
    fn quoted_history_that_slipped_through_is_ignored() {
        let e = run(
            "Atașăm acordul.\nOn Mon, 2 Feb 2026, AGE <office@egov.md> wrote:\nIDNO: 1008600038413",
        );
        assert_eq!(e.request.idno, None);
    }

    #[test]
    fn large_input_stays_linear() {
        // Keyword-dense garbage, as lines and as one line (PDF text often has
        // no line breaks): every scanner must stay linear, values capped.
        let mut big = String::new();
        for k in 0..3000 {
            big.push_str(&format!(
                "Linia {k}: Denumirea instituției: Primăria {k} AGENCY OFFICE Hall SRL 10.0.{}.1 \
                 https://x.md/logout LogoutRequest IDNO 1008600038413 semnatari fizice Atribute: Email\n",
                k % 250
            ));
        }
        let one_line = big.replace('\n', " ");
        for text in [&big, &one_line] {
            let start = std::time::Instant::now();
            let e = run(text);
            assert_eq!(e.request.idno, s("1008600038413"));
            assert_eq!(e.request.ip_addresses.len(), 250);
            assert!(
                e.request
                    .institution
                    .is_some_and(|i| i.chars().count() <= MAX_CHARS)
            );
            // Generous even for an unoptimised build on a busy machine.
            assert!(
                start.elapsed() < std::time::Duration::from_secs(20),
                "{:?}",
                start.elapsed()
            );
        }
    }

    #[test]
    fn helpers() {
        for (line, body, bulleted) in [
            ("• item", "item", true),
            ("- item", "item", true),
            ("-item", "-item", false),
            ("1. item", "item", true),
            ("2) item", "item", true),
            ("1.2. item", "item", true),
            ("a) item", "item", true),
            ("(3) item", "item", true),
            ("| cell | value |", "cell | value", false),
            ("1008600038413. item", "1008600038413. item", false),
            ("10.0.0.1 x", "10.0.0.1 x", false),
        ] {
            assert_eq!(strip_bullet(line), (body, bulleted), "{line}");
        }
        for (line, yes) in [
            ("--", true),
            ("-- ", true),
            ("Cu stimă,", true),
            ("Cu stima", true),
            ("С уважением,", true),
            ("Regards,", true),
            ("Best regards, John", true),
            ("Sent from my iPhone", true),
            (
                "Cu stimă pentru colaborarea noastră îndelungată și fructuoasă de-a lungul anilor",
                false,
            ),
            ("Descriere: test", false),
        ] {
            assert_eq!(is_signoff(line), yes, "{line}");
        }
        assert_eq!(
            inline_tags("RO: A; RU: Б, EN: C"),
            vec![
                (Lang::Ro, "A".into()),
                (Lang::Ru, "Б".into()),
                (Lang::En, "C".into())
            ]
        );
        assert_eq!(
            inline_tags("(ro) A (en) C"),
            vec![(Lang::Ro, "A".into()), (Lang::En, "C".into())]
        );
        assert!(inline_tags("Servicii en: gros").is_empty());
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(fold("ȘşȚţĂÂÎ Ёж"), "ssttaai еж");
    }

    /// 100,000 dots after a value: stripping them one by one must not
    /// re-read the value each time.
    #[test]
    fn long_trailing_punctuation_is_stripped_in_one_pass() {
        let dots = ".".repeat(100_000);
        assert_eq!(strip_trailing_punct(&format!("Primăria{dots}")), "Primăria");
        assert_eq!(
            strip_trailing_punct("Î.S. \"Alfa\" S.R.L.,;"),
            "Î.S. \"Alfa\" S.R.L."
        );
        assert_eq!(
            strip_trailing_punct("Instituția Publică..."),
            "Instituția Publică"
        );
        let text = format!("Instituția: Primăria{dots}\nIDNO: 1003600005148");
        let out = extract(&text, &Options::default());
        assert_eq!(out.request.institution.as_deref(), Some("Primăria"));
    }
}
