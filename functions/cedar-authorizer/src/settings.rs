//! The `CEDAR_*` settings (the `JWT_*` settings are the jwt-authorizer's, read by it).

use portcullis::config::{ConfigError, Env, seconds_or};
use portcullis::secrets::CacheConfig;

use crate::identity::IdentityMapping;

/// Where the policies and the schema are read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyLocation {
    /// A Verified Permissions policy store (`CEDAR_POLICY_STORE_ID`).
    Store(String),
    /// A policy file and a schema file (`CEDAR_POLICY_FILE`, `CEDAR_SCHEMA_FILE`).
    Files {
        /// Cedar policies.
        policies: String,
        /// Cedar schema, as Cedar text or JSON.
        schema: String,
    },
}

impl PolicyLocation {
    /// The name the cache fetches and logs: the store id, or the policy file.
    pub fn name(&self) -> &str {
        match self {
            Self::Store(id) => id,
            Self::Files { policies, .. } => policies,
        }
    }
}

/// What to do with policies that read the request `context` (`CEDAR_CONTEXT_POLICIES`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContextPolicies {
    /// `refuse` (default): such a policy set fails validation; the last good set is kept.
    Refuse,
    /// `per-request`: while such a policy is in the set, each request is decided alone and
    /// answered for its own ARN only; the authorizer's result cache must be off.
    PerRequest,
}

/// Every `CEDAR_*` setting.
#[derive(Debug, Clone, PartialEq)]
pub struct CedarSettings {
    /// Where policies come from.
    pub location: PolicyLocation,
    /// How token claims become entities.
    pub mapping: IdentityMapping,
    /// Refresh (TTL), stale bound and retry of the policy cache.
    pub cache: CacheConfig,
    /// Policies that read `context`.
    pub context_policies: ContextPolicies,
}

