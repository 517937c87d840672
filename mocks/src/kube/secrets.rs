//! Secrets are the engine's ([`magsim_sim::world::World::secrets`]: the cloud-config an
//! autoscaler mounts), read and written here as kube-apiserver serves them: `data` base64,
//! `stringData` folded into `data` on write, `type: Opaque`. A write is one
//! [`Operation::ApplySecret`] (or [`Operation::DeleteSecret`]), so a Secret `kubectl`
//! creates is the one a simulated autoscaler's mount reads. The world keeps keys and text
//! values only: other metadata is not kept (as for ConfigMaps), and a value that is not
//! UTF-8 text or a type other than `Opaque` is refused rather than changed.

use super::admission;
use super::body::object;
use super::configmaps::valid_key;
use super::discovery::Resource;
use super::objects::{ts, workload_uid};
use super::server::App;
use super::status::KubeError;
use base64::Engine as _;
use magsim_sim::engine::{Engine, Operation};
use magsim_sim::time::SimTime;
use magsim_sim::world::Secret;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

type Result<T> = std::result::Result<T, KubeError>;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// The Secret as the API serves it.
pub fn secret_json(engine: &Engine, s: &Secret) -> Value {
    let data: Map<String, Value> = s
        .data
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(B64.encode(v))))
        .collect();
    json!({
        "kind": "Secret",
        "apiVersion": "v1",
        "metadata": {
            "name": s.name,
            "namespace": s.namespace,
            "uid": workload_uid("Secret", &s.namespace, &s.name),
            "resourceVersion": "",
            "creationTimestamp": ts(engine, SimTime::ZERO),
        },
        "data": data,
        "type": "Opaque",
    })
}

/// The keys and values of a Secret body: `data` decoded, then `stringData` over it.
fn data(body: &Map<String, Value>, name: &str) -> Result<BTreeMap<String, String>> {
    let invalid = |detail: String| KubeError::invalid("Secret", name, &detail);
    match body.get("type") {
        None | Some(Value::Null) => {}
        Some(Value::String(t)) if t.is_empty() || t == "Opaque" => {}
        Some(other) => {
            return Err(invalid(format!(
                "type: Unsupported value: {other}: magsim stores only Opaque secrets"
            )))
        }
    }
    let mut out = BTreeMap::new();
    for (field, base64) in [("data", true), ("stringData", false)] {
        let map = match body.get(field) {
            None | Some(Value::Null) => continue,
            Some(Value::Object(m)) => m,
            Some(other) => {
                return Err(KubeError::bad_request(format!(
                    "error decoding request body: {field}: expected an object, got {other}"
                )))
            }
        };
        for (k, v) in map {
            let Value::String(text) = v else {
                return Err(KubeError::bad_request(format!(
                    "error decoding request body: {field}.{k}: expected a string, got {v}"
                )));
            };
            if !valid_key(k) {
                return Err(invalid(format!(
                    "{field}[{k}]: Invalid value: \"{k}\": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"
                )));
            }
            let value = if base64 {
                let bytes = B64.decode(text).map_err(|e| {
                    KubeError::bad_request(format!(
                        "Secret in version \"v1\" cannot be handled as a Secret: {e}"
                    ))
                })?;
                String::from_utf8(bytes).map_err(|_| {
                    invalid(format!(
                        "data[{k}]: Invalid value: \"<binary>\": magsim stores only UTF-8 text"
                    ))
                })?
            } else {
                text.clone()
            };
            out.insert(k.clone(), value);
        }
    }
    Ok(out)
}

fn current(app: &Arc<App>, namespace: &str, name: &str) -> Option<Value> {
    let stored = app
        .store
        .sync(&app.live)
        .get(Resource::Secrets, namespace, name)?;
    stored.value().ok()
}

