//! `egov-intake`: see the library's `cli` module; this stays thin.

fn main() -> std::process::ExitCode {
    egov_intake::cli::main()
}
