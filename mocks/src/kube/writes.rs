//! Object writes beyond the scale subresource, events and ConfigMaps: kinds kept as clients
//! write them (leader-election Leases and the other kinds nothing simulated reads, see
//! [`Resource::is_stored`]), ConfigMap deletion, and MachineDeployment updates and patches
//! (`kubectl annotate`, the clusterapi provider's bounds). Each is one engine operation.

use super::admission;
use super::body::merge;
use super::discovery::Resource;
use super::objects::derived_uid;
use super::server::App;
use super::status::KubeError;
use magsim_sim::engine::Operation;
use magsim_sim::world::StoredKey;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

type Result<T> = std::result::Result<T, KubeError>;

/// A PATCH body, by its Content-Type.
pub enum Patch {
    /// RFC 7386 (also what a strategic-merge patch of metadata maps amounts to).
    Merge(Value),
    /// RFC 6902.
    Json(Value),
    /// kubectl's strategic merge ([`super::strategic`]).
    Strategic(Value),
    /// Server-side apply of `config` over an object this manager applied before: first what
    /// it stopped applying goes (`removals`), then the configuration merges in.
    Apply {
        removals: Vec<super::managed::FieldPath>,
        config: Value,
    },
}

impl Patch {
    pub(super) fn apply(&self, target: &mut Value) -> Result<()> {
        match self {
            Patch::Merge(p) => {
                merge(target, p);
                Ok(())
            }
            Patch::Json(ops) => {
                super::json_patch::apply(target, ops).map_err(KubeError::bad_request)
            }
            Patch::Strategic(p) => {
                super::strategic::merge(target, p);
                Ok(())
            }
            Patch::Apply { removals, config } => {
                super::managed::remove(target, removals);
                super::strategic::merge(target, config);
                Ok(())
            }
        }
    }
}

fn not_found(r: Resource, name: &str) -> KubeError {
    KubeError::not_found(r.group(), r.plural(), name)
}

fn key(r: Resource, namespace: &str, name: &str) -> StoredKey {
    (r.stored_name(), namespace.to_string(), name.to_string())
}

/// The object as stored now, parsed (`None`: there is none).
pub(super) fn current(
    app: &Arc<App>,
    r: Resource,
    namespace: &str,
    name: &str,
) -> Result<Option<Value>> {
    let stored = app.store.sync(&app.live).get(r, namespace, name);
    Ok(stored.map(|d| d.value()).transpose()?)
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter().try_fold(v, |v, p| v.get(p))?.as_str()
}

/// `Kind` or `Kind.group`, as kube-apiserver names a kind in its `Invalid` messages.
fn kind_group(r: Resource) -> String {
    match r.group() {
        "" => r.kind().to_string(),
        g => format!("{}.{g}", r.kind()),
    }
}

/// Checks what every write of a whole object must agree with (see [`admission`]): a JSON
/// object of the URL's kind; on update (`name` given) the URL's name and namespace, on
/// create the URL's namespace and a valid new name.
fn checked(
    r: Resource,
    namespace: &str,
    name: Option<&str>,
    v: Value,
) -> Result<Map<String, Value>> {
    let Value::Object(mut m) = v else {
        return Err(KubeError::bad_request(
            "error decoding request body: the object is not a JSON object",
        ));
    };
    let url_ns = if r.namespaced() { namespace } else { "" };
    let api_version = r.api_version();
    match name {
        Some(url) => admission::admit_update(&m, (r.kind(), &api_version), url, url_ns)?,
        None => {
            admission::admit_create(&m, (r.kind(), &api_version, &kind_group(r)), url_ns)?;
        }
    }
    m.entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()));
    m.insert("kind".into(), r.kind().into());
    m.insert("apiVersion".into(), api_version.into());
    Ok(m)
}

