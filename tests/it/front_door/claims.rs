//! README claims that had no test, or only one that could not fail: pooled
//! keep-alive connections and request trailers on pass-through, HTTP/2
//! keep-alive pings, `/Groups` as 501 where only users are mapped,
//! `/readyz` through `health_path`, `/ServiceProviderConfig` across
//! configs, the IdP's `If-Match` on PUT and DELETE, a create with
//! `active: false`, `unmapped = "reject"`, and a failure between the two
//! calls of one update. `docs/reliability.md` maps every claim to its test.

use crate::support;

mod front_door;
mod passthrough;
mod writes;
