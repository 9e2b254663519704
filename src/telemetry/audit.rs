//! Audit events: every provisioning change (and every refused attempt at
//! one) as a typed [`ProvisioningEvent`] — which connection and IdP, which
//! resource, which attributes changed (names, never values), the result
//! and when. [`Audit::record`] writes it on its own log target
//! ([`TARGET`]), counts it, and queues successful changes for the
//! configured webhooks. Write paths call it once per outcome; nothing here
//! can fail or wait.

use super::event::{EventKind, Outcome, ProvisioningEvent};
use super::metrics::Metrics;
use super::webhook::Webhooks;
use crate::config::Connection;
use crate::plan::{Purpose, Step, WritePlan};
use serde_json::Value;
use std::sync::Arc;

/// The log target of audit events: route or filter it on its own
/// (`RUST_LOG=info,scim_sidecar::audit=info`).
pub const TARGET: &str = "scim_sidecar::audit";

/// The audit sink: log target, metrics and webhooks.
pub struct Audit {
    metrics: Arc<Metrics>,
    webhooks: Webhooks,
}

impl Audit {
    /// An audit sink reporting to `metrics` and delivering to `webhooks`.
    pub fn new(metrics: Arc<Metrics>, webhooks: Webhooks) -> Self {
        Self { metrics, webhooks }
    }

    /// Records one event: a log line on [`TARGET`], a count, and — for
    /// successful changes — a queued webhook delivery. Never blocks.
    pub fn record(&self, event: ProvisioningEvent) {
        let attributes = event.attributes.join(",");
        // Only membership events name members.
        let members = (!event.members.is_empty()).then(|| event.members.join(","));
        let request_id = event.request_id.as_deref().unwrap_or_default();
        match event.outcome {
            Outcome::Success => tracing::info!(
                target: TARGET,
                event_id = %event.id,
                event = event.kind.as_str(),
                connection = %event.connection,
                idp = event.idp,
                resource_type = event.kind.resource_type().as_str(),
                resource_id = %event.resource_id,
                attributes = %attributes,
                members = members.as_deref(),
                result = "success",
                request_id,
                "audit event"
            ),
            Outcome::Failure { status } => tracing::info!(
                target: TARGET,
                event_id = %event.id,
                event = event.kind.as_str(),
                connection = %event.connection,
                idp = event.idp,
                resource_type = event.kind.resource_type().as_str(),
                resource_id = %event.resource_id,
                result = "failure",
                status,
                request_id,
                "audit event"
            ),
        }
        self.metrics
            .audit_event(event.kind.as_str(), event.result());
        if event.outcome == Outcome::Success {
            self.webhooks.enqueue(&event);
        }
    }

    /// Records what a successful write plan did to resource `id`: an
    /// update event when attributes other than `members` changed (its kind
    /// from the change, see [`ProvisioningEvent::updated`]), and the
    /// membership events of the plan's member calls.
    pub fn record_write(
        &self,
        conn: &Connection,
        core_schema: &str,
        id: &str,
        before: &Value,
        after: &Value,
        plan: &WritePlan,
    ) {
        let is_member = |p: Purpose| matches!(p, Purpose::AddMembers | Purpose::RemoveMembers);
        if plan.steps.iter().any(|s| !is_member(s.purpose)) {
            self.record(ProvisioningEvent::updated(
                conn,
                core_schema,
                id,
                before,
                after,
            ));
        }
        let ids = |p: Purpose| -> Vec<String> {
            let steps = plan.steps.iter().filter(|s| s.purpose == p);
            steps.flat_map(member_ids).collect()
        };
        self.record_members(
            conn,
            id,
            &ids(Purpose::AddMembers),
            &ids(Purpose::RemoveMembers),
        );
    }

    /// Records membership changes of group `id`: one event for the users
    /// added and one for those removed (none when a list is empty).
    pub fn record_members(
        &self,
        conn: &Connection,
        id: &str,
        added: &[String],
        removed: &[String],
    ) {
        for (kind, ids) in [
            (EventKind::GroupMembersAdded, added),
            (EventKind::GroupMembersRemoved, removed),
        ] {
            if !ids.is_empty() {
                let event = ProvisioningEvent::new(kind, conn, id)
                    .with_attributes(vec!["members".to_string()])
                    .with_members(ids.to_vec());
                self.record(event);
            }
        }
    }

    /// The webhook queues.
    pub fn webhooks(&self) -> &Webhooks {
        &self.webhooks
    }
}

/// The member ids a membership step writes: its `{member}`, or the id
/// list in the body of a batch call.
fn member_ids(step: &Step) -> Vec<String> {
    fn strings_in_arrays(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Array(items) => {
                out.extend(items.iter().filter_map(Value::as_str).map(str::to_string))
            }
            Value::Object(o) => o.values().for_each(|v| strings_in_arrays(v, out)),
            _ => {}
        }
    }
    if let Some(m) = &step.member {
        return vec![m.clone()];
    }
    let mut out = Vec::new();
    if let Some(body) = &step.body {
        strings_in_arrays(body, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn member_ids_of_single_and_batch_calls() {
        use crate::mapping::OpKind;
        use crate::plan::{Condition, Repeat};
        let step = |member: Option<&str>, body: Option<Value>| Step {
            op: OpKind::MemberAdd,
            purpose: Purpose::AddMembers,
            body,
            changes: vec!["members".into()],
            precondition: false,
            repeat: Repeat::Safe,
            when: Condition::Always,
            member: member.map(str::to_string),
            role: None,
            target: None,
        };
        assert_eq!(member_ids(&step(Some("7"), None)), ["7"]);
        let batch = step(None, Some(json!({"team": {"user_ids": ["7", "9"]}})));
        assert_eq!(member_ids(&batch), ["7", "9"]);
    }
}