/// `POST` of a stored kind.
pub fn create(app: &Arc<App>, r: Resource, namespace: &str, body: Value) -> Result<Value> {
    let mut m = checked(r, namespace, None, body)?;
    let name = str_at(&m["metadata"], &["name"])
        .unwrap_or_default()
        .to_string();
    if current(app, r, namespace, &name)?.is_some() {
        return Err(KubeError::already_exists(r.group(), r.plural(), &name));
    }
    let now = {
        let e = app.live.engine();
        e.epoch.at(e.now()).rfc3339()
    };
    if let Some(meta) = m.get_mut("metadata").and_then(Value::as_object_mut) {
        if r.namespaced() {
            meta.insert("namespace".into(), namespace.into());
        }
        meta.insert(
            "uid".into(),
            derived_uid(&[r.plural(), namespace, &name, &now]).into(),
        );
        meta.insert("creationTimestamp".into(), now.into());
        meta.shift_remove("resourceVersion");
        // A protobuf body carries every unset string as "": the API server omits them.
        meta.retain(|k, v| !(v == "" && matches!(k.as_str(), "generateName" | "namespace")));
    }
    put(app, r, namespace, &name, Value::Object(m))
}

fn put(app: &Arc<App>, r: Resource, namespace: &str, name: &str, object: Value) -> Result<Value> {
    let op = Operation::PutStored {
        key: key(r, namespace, name),
        object,
    };
    app.live.mutate_narrow(|e| e.apply(op, None));
    current(app, r, namespace, name)?.ok_or_else(|| not_found(r, name))
}

/// A create in a namespace that does not exist is kube-apiserver's `404` for the namespace.
pub(super) fn namespace_exists(app: &Arc<App>, namespace: &str) -> Result<()> {
    match app
        .store
        .sync(&app.live)
        .get(Resource::Namespaces, "", namespace)
    {
        Some(_) => Ok(()),
        None => Err(KubeError::not_found("", "namespaces", namespace)),
    }
}

/// Rejects a write based on an older resourceVersion than the object's (optimistic
/// concurrency, as leader election relies on).
pub(super) fn fresh(r: Resource, name: &str, written: &Value, current: &Value) -> Result<()> {
    let sent = str_at(written, &["metadata", "resourceVersion"]).filter(|v| !v.is_empty());
    match sent {
        Some(rv) if Some(rv) != str_at(current, &["metadata", "resourceVersion"]) => {
            Err(KubeError::conflict(r.group(), r.plural(), name))
        }
        _ => Ok(()),
    }
}

/// The server-kept metadata of `current` onto `next`.
fn keep_identity(next: &mut Map<String, Value>, current: &Value) {
    if let Some(meta) = next.get_mut("metadata").and_then(Value::as_object_mut) {
        for field in ["uid", "creationTimestamp", "namespace", "name"] {
            if let Some(v) = current["metadata"].get(field) {
                meta.insert(field.into(), v.clone());
            }
        }
        meta.shift_remove("resourceVersion");
    }
}

/// `PUT` of a stored kind or a MachineDeployment.
pub fn replace(
    app: &Arc<App>,
    r: Resource,
    namespace: &str,
    name: &str,
    body: Value,
) -> Result<Value> {
    let cur = current(app, r, namespace, name)?.ok_or_else(|| not_found(r, name))?;
    let written = Value::Object(checked(r, namespace, Some(name), body)?);
    fresh(r, name, &written, &cur)?;
    write_whole(app, r, namespace, name, written, &cur)
}

/// `PATCH` of a stored kind or a MachineDeployment.
pub fn patch(app: &Arc<App>, r: Resource, namespace: &str, name: &str, p: &Patch) -> Result<Value> {
    let cur = current(app, r, namespace, name)?.ok_or_else(|| not_found(r, name))?;
    let mut next = cur.clone();
    p.apply(&mut next)?;
    let written = Value::Object(checked(r, namespace, Some(name), next)?);
    fresh(r, name, &written, &cur)?;
    write_whole(app, r, namespace, name, written, &cur)
}

