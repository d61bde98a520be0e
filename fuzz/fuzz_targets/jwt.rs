//! Fuzz target: see `portcullis_fuzz::jwt` for what it generates and asserts.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| portcullis_fuzz::jwt::run(data));
