//! Demo of the composed authorizers (`events/composed/`): the JWT and REQUEST authorizers with
//! the origin proof, the demo origin secret (`origin-secret.txt`) as a SecureString in moto, the
//! request authorizer also trusting CloudFront's viewer headers after the proof.

use crate::table::Tally;
use crate::{DemoContext, jwt, samples};

pub async fn run(ctx: &DemoContext) -> Tally {
    let root = ctx.events_dir.join("composed");
    let Ok(secret) = std::fs::read_to_string(root.join("origin-secret.txt")) else {
        println!(
            "composed: {} is missing",
            root.join("origin-secret.txt").display()
        );
        return Tally { ok: 0, wrong: 1 };
    };
    let mut tally = Tally::default();

    let dir = root.join("jwt-authorizer");
    let Some(jwks_uri) = jwt::serve_jwks(ctx).await else {
        return Tally { ok: 0, wrong: 1 };
    };
    let env = jwt::demo_env(&dir, &jwks_uri);
    let Some(origin) = seed(ctx, &env, "ORIGIN_SECRET_PARAMETER_NAME", &secret).await else {
        return Tally { ok: 0, wrong: 1 };
    };
    let setup = format!("demo.env + origin secret {origin} (2 lines), JWKS at {jwks_uri}");
    tally += samples::run(ctx, "jwt-authorizer", &dir, &with_aws(ctx, env), &setup).await;

    let dir = root.join("request-authorizer");
    let env = portcullis_harness::read_env_file(&dir.join("demo.env"));
    let rules = std::fs::read_to_string(dir.join("rules.json")).unwrap_or_default();
    let (Some(origin), Some(rules)) = (
        seed(ctx, &env, "ORIGIN_SECRET_PARAMETER_NAME", &secret).await,
        seed(ctx, &env, "RULES_PARAMETER_NAME", &rules).await,
    ) else {
        tally.wrong += 1;
        return tally;
    };
    let setup = format!("demo.env + origin secret {origin}, rules {rules}, viewer headers trusted");
    tally += samples::run(ctx, "request-authorizer", &dir, &with_aws(ctx, env), &setup).await;
    tally
}

/// Puts `value` into moto under the parameter that `env`'s `variable` names; that name, or
/// `None` (printed) when the variable is unset or the value empty.
async fn seed(
    ctx: &DemoContext,
    env: &[(String, String)],
    variable: &str,
    value: &str,
) -> Option<String> {
    let Some((_, name)) = env.iter().find(|(k, _)| k == variable) else {
        println!("composed: demo.env does not set {variable}");
        return None;
    };
    if value.is_empty() {
        println!("composed: nothing to store in {name}");
        return None;
    }
    ctx.moto.put_secure(name, value).await;
    Some(name.clone())
}

fn with_aws(ctx: &DemoContext, mut env: Vec<(String, String)>) -> Vec<(String, String)> {
    env.extend(ctx.moto.aws_env());
    env
}
