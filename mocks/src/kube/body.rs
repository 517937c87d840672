//! Request bodies: size limit, Content-Type negotiation, JSON decoding, and RFC 7386 merge
//! patches, each failure as the API server's own `Status`.

use super::status::KubeError;
use axum::body::Body;
use axum::http::{header, HeaderMap};
use serde_json::Value;

/// The API server's request body limit (3 MiB, as kube-apiserver).
pub const MAX_BODY_BYTES: usize = 3 * 1024 * 1024;

type Result<T> = std::result::Result<T, KubeError>;

/// Reads a body up to [`MAX_BODY_BYTES`] (`413` past it, `400` for a body that cannot be read).
pub async fn read_body(headers: &HeaderMap, body: Body) -> Result<axum::body::Bytes> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES) {
        return Err(KubeError::too_large(MAX_BODY_BYTES));
    }
    axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|e| {
            if is_length_limit(&e) {
                KubeError::too_large(MAX_BODY_BYTES)
            } else {
                // Malformed chunks, an upload cut short: the body cannot be read at all.
                KubeError::bad_request(format!("error reading the request body: {e}"))
            }
        })
}

/// Whether reading stopped at the size limit (rather than at a broken body).
fn is_length_limit(e: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if s.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = s.source();
    }
    false
}

pub fn content_type(headers: &HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .unwrap_or_default()
}

const PATCH_TYPES: [&str; 2] = [
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
];

pub fn parse_json(bytes: &[u8], what: &str) -> Result<Value> {
    serde_json::from_slice(bytes)
        .map_err(|e| KubeError::bad_request(format!("error decoding {what}: {e}")))
}

/// A merge or strategic-merge patch body (a JSON object).
pub async fn read_patch(headers: &HeaderMap, body: Body) -> Result<Value> {
    let ct = content_type(headers);
    if !PATCH_TYPES.contains(&ct.as_str()) {
        return Err(KubeError::unsupported_media_type(&PATCH_TYPES));
    }
    let bytes = read_body(headers, body).await?;
    let v = parse_json(&bytes, "patch")?;
    if !v.is_object() {
        return Err(KubeError::bad_request(
            "error decoding patch: the patch is not a JSON object",
        ));
    }
    Ok(v)
}

/// A merge, strategic-merge or JSON patch, by its Content-Type.
pub async fn read_any_patch(headers: &HeaderMap, body: Body) -> Result<super::writes::Patch> {
    use super::writes::Patch;
    match content_type(headers).as_str() {
        JSON_PATCH => {}
        STRATEGIC_PATCH => return read_patch(headers, body).await.map(Patch::Strategic),
        _ => return read_patch(headers, body).await.map(Patch::Merge),
    }
    let bytes = read_body(headers, body).await?;
    let v = parse_json(&bytes, "patch")?;
    if !v.is_array() {
        return Err(KubeError::bad_request(
            "error decoding patch: json: cannot unmarshal object into Go value of type jsonpatch.Patch",
        ));
    }
    Ok(Patch::Json(v))
}

const JSON_PATCH: &str = "application/json-patch+json";
const STRATEGIC_PATCH: &str = "application/strategic-merge-patch+json";

/// A full object (PUT); kubectl sends no Content-Type.
pub async fn read_json(headers: &HeaderMap, body: Body) -> Result<Value> {
    read_json_or(headers, body, &["application/json"]).await
}

/// JSON, or a 415 naming the `accepted` media types.
async fn read_json_or(headers: &HeaderMap, body: Body, accepted: &[&str]) -> Result<Value> {
    let ct = content_type(headers);
    if !ct.is_empty() && ct != "application/json" {
        return Err(KubeError::unsupported_media_type(accepted));
    }
    let bytes = read_body(headers, body).await?;
    parse_json(&bytes, "request body")
}

/// A whole object of `kind` (`ConfigMap`, `Event`) to create or replace: JSON, or the
/// protobuf client-go's typed clients send by default.
pub async fn read_object(headers: &HeaderMap, body: Body, kind: &'static str) -> Result<Value> {
    let ct = content_type(headers);
    if ct != super::protobuf::CONTENT_TYPE {
        return read_json_or(headers, body, &OBJECT_TYPES).await;
    }
    let bytes = read_body(headers, body).await?;
    super::protobuf::decode(&bytes, kind)
        .map_err(|e| KubeError::bad_request(format!("error decoding request body: {e}")))
}

/// What [`read_object`] accepts.
const OBJECT_TYPES: [&str; 2] = ["application/json", super::protobuf::CONTENT_TYPE];

/// RFC 7386 JSON merge patch.
pub fn merge(target: &mut Value, patch: &Value) {
    match patch {
        Value::Object(p) => {
            if !target.is_object() {
                *target = Value::Object(Default::default());
            }
            if let Some(t) = target.as_object_mut() {
                for (k, v) in p {
                    if v.is_null() {
                        t.shift_remove(k);
                    } else {
                        merge(t.entry(k.clone()).or_insert(Value::Null), v);
                    }
                }
            }
        }
        other => *target = other.clone(),
    }
}

/// A body that must be a JSON object (a whole object or a Scale).
pub fn object(v: Value) -> Result<serde_json::Map<String, Value>> {
    match v {
        Value::Object(m) => Ok(m),
        _ => Err(KubeError::bad_request(
            "error decoding request body: the object is not a JSON object",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_patch_replaces_and_removes() {
        let mut v = serde_json::json!({"spec": {"replicas": 1}, "x": 1});
        merge(
            &mut v,
            &serde_json::json!({"spec": {"replicas": 7}, "x": null}),
        );
        assert_eq!(v, serde_json::json!({"spec": {"replicas": 7}}));
    }
}
