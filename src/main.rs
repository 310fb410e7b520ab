//! `egov-intake`: see the library's `cli` module; this stays thin.

#![forbid(unsafe_code)]

use egov_intake::budget::Allocator;

/// Counts what each mail's analysis holds, for its memory budget.
#[global_allocator]
static ALLOCATOR: Allocator<std::alloc::System> = Allocator::system();

fn main() -> std::process::ExitCode {
    egov_intake::budget::install();
    egov_intake::cli::main()
}
