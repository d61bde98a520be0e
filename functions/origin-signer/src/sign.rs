//! SigV4 header signing through the `aws-sigv4` crate. Time and credentials are parameters;
//! nothing here reads a clock or the environment.

use crate::error::SignError;
use crate::query;
use aws_sigv4::http_request::{
    PayloadChecksumKind, SessionTokenMode, SignableBody, SignableRequest, SigningSettings,
    UriPathNormalizationMode, sign,
};
use aws_sigv4::sign::v4;
use serde::Deserialize;
use std::fmt;
use std::time::{Duration, SystemTime};

/// AWS credentials of the function's role (from `AWS_ACCESS_KEY_ID`, … in the Node handler).
#[derive(Clone, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Credentials {
    /// Access key id.
    #[serde(default)]
    pub access_key_id: String,
    /// Secret access key.
    #[serde(default)]
    pub secret_access_key: String,
    /// Session token (always present for a Lambda role).
    #[serde(default)]
    pub session_token: Option<String>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"** redacted **")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "** redacted **"),
            )
            .finish()
    }
}

impl Credentials {
    /// Checks that key id and secret are present; an empty session token counts as none.
    pub fn validated(self) -> Result<Self, SignError> {
        if self.access_key_id.trim().is_empty() || self.secret_access_key.trim().is_empty() {
            return Err(SignError::MissingCredentials);
        }
        let session_token = self.session_token.filter(|t| !t.is_empty());
        Ok(Self {
            session_token,
            ..self
        })
    }
}

/// Converts milliseconds since the Unix epoch (JavaScript's `Date.now()`) to a `SystemTime`.
pub fn time_from_millis(millis: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_millis(millis)
}

/// What goes into the canonical request.
#[derive(Debug, Clone)]
pub struct SigningRequest<'a> {
    /// HTTP method.
    pub method: &'a str,
    /// Value of the `Host` header sent to the origin.
    pub host: &'a str,
    /// Path exactly as sent on the wire (percent-encoded), starting with `/`.
    pub path: &'a str,
    /// Raw query string without `?`.
    pub query: &'a str,
    /// Headers to sign besides `host` and the `x-amz-*` headers the signer adds.
    pub headers: &'a [(&'a str, &'a str)],
    /// The exact body bytes.
    pub payload: &'a [u8],
}

/// Signing scope and switches.
#[derive(Debug, Clone)]
pub struct SigningOptions<'a> {
    /// Region of the API.
    pub region: &'a str,
    /// Service name: `execute-api` for API Gateway.
    pub service: &'a str,
    /// Remove dot segments and empty segments from the path before encoding (SDK default).
    pub normalize_path: bool,
    /// Add and sign `x-amz-content-sha256`.
    pub content_sha256: bool,
    /// Sign `x-amz-security-token` (it is always sent when present).
    pub sign_session_token: bool,
}

impl<'a> SigningOptions<'a> {
    /// Settings API Gateway verifies against: path normalized then URI-encoded once more
    /// (the "double encoding" of non-S3 services), session token signed.
    pub fn execute_api(region: &'a str) -> Self {
        Self {
            region,
            service: "execute-api",
            normalize_path: true,
            content_sha256: false,
            sign_session_token: true,
        }
    }
}

/// Headers to add to the request, and the bare signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    /// `(lowercase name, value)`: `authorization`, `x-amz-date`, and when applicable
    /// `x-amz-security-token`, `x-amz-content-sha256`.
    pub headers: Vec<(&'static str, String)>,
    /// Hex signature.
    pub signature: String,
}

/// Signs `request` at `time` with `credentials`.
pub fn sign_request(
    request: &SigningRequest<'_>,
    credentials: &Credentials,
    options: &SigningOptions<'_>,
    time: SystemTime,
) -> Result<Signed, SignError> {
    if !request.path.starts_with('/') {
        return Err(SignError::Unsignable("path does not start with '/'"));
    }
    // `http::Uri` would silently cut the path at these; refuse instead of mis-signing.
    if request.path.contains(['?', '#']) {
        return Err(SignError::Unsignable("path contains '?' or '#'"));
    }
    let mut uri = format!("https://{}{}", request.host, request.path);
    let query = query::encode_for_signing(request.query)?;
    if !query.is_empty() {
        uri.push('?');
        uri.push_str(&query);
    }

    let identity = aws_credential_types::Credentials::new(
        credentials.access_key_id.clone(),
        credentials.secret_access_key.clone(),
        credentials.session_token.clone(),
        None,
        "lambda-edge-role",
    )
    .into();

    let mut settings = SigningSettings::default();
    settings.uri_path_normalization_mode = if options.normalize_path {
        UriPathNormalizationMode::Enabled
    } else {
        UriPathNormalizationMode::Disabled
    };
    if options.content_sha256 {
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    }
    if !options.sign_session_token {
        settings.session_token_mode = SessionTokenMode::Exclude;
    }

    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(options.region)
        .name(options.service)
        .time(time)
        .settings(settings)
        .build()
        .map_err(|e| SignError::Signing(e.to_string()))?
        .into();

    let headers = std::iter::once(("host", request.host)).chain(request.headers.iter().copied());
    let signable = SignableRequest::new(
        request.method,
        uri,
        headers,
        SignableBody::Bytes(request.payload),
    )
    .map_err(|_| SignError::Unsignable("path or query is not a valid request target"))?;

    let (instructions, signature) = sign(signable, &params)
        .map_err(|e| SignError::Signing(e.to_string()))?
        .into_parts();
    let (headers, _) = instructions.into_parts();
    let headers = headers
        .into_iter()
        .map(|h| (h.name(), h.value().to_owned()))
        .collect();
    Ok(Signed { headers, signature })
}
