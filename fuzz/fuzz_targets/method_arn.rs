//! Fuzz target: see `portcullis_fuzz::method_arn` for what it generates and asserts.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| portcullis_fuzz::method_arn::run(data));
