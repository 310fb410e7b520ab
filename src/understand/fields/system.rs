//! The information system's name and description in running prose, where
//! no label gives them: the name in quotes or guillemets after the word
//! for a system ("sistemul informațional «e-Registru»", "our web platform
//! \"CargoLane Portal\"", "системы «Е-Реестр»"), or in apposition ("o
//! platformă web, ArhiDoc Cloud, care …"); the description in the clause
//! that follows the name ("…, which lets …") or in the next sentence when it
//! speaks of the system ("Sistemul permite …", "It allows …").

use super::Request;
use super::lines::Line;
use super::text::{CLOSE_QUOTES, OPEN_QUOTES, clean, fold};

/// Word stems that name a system, in the three languages.
#[rustfmt::skip]
const SYSTEM_STEMS: &[&str] = &[
    "sistem", "platform", "portal", "aplicati", "produs", "soluti", "system", "application",
    "app", "product", "solution", "систем", "платформ", "портал", "приложени", "продукт",
    "решени",
];
/// Words that open a relative clause describing what came before.
#[rustfmt::skip]
const RELATIVES: &[&str] = &[
    "which", "that", "care", "ce", "who", "where", "unde", "который", "которая", "которое",
    "которые", "котором", "которой", "которых", "которому", "где",
];
/// Prepositions that open a relative clause with one of [`RELATIVES`] on
/// what is done through the system: "prin care", "through which", "в
/// которой" (not "pe care", what is done with the system itself).
const RELATIVE_PREPOSITIONS: &[&str] = &["prin", "in", "through", "via", "через", "в"];
/// Phrases opening a sentence that tell what is done with the system:
/// "Prin intermediul sistemului, …", "С помощью системы …".
#[rustfmt::skip]
const INSTRUMENTS: &[&str] = &[
    "prin intermediul", "cu ajutorul", "prin", "с помощью", "посредством", "через", "through",
    "using", "with the help of", "via",
];
/// Words that say "is" between a name and what it is.
const COPULAS: &[&str] = &[
    "is",
    "este",
    "e",
    "reprezinta",
    "represents",
    "является",
    "это",
    "—",
    "–",
    "-",
];
/// Verbs a sentence about a system is built on.
#[rustfmt::skip]
const DESCRIBING: &[&str] = &[
    "permit", "asigur", "ofer", "facilit", "utilizat", "folosit", "destinat", "servest", "gestion",
    "allow", "let", "enabl", "provid", "used", "designed", "serves", "manag", "offers", "help",
    "позволя", "предназнач", "обеспечива", "использ", "дает", "даёт", "служит", "предоставля",
];
/// Words that begin a sentence about the system named before.
#[rustfmt::skip]
const REFERENCES: &[&str] = &[
    "sistemul", "platforma", "aplicatia", "portalul", "produsul", "solutia", "acesta", "aceasta",
    "it", "this", "the", "система", "платформа", "она", "он", "оно", "данная", "данный", "портал",
    "приложение", "продукт", "решение", "это", "эта", "этот", "данное",
];
/// Longest name read from prose, in words.
const MAX_NAME_WORDS: usize = 10;

/// Fills the system's name and description from prose, where labels left
/// them empty.
pub(super) fn system_from_prose(lines: &[Line<'_>], request: &mut Request) {
    if request.system_name.is_some() && request.system_description.is_some() {
        return;
    }
    let sentences: Vec<Vec<&str>> = paragraphs(lines)
        .iter()
        .flat_map(|p| sentences(p))
        .collect();
    for (n, sentence) in sentences.iter().enumerate() {
        let Some((name, end)) = name_in(sentence) else {
            continue;
        };
        if request.system_name.is_none() {
            request.system_name = clean(&name);
        }
        if request.system_description.is_none() {
            // The next sentence or the one after: a word on the system's
            // register or on the request may come in between.
            let description = clause_after(&sentence[end..]).or_else(|| {
                sentences
                    .iter()
                    .skip(n + 1)
                    .take(2)
                    .find_map(|s| about_system(s, &name))
            });
            request.system_description = description.as_deref().and_then(clean);
        }
        // The subject may name the system; the body then describes it.
        if request.system_description.is_some() {
            return;
        }
    }
    // A name given under a label ("уточняем название системы: … «B»"),
    // described in a sentence after the one that names it.
    if let (Some(name), None) = (&request.system_name, &request.system_description) {
        let first = core(name.split_whitespace().next().unwrap_or_default());
        let names = |s: &Vec<&str>| !first.is_empty() && s.iter().any(|w| core(w) == first);
        request.system_description = sentences
            .iter()
            .enumerate()
            .filter(|(_, s)| names(s))
            .find_map(|(n, _)| {
                sentences
                    .iter()
                    .skip(n + 1)
                    .take(2)
                    .find_map(|s| about_system(s, name))
            })
            .as_deref()
            .and_then(clean);
    }
}

/// The prose paragraphs, as words: lines joined up to a blank line, the
/// signature left out.
fn paragraphs<'a>(lines: &[Line<'a>]) -> Vec<Vec<&'a str>> {
    let mut out: Vec<Vec<&'a str>> = vec![Vec::new()];
    for line in lines {
        if line.signature || line.body.is_empty() || line.bulleted {
            out.push(Vec::new());
            continue;
        }
        if let Some(last) = out.last_mut() {
            last.extend(line.body.split_whitespace());
        }
    }
    out.retain(|p| !p.is_empty());
    out
}

