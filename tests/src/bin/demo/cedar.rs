//! Demo of the Cedar authorizer: the JWT demo key set on loopback, the settings of
//! `events/cedar-authorizer/demo.env` (the sample pet store policies and schema), every sample.

use crate::DemoContext;
use crate::jwt::{demo_env, serve_jwks};
use crate::samples;
use crate::table::Tally;

const FUNCTION: &str = "cedar-authorizer";

pub async fn run(ctx: &DemoContext) -> Tally {
    let dir = ctx.events_dir.join(FUNCTION);
    let Some(jwks_uri) = serve_jwks(&ctx.events_dir, "127.0.0.1:0").await else {
        return Tally { ok: 0, wrong: 1 };
    };
    // demo.env names the policy files from the repository root (where `cargo lambda watch`
    // runs); the demo may run elsewhere.
    let root = ctx.events_dir.parent().unwrap_or(&ctx.events_dir);
    let env = demo_env(&dir, &jwks_uri)
        .into_iter()
        .map(|(k, v)| match k.as_str() {
            "CEDAR_POLICY_FILE" | "CEDAR_SCHEMA_FILE" => {
                let path = root.join(&v).display().to_string();
                (k, path)
            }
            _ => (k, v),
        })
        .collect::<Vec<_>>();
    samples::run(
        ctx,
        FUNCTION,
        &dir,
        &env,
        &format!("policies of events/{FUNCTION}/policies.cedar, JWKS at {jwks_uri}"),
    )
    .await
}
