//! Fuzz target `pipeline`: a whole mail through the pure stages, parse to decide.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| egov_intake::fuzzing::pipeline(data));
