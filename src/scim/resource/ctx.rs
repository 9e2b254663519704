//! One resource request's context ([`Ctx`]): the app calls of its
//! connection on its resource type's mapping, within the request's
//! deadline; the connection's dialect; where its resources are found (for
//! `meta.location`); the write locks and the audit sink. Reading the
//! request body within the deadline and taking write locks go through it.

use crate::config::{Config, Connection, Idp};
use crate::coordination::{KeyGuard, WriteLocks};
use crate::error::ScimError;
use crate::host::HostCtx;
use crate::mapping::{ResourceMapping, WriteEnv};
use crate::protocol::patch::Dialect;
use crate::protocol::query::{self, Projection};
use crate::scim::input::read_json;
use crate::scim::services::Services;
use crate::telemetry::Audit;
use http::{HeaderMap, Request, StatusCode};
use hyper::body::Incoming;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::Value;
use tokio::time::{Instant, timeout_at};

/// One SCIM request's context.
pub struct Ctx<'a> {
    /// App calls.
    pub host: HostCtx<'a>,
    /// The request dialect of the connection.
    pub dialect: Dialect,
    /// Absolute or path URL of the collection, for `meta.location`.
    pub collection_url: String,
    /// Per-resource write locks.
    pub locks: &'a WriteLocks,
    /// Where provisioning events go.
    pub audit: &'a Audit,
}

impl<'a> Ctx<'a> {
    /// The context of one request of connection `conn` on `mapping`, with
    /// the request deadline starting now.
    pub(super) fn new(
        services: Services<'a>,
        mapping: &'a ResourceMapping,
        conn: &'a Connection,
        collection_url: String,
    ) -> Self {
        Ctx {
            host: HostCtx {
                app: services.app(),
                mapping,
                conn,
                deadline: Instant::now() + services.config.scim.request_timeout,
                calls: None,
            },
            dialect: match conn.idp {
                Idp::Okta => Dialect::Okta,
                Idp::Entra => Dialect::Entra,
                Idp::OneLogin => Dialect::OneLogin,
                Idp::JumpCloud => Dialect::JumpCloud,
                Idp::PingOne => Dialect::PingOne,
                Idp::Generic => Dialect::Generic,
            },
            collection_url,
            locks: services.locks,
            audit: services.audit,
        }
    }

    /// The resource type's mapping.
    pub(super) fn mapping(&self) -> &ResourceMapping {
        self.host.mapping
    }

    /// The config in force.
    pub(super) fn config(&self) -> &Config {
        self.host.app.config
    }

    /// Reads the request's JSON body within the request deadline (a client
    /// that sends its body too slowly gets 408).
    pub(super) async fn read_body(&self, body: Incoming, max: usize) -> Result<Value, ScimError> {
        match timeout_at(self.host.deadline, read_json(body, max)).await {
            Ok(result) => result,
            Err(_) => Err(ScimError::client(
                StatusCode::REQUEST_TIMEOUT,
                None,
                "the request body did not arrive in time",
            )),
        }
    }

    /// Takes the write locks on `keys` for the rest of the request (within
    /// its deadline): concurrent writes to one resource run one at a time.
    pub(super) async fn lock(&self, keys: Vec<String>) -> Result<Vec<KeyGuard<'_>>, ScimError> {
        self.locks
            .lock_all(keys, self.host.deadline)
            .await
            .map_err(|e| {
                ScimError::client(StatusCode::SERVICE_UNAVAILABLE, None, e.to_string())
                    .with_retry_after(1)
            })
    }

    /// Confirms just before a write that the locks in `held` are still
    /// this request's (a shared lock may have expired while its holder
    /// was cut off from the store): otherwise 503 with `Retry-After`, and
    /// nothing more is sent.
    pub(super) async fn confirm(&self, held: &[KeyGuard<'_>]) -> Result<(), ScimError> {
        self.locks.confirm(held).await.map_err(|e| {
            ScimError::client(StatusCode::SERVICE_UNAVAILABLE, None, e.to_string())
                .with_retry_after(1)
        })
    }

    /// The write-lock key of resource `id` of this type.
    pub(super) fn lock_key(&self, id: &str) -> String {
        format!("{}:{id}", self.mapping().schema().name)
    }

    /// What a write knows beyond the SCIM resource: the connection's
    /// variables and the app's current JSON of the resource.
    pub(super) fn write_env<'v>(&'v self, current: Option<&'v Value>) -> WriteEnv<'v> {
        WriteEnv {
            conn: Some(&self.host.conn.vars),
            current,
        }
    }

    /// The `meta.location` of the resource `id`: the collection's URL and
    /// the id, percent-encoded as a path segment.
    pub(super) fn location_of(&self, id: &str) -> String {
        let mut l = String::with_capacity(self.collection_url.len() + 1 + id.len());
        l.push_str(&self.collection_url);
        l.push('/');
        l.extend(utf8_percent_encode(id, NON_ALPHANUMERIC));
        l
    }

    /// Finishes a mapped resource: `meta.location`.
    pub(super) fn finish(&self, mut resource: Value) -> Value {
        let location = resource
            .get("id")
            .and_then(Value::as_str)
            .map(|id| self.location_of(id));
        if let (Some(l), Some(meta)) = (
            location,
            resource.get_mut("meta").and_then(Value::as_object_mut),
        ) {
            meta.insert("location".into(), Value::String(l));
        }
        resource
    }
}

/// Reads a write request: its JSON body (within the deadline), headers and
/// the projection asked for in its query.
pub(super) async fn body_of(
    ctx: &Ctx<'_>,
    req: Request<Incoming>,
) -> Result<(Value, HeaderMap, Projection), ScimError> {
    let cfg = &ctx.config().scim;
    let q = query::from_query(req.uri().query(), 1, &Default::default())?;
    let (parts, body) = req.into_parts();
    let json = ctx.read_body(body, cfg.max_body_bytes).await?;
    Ok((json, parts.headers, q.projection))
}
