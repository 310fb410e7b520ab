//! Every duration of the procedure as AGE sets it in `lifecycle.toml`:
//! deadlines, reminders, the daily digest and alerts.

use serde::Deserialize;

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
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Deadlines {
    /// AGE answers a complete request within this many working days.
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
