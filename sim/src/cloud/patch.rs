//! JSON Patch as Magnum receives it, and the Python `repr` Magnum quotes in its errors.

use serde_json::Value;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PatchOp {
    Add,
    Replace,
    Remove,
}

impl PatchOp {
    pub fn parse(s: &str) -> Option<PatchOp> {
        Some(match s {
            "add" => PatchOp::Add,
            "replace" => PatchOp::Replace,
            "remove" => PatchOp::Remove,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            PatchOp::Add => "add",
            PatchOp::Replace => "replace",
            PatchOp::Remove => "remove",
        }
    }
}

/// One operation of a PATCH body: `{"op": "replace", "path": "/labels/max_node_count", "value": 6}`.
#[derive(Clone, Debug, PartialEq)]
pub struct PatchOperation {
    pub op: PatchOp,
    pub path: String,
    pub value: Option<Value>,
}

impl PatchOperation {
    /// Builds what python-magnumclient 4.x sends for `<op> <path>=<value>`: a leading `/` is
    /// added and the value is JSON-decoded when it parses (so `6` is the integer 6).
    pub fn from_cli(op: PatchOp, attribute: &str) -> PatchOperation {
        let (path, value) = match attribute.split_once('=') {
            Some((p, v)) => (p, Some(v)),
            None => (attribute, None),
        };
        let path = if path.starts_with('/') {
            path.to_string()
        } else {
            format!("/{path}")
        };
        let value = if op == PatchOp::Remove {
            None
        } else {
            value.map(|v| serde_json::from_str(v).unwrap_or_else(|_| Value::String(v.to_string())))
        };
        PatchOperation { op, path, value }
    }

    /// The body entry as JSON, keys in magnumclient's order.
    pub fn to_json(&self) -> Value {
        let mut m = serde_json::Map::new();
        m.insert("op".into(), Value::String(self.op.as_str().into()));
        m.insert("path".into(), Value::String(self.path.clone()));
        if let Some(v) = &self.value {
            m.insert("value".into(), v.clone());
        }
        Value::Object(m)
    }

    /// Magnum's `repr` of the validated op, keys in order path, op, value.
    pub fn py_repr(&self) -> String {
        let mut s = format!(
            "{{'path': {}, 'op': {}",
            py_str(&self.path),
            py_str(self.op.as_str())
        );
        if let Some(v) = &self.value {
            s.push_str(&format!(", 'value': {}", py_repr(v)));
        }
        s.push('}');
        s
    }
}

/// `[{...}, {...}]` as Python prints a list of patch dicts.
pub fn py_repr_list(ops: &[PatchOperation]) -> String {
    let items: Vec<String> = ops.iter().map(PatchOperation::py_repr).collect();
    format!("[{}]", items.join(", "))
}

/// Python's `repr` of a JSON value.
/// The name of the Python type a JSON value decodes to (`str`, `dict`, ...), as Python's
/// error texts name it.
pub fn py_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "NoneType",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

pub fn py_repr(v: &Value) -> String {
    match v {
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => py_str(s),
        Value::Array(a) => format!("[{}]", a.iter().map(py_repr).collect::<Vec<_>>().join(", ")),
        Value::Object(o) => format!(
            "{{{}}}",
            o.iter()
                .map(|(k, v)| format!("{}: {}", py_str(k), py_repr(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Python's `repr` of a str: single quotes unless the text holds one and no double quote.
pub fn py_str(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c)
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magnumclient_builds_int_values_and_leading_slash() {
        let op = PatchOperation::from_cli(PatchOp::Replace, "labels/max_node_count=6");
        assert_eq!(op.path, "/labels/max_node_count");
        assert_eq!(op.value, Some(Value::from(6)));
        assert_eq!(
            op.to_json().to_string(),
            r#"{"op":"replace","path":"/labels/max_node_count","value":6}"#
        );
        assert_eq!(
            py_repr_list(&[op]),
            "[{'path': '/labels/max_node_count', 'op': 'replace', 'value': 6}]"
        );
        let s = PatchOperation::from_cli(PatchOp::Add, "/labels/x=abc");
        assert_eq!(s.value, Some(Value::String("abc".into())));
        assert_eq!(
            PatchOperation::from_cli(PatchOp::Remove, "max_node_count").value,
            None
        );
        assert_eq!(py_str("it's"), "\"it's\"");
        assert_eq!(
            py_repr(&serde_json::json!({"a": [true, null]})),
            "{'a': [True, None]}"
        );
    }
}
