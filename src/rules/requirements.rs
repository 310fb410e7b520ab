//! What each step of the procedure requires, and of whom: every beneficiary,
//! those of one service (MPass or MSign), or public institutions only
//! (`fields.toml`'s `[steps.*]` and `[public_institutions]`).

use std::collections::BTreeMap;

use crate::domain::{Field, Service, Stage};
use crate::understand::fields::folded_words;

/// Whom a list of required fields applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Scope {
    Every,
    Service(Service),
    PublicInstitution,
}

/// The fields each step requires, by scope, and how a public institution is
/// told by its name.
#[derive(Debug, Clone, Default)]
pub(super) struct Requirements {
    pub(super) by_step: BTreeMap<Stage, BTreeMap<Scope, Vec<Field>>>,
    pub(super) public: PublicInstitutions,
}

/// `[public_institutions]`: an institution is public when its name holds
/// one of `name_words` and none of `not`, folded once when the rules load.
#[derive(Debug, Clone, Default)]
pub(super) struct PublicInstitutions {
    pub(super) name_words: Vec<Phrase>,
    pub(super) not: Vec<Phrase>,
}

/// A word or words of a name, case and diacritics folded; with `stem`, the
/// last word may end in anything ("minister*" for "Ministerul",
/// "Министерство").
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Phrase {
    words: Vec<String>,
    stem: bool,
}

impl Phrase {
    pub(super) fn new(written: &str) -> Phrase {
        Phrase {
            words: folded_words(written),
            stem: written.trim_end().ends_with('*'),
        }
    }

    /// Whether `words` hold the phrase's words in a row.
    fn within(&self, words: &[String]) -> bool {
        let Some(last) = self.words.len().checked_sub(1) else {
            return false;
        };
        words.windows(self.words.len()).any(|run| {
            run.iter().zip(&self.words).enumerate().all(|(k, (w, p))| {
                if k == last && self.stem {
                    w.starts_with(p.as_str())
                } else {
                    w == p
                }
            })
        })
    }
}

impl Requirements {
    /// The fields `step` requires for `service`, adding those asked of
    /// public institutions when `public_institution`.
    pub(super) fn required(
        &self,
        step: Stage,
        service: Service,
        public_institution: bool,
    ) -> Vec<Field> {
        let Some(scopes) = self.by_step.get(&step) else {
            return Vec::new();
        };
        let mut scoped = vec![Scope::Every, Scope::Service(service)];
        if public_institution {
            scoped.push(Scope::PublicInstitution);
        }
        let mut fields: Vec<Field> = Vec::new();
        for f in scoped.iter().filter_map(|s| scopes.get(s)).flatten() {
            if !fields.contains(f) {
                fields.push(*f);
            }
        }
        fields
    }

    /// Whether some step asks anything of public institutions only.
    pub(super) fn asks_public_institutions(&self) -> bool {
        self.by_step.values().any(|s| {
            s.get(&Scope::PublicInstitution)
                .is_some_and(|f| !f.is_empty())
        })
    }
}

impl PublicInstitutions {
    /// Whether an institution of this name is public.
    pub(super) fn includes(&self, name: &str) -> bool {
        let words = folded_words(name);
        let any = |phrases: &[Phrase]| phrases.iter().any(|p| p.within(&words));
        any(&self.name_words) && !any(&self.not)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn public() -> PublicInstitutions {
        let list = |v: &[&str]| v.iter().map(|s| Phrase::new(s)).collect();
        PublicInstitutions {
            name_words: list(&[
                "minister*",
                "primări*",
                "instituția publică",
                "ip",
                "министерств*",
                "agency",
            ]),
            not: list(&["srl", "s.r.l.", "ооо"]),
        }
    }

    #[test]
    fn public_institutions_are_told_by_their_names() {
        let p = public();
        for (name, expected) in [
            ("Ministerul Educației și Cercetării", true),
            ("MINISTERUL SANATATII", true),
            ("Министерство финансов", true),
            ("Primăria orașului Ialoveni", true),
            ("Instituția Publică Agenția Servicii Publice", true),
            ("IP „Centrul de Telecomunicații Speciale”", true),
            ("Public Services Agency", true),
            ("Ipoteca Group SRL", false),
            ("MedTech S.R.L.", false),
            ("ООО «Министерство вкуса»", false),
            ("Agencyx", false),
            ("", false),
        ] {
            assert_eq!(p.includes(name), expected, "{name}");
        }
    }

    #[test]
    fn a_step_adds_the_fields_of_its_service_and_of_public_institutions() {
        let mut scopes = BTreeMap::new();
        scopes.insert(Scope::Every, vec![Field::Institution, Field::Idno]);
        scopes.insert(Scope::Service(Service::Mpass), vec![Field::Attributes]);
        scopes.insert(
            Scope::PublicInstitution,
            vec![Field::RegistryEntry, Field::Idno],
        );
        let r = Requirements {
            by_step: BTreeMap::from([(Stage::Request, scopes)]),
            public: public(),
        };
        assert!(r.asks_public_institutions());
        assert_eq!(
            r.required(Stage::Request, Service::Mpass, true),
            [
                Field::Institution,
                Field::Idno,
                Field::Attributes,
                Field::RegistryEntry
            ]
        );
        assert_eq!(
            r.required(Stage::Request, Service::Msign, false),
            [Field::Institution, Field::Idno]
        );
        assert!(
            r.required(Stage::Agreement, Service::Mpass, true)
                .is_empty()
        );
    }
}
