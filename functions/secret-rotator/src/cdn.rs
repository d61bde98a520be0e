//! CloudFront, as the rotation uses it: which origins send the header, switching its value on
//! chosen origins (and nothing else), and whether the distribution has deployed.

use std::future::Future;

use aws_sdk_cloudfront::Client;
use aws_sdk_cloudfront::error::ProvideErrorMetadata;
use aws_sdk_cloudfront::types::{CustomHeaders, DistributionConfig, OriginCustomHeader};
use portcullis::secrets::SecretString;

use crate::AwsError;

/// Each origin's id and the value it sends in the header (if it sends it). `Debug` hides the
/// values.
#[derive(Clone, PartialEq, Eq)]
pub struct OriginHeaders(pub Vec<(String, Option<String>)>);

impl std::fmt::Debug for OriginHeaders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(
                self.0
                    .iter()
                    .map(|(id, v)| (id, v.as_ref().map(|_| "<redacted>"))),
            )
            .finish()
    }
}

/// Why a header switch did not happen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SwitchError {
    /// `PreconditionFailed`: the distribution changed since it was read; read it again.
    #[error("the distribution changed while it was being updated (PreconditionFailed)")]
    Conflict,
    /// A chosen origin is not in the distribution.
    #[error("origin {0:?} is not in the distribution")]
    UnknownOrigin(String),
    /// Any other failure.
    #[error(transparent)]
    Aws(#[from] AwsError),
}

/// CloudFront, as the rotation uses it.
pub trait Cdn: Send + Sync {
    /// `GetDistributionConfig`: every origin and its value of `header`.
    fn headers(
        &self,
        distribution: &str,
        header: &str,
    ) -> impl Future<Output = Result<OriginHeaders, AwsError>> + Send;
    /// `GetDistributionConfig` → `header` set to `value` on `origins` →
    /// `UpdateDistribution(IfMatch = the ETag read)`.
    fn switch(
        &self,
        distribution: &str,
        origins: &[String],
        header: &str,
        value: &SecretString,
    ) -> impl Future<Output = Result<(), SwitchError>> + Send;
    /// `GetDistribution`: whether its status is `Deployed`.
    fn deployed(&self, distribution: &str) -> impl Future<Output = Result<bool, AwsError>> + Send;
}

/// `config` with `header: value` on each of `origins` (added where missing); every other
/// field, origin and header as it was.
pub fn with_header(
    mut config: DistributionConfig,
    origins: &[String],
    header: &str,
    value: &str,
) -> Result<DistributionConfig, SwitchError> {
    let mut none = Vec::new();
    let items = config
        .origins
        .as_mut()
        .map(|o| &mut o.items)
        .unwrap_or(&mut none);
    for wanted in origins {
        let origin = items
            .iter_mut()
            .find(|o| &o.id == wanted)
            .ok_or_else(|| SwitchError::UnknownOrigin(wanted.clone()))?;
        let headers = origin.custom_headers.get_or_insert_with(|| {
            CustomHeaders::builder()
                .quantity(0)
                .build()
                .expect("quantity is set")
        });
        let list = headers.items.get_or_insert_with(Vec::new);
        match list
            .iter_mut()
            .find(|h| h.header_name.eq_ignore_ascii_case(header))
        {
            Some(existing) => existing.header_value = value.to_owned(),
            None => list.push(
                OriginCustomHeader::builder()
                    .header_name(header)
                    .header_value(value)
                    .build()
                    .map_err(|e| AwsError::new("UpdateDistribution", e.to_string()))?,
            ),
        }
        headers.quantity = i32::try_from(list.len()).unwrap_or(i32::MAX);
    }
    Ok(config)
}

/// Each origin's value of `header`.
pub fn headers_of(config: &DistributionConfig, header: &str) -> OriginHeaders {
    let origins = config
        .origins
        .as_ref()
        .map(|o| o.items())
        .unwrap_or_default();
    OriginHeaders(
        origins
            .iter()
            .map(|o| {
                let value = o
                    .custom_headers
                    .as_ref()
                    .map(|h| h.items())
                    .unwrap_or_default()
                    .iter()
                    .find(|h| h.header_name.eq_ignore_ascii_case(header))
                    .map(|h| h.header_value.clone());
                (o.id.clone(), value)
            })
            .collect(),
    )
}

/// The real adapter (aws-sdk-cloudfront).
#[derive(Debug, Clone)]
pub struct CloudFront(Client);

impl CloudFront {
    /// Wraps a client.
    pub fn new(client: Client) -> Self {
        Self(client)
    }

