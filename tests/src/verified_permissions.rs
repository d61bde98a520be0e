//! A local endpoint that speaks Amazon Verified Permissions' JSON protocol (`awsJson1_0`:
//! `POST /` with `X-Amz-Target: VerifiedPermissions.<Operation>`) for the operations the cedar
//! authorizer calls: `ListPolicies` (paged), `BatchGetPolicy` (at most 100 per call) and
//! `GetSchema`. No emulator implements Verified Permissions (moto does not), so this one is
//! written from the service's API reference; the real SDK client talks to it unchanged.
//!
//! Faults: the next N calls answer `ThrottlingException`; a policy can be template-linked; a
//! listed policy can be missing from `BatchGetPolicy` (deleted in between).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

/// One stored policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoredPolicy {
    /// A static policy with its Cedar text.
    Static(String),
    /// A policy linked to a template (the authorizer refuses these).
    TemplateLinked,
}

/// What the store holds and how it misbehaves.
#[derive(Debug, Default)]
struct Store {
    id: String,
    schema: Option<String>,
    policies: Vec<(String, StoredPolicy)>,
    page_size: usize,
    throttle_next: u32,
    hidden_from_batch: Vec<String>,
    calls: Vec<String>,
}

/// The running endpoint; stops when dropped.
pub struct VerifiedPermissions {
    addr: SocketAddr,
    store: Arc<Mutex<Store>>,
    task: tokio::task::JoinHandle<()>,
}

const TIMESTAMP: &str = "2026-01-01T00:00:00Z";

impl VerifiedPermissions {
    /// Serves policy store `id` (empty, no schema) on a loopback port, `page_size` policies per
    /// `ListPolicies` page at most.
    pub async fn start(id: &str, page_size: usize) -> Self {
        let store = Arc::new(Mutex::new(Store {
            id: id.to_owned(),
            page_size: page_size.max(1),
            ..Store::default()
        }));
        let app = Router::new()
            .route("/", post(handle))
            .with_state(store.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self { addr, store, task }
    }

    /// The endpoint URL (`AWS_ENDPOINT_URL_VERIFIEDPERMISSIONS`).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn store(&self) -> std::sync::MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// An SDK configuration for this endpoint: test credentials, three attempts per call with
    /// a 1 ms initial backoff (so throttling tests retry without waiting).
    pub fn sdk_config(&self) -> aws_config::SdkConfig {
        aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(
                aws_credential_types::provider::SharedCredentialsProvider::new(
                    aws_credential_types::Credentials::new(
                        "testing", "testing", None, None, "test",
                    ),
                ),
            )
            .retry_config(
                aws_config::retry::RetryConfig::standard()
                    .with_max_attempts(3)
                    .with_initial_backoff(std::time::Duration::from_millis(1)),
            )
            .endpoint_url(self.url())
            .http_client(portcullis::secrets::sdk_http_client())
            .build()
    }

    /// Replaces the schema (Cedar JSON text).
    pub fn set_schema(&self, schema: &str) {
        self.store().schema = Some(schema.to_owned());
    }

    /// Replaces the policies, in listing order.
    pub fn set_policies(&self, policies: Vec<(String, StoredPolicy)>) {
        self.store().policies = policies;
    }

    /// Adds or replaces one static policy.
    pub fn put_policy(&self, id: &str, statement: &str) {
        let mut store = self.store();
        store.policies.retain(|(p, _)| p != id);
        store
            .policies
            .push((id.to_owned(), StoredPolicy::Static(statement.to_owned())));
    }

    /// The next `n` calls answer `ThrottlingException` (HTTP 400).
    pub fn throttle_next(&self, n: u32) {
        self.store().throttle_next = n;
    }

    /// `BatchGetPolicy` answers an error item for `id` (listed, then gone).
    pub fn hide_from_batch(&self, id: &str) {
        self.store().hidden_from_batch.push(id.to_owned());
    }

    /// The operations called so far, in order (throttled calls included).
    pub fn calls(&self) -> Vec<String> {
        self.store().calls.clone()
    }
}

impl Drop for VerifiedPermissions {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn handle(
    State(store): State<Arc<Mutex<Store>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let Some(operation) = target.strip_prefix("VerifiedPermissions.") else {
        return error("UnknownOperationException", "missing X-Amz-Target");
    };
    let Ok(input) = serde_json::from_slice::<Value>(&body) else {
        return error("SerializationException", "body is not JSON");
    };
    let mut store = store.lock().unwrap_or_else(PoisonError::into_inner);
    store.calls.push(operation.to_owned());
    if store.throttle_next > 0 {
        store.throttle_next -= 1;
        return error("ThrottlingException", "Rate exceeded");
    }
    let answer = match operation {
        "ListPolicies" => list_policies(&store, &input),
        "BatchGetPolicy" => batch_get_policy(&store, &input),
        "GetSchema" => get_schema(&store, &input),
        other => Err((
            "UnknownOperationException",
            format!("{other} is not served"),
        )),
    };
    match answer {
        Ok(body) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/x-amz-json-1.0")],
            body.to_string(),
        )
            .into_response(),
        Err((kind, message)) => error(kind, &message),
    }
}

type Answer = Result<Value, (&'static str, String)>;

fn store_of<'a>(store: &'a Store, input: &Value) -> Result<&'a Store, (&'static str, String)> {
    match input["policyStoreId"].as_str() {
        Some(id) if id == store.id => Ok(store),
        Some(_) => Err(("ResourceNotFoundException", "policy store not found".into())),
        None => Err(("ValidationException", "policyStoreId is required".into())),
    }
}

