//! What operators see: request and audit logs, access lines, metrics and
//! webhooks.

mod access_log;
mod logs;
mod observability;
mod webhooks;
