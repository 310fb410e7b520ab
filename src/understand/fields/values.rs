//! Reading the values labels introduce: on the label's line or the next,
//! descriptions over wrapped lines, and bare "Denumire:" lines attributed by
//! the heading above them (institution, system or service).

use super::attributes::read_attributes;
use super::labels::{Field, Lang, Section, label_of};
use super::lines::{Line, looks_contact};
use super::numbers::digit_runs;
use super::service_names::{inline_tags, service_names, set_service_name};
use super::text::{clean, find_word_folded, set_once, words};
use super::{Extracted, Request};

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

/// Whether the line before or after `i` also opens with a language tag:
/// a block of service names in several languages.
fn lang_block_around(lines: &[Line<'_>], i: usize) -> bool {
    let tagged =
        |l: &Line<'_>| label_of(l.body).is_some_and(|lb| matches!(lb.field, Field::LangTag(_)));
    // HTML list items come with blank lines between them.
    let before = lines[..i].iter().rev().find(|l| !l.body.is_empty());
    let after = lines[i + 1..].iter().find(|l| !l.body.is_empty());
    before.is_some_and(tagged) || after.is_some_and(tagged)
}

pub(super) fn read_labels(lines: &[Line<'_>], out: &mut Extracted, used: &mut [bool]) {
    let loose = read_labelled(lines, out, used);
    // A description with no heading, in a mail that registers a service,
    // describes the service.
    let r = &mut out.request;
    let registers =
        r.service_name_ro.is_some() || r.service_name_ru.is_some() || r.service_name_en.is_some();
    if loose && registers && r.service_description.is_none() {
        r.service_description = r.system_description.take();
    }
}

/// The labelled values; true when the system's description came from a
/// bare "Descriere:" label under no heading.
fn read_labelled(lines: &[Line<'_>], out: &mut Extracted, used: &mut [bool]) -> bool {
    let mut loose = false;
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
            // Read by the register's own scanner.
            Field::Registry => used[i] = true,
            Field::Idnp => section = Section::Other,
            Field::Ip | Field::Signer | Field::Logout => {
                section = Section::Service;
                used[i] = true;
            }
            Field::Environment => {}
            Field::Other => section = Section::Other,
            field => {
                // "RO – …", "RU – …", "EN – …" lines without a heading.
                if matches!(field, Field::LangTag(_))
                    && section != Section::Service
                    && lang_block_around(lines, i)
                {
                    section = Section::Service;
                }
                let Some(target) = target_of(field, section) else {
                    i += 1;
                    continue;
                };
                if *field == Field::BareDesc
                    && section == Section::None
                    && out.request.system_description.is_none()
                {
                    loose = true;
                }
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
    loose
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

/// A system's name from a label's value: the value itself, or, when the
/// value is a sentence ("после ребрендинга она называется не «A», а «B»"),
/// the last name quoted in it. Addresses and numbers alone are no name.
fn system_name_in(value: &str) -> Option<String> {
    let value = if words(value).len() > 6 {
        super::system::quoted_spans(value).pop()?
    } else {
        value
    };
    clean(value).filter(|v| v.chars().any(char::is_alphabetic))
}

/// Fills `target` from `first` (found on line `j`) and the lines that belong
/// to it; returns the last line used.
fn fill(lines: &[Line<'_>], j: usize, first: &str, target: &Target, req: &mut Request) -> usize {
    match target {
        Target::Institution => set_once(&mut req.institution, clean(cut_institution(first))),
        Target::SystemName => set_once(&mut req.system_name, system_name_in(first)),
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
    let v = v.get(..end).unwrap_or(v);
    // "Агентство … (Agenția …)": the name as written first, not its translation.
    let before_paren = v.find('(').and_then(|p| v.get(..p));
    let v = match before_paren {
        Some(b) if b.split_whitespace().count() >= 2 && v.trim_end().ends_with(')') => b,
        _ => v,
    };
    v.trim_end_matches(|c: char| {
        c.is_whitespace() || matches!(c, ',' | ';' | '(' | '-' | '–' | ':' | '/')
    })
}
