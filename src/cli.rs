//! The command line (clap): `run`, `ingest`, `check` and `cases`. Errors are
//! printed once, here, and mapped to exit codes: 0 success, 1 failure at run
//! time, 2 a configuration or rules error (or bad usage).
//!
//! The flags and their help text are in `args`; what the commands do is in
//! `mail` (run, ingest, digest), `cases` and `tools` (check, inspect,
//! deadline). This file loads the configuration and hands over.

/// `println!` that reports a failed write instead of panicking; use with `?`.
/// Defined before the command modules so that they can use it.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::cli::write_line(format_args!($($arg)*))
    };
}

mod args;
mod cases;
mod mail;
mod tools;

use std::process::ExitCode;

use anyhow::Context as _;
use clap::Parser as _;

use crate::config::{self, ConfigErrors, LogFormat};
use args::{Cli, Command};

/// Errors that decide the exit code.
enum Failure {
    Config(ConfigErrors),
    Usage(String),
    Runtime(anyhow::Error),
    /// Whoever read our output stopped (`| head`): nothing more to say.
    OutputClosed,
}

/// One line to standard output. A reader that closed the pipe early ends the
/// command quietly (exit 0, as `head` expects), not with a panic.
fn write_line(line: std::fmt::Arguments<'_>) -> Result<(), Failure> {
    use std::io::Write as _;
    writeln!(std::io::stdout().lock(), "{line}").map_err(|e| {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            Failure::OutputClosed
        } else {
            Failure::Runtime(anyhow::Error::new(e).context("writing to standard output"))
        }
    })
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        match e.downcast::<ConfigErrors>() {
            Ok(c) => Failure::Config(c),
            Err(e) => Failure::Runtime(e),
        }
    }
}

impl From<ConfigErrors> for Failure {
    fn from(e: ConfigErrors) -> Self {
        Failure::Config(e)
    }
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(Failure::Config(errors)) => {
            for e in &errors.0 {
                eprintln!("{e}");
            }
            eprintln!("egov-intake: {} configuration error(s)", errors.0.len());
            ExitCode::from(2)
        }
        Err(Failure::Usage(message)) => {
            eprintln!("egov-intake: {message}");
            ExitCode::from(2)
        }
        Err(Failure::Runtime(e)) => {
            eprintln!("egov-intake: {e:#}");
            ExitCode::from(1)
        }
        Err(Failure::OutputClosed) => ExitCode::SUCCESS,
    }
}

/// Hands the parsed command to what does it. `inspect` and `deadline` work
/// without a configuration; every other command loads one first, then runs
/// inside the async runtime.
fn run(cli: Cli) -> Result<ExitCode, Failure> {
    if let Command::Inspect { json, files } = &cli.command {
        return tools::inspect(cli.config.as_deref(), *json, files);
    }
    if let Command::Deadline {
        from,
        working_days,
        days,
    } = &cli.command
    {
        return tools::deadline(cli.config.as_deref(), *from, working_days, days);
    }
    let path = cli.config.clone().ok_or_else(|| {
        Failure::Usage("no configuration: pass --config FILE or set EGOV_INTAKE_CONFIG".into())
    })?;
    let config = config::load(&path)?;
    let format = if cli.log_json {
        LogFormat::Json
    } else {
        config.log.format
    };
    crate::logging::init(format, &config.log.level);

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        match cli.command {
            Command::Check => tools::check(&config),
            Command::Run { once } => mail::run(config, once).await,
            Command::Ingest {
                dry_run,
                json,
                mailbox,
                files,
            } => mail::ingest(config, dry_run, json, mailbox, &files).await,
            Command::Cases { command } => cases::cases(&config, command).await,
            Command::Digest {
                print,
                send,
                service,
            } => mail::digest(config, print, send, service).await,
            Command::Inspect { .. } | Command::Deadline { .. } => {
                unreachable!("handled before the configuration is loaded")
            }
        }
    })
}
