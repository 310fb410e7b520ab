//! Every duration of the procedure as AGE sets it in `lifecycle.toml`:
//! deadlines, reminders, the daily digest and alerts.

use serde::Deserialize;

use crate::domain::{Service, Stage};

/// Every duration of the procedure (rules/lifecycle.toml).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lifecycle {
    #[serde(default)]
    pub deadlines: Deadlines,
    #[serde(default)]
    pub reminders: Reminders,
    #[serde(default)]
    pub digest: DigestRules,
    #[serde(default)]
    pub alerts: AlertRules,
    /// When AGE answers a step once its items are all in (`[[answer]]`);
    /// none configured means the procedure's defaults ([`default_answers`]).
    #[serde(default)]
    pub answer: Vec<AnswerRule>,
}

/// When the clock of an answer starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnswerClock {
    /// The day the case's first mail came (the seed's rule for requests).
    FirstContact,
    /// The day the step's last missing item came (MPass today).
    Complete,
}

/// AGE answers `step` (for `service`, or any) within `working_days`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnswerRule {
    pub step: Stage,
    #[serde(default)]
    pub service: Option<Service>,
    pub working_days: u32,
    pub from: AnswerClock,
}

/// The procedure's answers: the seed's working days for a request counted
/// from first contact (`request_days`), and AGE's 7 working days from
/// completeness for MPass registrations (egov4dev).
pub fn default_answers(request_days: u32) -> Vec<AnswerRule> {
    let rule = |step, service, working_days, from| AnswerRule {
        step,
        service,
        working_days,
        from,
    };
    vec![
        rule(
            Stage::Request,
            None,
            request_days,
            AnswerClock::FirstContact,
        ),
        rule(
            Stage::TestRegistration,
            Some(Service::Mpass),
            7,
            AnswerClock::Complete,
        ),
        rule(
            Stage::ProductionRegistration,
            Some(Service::Mpass),
            7,
            AnswerClock::Complete,
        ),
    ]
}

impl Lifecycle {
    /// The answer rule for `step` of `service`: one naming the service
    /// first, else one for every service; none when AGE sets no deadline.
    pub fn answer_for(&self, step: Stage, service: Service) -> Option<AnswerRule> {
        let configured;
        let rules = if self.answer.is_empty() {
            configured = default_answers(self.deadlines.answer_working_days);
            &configured
        } else {
            &self.answer
        };
        let matching = |named: bool| {
            rules.iter().find(|r| {
                r.step == step
                    && (if named {
                        r.service == Some(service)
                    } else {
                        r.service.is_none()
                    })
            })
        };
        matching(true).or_else(|| matching(false)).cloned()
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Deadlines {
    /// AGE answers a complete request within this many working days, from
    /// first contact, when no `[[answer]]` is configured (older rules).
    pub answer_working_days: u32,
    /// Examination of request and agreement, in calendar days.
    pub examination_days: u32,
    /// The extension staff may give once, with a reason.
    pub extension_days: u32,
    /// Remind the beneficiary of missing items after this many working days…
    pub followup_working_days: u32,
    /// …at most this many times.
    pub followup_max: u32,
}

impl Default for Deadlines {
    fn default() -> Self {
        Deadlines {
            answer_working_days: 10,
            examination_days: 30,
            extension_days: 15,
            followup_working_days: 5,
            followup_max: 2,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Reminders {
    /// Staff are reminded this many working days before a due date (and on
    /// it, and daily once it is overdue).
    pub staff_before_working_days: Vec<u32>,
}

impl Default for Reminders {
    fn default() -> Self {
        Reminders {
            staff_before_working_days: vec![3],
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DigestRules {
    /// When the daily digest goes out, Europe/Chisinau, "HH:MM".
    pub time: String,
}

impl Default for DigestRules {
    fn default() -> Self {
        DigestRules {
            time: "08:00".into(),
        }
    }
}

impl DigestRules {
    pub fn at(&self) -> Option<chrono::NaiveTime> {
        chrono::NaiveTime::parse_from_str(&self.time, "%H:%M").ok()
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AlertRules {
    /// A mailbox that received nothing for this long is reported to staff.
    pub silent_mailbox_hours: u32,
}

impl Default for AlertRules {
    fn default() -> Self {
        AlertRules {
            silent_mailbox_hours: 72,
        }
    }
}
