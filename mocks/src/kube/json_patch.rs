//! RFC 6902 JSON Patch (`kubectl patch --type json`), with RFC 6901 pointers.

use serde_json::Value;

/// Applies `ops` (a JSON array) to `target`, all or nothing.
pub fn apply(target: &mut Value, ops: &Value) -> Result<(), String> {
    let ops = ops.as_array().ok_or("the patch is not a JSON array")?;
    let mut next = target.clone();
    for op in ops {
        step(&mut next, op)?;
    }
    *target = next;
    Ok(())
}

fn field<'a>(op: &'a Value, name: &str) -> Result<&'a str, String> {
    op.get(name)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("operation missing \"{name}\" string"))
}

fn value(op: &Value) -> Result<Value, String> {
    op.get("value")
        .cloned()
        .ok_or_else(|| "operation missing \"value\"".to_string())
}

fn step(doc: &mut Value, op: &Value) -> Result<(), String> {
    let path = field(op, "path")?;
    match field(op, "op")? {
        "add" => add(doc, path, value(op)?),
        "remove" => remove(doc, path).map(drop),
        "replace" => {
            remove(doc, path)?;
            add(doc, path, value(op)?)
        }
        "test" => match doc.pointer(path) {
            Some(v) if *v == value(op)? => Ok(()),
            _ => Err(format!("testing value {path} failed")),
        },
        "move" => {
            let v = remove(doc, field(op, "from")?)?;
            add(doc, path, v)
        }
        "copy" => {
            let from = field(op, "from")?;
            let v = doc
                .pointer(from)
                .cloned()
                .ok_or_else(|| format!("copy from {from}: missing path"))?;
            add(doc, path, v)
        }
        other => Err(format!("Unexpected kind: {other}")),
    }
}

/// The parent of `path` and the last token, unescaped.
fn split(path: &str) -> Result<(&str, String), String> {
    let (parent, last) = path
        .rsplit_once('/')
        .ok_or_else(|| format!("invalid path {path}"))?;
    Ok((parent, last.replace("~1", "/").replace("~0", "~")))
}

fn add(doc: &mut Value, path: &str, v: Value) -> Result<(), String> {
    if path.is_empty() {
        *doc = v;
        return Ok(());
    }
    let (parent, key) = split(path)?;
    match doc.pointer_mut(parent) {
        Some(Value::Object(m)) => {
            m.insert(key, v);
            Ok(())
        }
        Some(Value::Array(a)) => {
            let i = if key == "-" {
                a.len()
            } else {
                key.parse::<usize>()
                    .ok()
                    .filter(|i| *i <= a.len())
                    .ok_or_else(|| format!("add operation: index {key} out of bounds"))?
            };
            a.insert(i, v);
            Ok(())
        }
        _ => Err(format!(
            "add operation does not apply: doc is missing path: \"{path}\""
        )),
    }
}

fn remove(doc: &mut Value, path: &str) -> Result<Value, String> {
    let (parent, key) = split(path)?;
    let missing = || format!("remove operation does not apply: doc is missing path: \"{path}\"");
    match doc.pointer_mut(parent) {
        Some(Value::Object(m)) => m.shift_remove(&key).ok_or_else(missing),
        Some(Value::Array(a)) => match key.parse::<usize>() {
            Ok(i) if i < a.len() => Ok(a.remove(i)),
            _ => Err(missing()),
        },
        _ => Err(missing()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn annotations_are_added_replaced_and_removed() {
        let mut v = json!({"metadata": {"annotations": {"a": "1", "x/y": "2"}}});
        apply(
            &mut v,
            &json!([
                {"op": "replace", "path": "/metadata/annotations/a", "value": "3"},
                {"op": "add", "path": "/metadata/annotations/b", "value": "4"},
                {"op": "remove", "path": "/metadata/annotations/x~1y"},
            ]),
        )
        .unwrap();
        assert_eq!(
            v,
            json!({"metadata": {"annotations": {"a": "3", "b": "4"}}})
        );
    }

    #[test]
    fn a_failing_operation_changes_nothing() {
        let mut v = json!({"a": [1, 2]});
        let err = apply(
            &mut v,
            &json!([{"op": "add", "path": "/a/-", "value": 3}, {"op": "remove", "path": "/b"}]),
        )
        .unwrap_err();
        assert!(err.contains("missing path"), "{err}");
        assert_eq!(v, json!({"a": [1, 2]}));
        assert!(apply(&mut v, &json!([{"op": "test", "path": "/a/0", "value": 2}])).is_err());
    }
}
