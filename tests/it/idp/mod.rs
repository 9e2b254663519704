//! What Okta and Entra send to the bundled example app beyond the
//! lifecycle table's user sequences ([`crate::lifecycle`]): more user
//! requests of each IdP, group provisioning (onto the app's teams and
//! onto roles), full profiles, and whole sequences replayed against an
//! app that fails.

mod chaos;
mod entra_users;
mod full_profile;
mod groups;
mod groups_roles;
mod okta_users;
