//! Server-side apply (`kubectl apply --server-side`: `PATCH` with
//! `application/apply-patch+yaml`): the applied configuration creates the object when there
//! is none; when there is, what the previous apply set and this one does not is taken away,
//! and the configuration merges in (lists on their merge keys), so fields other writers set
//! (`scale`, `label`) stay. magsim keeps one applier: applies never conflict, and
//! `managedFields` are not written (the last applied configuration is kept in
//! `World::stored` under `applied/<kind>`).

use super::discovery::Resource;
use super::server::App;
use super::status::KubeError;
use super::writes::Patch;
use magsim_sim::engine::Operation;
use serde_json::Value;
use std::sync::Arc;

type Result<T> = std::result::Result<T, KubeError>;

/// The content type kubectl sends an applied configuration with.
pub const APPLY_PATCH: &str = "application/apply-patch+yaml";

/// Applies `config` to `r`'s object `name` in `namespace`.
pub fn apply(
    app: &Arc<App>,
    r: Resource,
    namespace: &str,
    name: &str,
    config: Value,
) -> Result<Value> {
    if config["metadata"]["name"].as_str() != Some(name) {
        return Err(KubeError::bad_request(
            "metadata.name: Invalid value: the name of the object does not match the name on the URL",
        ));
    }
    let exists = app.store.sync(&app.live).get(r, namespace, name).is_some();
    let key = super::metadata::applied_key(r, namespace, name);
    let previous = app.live.engine().world.stored.get(&key).cloned();
    let patch = Patch::Apply {
        removals: previous.and_then(|p| super::strategic::removals(&p, &config)),
        config: config.clone(),
    };
    let applied = write(app, r, namespace, name, exists, config.clone(), &patch)?;
    let keep = Operation::PutStored {
        key,
        object: config,
    };
    app.live.mutate_narrow(|e| e.apply(keep, None));
    Ok(applied)
}

/// The create or patch the apply is, by kind.
fn write(
    app: &Arc<App>,
    r: Resource,
    namespace: &str,
    name: &str,
    exists: bool,
    config: Value,
    patch: &Patch,
) -> Result<Value> {
    match (r, exists) {
        (Resource::ConfigMaps, false) => super::configmaps::create(app, namespace, config),
        (Resource::ConfigMaps, true) => super::configmaps::patch(app, namespace, name, patch),
        (Resource::Secrets, false) => super::secrets::create(app, namespace, config),
        (Resource::Secrets, true) => super::secrets::patch(app, namespace, name, patch),
        (Resource::Deployments, false) => super::deployments::create(app, namespace, config),
        (Resource::Deployments, true) => super::deployments::patch(app, namespace, name, patch),
        (Resource::Namespaces, false) => super::namespaces::create(app, config),
        (Resource::Namespaces, true) => super::namespaces::patch(app, name, patch),
        (Resource::Nodes, true) => super::nodes::patch(app, name, patch),
        (r, false) if r.is_stored() => super::writes::create(app, r, namespace, config),
        (r, true) if r.is_stored() || r.is_capi_writable() => {
            super::writes::patch(app, r, namespace, name, patch)
        }
        _ => Err(KubeError::method_not_allowed()),
    }
}
