//! Demo of the REQUEST authorizer: the demo tenant rules (events/request-authorizer/rules) as a
//! SecureString in moto, every sample event, each judged on its own route (a tenant's policy
//! lists only its grants, so a route outside them is a Deny).

use crate::DemoContext;
use crate::samples;
use crate::table::Tally;

const FUNCTION: &str = "request-authorizer";
const PARAMETER: &str = "/portcullis/demo/tenant-rules";

pub async fn run(ctx: &DemoContext) -> Tally {
    let path = ctx.events_dir.join(FUNCTION).join("rules/rules.json");
    let Ok(rules) = std::fs::read_to_string(&path) else {
        println!("{FUNCTION}: {} is missing", path.display());
        return Tally { ok: 0, wrong: 1 };
    };
    ctx.moto.put_secure(PARAMETER, &rules).await;
    let mut env = ctx.moto.aws_env();
    env.push(("RULES_PARAMETER_NAME".into(), PARAMETER.into()));
    samples::run(
        ctx,
        FUNCTION,
        &ctx.events_dir.join(FUNCTION),
        &env,
        &format!("SSM SecureString {PARAMETER} with 3 tenants"),
    )
    .await
}
