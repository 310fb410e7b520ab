//! Scheduler: staff reminders before AGE's deadlines run out, follow-ups to
//! beneficiaries who owe missing items, the daily staff digest and the
//! silent-mailbox alert.
//!
//! Every mail goes through the outbox under a key naming the case, the
//! deadline and the reminder (or the digest's date and recipient), so a
//! restart or a second instance never sends one twice. [`plan`] is pure;
//! [`tick`] reads the database, plans, renders and queues.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use minijinja::Value as TemplateValue;
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::calendar::Calendar;
use crate::calendar::{TZ, today};
use crate::compose::{Outgoing, reply_subject};
use crate::config::{Config, Role};
use crate::domain::Language;
use crate::domain::{CaseStatus, DeadlineKind, EventKind, OutgoingKind, Service, Template};
use crate::pipeline::Pipeline;
use crate::rules::{Lifecycle, Rules};
use crate::store::{CaseSummary, DigestCases, DigestSection, OpenDeadline, Store};
use crate::util::timestamp;

/// How often the scheduler looks; reminders are by the day, so a minute is plenty.
pub const TICK: Duration = Duration::from_secs(60);

/// One thing to send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Action {
    /// Remind the case's team of an AGE deadline.
    StaffReminder {
        case: usize,
        /// before-N, due, or overdue-YYYY-MM-DD: part of the idempotency key.
        point: String,
        working_days_left: i64,
    },
    /// Remind the beneficiary of what is missing (the nth time).
    Followup {
        case: usize,
        n: u32,
        next_due: NaiveDate,
    },
}

/// What to send today for the open deadlines (indexes into `open`).
pub fn plan(
    open: &[OpenDeadline],
    today: NaiveDate,
    calendar: &Calendar,
    lifecycle: &Lifecycle,
) -> Vec<Action> {
    let mut actions = Vec::new();
    for (i, d) in open.iter().enumerate() {
        if d.kind.is_age() {
            let left = calendar.working_days_between(today, d.due);
            let point = if d.due < today {
                Some(format!("overdue-{today}"))
            } else if d.due == today {
                Some("due".to_string())
            } else {
                // Inside the window of the widest reminder still ahead: the
                // key makes each point send once, even after a day missed.
                lifecycle
                    .reminders
                    .staff_before_working_days
                    .iter()
                    .filter(|n| **n > 0 && left <= i64::from(**n))
                    .min()
                    .map(|n| format!("before-{n}"))
            };
            if let Some(point) = point {
                actions.push(Action::StaffReminder {
                    case: i,
                    point,
                    working_days_left: left,
                });
            }
        } else if d.kind == DeadlineKind::Followup
            && d.status == CaseStatus::WaitingForBeneficiary
            && d.due <= today
            && d.reminders < lifecycle.deadlines.followup_max
        {
            actions.push(Action::Followup {
                case: i,
                n: d.reminders + 1,
                next_due: calendar
                    .add_working_days(today, lifecycle.deadlines.followup_working_days),
            });
        }
    }
    actions
}

/// The next day on which [`plan`] can have something to send for `d`,
/// looked at on `today`: tomorrow inside a reminder window or past the due
/// date, else the first day of the widest staff reminder (AGE deadlines)
/// or the follow-up's due date. A follow-up that cannot be sent (the
/// beneficiary is not awaited, or was reminded enough) waits for its case
/// to change. Pure.
pub fn next_check(
    d: &OpenDeadline,
    today: NaiveDate,
    calendar: &Calendar,
    lifecycle: &Lifecycle,
) -> NaiveDate {
    let tomorrow = today.succ_opt().unwrap_or(NaiveDate::MAX);
    if d.kind.is_age() {
        let Some(widest) = lifecycle
            .reminders
            .staff_before_working_days
            .iter()
            .copied()
            .filter(|n| *n > 0)
            .max()
        else {
            return d.due.max(tomorrow);
        };
        // Day by day up to the due date; deadlines lie weeks ahead.
        let mut day = tomorrow;
        for _ in 0..WINDOW_SEARCH_DAYS {
            if day >= d.due || calendar.working_days_between(day, d.due) <= i64::from(widest) {
                return day;
            }
            day = day.succ_opt().unwrap_or(NaiveDate::MAX);
        }
        return day;
    }
    let sendable = d.kind == DeadlineKind::Followup
        && d.status == CaseStatus::WaitingForBeneficiary
        && d.reminders < lifecycle.deadlines.followup_max;
    if sendable {
        d.due.max(tomorrow)
    } else {
        NaiveDate::MAX
    }
}

