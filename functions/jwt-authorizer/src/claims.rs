//! Claim rules, checked after the signature with the time passed in.
//!
//! `exp` is always required. `nbf` and `iat` are checked when present (`iat` is required when
//! a max token age is set). `iss` must equal the issuer exactly. `aud` is any-of the configured
//! audiences — or, in Cognito mode, `client_id` for access tokens and `aud` for ID tokens.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::error::JwtError;

/// Cognito `token_use` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TokenUse {
    /// ID token (`token_use: id`): audience in `aud`.
    Id,
    /// Access token (`token_use: access`): audience in `client_id`.
    Access,
}

impl TokenUse {
    /// Parse `id` or `access`.
    pub fn parse(value: &str) -> Result<TokenUse, String> {
        match value {
            "id" => Ok(TokenUse::Id),
            "access" => Ok(TokenUse::Access),
            other => Err(format!("token_use {other:?} is not id or access")),
        }
    }
}

/// A required claim: present, and equal to one of `values` (for array claims: any element).
#[derive(Debug, Clone, PartialEq)]
pub struct RequiredClaim {
    /// Claim name.
    pub name: String,
    /// Accepted values; empty means "present and not null".
    pub values: Vec<Value>,
}

/// The claim rules of one issuer.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimRules {
    /// Exact expected `iss`.
    pub issuer: String,
    /// Accepted audiences (any-of). Never empty.
    pub audiences: Vec<String>,
    /// Cognito mode: accepted `token_use` values.
    pub token_use: Option<BTreeSet<TokenUse>>,
    /// Clock-skew allowance in seconds for `exp`, `nbf` and `iat`.
    pub leeway: u64,
    /// Largest accepted `now - iat` in seconds.
    pub max_token_age: Option<u64>,
    /// Further claims with expected values.
    pub required: Vec<RequiredClaim>,
}

/// A NumericDate: a non-negative finite JSON number, floored to whole seconds.
fn numeric_date(value: &Value) -> Option<u64> {
    if let Some(n) = value.as_u64() {
        return Some(n);
    }
    let f = value.as_f64()?;
    (f.is_finite() && f >= 0.0 && f < u64::MAX as f64).then(|| f.floor() as u64)
}

fn time_claim(claims: &Map<String, Value>, name: &'static str) -> Result<Option<u64>, JwtError> {
    match claims.get(name) {
        None => Ok(None),
        Some(v) => numeric_date(v)
            .map(Some)
            .ok_or(JwtError::InvalidClaimFormat(name)),
    }
}

fn contains_any(claim: &Value, accepted: &[String]) -> bool {
    match claim {
        Value::String(s) => accepted.iter().any(|a| a == s),
        Value::Array(items) => items
            .iter()
            .filter_map(Value::as_str)
            .any(|s| accepted.iter().any(|a| a == s)),
        _ => false,
    }
}

impl ClaimRules {
    /// Check `claims` at `now` (Unix seconds).
    pub fn check(&self, claims: &Map<String, Value>, now: u64) -> Result<(), JwtError> {
        let leeway = self.leeway;
        let exp = match claims.get("exp") {
            None | Some(Value::Null) => return Err(JwtError::MissingExp),
            Some(v) => numeric_date(v).ok_or(JwtError::MissingExp)?,
        };
        if now >= exp.saturating_add(leeway) {
            return Err(JwtError::Expired);
        }
        if let Some(nbf) = time_claim(claims, "nbf")?
            && nbf > now.saturating_add(leeway)
        {
            return Err(JwtError::NotYetValid);
        }
        let iat = match time_claim(claims, "iat") {
            Err(_) => return Err(JwtError::IssuedInFuture),
            Ok(iat) => iat,
        };
        if let Some(iat) = iat
            && iat > now.saturating_add(leeway)
        {
            return Err(JwtError::IssuedInFuture);
        }
        if let Some(max_age) = self.max_token_age {
            let iat = iat.ok_or(JwtError::TooOld)?;
            if now.saturating_sub(iat) > max_age.saturating_add(leeway) {
                return Err(JwtError::TooOld);
            }
        }
        if claims.get("iss").and_then(Value::as_str) != Some(self.issuer.as_str()) {
            return Err(JwtError::UnknownIssuer);
        }
        self.check_audience(claims)?;
        match claims.get("sub").and_then(Value::as_str) {
            Some(sub) if !sub.is_empty() => {}
            _ => return Err(JwtError::MissingSub),
        }
        for rule in &self.required {
            let ok = match claims.get(&rule.name) {
                None | Some(Value::Null) => false,
                Some(_) if rule.values.is_empty() => true,
                Some(Value::Array(items)) => items.iter().any(|i| rule.values.contains(i)),
                Some(v) => rule.values.contains(v),
            };
            if !ok {
                return Err(JwtError::ClaimMismatch(rule.name.clone()));
            }
        }
        Ok(())
    }

