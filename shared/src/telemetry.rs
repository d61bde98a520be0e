//! Logs and metrics.
//!
//! Logs: `tracing`, formatted per Lambda's advanced logging controls: `AWS_LAMBDA_LOG_FORMAT`
//! (`JSON`, else text without time or target) and `AWS_LAMBDA_LOG_LEVEL` (else `RUST_LOG`
//! directives, `level` or `target=level` comma-separated, else INFO).
//!
//! The level applies to portcullis' own crates only ([`OWN_TARGETS`]). Every other target
//! (the Lambda runtime, the AWS SDK, hyper, reqwest, rustls) logs at [`DEPENDENCY_MAX`] (INFO)
//! at most, whatever the environment says: at DEBUG and TRACE they print raw events (header
//! secrets, tokens, API keys), signed requests and response bodies. A `RUST_LOG` directive
//! that would lower a dependency below INFO is not honoured; one that quiets it is. What stays
//! is ours to keep clean, at every level: the runtime logs a handler's error `Debug` at ERROR,
//! and errors that may quote input go through [`crate::redact`].
//!
//! Metrics: one CloudWatch Embedded Metric Format line per decision when `METRICS_NAMESPACE`
//! is set.

use std::str::FromStr;

use serde_json::json;
use tracing::Level;
use tracing_subscriber::filter::{LevelFilter, filter_fn};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{Layer, Registry};

use crate::config::{Env, ProcessEnv};

/// Targets (crates) whose level follows the settings: portcullis' own. An allow-list, so a
/// new dependency is capped from its first line.
pub const OWN_TARGETS: [&str; 7] = [
    "portcullis",
    "header_secret_authorizer",
    "jwt_authorizer",
    "request_authorizer",
    "origin_signer",
    "secret_rotator",
    "cedar_authorizer",
];

/// The most verbose level any other target may log at.
pub const DEPENDENCY_MAX: LevelFilter = LevelFilter::INFO;

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// `LEVEL span: message fields`, without time (CloudWatch adds it), target or colours.
    Text,
    /// One JSON object per line (`AWS_LAMBDA_LOG_FORMAT=JSON`).
    Json,
}

/// Which targets log at which level, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogSettings {
    /// Level where no directive names the target.
    default: LevelFilter,
    /// `target=level` directives from `RUST_LOG`, in the order given.
    directives: Vec<(String, LevelFilter)>,
    /// Line format.
    pub format: LogFormat,
}

impl LogSettings {
    /// From the values of `AWS_LAMBDA_LOG_LEVEL`, `RUST_LOG` and `AWS_LAMBDA_LOG_FORMAT`.
    /// The Lambda level wins over `RUST_LOG`; an unreadable level or directive is ignored
    /// (INFO stays), like the Lambda runtime's own default subscriber.
    pub fn new(lambda_level: Option<&str>, rust_log: Option<&str>, format: Option<&str>) -> Self {
        let mut default = LevelFilter::INFO;
        let mut directives = Vec::new();
        if let Some(level) = lambda_level {
            default = parse_level(level).unwrap_or(LevelFilter::INFO);
        } else if let Some(rust_log) = rust_log {
            for item in rust_log.split(',').map(str::trim) {
                match item.split_once('=') {
                    None => {
                        if let Some(level) = parse_level(item) {
                            default = level;
                        }
                    }
                    Some((target, level)) => {
                        let target = target.trim();
                        let is_path = !target.is_empty()
                            && target
                                .bytes()
                                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b':');
                        if let (true, Some(level)) = (is_path, parse_level(level)) {
                            directives.push((target.to_owned(), level));
                        }
                    }
                }
            }
        }
        let format = match format {
            Some(f) if f.trim().eq_ignore_ascii_case("json") => LogFormat::Json,
            _ => LogFormat::Text,
        };
        Self {
            default,
            directives,
            format,
        }
    }

    /// From the process environment.
    pub fn from_env(env: &impl Env) -> Self {
        Self::new(
            env.var("AWS_LAMBDA_LOG_LEVEL").as_deref(),
            env.var("RUST_LOG").as_deref(),
            env.var("AWS_LAMBDA_LOG_FORMAT").as_deref(),
        )
    }

    /// The most verbose level `target` (a module path) may log at: the most specific
    /// directive naming it, else the default; at most [`DEPENDENCY_MAX`] outside
    /// [`OWN_TARGETS`].
    pub fn max_level(&self, target: &str) -> LevelFilter {
        let mut best: Option<&(String, LevelFilter)> = None;
        for directive in &self.directives {
            if covers(&directive.0, target) && best.is_none_or(|b| directive.0.len() >= b.0.len()) {
                best = Some(directive);
            }
        }
        let wanted = best.map_or(self.default, |(_, level)| *level);
        if OWN_TARGETS.iter().any(|own| covers(own, target)) {
            wanted
        } else {
            wanted.min(DEPENDENCY_MAX)
        }
    }

    /// Whether an event or span of `target` at `level` is logged.
    pub fn enabled(&self, target: &str, level: Level) -> bool {
        level <= self.max_level(target)
    }

    /// The most verbose level anything may log at (a hint that lets `tracing` skip the rest).
    fn ceiling(&self) -> LevelFilter {
        self.directives
            .iter()
            .map(|(_, level)| *level)
            .fold(self.default, LevelFilter::max)
    }
}

