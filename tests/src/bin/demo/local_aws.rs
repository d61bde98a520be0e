//! `make local-aws`: the AWS side of the local recipes. A moto server on a fixed port holding the
//! demo values (what each function's `events/<function>/demo.env` names), the test JWKS where
//! `events/jwt-authorizer/demo.env` points, and the environment to export, printed. Serves until
//! stopped (Ctrl-C).

use std::path::Path;

use portcullis_tests::Moto;

use crate::{header_secret, jwt, request_authorizer};

pub async fn serve(events_dir: &Path, port: u16) {
    let moto = Moto::start_on(port).await;
    let jwt_env = portcullis_tests::read_env_file(&events_dir.join("jwt-authorizer/demo.env"));
    let jwks_addr = jwt_env
        .iter()
        .find(|(k, _)| k == "JWT_JWKS_URI")
        .and_then(|(_, uri)| uri.strip_prefix("http://"))
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_default()
        .to_owned();
    let seeded = header_secret::seed(&moto, events_dir).await.is_some()
        & request_authorizer::seed(&moto, events_dir).await.is_some();
    let jwks = jwt::serve_jwks(events_dir, &jwks_addr).await;
    let (true, Some(jwks)) = (seeded, jwks) else {
        eprintln!("local-aws: not started (see above)");
        std::process::exit(1);
    };
    println!(
        "# moto at {} (SSM: the demo parameters), JWKS at {jwks}",
        moto.endpoint()
    );
    let exports: Vec<String> = moto
        .aws_env()
        .into_iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    println!("export {}", exports.join(" "));
    println!("# local AWS ready; Ctrl-C stops it");
    std::future::pending::<()>().await;
}