/// A paragraph cut into sentences: after a word ending in `.`, `!` or `?`
/// that is not a short abbreviation ("nr.", "str.", "or."), before a
/// capital letter.
fn sentences<'a>(words: &[&'a str]) -> Vec<Vec<&'a str>> {
    let mut out = Vec::new();
    let mut current = Vec::new();
    for (i, word) in words.iter().enumerate() {
        current.push(*word);
        let stem = word.trim_end_matches(|c: char| !c.is_alphanumeric());
        let ends = word.ends_with(['.', '!', '?']) && stem.chars().count() > 3;
        let next_capital = words
            .get(i + 1)
            .and_then(|w| w.trim_start_matches(OPEN_QUOTES).chars().next())
            .is_some_and(char::is_uppercase);
        if ends && next_capital {
            out.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

fn core(word: &str) -> String {
    fold(word.trim_matches(|c: char| !c.is_alphanumeric()))
}

fn is_system_word(word: &str) -> bool {
    let w = core(word);
    SYSTEM_STEMS.iter().any(|s| w.starts_with(s)) && !w.starts_with("systematic")
}

/// The system's name in `sentence` and the index of the word after it.
fn name_in(sentence: &[&str]) -> Option<(String, usize)> {
    let mut quoted = false;
    for (t, word) in sentence.iter().enumerate() {
        // A system word inside a quoted name ("Fiscal Systems" SA) is
        // part of that name.
        let was_quoted = quoted;
        if word.starts_with(OPEN_QUOTES) {
            quoted = true;
        }
        if word
            .trim_end_matches([',', '.', ';', ':', ')'])
            .ends_with(CLOSE_QUOTES)
        {
            quoted = false;
        }
        if was_quoted || word.starts_with(OPEN_QUOTES) || !is_system_word(word) {
            continue;
        }
        if let Some(found) = quoted_after(sentence, t)
            .or_else(|| apposition_after(sentence, t))
            .or_else(|| quoted_before(sentence, t))
            && !is_age_service(&found.0)
        {
            return Some(found);
        }
    }
    None
}

/// A quoted name that opens within a few words after `sentence[t]`, with
/// no clause ending before it.
fn quoted_after(sentence: &[&str], t: usize) -> Option<(String, usize)> {
    for start in t..sentence.len().min(t + 5) {
        let word = sentence[start].trim_start_matches('(');
        if start > t && sentence[start - 1].ends_with(['.', ';', ':']) {
            return None;
        }
        let Some(opened) = word.strip_prefix(OPEN_QUOTES) else {
            // The name may stick to the system word: «e-Registru» after it.
            continue;
        };
        let mut name = Vec::new();
        let mut rest = opened;
        for (k, next) in sentence.iter().enumerate().skip(start) {
            if k > start {
                rest = next;
            }
            let trimmed = rest.trim_end_matches([',', '.', ';', ':', ')', '!', '?']);
            if let Some(last) = trimmed.strip_suffix(CLOSE_QUOTES) {
                name.push(last);
                return Some((name.join(" "), k + 1)).filter(|(n, _)| !n.trim().is_empty());
            }
            name.push(rest);
            if name.len() >= MAX_NAME_WORDS {
                return None;
            }
        }
        return None;
    }
    None
}

/// A name set off by commas after the system word (and an adjective or
/// two): "o platformă web, ArhiDoc Cloud, care …", "The system, X, is …".
fn apposition_after(sentence: &[&str], t: usize) -> Option<(String, usize)> {
    let comma = (t..sentence.len().min(t + 3)).find(|&i| sentence[i].ends_with(','))?;
    let mut name = Vec::new();
    for (k, word) in sentence.iter().enumerate().skip(comma + 1) {
        if name.len() >= 6 {
            return None;
        }
        if let Some(last) = word.strip_suffix(',') {
            name.push(last);
            let follows = sentence.get(k + 1).map(|w| core(w));
            let first_capital =
                name[0].chars().next().is_some_and(char::is_uppercase) || name[0].starts_with("e-");
            let introduces = follows.is_some_and(|f| {
                RELATIVES.contains(&f.as_str())
                    || COPULAS.contains(&f.as_str())
                    || ["prin", "pe", "in", "cu"].contains(&f.as_str())
            });
            return (first_capital && introduces).then(|| (name.join(" "), k + 1));
        }
        name.push(word);
    }
    None
}

/// The spans of `text` between an opening and a closing quote, in order.
pub(super) fn quoted_spans(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut open: Option<usize> = None;
    for (at, c) in text.char_indices() {
        match open {
            Some(start) if CLOSE_QUOTES.contains(&c) => {
                if let Some(span) = text.get(start..at).filter(|s| !s.is_empty()) {
                    out.push(span);
                }
                open = None;
            }
            None if OPEN_QUOTES.contains(&c) => open = Some(at + c.len_utf8()),
            _ => {}
        }
    }
    out
}

/// A quoted name just before the system word: the "X" system, or "X", the
/// agency's online system.
fn quoted_before(sentence: &[&str], t: usize) -> Option<(String, usize)> {
    let end = (t.saturating_sub(5)..t)
        .rev()
        .find(|&k| sentence[k].trim_end_matches(',').ends_with(CLOSE_QUOTES))?;
    let apposition = sentence[end].ends_with(',');
    if end + 1 != t && !apposition {
        return None;
    }
    let start = (end.saturating_sub(MAX_NAME_WORDS)..=end)
        .rev()
        .find(|&k| sentence[k].starts_with(OPEN_QUOTES))?;
    let joined = sentence[start..=end].join(" ");
    let name = joined
        .trim_end_matches(',')
        .trim_start_matches(OPEN_QUOTES)
        .trim_end_matches(CLOSE_QUOTES)
        .to_string();
    (!name.is_empty()).then_some((name, t + 1))
}

/// MPass and MSign are named beside systems, and are never the system.
fn is_age_service(name: &str) -> bool {
    let f = fold(name);
    [
        "mpass", "msign", "mnotify", "mlog", "mconnect", "mpay", "mcabinet",
    ]
    .iter()
    .any(|s| f.contains(s))
}

/// The description in the words after the name: ", which lets …",
/// ", care permite …", " is a portal where …", ", o aplicație prin care …".
fn clause_after(rest: &[&str]) -> Option<String> {
    let first = core(rest.first()?);
    let second = rest.get(1).map(|w| core(w)).unwrap_or_default();
    let skip = if RELATIVES.contains(&first.as_str())
        && !matches!(first.as_str(), "where" | "unde" | "где")
    {
        1
    } else if RELATIVE_PREPOSITIONS.contains(&first.as_str())
        && RELATIVES.contains(&second.as_str())
    {
        2
    } else if COPULAS.contains(&first.as_str())
        || ["o", "un", "a", "an", "the"].contains(&first.as_str())
            && rest.first().is_some_and(|w| !w.ends_with(','))
    {
        usize::from(COPULAS.contains(&first.as_str()))
    } else {
        return None;
    };
    let mut words = Vec::new();
    for word in &rest[skip..] {
        // ", with the government service MPass" and the like end it.
        let f = core(word);
        if words.len() > 3
            && words.last().is_some_and(|w: &&str| w.ends_with(','))
            && ["with", "cu", "с", "to", "la", "in", "în", "в"].contains(&f.as_str())
        {
            break;
        }
        words.push(*word);
    }
    let text = words.join(" ");
    (words.len() >= 4).then(|| text.trim_end_matches([',', ';']).to_string())
}

/// The sentence after the name's, when it speaks of the system (by a
/// reference word or its name) and says what it does.
fn about_system(sentence: &[&str], name: &str) -> Option<String> {
    let first = core(sentence.first()?);
    let name_first = core(name.split_whitespace().next().unwrap_or_default());
    if let Some(rest) = after_instrument(sentence) {
        return Some(rest.join(" "));
    }
    let refers = REFERENCES.contains(&first.as_str())
        || first == name_first
        || sentence[0].chars().filter(|c| c.is_uppercase()).count() >= 2;
    let describes = sentence.iter().any(|w| {
        let w = core(w);
        DESCRIBING.iter().any(|d| w.starts_with(d)) || RELATIVES.contains(&w.as_str())
    });
    (refers && describes && sentence.len() >= 5).then(|| sentence.join(" "))
}

/// What a sentence opening "Prin intermediul sistemului, …" says is done
/// with the system: the words after the system word, when enough.
fn after_instrument<'a, 'b>(sentence: &'b [&'a str]) -> Option<&'b [&'a str]> {
    let opening: Vec<String> = sentence.iter().take(5).map(|w| core(w)).collect();
    let joined = opening.join(" ");
    let phrase = INSTRUMENTS
        .iter()
        .find(|p| joined.starts_with(&format!("{p} ")))?;
    let at = phrase.split_whitespace().count();
    // The system word right after the phrase, or after one word ("acestui").
    let system = (at..at + 2).find(|&i| sentence.get(i).is_some_and(|w| is_system_word(w)))?;
    let rest = sentence.get(system + 1..)?;
    (rest.len() >= 4).then_some(rest)
}

