//! The loop guard (DESIGN §4.4): never answer mail that a machine wrote, nor
//! mail that asks not to be answered, nor anybody more often than the limits
//! allow. Returns the reason a reply is suppressed, recorded as an event.

use super::{History, Settings};
use crate::parse::Mail;
use crate::rules::wildcard_match;

/// Why no automatic reply goes out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppression {
    pub reason: String,
    /// A machine wrote this mail (auto-reply, bounce, list, robot): on its
    /// own it opens no case.
    pub automated: bool,
}

fn automated(reason: String) -> Option<Suppression> {
    Some(Suppression {
        reason,
        automated: true,
    })
}

fn human(reason: String) -> Option<Suppression> {
    Some(Suppression {
        reason,
        automated: false,
    })
}

pub fn check(mail: &Mail, history: &History, settings: &Settings<'_>) -> Option<Suppression> {
    let auto = &mail.auto;
    if let Some(v) = &auto.auto_submitted
        && !v.trim().eq_ignore_ascii_case("no")
    {
        return automated(format!("Auto-Submitted: {v}"));
    }
    if let Some(v) = &auto.precedence {
        let v = v.trim().to_ascii_lowercase();
        if matches!(v.as_str(), "bulk" | "list" | "junk") {
            return automated(format!("Precedence: {v}"));
        }
    }
    if auto.list_id.is_some() {
        return automated("mailing-list mail (List-Id)".into());
    }
    if let Some(v) = &auto.x_auto_response_suppress {
        let v = v.to_ascii_lowercase();
        if ["all", "oof", "autoreply"]
            .iter()
            .any(|t| v.split([',', ' ']).any(|x| x.trim() == *t))
        {
            return automated(format!("X-Auto-Response-Suppress: {v}"));
        }
    }
    // Newsletter and relay markers: no automatic answer, but some relays put
    // them on every mail, so a person's request still opens its case.
    if let Some(marker) = auto.other.first() {
        return human(format!("automated mail ({marker})"));
    }
    if auto.return_path.as_deref() == Some("") {
        return automated("bounce (empty Return-Path)".into());
    }
    if let Some(id) = &mail.message_id
        && id.to_ascii_lowercase().ends_with(&format!(
            "@{}>",
            settings.reply.message_id_domain.to_ascii_lowercase()
        ))
    {
        return automated("our own mail came back".into());
    }
    let Some(to) = mail.reply_address() else {
        return human("no sender address to answer".into());
    };
    let to = to.address.to_ascii_lowercase();
    if !crate::config::looks_like_address(&to) {
        return human(format!("sender address {to:?} cannot be answered"));
    }
    let local = to.split('@').next().unwrap_or_default();
    if matches!(local, "mailer-daemon" | "postmaster") {
        return automated(format!("system sender {to}"));
    }
    if settings.our_addresses.contains(&to) {
        return automated(format!("sender {to} is one of our own mailboxes"));
    }
    if let Some(p) = settings
        .rules
        .never_reply_to()
        .iter()
        .find(|p| wildcard_match(p, &to))
    {
        return automated(format!("sender {to} matches never_reply_to {p:?}"));
    }
    if history.replies_last_10min >= settings.limits.replies_per_recipient_10min {
        return human(format!(
            "rate limit: {} replies to {to} in 10 minutes",
            history.replies_last_10min
        ));
    }
    if history.replies_last_day >= settings.limits.replies_per_recipient_day {
        return human(format!(
            "rate limit: {} replies to {to} in a day",
            history.replies_last_day
        ));
    }
    None
}