/// How far [`next_check`] looks for the start of a reminder window; a
/// deadline further ahead is looked at again then.
const WINDOW_SEARCH_DAYS: usize = 400;

fn role_of(service: Service) -> Option<Role> {
    match service {
        Service::Mpass => Some(Role::Mpass),
        Service::Msign => Some(Role::Msign),
        Service::Unknown => None,
    }
}

fn mailbox_address(config: &Config, service: Service) -> String {
    let role = role_of(service).unwrap_or(Role::Office);
    config
        .mailboxes
        .iter()
        .find(|m| m.role == role)
        .or(config.mailboxes.first())
        .map(|m| m.address.clone())
        .unwrap_or_default()
}

fn message_id(config: &Config, key: &str) -> String {
    format!(
        "<{}@{}>",
        crate::util::prefix(&crate::util::sha256_hex(key.as_bytes()), 32),
        config.reply.message_id_domain
    )
}

/// A scheduler mail to staff, its Message-ID derived from its key.
fn staff_mail(config: &Config, key: String, to: String, subject: String, body: String) -> Outgoing {
    let id = message_id(config, &key);
    Outgoing::to_staff(key, &config.staff.from, to, subject, id, body)
}

/// Renders and queues what [`plan`] says, the digest when its time has
/// come, and silent-mailbox alerts. Returns how many mails were queued.
pub async fn tick(
    store: &Store,
    rules: &Rules,
    config: &Config,
    now: DateTime<Utc>,
) -> anyhow::Result<usize> {
    let today = today(now);
    let open = store.deadlines_to_check(today).await?;
    let mut queued = 0;
    for action in plan(&open, today, rules.calendar(), rules.lifecycle()) {
        queued += match action {
            Action::StaffReminder {
                case,
                point,
                working_days_left,
            } => {
                let d = &open[case];
                staff_reminder(store, rules, config, d, &point, working_days_left).await?
            }
            Action::Followup { case, n, next_due } => {
                followup(store, rules, config, &open[case], n, next_due).await?
            }
        };
    }
    let next: Vec<(i64, NaiveDate)> = open
        .iter()
        .map(|d| {
            (
                d.id,
                next_check(d, today, rules.calendar(), rules.lifecycle()),
            )
        })
        .collect();
    store.checked(&next, now).await?;
    queued += digest_if_due(store, rules, config, now).await?;
    queued += silent_mailboxes(store, rules, config, now).await?;
    Ok(queued)
}

/// Queues one reminder of an AGE deadline to each of the case's team.
async fn staff_reminder(
    store: &Store,
    rules: &Rules,
    config: &Config,
    d: &OpenDeadline,
    point: &str,
    working_days_left: i64,
) -> anyhow::Result<usize> {
    let key = format!("reminder:{}:{}:{}:{point}", d.number, d.kind, d.due);
    let body = staff_reminder_body(rules, d, working_days_left)?;
    let status = if working_days_left < 0 {
        "OVERDUE".to_string()
    } else if working_days_left == 0 {
        "due today".to_string()
    } else {
        format!("due in {working_days_left} working days")
    };
    let items: Vec<(Option<i64>, Outgoing)> = config
        .staff_for(role_of(d.service))
        .into_iter()
        .map(|to| {
            let key = format!("{key}:{to}");
            let subject = format!(
                "[egov-intake] {} {}: {} {status}",
                d.number, d.service, d.kind
            );
            (
                Some(d.case_id),
                staff_mail(config, key, to, subject, body.clone()),
            )
        })
        .collect();
    store.queue(&items, None).await
}

