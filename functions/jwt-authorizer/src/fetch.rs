//! Where key sets come from: the [`JwksFetcher`] trait, its HTTP adapter (reqwest + rustls,
//! optional OIDC discovery) and an in-memory adapter for unit tests.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::Url;
use serde_json::Value;

use super::error::FetchError;

/// Fetches the raw JWKS document of one issuer. Implementations bound time and size.
pub trait JwksFetcher: Send + Sync + 'static {
    /// Fetch the current JWKS body.
    fn fetch(&self) -> impl Future<Output = Result<Vec<u8>, FetchError>> + Send;
}

/// Where an issuer's keys are published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JwksLocation {
    /// A JWKS URL given in configuration.
    Direct(Url),
    /// OIDC discovery on the issuer: `<issuer>/.well-known/openid-configuration`.
    Discovery {
        /// The configured issuer; the discovery document must name exactly this issuer.
        issuer: String,
    },
}

/// HTTP limits of the real fetcher.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpLimits {
    /// TCP/TLS connect timeout.
    pub connect_timeout: Duration,
    /// Whole-request timeout (connect + headers + body).
    pub timeout: Duration,
    /// Largest accepted response body (JWKS and discovery documents).
    pub max_bytes: usize,
}

/// Check a URL we will fetch keys from: `https`, or `http` on a loopback host (local tests).
pub fn check_url(url: &Url) -> Result<(), String> {
    let loopback = matches!(
        url.host_str(),
        Some("127.0.0.1" | "localhost" | "[::1]" | "::1")
    );
    match url.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        _ => Err(format!(
            "{url} must use https (plain http only on a loopback host)"
        )),
    }
}

/// The real fetcher: reqwest with rustls, no redirects, connect/overall timeouts, body cap.
#[derive(Debug, Clone)]
pub struct HttpFetcher {
    client: reqwest::Client,
    location: JwksLocation,
    limits: HttpLimits,
    discovered: Arc<Mutex<Option<Url>>>,
}

