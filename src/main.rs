//! `egov-intake`: see the library's `cli` module; this stays thin.

#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    egov_intake::cli::main()
}
