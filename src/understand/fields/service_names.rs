//! The service's name in Romanian, Russian and English, however the sender
//! laid the three out: tagged, one per line, or separated on one line.

use super::Request;
use super::labels::{Lang, label_of};
use super::lines::{Line, looks_contact};
use super::text::{clean, fold, is_cyrillic, set_once, split_outside_parens, word_count, words};

pub(super) fn set_service_name(req: &mut Request, lang: Lang, v: &str) {
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
pub(super) fn inline_tags(s: &str) -> Vec<(Lang, String)> {
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
pub(super) fn service_names(
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