impl HttpFetcher {
    /// Build a shared client with these limits (share it between issuers with [`Self::with_client`]).
    pub fn client(limits: &HttpLimits) -> Result<reqwest::Client, String> {
        let tls = portcullis::tls::client_config().map_err(|e| e.to_string())?;
        reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .connect_timeout(limits.connect_timeout)
            .timeout(limits.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("portcullis-jwt/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))
    }

    /// A fetcher for one issuer on a shared client.
    pub fn with_client(
        client: reqwest::Client,
        location: JwksLocation,
        limits: HttpLimits,
    ) -> Self {
        HttpFetcher {
            client,
            location,
            limits,
            discovered: Arc::new(Mutex::new(None)),
        }
    }

    async fn get(&self, url: Url) -> Result<Vec<u8>, FetchError> {
        let mut response = self
            .client
            .get(url)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| FetchError::Transport(transport_reason(&e)))?;
        let status = response.status();
        if !status.is_success() {
            return Err(FetchError::Status(status.as_u16()));
        }
        let max = self.limits.max_bytes;
        if response
            .content_length()
            .is_some_and(|len| len > max as u64)
        {
            return Err(FetchError::TooLarge(max));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| FetchError::Transport(transport_reason(&e)))?
        {
            if body.len() + chunk.len() > max {
                return Err(FetchError::TooLarge(max));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    async fn jwks_url(&self) -> Result<Url, FetchError> {
        let issuer = match &self.location {
            JwksLocation::Direct(url) => return Ok(url.clone()),
            JwksLocation::Discovery { issuer } => issuer,
        };
        if let Some(url) = self.discovered.lock().expect("poisoned").clone() {
            return Ok(url);
        }
        let url = discovery_url(issuer).map_err(FetchError::Invalid)?;
        let body = self.get(url).await?;
        let doc: Value = serde_json::from_slice(&body)
            .map_err(|_| FetchError::Invalid("discovery document is not JSON".into()))?;
        if doc.get("issuer").and_then(Value::as_str) != Some(issuer.as_str()) {
            return Err(FetchError::IssuerMismatch);
        }
        let jwks = doc
            .get("jwks_uri")
            .and_then(Value::as_str)
            .and_then(|s| Url::parse(s).ok())
            .ok_or_else(|| FetchError::Invalid("discovery document has no jwks_uri".into()))?;
        check_url(&jwks).map_err(FetchError::Invalid)?;
        *self.discovered.lock().expect("poisoned") = Some(jwks.clone());
        Ok(jwks)
    }
}

/// `<issuer>/.well-known/openid-configuration` (one slash between them).
pub fn discovery_url(issuer: &str) -> Result<Url, String> {
    let url = Url::parse(&format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    ))
    .map_err(|e| format!("issuer {issuer} is not a URL: {e}"))?;
    check_url(&url)?;
    Ok(url)
}

fn transport_reason(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timeout".into()
    } else if e.is_connect() {
        "connect failed".into()
    } else if e.is_body() || e.is_decode() {
        "body read failed".into()
    } else {
        "request failed".into()
    }
}

impl JwksFetcher for HttpFetcher {
    async fn fetch(&self) -> Result<Vec<u8>, FetchError> {
        let url = self.jwks_url().await?;
        self.get(url).await
    }
}

/// In-memory fetcher for unit tests: a settable response, an optional delay, a call counter.
#[derive(Debug, Clone)]
pub struct MemoryFetcher {
    inner: Arc<MemoryInner>,
}

#[derive(Debug)]
struct MemoryInner {
    response: Mutex<Result<Vec<u8>, FetchError>>,
    delay: Mutex<Duration>,
    calls: AtomicUsize,
}

impl MemoryFetcher {
    /// A fetcher that returns `body`.
    pub fn new(body: impl Into<Vec<u8>>) -> Self {
        MemoryFetcher {
            inner: Arc::new(MemoryInner {
                response: Mutex::new(Ok(body.into())),
                delay: Mutex::new(Duration::ZERO),
                calls: AtomicUsize::new(0),
            }),
        }
    }

    /// Replace the response (a body or an error).
    pub fn set(&self, response: Result<Vec<u8>, FetchError>) {
        *self.inner.response.lock().expect("poisoned") = response;
    }

    /// Delay every fetch by `delay` (tokio time, so paused clocks apply).
    pub fn set_delay(&self, delay: Duration) {
        *self.inner.delay.lock().expect("poisoned") = delay;
    }

    /// How many fetches were made.
    pub fn calls(&self) -> usize {
        self.inner.calls.load(Ordering::SeqCst)
    }
}

impl JwksFetcher for MemoryFetcher {
    async fn fetch(&self) -> Result<Vec<u8>, FetchError> {
        self.inner.calls.fetch_add(1, Ordering::SeqCst);
        let delay = *self.inner.delay.lock().expect("poisoned");
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        self.inner.response.lock().expect("poisoned").clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_or_loopback_http() {
        for ok in [
            "https://idp.example.com/jwks",
            "http://127.0.0.1:8080/jwks",
            "http://localhost/jwks",
            "http://[::1]:9/jwks",
        ] {
            assert!(check_url(&Url::parse(ok).unwrap()).is_ok(), "{ok}");
        }
        for bad in [
            "http://idp.example.com/jwks",
            "ftp://127.0.0.1/jwks",
            "file:///etc/passwd",
        ] {
            assert!(check_url(&Url::parse(bad).unwrap()).is_err(), "{bad}");
        }
    }

    #[test]
    fn discovery_url_joins_with_one_slash() {
        assert_eq!(
            discovery_url("https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc")
                .unwrap()
                .as_str(),
            "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc/.well-known/openid-configuration"
        );
        assert_eq!(
            discovery_url("https://tenant.auth0.com/").unwrap().as_str(),
            "https://tenant.auth0.com/.well-known/openid-configuration"
        );
        assert!(discovery_url("http://idp.example.com").is_err());
    }
}
