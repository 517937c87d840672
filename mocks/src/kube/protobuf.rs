//! Kubernetes' protobuf encoding of write bodies (`application/vnd.kubernetes.protobuf`): what
//! client-go's typed clients send by default (`kubectl create configmap`, cluster-autoscaler's
//! `--kube-api-content-type` default for its events and status ConfigMap). The `k8s\0`
//! envelope (`runtime.Unknown`) around a ConfigMap or an Event becomes the JSON the handlers
//! validate; only the fields magsim keeps are read (no timestamps, owners or managed fields).
//! Field numbers are `k8s.io/api/core/v1/generated.proto` and apimachinery's `ObjectMeta`.

use serde_json::{json, Map, Value};

pub const CONTENT_TYPE: &str = "application/vnd.kubernetes.protobuf";

/// The envelope's magic number.
const MAGIC: &[u8] = b"k8s\0";

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProtoError {
    #[error("the body does not start with the k8s protobuf magic number")]
    Magic,
    #[error("truncated protobuf message")]
    Truncated,
    #[error("unsupported protobuf wire type {0}")]
    WireType(u64),
    #[error("a string field is not UTF-8")]
    Utf8,
    #[error("{0} bodies are not accepted as protobuf; send JSON")]
    Unsupported(&'static str),
    #[error("the body is a {found}, not a {expected}")]
    Kind {
        found: String,
        expected: &'static str,
    },
}

pub(super) type Result<T> = std::result::Result<T, ProtoError>;

/// One field's payload.
#[derive(Clone, Copy)]
pub(super) enum Wire<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
    Fixed,
}

/// The fields of one message, in wire order.
struct Fields<'a> {
    buf: &'a [u8],
}

impl<'a> Fields<'a> {
    fn varint(&mut self) -> Result<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let (&b, rest) = self.buf.split_first().ok_or(ProtoError::Truncated)?;
            self.buf = rest;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(ProtoError::Truncated)
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if self.buf.len() < n {
            return Err(ProtoError::Truncated);
        }
        let (head, rest) = self.buf.split_at(n);
        self.buf = rest;
        Ok(head)
    }

    fn next_field(&mut self) -> Result<Option<(u64, Wire<'a>)>> {
        if self.buf.is_empty() {
            return Ok(None);
        }
        let key = self.varint()?;
        let wire = match key & 7 {
            0 => Wire::Varint(self.varint()?),
            1 => {
                self.take(8)?;
                Wire::Fixed
            }
            2 => {
                let n = usize::try_from(self.varint()?).map_err(|_| ProtoError::Truncated)?;
                Wire::Bytes(self.take(n)?)
            }
            5 => {
                self.take(4)?;
                Wire::Fixed
            }
            other => return Err(ProtoError::WireType(other)),
        };
        Ok(Some((key >> 3, wire)))
    }
}

/// Calls `f` on each field of `buf`.
pub(super) fn each<'a>(
    buf: &'a [u8],
    mut f: impl FnMut(u64, Wire<'a>) -> Result<()>,
) -> Result<()> {
    let mut fields = Fields { buf };
    while let Some((n, w)) = fields.next_field()? {
        f(n, w)?;
    }
    Ok(())
}

pub(super) fn text(b: &[u8]) -> Result<Value> {
    std::str::from_utf8(b)
        .map(|s| Value::String(s.to_string()))
        .map_err(|_| ProtoError::Utf8)
}

/// A message whose string fields `names[i]` are field number `i + 1` (ObjectReference,
/// EventSource); other fields are skipped.
pub(super) fn strings(buf: &[u8], names: &[&str]) -> Result<Value> {
    let mut m = Map::new();
    each(buf, |n, w| {
        let name = usize::try_from(n)
            .ok()
            .and_then(|n| n.checked_sub(1))
            .and_then(|i| names.get(i));
        if let (Some(name), Wire::Bytes(b)) = (name, w) {
            m.insert(name.to_string(), text(b)?);
        }
        Ok(())
    })?;
    Ok(Value::Object(m))
}

