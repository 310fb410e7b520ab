//! The command line as scripts use it: piped into `head`, which closes the
//! pipe after the first line. The command must end quietly, not panic.

// Kept like the other test files: tests may slice strings they built.
#![allow(clippy::string_slice)]

use std::io::{BufRead as _, BufReader, Read as _};
use std::process::{Command, Stdio};

/// `deadline` with 30,000 values writes some 330 KB, far more than a pipe
/// holds: it is still writing when the reader goes away after one line.
#[test]
fn closed_stdout_ends_the_command_quietly() {
    let values: Vec<String> = (0..30_000).map(|i| (1 + i % 300).to_string()).collect();
    let mut child = Command::new(env!("CARGO_BIN_EXE_egov-intake"))
        .args(["deadline", "--from", "2026-01-05", "--working-days"])
        .args(&values)
        .env_remove("EGOV_INTAKE_CONFIG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting egov-intake");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    assert_eq!(first, "2026-01-06\n");
    drop(stdout);
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let status = child.wait().unwrap();
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_ne!(status.code(), Some(101), "{stderr}");
    assert!(status.success(), "{status:?}: {stderr}");
    assert_eq!(stderr, "");
}
