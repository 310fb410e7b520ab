//! What the rules files may name: the fields a step can require and the
//! templates with the variables each may use (the problem codes explained
//! are [`ProblemCode::needs_explanation`]'s). Loading checks the files
//! against these lists.
//!
//! [`ProblemCode::needs_explanation`]: crate::domain::ProblemCode::needs_explanation

use crate::domain::{CaseStatus, Field, Template};

/// Every field a step can require: the keys of the `request` object, plus
/// `certificate` and `signed_agreement`.
pub const FIELDS: &[&str] = Field::NAMES;

/// Templates every rules folder must have, with the variables each may use.
pub const BENEFICIARY_TEMPLATES: &[(Template, &[&str])] = &[
    (Template::Received, REPLY_VARS),
    (Template::Followup, REPLY_VARS),
    (Template::Rejected, REPLY_VARS),
    (Template::Reminder, BENEFICIARY_REMINDER_VARS),
];

/// Variables of the follow-up to a beneficiary who owes missing items.
pub const BENEFICIARY_REMINDER_VARS: &[&str] = &["case_number", "subject", "n", "missing"];

/// Variables of a staff reminder of an AGE deadline.
pub const STAFF_REMINDER_VARS: &[&str] = &[
    "case_number",
    "kind",
    "due",
    "working_days_left",
    "subject",
    "sender_address",
    "stage",
    "service",
];

/// Variables of the daily digest.
pub const DIGEST_VARS: &[&str] = &[
    "date",
    "service",
    "new_cases",
    CaseStatus::WaitingForAge.as_str(),
    "overdue",
    CaseStatus::WaitingForBeneficiary.as_str(),
    "new_cases_total",
    "overdue_total",
    "waiting_for_age_total",
    "waiting_for_beneficiary_total",
    "incidents",
    "mailboxes",
    "outbox_backlog",
];
pub const STAFF_TEMPLATES: &[(Template, &[&str])] = &[
    (Template::Quarantined, STAFF_VARS),
    (Template::PrivateKey, PRIVATE_KEY_VARS),
    (Template::CaseSummary, CASE_SUMMARY_VARS),
    (Template::Reminder, STAFF_REMINDER_VARS),
    (Template::Digest, DIGEST_VARS),
];

/// Variables of the compact case summary for staff.
pub const CASE_SUMMARY_VARS: &[&str] = &[
    "case_number",
    "mailbox",
    "sender_address",
    "subject",
    "received_at",
    "service",
    "stage",
    "language",
    "understood",
    "missing",
    "problems",
    "priority",
    "labels",
    "rules",
];

/// Variables a reply template can use (filled by `decide`).
pub const REPLY_VARS: &[&str] = &[
    "case_number",
    "subject",
    "sender_name",
    "sender_address",
    "mailbox_address",
    "service",
    "stage",
    "received_at",
    "attachments",
    "problems",
    "explanations",
    "reason",
    "understood",
    "missing",
    "complete",
    "answer_due",
    "answer_days",
    "mailbox_role",
    "examination_due",
];
/// Variables a staff template can use.
pub const STAFF_VARS: &[&str] = &[
    "mailbox",
    "sender_address",
    "subject",
    "message_id",
    "reason",
    "detail",
    "spool_path",
    "received_at",
];

/// Variables of the private-key alert.
pub const PRIVATE_KEY_VARS: &[&str] = &[
    "case_number",
    "mailbox",
    "sender_address",
    "subject",
    "message_id",
    "received_at",
    "keys",
    "action",
    "stored",
];