/// The staff reminder's text, the same for everyone on the team.
fn staff_reminder_body(
    rules: &Rules,
    d: &OpenDeadline,
    working_days_left: i64,
) -> anyhow::Result<String> {
    let mut vars: BTreeMap<&str, TemplateValue> = BTreeMap::new();
    vars.insert("case_number", TemplateValue::from(d.number.clone()));
    vars.insert("kind", TemplateValue::from(d.kind.as_str()));
    vars.insert(
        "due",
        TemplateValue::from(d.due.format("%d.%m.%Y").to_string()),
    );
    vars.insert("working_days_left", TemplateValue::from(working_days_left));
    vars.insert("subject", TemplateValue::from(d.subject.clone()));
    vars.insert(
        "sender_address",
        TemplateValue::from(d.opened_by.clone().unwrap_or_default()),
    );
    vars.insert("stage", TemplateValue::from(d.stage.as_str()));
    vars.insert("service", TemplateValue::from(d.service.as_str()));
    rules.render(None, Template::Reminder.as_str(), &vars)
}

/// Queues the nth reminder to the beneficiary and moves the follow-up
/// deadline to `next_due`; a case nobody opened by mail has nobody to remind.
async fn followup(
    store: &Store,
    rules: &Rules,
    config: &Config,
    d: &OpenDeadline,
    n: u32,
    next_due: NaiveDate,
) -> anyhow::Result<usize> {
    let Some(to) = d.opened_by.clone() else {
        return Ok(0);
    };
    let key = format!("followup:{}:{n}", d.number);
    let languages: Vec<Language> = d.language.map_or(Language::ALL.to_vec(), |l| vec![l]);
    let body = followup_body(rules, d, n, &languages)?;
    let item = Outgoing {
        message_id: message_id(config, &key),
        key,
        kind: OutgoingKind::Reminder,
        from_name: config.reply.from_name.clone(),
        from_address: mailbox_address(config, d.service),
        to,
        subject: reply_subject(&d.subject, Some(&d.number)),
        in_reply_to: None,
        references: Vec::new(),
        languages,
        body,
    };
    store
        .queue(&[(Some(d.case_id), item)], Some((d.case_id, next_due)))
        .await
}

/// The follow-up's text: one section per language, the case's own when
/// known, else all of them.
fn followup_body(
    rules: &Rules,
    d: &OpenDeadline,
    n: u32,
    languages: &[Language],
) -> anyhow::Result<String> {
    let mut body = String::new();
    for (i, lang) in languages.iter().enumerate() {
        if i > 0 {
            body.push_str("\n----------------------------------------\n\n");
        }
        let mut vars: BTreeMap<&str, TemplateValue> = BTreeMap::new();
        vars.insert("case_number", TemplateValue::from(d.number.clone()));
        vars.insert("subject", TemplateValue::from(d.subject.clone()));
        vars.insert("n", TemplateValue::from(n));
        let missing: Vec<String> = d.missing.iter().map(|f| rules.ask_for(*f, *lang)).collect();
        vars.insert("missing", TemplateValue::from_serialize(&missing));
        body.push_str(&rules.render(Some(*lang), Template::Reminder.as_str(), &vars)?);
    }
    Ok(body)
}

/// Who gets which digest: each team its service (and the unsorted), the
/// general list everything.
fn digest_recipients(config: &Config) -> Vec<(String, Option<Service>)> {
    let mut v: Vec<(String, Option<Service>)> = Vec::new();
    for a in &config.staff.alerts {
        v.push((a.clone(), None));
    }
    for a in &config.staff.mpass {
        v.push((a.clone(), Some(Service::Mpass)));
    }
    for a in &config.staff.msign {
        v.push((a.clone(), Some(Service::Msign)));
    }
    v
}

