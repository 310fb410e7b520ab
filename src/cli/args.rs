//! What the `egov-intake` command line accepts: the clap definitions of the
//! global flags, the commands and the `cases` subcommands. Their doc comments
//! are the `--help` text, so they are written for the operator. What each
//! command does lives beside this file.

use std::path::PathBuf;

use clap::builder::{PossibleValuesParser, TypedValueParser as _};
use clap::{Parser, Subcommand};

use crate::domain::Service;

#[derive(Parser, Debug)]
#[command(
    name = "egov-intake",
    version,
    about = "E-mail intake for the MPass/MSign integration procedure of AGE"
)]
pub(super) struct Cli {
    /// Configuration file.
    #[arg(long, short, env = "EGOV_INTAKE_CONFIG", global = true)]
    pub(super) config: Option<PathBuf>,
    /// Log JSON lines instead of text.
    #[arg(long, global = true)]
    pub(super) log_json: bool,
    #[command(subcommand)]
    pub(super) command: Command,
}

#[derive(Subcommand, Debug)]
pub(super) enum Command {
    /// Watch every mailbox and send replies until stopped.
    Run {
        /// Process what is waiting, send the outbox, then exit.
        #[arg(long)]
        once: bool,
    },
    /// Run the whole pipeline on .eml files.
    Ingest {
        /// Decide and print, but write nothing.
        #[arg(long)]
        dry_run: bool,
        /// One JSON object per file, one per line.
        #[arg(long)]
        json: bool,
        /// The mailbox the files count as delivered to (default: the first office mailbox).
        #[arg(long)]
        mailbox: Option<String>,
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Validate the configuration and the rules folder.
    Check,
    /// Say what files are, by content: keys, certificates, signed documents.
    /// Uses the certificate policy of the configuration's rules when one is
    /// given, else the built-in defaults.
    Inspect {
        /// One JSON object per file, one per line.
        #[arg(long)]
        json: bool,
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Deadline dates in Moldovan working days (the given date never counts).
    /// Uses the calendar changes of the configuration's rules when one is given.
    Deadline {
        /// The day counting starts after (YYYY-MM-DD).
        #[arg(long)]
        from: chrono::NaiveDate,
        /// The Nth working day after --from (several values give several lines).
        #[arg(long, num_args = 1.., required_unless_present = "days", conflicts_with = "days")]
        working_days: Vec<u32>,
        /// The Nth calendar day after --from, moved to the next working day.
        #[arg(long, num_args = 1..)]
        days: Vec<u32>,
    },
    /// The staff digest: print it, or send it to every staff list now.
    Digest {
        /// Print the digest (of --service, else of all services).
        #[arg(long, required_unless_present = "send")]
        print: bool,
        /// Queue today's digest for every staff list now and send the outbox.
        #[arg(long)]
        send: bool,
        /// mpass or msign (with --print).
        #[arg(long, value_parser = PossibleValuesParser::new(["mpass", "msign"]).map(|s| Service::parse(&s)))]
        service: Option<Service>,
    },
    /// Look at cases.
    Cases {
        #[command(subcommand)]
        command: CasesCommand,
    },
}

#[derive(Subcommand, Debug)]
pub(super) enum CasesCommand {
    /// All cases, oldest first.
    List {
        #[arg(long)]
        json: bool,
    },
    /// One case with its mail, events and outgoing mail.
    Show {
        number: String,
        #[arg(long)]
        json: bool,
    },
    /// Move a case to a stage of the procedure; what AGE owed is met.
    Advance {
        number: String,
        /// request, agreement, examination, certificate, test_registration, production_registration
        stage: String,
        #[arg(long)]
        note: String,
        /// Who acts (default: $USER).
        #[arg(long, env = "USER")]
        by: Option<String>,
    },
    /// Give a case to a member of staff.
    Assign {
        number: String,
        who: String,
        #[arg(long, env = "USER")]
        by: Option<String>,
    },
    /// End a case; nothing is due any more.
    Close {
        number: String,
        #[arg(long)]
        reason: String,
        /// The request was rejected (else: closed, done).
        #[arg(long)]
        rejected: bool,
        #[arg(long, env = "USER")]
        by: Option<String>,
    },
    /// Extend the examination deadline once, with a reason (art. 60).
    Extend {
        number: String,
        #[arg(long)]
        days: Option<u32>,
        #[arg(long)]
        reason: String,
        #[arg(long, env = "USER")]
        by: Option<String>,
    },
}
