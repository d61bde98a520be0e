//! Rotation of the CloudFront origin secret end to end, on moto (Secrets Manager and
//! CloudFront): legitimate requests flow without pause through a stand-in for CloudFront (it
//! reads the header value from the distribution's config in moto, as an edge sends what its
//! config says) to two real `header-secret-authorizer` processes (1 s secret cache), while the
//! real `secret-rotator` binary runs the four steps the way Secrets Manager calls them, through
//! a fault proxy. Each run counts refused legitimate requests: it must be 0, with and without
//! faults. `make rotate-demo` runs the fault-free one with its counters shown.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use aws_sdk_cloudfront::types::{
    CustomHeaders, DefaultCacheBehavior, DistributionConfig, Origin, OriginCustomHeader, Origins,
    ViewerProtocolPolicy,
};
use portcullis_tests::{
    Fault, FaultProxy, Injected, InvokeError, Lambda, Moto, binary, decision_for, sample_event,
};
use serde_json::{Value, json};

const SECRET: &str = "portcullis-origin-secret";
const OLD: &str = "pc-rotation-old-7c1e9a3f5b2d4e6a8c0e2f4a6b8d0c1e";
const HEADER: &str = "x-origin-verify";
const TOKEN: &str = "6a1f0c3e-9b7d-4e5a-8c2f-1d3b5a7c9e0f";
const PRECONDITION_FAILED: &str = "<ErrorResponse><Error><Type>Sender</Type><Code>PreconditionFailed</Code><Message>The If-Match version is missing or not valid for the resource.</Message></Error><RequestId>fault</RequestId></ErrorResponse>";
const CF_THROTTLED: &str = "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>fault</RequestId></ErrorResponse>";
const SM_THROTTLED: &str = r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#;

/// What the stand-in saw: each refusal (decision, which value was sent) and, live, the count of
/// requests allowed and refused.
#[derive(Debug, Default)]
struct Traffic {
    allowed: usize,
    refused: Vec<String>,
}

#[derive(Debug, Default)]
struct Counters {
    allowed: AtomicUsize,
    refused: AtomicUsize,
}

/// A legitimate request as API Gateway hands it to the authorizer, with the value CloudFront
/// adds.
fn request(value: &str) -> Value {
    let mut event = sample_event("header-secret-authorizer", "http-v2-valid.json");
    event["headers"][HEADER] = json!(value);
    event["identitySource"] = json!([value]);
    event
}

/// A CloudFront client for `moto`.
fn cloudfront(moto: &Moto) -> aws_sdk_cloudfront::Client {
    aws_sdk_cloudfront::Client::new(&moto.sdk_config())
}

/// The value the distribution's config makes CloudFront send to origin `api`.
async fn sent(cloudfront: &aws_sdk_cloudfront::Client, distribution: &str) -> String {
    let config = cloudfront
        .get_distribution_config()
        .id(distribution)
        .send()
        .await
        .expect("GetDistributionConfig")
        .distribution_config
        .expect("config");
    let api = config
        .origins
        .expect("origins")
        .items
        .into_iter()
        .find(|o| o.id == "api")
        .expect("origin api");
    api.custom_headers
        .expect("headers")
        .items
        .unwrap_or_default()
        .into_iter()
        .find(|h| h.header_name.eq_ignore_ascii_case(HEADER))
        .expect("the secret header")
        .header_value
}