/// Applies `data` when `allowed` says the Secret's presence is right for the verb, under
/// the engine's lock; answers with the stored object.
fn store(
    app: &Arc<App>,
    namespace: &str,
    name: &str,
    body: &Map<String, Value>,
    data: BTreeMap<String, String>,
    allowed: impl FnOnce(bool) -> Result<()>,
) -> Result<Value> {
    app.live.mutate_narrow(|e| {
        let exists = e
            .world
            .secrets
            .iter()
            .any(|s| s.namespace == namespace && s.name == name);
        allowed(exists)?;
        let secret = Secret {
            namespace: namespace.to_string(),
            name: name.to_string(),
            data,
        };
        e.apply(Operation::ApplySecret(secret), None);
        let meta = super::metadata::keep(Resource::Secrets, namespace, name, body);
        e.apply(meta, None);
        Ok::<(), KubeError>(())
    })?;
    current(app, namespace, name)
        .ok_or_else(|| KubeError::internal("the stored Secret was not found"))
}

/// `POST /api/v1/namespaces/{namespace}/secrets`.
pub fn create(app: &Arc<App>, namespace: &str, body: Value) -> Result<Value> {
    let body = object(body)?;
    let name = admission::admit_create(&body, ("Secret", "v1", "Secret"), namespace)?;
    let data = data(&body, &name)?;
    super::writes::namespace_exists(app, namespace)?;
    store(app, namespace, &name, &body, data, |exists| match exists {
        true => Err(KubeError::already_exists("", "secrets", &name)),
        false => Ok(()),
    })
}

/// `PUT .../secrets/{name}`: not created by an update.
pub fn replace(app: &Arc<App>, namespace: &str, name: &str, body: Value) -> Result<Value> {
    let body = object(body)?;
    admission::admit_update(&body, ("Secret", "v1"), name, namespace)?;
    let cur =
        current(app, namespace, name).ok_or_else(|| KubeError::not_found("", "secrets", name))?;
    super::writes::fresh(Resource::Secrets, name, &Value::Object(body.clone()), &cur)?;
    let data = data(&body, name)?;
    store(app, namespace, name, &body, data, |exists| match exists {
        true => Ok(()),
        false => Err(KubeError::not_found("", "secrets", name)),
    })
}

/// `PATCH .../secrets/{name}` (merge, strategic merge or JSON patch of the served object).
pub fn patch(
    app: &Arc<App>,
    namespace: &str,
    name: &str,
    patch: &super::writes::Patch,
) -> Result<Value> {
    let mut next =
        current(app, namespace, name).ok_or_else(|| KubeError::not_found("", "secrets", name))?;
    patch.apply(&mut next)?;
    if let Some(m) = next.get_mut("metadata").and_then(Value::as_object_mut) {
        m.shift_remove("resourceVersion");
    }
    replace(app, namespace, name, next)
}

/// `DELETE .../secrets/{name}`: answers the Secret as it was.
pub fn delete(app: &Arc<App>, namespace: &str, name: &str) -> Result<Value> {
    let cur =
        current(app, namespace, name).ok_or_else(|| KubeError::not_found("", "secrets", name))?;
    let op = Operation::DeleteSecret {
        namespace: namespace.to_string(),
        name: name.to_string(),
    };
    app.live.mutate_narrow(|e| {
        e.apply(op, None);
        super::metadata::forget(e, Resource::Secrets, namespace, name);
    });
    Ok(cur)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn string_data_is_folded_into_data() {
        let d = data(
            &body(json!({"data": {"a": "MQ==", "b": "Mg=="}, "stringData": {"b": "two"}})),
            "s",
        )
        .unwrap();
        assert_eq!(d["a"], "1");
        assert_eq!(d["b"], "two", "stringData wins");
    }

    #[test]
    fn what_cannot_be_kept_is_refused() {
        let e = data(&body(json!({"data": {"a": "!!"}})), "s").unwrap_err();
        assert_eq!(e.code, 400);
        assert!(
            e.message
                .starts_with("Secret in version \"v1\" cannot be handled as a Secret: "),
            "{}",
            e.message
        );
        let e = data(&body(json!({"data": {"a": B64.encode([0xff, 0xfe])}})), "s").unwrap_err();
        assert_eq!(e.code, 422);
        let e = data(&body(json!({"type": "kubernetes.io/tls"})), "s").unwrap_err();
        assert_eq!(e.code, 422);
        let e = data(&body(json!({"stringData": {"bad key": "x"}})), "s").unwrap_err();
        assert_eq!(e.code, 422);
    }
}
