//! Logs and metrics.
//!
//! Logs: `tracing`, formatted per Lambda's advanced logging controls — `AWS_LAMBDA_LOG_FORMAT`
//! (`JSON` or text) and `AWS_LAMBDA_LOG_LEVEL` (else `RUST_LOG`, else INFO). Metrics: one
//! CloudWatch Embedded Metric Format line per decision when `METRICS_NAMESPACE` is set.

use serde_json::json;

/// Installs the global log subscriber; call once at the start of `main`.
pub fn init() {
    lambda_runtime::tracing::init_default_subscriber();
}

/// Emits decision counts as CloudWatch EMF lines on stdout.
#[derive(Debug, Clone)]
pub struct Metrics {
    namespace: Option<String>,
    function: &'static str,
}

impl Metrics {
    /// Metrics for `function` into `namespace`; `None` disables them.
    pub fn new(namespace: Option<String>, function: &'static str) -> Self {
        Self {
            namespace,
            function,
        }
    }

    /// The EMF line for one decision (`allow`, `deny`, `unauthorized`, `error`) with a reason
    /// code (a dimension too, so each cause has its own series), or `None` when metrics are off.
    pub fn decision_line(&self, decision: &str, reason: &str, timestamp_ms: u64) -> Option<String> {
        let namespace = self.namespace.as_deref()?;
        Some(
            json!({
                "_aws": {
                    "Timestamp": timestamp_ms,
                    "CloudWatchMetrics": [{
                        "Namespace": namespace,
                        "Dimensions": [["function", "decision"], ["function", "decision", "reason"]],
                        "Metrics": [{"Name": "Decisions", "Unit": "Count"}]
                    }]
                },
                "function": self.function,
                "decision": decision,
                "reason": reason,
                "Decisions": 1
            })
            .to_string(),
        )
    }

    /// Prints [`decision_line`](Self::decision_line) when metrics are on.
    pub fn decision(&self, decision: &str, reason: &str, timestamp_ms: u64) {
        if let Some(line) = self.decision_line(decision, reason, timestamp_ms) {
            println!("{line}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emf_line_has_the_metric_and_its_dimensions() {
        let m = Metrics::new(Some("portcullis".into()), "header-secret-authorizer");
        let line: serde_json::Value = serde_json::from_str(
            &m.decision_line("deny", "missing_header", 1_700_000_000_000)
                .unwrap(),
        )
        .unwrap();
        assert_eq!(
            line,
            json!({"_aws": {"Timestamp": 1_700_000_000_000u64, "CloudWatchMetrics": [{
                "Namespace": "portcullis",
                "Dimensions": [["function", "decision"], ["function", "decision", "reason"]],
                "Metrics": [{"Name": "Decisions", "Unit": "Count"}]}]},
                "function": "header-secret-authorizer", "decision": "deny",
                "reason": "missing_header", "Decisions": 1})
        );
        assert!(
            Metrics::new(None, "x")
                .decision_line("allow", "ok", 1)
                .is_none()
        );
    }
}
