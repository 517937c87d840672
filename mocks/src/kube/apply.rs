//! Server-side apply (`kubectl apply --server-side`: `PATCH` with
//! `application/apply-patch+yaml`): the applied configuration creates the object when there
//! is none; when there is, what the previous apply set and this one does not is taken away
//! (unless another manager owns it too),
//! and the configuration merges in (lists on their merge keys), so fields other writers set
//! (`scale`, `label`) stay. Who owns what (what an applier set before is its record of
//! fields), and the conflicts between appliers and other writers, are [`super::managed`]'s.

use super::discovery::Resource;
use super::managed::{self, Change, Writer};
use super::server::App;
use super::status::KubeError;
use super::writes::Patch;
use serde_json::Value;
use std::sync::Arc;

type Result<T> = std::result::Result<T, KubeError>;

/// The content type kubectl sends an applied configuration with.
pub const APPLY_PATCH: &str = "application/apply-patch+yaml";

/// `writer` applies `config` to `r`'s object `name` in `namespace` (`force`: taking the
/// fields other managers own).
pub fn apply(
    app: &Arc<App>,
    (r, namespace, name): (Resource, &str, &str),
    config: Value,
    writer: &Writer,
    force: bool,
) -> Result<Value> {
    if config["metadata"]["name"].as_str() != Some(name) {
        return Err(KubeError::bad_request(
            "metadata.name: Invalid value: the name of the object does not match the name on the URL",
        ));
    }
    super::schema::check_applied(r, &config)?;
    let before = super::writes::current(app, r, namespace, name)?;
    let at = (r, namespace, name);
    let patch = Patch::Apply {
        removals: managed::removals(app, at, writer, &config, before.as_ref()),
        config: config.clone(),
    };
    let after = match &before {
        Some(b) => {
            let mut after = b.clone();
            patch.apply(&mut after)?;
            after
        }
        None => config.clone(),
    };
    let change = Change::Apply {
        writer,
        force,
        before: before.as_ref(),
        config: &config,
        after: &after,
    };
    let exists = before.is_some();
    managed::track(app, at, change, || {
        write(app, r, namespace, name, exists, config.clone(), &patch)
    })
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
