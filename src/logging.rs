//! Logging with tracing, to stderr: readable lines by default, JSON lines
//! with `--log-json` or `log.format = "json"`. `RUST_LOG` overrides the level.
//!
//! Only `tracing` events are logged: the `log` bridge (tracing-log) is left
//! out on purpose, because async-imap traces every IMAP line through `log`,
//! LOGIN with its password and every fetched mail included.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

pub fn init(format: LogFormat, level: &str) {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colours only for a person at a terminal, not in journald or files.
        .with_ansi(std::io::stderr().is_terminal());
    // A second init (tests) is harmless: the first subscriber stays.
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Text => builder.try_init(),
    };
}
