//! Demo of the REQUEST authorizer: the settings of `events/request-authorizer/demo.env`, the demo
//! tenant rules (`rules/rules.json`) as a SecureString in moto, every sample event, each judged on
//! its own route (a tenant's policy lists only its grants, so a route outside them is a Deny).

use std::path::Path;

use portcullis_tests::Moto;

use crate::table::Tally;
use crate::{DemoContext, samples, seed};

const FUNCTION: &str = "request-authorizer";

/// Stores `rules/rules.json` in the parameter `demo.env` names; the settings, or `None` (printed).
pub async fn seed(moto: &Moto, events_dir: &Path) -> Option<Vec<(String, String)>> {
    let dir = events_dir.join(FUNCTION);
    let env = portcullis_tests::read_env_file(&dir.join("demo.env"));
    let rules = dir.join("rules/rules.json");
    seed::parameter(moto, &env, "RULES_PARAMETER_NAME", &rules).await?;
    Some(env)
}

pub async fn run(ctx: &DemoContext) -> Tally {
    let Some(mut env) = seed(&ctx.moto, &ctx.events_dir).await else {
        return Tally { ok: 0, wrong: 1 };
    };
    env.extend(ctx.moto.aws_env());
    let setup = "demo.env, rules/rules.json (3 tenants) as an SSM SecureString";
    samples::run(ctx, FUNCTION, &ctx.events_dir.join(FUNCTION), &env, setup).await
}
