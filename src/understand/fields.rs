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
//! 3. IDNO/IDNP, logout URLs, signer type, IP addresses, the environment,
//!    a certificate's serial and the system's register entry have their own
//!    scanners, since they also appear in running text;
//! 4. only when no label names the institution, it is looked for in the prose
//!    (a legal form such as SRL/ООО, or a public body such as "Primăria …").
//!
//! Pure: no I/O, no logging, no regex (hand-written scanning, linear in the
//! text times the number of labels).

mod addresses;
mod attributes;
mod environment;
mod labels;
mod lines;
mod numbers;
mod prose;
mod registry;
mod serial;
mod service_names;
mod signer;
mod system;
mod text;
mod urls;
mod values;

#[cfg(test)]
mod tests;

use serde::Serialize;

use crate::domain::ProblemCode;
pub use crate::domain::{Request, SignerType};

pub use addresses::parse_range;

/// `s` as lowercase words without diacritics, split at anything that is
/// not a letter or digit, as the extractor compares words.
pub fn folded_words(s: &str) -> Vec<String> {
    text::words(s)
}
use addresses::read_ips;
use environment::read_environment;
use lines::prepare;
use numbers::read_idno;
use prose::institution_from_prose;
use registry::read_registry_entry;
use serial::read_serial;
use signer::read_signer;
use system::system_from_prose;
use urls::read_logout_urls;
use values::read_labels;

/// A problem with one value the sender gave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub code: ProblemCode,
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

/// Longest value kept, in characters: enough for any real name or one-line
/// description, short enough for replies and the case record.
const MAX_CHARS: usize = 300;

/// Extracts the request fields from the sender's own text.
pub fn extract(text: &str, options: &Options) -> Extracted {
    let lines = prepare(text);
    let mut out = Extracted::default();
    let mut used = vec![false; lines.len()];
    read_labels(&lines, &mut out, &mut used);
    system_from_prose(&lines, &mut out.request);
    read_idno(&lines, &mut out);
    read_logout_urls(&lines, &mut out);
    out.request.signer_type = read_signer(&lines);
    out.request.environment = read_environment(&lines);
    read_ips(&lines, options, &mut out);
    out.request.certificate_serial = read_serial(&lines);
    out.request.registry_entry = read_registry_entry(&lines);
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
