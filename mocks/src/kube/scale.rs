//! The `scale` subresource of Deployments (`kubectl scale`) and of Cluster API
//! MachineDeployments (the clusterapi provider's `SetSize`): an `autoscaling/v1` Scale read,
//! replaced (PUT, with optimistic concurrency) or merge-patched, each write one engine
//! operation.

use super::body::merge;
use super::discovery::Resource;
use super::managed::{self, Change, Writer};
use super::objects::scale_json;
use super::server::App;
use super::status::KubeError;
use magsim_sim::engine::Operation;
use serde_json::Value;
use std::sync::Arc;

type Result<T> = std::result::Result<T, KubeError>;

/// How the client changes the Scale.
pub enum ScaleWrite {
    Patch(Value),
    Put(Value),
}

fn not_found(resource: Resource, name: &str) -> KubeError {
    KubeError::not_found(resource.group(), resource.plural(), name)
}

/// The Scale of `namespace/name` as it is now.
pub fn read(app: &Arc<App>, resource: Resource, namespace: &str, name: &str) -> Result<Value> {
    let view = app.store.sync(&app.live);
    let stored = view
        .get(resource, namespace, name)
        .ok_or_else(|| not_found(resource, name))?;
    Ok(scale_json(&stored.value()?))
}

/// The operation that sets the replicas of `resource` (one that has a `scale` subresource).
fn operation(resource: Resource, namespace: String, name: String, replicas: u32) -> Operation {
    match resource {
        Resource::MachineDeployments => Operation::ScaleMachineDeployment {
            namespace,
            name,
            replicas,
        },
        _ => Operation::ScaleDeployment {
            namespace,
            name,
            replicas,
        },
    }
}

/// `spec.replicas` of a written object of `kind_group` (absent: 0), checked as the API
/// server validates it.
pub(super) fn replicas(object: &Value, kind_group: &str, name: &str) -> Result<u32> {
    let value = &object["spec"]["replicas"];
    let replicas = match value {
        Value::Number(n) => n.as_i64(),
        Value::Null => Some(0),
        _ => None,
    };
    match replicas {
        Some(r) if (0..=i64::from(i32::MAX)).contains(&r) => Ok(r as u32),
        Some(r) => Err(KubeError::invalid(
            kind_group,
            name,
            &format!("spec.replicas: Invalid value: {r}: must be greater than or equal to 0"),
        )),
        None => Err(KubeError::bad_request(format!(
            "error decoding request body: spec.replicas: expected an integer, got {value}"
        ))),
    }
}

/// Applies a PUT or PATCH of the Scale and answers with the Scale after the controllers ran.
pub fn write(
    app: &Arc<App>,
    (resource, namespace, name): (Resource, &str, &str),
    write: ScaleWrite,
    writer: &Writer,
) -> Result<Value> {
    let current = read(app, resource, namespace, name)?;
    let desired = match write {
        ScaleWrite::Patch(p) => {
            let mut s = current.clone();
            merge(&mut s, &p);
            s
        }
        ScaleWrite::Put(s) => {
            if !s.is_object() {
                return Err(KubeError::bad_request(
                    "error decoding request body: the object is not a JSON object",
                ));
            }
            let field = |f: &str| s.get(f).and_then(Value::as_str);
            super::admission::check_kind(
                field("kind"),
                field("apiVersion"),
                "Scale",
                "autoscaling/v1",
            )?;
            let meta = |f: &str| {
                s["metadata"]
                    .get(f)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
            };
            super::admission::check_update_name(meta("name"), meta("namespace"), name, namespace)?;
            super::writes::fresh(resource, name, &s, &current)?;
            s
        }
    };
    let replicas = replicas(&desired, "Scale.autoscaling", name)?;
    let before = super::writes::current(app, resource, namespace, name)?;
    let mut after = before.clone().unwrap_or_default();
    after["spec"]["replicas"] = replicas.into();
    let change = Change::Update {
        writer,
        before: before.as_ref(),
        after: &after,
    };
    managed::track(app, (resource, namespace, name), change, || {
        let op = operation(resource, namespace.to_string(), name.to_string(), replicas);
        let r = app.live.mutate(|e| e.apply(op, None));
        if r.status == 404 {
            return Err(not_found(resource, name));
        }
        refused(&r, "Scale.autoscaling", name)?;
        read(app, resource, namespace, name)
    })
}

/// The engine's refusal of a write past [`magsim_sim::limits`] as the API server's 422
/// `Invalid` Status.
pub(super) fn refused(
    r: &magsim_sim::engine::ApiResponse,
    kind_group: &str,
    name: &str,
) -> Result<()> {
    match &r.error {
        Some(e) if r.status == 422 => Err(KubeError::invalid(kind_group, name, &e.message)),
        _ => Ok(()),
    }
}
