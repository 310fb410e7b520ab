//! The system's entry in the Register of Information Resources and Systems
//! (Registrul resurselor și sistemelor informaționale, Реестр
//! информационных ресурсов и систем), which public institutions give by
//! number: "Nr. în Registrul resurselor și sistemelor informaționale:
//! 0123/2019", "înregistrat în Registrul … cu nr. 0123", "зарегистрирована
//! в Реестре … под № 45", "RRSIS: 45".

use super::labels::{Field, label_of};
use super::lines::Line;
use super::text::{clean, fold, words};

/// Longest entry kept, in characters: register numbers are short.
const MAX_CHARS: usize = 40;
/// How many words after the register's name its number may stand.
const WINDOW: usize = 12;

/// The register's abbreviations, folded.
const ABBREVIATIONS: &[&str] = &["rrsis", "rsis", "rrsi", "ррсис", "рсис"];

/// Whether a folded word names the register (not "registration").
fn is_register_word(w: &str) -> bool {
    (w.starts_with("registr") && !w.starts_with("registrat"))
        || w == "register"
        || w.starts_with("реестр")
        || ABBREVIATIONS.contains(&w)
}

/// Whether folded words name this register: its abbreviation, or "register"
/// with resources or systems, and not the register of legal entities.
pub(super) fn names_register(w: &[String]) -> bool {
    let has = |stems: &[&str]| w.iter().any(|x| stems.iter().any(|s| x.starts_with(s)));
    let abbreviation = w.iter().any(|x| ABBREVIATIONS.contains(&x.as_str()));
    let register = w.iter().any(|x| is_register_word(x));
    // The register's name always has resources in it; "Registrul …" alone
    // is as often the name of the system itself.
    let subject = has(&["resurs", "ресурс", "resourc"]);
    let other_register = has(&["juridic", "юридическ", "legal", "persoan", "лиц", "entit"]);
    abbreviation || (register && subject && !other_register)
}

/// Whether a word introduces a number: "nr.", "№", "numărul", "номер", "no.".
fn is_number_marker(folded: &str) -> bool {
    let w = folded.trim_matches(|c: char| !c.is_alphanumeric() && c != '№');
    matches!(
        w,
        "nr" | "№" | "no" | "n" | "#" | "numar" | "numarul" | "number" | "номер" | "номером"
    )
}

/// The entry number in `text` after the register's name: the first word
/// holding a digit that a number marker introduces, before the name
/// ("numărul din Registrul … este 0519") or after it ("… cu nr. 0519"), or
/// that opens a labelled value; as written.
fn number_in(text: &str, labelled: bool) -> Option<String> {
    let toks: Vec<&str> = text.split_whitespace().collect();
    let start = if labelled {
        0
    } else {
        toks.iter()
            .rposition(|t| words(t).iter().any(|w| is_register_word(w)))?
            + 1
    };
    let before = toks
        .get(start.saturating_sub(WINDOW)..start)
        .unwrap_or_default();
    let window = toks.get(start..)?.iter().take(WINDOW).copied();
    let mut after_marker = labelled || before.iter().any(|t| is_number_marker(&fold(t)));
    for tok in window {
        // "№45" is the marker and the number in one.
        let glued = tok.trim_start_matches(['№', '#']);
        after_marker |= glued.len() < tok.len();
        let tok = glued;
        let marker = is_number_marker(&fold(tok));
        if !marker && tok.chars().any(|c| c.is_ascii_digit()) && after_marker {
            let entry = tok.trim_end_matches(|c: char| !c.is_alphanumeric());
            return clean(entry).filter(|e| e.chars().count() <= MAX_CHARS);
        }
        after_marker |= marker;
    }
    None
}

/// The entry given under a label for the register, or in a sentence that
/// names the register and its number.
pub(super) fn read_registry_entry(lines: &[Line<'_>]) -> Option<String> {
    for (i, l) in lines.iter().enumerate() {
        if l.signature && !l.signoff {
            break;
        }
        if let Some(lb) = label_of(l.body).filter(|lb| lb.field == Field::Registry) {
            let value = if lb.value.is_empty() {
                lines.get(i + 1).map(|n| n.body).unwrap_or_default()
            } else {
                lb.value
            };
            if let Some(entry) = number_in(value, true) {
                return Some(entry);
            }
            continue;
        }
        if names_register(&words(l.body))
            && let Some(entry) = number_in(l.body, false)
        {
            return Some(entry);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::super::{Options, extract};

    #[test]
    fn register_entries_in_labels_and_prose() {
        for (text, entry) in [
            (
                "Nr. în Registrul resurselor și sistemelor informaționale: 0123/2019",
                Some("0123/2019"),
            ),
            (
                "Registrul resurselor si sistemelor informationale de stat: nr. 45 din 12.03.2019",
                Some("45"),
            ),
            ("RRSIS: RSIS-2019-045", Some("RSIS-2019-045")),
            (
                "Номер в Реестре информационных ресурсов и систем — 778",
                Some("778"),
            ),
            (
                "Register of Information Resources and Systems | No. 1204",
                Some("1204"),
            ),
            (
                "Registrul resurselor și sistemelor informaționale:\n0123/2019",
                Some("0123/2019"),
            ),
            (
                "Sistemul este înregistrat în Registrul resurselor și sistemelor informaționale de stat cu nr. 0311 din 2020.",
                Some("0311"),
            ),
            (
                "Система зарегистрирована в Реестре информационных ресурсов и систем под №512.",
                Some("512"),
            ),
            (
                "The system is registered in the Register of Information Resources and Systems under number 77.",
                Some("77"),
            ),
            // No number: nothing to record.
            (
                "Registrul resurselor și sistemelor informaționale: în curs de înregistrare",
                None,
            ),
            (
                "Sistemul va fi înregistrat în Registrul resurselor și sistemelor informaționale în 2027.",
                None,
            ),
            // Another register, or registration in general.
            (
                "Nr. în Registrul de stat al persoanelor juridice: 1003600012345",
                None,
            ),
            ("Registration of the system: nr. 5", None),
            ("Nr. de înregistrare: 12", None),
            (
                "Sistemul informațional „Registrul elevilor” are nr. 3 în lista noastră.",
                None,
            ),
            (
                "Numărul corect din Registrul resurselor și sistemelor informaționale este 0519, nu 0591.",
                Some("0519"),
            ),
        ] {
            let got = extract(text, &Options::default()).request.registry_entry;
            assert_eq!(got.as_deref(), entry, "{text}");
        }
    }

    #[test]
    fn the_register_line_fills_no_other_field() {
        let text = "Denumirea instituției: Ministerul Finanțelor\n\
                    IDNO: 1006601000037\n\
                    Denumirea sistemului: SIA „e-Buget”\n\
                    Nr. în Registrul resurselor și sistemelor informaționale: 0123/2019\n\
                    Descrierea sistemului: planificarea și executarea bugetului.\n";
        let r = extract(text, &Options::default()).request;
        assert_eq!(r.registry_entry.as_deref(), Some("0123/2019"));
        assert_eq!(r.institution.as_deref(), Some("Ministerul Finanțelor"));
        assert_eq!(r.system_name.as_deref(), Some("SIA „e-Buget”"));
        assert_eq!(
            r.system_description.as_deref(),
            Some("planificarea și executarea bugetului")
        );
    }
}
