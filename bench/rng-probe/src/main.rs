//! Time of a fresh process's first random bytes from aws-lc (what a TLS handshake pays at init).
use std::time::Instant;
fn main() {
    let mut buf = [0u8; 32];
    let t = Instant::now();
    aws_lc_rs::rand::fill(&mut buf).unwrap();
    let first = t.elapsed();
    let t = Instant::now();
    aws_lc_rs::rand::fill(&mut buf).unwrap();
    println!(
        "first_us={} second_us={}",
        first.as_micros(),
        t.elapsed().as_micros()
    );
}
