//! ConfigMap writes: `POST` creates, `PUT` replaces (with the API server's name, namespace and
//! resourceVersion checks), both storing `data` as [`ConfigMapData::Plain`] through one
//! [`Operation::PutConfigMap`], so a later GET (and `kubectl get -o yaml`) shows exactly what
//! was written and watches see ADDED / MODIFIED; labels and annotations are kept beside it
//! ([`super::metadata`]).
//!
//! [`ConfigMapData::Plain`]: magsim_sim::world::ConfigMapData::Plain

use super::admission;
use super::body::object;
use super::discovery::Resource;
use super::server::App;
use super::status::KubeError;
use magsim_sim::engine::Operation;
use magsim_sim::world::ConfigMapData;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

type Result<T> = std::result::Result<T, KubeError>;

/// A valid config key: `[-._a-zA-Z0-9]+` (apimachinery's `IsConfigMapKey`).
pub(super) fn valid_key(k: &str) -> bool {
    !k.is_empty()
        && k.len() <= 253
        && k.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && k != "."
        && k != ".."
        && !k.starts_with("..")
}

/// `data` of a ConfigMap body, checked as the API server validates it.
fn data(body: &Map<String, Value>, name: &str) -> Result<BTreeMap<String, String>> {
    if body
        .get("binaryData")
        .and_then(Value::as_object)
        .is_some_and(|m| !m.is_empty())
    {
        return Err(KubeError::invalid(
            "ConfigMap",
            name,
            "binaryData: Forbidden: magsim stores only data",
        ));
    }
    let map = match body.get("data") {
        None | Some(Value::Null) => return Ok(BTreeMap::new()),
        Some(Value::Object(m)) => m,
        Some(other) => {
            return Err(KubeError::bad_request(format!(
                "error decoding request body: data: expected an object, got {other}"
            )))
        }
    };
    let mut out = BTreeMap::new();
    for (k, v) in map {
        let Value::String(s) = v else {
            return Err(KubeError::bad_request(format!(
                "error decoding request body: data.{k}: expected a string, got {v}"
            )));
        };
        if !valid_key(k) {
            return Err(KubeError::invalid(
                "ConfigMap",
                name,
                &format!(
                    "data[{k}]: Invalid value: \"{k}\": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"
                ),
            ));
        }
        out.insert(k.clone(), s.clone());
    }
    Ok(out)
}

/// Stores `data` when `allowed` says the ConfigMap's presence is right for the verb, under
/// the engine's lock so that two creates cannot both succeed; answers with the stored object.
fn store(
    app: &Arc<App>,
    namespace: &str,
    name: &str,
    body: &serde_json::Map<String, Value>,
    data: BTreeMap<String, String>,
    allowed: impl FnOnce(bool) -> Result<()>,
) -> Result<Value> {
    app.live.mutate_narrow(|e| {
        let key = (namespace.to_string(), name.to_string());
        allowed(e.world.configmaps.contains_key(&key))?;
        let simulated = matches!(
            e.world.configmaps.get(&key),
            Some(ConfigMapData::AutoscalerStatus { .. })
        );
        if simulated
            && !app
                .two_writers
                .swap(true, std::sync::atomic::Ordering::Relaxed)
        {
            tracing::warn!(
                "two writers write {namespace}/{name}: a client and the scenario's simulated \
                 autoscaler (serve --no-autoscaler leaves the status to your autoscaler)"
            );
        }
        e.apply(
            Operation::PutConfigMap {
                namespace: key.0,
                name: key.1,
                data,
            },
            None,
        );
        let meta = super::metadata::keep(Resource::ConfigMaps, namespace, name, body);
        e.apply(meta, None);
        Ok::<(), KubeError>(())
    })?;
    let stored = app
        .store
        .sync(&app.live)
        .get(Resource::ConfigMaps, namespace, name)
        .ok_or_else(|| KubeError::internal("the stored ConfigMap was not found"))?;
    Ok(stored.value()?)
}

/// `POST /api/v1/namespaces/{namespace}/configmaps`.
pub fn create(app: &Arc<App>, namespace: &str, body: Value) -> Result<Value> {
    let body = object(body)?;
    let name = admission::admit_create(&body, ("ConfigMap", "v1", "ConfigMap"), namespace)?;
    let data = data(&body, &name)?;
    super::writes::namespace_exists(app, namespace)?;
    store(app, namespace, &name, &body, data, |exists| match exists {
        true => Err(KubeError::already_exists("", "configmaps", &name)),
        false => Ok(()),
    })
}

/// `PUT /api/v1/namespaces/{namespace}/configmaps/{name}`: ConfigMaps are not created by an
/// update (the API server's `AllowCreateOnUpdate` is false for them).
pub fn replace(app: &Arc<App>, namespace: &str, name: &str, body: Value) -> Result<Value> {
    let body = object(body)?;
    admission::admit_update(&body, ("ConfigMap", "v1"), name, namespace)?;
    let data = data(&body, name)?;
    let current = app
        .store
        .sync(&app.live)
        .get(Resource::ConfigMaps, namespace, name)
        .ok_or_else(|| KubeError::not_found("", "configmaps", name))?;
    admission::meta_str(&body, "resourceVersion")?;
    let written = Value::Object(body.clone());
    super::writes::fresh(Resource::ConfigMaps, name, &written, &current.value()?)?;
    store(app, namespace, name, &body, data, |exists| match exists {
        true => Ok(()),
        false => Err(KubeError::not_found("", "configmaps", name)),
    })
}

/// `PATCH .../configmaps/{name}` (merge, strategic merge or JSON patch of the served object:
/// `kubectl label`, `annotate`, `patch`, `apply` of a changed one).
pub fn patch(
    app: &Arc<App>,
    namespace: &str,
    name: &str,
    patch: &super::writes::Patch,
) -> Result<Value> {
    let current = app
        .store
        .sync(&app.live)
        .get(Resource::ConfigMaps, namespace, name)
        .ok_or_else(|| KubeError::not_found("", "configmaps", name))?;
    let mut next = current.value()?;
    patch.apply(&mut next)?;
    if let Some(m) = next.get_mut("metadata").and_then(Value::as_object_mut) {
        m.shift_remove("resourceVersion");
    }
    replace(app, namespace, name, next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_keys_follow_apimachinery() {
        for ok in ["status", "key.name", "KEY_NAME", "key-name", ".hidden"] {
            assert!(valid_key(ok), "{ok}");
        }
        for bad in ["", "bad key", "a/b", ".", "..", "..x"] {
            assert!(!valid_key(bad), "{bad}");
        }
    }

    #[test]
    fn data_must_be_strings() {
        let body = |v: Value| v.as_object().cloned().unwrap();
        let d = data(&body(serde_json::json!({"data": {"a": "1"}})), "x").unwrap();
        assert_eq!(d["a"], "1");
        assert_eq!(
            data(&body(serde_json::json!({"data": {"a": 1}})), "x")
                .unwrap_err()
                .code,
            400
        );
        assert_eq!(
            data(&body(serde_json::json!({"data": {"a b": "1"}})), "x")
                .unwrap_err()
                .code,
            422
        );
    }
}