/// `target` is `prefix` or a module inside it (`portcullis::secrets`, not `portcullis_x`).
fn covers(prefix: &str, target: &str) -> bool {
    target
        .strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with("::"))
}

/// A Lambda level name (`TRACE` … `ERROR`, `FATAL`) or a `tracing` one (`off`, `warn`…).
fn parse_level(text: &str) -> Option<LevelFilter> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    if text.eq_ignore_ascii_case("fatal") {
        return Some(LevelFilter::ERROR);
    }
    LevelFilter::from_str(text).ok()
}

/// The log subscriber for `settings`, writing to `writer`.
pub fn subscriber<W>(settings: &LogSettings, writer: W) -> impl tracing::Subscriber + Send + Sync
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let fmt = tracing_subscriber::fmt::layer()
        .with_target(false)
        .without_time()
        .with_ansi(false)
        .with_writer(writer);
    let fmt: Box<dyn Layer<Registry> + Send + Sync> = match settings.format {
        LogFormat::Text => Box::new(fmt),
        LogFormat::Json => Box::new(fmt.json()),
    };
    let ceiling = settings.ceiling();
    let settings = settings.clone();
    let filter = filter_fn(move |meta| settings.enabled(meta.target(), *meta.level()))
        .with_max_level_hint(ceiling);
    tracing_subscriber::registry().with(fmt.with_filter(filter))
}

