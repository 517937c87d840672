//! Deployment writes as kubectl makes them (`create -f`, `apply -f`, `replace`, `delete`),
//! each read as a scenario step's manifest is ([`magsim_scenario::manifest`]) and applied
//! through the engine: a workload Deployment becomes the engine's (its ReplicaSet and pods
//! scheduled, pending pods seen by the simulated autoscalers), one whose container is
//! cluster-autoscaler becomes a simulated in-cluster autoscaler (starting, or failing to, as
//! the real binary does) and is kept as written so kubectl reads it back.

use super::admission;
use super::body::object;
use super::discovery::Resource;
use super::server::App;
use super::status::KubeError;
use magsim_sim::engine::Operation;
use serde_json::Value;
use std::sync::Arc;

type Result<T> = std::result::Result<T, KubeError>;

const KIND: &str = "Deployment.apps";

fn current(app: &Arc<App>, namespace: &str, name: &str) -> Option<Value> {
    let stored = app
        .store
        .sync(&app.live)
        .get(Resource::Deployments, namespace, name)?;
    stored.value().ok()
}

/// The engine operation `body` is, read as a manifest document.
fn operation(namespace: &str, name: &str, body: &Value) -> Result<Operation> {
    let mut doc = body.clone();
    doc["metadata"]["namespace"] = Value::String(namespace.to_string());
    // A protobuf body has no TypeMeta: the URL says what it is.
    for (field, value) in [("kind", "Deployment"), ("apiVersion", "apps/v1")] {
        if doc[field].as_str().is_none_or(str::is_empty) {
            doc[field] = value.into();
        }
    }
    let text = doc.to_string();
    let template = body["spec"]["template"].to_string();
    let hash = magsim_sim::deploy::pod::pod_template_hash(namespace, name, &template);
    let applied =
        magsim_scenario::manifest::parse(&text, false, &mut || hash.clone()).map_err(|e| {
            // One document: the field errors alone, as kube-apiserver words them.
            let detail = e.strip_prefix("manifest document 1: ").unwrap_or(&e);
            KubeError::invalid(KIND, name, detail)
        })?;
    applied
        .into_iter()
        .next()
        .and_then(|a| a.op)
        .ok_or_else(|| KubeError::invalid(KIND, name, "spec: Required value"))
}

/// Applies `body` (already checked) and answers with the Deployment as now served.
fn apply(app: &Arc<App>, namespace: &str, name: &str, body: Value) -> Result<Value> {
    let op = operation(namespace, name, &body)?;
    let autoscaler = matches!(op, Operation::DeployAutoscaler(_));
    let r = app.live.mutate(|e| e.apply(op, None));
    super::scale::refused(&r, KIND, name)?;
    if let Some(e) = r.error.filter(|_| r.status >= 400) {
        return Err(KubeError::invalid(KIND, name, &e.message));
    }
    if autoscaler {
        // Not one of the engine's workloads: kept as written, so kubectl reads it back.
        let mut object = body;
        // The server's own fields: kept from the object it replaces, else set now.
        let before = current(app, namespace, name);
        let now = {
            let e = app.live.engine();
            e.epoch.at(e.now()).rfc3339()
        };
        for (field, value) in [("kind", "Deployment"), ("apiVersion", "apps/v1")] {
            if object[field].as_str().is_none_or(str::is_empty) {
                object[field] = value.into();
            }
        }
        if let Some(m) = object["metadata"].as_object_mut() {
            m.insert("namespace".into(), namespace.into());
            m.shift_remove("resourceVersion");
            // A protobuf body carries every unset string as "": the API server omits them.
            m.retain(|k, v| !(v == "" && k == "generateName"));
            for (field, fresh) in [
                (
                    "uid",
                    magsim_sim::ids::derived_uid(&["deployments", namespace, name, &now]),
                ),
                ("creationTimestamp", now.clone()),
            ] {
                let kept = before
                    .as_ref()
                    .and_then(|b| b["metadata"][field].as_str().map(str::to_string));
                m.insert(field.into(), kept.unwrap_or(fresh).into());
            }
        }
        let op = Operation::PutStored {
            key: (
                Resource::Deployments.stored_name(),
                namespace.to_string(),
                name.to_string(),
            ),
            object,
        };
        // A full sync: Deployments are rendered with the world's, not with the written kinds.
        app.live.mutate(|e| e.apply(op, None));
    } else if let Some(m) = body.as_object() {
        let meta = super::metadata::keep(Resource::Deployments, namespace, name, m);
        app.live.mutate(|e| e.apply(meta, None));
    }
    current(app, namespace, name).ok_or_else(|| KubeError::internal("the Deployment was not found"))
}

/// `POST /apis/apps/v1/namespaces/{namespace}/deployments`.
pub fn create(app: &Arc<App>, namespace: &str, body: Value) -> Result<Value> {
    let m = object(body)?;
    let name = admission::admit_create(&m, ("Deployment", "apps/v1", KIND), namespace)?;
    let body = Value::Object(m);
    super::writes::namespace_exists(app, namespace)?;
    if current(app, namespace, &name).is_some() {
        return Err(KubeError::already_exists("apps", "deployments", &name));
    }
    apply(app, namespace, &name, body)
}

/// `PUT .../deployments/{name}`.
pub fn replace(app: &Arc<App>, namespace: &str, name: &str, body: Value) -> Result<Value> {
    let m = object(body)?;
    admission::admit_update(&m, ("Deployment", "apps/v1"), name, namespace)?;
    let body = Value::Object(m);
    let cur = current(app, namespace, name)
        .ok_or_else(|| KubeError::not_found("apps", "deployments", name))?;
    super::writes::fresh(Resource::Deployments, name, &body, &cur)?;
    apply(app, namespace, name, body)
}

/// `PATCH .../deployments/{name}` (merge, strategic merge or JSON patch of the served
/// object).
pub fn patch(
    app: &Arc<App>,
    namespace: &str,
    name: &str,
    patch: &super::writes::Patch,
) -> Result<Value> {
    let mut next = current(app, namespace, name)
        .ok_or_else(|| KubeError::not_found("apps", "deployments", name))?;
    patch.apply(&mut next)?;
    if let Some(m) = next["metadata"].as_object_mut() {
        m.shift_remove("resourceVersion");
    }
    replace(app, namespace, name, next)
}

/// `DELETE .../deployments/{name}`: the Deployment goes with its ReplicaSet and pods (or its
/// autoscaler stops). Answers the Deployment as it was.
pub fn delete(app: &Arc<App>, namespace: &str, name: &str) -> Result<Value> {
    let cur = current(app, namespace, name)
        .ok_or_else(|| KubeError::not_found("apps", "deployments", name))?;
    let stored_key = (
        Resource::Deployments.stored_name(),
        namespace.to_string(),
        name.to_string(),
    );
    let autoscaler = app.live.engine().world.stored.contains_key(&stored_key);
    if autoscaler {
        app.live.mutate(|e| {
            e.apply(
                Operation::RemoveAutoscaler {
                    name: name.to_string(),
                },
                None,
            )
        });
        app.live.mutate(|e| {
            e.apply(Operation::DeleteStored { key: stored_key }, None);
            super::metadata::forget(e, Resource::Deployments, namespace, name);
        });
    } else {
        let op = Operation::DeleteDeployment {
            namespace: namespace.to_string(),
            name: name.to_string(),
        };
        app.live.mutate(|e| {
            e.apply(op, None);
            super::metadata::forget(e, Resource::Deployments, namespace, name);
        });
    }
    Ok(cur)
}
