//! The institution named in running text ("Primăria orașului Ialoveni
//! solicită…", "MedTech SRL", "Public Services Agency") or, last, in the
//! signature, when no label names it.

use super::lines::Line;
use super::text::{CLOSE_QUOTES, OPEN_QUOTES, clean, fold, is_cyrillic};

/// Words that start the name of a public body.
#[rustfmt::skip]
const BODY_STARTS: &[&str] = &[
    "primaria", "ministerul", "agentia", "inspectoratul", "serviciul", "cancelaria", "consiliul",
    "biroul", "centrul", "casa", "oficiul", "directia", "autoritatea", "institutul",
    "universitatea", "curtea", "judecatoria", "procuratura", "comisia", "departamentul",
    "administratia", "institutia", "intreprinderea", "biblioteca", "banca", "fondul", "academia",
    "camera", "spitalul", "colegiul", "liceul", "muzeul", "teatrul", "министерство", "агентство", "служба",
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
    "orasului", "municipiului", "satului", "comunei", "raionului", "raional", "municipal",
    "orasenesc", "satesc", "or.", "mun.", "s.", "com.",
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
    let noun = RU_BODY_NOUNS.iter().any(|n| w.starts_with(n))
        || ["совет", "комитет", "кабинет", "факультет", "бюджет"].contains(&w.as_str());
    w.chars().next().is_some_and(is_cyrillic)
        && !stop.contains(&w.as_str())
        && !w.ends_with("ся")
        && (noun || !(w.chars().count() >= 6 && (w.ends_with("ет") || w.ends_with("ит"))))
}

fn legal_form(tok: &str) -> Option<bool> {
    let c = tok.trim_end_matches([',', ';', ':', ')', '!', '?']);
    let letters: String = c.chars().filter(|ch| *ch != '.').collect();
    match letters.as_str() {
        "SRL" | "SA" | "ÎS" | "ÎI" | "ÎCS" | "ICS" | "ООО" | "АО" | "ОАО" | "ЗАО" | "ИП"
        | "LLC" | "Ltd" | "LTD" | "JSC" | "GmbH" | "Inc" | "INC" => Some(false),
        // Too common as plain words ("adresa IP"): only before a quoted name.
        "IP" | "IS" | "ГП" | "МП" | "BC" | "ÎM" | "IM" | "ИКС" => Some(true),
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
            && best
                .as_ref()
                .is_none_or(|b| start < b.0 || (start == b.0 && text.len() > b.1.len()))
        {
            best = Some((start, text));
        }
    };
    for (t, tok) in toks.iter().enumerate() {
        let word = fold(core(tok));
        if let Some(name) = body_named_first(&toks, t, &word) {
            consider(t, name);
        }
        if let Some(start) = body_named_last(&toks, t, &word) {
            consider(start, toks[start..=t].to_vec());
        }
        if let Some((start, name)) = company_named(&toks, t) {
            consider(start, name);
        }
    }
    best.map(|(_, name)| name)
}

/// A public body whose name starts at `toks[t]` with the kind of body:
/// "Primăria orașului Ialoveni", "Ministerul Educației și Cercetării".
/// `word` is that token folded.
fn body_named_first<'a>(toks: &[&'a str], t: usize, word: &str) -> Option<Vec<&'a str>> {
    let tok = toks[t];
    let city_hall = word == "city" && toks.get(t + 1).is_some_and(|n| fold(core(n)) == "hall");
    if !(capitalised(tok) && (BODY_STARTS.contains(&word) || city_hall || russian_body(toks, t))) {
        return None;
    }
    let russian = core(tok).chars().next().is_some_and(is_cyrillic);
    let mut name = vec![tok];
    let mut k = t;
    while !ends_clause(toks[k]) && name.len() < 10 {
        k += 1;
        let Some(next) = toks.get(k) else { break };
        let w = fold(core(next));
        // "… по регулированию в энергетике просит": "в" and its noun, when
        // a verb follows them.
        if russian && w == "в" && name.len() >= 2 {
            let noun = toks.get(k + 1).copied().unwrap_or_default();
            let after = toks.get(k + 2).map(|a| core(a));
            if russian_continues(core(noun)) && after.is_some_and(|a| !russian_continues(a)) {
                name.extend([*next, noun]);
                k += 1;
                continue;
            }
        }
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
    Some(name)
}

/// Nouns of Russian names of public bodies that open with adjectives:
/// "Национальная касса …", "Молдавский государственный университет".
#[rustfmt::skip]
const RU_BODY_NOUNS: &[&str] = &[
    "касс", "инспекц", "палат", "университет", "агентств", "служб", "предприяти", "библиотек",
    "совет", "центр", "администрац", "академи", "банк", "фонд", "бюро", "комисси", "институт",
    "суд", "управлени",
];

