//! Strategic merge patch (`application/strategic-merge-patch+json`), what `kubectl apply`
//! sends to change an object it applied before: maps merge, `null` deletes, and the lists of a
//! pod template merge element by element on their merge key (`containers` by `name`,
//! `volumeMounts` by `mountPath`, ...), with the directives kubectl writes: `$patch`
//! (`replace`, `delete`, `merge`), `$setElementOrder/<list>`, `$retainKeys` and
//! `$deleteFromPrimitiveList/<list>`. Lists without a merge key are replaced, as upstream's
//! `patchStrategy`-less fields are.

use serde_json::{Map, Value};

/// `patchMergeKey` of the core/v1 pod template lists.
fn merge_key(field: &str) -> Option<&'static str> {
    match field {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "volumes"
        | "env"
        | "imagePullSecrets" => Some("name"),
        "volumeMounts" => Some("mountPath"),
        "volumeDevices" => Some("devicePath"),
        "ports" => Some("containerPort"),
        "hostAliases" => Some("ip"),
        _ => None,
    }
}

const SET_ORDER: &str = "$setElementOrder/";
const DELETE_FROM: &str = "$deleteFromPrimitiveList/";

/// Applies `patch` to `target`.
pub fn merge(target: &mut Value, patch: &Value) {
    match (target.as_object_mut(), patch.as_object()) {
        (Some(t), Some(p)) => merge_map(t, p),
        (_, Some(p)) => *target = Value::Object(strip(p)),
        _ => *target = patch.clone(),
    }
}

fn merge_map(t: &mut Map<String, Value>, p: &Map<String, Value>) {
    if p.get("$patch").and_then(Value::as_str) == Some("replace") {
        *t = strip(p);
        return;
    }
    if let Some(keep) = p.get("$retainKeys").and_then(Value::as_array) {
        let keep: Vec<&str> = keep.iter().filter_map(Value::as_str).collect();
        t.retain(|k, _| keep.contains(&k.as_str()) || p.contains_key(k));
    }
    for (k, v) in p {
        if k.starts_with('$') {
            if let Some(field) = k.strip_prefix(DELETE_FROM) {
                if let (Some(Value::Array(list)), Some(gone)) = (t.get_mut(field), v.as_array()) {
                    list.retain(|x| !gone.contains(x));
                }
            }
            continue;
        }
        match v {
            Value::Null => {
                t.shift_remove(k);
            }
            Value::Object(pm) => match t.get_mut(k) {
                Some(Value::Object(tm)) => merge_map(tm, pm),
                _ => {
                    t.insert(k.clone(), Value::Object(strip(pm)));
                }
            },
            Value::Array(pl) => {
                let order = p.get(&format!("{SET_ORDER}{k}")).and_then(Value::as_array);
                match (merge_key(k), t.get_mut(k)) {
                    (Some(key), Some(Value::Array(tl))) => merge_list(tl, pl, key, order),
                    _ => {
                        let mut list: Vec<Value> =
                            pl.iter().filter(|e| !is_delete(e)).map(stripped).collect();
                        if let (Some(key), Some(order)) = (merge_key(k), order) {
                            reorder(&mut list, key, order);
                        }
                        t.insert(k.clone(), Value::Array(list));
                    }
                }
            }
            other => {
                t.insert(k.clone(), other.clone());
            }
        }
    }
}

fn is_delete(e: &Value) -> bool {
    e.get("$patch").and_then(Value::as_str) == Some("delete")
}

/// Merges list `p` into `t` element by element on `key`.
fn merge_list(t: &mut Vec<Value>, p: &[Value], key: &str, order: Option<&Vec<Value>>) {
    for e in p {
        let id = e.get(key);
        let at = id.and_then(|id| t.iter().position(|x| x.get(key) == Some(id)));
        match (is_delete(e), at) {
            (true, Some(i)) => {
                t.remove(i);
            }
            (true, None) => {}
            (false, Some(i)) => merge(&mut t[i], e),
            (false, None) => t.push(stripped(e)),
        }
    }
    if let Some(order) = order {
        reorder(t, key, order);
    }
}

/// Puts the elements named in `order` first, in its order; the rest keep theirs.
fn reorder(list: &mut [Value], key: &str, order: &[Value]) {
    let rank = |e: &Value| {
        let k = e.get(key);
        order
            .iter()
            .position(|o| o.get(key) == k || Some(o) == k)
            .unwrap_or(usize::MAX)
    };
    list.sort_by_key(rank);
}

fn stripped(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(strip(m)),
        Value::Array(l) => Value::Array(l.iter().map(stripped).collect()),
        other => other.clone(),
    }
}

/// `m` without its directives, recursively.
fn strip(m: &Map<String, Value>) -> Map<String, Value> {
    m.iter()
        .filter(|(k, v)| !k.starts_with('$') && !v.is_null())
        .map(|(k, v)| (k.clone(), stripped(v)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn containers_merge_by_name_and_mounts_by_path() {
        let mut d = json!({"spec": {"replicas": 1, "template": {"spec": {
            "containers": [{"name": "ca", "image": "x:1", "command": ["a"],
                "volumeMounts": [{"name": "cfg", "mountPath": "/config", "readOnly": true}]}],
            "volumes": [{"name": "cfg", "secret": {"secretName": "s"}}]}}}});
        // What kubectl 1.32's client-side apply sends for scenario 04's third manifest.
        let patch = json!({"spec": {"replicas": null, "template": {"spec": {
            "$setElementOrder/containers": [{"name": "ca"}],
            "containers": [{"name": "ca",
                "$setElementOrder/volumeMounts": [{"mountPath": "/etc/config"}],
                "volumeMounts": [{"mountPath": "/etc/config", "name": "cfg"},
                                 {"$patch": "delete", "mountPath": "/config"}]}]}}}});
        merge(&mut d, &patch);
        assert_eq!(
            d,
            json!({"spec": {"template": {"spec": {
                "containers": [{"name": "ca", "image": "x:1", "command": ["a"],
                    "volumeMounts": [{"mountPath": "/etc/config", "name": "cfg"}]}],
                "volumes": [{"name": "cfg", "secret": {"secretName": "s"}}]}}}})
        );
    }

    #[test]
    fn directives_replace_retain_and_delete_from_lists() {
        let mut v =
            json!({"a": {"x": 1, "y": 2}, "b": {"p": 1, "q": 2}, "f": ["k", "l"], "n": [1]});
        merge(
            &mut v,
            &json!({"a": {"$patch": "replace", "z": 3}, "b": {"$retainKeys": ["p"], "p": 5},
                    "$deleteFromPrimitiveList/f": ["k"], "n": [2, 3]}),
        );
        assert_eq!(
            v,
            json!({"a": {"z": 3}, "b": {"p": 5}, "f": ["l"], "n": [2, 3]})
        );
    }
}
