//! The HTTP client of every AWS SDK client here: HTTP/1.1 over the process's TLS configuration
//! ([`crate::tls`]: rustls on aws-lc-rs, the platform trust store with `SSL_CERT_FILE`
//! honoured), one connection pool per connect deadline.
//!
//! The SDK's default client (`default-https-client`) also speaks HTTP/2 and so links the `h2`
//! crate, about 0.8 MB of each binary; the functions' calls (a few small request–response
//! exchanges with SSM, Secrets Manager, CloudFront or Verified Permissions) gain nothing from it.
//!
//! Of the SDK's connector settings only the connect deadline is applied; a read deadline is not
//! (an attempt is bounded by the operation attempt timeout of [`sdk_config`](super::sdk_config)).

use std::collections::HashMap;
use std::error::Error;
use std::io;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector as TcpConnector;
use hyper_util::rt::TokioExecutor;

/// The SDK HTTP client the functions use; pass it to `SdkConfig`'s `http_client`.
pub fn sdk_http_client() -> SharedHttpClient {
    SharedHttpClient::new(Http1Client::default())
}

/// Hands the SDK one [`Pool`] per connect deadline (every client of one `SdkConfig` shares one).
#[derive(Debug, Default)]
struct Http1Client {
    pools: Mutex<HashMap<Option<Duration>, SharedHttpConnector>>,
}

impl HttpClient for Http1Client {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        _components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        let connect_timeout = settings.connect_timeout();
        let mut pools = self.pools.lock().unwrap_or_else(PoisonError::into_inner);
        pools
            .entry(connect_timeout)
            .or_insert_with(|| SharedHttpConnector::new(Pool::new(connect_timeout)))
            .clone()
    }
}

/// Keep-alive connections to the SDK's endpoints, or why none can be made (the TLS
/// configuration failed: every call then fails, and the caller fails closed).
#[derive(Debug)]
struct Pool(Result<Client<HttpsConnector<TcpConnector>, SdkBody>, Arc<str>>);

impl Pool {
    fn new(connect_timeout: Option<Duration>) -> Self {
        Pool(crate::tls::client_config().map(|tls| {
            let mut tcp = TcpConnector::new();
            tcp.enforce_http(false);
            tcp.set_nodelay(true);
            tcp.set_connect_timeout(connect_timeout);
            let https = HttpsConnectorBuilder::new()
                .with_tls_config(tls)
                .https_or_http()
                .enable_http1()
                .wrap_connector(tcp);
            Client::builder(TokioExecutor::new()).build(https)
        }))
    }
}

impl HttpConnector for Pool {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let client = match &self.0 {
            Ok(client) => client,
            Err(e) => {
                return HttpConnectorFuture::ready(Err(ConnectorError::other(
                    e.to_string().into(),
                    None,
                )));
            }
        };
        let request = match request.try_into_http1x() {
            Ok(request) => request,
            Err(e) => return HttpConnectorFuture::ready(Err(ConnectorError::user(e.into()))),
        };
        let response = client.request(request);
        HttpConnectorFuture::new(async move {
            match response.await {
                Ok(response) => HttpResponse::try_from(response.map(SdkBody::from_body_1_x))
                    .map_err(|e| ConnectorError::other(e.into(), None)),
                Err(e) => Err(classify(e)),
            }
        })
    }
}

/// What the SDK's retry makes of a failed exchange: a timed-out connect is a timeout; a failed
/// connect, a broken or closed connection is I/O (retried); anything else is not retried.
fn classify(error: hyper_util::client::legacy::Error) -> ConnectorError {
    let top: &(dyn Error + 'static) = &error;
    let chain = || std::iter::successors(Some(top), |&e| e.source());
    let io_kind = chain().find_map(|e| e.downcast_ref::<io::Error>().map(io::Error::kind));
    let broken = chain()
        .find_map(|e| e.downcast_ref::<hyper::Error>())
        .is_some_and(|e| e.is_closed() || e.is_canceled() || e.is_incomplete_message());
    if io_kind == Some(io::ErrorKind::TimedOut) {
        ConnectorError::timeout(error.into())
    } else if error.is_connect() || io_kind.is_some() || broken {
        ConnectorError::io(error.into())
    } else {
        ConnectorError::other(error.into(), None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    /// One exchange with `Pool` against `http://<addr>/`.
    async fn call(addr: std::net::SocketAddr) -> ConnectorError {
        let pool = Pool::new(Some(Duration::from_secs(5)));
        let request = HttpRequest::get(format!("http://{addr}/")).unwrap();
        pool.call(request).await.expect_err("the exchange fails")
    }

    /// A loopback server that reads the request, writes `answer` and closes.
    async fn serve_once(answer: &'static [u8]) -> std::net::SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 1024];
            let _ = socket.read(&mut buf).await;
            let _ = socket.write_all(answer).await;
        });
        addr
    }

    #[tokio::test]
    async fn a_refused_connection_is_io_so_the_sdk_retries_it() {
        let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = closed.local_addr().unwrap();
        drop(closed);
        let error = call(addr).await;
        assert!(error.is_io(), "{error:?}");
    }

    #[tokio::test]
    async fn a_connection_closed_before_the_answer_is_io() {
        let error = call(serve_once(b"").await).await;
        assert!(error.is_io(), "{error:?}");
    }

    #[tokio::test]
    async fn an_answer_that_is_not_http_is_not_retried() {
        let error = call(serve_once(b"garbage\r\n\r\n").await).await;
        assert!(error.is_other() && error.as_other().is_none(), "{error:?}");
    }
}