/// Installs the global log subscriber (stdout, settings from the environment); call once at
/// the start of `main`.
pub fn init() {
    subscriber(&LogSettings::from_env(&ProcessEnv), std::io::stdout).init();
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
    use std::sync::{Arc, Mutex};

    const TRACE: Level = Level::TRACE;
    const DEBUG: Level = Level::DEBUG;
    const INFO: Level = Level::INFO;
    const WARN: Level = Level::WARN;
    const ERROR: Level = Level::ERROR;

    /// The (target, level) pairs of `cases` that `settings` enables.
    fn enabled(
        settings: &LogSettings,
        cases: &[(&'static str, Level)],
    ) -> Vec<(&'static str, Level)> {
        cases
            .iter()
            .copied()
            .filter(|(target, level)| settings.enabled(target, *level))
            .collect()
    }

    #[test]
    fn the_lambda_level_reaches_our_crates_only() {
        let trace = LogSettings::new(Some("TRACE"), None, None);
        let cases = [
            ("portcullis", TRACE),
            ("portcullis::secrets", TRACE),
            ("header_secret_authorizer", TRACE),
            ("jwt_authorizer::cache", TRACE),
            ("request_authorizer::handler", TRACE),
            ("origin_signer", TRACE),
            ("secret_rotator", TRACE),
            ("cedar_authorizer::policy", TRACE),
            ("lambda_runtime::layers::api_response", TRACE),
            ("lambda_runtime::layers::api_response", DEBUG),
            ("lambda_runtime::layers::api_response", INFO),
            ("aws_smithy_runtime::client::orchestrator", DEBUG),
            ("aws_sigv4::http_request::sign", TRACE),
            ("hyper_util::client::legacy", DEBUG),
            ("reqwest::connect", DEBUG),
            ("rustls::client::hs", DEBUG),
            ("rustls::client::hs", WARN),
            ("portcullis_tests", DEBUG),
            ("portcullisx", TRACE),
            ("log", TRACE),
        ];
        assert_eq!(
            enabled(&trace, &cases),
            [
                ("portcullis", TRACE),
                ("portcullis::secrets", TRACE),
                ("header_secret_authorizer", TRACE),
                ("jwt_authorizer::cache", TRACE),
                ("request_authorizer::handler", TRACE),
                ("origin_signer", TRACE),
                ("secret_rotator", TRACE),
                ("cedar_authorizer::policy", TRACE),
                ("lambda_runtime::layers::api_response", INFO),
                ("rustls::client::hs", WARN),
            ]
        );
        assert_eq!(trace.format, LogFormat::Text);

        let error = LogSettings::new(Some("error"), Some("trace"), Some("json"));
        assert_eq!(
            enabled(
                &error,
                &[
                    ("portcullis", DEBUG),
                    ("portcullis", ERROR),
                    ("lambda_runtime", INFO),
                    ("lambda_runtime", ERROR)
                ]
            ),
            [("portcullis", ERROR), ("lambda_runtime", ERROR)]
        );
        assert_eq!(error.format, LogFormat::Json);
    }

    #[test]
    fn rust_log_directives_never_lower_a_dependency_below_info() {
        let s = LogSettings::new(
            None,
            Some(
                "aws_smithy_runtime=trace, request_authorizer=debug,lambda_runtime=warn,hyper=bogus",
            ),
            Some("Text"),
        );
        let cases = [
            ("aws_smithy_runtime::client", TRACE),
            ("aws_smithy_runtime::client", INFO),
            ("request_authorizer", TRACE),
            ("request_authorizer::rules", DEBUG),
            ("portcullis", DEBUG),
            ("portcullis", INFO),
            ("lambda_runtime", INFO),
            ("lambda_runtime", WARN),
            ("hyper", INFO),
            ("hyper", DEBUG),
        ];
        assert_eq!(
            enabled(&s, &cases),
            [
                ("aws_smithy_runtime::client", INFO),
                ("request_authorizer::rules", DEBUG),
                ("portcullis", INFO),
                ("lambda_runtime", WARN),
                ("hyper", INFO),
            ]
        );
        // The most specific directive wins; a bare level is the default.
        let s = LogSettings::new(
            None,
            Some("debug,portcullis=warn,portcullis::secrets=trace"),
            None,
        );
        let cases = [
            ("portcullis::secrets::ssm", TRACE),
            ("portcullis::config", INFO),
            ("portcullis::config", WARN),
            ("jwt_authorizer", DEBUG),
            ("aws_config", DEBUG),
        ];
        assert_eq!(
            enabled(&s, &cases),
            [
                ("portcullis::secrets::ssm", TRACE),
                ("portcullis::config", WARN),
                ("jwt_authorizer", DEBUG),
            ]
        );
    }

    #[test]
    fn unreadable_or_lambda_only_levels() {
        let info = [("portcullis", DEBUG), ("portcullis", INFO)];
        for level in ["verbose", "", "debug,"] {
            assert_eq!(
                enabled(&LogSettings::new(Some(level), None, None), &info),
                [("portcullis", INFO)],
                "{level:?}"
            );
        }
        assert_eq!(
            enabled(&LogSettings::new(None, None, None), &info),
            [("portcullis", INFO)]
        );
        let fatal = LogSettings::new(Some("FATAL"), None, None);
        assert_eq!(
            enabled(&fatal, &[("portcullis", WARN), ("portcullis", ERROR)]),
            [("portcullis", ERROR)]
        );
        let off = LogSettings::new(Some("off"), None, None);
        assert!(enabled(&off, &[("portcullis", ERROR), ("lambda_runtime", ERROR)]).is_empty());
    }

    /// A writer the test reads back.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn log_at_trace(format: &str) -> String {
        let out = Captured::default();
        let writer = out.clone();
        let settings = LogSettings::new(Some("TRACE"), None, Some(format));
        tracing::subscriber::with_default(subscriber(&settings, move || writer.clone()), || {
            tracing::trace!(
                target: "lambda_runtime::layers::api_response",
                body = "{\"headers\":{\"x-origin-verify\":\"sk-event-secret\"}}",
                "raw JSON event received from Lambda"
            );
            tracing::debug!(target: "aws_smithy_runtime::client::orchestrator", token = "sk-session", "transmitting request");
            tracing::info!(target: "lambda_runtime", "runtime started");
            tracing::trace!(target: "request_authorizer::handler", kind = "http-v2", "own trace");
        });
        String::from_utf8(out.0.lock().unwrap().clone()).unwrap()
    }

    #[test]
    fn dependency_trace_lines_never_reach_the_output() {
        assert_eq!(
            log_at_trace("text"),
            " INFO runtime started\nTRACE own trace kind=\"http-v2\"\n"
        );
        assert_eq!(
            log_at_trace("JSON"),
            "{\"level\":\"INFO\",\"fields\":{\"message\":\"runtime started\"}}\n\
             {\"level\":\"TRACE\",\"fields\":{\"message\":\"own trace\",\"kind\":\"http-v2\"}}\n"
        );
    }

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
