//! Which language a beneficiary wrote in: Romanian (with or without
//! diacritics), Russian or English. When the text says too little to tell,
//! the answer is `None` and the reply goes out in all three.

use crate::domain::Language;

const RO_WORDS: &[&str] = &[
    "si",
    "și",
    "şi",
    "pentru",
    "solicitare",
    "solicitarea",
    "integrare",
    "integrarea",
    "buna",
    "bună",
    "ziua",
    "stimate",
    "stimată",
    "va",
    "vă",
    "rog",
    "cu",
    "privind",
    "sistemul",
    "sistemului",
    "informațional",
    "informational",
    "instituției",
    "institutiei",
    "agentia",
    "agenția",
    "guvernare",
    "electronica",
    "electronică",
    "serviciul",
    "serviciului",
    "catre",
    "către",
    "anexat",
    "anexăm",
    "atasat",
    "atașat",
    "multumesc",
    "mulțumesc",
    "respect",
    "denumirea",
    "este",
    "sunt",
    "noastre",
    "nostru",
    "prin",
    "din",
    "la",
    "de",
    "al",
    "ale",
    "acordul",
    "contractul",
    "certificatul",
];
const EN_WORDS: &[&str] = &[
    "the",
    "and",
    "for",
    "please",
    "request",
    "integration",
    "system",
    "dear",
    "we",
    "with",
    "of",
    "to",
    "our",
    "would",
    "like",
    "attached",
    "regards",
    "thank",
    "you",
    "service",
    "information",
    "company",
    "is",
    "are",
    "this",
    "kind",
    "hello",
    "certificate",
    "agreement",
    "find",
];

/// Detects the language of what the sender wrote (quoted lines are
/// ignored): their own sentences first (the note above a forwarded mail,
/// prose rather than "Label: value" lines, whose values may be in another
/// language), then all of it.
pub fn detect(subject: &str, body: &str) -> Option<Language> {
    let own = crate::understand::own_text(subject, body);
    let lines: Vec<&str> = own.lines().collect();
    let before_forward = lines
        .iter()
        .position(|l| is_forward_marker(l))
        .map_or(&lines[..], |at| &lines[..at]);
    let prose: Vec<&str> = before_forward
        .iter()
        .copied()
        .filter(|l| !is_label_line(l))
        .collect();
    detect_in(&prose.join("\n")).or_else(|| detect_in(&format!("{subject}\n{own}")))
}

/// "Label: value", "Label | value", "RO – value": a label of a few words.
fn is_label_line(line: &str) -> bool {
    [":", "|", "\t", " – ", " - "].iter().any(|sep| {
        line.split_once(sep)
            .is_some_and(|(key, _)| key.split_whitespace().count() <= 5)
    })
}

fn detect_in(text: &str) -> Option<Language> {
    let (mut cyrillic, mut latin, mut diacritics) = (0usize, 0usize, 0usize);
    for c in text.chars() {
        if ('\u{0400}'..='\u{04FF}').contains(&c) {
            cyrillic += 1;
        } else if c.is_ascii_alphabetic() {
            latin += 1;
        } else if "ăâîșşțţĂÂÎȘŞȚŢ".contains(c) {
            diacritics += 1;
            latin += 1;
        }
    }
    if cyrillic >= 10 && cyrillic * 2 > latin {
        return Some(Language::Ru);
    }

    let lower = text.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphabetic())
        .filter(|w| !w.is_empty())
        .collect();
    let ro = words.iter().filter(|w| RO_WORDS.contains(w)).count() + diacritics * 2;
    let en = words.iter().filter(|w| EN_WORDS.contains(w)).count();
    match ro.cmp(&en) {
        _ if ro.max(en) < 3 => None,
        std::cmp::Ordering::Greater if ro >= en * 2 => Some(Language::Ro),
        std::cmp::Ordering::Less if en >= ro * 2 => Some(Language::En),
        _ => None,
    }
}

