//! `kubectl create namespace` and `delete namespace`: a created namespace is kept as written
//! (`World::stored`, labels and annotations included) beside the implicit ones (the built-in
//! four, and every namespace an object of the scenario lives in). Deleting one deletes what
//! lives in it, through the engine: Deployments with their pods, bare pods, ConfigMaps,
//! Secrets, the kinds kept as written, in-cluster autoscalers.

use super::admission;
use super::body::object;
use super::discovery::Resource;
use super::server::App;
use super::status::KubeError;
use magsim_sim::engine::{Engine, Operation};
use serde_json::Value;
use std::sync::Arc;

type Result<T> = std::result::Result<T, KubeError>;

/// The namespaces kube-apiserver refuses to delete (`NamespaceLifecycle`).
const UNDELETABLE: [&str; 3] = ["default", "kube-system", "kube-public"];

fn key(name: &str) -> magsim_sim::world::StoredKey {
    (
        Resource::Namespaces.stored_name(),
        String::new(),
        name.to_string(),
    )
}

fn current(app: &Arc<App>, name: &str) -> Option<Value> {
    app.store
        .sync(&app.live)
        .get(Resource::Namespaces, "", name)?
        .value()
        .ok()
}

/// `POST /api/v1/namespaces`.
pub fn create(app: &Arc<App>, body: Value) -> Result<Value> {
    let mut m = object(body)?;
    let name = admission::admit_create(&m, ("Namespace", "v1", "Namespace"), "")?;
    if current(app, &name).is_some() {
        return Err(KubeError::already_exists("", "namespaces", &name));
    }
    let now = {
        let e = app.live.engine();
        e.epoch.at(e.now()).rfc3339()
    };
    m.insert("kind".into(), "Namespace".into());
    m.insert("apiVersion".into(), "v1".into());
    if let Some(meta) = m.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.shift_remove("resourceVersion");
        // A protobuf body carries every unset string as "": the API server omits them.
        meta.retain(|k, v| !(v == "" && matches!(k.as_str(), "generateName" | "namespace")));
        meta.insert(
            "uid".into(),
            magsim_sim::ids::derived_uid(&["namespaces", &name, &now]).into(),
        );
        meta.insert("creationTimestamp".into(), now.into());
        let labels = meta
            .entry("labels")
            .or_insert_with(|| Value::Object(Default::default()));
        if let Some(l) = labels.as_object_mut() {
            l.insert("kubernetes.io/metadata.name".into(), name.clone().into());
        }
    }
    m.insert(
        "spec".into(),
        serde_json::json!({"finalizers": ["kubernetes"]}),
    );
    m.insert("status".into(), serde_json::json!({"phase": "Active"}));
    let op = Operation::PutStored {
        key: key(&name),
        object: Value::Object(m),
    };
    // Namespaces are rendered with the cluster's kinds: a broad change.
    app.live.mutate(|e| e.apply(op, None));
    current(app, &name).ok_or_else(|| KubeError::internal("the Namespace was not found"))
}

/// `DELETE /api/v1/namespaces/{name}`: answers the namespace as it went, `Terminating`.
pub fn delete(app: &Arc<App>, name: &str) -> Result<Value> {
    let mut cur = current(app, name).ok_or_else(|| KubeError::not_found("", "namespaces", name))?;
    if UNDELETABLE.contains(&name) {
        return Err(KubeError::new(
            403,
            "Forbidden",
            format!("namespaces \"{name}\" is forbidden: this namespace may not be deleted"),
        ));
    }
    if super::capi::render(&app.live.engine())
        .iter()
        .any(|(_, ns, _, _)| ns == name)
    {
        return Err(KubeError::new(
            403,
            "Forbidden",
            format!(
                "namespaces \"{name}\" is forbidden: it holds the cloud's Cluster API objects, which only Magnum deletes (magsim)"
            ),
        ));
    }
    app.live.mutate(|e| {
        for op in contents(e, name) {
            e.apply(op, None);
        }
        super::metadata::forget(e, Resource::Namespaces, "", name);
        e.apply(Operation::DeleteStored { key: key(name) }, None)
    });
    cur["status"]["phase"] = "Terminating".into();
    Ok(cur)
}

/// The deletes that empty namespace `ns`.
fn contents(e: &Engine, ns: &str) -> Vec<Operation> {
    let w = &e.world;
    let mut ops = Vec::new();
    for a in &e.autoscalers {
        if let magsim_sim::deploy::Placement::InCluster { namespace, .. } = &a.spec.placement {
            if namespace == ns && !a.is_stopped() {
                ops.push(Operation::RemoveAutoscaler {
                    name: a.spec.name.clone(),
                });
            }
        }
    }
    for d in w.deployments.iter().filter(|d| d.namespace == ns) {
        ops.push(Operation::DeleteDeployment {
            namespace: ns.to_string(),
            name: d.name.clone(),
        });
    }
    for (_, p) in w
        .live_pods()
        .filter(|(_, p)| &*p.namespace == ns && p.owner.is_none())
    {
        ops.push(Operation::DeletePod {
            namespace: ns.to_string(),
            name: p.name.to_string(),
        });
    }
    for (cns, name) in w.configmaps.keys().filter(|(cns, _)| cns == ns) {
        ops.push(Operation::DeleteConfigMap {
            namespace: cns.clone(),
            name: name.clone(),
        });
    }
    for s in w.secrets.iter().filter(|s| s.namespace == ns) {
        ops.push(Operation::DeleteSecret {
            namespace: ns.to_string(),
            name: s.name.clone(),
        });
    }
    for k in w.stored.keys().filter(|(_, kns, _)| kns == ns) {
        ops.push(Operation::DeleteStored { key: k.clone() });
    }
    ops
}

/// `PATCH /api/v1/namespaces/{name}` (`kubectl label|annotate ns`): the namespace is kept as
/// patched from then on, an implicit one included.
pub fn patch(app: &Arc<App>, name: &str, patch: &super::writes::Patch) -> Result<Value> {
    let mut next =
        current(app, name).ok_or_else(|| KubeError::not_found("", "namespaces", name))?;
    patch.apply(&mut next)?;
    if let Some(m) = next["metadata"].as_object_mut() {
        m.shift_remove("resourceVersion");
        if m.get("name").and_then(Value::as_str) != Some(name) {
            return Err(KubeError::bad_request(
                "the name of the object does not match the name on the URL",
            ));
        }
    }
    let op = Operation::PutStored {
        key: key(name),
        object: next,
    };
    app.live.mutate(|e| e.apply(op, None));
    current(app, name).ok_or_else(|| KubeError::internal("the Namespace was not found"))
}
