//! The MPass attributes a service asks for, matched against the names MPass
//! registers; near misses ("Email", "IDNP") come back with a suggestion.

use super::labels::{Field, label_of};
use super::lines::{Line, strip_bullet};
use super::text::{
    fold, problem, split_outside_parens, strip_quotes, strip_trailing_punct, word_count,
};
use super::{Extracted, MPASS_ATTRIBUTES};
use crate::domain::ProblemCode;

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
    ("idnpul", "NameIdentifier"),
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
    ("sexul", "Gender"),
    ("genul", "Gender"),
    ("gender", "Gender"),
    ("datadenastere", "BirthDate"),
    ("birthdate", "BirthDate"),
    ("признакрезидентства", "IsResident"),
    ("резидентство", "IsResident"),
    ("statutderezident", "IsResident"),
    ("statutulderezident", "IsResident"),
    ("residency", "IsResident"),
    ("residentstatus", "IsResident"),
    ("управляемоеюридическоелицо", "AdministeredLegalEntity"),
    ("persoanajuridicaadministrata", "AdministeredLegalEntity"),
    ("administeredcompany", "AdministeredLegalEntity"),
    ("numarultelefon", "MobilePhone"),
    ("numaruldetelefon", "MobilePhone"),
    ("numardetelefon", "MobilePhone"),
    ("номертелефона", "MobilePhone"),
    ("emailaddress", "EmailAddress"),
    ("adresadepostaelectronica", "EmailAddress"),
    ("адресэлектроннойпочты", "EmailAddress"),
    ("firstandlastname", "FirstName"),
    ("limbadecomunicare", "Language"),
    ("limbacomunicarii", "Language"),
    ("limbainterfetei", "Language"),
    ("preferredlanguage", "Language"),
    ("языкобщения", "Language"),
    ("языкинтерфейса", "Language"),
    ("номермобильноготелефона", "MobilePhone"),
    ("мобильныйномер", "MobilePhone"),
    ("telefonulmobil", "MobilePhone"),
    ("numaruldetelefonmobil", "MobilePhone"),
    ("mobilephonenumber", "MobilePhone"),
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

/// Synonyms that, written as one capitalised word, look like an attempt
/// at the attribute's name rather than a description of it.
#[rustfmt::skip]
const NAME_LIKE: &[&str] = &[
    "email", "mail", "idnp", "cnp", "nameid", "phone", "mobile", "name", "surname", "dateofbirth",
    "birthday", "dob", "company", "lang", "sex", "tel", "telephone", "legalentity", "resident",
];

#[derive(Debug, PartialEq, Eq)]
pub(super) enum AttributeMatch {
    Exact(&'static str),
    /// The beneficiary's own words for it ("prenume", "дата рождения").
    Synonym(&'static str),
    /// A spelling close to one of the names ("FirstNme", "Email").
    Near(&'static str),
    Unknown,
}

/// Matches one attribute as written against MPass's names: exact modulo case,
/// spaces and underscores; else a known synonym or a close spelling.
pub(super) fn match_attribute(item: &str) -> AttributeMatch {
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
        // A name-like word ("Email", "IDNP") is a wrong name, not prose.
        let name_like = item.is_ascii()
            && !item.contains(char::is_whitespace)
            && item.chars().next().is_some_and(char::is_uppercase)
            && NAME_LIKE.contains(&norm.as_str());
        return if name_like {
            AttributeMatch::Near(attribute_name(a))
        } else {
            AttributeMatch::Synonym(attribute_name(a))
        };
    }
    let limit = if norm.chars().count() <= 4 { 1 } else { 2 };
    let best = MPASS_ATTRIBUTES
        .iter()
        .map(|a| (strsim::levenshtein(&norm, &a.to_lowercase()), *a))
        .chain(
            ATTRIBUTE_SYNONYMS
                .iter()
                .filter(|(s, _)| s.chars().count() >= 5)
                .map(|(s, a)| (strsim::levenshtein(&norm, s), attribute_name(a))),
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

/// Words around an attribute that are not part of its name: "the
/// preferred language", "limba preferată a utilizatorului".
#[rustfmt::skip]
const AROUND: &[&str] = &[
    "the", "a", "an", "user", "user's", "users", "preferred", "preferata", "preferată",
    "utilizatorului", "persoanei", "his", "her", "their", "its", "his/her", "also", "si", "și",
    "and", "и", "a", "предпочитаемый", "пользователя", "также",
];

fn without_fillers(item: &str) -> &str {
    let mut rest = item.trim();
    while let Some((first, after)) = rest.split_once(char::is_whitespace)
        && AROUND.contains(&fold(first).as_str())
    {
        rest = after.trim_start();
    }
    if let Some((before, last)) = rest.rsplit_once(char::is_whitespace)
        && AROUND.contains(&fold(last).as_str())
    {
        return before.trim_end();
    }
    rest
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
            let sub = strip_quotes(strip_trailing_punct(without_fillers(sub)));
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
pub(super) fn read_attributes(
    lines: &[Line<'_>],
    i: usize,
    value: &str,
    out: &mut Extracted,
) -> usize {
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
    let add = |a: &str, out: &mut Extracted| {
        if !out.request.attributes.iter().any(|x| x == a) {
            out.request.attributes.push(a.to_string());
        }
    };
    for (written, m) in items {
        match m {
            AttributeMatch::Exact(a) | AttributeMatch::Synonym(a) => add(a, out),
            // Counted as what was surely meant, and said back to the sender.
            AttributeMatch::Near(a) => {
                add(a, out);
                out.problems
                    .push(problem(ProblemCode::AttributeUnknown, &written, Some(a)))
            }
            AttributeMatch::Unknown => {
                out.problems
                    .push(problem(ProblemCode::AttributeUnknown, &written, None))
            }
        }
    }
    last
}