#[cfg(test)]
mod tests {
    use super::super::lines::prepare;
    use super::*;

    fn read(text: &str) -> (Option<String>, Option<String>) {
        let mut r = Request::default();
        system_from_prose(&prepare(text), &mut r);
        (r.system_name, r.system_description)
    }

    #[test]
    fn names_and_descriptions_in_prose() {
        let (name, desc) = read(
            "Vă rugăm să integrați sistemul informațional «Registrul local al cererilor» al \
             Primăriei cu MPass. Sistemul permite locuitorilor să depună cereri online.",
        );
        assert_eq!(name.as_deref(), Some("Registrul local al cererilor"));
        assert_eq!(
            desc.as_deref(),
            Some("Sistemul permite locuitorilor să depună cereri online")
        );

        let (name, desc) = read(
            "We would like to integrate our web platform \"CargoLane Portal\",\nwhich lets \
             forwarders book transport and follow shipments, with the government service MPass.",
        );
        assert_eq!(name.as_deref(), Some("CargoLane Portal"));
        assert_eq!(
            desc.as_deref(),
            Some("lets forwarders book transport and follow shipments")
        );

        let (name, desc) = read(
            "The system, e-Autorizații Cahul, is a web portal where businesses apply for permits.",
        );
        assert_eq!(name.as_deref(), Some("e-Autorizații Cahul"));
        assert_eq!(
            desc.as_deref(),
            Some("a web portal where businesses apply for permits")
        );

        let (name, _) = read("Просим подключить информационную систему «Е-Реестр» к MPass.");
        assert_eq!(name.as_deref(), Some("Е-Реестр"));
        let (name, desc) = read(
            "Просим интегрировать программный продукт «CargoSign» с MSign. Это веб-приложение, \
             в котором перевозчики подписывают заявки.",
        );
        assert_eq!(name.as_deref(), Some("CargoSign"));
        assert!(desc.is_some_and(|d| d.starts_with("Это веб-приложение")));
        let (name, _) = read("We confirm that the \"Registrul bunurilor\" system was tested.");
        assert_eq!(name.as_deref(), Some("Registrul bunurilor"));
        let (name, desc) = read(
            "We have developed “e-Ajutor”, the Agency’s online system for applications. It allows families \
             to apply online for social aid.",
        );
        assert_eq!(name.as_deref(), Some("e-Ajutor"));
        assert!(desc.is_some_and(|d| d.starts_with("It allows")));
        // A system word inside an institution's quoted name is not the system's.
        let (name, _) = read(
            "ГП \"Фискальные информационные системы\" просит подключить систему \"Кабинет\" к MPass.",
        );
        assert_eq!(name.as_deref(), Some("Кабинет"));
        let (name, desc) =
            read("Dorim să integrăm portalul „e-Cahul”, prin care locuitorii depun cereri online.");
        assert_eq!(name.as_deref(), Some("e-Cahul"));
        assert_eq!(desc.as_deref(), Some("locuitorii depun cereri online"));
        let (_, desc) = read(
            "Solicităm integrarea sistemului informațional „Registrul apelurilor”. Sistemul este \
             înregistrat în Registrul resurselor cu nr. 12.\n\nPrin intermediul sistemului, \
             dispecerii înregistrează apelurile primite.",
        );
        assert_eq!(
            desc.as_deref(),
            Some("dispecerii înregistrează apelurile primite")
        );
        // A name a label gave is described by a sentence after the one naming it.
        let mut r = Request {
            system_name: Some("EduPlatforma Moldova".into()),
            ..Request::default()
        };
        let text = "Также уточняем название системы: она называется не «EduPlat», а \
                    «EduPlatforma Moldova». Платформа позволяет ученикам вести электронный журнал.";
        system_from_prose(&prepare(text), &mut r);
        assert_eq!(
            r.system_description.as_deref(),
            Some("Платформа позволяет ученикам вести электронный журнал")
        );
        // The services of AGE are not the system.
        assert_eq!(read("Dorim integrarea cu platforma «MPass».").0, None);
    }
}
