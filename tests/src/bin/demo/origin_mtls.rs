//! Demo of the lock-down with no shared secret (`events/origin-mtls/`): CloudFront's client
//! certificate pinned by `ORIGIN_CERT_SHA256`. The header-secret authorizer runs on the pin
//! alone (no secret parameter, nothing in SSM); the JWT authorizer checks the pin, then the token.

use crate::table::Tally;
use crate::{DemoContext, jwt, samples};

pub async fn run(ctx: &DemoContext) -> Tally {
    let root = ctx.events_dir.join("origin-mtls");
    let mut tally = Tally::default();

    let function = "header-secret-authorizer";
    let dir = root.join(function);
    let env = portcullis_tests::read_env_file(&dir.join("demo.env"));
    let setup = format!("demo.env: {}, no secret, no SSM", pin(&env));
    tally += samples::run(ctx, function, &dir, &env, &setup).await;

    let dir = root.join("jwt-authorizer");
    let Some(jwks_uri) = jwt::serve_jwks(&ctx.events_dir, "127.0.0.1:0").await else {
        tally.wrong += 1;
        return tally;
    };
    let env = jwt::demo_env(&dir, &jwks_uri);
    let setup = format!("demo.env: {}, JWKS at {jwks_uri}", pin(&env));
    tally += samples::run(ctx, "jwt-authorizer", &dir, &env, &setup).await;
    tally
}

/// `ORIGIN_CERT_SHA256=<first 12 hex digits>…`, or that it is unset.
fn pin(env: &[(String, String)]) -> String {
    env.iter()
        .find(|(k, _)| k == "ORIGIN_CERT_SHA256")
        .map_or_else(
            || "ORIGIN_CERT_SHA256 unset".to_owned(),
            |(k, v)| format!("{k}={}…", v.get(..12).unwrap_or(v)),
        )
}