/// The digest for one service (or all), as `(subject, body)`.
pub async fn digest(
    store: &Store,
    rules: &Rules,
    config: &Config,
    service: Option<Service>,
    now: DateTime<Utc>,
) -> anyhow::Result<(String, String)> {
    let today = today(now);
    let since = now - chrono::Duration::days(1);
    let cases = store
        .digest_cases(service, since, today, DIGEST_LINES)
        .await?;
    let incidents = digest_incidents(store, &timestamp(since)).await?;
    let health = mailbox_health(store, config).await?;
    let mut vars: BTreeMap<&str, TemplateValue> = BTreeMap::new();
    vars.insert(
        "date",
        TemplateValue::from(today.format("%d.%m.%Y").to_string()),
    );
    vars.insert(
        "service",
        TemplateValue::from(service.map_or("all", Service::as_str)),
    );
    insert_sections(&cases, &mut vars);
    vars.insert("incidents", TemplateValue::from_serialize(&incidents));
    vars.insert("mailboxes", TemplateValue::from_serialize(&health));
    vars.insert(
        "outbox_backlog",
        TemplateValue::from(store.outbox_backlog().await?),
    );
    let body = rules.render(None, Template::Digest.as_str(), &vars)?;
    let subject = format!(
        "[egov-intake] Digest {} ({}): {} new, {} overdue, {} waiting for AGE",
        today.format("%d.%m.%Y"),
        service.map_or("all", Service::as_str),
        cases.new.total,
        cases.overdue.total,
        cases.waiting_for_age.total
    );
    Ok((subject, body))
}

/// Cases a digest list shows; the rest are counted. A backlog of thousands
/// of open cases makes a digest no one reads, and `cases list` has them all.
pub const DIGEST_LINES: u32 = 50;

/// Each digest list as template lines (`new_cases`, `overdue`, …) and its
/// whole count (`new_cases_total`, …).
fn insert_sections(cases: &DigestCases, vars: &mut BTreeMap<&str, TemplateValue>) {
    let lists: [(&'static str, &'static str, &DigestSection); 4] = [
        ("new_cases", "new_cases_total", &cases.new),
        ("overdue", "overdue_total", &cases.overdue),
        (
            CaseStatus::WaitingForAge.as_str(),
            "waiting_for_age_total",
            &cases.waiting_for_age,
        ),
        (
            CaseStatus::WaitingForBeneficiary.as_str(),
            "waiting_for_beneficiary_total",
            &cases.waiting_for_beneficiary,
        ),
    ];
    for (name, total, section) in lists {
        let lines: Vec<serde_json::Value> = section.first.iter().map(digest_line).collect();
        vars.insert(name, TemplateValue::from_serialize(&lines));
        vars.insert(total, TemplateValue::from(section.total));
    }
}

/// One case as the digest template sees it.
fn digest_line(c: &CaseSummary) -> serde_json::Value {
    serde_json::json!({
        "number": c.number, "service": c.service, "stage": c.stage, "status": c.status,
        "due": c.due, "subject": c.subject, "from": c.opened_by, "assigned_to": c.assigned_to,
        "missing": c.missing,
    })
}

/// Key material received, deliveries failed and mail quarantined since `since`.
async fn digest_incidents(store: &Store, since: &str) -> anyhow::Result<Vec<serde_json::Value>> {
    Ok(store
        .events_since(
            &[
                EventKind::PrivateKeyReceived,
                EventKind::DeliveryFailed,
                EventKind::Quarantined,
            ],
            since,
        )
        .await?
        .into_iter()
        .map(|(case, e)| serde_json::json!({"case": case, "at": timestamp(e.at), "kind": e.kind, "detail": e.detail.to_string()}))
        .collect())
}

