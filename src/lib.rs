//! egov-intake: the e-mail side of the MPass/MSign integration procedure of
//! Moldova's E-Governance Agency (AGE). It watches the agency's mailboxes,
//! records every mail as a case, and answers the sender at once.
//!
//! One pipeline, pure in the middle, I/O at the edges:
//!
//! ```text
//! source ──raw mail──▶ parse ─▶ inspect ─▶ understand ─▶ decide ─▶ compose ─▶ store ──commit──▶ ack
//!                                                                    └─outbox rows─▶ outbox ─▶ SMTP | .eml
//! ```
//!
//! Module map (a module with parts keeps them in the folder of its name):
//! - [`domain`]: the procedure's vocabulary — stages, statuses, deadline
//!   kinds, services, languages, fields, problem codes — what a case knows
//!   ([`domain::CaseFacts`]) and the case number.
//! - [`config`]: the TOML configuration — raw file, checks with file and
//!   line, secrets.
//! - [`rules`]: the rules folder AGE edits — loading and checking apart from
//!   the lookups the stages use (required fields, templates, triage).
//! - [`source`]: mailbox watchers — [`source::imap`] (IDLE, reconnects) and
//!   [`source::maildir`] (the embedded default).
//! - [`parse`]: raw bytes → [`parse::Mail`], lenient and bounded.
//! - [`inspect`]: what each part is, by content — private keys in every
//!   form, certificates against the policy, signed documents, archives.
//! - [`understand`]: language, service, the request's fields, attached forms.
//! - [`decide`]: case threading, the loop guard, and what to send (drafts) — pure.
//! - [`compose`]: the text of every reply and alert a decision calls for — pure.
//! - [`redact`]: the storable copy of a mail that held a private key.
//! - [`store`]: the database (SQLite), one transaction per mail; the case,
//!   outbox, staff and scheduler queries beside it.
//! - [`pipeline`]: runs the stages for one mail around the transaction.
//! - [`outbox`]: sends queued mail with retries (SMTP or `.eml` files).
//! - [`calendar`]: Moldovan working days for the procedure's deadlines.
//! - [`schedule`]: reminders, follow-ups, the daily digest, silent-mailbox alerts.
//! - [`daemon`]: tasks, signals, graceful shutdown.
//! - [`cli`]: the `egov-intake` command — flag definitions apart from what
//!   each command does.
//! - [`budget`]: the time and memory one mail's analysis may spend.
//! - `pdf`: PDF syntax — the lexer and object values both the signature
//!   checker and the document text extraction read PDF with.
//! - [`tls`], [`logging`], [`util`]: plumbing.
//! - `fuzzing`: the fuzz targets' entry points, replayed by `cargo test` too.

#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::string_slice))]

pub mod budget;
pub mod calendar;
pub mod cli;
pub mod compose;
pub mod config;
pub mod daemon;
pub mod decide;
pub mod domain;
#[doc(hidden)]
pub mod fuzzing;
pub mod inspect;
pub mod logging;
pub mod outbox;
pub mod parse;
mod pdf;
pub mod pipeline;
pub mod redact;
pub mod rules;
pub mod schedule;
pub mod source;
pub mod store;
pub mod tls;
pub mod understand;
pub mod util;