    fn check_audience(&self, claims: &Map<String, Value>) -> Result<(), JwtError> {
        let audience_claim = match &self.token_use {
            None => "aud",
            Some(allowed) => {
                let token_use = claims
                    .get("token_use")
                    .and_then(Value::as_str)
                    .and_then(|s| TokenUse::parse(s).ok())
                    .filter(|t| allowed.contains(t))
                    .ok_or(JwtError::WrongTokenUse)?;
                match token_use {
                    TokenUse::Access => "client_id",
                    TokenUse::Id => "aud",
                }
            }
        };
        match claims.get(audience_claim) {
            Some(v) if contains_any(v, &self.audiences) => Ok(()),
            _ => Err(JwtError::WrongAudience),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: u64 = 1_800_000_000;

    fn rules() -> ClaimRules {
        ClaimRules {
            issuer: "https://idp.example.com".into(),
            audiences: vec!["api-1".into(), "api-2".into()],
            token_use: None,
            leeway: 5,
            max_token_age: None,
            required: vec![],
        }
    }

    fn claims(extra: Value) -> Map<String, Value> {
        let mut base = json!({
            "iss": "https://idp.example.com", "aud": "api-1", "sub": "user-1",
            "exp": NOW + 300, "iat": NOW - 10,
        });
        for (k, v) in extra.as_object().unwrap() {
            if v.is_null() {
                base.as_object_mut().unwrap().remove(k);
            } else {
                base[k] = v.clone();
            }
        }
        base.as_object().unwrap().clone()
    }

    fn check(extra: Value) -> Result<(), JwtError> {
        rules().check(&claims(extra), NOW)
    }

    #[test]
    fn a_good_token_passes() {
        assert_eq!(check(json!({})), Ok(()));
        assert_eq!(check(json!({"aud": ["other", "api-2"]})), Ok(()));
        assert_eq!(check(json!({"exp": (NOW + 10) as f64 + 0.5})), Ok(()));
    }

    #[test]
    fn exp_is_required_and_enforced_with_leeway() {
        assert_eq!(check(json!({"exp": null})), Err(JwtError::MissingExp));
        assert_eq!(check(json!({"exp": "soon"})), Err(JwtError::MissingExp));
        assert_eq!(check(json!({"exp": -1})), Err(JwtError::MissingExp));
        // exp + leeway must be strictly after now.
        assert_eq!(check(json!({"exp": NOW - 5})), Err(JwtError::Expired));
        assert_eq!(check(json!({"exp": NOW - 4})), Ok(()));
        assert_eq!(check(json!({"exp": 0})), Err(JwtError::Expired));
    }

    #[test]
    fn nbf_and_iat_must_not_be_in_the_future() {
        assert_eq!(check(json!({"nbf": NOW + 5})), Ok(()));
        assert_eq!(check(json!({"nbf": NOW + 6})), Err(JwtError::NotYetValid));
        assert_eq!(
            check(json!({"nbf": "x"})),
            Err(JwtError::InvalidClaimFormat("nbf"))
        );
        assert_eq!(check(json!({"iat": NOW + 5})), Ok(()));
        assert_eq!(
            check(json!({"iat": NOW + 6})),
            Err(JwtError::IssuedInFuture)
        );
        assert_eq!(check(json!({"iat": [1]})), Err(JwtError::IssuedInFuture));
    }

    #[test]
    fn max_token_age_requires_a_recent_iat() {
        let mut r = rules();
        r.max_token_age = Some(3600);
        assert_eq!(r.check(&claims(json!({})), NOW), Ok(()));
        assert_eq!(r.check(&claims(json!({"iat": NOW - 3605})), NOW), Ok(()));
        assert_eq!(
            r.check(&claims(json!({"iat": NOW - 3606})), NOW),
            Err(JwtError::TooOld)
        );
        assert_eq!(
            r.check(&claims(json!({"iat": null})), NOW),
            Err(JwtError::TooOld)
        );
    }

    #[test]
    fn issuer_audience_and_subject() {
        assert_eq!(
            check(json!({"iss": "https://idp.example.com/"})),
            Err(JwtError::UnknownIssuer)
        );
        assert_eq!(
            check(json!({"iss": ["https://idp.example.com"]})),
            Err(JwtError::UnknownIssuer)
        );
        assert_eq!(check(json!({"aud": "api-3"})), Err(JwtError::WrongAudience));
        assert_eq!(check(json!({"aud": []})), Err(JwtError::WrongAudience));
        assert_eq!(check(json!({"aud": null})), Err(JwtError::WrongAudience));
        assert_eq!(check(json!({"aud": "API-1"})), Err(JwtError::WrongAudience));
        assert_eq!(check(json!({"sub": null})), Err(JwtError::MissingSub));
        assert_eq!(check(json!({"sub": ""})), Err(JwtError::MissingSub));
        assert_eq!(check(json!({"sub": 42})), Err(JwtError::MissingSub));
    }

    #[test]
    fn cognito_token_use_picks_the_audience_claim() {
        let mut r = rules();
        r.token_use = Some([TokenUse::Access].into());
        let access = claims(json!({"aud": null, "token_use": "access", "client_id": "api-2"}));
        assert_eq!(r.check(&access, NOW), Ok(()));
        let wrong_client = claims(json!({"aud": null, "token_use": "access", "client_id": "x"}));
        assert_eq!(r.check(&wrong_client, NOW), Err(JwtError::WrongAudience));
        // aud does not stand in for client_id on access tokens.
        let aud_only = claims(json!({"token_use": "access"}));
        assert_eq!(r.check(&aud_only, NOW), Err(JwtError::WrongAudience));
        let id = claims(json!({"token_use": "id"}));
        assert_eq!(r.check(&id, NOW), Err(JwtError::WrongTokenUse));
        assert_eq!(
            r.check(&claims(json!({})), NOW),
            Err(JwtError::WrongTokenUse)
        );
        r.token_use = Some([TokenUse::Id, TokenUse::Access].into());
        assert_eq!(r.check(&id, NOW), Ok(()));
        let id_client = claims(json!({"token_use": "id", "aud": "x", "client_id": "api-1"}));
        assert_eq!(r.check(&id_client, NOW), Err(JwtError::WrongAudience));
    }

    #[test]
    fn required_claims_with_values() {
        let mut r = rules();
        r.required = vec![
            RequiredClaim {
                name: "tenant".into(),
                values: vec![json!("acme"), json!("globex")],
            },
            RequiredClaim {
                name: "email_verified".into(),
                values: vec![json!(true)],
            },
            RequiredClaim {
                name: "groups".into(),
                values: vec![json!("admins")],
            },
        ];
        let good =
            claims(json!({"tenant": "globex", "email_verified": true, "groups": ["x", "admins"]}));
        assert_eq!(r.check(&good, NOW), Ok(()));
        for (bad, name) in [
            (
                json!({"tenant": "initech", "email_verified": true, "groups": ["admins"]}),
                "tenant",
            ),
            (
                json!({"email_verified": true, "groups": ["admins"]}),
                "tenant",
            ),
            (
                json!({"tenant": "acme", "email_verified": "true", "groups": ["admins"]}),
                "email_verified",
            ),
            (
                json!({"tenant": "acme", "email_verified": true, "groups": ["users"]}),
                "groups",
            ),
        ] {
            assert_eq!(
                r.check(&claims(bad), NOW),
                Err(JwtError::ClaimMismatch(name.into()))
            );
        }
    }
}
