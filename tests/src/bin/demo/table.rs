//! The demo's table of event → decision.

use std::ops::AddAssign;

/// Counts of rows that matched and did not match their expectation.
#[derive(Debug, Default, Clone, Copy)]
pub struct Tally {
    /// Rows whose decision was the expected one.
    pub ok: usize,
    /// Rows whose decision was not.
    pub wrong: usize,
}

impl AddAssign for Tally {
    fn add_assign(&mut self, other: Self) {
        self.ok += other.ok;
        self.wrong += other.wrong;
    }
}

/// Prints a function's heading and the table header.
pub fn heading(function: &str, setup: &str) {
    println!("{function}  ({setup})");
    println!(
        "  {:<46} {:<13} {:<14} {:<14}",
        "event", "format", "expected", "decision"
    );
}

/// Prints one row and counts it.
pub fn row(tally: &mut Tally, event: &str, format: &str, expected: &str, decision: &str) {
    let mark = if expected == decision {
        tally.ok += 1;
        "ok"
    } else {
        tally.wrong += 1;
        "MISMATCH"
    };
    println!("  {event:<46} {format:<13} {expected:<14} {decision:<14} {mark}");
}