/// When each configured mailbox last received mail (null when never).
async fn mailbox_health(store: &Store, config: &Config) -> anyhow::Result<Vec<serde_json::Value>> {
    let last = store.last_mail().await?;
    Ok(config
        .mailboxes
        .iter()
        .map(|m| {
            let seen = last
                .iter()
                .find(|(name, _)| name == &m.name)
                .map(|(_, at)| timestamp(*at));
            serde_json::json!({"mailbox": m.name, "address": m.address, "last_mail": seen})
        })
        .collect())
}

/// Queues today's digest for everyone once its time has come; `force`
/// (`digest --send`) queues it now whatever the hour.
pub async fn send_digest(
    store: &Store,
    rules: &Rules,
    config: &Config,
    now: DateTime<Utc>,
    force: bool,
) -> anyhow::Result<usize> {
    let local = now.with_timezone(&TZ);
    let at = rules.lifecycle().digest.at().unwrap_or_default();
    if !force && local.time() < at {
        return Ok(0);
    }
    let mut queued = 0;
    for (to, service) in digest_recipients(config) {
        let mut key = format!("digest:{}:{to}", local.date_naive());
        if force {
            key.push_str(&format!(":sent-{}", now.timestamp()));
        }
        if store.queued(&key).await? {
            continue;
        }
        let (subject, body) = digest(store, rules, config, service, now).await?;
        let item = staff_mail(config, key, to, subject, body);
        queued += store.queue(&[(None, item)], None).await?;
    }
    Ok(queued)
}

async fn digest_if_due(
    store: &Store,
    rules: &Rules,
    config: &Config,
    now: DateTime<Utc>,
) -> anyhow::Result<usize> {
    send_digest(store, rules, config, now, false).await
}

/// A mailbox that received nothing for longer than configured: staff are
/// told once a day (the server may be down, or the address changed).
async fn silent_mailboxes(
    store: &Store,
    rules: &Rules,
    config: &Config,
    now: DateTime<Utc>,
) -> anyhow::Result<usize> {
    let hours = i64::from(rules.lifecycle().alerts.silent_mailbox_hours);
    if hours == 0 {
        return Ok(0);
    }
    let last = store.last_mail().await?;
    let mut queued = 0;
    for m in &config.mailboxes {
        let Some((_, at)) = last.iter().find(|(name, _)| name == &m.name) else {
            // Never received anything: nothing to compare with yet.
            continue;
        };
        if now - *at < chrono::Duration::hours(hours) {
            continue;
        }
        let at = timestamp(*at);
        for to in config.staff_for(Some(m.role)) {
            let key = format!("silent:{}:{}:{to}", m.name, today(now));
            let subject = format!("[egov-intake] Mailbox {} silent since {at}", m.name);
            let body = format!(
                "Cutia poștală {} ({}) nu a primit niciun mesaj din {at} (mai mult de {hours} de ore).\nVerificați serverul de poștă și configurația.\n",
                m.name, m.address
            );
            let item = staff_mail(config, key, to, subject, body);
            queued += store.queue(&[(None, item)], None).await?;
        }
    }
    Ok(queued)
}

/// The scheduler task: a tick now and every [`TICK`] until cancelled.
pub async fn run(pipeline: Arc<Pipeline>, cancel: CancellationToken) {
    every(TICK, &cancel, &pipeline.schedule_wake, || async {
        let rules = pipeline.rules();
        let work = tick(&pipeline.store, &rules, &pipeline.config, Utc::now());
        match crate::util::guarded(work).await {
            Ok(0) => {}
            Ok(n) => {
                tracing::info!(queued = n, "scheduler queued mail");
                pipeline.outbox_wake.notify_one();
            }
            Err(e) => tracing::error!(error = %format!("{e:#}"), "scheduler tick failed"),
        }
    })
    .await;
}

/// Runs `f` now, then every `period` or when woken, until cancelled.
async fn every<F, Fut>(
    period: Duration,
    cancel: &CancellationToken,
    wake: &tokio::sync::Notify,
    mut f: F,
) where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    loop {
        f().await;
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = wake.notified() => {}
            _ = tokio::time::sleep(period) => {}
        }
    }
}

#[cfg(test)]
mod tests;
