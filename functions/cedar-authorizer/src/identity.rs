//! The caller as Cedar entities, the way Verified Permissions builds them from a token.
//!
//! - principal `<ns>::User::"<prefix>|<sub>"`, a member of
//! - one `<ns>::UserGroup::"<prefix>|<group>"` per value of the groups claim
//!   (`cognito:groups`).
//!
//! The prefix is the user pool id for a Cognito issuer (`https://cognito-idp.<region>.
//! amazonaws.com/<pool id>`), as in Amazon Cognito's guide to Verified Permissions; for another
//! issuer it is `CEDAR_ENTITY_ID_PREFIX` (Verified Permissions' `entityIdPrefix` of an OIDC
//! identity source), and without one the id is the claim value alone. The token's claims
//! become the principal's attributes (strings, booleans, integers, and sets and records of
//! them; other values are left out).

use std::collections::{HashMap, HashSet};

use cedar_policy::{Entities, Entity, EntityUid, RestrictedExpression};
use serde_json::{Map, Value};

use crate::bundle::entity;
use crate::decide::DecideError;

/// How claims map to entities (the identity source's settings in Verified Permissions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityMapping {
    /// Principal entity type without namespace (`User`).
    pub principal_type: String,
    /// Group entity type without namespace (`UserGroup`).
    pub group_type: String,
    /// Claim holding the principal id (`sub`).
    pub principal_id_claim: String,
    /// Claim holding the groups (`cognito:groups`): an array of strings or one string.
    pub groups_claim: String,
    /// Entity id prefix for issuers other than Cognito user pools.
    pub entity_id_prefix: Option<String>,
}

impl Default for IdentityMapping {
    fn default() -> Self {
        Self {
            principal_type: "User".into(),
            group_type: "UserGroup".into(),
            principal_id_claim: "sub".into(),
            groups_claim: "cognito:groups".into(),
            entity_id_prefix: None,
        }
    }
}

/// The caller's principal, groups and attributes.
#[derive(Debug, Clone)]
pub struct Identity {
    principal: EntityUid,
    groups: Vec<EntityUid>,
    attributes: HashMap<String, RestrictedExpression>,
}

impl Identity {
    /// The identity of a token from `issuer` with `claims`, in `namespace`. `None` when the
    /// principal id claim is missing or not a string.
    pub fn from_claims(
        mapping: &IdentityMapping,
        namespace: &str,
        issuer: &str,
        claims: &Map<String, Value>,
    ) -> Result<Option<Self>, DecideError> {
        let Some(id) = claims
            .get(&mapping.principal_id_claim)
            .and_then(Value::as_str)
        else {
            return Ok(None);
        };
        let prefix = cognito_pool(issuer)
            .map(str::to_owned)
            .or_else(|| mapping.entity_id_prefix.clone());
        let qualify = |value: &str| match &prefix {
            Some(p) => format!("{p}|{value}"),
            None => value.to_owned(),
        };
        let uid = |kind: &str, value: &str| {
            entity(&format!("{namespace}::{kind}"), &qualify(value)).map_err(DecideError::Entities)
        };
        let names: Vec<&str> = match claims.get(&mapping.groups_claim) {
            Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
            Some(Value::String(one)) => vec![one],
            _ => Vec::new(),
        };
        let mut groups = Vec::with_capacity(names.len());
        for name in names {
            let group = uid(&mapping.group_type, name)?;
            // A group named twice is one entity (a duplicate would make the store invalid).
            if !groups.contains(&group) {
                groups.push(group);
            }
        }
        let attributes = claims
            .iter()
            .filter_map(|(k, v)| attribute(v).map(|a| (k.clone(), a)))
            .collect();
        Ok(Some(Self {
            principal: uid(&mapping.principal_type, id)?,
            groups,
            attributes,
        }))
    }

    /// The principal entity.
    pub fn principal(&self) -> &EntityUid {
        &self.principal
    }

    /// The group entities the principal is a member of.
    pub fn groups(&self) -> &[EntityUid] {
        &self.groups
    }

    /// The principal and its groups as an entity store.
    pub fn entities(&self) -> Result<Entities, DecideError> {
        let parents: HashSet<EntityUid> = self.groups.iter().cloned().collect();
        let principal = Entity::new(self.principal.clone(), self.attributes.clone(), parents)
            .map_err(|e| DecideError::Entities(e.to_string()))?;
        let groups = self
            .groups
            .iter()
            .map(|g| Entity::new_no_attrs(g.clone(), HashSet::new()));
        Entities::from_entities(std::iter::once(principal).chain(groups), None)
            .map_err(|e| DecideError::Entities(e.to_string()))
    }
}