fn origin(id: &str, header: Option<&str>) -> Origin {
    let mut builder = Origin::builder()
        .id(id)
        .domain_name(format!("{id}.execute-api.us-east-1.amazonaws.com"));
    if let Some(value) = header {
        builder = builder.custom_headers(
            CustomHeaders::builder()
                .quantity(1)
                .items(
                    OriginCustomHeader::builder()
                        .header_name(HEADER)
                        .header_value(value)
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        );
    }
    builder.build().unwrap()
}

struct Rig {
    moto: Moto,
    proxy: FaultProxy,
    distribution: String,
    stop: Arc<AtomicBool>,
    counters: Arc<Counters>,
    traffic: tokio::task::JoinHandle<(Traffic, Vec<Lambda>)>,
    started: Instant,
}

impl Rig {
    /// moto with the secret (`OLD`) and a distribution whose origin `api` sends it; two
    /// authorizers reading the secret from Secrets Manager; traffic flowing.
    async fn start() -> Self {
        let moto = Moto::start().await;
        moto.secretsmanager_client()
            .create_secret()
            .name(SECRET)
            .secret_string(OLD)
            .send()
            .await
            .expect("CreateSecret");
        let config = DistributionConfig::builder()
            .caller_reference("portcullis-rotation-test")
            .comment("rotation test")
            .enabled(true)
            .origins(
                Origins::builder()
                    .quantity(2)
                    .items(origin("api", Some(OLD)))
                    .items(origin("static", None))
                    .build()
                    .unwrap(),
            )
            .default_cache_behavior(
                DefaultCacheBehavior::builder()
                    .target_origin_id("api")
                    .viewer_protocol_policy(ViewerProtocolPolicy::HttpsOnly)
                    .build()
                    .unwrap(),
            )
            .build()
            .unwrap();
        let distribution = cloudfront(&moto)
            .create_distribution()
            .distribution_config(config)
            .send()
            .await
            .expect("CreateDistribution")
            .distribution
            .expect("distribution")
            .id;
        let mut authorizers = Vec::new();
        for _ in 0..2 {
            let mut env = moto.aws_env();
            env.extend(
                [
                    ("SECRET_SECRETS_MANAGER_ID", SECRET),
                    ("SECRET_CACHE_TTL_SECONDS", "1"),
                    ("HTTP_API_RESPONSE_MODE", "simple"),
                    ("AWS_LAMBDA_LOG_FORMAT", "JSON"),
                    ("AWS_LAMBDA_LOG_LEVEL", "TRACE"),
                ]
                .map(|(k, v)| (k.to_owned(), v.to_owned())),
            );
            let mut lambda = Lambda::spawn(&binary("header-secret-authorizer"), &env)
                .await
                .expect("spawn authorizer");
            lambda.wait_ready().await.expect("authorizer ready");
            authorizers.push(lambda);
        }
        let stop = Arc::new(AtomicBool::new(false));
        let counters = Arc::new(Counters::default());
        let traffic = tokio::spawn(flow(
            cloudfront(&moto),
            distribution.clone(),
            authorizers,
            stop.clone(),
            counters.clone(),
        ));
        let proxy = FaultProxy::start(&moto.endpoint()).await;
        Self {
            moto,
            proxy,
            distribution,
            stop,
            counters,
            traffic,
            started: Instant::now(),
        }
    }

    /// The real rotator, reaching moto through the fault proxy.
    async fn rotator(&self, extra: &[(&str, &str)]) -> Lambda {
        let mut env = Moto::aws_env_via(&self.proxy.endpoint());
        env.extend(
            [
                ("CLOUDFRONT_DISTRIBUTION_ID", self.distribution.as_str()),
                ("PROPAGATION_WAIT_SECONDS", "2"),
                ("OLD_SECRET_GRACE_SECONDS", "1"),
                ("DEPLOYMENT_POLL_SECONDS", "1"),
                ("AWS_LAMBDA_LOG_LEVEL", "TRACE"),
            ]
            .iter()
            .chain(extra)
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        let mut lambda = Lambda::spawn(&binary("secret-rotator"), &env)
            .await
            .expect("spawn rotator");
        lambda.timeout = Duration::from_secs(60);
        lambda.wait_ready().await.expect("rotator ready");
        lambda
    }

    async fn value(&self, stage: &str) -> Option<String> {
        self.moto
            .secretsmanager_client()
            .get_secret_value()
            .secret_id(SECRET)
            .version_stage(stage)
            .send()
            .await
            .ok()
            .and_then(|o| o.secret_string)
    }

    async fn sent(&self) -> String {
        sent(&cloudfront(&self.moto), &self.distribution).await
    }

    /// Lets traffic flow `settle` longer (authorizer caches expire), stops it, prints the
    /// counters and returns them with the authorizers.
    async fn stop(self, name: &str, settle: Duration) -> (Traffic, Vec<Lambda>, Moto, String) {
        tokio::time::sleep(settle).await;
        self.stop.store(true, Ordering::SeqCst);
        let (traffic, authorizers) = self.traffic.await.expect("traffic task");
        println!(
            "{name}: {} legitimate requests allowed, {} refused, in {:.1} s",
            traffic.allowed,
            traffic.refused.len(),
            self.started.elapsed().as_secs_f64()
        );
        (traffic, authorizers, self.moto, self.distribution)
    }
}

/// The stand-in for CloudFront: reads the value its config says to send, sends it to each
/// authorizer, counts, and goes again, until stopped.
async fn flow(
    cloudfront: aws_sdk_cloudfront::Client,
    distribution: String,
    mut authorizers: Vec<Lambda>,
    stop: Arc<AtomicBool>,
    counters: Arc<Counters>,
) -> (Traffic, Vec<Lambda>) {
    let mut traffic = Traffic::default();
    while !stop.load(Ordering::SeqCst) {
        let value = sent(&cloudfront, &distribution).await;
        for lambda in &mut authorizers {
            let event = request(&value);
            let result = lambda.invoke(&event).await;
            match decision_for(&event, &result).as_str() {
                "Allow" => {
                    counters.allowed.fetch_add(1, Ordering::SeqCst);
                }
                other => {
                    traffic
                        .refused
                        .push(format!("{other} for {}", fingerprint(&value)));
                    counters.refused.fetch_add(1, Ordering::SeqCst);
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    traffic.allowed = counters.allowed.load(Ordering::SeqCst);
    (traffic, authorizers)
}

/// Which value, without printing it.
fn fingerprint(value: &str) -> &'static str {
    if value == OLD {
        "the old value"
    } else {
        "a new value"
    }
}

fn step(name: &str) -> Value {
    json!({"Step": name, "SecretId": SECRET, "ClientRequestToken": TOKEN})
}

impl Rig {
    /// Runs one step and prints where things stand.
    async fn run(&self, rotator: &mut Lambda, name: &str) -> Result<Value, InvokeError> {
        let result = rotator.invoke(&step(name)).await;
        let sent = self.sent().await;
        let which = if sent == OLD {
            "the old value"
        } else if Some(&sent) == self.value("AWSCURRENT").await.as_ref() {
            "the new value, AWSCURRENT"
        } else {
            "the new value, AWSPENDING"
        };
        println!(
            "  {:>5.1} s  {name:<12} {:<6}  CloudFront sends {which:<26} requests: {} allowed, {} refused",
            self.started.elapsed().as_secs_f64(),
            if result.is_ok() { "done" } else { "failed" },
            self.counters.allowed.load(Ordering::SeqCst),
            self.counters.refused.load(Ordering::SeqCst),
        );
        result
    }
}

/// After a completed rotation: 0 refused; the new value sent, `AWSCURRENT`, and accepted; the
/// old one refused by every authorizer; no value in any log line (every process logs at TRACE).
async fn assert_rotated(rig: Rig, name: &str, rotator: &Lambda) {
    let new = rig.value("AWSCURRENT").await.expect("AWSCURRENT");
    assert_ne!(new, OLD);
    assert_eq!(new.len(), 48);
    assert_eq!(rig.sent().await, new, "CloudFront sends AWSCURRENT");
    assert_eq!(
        rig.value("AWSPENDING").await,
        None,
        "no rotation left pending"
    );
    let (traffic, mut authorizers, _moto, _) = rig.stop(name, Duration::from_millis(1500)).await;
    assert_eq!(
        traffic.refused,
        Vec::<String>::new(),
        "legitimate requests refused"
    );
    assert!(
        traffic.allowed > 50,
        "too little traffic: {}",
        traffic.allowed
    );
    for lambda in &mut authorizers {
        let old = request(OLD);
        assert_eq!(decision_for(&old, &lambda.invoke(&old).await), "Deny");
        let current = request(&new);
        assert_eq!(
            decision_for(&current, &lambda.invoke(&current).await),
            "Allow"
        );
    }
    for line in authorizers
        .iter()
        .flat_map(Lambda::logs)
        .chain(rotator.logs())
    {
        assert!(
            !line.contains(OLD) && !line.contains(&new),
            "a secret in a log line: {line}"
        );
    }
}

#[tokio::test]
async fn rotation_fails_no_request() {
    let rig = Rig::start().await;
    let mut rotator = rig.rotator(&[]).await;
    for name in ["createSecret", "setSecret", "testSecret", "finishSecret"] {
        rig.run(&mut rotator, name).await.expect(name);
    }
    assert_rotated(rig, "no fault", &rotator).await;
}

#[tokio::test]
async fn a_conflicting_cloudfront_update_is_retried_and_fails_no_request() {
    let rig = Rig::start().await;
    let mut rotator = rig.rotator(&[]).await;
    rig.run(&mut rotator, "createSecret").await.unwrap();
    let conflict = Injected::cloudfront("PUT", "/config", 412, PRECONDITION_FAILED, 2);
    rig.proxy.set(Fault::Matching(conflict.clone()));
    rig.run(&mut rotator, "setSecret").await.unwrap();
    assert_eq!(conflict.left(), 0, "both conflicts were answered");
    rig.proxy.set(Fault::Pass);
    rig.run(&mut rotator, "testSecret").await.unwrap();
    rig.run(&mut rotator, "finishSecret").await.unwrap();
    assert_rotated(rig, "PreconditionFailed twice", &rotator).await;
}

#[tokio::test]
async fn throttling_is_retried_and_fails_no_request() {
    let rig = Rig::start().await;
    let mut rotator = rig.rotator(&[]).await;
    let secrets = Injected {
        method: "POST",
        path_contains: "/",
        status: 400,
        body: SM_THROTTLED,
        times: Arc::new(2.into()),
    };
    rig.proxy.set(Fault::Matching(secrets.clone()));
    rig.run(&mut rotator, "createSecret").await.unwrap();
    assert_eq!(secrets.left(), 0);
    let cloudfront = Injected::cloudfront("GET", "/config", 400, CF_THROTTLED, 2);
    rig.proxy.set(Fault::Matching(cloudfront.clone()));
    rig.run(&mut rotator, "setSecret").await.unwrap();
    assert_eq!(cloudfront.left(), 0);
    rig.proxy.set(Fault::Pass);
    rig.run(&mut rotator, "testSecret").await.unwrap();
    rig.run(&mut rotator, "finishSecret").await.unwrap();
    assert_rotated(rig, "throttled (Secrets Manager, CloudFront)", &rotator).await;
}

#[tokio::test]
async fn a_rotator_killed_mid_step_is_retried_and_fails_no_request() {
    let rig = Rig::start().await;
    let mut rotator = rig.rotator(&[("PROPAGATION_WAIT_SECONDS", "3")]).await;
    rig.run(&mut rotator, "createSecret").await.unwrap();
    // setSecret is waiting out the propagation: the function times out and is killed.
    let cut =
        tokio::time::timeout(Duration::from_secs(1), rotator.invoke(&step("setSecret"))).await;
    assert!(cut.is_err(), "setSecret returned within 1 s of a 3 s wait");
    drop(rotator);
    assert_eq!(rig.sent().await, OLD, "nothing switched by the killed step");
    // Secrets Manager retries the step on a fresh instance.
    let mut rotator = rig.rotator(&[("PROPAGATION_WAIT_SECONDS", "3")]).await;
    for name in ["setSecret", "testSecret", "finishSecret"] {
        rig.run(&mut rotator, name).await.expect(name);
    }
    assert_rotated(rig, "rotator killed during setSecret", &rotator).await;
}

#[tokio::test]
async fn a_refused_canary_stops_the_rotation_with_the_old_value_working() {
    let canary = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/health", canary.local_addr().unwrap());
    let app = axum::Router::new().route(
        "/health",
        axum::routing::get(|| async { axum::http::StatusCode::FORBIDDEN }),
    );
    tokio::spawn(async move { axum::serve(canary, app).await });
    let rig = Rig::start().await;
    let mut rotator = rig.rotator(&[("CANARY_URL", url.as_str())]).await;
    rig.run(&mut rotator, "createSecret").await.unwrap();
    rig.run(&mut rotator, "setSecret").await.unwrap();
    let pending = rig.value("AWSPENDING").await.expect("AWSPENDING");
    assert_eq!(rig.sent().await, pending);
    let Err(InvokeError::Function { message, .. }) = rig.run(&mut rotator, "testSecret").await
    else {
        panic!("testSecret passed with a canary answering 403");
    };
    assert_eq!(
        message,
        "canary answered 403 with the new value; CloudFront sends the current value again"
    );
    assert_eq!(rig.sent().await, OLD, "CloudFront switched back");
    assert_eq!(rig.value("AWSCURRENT").await.as_deref(), Some(OLD));
    let (traffic, mut authorizers, _moto, _) = rig
        .stop("canary answered 403", Duration::from_millis(1500))
        .await;
    assert_eq!(traffic.refused, Vec::<String>::new());
    for lambda in &mut authorizers {
        let old = request(OLD);
        assert_eq!(decision_for(&old, &lambda.invoke(&old).await), "Allow");
    }
}
