//! Demo of the header-secret authorizer: the settings of `events/header-secret-authorizer/demo.env`,
//! the two lines of its `origin-secret.txt` as a SecureString in moto, every sample event.

use std::path::Path;

use portcullis_tests::Moto;

use crate::table::Tally;
use crate::{DemoContext, samples, seed};

const FUNCTION: &str = "header-secret-authorizer";

/// Stores `origin-secret.txt` in the parameter `demo.env` names; the settings, or `None` (printed).
pub async fn seed(moto: &Moto, events_dir: &Path) -> Option<Vec<(String, String)>> {
    let dir = events_dir.join(FUNCTION);
    let env = portcullis_tests::read_env_file(&dir.join("demo.env"));
    let secret = dir.join("origin-secret.txt");
    seed::parameter(moto, &env, "SECRET_PARAMETER_NAME", &secret).await?;
    Some(env)
}

pub async fn run(ctx: &DemoContext) -> Tally {
    let Some(mut env) = seed(&ctx.moto, &ctx.events_dir).await else {
        return Tally { ok: 0, wrong: 1 };
    };
    env.extend(ctx.moto.aws_env());
    let setup = "demo.env, origin-secret.txt (2 lines) as an SSM SecureString";
    samples::run(ctx, FUNCTION, &ctx.events_dir.join(FUNCTION), &env, setup).await
}