/// `ObjectMeta`: name, generateName, namespace, resourceVersion, labels and annotations.
pub(super) fn object_meta(buf: &[u8]) -> Result<Value> {
    let mut m = Map::new();
    let (mut labels, mut annotations) = (Map::new(), Map::new());
    each(buf, |n, w| {
        let Wire::Bytes(b) = w else { return Ok(()) };
        let key = match n {
            1 => "name",
            2 => "generateName",
            3 => "namespace",
            6 => "resourceVersion",
            11 => return map_entry(b, &mut labels, true),
            12 => return map_entry(b, &mut annotations, true),
            _ => return Ok(()),
        };
        // proto3 writes an unset string as "": JSON leaves it out.
        if !b.is_empty() {
            m.insert(key.into(), text(b)?);
        }
        Ok(())
    })?;
    for (key, map) in [("labels", labels), ("annotations", annotations)] {
        if !map.is_empty() {
            m.insert(key.into(), Value::Object(map));
        }
    }
    Ok(Value::Object(m))
}

/// Every string of a repeated string field `n`, in order, into `into[name]`.
pub(super) fn push_text(into: &mut Map<String, Value>, name: &str, b: &[u8]) -> Result<()> {
    let v = text(b)?;
    match into
        .entry(name.to_string())
        .or_insert_with(|| Value::Array(Vec::new()))
    {
        Value::Array(a) => a.push(v),
        other => *other = Value::Array(vec![v]),
    }
    Ok(())
}

/// A repeated message field, each element decoded by `f`, into `into[name]`.
pub(super) fn push_message(
    into: &mut Map<String, Value>,
    name: &str,
    b: &[u8],
    f: impl Fn(&[u8]) -> Result<Value>,
) -> Result<()> {
    let v = f(b)?;
    if let Value::Array(a) = into
        .entry(name.to_string())
        .or_insert_with(|| Value::Array(Vec::new()))
    {
        a.push(v);
    }
    Ok(())
}

/// `Secret`: data (bytes, as the JSON form's base64), type, stringData, immutable.
fn secret(raw: &[u8]) -> Result<Value> {
    use base64::Engine as _;
    let mut o = Map::new();
    let (mut data, mut string_data) = (Map::new(), Map::new());
    each(raw, |n, w| {
        match (n, w) {
            (1, Wire::Bytes(b)) => {
                o.insert("metadata".into(), object_meta(b)?);
            }
            (2, Wire::Bytes(b)) => {
                let (mut key, mut value) = (String::new(), String::new());
                each(b, |n, w| {
                    match (n, w) {
                        (1, Wire::Bytes(k)) => {
                            key = std::str::from_utf8(k)
                                .map_err(|_| ProtoError::Utf8)?
                                .to_string()
                        }
                        (2, Wire::Bytes(v)) => {
                            value = base64::engine::general_purpose::STANDARD.encode(v)
                        }
                        _ => {}
                    }
                    Ok(())
                })?;
                data.insert(key, Value::String(value));
            }
            (3, Wire::Bytes(b)) => {
                o.insert("type".into(), text(b)?);
            }
            (4, Wire::Bytes(b)) => map_entry(b, &mut string_data, true)?,
            (5, Wire::Varint(v)) => {
                o.insert("immutable".into(), (v != 0).into());
            }
            _ => {}
        }
        Ok(())
    })?;
    o.insert("data".into(), Value::Object(data));
    if !string_data.is_empty() {
        o.insert("stringData".into(), Value::Object(string_data));
    }
    Ok(Value::Object(o))
}

