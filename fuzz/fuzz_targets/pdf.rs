//! Fuzz target `pdf`: one file's bytes through the PDF syntax engine's two
//! readers, the signature checker and the text extraction.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| egov_intake::fuzzing::pdf(data));
