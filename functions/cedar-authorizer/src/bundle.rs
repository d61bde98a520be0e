//! A policy store snapshot: parsed and validated once per refresh, never per request.
//!
//! Every source ([`crate::source`]) delivers the same JSON document:
//! `{"schema": "<Cedar JSON schema or Cedar schema text>", "policies": [{"id": "…", "statement":
//! "…"}]}`. [`parse`] turns it into a [`Bundle`]: the policy set validated strictly against the
//! schema, the namespace, the routes (the schema's route actions) and whether any policy reads
//! the request `context`. Any failure names the policy (or the schema) and nothing is kept from
//! that snapshot: the cache goes on serving the last good bundle.

use std::str::FromStr;

use cedar_policy::{EntityTypeName, EntityUid, PolicySet, Schema, ValidationMode, Validator};
use serde::{Deserialize, Serialize};

use crate::routes::Route;

/// The document a policy source delivers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Snapshot {
    /// The schema, in Cedar's JSON format or its human-readable format.
    pub schema: String,
    /// The policies, each with its id (a Verified Permissions policy id, or a file name).
    pub policies: Vec<PolicyText>,
}

/// One policy statement (a file may hold several).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyText {
    /// Where it came from; named in every error about it.
    pub id: String,
    /// Cedar text.
    pub statement: String,
}

/// A validated policy set and what the decision needs from its schema.
#[derive(Debug)]
pub struct Bundle {
    /// The policies, validated against [`Self::schema`].
    pub policies: PolicySet,
    /// The schema.
    pub schema: Schema,
    /// The namespace of the API's entities (`PetStore`).
    pub namespace: String,
    /// The application entity every route acts on: `<namespace>::Application::"<namespace>"`.
    pub application: EntityUid,
    /// Each route with its Cedar action.
    pub routes: Vec<(Route, EntityUid)>,
    /// The first policy that reads `context` (path or query values), if any.
    pub reads_context: Option<String>,
}

/// The entity type of the resource in an API-linked policy store.
pub const APPLICATION: &str = "Application";

/// Parses and validates a [`Snapshot`] given as JSON text, refusing policies that read the
/// request `context`: a whole-API answer cannot depend on request values. The error names the
/// policy or the schema at fault, never more of the document than the validator's message.
pub fn parse(text: &str) -> Result<Bundle, String> {
    let bundle = parse_per_request(text)?;
    match &bundle.reads_context {
        Some(id) => Err(format!(
            "policy {id} reads the request context (path or query values): set CEDAR_CONTEXT_POLICIES=per-request and turn the authorizer's result cache off"
        )),
        None => Ok(bundle),
    }
}

/// [`parse`], accepting policies that read `context` (decided per request).
pub fn parse_per_request(text: &str) -> Result<Bundle, String> {
    let snapshot: Snapshot =
        serde_json::from_str(text).map_err(|e| format!("policy snapshot: {e}"))?;
    let schema = parse_schema(&snapshot.schema)?;
    let policies = parse_policies(&snapshot.policies)?;
    let result = Validator::new(schema.clone()).validate(&policies, ValidationMode::Strict);
    if let Some(error) = result.validation_errors().next() {
        return Err(format!(
            "policy {} fails validation against the schema: {error}",
            error.policy_id()
        ));
    }
    let namespace = application_namespace(&schema)?;
    let application = entity(&format!("{namespace}::{APPLICATION}"), &namespace)?;
    let mut routes = schema
        .actions()
        .filter(|uid| uid.type_name().namespace() == namespace)
        .filter_map(|uid| Route::parse(uid.id().unescaped()).map(|route| (route, uid.clone())))
        .collect::<Vec<_>>();
    routes.sort_by(|a, b| a.0.action.cmp(&b.0.action));
    if routes.is_empty() {
        return Err(format!(
            "schema has no route actions (\"<method> /<path>\") in namespace {namespace}"
        ));
    }
    let reads_context = first_reading_context(&policies);
    Ok(Bundle {
        policies,
        schema,
        namespace,
        application,
        routes,
        reads_context,
    })
}

fn parse_schema(text: &str) -> Result<Schema, String> {
    if text.trim_start().starts_with('{') {
        Schema::from_json_str(text).map_err(|e| format!("schema (JSON): {e}"))
    } else {
        Schema::from_cedarschema_str(text)
            .map(|(schema, _warnings)| schema)
            .map_err(|e| format!("schema: {e}"))
    }
}

/// The namespace of the one `Application` entity type in the schema.
fn application_namespace(schema: &Schema) -> Result<String, String> {
    let mut found = schema
        .entity_types()
        .filter(|t| t.basename() == APPLICATION)
        .map(EntityTypeName::namespace)
        .collect::<Vec<_>>();
    found.sort();
    found.dedup();
    match found.as_slice() {
        [one] if !one.is_empty() => Ok(one.clone()),
        [] | [_] => Err(format!(
            "schema declares no namespaced {APPLICATION} entity type (an API-linked policy store has <namespace>::{APPLICATION})"
        )),
        _ => Err(format!(
            "schema declares {APPLICATION} in several namespaces: {}",
            found.join(", ")
        )),
    }
}

/// `type_name::"id"`.
pub fn entity(type_name: &str, id: &str) -> Result<EntityUid, String> {
    let name = EntityTypeName::from_str(type_name)
        .map_err(|e| format!("entity type {type_name:?}: {e}"))?;
    Ok(EntityUid::from_type_name_and_id(
        name,
        cedar_policy::EntityId::new(id),
    ))
}

/// The id of the first policy (in id order) whose conditions may read `context`.
fn first_reading_context(policies: &PolicySet) -> Option<String> {
    let mut ids = policies
        .policies()
        .filter(|p| may_read_context(&p.to_string()))
        .map(|p| p.id().to_string())
        .collect::<Vec<_>>();
    ids.sort();
    ids.into_iter().next()
}

mod policies;

use policies::{may_read_context, parse_policies};

#[cfg(test)]
mod tests;