/// `ServiceAccount`: secrets (ObjectReferences), imagePullSecrets, automountServiceAccountToken.
/// core/v1 `Namespace`: metadata 1 (spec and status are the server's).
fn namespace(raw: &[u8]) -> Result<Value> {
    let mut o = Map::new();
    each(raw, |n, w| {
        if let (1, Wire::Bytes(b)) = (n, w) {
            o.insert("metadata".into(), object_meta(b)?);
        }
        Ok(())
    })?;
    Ok(Value::Object(o))
}

fn service_account(raw: &[u8]) -> Result<Value> {
    let mut o = Map::new();
    each(raw, |n, w| {
        match (n, w) {
            (1, Wire::Bytes(b)) => {
                o.insert("metadata".into(), object_meta(b)?);
            }
            (2, Wire::Bytes(b)) => push_message(&mut o, "secrets", b, |b| {
                strings(
                    b,
                    &[
                        "kind",
                        "namespace",
                        "name",
                        "uid",
                        "apiVersion",
                        "resourceVersion",
                        "fieldPath",
                    ],
                )
            })?,
            (3, Wire::Bytes(b)) => {
                push_message(&mut o, "imagePullSecrets", b, |b| strings(b, &["name"]))?
            }
            (4, Wire::Varint(v)) => {
                o.insert("automountServiceAccountToken".into(), (v != 0).into());
            }
            _ => {}
        }
        Ok(())
    })?;
    Ok(Value::Object(o))
}

/// `PolicyRule`: verbs, apiGroups, resources, resourceNames, nonResourceURLs.
fn policy_rule(b: &[u8]) -> Result<Value> {
    let mut r = Map::new();
    each(b, |n, w| {
        let name = match n {
            1 => "verbs",
            2 => "apiGroups",
            3 => "resources",
            4 => "resourceNames",
            5 => "nonResourceURLs",
            _ => return Ok(()),
        };
        match w {
            Wire::Bytes(b) => push_text(&mut r, name, b),
            _ => Ok(()),
        }
    })?;
    Ok(Value::Object(r))
}

/// `Role` and `ClusterRole`: rules (a ClusterRole's aggregationRule is refused: not kept).
fn role(raw: &[u8]) -> Result<Value> {
    let mut o = Map::new();
    each(raw, |n, w| {
        match (n, w) {
            (1, Wire::Bytes(b)) => {
                o.insert("metadata".into(), object_meta(b)?);
            }
            (2, Wire::Bytes(b)) => push_message(&mut o, "rules", b, policy_rule)?,
            (3, Wire::Bytes(_)) => return Err(ProtoError::Unsupported("aggregationRule")),
            _ => {}
        }
        Ok(())
    })?;
    Ok(Value::Object(o))
}

/// `RoleBinding` and `ClusterRoleBinding`: subjects and roleRef.
fn binding(raw: &[u8]) -> Result<Value> {
    let mut o = Map::new();
    each(raw, |n, w| {
        match (n, w) {
            (1, Wire::Bytes(b)) => {
                o.insert("metadata".into(), object_meta(b)?);
            }
            (2, Wire::Bytes(b)) => push_message(&mut o, "subjects", b, |b| {
                strings(b, &["kind", "apiGroup", "name", "namespace"])
            })?,
            (3, Wire::Bytes(b)) => {
                o.insert("roleRef".into(), strings(b, &["apiGroup", "kind", "name"])?);
            }
            _ => {}
        }
        Ok(())
    })?;
    Ok(Value::Object(o))
}

/// One `map<string, string>` entry (key 1, value 2); `bytes` values become empty strings
/// (only their presence is checked).
pub(super) fn map_entry(buf: &[u8], into: &mut Map<String, Value>, utf8_value: bool) -> Result<()> {
    let (mut key, mut value) = (String::new(), Value::String(String::new()));
    each(buf, |n, w| {
        match (n, w) {
            (1, Wire::Bytes(b)) => {
                key = std::str::from_utf8(b)
                    .map_err(|_| ProtoError::Utf8)?
                    .to_string()
            }
            (2, Wire::Bytes(b)) if utf8_value => value = text(b)?,
            _ => {}
        }
        Ok(())
    })?;
    into.insert(key, value);
    Ok(())
}

