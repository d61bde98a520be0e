//! The Cedar authorizer: the caller's JWT (verified by the jwt-authorizer's code and settings),
//! then Cedar policies evaluated in-process for every route of the API at once, so the answer
//! API Gateway caches is right for every route.
//!
//! It follows Verified Permissions' conventions for API-linked policy stores, so a store made
//! by AWS's API Gateway integration works unchanged (see `docs/cedar-authorizer.md`):
//!
//! - [`routes`]: action ids `"<method> <path>"` as grant patterns, and exact overlap of a grant
//!   with a route's concrete paths.
//! - [`bundle`]: a policy store snapshot parsed and validated against its schema, once per
//!   refresh.
//! - [`source`]: the snapshot from a Verified Permissions policy store or from files.
//! - [`identity`]: the caller's principal, groups and attributes as Cedar entities.
//! - [`decide`]: every route evaluated, and the whole-API policy that allows exactly the
//!   permitted ones.
//! - [`settings`]: the `CEDAR_*` settings.
//! - [`handler`]: the caller check on the front door.

pub mod bundle;
pub mod decide;
pub mod handler;
pub mod identity;
pub mod routes;
pub mod settings;
pub mod source;