impl CedarSettings {
    /// Reads the settings; a missing or contradictory one is an init error naming it.
    pub fn from_env(env: &impl Env) -> Result<Self, ConfigError> {
        let store = env.var("CEDAR_POLICY_STORE_ID");
        let files = (env.var("CEDAR_POLICY_FILE"), env.var("CEDAR_SCHEMA_FILE"));
        let location = match (store, files) {
            (Some(id), (None, None)) => PolicyLocation::Store(id),
            (None, (Some(policies), Some(schema))) => PolicyLocation::Files { policies, schema },
            (None, (Some(_), None)) => {
                return Err(ConfigError::new(
                    "CEDAR_SCHEMA_FILE",
                    "is required with CEDAR_POLICY_FILE (policies are validated against it)",
                ));
            }
            (None, (None, _)) => {
                return Err(ConfigError::new(
                    "CEDAR_POLICY_STORE_ID",
                    "is required (or CEDAR_POLICY_FILE and CEDAR_SCHEMA_FILE for local policies)",
                ));
            }
            (Some(_), _) => {
                return Err(ConfigError::new(
                    "CEDAR_POLICY_STORE_ID",
                    "set either CEDAR_POLICY_STORE_ID or CEDAR_POLICY_FILE/CEDAR_SCHEMA_FILE, not both",
                ));
            }
        };
        let defaults = IdentityMapping::default();
        let text = |name: &str, default: String| env.var(name).unwrap_or(default);
        let mapping = IdentityMapping {
            principal_type: text("CEDAR_PRINCIPAL_TYPE", defaults.principal_type),
            group_type: text("CEDAR_GROUP_TYPE", defaults.group_type),
            principal_id_claim: text("CEDAR_PRINCIPAL_ID_CLAIM", defaults.principal_id_claim),
            groups_claim: text("CEDAR_GROUPS_CLAIM", defaults.groups_claim),
            entity_id_prefix: env.var("CEDAR_ENTITY_ID_PREFIX"),
        };
        for (name, value) in [
            ("CEDAR_PRINCIPAL_TYPE", &mapping.principal_type),
            ("CEDAR_GROUP_TYPE", &mapping.group_type),
        ] {
            if value.contains("::") || value.trim().is_empty() {
                return Err(ConfigError::new(
                    name,
                    "is an entity type name without its namespace (User)",
                ));
            }
        }
        let cache = CacheConfig {
            ttl: seconds_or(env, "CEDAR_REFRESH_SECONDS", 300, 1..=86_400)?,
            max_stale: seconds_or(env, "CEDAR_MAX_STALE_SECONDS", 300, 0..=86_400)?,
            retry_after_error: seconds_or(env, "CEDAR_RETRY_AFTER_ERROR_SECONDS", 5, 0..=300)?,
            ..CacheConfig::default()
        };
        let context_policies = match env.var("CEDAR_CONTEXT_POLICIES").as_deref() {
            None | Some("refuse") => ContextPolicies::Refuse,
            Some("per-request") => ContextPolicies::PerRequest,
            Some(_) => {
                return Err(ConfigError::new(
                    "CEDAR_CONTEXT_POLICIES",
                    "is refuse or per-request",
                ));
            }
        };
        Ok(Self {
            location,
            mapping,
            cache,
            context_policies,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use portcullis::config::MapEnv;

    use super::*;

    #[test]
    fn a_store_id_with_defaults() {
        let settings =
            CedarSettings::from_env(&MapEnv::from_pairs([("CEDAR_POLICY_STORE_ID", "PS1")]))
                .unwrap();
        assert_eq!(settings.location, PolicyLocation::Store("PS1".into()));
        assert_eq!(settings.mapping, IdentityMapping::default());
        assert_eq!(settings.mapping.groups_claim, "cognito:groups");
        assert_eq!(settings.cache.ttl, Duration::from_secs(300));
        assert_eq!(settings.cache.max_stale, Duration::from_secs(300));
        assert_eq!(settings.context_policies, ContextPolicies::Refuse);
    }

    #[test]
    fn files_with_overrides() {
        let settings = CedarSettings::from_env(&MapEnv::from_pairs([
            ("CEDAR_POLICY_FILE", "p.cedar"),
            ("CEDAR_SCHEMA_FILE", "s.cedarschema"),
            ("CEDAR_GROUPS_CLAIM", "groups"),
            ("CEDAR_ENTITY_ID_PREFIX", "Okta"),
            ("CEDAR_REFRESH_SECONDS", "60"),
            ("CEDAR_CONTEXT_POLICIES", "per-request"),
        ]))
        .unwrap();
        assert_eq!(
            settings.location,
            PolicyLocation::Files {
                policies: "p.cedar".into(),
                schema: "s.cedarschema".into()
            }
        );
        assert_eq!(settings.mapping.groups_claim, "groups");
        assert_eq!(settings.mapping.entity_id_prefix.as_deref(), Some("Okta"));
        assert_eq!(settings.cache.ttl, Duration::from_secs(60));
        assert_eq!(settings.context_policies, ContextPolicies::PerRequest);
    }

    #[test]
    fn contradictions_name_the_setting() {
        let cases: [(&[(&str, &str)], &str); 6] = [
            (
                &[
                    ("CEDAR_POLICY_STORE_ID", "PS1"),
                    ("CEDAR_CONTEXT_POLICIES", "sometimes"),
                ],
                "CEDAR_CONTEXT_POLICIES",
            ),
            (&[], "CEDAR_POLICY_STORE_ID"),
            (&[("CEDAR_POLICY_FILE", "p")], "CEDAR_SCHEMA_FILE"),
            (&[("CEDAR_SCHEMA_FILE", "s")], "CEDAR_POLICY_STORE_ID"),
            (
                &[("CEDAR_POLICY_STORE_ID", "PS1"), ("CEDAR_POLICY_FILE", "p")],
                "CEDAR_POLICY_STORE_ID",
            ),
            (
                &[
                    ("CEDAR_POLICY_STORE_ID", "PS1"),
                    ("CEDAR_PRINCIPAL_TYPE", "Ns::User"),
                ],
                "CEDAR_PRINCIPAL_TYPE",
            ),
        ];
        for (pairs, var) in cases {
            let error =
                CedarSettings::from_env(&MapEnv::from_pairs(pairs.iter().copied())).unwrap_err();
            assert_eq!(error.var, var, "{pairs:?}");
        }
    }
}