fn config_map(raw: &[u8]) -> Result<Value> {
    let (mut meta, mut data, mut binary) = (json!({}), Map::new(), Map::new());
    each(raw, |n, w| {
        match (n, w) {
            (1, Wire::Bytes(b)) => meta = object_meta(b)?,
            (2, Wire::Bytes(b)) => map_entry(b, &mut data, true)?,
            (3, Wire::Bytes(b)) => map_entry(b, &mut binary, false)?,
            _ => {}
        }
        Ok(())
    })?;
    Ok(json!({"metadata": meta, "data": data, "binaryData": binary}))
}

fn event(raw: &[u8]) -> Result<Value> {
    let mut v = Map::new();
    each(raw, |n, w| {
        let Wire::Bytes(b) = w else {
            if let (8, Wire::Varint(c)) = (n, w) {
                // int32 on the wire as a varint.
                v.insert("count".into(), (c as u32 as i32).into());
            }
            return Ok(());
        };
        let (key, value) = match n {
            1 => ("metadata", object_meta(b)?),
            2 => (
                "involvedObject",
                strings(
                    b,
                    &[
                        "kind",
                        "namespace",
                        "name",
                        "uid",
                        "apiVersion",
                        "resourceVersion",
                        "fieldPath",
                    ],
                )?,
            ),
            3 => ("reason", text(b)?),
            4 => ("message", text(b)?),
            5 => ("source", strings(b, &["component", "host"])?),
            9 => ("type", text(b)?),
            14 => ("reportingComponent", text(b)?),
            15 => ("reportingInstance", text(b)?),
            _ => return Ok(()),
        };
        v.insert(key.into(), value);
        Ok(())
    })?;
    Ok(Value::Object(v))
}

/// Decodes an enveloped `expected` kind (`ConfigMap`, `Event`, `Lease`, `Secret`,
/// `ServiceAccount`, the RBAC roles and bindings) into its JSON form.
pub fn decode(body: &[u8], expected: &'static str) -> Result<Value> {
    let inner = body.strip_prefix(MAGIC).ok_or(ProtoError::Magic)?;
    let (mut kind, mut raw) = (String::new(), &[][..]);
    each(inner, |n, w| {
        match (n, w) {
            (1, Wire::Bytes(tm)) => {
                if let Value::Object(m) = strings(tm, &["apiVersion", "kind"])? {
                    kind = m
                        .get("kind")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string();
                }
            }
            (2, Wire::Bytes(b)) => raw = b,
            _ => {}
        }
        Ok(())
    })?;
    if kind != expected {
        return Err(ProtoError::Kind {
            found: kind,
            expected,
        });
    }
    match expected {
        "ConfigMap" => config_map(raw),
        "Event" => event(raw),
        "Lease" => lease(raw),
        "Secret" => secret(raw),
        "ServiceAccount" => service_account(raw),
        "Namespace" => namespace(raw),
        "Deployment" => super::protobuf_pod::deployment(raw),
        "Role" | "ClusterRole" => role(raw),
        "RoleBinding" | "ClusterRoleBinding" => binding(raw),
        _ => Err(ProtoError::Unsupported(expected)),
    }
}

/// apimachinery's `MicroTime` (seconds 1, nanos 2) as its JSON text.
fn micro_time(buf: &[u8]) -> Result<Value> {
    let (mut secs, mut nanos) = (0i64, 0i64);
    each(buf, |n, w| {
        match (n, w) {
            (1, Wire::Varint(v)) => secs = v as i64,
            (2, Wire::Varint(v)) => nanos = i64::from(v as u32 as i32),
            _ => {}
        }
        Ok(())
    })?;
    let millis = secs.saturating_mul(1000).saturating_add(nanos / 1_000_000);
    Ok(magsim_sim::time::Timestamp {
        unix_millis: millis,
    }
    .rfc3339_micro()
    .into())
}

