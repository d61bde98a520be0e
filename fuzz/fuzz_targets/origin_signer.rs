//! Fuzz target: see `portcullis_fuzz::origin_signer` for what it generates and asserts.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| portcullis_fuzz::origin_signer::run(data));