fn list_policies(store: &Store, input: &Value) -> Answer {
    let store = store_of(store, input)?;
    let max = input["maxResults"]
        .as_u64()
        .map_or(store.page_size, |m| (m as usize).min(store.page_size));
    let start = match input["nextToken"].as_str() {
        None => 0,
        Some(token) => token
            .strip_prefix("page-")
            .and_then(|n| n.parse().ok())
            .ok_or(("ValidationException", "invalid nextToken".to_owned()))?,
    };
    let page: Vec<Value> = store
        .policies
        .iter()
        .skip(start)
        .take(max)
        .map(|(id, policy)| {
            json!({"policyStoreId": store.id, "policyId": id, "policyType": kind(policy),
                "definition": definition(policy, false), "createdDate": TIMESTAMP,
                "lastUpdatedDate": TIMESTAMP})
        })
        .collect();
    let mut out = json!({ "policies": page });
    if start + max < store.policies.len() {
        out["nextToken"] = json!(format!("page-{}", start + max));
    }
    Ok(out)
}

fn batch_get_policy(store: &Store, input: &Value) -> Answer {
    let requests = input["requests"].as_array().cloned().unwrap_or_default();
    if requests.is_empty() || requests.len() > 100 {
        return Err((
            "ValidationException",
            "requests must hold 1 to 100 items".into(),
        ));
    }
    let mut results = Vec::new();
    let mut errors = Vec::new();
    for request in &requests {
        let id = request["policyId"].as_str().unwrap_or_default();
        let found = store_of(store, request)
            .ok()
            .filter(|_| !store.hidden_from_batch.iter().any(|h| h == id))
            .and_then(|s| s.policies.iter().find(|(p, _)| p == id));
        match found {
            Some((id, policy)) => results.push(json!({"policyStoreId": store.id, "policyId": id,
                "policyType": kind(policy), "definition": definition(policy, true),
                "createdDate": TIMESTAMP, "lastUpdatedDate": TIMESTAMP})),
            None => errors.push(json!({"code": "POLICY_NOT_FOUND",
                "policyStoreId": request["policyStoreId"], "policyId": id,
                "message": "policy not found"})),
        }
    }
    Ok(json!({ "results": results, "errors": errors }))
}

fn get_schema(store: &Store, input: &Value) -> Answer {
    let store = store_of(store, input)?;
    let schema = store
        .schema
        .as_ref()
        .ok_or(("ResourceNotFoundException", "no schema".to_owned()))?;
    Ok(
        json!({"policyStoreId": store.id, "schema": schema, "createdDate": TIMESTAMP,
        "lastUpdatedDate": TIMESTAMP}),
    )
}

fn kind(policy: &StoredPolicy) -> &'static str {
    match policy {
        StoredPolicy::Static(_) => "STATIC",
        StoredPolicy::TemplateLinked => "TEMPLATE_LINKED",
    }
}

/// A policy's definition: `ListPolicies` gives no statement, `BatchGetPolicy` does.
fn definition(policy: &StoredPolicy, with_statement: bool) -> Value {
    match policy {
        StoredPolicy::Static(text) if with_statement => json!({"static": {"statement": text}}),
        StoredPolicy::Static(_) => json!({"static": {"description": ""}}),
        StoredPolicy::TemplateLinked => json!({"templateLinked": {"policyTemplateId": "t1",
            "principal": {"entityType": "Api::User", "entityId": "u"}}}),
    }
}

fn error(kind: &str, message: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        [
            (header::CONTENT_TYPE, "application/x-amz-json-1.0"),
            (header::HeaderName::from_static("x-amzn-errortype"), kind),
        ],
        json!({"__type": kind, "message": message}).to_string(),
    )
        .into_response()
}
