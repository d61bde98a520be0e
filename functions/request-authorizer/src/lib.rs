//! REQUEST authorizer: tenants identified by API key (stored as SHA-256), checked against
//! source-IP CIDRs, client certificates and stage-variable/header conditions, answered with a
//! whole-API policy listing exactly their grants, their usage-plan key and context.

pub mod config;
pub mod handler;
pub mod rules;

pub use config::{Config, RulesLocation};
pub use handler::{Authorizer, InitError, Rules, TenantCheck, authorizer};
