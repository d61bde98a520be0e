//! Demo of the JWT authorizer: `events/jwt-authorizer/jwks.json` served on loopback, the
//! settings of `events/jwt-authorizer/demo.env`, every sample event.

use std::path::Path;

use axum::Router;
use axum::routing::get;

use crate::DemoContext;
use crate::samples;
use crate::table::Tally;

const FUNCTION: &str = "jwt-authorizer";

pub async fn run(ctx: &DemoContext) -> Tally {
    let dir = ctx.events_dir.join(FUNCTION);
    let Some(jwks_uri) = serve_jwks(&ctx.events_dir, "127.0.0.1:0").await else {
        return Tally { ok: 0, wrong: 1 };
    };
    let env = demo_env(&dir, &jwks_uri);
    samples::run(
        ctx,
        FUNCTION,
        &dir,
        &env,
        &format!("settings of demo.env, JWKS at {jwks_uri}"),
    )
    .await
}

/// Serves `events/jwt-authorizer/jwks.json` at `http://<addr>/jwks.json` (port 0: a free one);
/// its URL, or `None` (printed).
pub async fn serve_jwks(events_dir: &Path, addr: &str) -> Option<String> {
    let jwks =
        std::fs::read_to_string(events_dir.join(FUNCTION).join("jwks.json")).unwrap_or_default();
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(l) => l,
        Err(e) => {
            println!("{FUNCTION}: cannot serve the JWKS: {e}");
            return None;
        }
    };
    let jwks_uri = format!("http://{}/jwks.json", listener.local_addr().expect("bound"));
    let app = Router::new().route(
        "/jwks.json",
        get(move || {
            let body = jwks.clone();
            async move { ([("content-type", "application/json")], body) }
        }),
    );
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Some(jwks_uri)
}

/// The settings of `dir/demo.env`, with the JWKS at `jwks_uri`.
pub fn demo_env(dir: &Path, jwks_uri: &str) -> Vec<(String, String)> {
    portcullis_tests::read_env_file(&dir.join("demo.env"))
        .into_iter()
        .map(|(k, v)| {
            let v = if k == "JWT_JWKS_URI" {
                jwks_uri.to_owned()
            } else {
                v
            };
            (k, v)
        })
        .collect()
}