    async fn config(&self, distribution: &str) -> Result<(DistributionConfig, String), AwsError> {
        let output = self
            .0
            .get_distribution_config()
            .id(distribution)
            .send()
            .await
            .map_err(|e| AwsError::of("GetDistributionConfig", &e))?;
        let etag = output
            .e_tag
            .ok_or_else(|| AwsError::new("GetDistributionConfig", "no ETag"))?;
        let config = output
            .distribution_config
            .ok_or_else(|| AwsError::new("GetDistributionConfig", "no DistributionConfig"))?;
        Ok((config, etag))
    }
}

impl Cdn for CloudFront {
    async fn headers(&self, distribution: &str, header: &str) -> Result<OriginHeaders, AwsError> {
        let (config, _) = self.config(distribution).await?;
        Ok(headers_of(&config, header))
    }

    async fn switch(
        &self,
        distribution: &str,
        origins: &[String],
        header: &str,
        value: &SecretString,
    ) -> Result<(), SwitchError> {
        let (config, etag) = self.config(distribution).await?;
        let config = with_header(config, origins, header, value.expose())?;
        match self
            .0
            .update_distribution()
            .id(distribution)
            .if_match(etag)
            .distribution_config(config)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e)
                if e.code() == Some("PreconditionFailed")
                    || e.raw_response().map(|r| r.status().as_u16()) == Some(412) =>
            {
                Err(SwitchError::Conflict)
            }
            Err(e) => Err(AwsError::of("UpdateDistribution", &e).into()),
        }
    }

    async fn deployed(&self, distribution: &str) -> Result<bool, AwsError> {
        let output = self
            .0
            .get_distribution()
            .id(distribution)
            .send()
            .await
            .map_err(|e| AwsError::of("GetDistribution", &e))?;
        Ok(output.distribution.is_some_and(|d| d.status == "Deployed"))
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_cloudfront::types::{Origin, Origins};

    use super::*;

    fn origin(id: &str, headers: &[(&str, &str)]) -> Origin {
        let mut builder = Origin::builder()
            .id(id)
            .domain_name(format!("{id}.example.com"));
        if !headers.is_empty() {
            let mut list = CustomHeaders::builder().quantity(headers.len() as i32);
            for (name, value) in headers {
                list = list.items(
                    OriginCustomHeader::builder()
                        .header_name(*name)
                        .header_value(*value)
                        .build()
                        .unwrap(),
                );
            }
            builder = builder.custom_headers(list.build().unwrap());
        }
        builder.build().unwrap()
    }

    fn config(origins: Vec<Origin>) -> DistributionConfig {
        DistributionConfig::builder()
            .caller_reference("ref")
            .comment("kept as it was")
            .enabled(true)
            .origins(
                Origins::builder()
                    .quantity(origins.len() as i32)
                    .set_items(Some(origins))
                    .build()
                    .unwrap(),
            )
            .build()
            .unwrap()
    }

    #[test]
    fn only_the_header_of_the_chosen_origins_changes() {
        let before = config(vec![
            origin(
                "api",
                &[("X-Origin-Verify", "old-value"), ("x-team", "payments")],
            ),
            origin("static", &[("x-origin-verify", "other-value")]),
            origin("bare", &[]),
        ]);
        let after = with_header(
            before.clone(),
            &["api".into(), "bare".into()],
            "x-origin-verify",
            "new-value",
        )
        .unwrap();
        let expected = config(vec![
            origin(
                "api",
                &[("X-Origin-Verify", "new-value"), ("x-team", "payments")],
            ),
            origin("static", &[("x-origin-verify", "other-value")]),
            origin("bare", &[("x-origin-verify", "new-value")]),
        ]);
        assert_eq!(after, expected);
        assert_eq!(
            headers_of(&after, "X-ORIGIN-VERIFY"),
            OriginHeaders(vec![
                ("api".into(), Some("new-value".into())),
                ("static".into(), Some("other-value".into())),
                ("bare".into(), Some("new-value".into())),
            ])
        );
        assert_eq!(
            format!("{:?}", headers_of(&after, "x-origin-verify")),
            r#"[("api", Some("<redacted>")), ("static", Some("<redacted>")), ("bare", Some("<redacted>"))]"#
        );
    }

    #[test]
    fn an_unknown_origin_is_refused() {
        let before = config(vec![origin("api", &[])]);
        assert_eq!(
            with_header(before, &["apl".into()], "x-origin-verify", "v"),
            Err(SwitchError::UnknownOrigin("apl".into()))
        );
    }
}
