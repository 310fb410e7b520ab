//! Who signs with MSign: natural persons, legal persons or both, read only
//! from the sentence or list about signers.

use super::SignerType;
use super::labels::{Field, SIGNER_STEMS, label_of};
use super::lines::Line;
use super::text::{clean, fold, word_count};

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
pub(super) fn read_signer(lines: &[Line<'_>]) -> Option<SignerType> {
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
