//! What Okta and Entra send, run against the bundled example app: user
//! and group provisioning, full profiles, groups as roles, and whole
//! sequences replayed against an app that fails.

mod chaos;
mod entra_users;
mod full_profile;
mod groups;
mod groups_roles;
mod okta_users;
