//! Where a case stands in the procedure after a mail: its stage, whose turn
//! it is, and the deadlines that start, move or are met. Pure: the store
//! writes what this says.
//!
//! Stages follow the procedure (DESIGN §1): `request` → `examination` (once
//! the request is complete and a signed agreement is in) → `certificate` →
//! `test_registration` → `production_registration`, then `closed` or
//! `rejected`. Staff move cases on with `cases advance`.

use chrono::NaiveDate;
use serde::Serialize;

use crate::calendar::Calendar;
use crate::domain::{CaseFacts, CaseStatus, DeadlineKind, Field, Stage};
use crate::rules::{AnswerClock, AnswerRule, Deadlines};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeadlinePlan {
    pub kind: DeadlineKind,
    pub due: NaiveDate,
    /// Move an existing one to this date (else keep the first date set).
    pub replace: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Progress {
    pub stage: Stage,
    /// [`CaseStatus::WaitingForAge`] or [`CaseStatus::WaitingForBeneficiary`].
    pub status: CaseStatus,
    pub deadlines: Vec<DeadlinePlan>,
    /// Deadline kinds this mail meets.
    pub met: Vec<DeadlineKind>,
}

/// The case a mail is about, as the lifecycle sees it: the step, the
/// merged facts, what is still missing, the day of first contact, and when
/// AGE answers the step.
pub struct Step<'a> {
    pub stage: Stage,
    pub facts: &'a CaseFacts,
    pub missing: &'a [Field],
    pub opened: NaiveDate,
    pub answer: Option<AnswerRule>,
}

/// What a mail about `step` does to the case, on `today` (AGE's local date).
pub fn progress(
    case: &Step<'_>,
    today: NaiveDate,
    calendar: &Calendar,
    deadlines: &Deadlines,
) -> Progress {
    let (step, facts, missing) = (case.stage, case.facts, case.missing);
    let mut plans = Vec::new();
    let mut met = Vec::new();
    let mut stage = step;
    let complete = missing.is_empty();
    if complete {
        met.push(DeadlineKind::Followup);
    } else {
        // The beneficiary's turn: a reminder falls due if nothing comes.
        plans.push(DeadlinePlan {
            kind: DeadlineKind::Followup,
            due: calendar.add_working_days(today, deadlines.followup_working_days),
            replace: true,
        });
    }
    if let Some(rule) = case.answer.as_ref().filter(|_| complete) {
        let from = match rule.from {
            AnswerClock::FirstContact => case.opened,
            AnswerClock::Complete => today,
        };
        plans.push(DeadlinePlan {
            kind: DeadlineKind::Answer,
            due: calendar.add_working_days(from, rule.working_days),
            replace: false,
        });
    }
    if step == Stage::Request && complete && facts.has(Field::SignedAgreement) {
        // Request and agreement are both in: the examination starts.
        stage = Stage::Examination;
        plans.push(DeadlinePlan {
            kind: DeadlineKind::Examination,
            due: calendar.add_days(today, deadlines.examination_days),
            replace: false,
        });
    }
    Progress {
        stage,
        status: if complete {
            CaseStatus::WaitingForAge
        } else {
            CaseStatus::WaitingForBeneficiary
        },
        deadlines: plans,
        met,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Request;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn progress(
        stage: Stage,
        facts: &CaseFacts,
        missing: &[Field],
        today: NaiveDate,
        cal: &Calendar,
        dl: &Deadlines,
    ) -> Progress {
        let lifecycle = crate::rules::Lifecycle::default();
        let step = Step {
            stage,
            facts,
            missing,
            opened: today,
            answer: lifecycle.answer_for(stage, crate::domain::Service::Msign),
        };
        super::progress(&step, today, cal, dl)
    }

    #[test]
    fn answers_count_from_first_contact_or_completeness() {
        let cal = Calendar::default();
        let dl = Deadlines::default();
        let facts = CaseFacts::default();
        let lifecycle = crate::rules::Lifecycle::default();
        let at = |stage, service, opened: &str, today: &str| {
            let step = Step {
                stage,
                facts: &facts,
                missing: &[],
                opened: d(opened),
                answer: lifecycle.answer_for(stage, service),
            };
            super::progress(&step, d(today), &cal, &dl)
                .deadlines
                .into_iter()
                .find(|p| p.kind == DeadlineKind::Answer)
                .map(|p| p.due)
        };
        use crate::domain::Service::{Mpass, Msign};
        // A request: 10 working days from the first mail, however late it became complete.
        assert_eq!(
            at(Stage::Request, Msign, "2026-11-24", "2026-12-01"),
            Some(d("2026-12-08"))
        );
        // MPass registrations: 7 working days from the day the data became complete.
        assert_eq!(
            at(Stage::TestRegistration, Mpass, "2026-11-24", "2026-12-01"),
            Some(d("2026-12-10"))
        );
        assert_eq!(
            at(
                Stage::ProductionRegistration,
                Mpass,
                "2026-11-24",
                "2026-12-01"
            ),
            Some(d("2026-12-10"))
        );
        // MSign registrations: no deadline is set by default.
        assert_eq!(
            at(Stage::TestRegistration, Msign, "2026-11-24", "2026-12-01"),
            None
        );
    }

    #[test]
    fn table() {
        let cal = Calendar::default();
        let dl = Deadlines::default();
        let today = d("2026-11-24");
        let request = CaseFacts {
            request: Request {
                institution: Some("x".into()),
                ..Request::default()
            },
            ..CaseFacts::default()
        };
        let with_agreement = CaseFacts {
            signed_agreement: true,
            ..request.clone()
        };

        let p = progress(Stage::Request, &request, &[Field::Idno], today, &cal, &dl);
        assert_eq!(
            (p.stage, p.status),
            (Stage::Request, CaseStatus::WaitingForBeneficiary)
        );
        assert_eq!(
            p.deadlines,
            vec![DeadlinePlan {
                kind: DeadlineKind::Followup,
                due: d("2026-12-01"),
                replace: true
            }]
        );

        let p = progress(Stage::Request, &request, &[], today, &cal, &dl);
        assert_eq!(
            (p.stage, p.status),
            (Stage::Request, CaseStatus::WaitingForAge)
        );
        assert_eq!(
            p.deadlines,
            vec![DeadlinePlan {
                kind: DeadlineKind::Answer,
                due: d("2026-12-08"),
                replace: false
            }]
        );
        assert_eq!(p.met, vec![DeadlineKind::Followup]);

        let p = progress(Stage::Request, &with_agreement, &[], today, &cal, &dl);
        assert_eq!(p.stage, Stage::Examination);
        assert!(p.deadlines.contains(&DeadlinePlan {
            kind: DeadlineKind::Examination,
            due: d("2026-12-24"),
            replace: false
        }));

        let p = progress(Stage::TestRegistration, &request, &[], today, &cal, &dl);
        assert_eq!(
            (p.stage, p.status),
            (Stage::TestRegistration, CaseStatus::WaitingForAge)
        );
        assert!(p.deadlines.is_empty());
    }
}
