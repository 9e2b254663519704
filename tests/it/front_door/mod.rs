//! The SCIM front door: authentication, tenants, discovery, path and
//! header hygiene, the strict reader every answer passes, and the README
//! claims checked one by one.

mod claims;
mod discovery;
mod hygiene;
mod schema_fidelity;
mod scim_front_door;
mod strict_reader;
mod tenants;
