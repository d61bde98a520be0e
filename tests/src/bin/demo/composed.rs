//! Demo of the composed authorizers (`events/composed/`): the JWT and REQUEST authorizers with
//! the origin proof, the demo origin secret (`origin-secret.txt`) as a SecureString in moto, the
//! request authorizer also trusting CloudFront's viewer headers after the proof.

use crate::table::Tally;
use crate::{DemoContext, jwt, samples, seed};

pub async fn run(ctx: &DemoContext) -> Tally {
    let root = ctx.events_dir.join("composed");
    let secret = root.join("origin-secret.txt");
    let mut tally = Tally::default();

    let dir = root.join("jwt-authorizer");
    let Some(jwks_uri) = jwt::serve_jwks(&ctx.events_dir, "127.0.0.1:0").await else {
        return Tally { ok: 0, wrong: 1 };
    };
    let env = jwt::demo_env(&dir, &jwks_uri);
    let Some(origin) =
        seed::parameter(&ctx.moto, &env, "ORIGIN_SECRET_PARAMETER_NAME", &secret).await
    else {
        return Tally { ok: 0, wrong: 1 };
    };
    let setup = format!("demo.env + origin secret {origin} (2 lines), JWKS at {jwks_uri}");
    tally += samples::run(ctx, "jwt-authorizer", &dir, &with_aws(ctx, env), &setup).await;

    let dir = root.join("request-authorizer");
    let env = portcullis_tests::read_env_file(&dir.join("demo.env"));
    let (Some(origin), Some(rules)) = (
        seed::parameter(&ctx.moto, &env, "ORIGIN_SECRET_PARAMETER_NAME", &secret).await,
        seed::parameter(
            &ctx.moto,
            &env,
            "RULES_PARAMETER_NAME",
            &dir.join("rules.json"),
        )
        .await,
    ) else {
        tally.wrong += 1;
        return tally;
    };
    let setup = format!("demo.env + origin secret {origin}, rules {rules}, viewer headers trusted");
    tally += samples::run(ctx, "request-authorizer", &dir, &with_aws(ctx, env), &setup).await;
    tally
}

fn with_aws(ctx: &DemoContext, mut env: Vec<(String, String)>) -> Vec<(String, String)> {
    env.extend(ctx.moto.aws_env());
    env
}