fn write_whole(
    app: &Arc<App>,
    r: Resource,
    namespace: &str,
    name: &str,
    written: Value,
    cur: &Value,
) -> Result<Value> {
    match r {
        Resource::MachineDeployments => machine_deployment(app, namespace, name, &written, cur),
        Resource::Machines => machine(app, namespace, name, &written),
        _ if r.is_stored() => {
            let Value::Object(mut m) = written else {
                unreachable!("checked returns an object")
            };
            keep_identity(&mut m, cur);
            put(app, r, namespace, name, Value::Object(m))
        }
        _ => Err(KubeError::method_not_allowed()),
    }
}

/// What a client may change on a MachineDeployment: its annotations (the autoscaler's
/// bounds) and `spec.replicas`; the rest is the driver's.
fn machine_deployment(
    app: &Arc<App>,
    namespace: &str,
    name: &str,
    next: &Value,
    cur: &Value,
) -> Result<Value> {
    let r = Resource::MachineDeployments;
    let annotations = match &next["metadata"]["annotations"] {
        Value::Null => BTreeMap::new(),
        Value::Object(m) => m
            .iter()
            .map(|(k, v)| match v {
                Value::String(s) => Ok((k.clone(), s.clone())),
                other => Err(KubeError::bad_request(format!(
                    "error decoding request body: metadata.annotations[{k}]: expected a string, got {other}"
                ))),
            })
            .collect::<Result<_>>()?,
        other => {
            return Err(KubeError::bad_request(format!(
                "error decoding request body: metadata.annotations: expected an object, got {other}"
            )))
        }
    };
    if next["metadata"]["annotations"] != cur["metadata"]["annotations"] {
        let op = Operation::SetMachineDeploymentAnnotations {
            namespace: namespace.to_string(),
            name: name.to_string(),
            annotations,
        };
        app.live.mutate(|e| e.apply(op, None));
    }
    if next["spec"]["replicas"] != cur["spec"]["replicas"] {
        let replicas = super::scale::replicas(next, "MachineDeployment.cluster.x-k8s.io", name)?;
        let op = Operation::ScaleMachineDeployment {
            namespace: namespace.to_string(),
            name: name.to_string(),
            replicas,
        };
        let resp = app.live.mutate(|e| e.apply(op, None));
        super::scale::refused(&resp, "MachineDeployment.cluster.x-k8s.io", name)?;
    }
    current(app, r, namespace, name)?.ok_or_else(|| not_found(r, name))
}

/// What a client may change on a Machine: the delete-machine annotation (the clusterapi
/// provider's `MarkMachineForDeletion`); the rest is Cluster API's.
fn machine(app: &Arc<App>, namespace: &str, name: &str, next: &Value) -> Result<Value> {
    let key = super::capi::DELETE_MACHINE_ANNOTATION;
    let mark = match &next["metadata"]["annotations"][key] {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => {
            return Err(KubeError::bad_request(format!(
                "error decoding request body: metadata.annotations[{key}]: expected a string, got {other}"
            )))
        }
    };
    let op = Operation::MarkMachine {
        name: name.to_string(),
        mark,
    };
    app.live.mutate(|e| e.apply(op, None));
    current(app, Resource::Machines, namespace, name)?
        .ok_or_else(|| not_found(Resource::Machines, name))
}

/// `DELETE` of a stored kind or a ConfigMap: answers the object as it was (a `Status`
/// would do too; client-go ignores the body).
pub fn delete(app: &Arc<App>, r: Resource, namespace: &str, name: &str) -> Result<Value> {
    let cur = current(app, r, namespace, name)?.ok_or_else(|| not_found(r, name))?;
    let op = match r {
        Resource::ConfigMaps => Operation::DeleteConfigMap {
            namespace: namespace.to_string(),
            name: name.to_string(),
        },
        _ if r.is_stored() => Operation::DeleteStored {
            key: key(r, namespace, name),
        },
        _ => return Err(KubeError::method_not_allowed()),
    };
    app.live.mutate_narrow(|e| {
        e.apply(op, None);
        super::metadata::forget(e, r, namespace, name);
    });
    Ok(cur)
}
