//! The IDNO, labelled or in running text, and the IDNP a sender sometimes
//! gives in its place.

use super::Extracted;
use super::labels::{Field, IDNO_KEYS, IDNP_KEYS, label_of};
use super::lines::Line;
use super::text::{fold, problem, word_count};
use crate::domain::ProblemCode;
use crate::understand::idno;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NumberKind {
    Idno,
    Idnp,
}

/// Byte ranges of digit runs of 10 to 15 digits (13 is an IDNO/IDNP; the
/// others matter only when labelled, as a mistyped IDNO).
pub(super) fn digit_runs(s: &str) -> Vec<(usize, usize)> {
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

pub(super) fn read_idno(lines: &[Line<'_>], out: &mut Extracted) {
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
            out.problems
                .push(problem(ProblemCode::IdnoInvalid, n, None));
        }
    }
    // A personal number is a problem where it stands for the IDNO: given as
    // the IDNO, or the only number a request without an IDNO carries. The
    // director's IDNP next to a good IDNO is not.
    for (n, kind) in &found {
        let is_personal = *kind == Some(NumberKind::Idnp)
            || (personal(n) && (kind.is_some() || idno::is_valid(n)));
        if is_personal && n.len() == 13 && (chosen.is_none() || *kind == Some(NumberKind::Idno)) {
            out.problems
                .push(problem(ProblemCode::IdnpNotIdno, n, None));
        }
    }
}