/// The user pool id of a Cognito issuer URL.
fn cognito_pool(issuer: &str) -> Option<&str> {
    let rest = issuer.strip_prefix("https://cognito-idp.")?;
    let (host, pool) = rest.split_once('/')?;
    let region_host = host.strip_suffix(".amazonaws.com")?;
    (!region_host.contains('/') && !pool.is_empty() && !pool.contains('/')).then_some(pool)
}

/// A claim as a Cedar value, where Cedar has one.
fn attribute(value: &Value) -> Option<RestrictedExpression> {
    Some(match value {
        Value::String(s) => RestrictedExpression::new_string(s.clone()),
        Value::Bool(b) => RestrictedExpression::new_bool(*b),
        Value::Number(n) => RestrictedExpression::new_long(n.as_i64()?),
        Value::Array(items) => {
            RestrictedExpression::new_set(items.iter().map(attribute).collect::<Option<Vec<_>>>()?)
        }
        Value::Object(map) => RestrictedExpression::new_record(
            map.iter()
                .map(|(k, v)| attribute(v).map(|a| (k.clone(), a)))
                .collect::<Option<Vec<_>>>()?,
        )
        .ok()?,
        Value::Null => return None,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn claims(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn cognito_tokens_are_prefixed_with_the_pool_id() {
        let identity = Identity::from_claims(
            &IdentityMapping::default(),
            "PetStore",
            "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_EXAMPLE",
            &claims(json!({"sub": "u-1", "cognito:groups": ["MyGroup", "Other"]})),
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            identity.principal().to_string(),
            r#"PetStore::User::"us-east-1_EXAMPLE|u-1""#
        );
        let groups: Vec<String> = identity.groups().iter().map(ToString::to_string).collect();
        assert_eq!(
            groups,
            [
                r#"PetStore::UserGroup::"us-east-1_EXAMPLE|MyGroup""#,
                r#"PetStore::UserGroup::"us-east-1_EXAMPLE|Other""#
            ]
        );
    }

    #[test]
    fn other_issuers_use_the_configured_prefix_or_none() {
        let mut mapping = IdentityMapping {
            groups_claim: "groups".into(),
            ..IdentityMapping::default()
        };
        let token = claims(json!({"sub": "carlos", "groups": "admins"}));
        let id = |m: &IdentityMapping| {
            let identity = Identity::from_claims(m, "Api", "https://idp.example.com/", &token)
                .unwrap()
                .unwrap();
            (
                identity.principal().to_string(),
                identity.groups()[0].to_string(),
            )
        };
        assert_eq!(
            id(&mapping),
            (
                r#"Api::User::"carlos""#.to_owned(),
                r#"Api::UserGroup::"admins""#.to_owned()
            )
        );
        mapping.entity_id_prefix = Some("MyOIDCProvider".into());
        assert_eq!(
            id(&mapping),
            (
                r#"Api::User::"MyOIDCProvider|carlos""#.to_owned(),
                r#"Api::UserGroup::"MyOIDCProvider|admins""#.to_owned()
            )
        );
    }

    #[test]
    fn a_group_named_twice_is_one_entity() {
        let identity = Identity::from_claims(
            &IdentityMapping::default(),
            "Api",
            "https://idp.example.com",
            &claims(json!({"sub": "u", "cognito:groups": ["a", "a", 7, "b"]})),
        )
        .unwrap()
        .unwrap();
        let groups: Vec<String> = identity.groups().iter().map(ToString::to_string).collect();
        assert_eq!(groups, [r#"Api::UserGroup::"a""#, r#"Api::UserGroup::"b""#]);
        assert!(identity.entities().is_ok());
    }

    #[test]
    fn a_token_without_the_principal_claim_has_no_identity() {
        let none = Identity::from_claims(
            &IdentityMapping::default(),
            "Api",
            "https://idp.example.com",
            &claims(json!({"sub": 7})),
        )
        .unwrap();
        assert!(none.is_none());
    }

    #[test]
    fn only_cognito_user_pool_urls_give_a_pool_id() {
        assert_eq!(
            cognito_pool("https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc"),
            Some("eu-west-1_abc")
        );
        for other in [
            "https://cognito-idp.eu-west-1.amazonaws.com/",
            "https://cognito-idp.eu-west-1.amazonaws.com/a/b",
            "https://cognito-idp.evil.example/eu-west-1_abc",
            "http://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc",
        ] {
            assert_eq!(cognito_pool(other), None, "{other}");
        }
    }
}
