//! How long an invocation may still run: Lambda's deadline less a margin to answer in.

use std::time::{Duration, SystemTime};

/// Time kept back from the invocation deadline, so the function answers before Lambda kills it.
pub const DEADLINE_MARGIN: Duration = Duration::from_millis(250);

/// The time left before `deadline` at `now`, less [`DEADLINE_MARGIN`]; zero once that is past.
pub fn budget(deadline: SystemTime, now: SystemTime) -> Duration {
    deadline
        .duration_since(now)
        .unwrap_or_default()
        .saturating_sub(DEADLINE_MARGIN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_keeps_the_margin_back_and_never_goes_negative() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000);
        assert_eq!(
            budget(now + Duration::from_secs(3), now),
            Duration::from_millis(2_750)
        );
        assert_eq!(
            budget(now + Duration::from_millis(100), now),
            Duration::ZERO
        );
        assert_eq!(budget(now - Duration::from_secs(1), now), Duration::ZERO);
    }
}
