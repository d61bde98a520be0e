//! Demo of the header-secret authorizer: a two-line SecureString in moto, every sample event.

use crate::DemoContext;
use crate::samples;
use crate::table::Tally;

const PARAMETER: &str = "/portcullis/demo/origin-secret";
/// The same two lines `events/generate.py` writes into the sample events.
const SECRETS: &str = "pc-demo-current-3f9a1c7e5b2d4086a1e9c7b5d3f1a2c4\npc-demo-previous-8e6d4c2a0b9f7e5d3c1a2b4d6f8e0a1c";

pub async fn run(ctx: &DemoContext) -> Tally {
    ctx.moto.put_secure(PARAMETER, SECRETS).await;
    let mut env = ctx.moto.aws_env();
    env.push(("SECRET_PARAMETER_NAME".into(), PARAMETER.into()));
    let setup = format!("SSM SecureString {PARAMETER} with 2 lines");
    let function = "header-secret-authorizer";
    samples::run(ctx, function, &ctx.events_dir.join(function), &env, &setup).await
}
