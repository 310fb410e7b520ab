//! Fuzz target `config`: configuration text, and the same text as one file of the rules folder.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| egov_intake::fuzzing::config(data));