/// "On Tue, ... wrote:" / "La ... a scris:" / "... написал(а):" lines start quoted history.
/// Where quoted history starts in `lines`: a one-line header ("… wrote:",
/// "-----Original Message-----"), a Gmail header wrapped before "wrote:",
/// or Outlook's block of "From:" with "Sent:" (or "Date:") under it, in
/// English, Romanian ("De la:" / "Trimis:") and Russian ("От:" /
/// "Отправлено:"). In a forwarded mail (`forwarded`, or after a
/// "Forwarded message" line) the Outlook block heads the mail forwarded,
/// which is the content.
pub fn quote_start(lines: &[&str], forwarded: bool) -> Option<usize> {
    let mut forwarding = forwarded;
    (0..lines.len()).find(|&i| {
        let next = lines.get(i + 1).map(|l| l.trim().to_lowercase());
        forwarding |= is_forward_marker(lines[i]);
        is_quote_header(lines[i])
            || (looks_like_gmail_opening(lines[i]) && next.as_deref().is_some_and(ends_wrote))
            || (!forwarding
                && is_outlook_from(lines[i])
                && lines[i + 1..lines.len().min(i + 4)]
                    .iter()
                    .any(|l| is_outlook_sent(l)))
    })
}

/// A subject that says the mail is forwarded: "Fwd:", "FW:", "TR:".
pub fn is_forward_subject(subject: &str) -> bool {
    let s = subject.trim_start().to_lowercase();
    [
        "fwd:",
        "fw:",
        "tr:",
        "redirecționare:",
        "redirectionare:",
        "пересл:",
        "переслать:",
    ]
    .iter()
    .any(|p| s.starts_with(p))
}

/// A "Forwarded message" line: what follows is the mail forwarded.
pub fn is_forward_marker(line: &str) -> bool {
    let l = line.to_lowercase();
    [
        "forwarded message",
        "mesaj redirecționat",
        "mesaj redirectionat",
        "пересылаемое сообщение",
        "пересланное сообщение",
    ]
    .iter()
    .any(|m| l.contains(m))
}

fn ends_wrote(l: &str) -> bool {
    l.ends_with("wrote:")
        || l.ends_with("a scris:")
        || l.ends_with("написал:")
        || l.ends_with("написал(а):")
}

fn looks_like_gmail_opening(line: &str) -> bool {
    let l = line.trim().to_lowercase();
    (l.starts_with("on ")
        || l.starts_with("în ")
        || l.starts_with("in ")
        || l.starts_with("пн")
        || l.contains(" at ")
        || l.contains(" la "))
        && l.chars().any(|c| c.is_ascii_digit())
        && l.contains('@')
}

fn is_outlook_from(line: &str) -> bool {
    let l = line.trim_start_matches(['*', ' ', '>']).to_lowercase();
    ["from:", "de la:", "от:", "от кого:"]
        .iter()
        .any(|p| l.starts_with(p))
}

fn is_outlook_sent(line: &str) -> bool {
    let l = line.trim_start_matches(['*', ' ', '>']).to_lowercase();
    ["sent:", "date:", "trimis:", "data:", "отправлено:", "дата:"]
        .iter()
        .any(|p| l.starts_with(p))
}

pub fn is_quote_header(line: &str) -> bool {
    let l = line.trim().to_lowercase();
    (l.ends_with("wrote:")
        || l.ends_with("a scris:")
        || l.ends_with("написал:")
        || l.ends_with("написал(а):"))
        || l.starts_with("-----original message-----")
        || l.starts_with("-----mesaj original-----")
        || l.starts_with("-----исходное сообщение-----")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        for (subject, body, want) in [
            (
                "Solicitare de integrare MPass",
                "Bună ziua, vă rog să examinați solicitarea noastră.",
                Some(Language::Ro),
            ),
            (
                "Solicitare integrare",
                "Buna ziua, va rog sa examinati solicitarea pentru sistemul nostru.",
                Some(Language::Ro),
            ),
            (
                "Запрос на интеграцию",
                "Добрый день! Просим подключить нашу систему к MSign.",
                Some(Language::Ru),
            ),
            (
                "Integration request",
                "Dear colleagues, we would like to request the integration of our system with MPass.",
                Some(Language::En),
            ),
            ("MPass", "", None),
            ("", "OK", None),
            (
                "Re: Solicitare",
                "Thank you, please find the agreement attached.\n\nOn Mon, AGE wrote:\n> Buna ziua, va rog sa trimiteti acordul semnat pentru sistemul dvs",
                Some(Language::En),
            ),
        ] {
            assert_eq!(detect(subject, body), want, "{subject} / {body}");
        }
    }
}
