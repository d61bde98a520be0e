//! Fuzz target: see `portcullis_fuzz::header_secret` for what it generates and asserts.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| portcullis_fuzz::header_secret::run(data));
