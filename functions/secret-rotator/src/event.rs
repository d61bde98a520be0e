//! The event Secrets Manager sends a rotation function.

use serde::Deserialize;

/// One step of a rotation, as Secrets Manager names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Step {
    /// Create the new value, labelled `AWSPENDING`.
    CreateSecret,
    /// Switch CloudFront to the new value, once every authorizer accepts it.
    SetSecret,
    /// Wait until CloudFront has deployed it; ask the canary.
    TestSecret,
    /// After the grace period, make the new value `AWSCURRENT` (the old one is then refused).
    FinishSecret,
}

impl Step {
    /// The name Secrets Manager uses.
    pub fn name(self) -> &'static str {
        match self {
            Self::CreateSecret => "createSecret",
            Self::SetSecret => "setSecret",
            Self::TestSecret => "testSecret",
            Self::FinishSecret => "finishSecret",
        }
    }
}

/// `{"Step", "SecretId", "ClientRequestToken"}` (other fields, such as `RotationToken`, are
/// ignored).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RotationEvent {
    /// Which step to run.
    pub step: Step,
    /// The secret's ARN.
    pub secret_id: String,
    /// The version id of the new value.
    pub client_request_token: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sample_event_is_read() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../events/secret-rotator");
        for (file, step) in [
            ("createSecret.json", Step::CreateSecret),
            ("setSecret.json", Step::SetSecret),
            ("testSecret.json", Step::TestSecret),
            ("finishSecret.json", Step::FinishSecret),
        ] {
            let text = std::fs::read_to_string(format!("{dir}/{file}")).unwrap();
            let event: RotationEvent = serde_json::from_str(&text).unwrap();
            assert_eq!(
                event,
                RotationEvent {
                    step,
                    secret_id: "arn:aws:secretsmanager:us-east-1:123456789012:secret:portcullis-origin-secret-AbCdEf".into(),
                    client_request_token: "6a1f0c3e-9b7d-4e5a-8c2f-1d3b5a7c9e0f".into(),
                },
                "{file}"
            );
        }
    }

    #[test]
    fn reads_the_four_steps_and_ignores_other_fields() {
        let event: RotationEvent = serde_json::from_str(
            r#"{"Step":"setSecret","SecretId":"arn:aws:secretsmanager:us-east-1:111122223333:secret:origin-AbCdEf","ClientRequestToken":"0f3c8a2e-5d1b-4c6a-9e7f-1a2b3c4d5e6f","RotationToken":"x"}"#,
        )
        .unwrap();
        assert_eq!(event.step, Step::SetSecret);
        assert_eq!(
            event.client_request_token,
            "0f3c8a2e-5d1b-4c6a-9e7f-1a2b3c4d5e6f"
        );
        for (name, step) in [
            ("createSecret", Step::CreateSecret),
            ("testSecret", Step::TestSecret),
            ("finishSecret", Step::FinishSecret),
        ] {
            let json = format!(r#"{{"Step":"{name}","SecretId":"s","ClientRequestToken":"t"}}"#);
            let event: RotationEvent = serde_json::from_str(&json).unwrap();
            assert_eq!((event.step, event.step.name()), (step, name));
        }
        assert!(
            serde_json::from_str::<RotationEvent>(
                r#"{"Step":"dropSecret","SecretId":"s","ClientRequestToken":"t"}"#
            )
            .is_err()
        );
    }
}
