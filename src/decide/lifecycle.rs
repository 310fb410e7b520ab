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
use serde_json::Value;

use super::is_present;
use crate::calendar::Calendar;
use crate::rules::Deadlines;

/// The stages, in procedure order (for `cases advance`).
pub const STAGES: &[&str] = &[
    "request",
    "agreement",
    "examination",
    "certificate",
    "test_registration",
    "production_registration",
];

/// Deadlines AGE holds itself to (its own turn); `followup` is the
/// beneficiary's.
pub const AGE_DEADLINES: &[&str] = &["answer", "examination"];

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeadlinePlan {
    pub kind: String,
    pub due: NaiveDate,
    /// Move an existing one to this date (else keep the first date set).
    pub replace: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Progress {
    pub stage: String,
    /// waiting_for_age | waiting_for_beneficiary
    pub status: &'static str,
    pub deadlines: Vec<DeadlinePlan>,
    /// Deadline kinds this mail meets.
    pub met: Vec<String>,
}

/// What a mail about `step`, with the case's merged `facts` and what is
/// still `missing`, does to the case, on `today` (AGE's local date).
pub fn progress(
    step: &str,
    facts: &Value,
    missing: &[String],
    today: NaiveDate,
    calendar: &Calendar,
    deadlines: &Deadlines,
) -> Progress {
    let mut plans = Vec::new();
    let mut met = Vec::new();
    let mut stage = step.to_string();
    let complete = missing.is_empty();
    if complete {
        met.push("followup".to_string());
    } else {
        // The beneficiary's turn: a reminder falls due if nothing comes.
        plans.push(DeadlinePlan {
            kind: "followup".into(),
            due: calendar.add_working_days(today, deadlines.followup_working_days),
            replace: true,
        });
    }
    if step == "request" && complete {
        plans.push(DeadlinePlan {
            kind: "answer".into(),
            due: calendar.add_working_days(today, deadlines.answer_working_days),
            replace: false,
        });
        if is_present(facts, "signed_agreement") {
            // Request and agreement are both in: the examination starts.
            stage = "examination".into();
            plans.push(DeadlinePlan {
                kind: "examination".into(),
                due: calendar.add_days(today, deadlines.examination_days),
                replace: false,
            });
        }
    }
    Progress {
        stage,
        status: if complete {
            "waiting_for_age"
        } else {
            "waiting_for_beneficiary"
        },
        deadlines: plans,
        met,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn table() {
        let cal = Calendar::default();
        let dl = Deadlines::default();
        let today = d("2026-11-24");
        let request = json!({"request": {"institution": "x"}});
        let with_agreement = json!({"request": {"institution": "x"}, "signed_agreement": true});

        let p = progress("request", &request, &["idno".into()], today, &cal, &dl);
        assert_eq!(
            (p.stage.as_str(), p.status),
            ("request", "waiting_for_beneficiary")
        );
        assert_eq!(
            p.deadlines,
            vec![DeadlinePlan {
                kind: "followup".into(),
                due: d("2026-12-01"),
                replace: true
            }]
        );

        let p = progress("request", &request, &[], today, &cal, &dl);
        assert_eq!((p.stage.as_str(), p.status), ("request", "waiting_for_age"));
        assert_eq!(
            p.deadlines,
            vec![DeadlinePlan {
                kind: "answer".into(),
                due: d("2026-12-08"),
                replace: false
            }]
        );
        assert_eq!(p.met, vec!["followup".to_string()]);

        let p = progress("request", &with_agreement, &[], today, &cal, &dl);
        assert_eq!(p.stage, "examination");
        assert!(p.deadlines.contains(&DeadlinePlan {
            kind: "examination".into(),
            due: d("2026-12-24"),
            replace: false
        }));

        let p = progress("test_registration", &request, &[], today, &cal, &dl);
        assert_eq!(
            (p.stage.as_str(), p.status),
            ("test_registration", "waiting_for_age")
        );
        assert!(p.deadlines.is_empty());
    }
}
