//! The canary: a request through CloudFront once it sends the new value.

use std::future::Future;
use std::time::Duration;

/// Asks a URL for its status code.
pub trait Canary: Send + Sync {
    /// The status `url` answers with, or why there is none (never quoting a secret: the
    /// request carries none, CloudFront adds it).
    fn status(&self, url: &str) -> impl Future<Output = Result<u16, String>> + Send;
}

/// A GET with reqwest, 10 s deadline, no redirects followed.
#[derive(Debug, Clone)]
pub struct HttpCanary(reqwest::Client);

impl HttpCanary {
    /// A client for canary requests, on the process's TLS configuration.
    pub fn new() -> Result<Self, String> {
        let tls = portcullis::tls::client_config().map_err(|e| e.to_string())?;
        reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map(Self)
            .map_err(|e| format!("cannot build the canary's HTTP client: {e}"))
    }
}

impl Canary for HttpCanary {
    async fn status(&self, url: &str) -> Result<u16, String> {
        self.0
            .get(url)
            .send()
            .await
            .map(|r| r.status().as_u16())
            .map_err(|e| format!("canary request failed: {}", e.without_url()))
    }
}