/// A capitalised Russian adjective with a body's noun within two words.
fn russian_body(toks: &[&str], t: usize) -> bool {
    let w = fold(core(toks[t]));
    let adjective = w.chars().next().is_some_and(is_cyrillic)
        && ["ая", "ое", "ый", "ий", "ой"]
            .iter()
            .any(|e| w.ends_with(e));
    adjective
        && toks[t + 1..toks.len().min(t + 3)].iter().any(|n| {
            let n = fold(core(n));
            RU_BODY_NOUNS.iter().any(|b| n.starts_with(b))
        })
}

/// Where an English name ending at `toks[t]` with the kind of body starts:
/// "Public Services Agency". `word` is that token folded.
fn body_named_last(toks: &[&str], t: usize, word: &str) -> Option<usize> {
    if !(capitalised(toks[t]) && BODY_ENDS.contains(&word) && !word.is_empty()) {
        return None;
    }
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
    (start < t).then_some(start)
}

/// A company named around its legal form at `toks[t]`, with where the name
/// starts: "MedTech SRL", "SRL „Alfa Soft”", "ООО «Альфа»".
fn company_named<'a>(toks: &[&'a str], t: usize) -> Option<(usize, Vec<&'a str>)> {
    let tok = toks[t];
    let needs_quote = legal_form(tok)?;
    let quoted_after = toks.get(t + 1).is_some_and(|n| n.starts_with(OPEN_QUOTES));
    // The form's own dots ("Î.S.") do not end the clause.
    if quoted_after && !tok.ends_with([',', ';', ':', '!', '?', ')']) {
        let mut name = vec![tok];
        for (k, n) in toks.iter().enumerate().skip(t + 1).take(8) {
            name.push(n);
            let end = n.trim_end_matches([',', '.', ';', ':', ')']);
            if end.chars().count() > 1 && end.ends_with(CLOSE_QUOTES) {
                // "ÎCS «Microcredit Plus» SRL": the form after it too.
                if !n.ends_with([',', ';', ':', ')'])
                    && let Some(form) = toks.get(k + 1).filter(|f| legal_form(f) == Some(false))
                {
                    name.push(form);
                }
                break;
            }
        }
        Some((t, name))
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
        (start < t).then(|| (start, toks[start..=t].to_vec()))
    } else {
        None
    }
}

/// Not a department of the body ("Direcția IT", "Отдел информационных
/// технологий") nor a name in the genitive ("Primăriei …", "Centrului …"),
/// which the nominative elsewhere in the mail names better.
fn names_the_body(name: &str) -> bool {
    let f = fold(name);
    let first = f.split_whitespace().next().unwrap_or_default();
    let department = [
        "directi",
        "departament",
        "sectia",
        "sectorul",
        "отдел",
        "департамент",
        "department",
        "division",
    ]
    .iter()
    .any(|d| first.starts_with(d))
        && (f.split_whitespace().any(|w| w == "it")
            || [
                "tehnolog",
                "informati",
                "информацион",
                "технолог",
                "technolog",
            ]
            .iter()
            .any(|w| f.contains(w)));
    let genitive = first.chars().count() > 5 && (first.ends_with("ului") || first.ends_with("iei"));
    !department && !genitive
}

/// The institution named in running text or, last, in the signature; a
/// fuller form of the same name elsewhere ("Primăria orașului Orhei" for
/// "Primăria Orhei", "BC «Prime Capital Bank» SA") is the better one.
pub(super) fn institution_from_prose(lines: &[Line<'_>], used: &[bool]) -> Option<String> {
    let mut found = Vec::new();
    for in_signature in [false, true] {
        for (l, _) in lines
            .iter()
            .zip(used)
            .filter(|(l, u)| l.signature == in_signature && !**u)
        {
            if let Some(name) = institution_in(l.body)
                .and_then(|n| clean(&n))
                .filter(|n| names_the_body(n))
            {
                found.push(name);
            }
        }
    }
    let first = found.first()?;
    let fuller = found
        .iter()
        .filter(|n| n.len() > first.len() && n.split_whitespace().count() <= 10)
        .find(|n| contains_words_of(n, first));
    Some(fuller.unwrap_or(first).clone())
}

/// Whether every word of `short` is among the words of `long`.
fn contains_words_of(long: &str, short: &str) -> bool {
    let words = |s: &str| -> Vec<String> {
        s.split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(fold)
            .collect()
    };
    let long = words(long);
    words(short).iter().all(|w| long.contains(w))
}
