//! Fuzz target `headers`: a header block through subject handling, threading and the loop guard.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| egov_intake::fuzzing::headers(data));
