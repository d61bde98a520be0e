//! A moto server (a real SSM API) on a free loopback port, started from the project venv.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use aws_sdk_ssm::Client;
use aws_sdk_ssm::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_ssm::types::ParameterType;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// A running `moto_server`; killed on drop.
pub struct Moto {
    child: Option<Child>,
    port: u16,
    /// Certificate and key of an HTTPS server (`https://localhost:<port>`).
    tls: Option<(PathBuf, PathBuf)>,
}

fn moto_server() -> PathBuf {
    std::env::var_os("MOTO_SERVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::workspace_root().join(".venv/bin/moto_server"))
}

impl Moto {
    /// Starts moto on a port it picks itself (`-p 0`, read back from its banner, so two tests
    /// never race for one port) and waits until it answers.
    pub async fn start() -> Self {
        Self::spawned(0, None).await
    }

    /// Starts moto serving HTTPS with this certificate (PEM, valid for `localhost`) and key.
    pub async fn start_tls(cert: PathBuf, key: PathBuf) -> Self {
        Self::spawned(0, Some((cert, key))).await
    }

    /// Starts moto on `port` (`make local-aws`: a fixed port the recipes name).
    pub async fn start_on(port: u16) -> Self {
        Self::spawned(port, None).await
    }

    async fn spawned(port: u16, tls: Option<(PathBuf, PathBuf)>) -> Self {
        let mut moto = Self {
            child: None,
            port,
            tls,
        };
        moto.spawn().await;
        moto
    }

    /// (Re)starts the server on the same port (state starts empty).
    pub async fn restart(&mut self) {
        self.spawn().await;
    }

    async fn spawn(&mut self) {
        let bin = moto_server();
        assert!(
            bin.is_file(),
            "{} is missing: run `make setup` (or set MOTO_SERVER)",
            bin.display()
        );
        let mut command = Command::new(&bin);
        command.args(["-H", "127.0.0.1", "-p", &self.port.to_string()]);
        if let Some((cert, key)) = &self.tls {
            command.arg("-c").arg(cert).arg("-k").arg(key);
        }
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("moto_server starts");
        // Werkzeug's banner names the bound port; later lines (one per request) are drained so
        // the pipe never fills.
        let mut lines = BufReader::new(child.stderr.take().expect("piped stderr")).lines();
        let banner = tokio::time::timeout(Duration::from_secs(30), async {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(port) = line
                    .split("://127.0.0.1:")
                    .nth(1)
                    .and_then(|rest| rest.trim().parse::<u16>().ok())
                {
                    return Some(port);
                }
            }
            None
        })
        .await;
        let port = banner.ok().flatten().unwrap_or_else(|| {
            panic!(
                "moto_server did not report a listening port (port {} taken?)",
                self.port
            )
        });
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        self.port = port;
        self.child = Some(child);
        self.wait_ready().await;
    }

    async fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        let url = format!("{}/moto-api/", self.endpoint());
        loop {
            if tokio::net::TcpStream::connect(("127.0.0.1", self.port))
                .await
                .is_ok()
                && self.ssm_client().describe_parameters().send().await.is_ok()
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "moto did not answer at {url} within 30 s"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Stops the server (SSM becomes unreachable).
    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill().await;
        }
    }

    /// `http://127.0.0.1:<port>`, or `https://localhost:<port>` when serving HTTPS.
    pub fn endpoint(&self) -> String {
        match self.tls {
            None => format!("http://127.0.0.1:{}", self.port),
            Some(_) => format!("https://localhost:{}", self.port),
        }
    }

    /// Environment a function needs to reach this server with dummy credentials.
    pub fn aws_env(&self) -> Vec<(String, String)> {
        Self::aws_env_via(&self.endpoint())
    }

    /// [`Self::aws_env`] with the SSM endpoint at `endpoint` (a [`crate::FaultProxy`], say).
    pub fn aws_env_via(endpoint: &str) -> Vec<(String, String)> {
        [
            ("AWS_ENDPOINT_URL", endpoint.to_owned()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_ACCESS_KEY_ID", "testing".into()),
            ("AWS_SECRET_ACCESS_KEY", "testing".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }

    /// SDK configuration (region, dummy credentials, endpoint) for any client of this server.
    pub fn sdk_config(&self) -> aws_config::SdkConfig {
        aws_config::SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(
                aws_credential_types::provider::SharedCredentialsProvider::new(Credentials::new(
                    "testing", "testing", None, None, "moto",
                )),
            )
            .endpoint_url(self.endpoint())
            .http_client(portcullis::secrets::sdk_http_client())
            .build()
    }

    /// A Secrets Manager client for this server.
    pub fn secretsmanager_client(&self) -> aws_sdk_secretsmanager::Client {
        aws_sdk_secretsmanager::Client::new(&self.sdk_config())
    }

    /// An SSM client for this server.
    pub fn ssm_client(&self) -> Client {
        let config = aws_sdk_ssm::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("testing", "testing", None, None, "moto"))
            .endpoint_url(self.endpoint())
            .http_client(portcullis::secrets::sdk_http_client())
            .build();
        Client::from_conf(config)
    }

    /// Creates or overwrites a SecureString parameter.
    pub async fn put_secure(&self, name: &str, value: &str) {
        self.put(name, value, ParameterType::SecureString).await;
    }

    /// Creates or overwrites a parameter of any type (`String`, `StringList`, `SecureString`).
    pub async fn put(&self, name: &str, value: &str, kind: ParameterType) {
        self.ssm_client()
            .put_parameter()
            .name(name)
            .value(value)
            .r#type(kind)
            .overwrite(true)
            .send()
            .await
            .unwrap_or_else(|e| panic!("put_parameter {name}: {e:?}"));
    }
}
