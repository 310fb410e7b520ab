//! Fuzz target `inspect`: one attachment's bytes through the inspector and the
//! document text extraction.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| egov_intake::fuzzing::inspect(data));