/// `coordination.k8s.io/v1` Lease: what leader election writes.
fn lease(raw: &[u8]) -> Result<Value> {
    let (mut meta, mut spec) = (json!({}), Map::new());
    each(raw, |n, w| {
        match (n, w) {
            (1, Wire::Bytes(b)) => meta = object_meta(b)?,
            (2, Wire::Bytes(b)) => each(b, |n, w| {
                let (key, value) = match (n, w) {
                    (1, Wire::Bytes(b)) => ("holderIdentity", text(b)?),
                    (2, Wire::Varint(v)) => ("leaseDurationSeconds", (v as u32 as i32).into()),
                    (3, Wire::Bytes(b)) => ("acquireTime", micro_time(b)?),
                    (4, Wire::Bytes(b)) => ("renewTime", micro_time(b)?),
                    (5, Wire::Varint(v)) => ("leaseTransitions", (v as u32 as i32).into()),
                    _ => return Ok(()),
                };
                spec.insert(key.into(), value);
                Ok(())
            })?,
            _ => {}
        }
        Ok(())
    })?;
    Ok(json!({"metadata": meta, "spec": spec}))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// `kubectl create configmap x --from-literal=a=b` (kubectl 1.32), byte for byte.
    const KUBECTL_CONFIGMAP: &str = "6b3873000a0f0a0276311209436f6e6669674d6170121b0a110a017812001a0022002a0032003800420012060a01611201621a002200";

    #[test]
    fn kubectls_configmap_decodes() {
        let v = decode(&hex(KUBECTL_CONFIGMAP), "ConfigMap").unwrap();
        assert_eq!(
            v,
            json!({"metadata": {"name": "x"}, "data": {"a": "b"}, "binaryData": {}})
        );
        assert_eq!(
            decode(&hex(KUBECTL_CONFIGMAP), "Event"),
            Err(ProtoError::Kind {
                found: "ConfigMap".into(),
                expected: "Event"
            })
        );
        assert_eq!(decode(b"{}", "ConfigMap"), Err(ProtoError::Magic));
        let cut = hex(KUBECTL_CONFIGMAP);
        assert_eq!(
            decode(&cut[..cut.len() - 10], "ConfigMap"),
            Err(ProtoError::Truncated)
        );
    }

    /// Length-delimited field `n`.
    fn ld(n: u8, body: &[u8]) -> Vec<u8> {
        let mut v = vec![n << 3 | 2, body.len() as u8];
        v.extend_from_slice(body);
        v
    }

    #[test]
    fn an_event_decodes_with_its_reference_source_and_count() {
        let reference = [ld(1, b"Pod"), ld(2, b"default"), ld(3, b"p")].concat();
        let event = [
            ld(1, &ld(1, b"p.1")),
            ld(2, &reference),
            ld(3, b"TriggeredScaleUp"),
            ld(4, b"pod triggered scale-up"),
            ld(5, &ld(1, b"cluster-autoscaler")),
            ld(6, &[]),
            vec![8 << 3, 2],
            ld(9, b"Normal"),
        ]
        .concat();
        let body = [
            MAGIC.to_vec(),
            ld(1, &[ld(1, b"v1"), ld(2, b"Event")].concat()),
            ld(2, &event),
        ]
        .concat();
        let v = decode(&body, "Event").unwrap();
        assert_eq!(
            v,
            json!({
                "metadata": {"name": "p.1"},
                "involvedObject": {"kind": "Pod", "namespace": "default", "name": "p"},
                "reason": "TriggeredScaleUp",
                "message": "pod triggered scale-up",
                "source": {"component": "cluster-autoscaler"},
                "count": 2,
                "type": "Normal",
            })
        );
    }
}
