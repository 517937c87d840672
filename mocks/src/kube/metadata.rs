//! What is kept beside an object the engine renders: the labels and annotations a client
//! writes on Deployments, ConfigMaps and Secrets (the engine keeps their substance; this keeps
//! the rest, `World::stored` under `metadata/<kind>`, laid over the rendered object so a read
//! shows what the last write said, `kubectl apply`'s last-applied annotation included).

use super::discovery::Resource;
use magsim_sim::engine::{Engine, Operation};
use magsim_sim::world::StoredKey;
use serde_json::{json, Map, Value};

fn key(r: Resource, namespace: &str, name: &str) -> StoredKey {
    (
        format!("metadata/{}", r.stored_name()),
        namespace.to_string(),
        name.to_string(),
    )
}

/// The operation that keeps `body`'s labels and annotations (a write replaces both).
pub fn keep(r: Resource, namespace: &str, name: &str, body: &Map<String, Value>) -> Operation {
    let meta = &body.get("metadata").cloned().unwrap_or(Value::Null);
    let map = |field: &str| {
        meta.get(field)
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default()
    };
    Operation::PutStored {
        key: key(r, namespace, name),
        object: json!({"labels": map("labels"), "annotations": map("annotations")}),
    }
}

/// Forgets what was kept beside a deleted object: its labels and annotations and its
/// managers.
pub fn forget(e: &mut Engine, r: Resource, namespace: &str, name: &str) {
    for key in [
        key(r, namespace, name),
        super::managed::key(r, namespace, name),
    ] {
        e.apply(Operation::DeleteStored { key }, None);
    }
}

/// Lays the kept labels and annotations over a rendered object (nothing kept: unchanged).
pub fn lay_over(engine: &Engine, r: Resource, namespace: &str, name: &str, obj: &mut Value) {
    let Some(kept) = engine.world.stored.get(&key(r, namespace, name)) else {
        return;
    };
    let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) else {
        return;
    };
    for field in ["labels", "annotations"] {
        match kept.get(field).and_then(Value::as_object) {
            Some(m) if !m.is_empty() => {
                meta.insert(field.into(), Value::Object(m.clone()));
            }
            _ => {
                meta.shift_remove(field);
            }
        }
    }
}
