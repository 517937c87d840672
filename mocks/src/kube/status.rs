//! Kubernetes `Status` errors (`kind: Status`, `status: Failure`): the body kubectl turns into
//! `Error from server (NotFound): pods "x" not found`.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

/// `pods "x"` / `deployments.apps "x"`.
fn qualified_name(group: &str, plural: &str, name: &str) -> String {
    if group.is_empty() {
        format!("{plural} \"{name}\"")
    } else {
        format!("{plural}.{group} \"{name}\"")
    }
}

/// A failed request, rendered as a `v1` `Status`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KubeError {
    pub code: u16,
    pub reason: &'static str,
    pub message: String,
    details: Box<Details>,
}

/// `details` (name, group, kind, causes); omitted when empty.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Details {
    name: Option<String>,
    group: Option<String>,
    kind: Option<String>,
    causes: Vec<Cause>,
}

/// One `details.causes` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Cause {
    reason: &'static str,
    message: String,
    field: Option<String>,
}

impl Cause {
    /// A field error as the API server words it (`spec.replicas: Invalid value: 7: ...`).
    fn of_field(text: &str) -> Cause {
        let (field, message) = text.split_once(": ").unwrap_or(("", text));
        let reason = [
            ("Invalid value", "FieldValueInvalid"),
            ("Required value", "FieldValueRequired"),
            ("Unsupported value", "FieldValueNotSupported"),
            ("Forbidden", "FieldValueForbidden"),
            ("Too long", "FieldValueTooLong"),
            ("Duplicate value", "FieldValueDuplicate"),
        ]
        .into_iter()
        .find(|(p, _)| message.starts_with(p))
        .map_or("FieldValueInvalid", |(_, r)| r);
        Cause {
            reason,
            message: message.to_string(),
            field: (!field.is_empty()).then(|| field.to_string()),
        }
    }
}

impl KubeError {
    pub(crate) fn new(code: u16, reason: &'static str, message: impl Into<String>) -> KubeError {
        KubeError {
            code,
            reason,
            message: message.into(),
            details: Box::default(),
        }
    }

    /// Adds a `details.causes` entry.
    pub(crate) fn with_cause(mut self, reason: &'static str, message: String) -> KubeError {
        self.details.causes.push(Cause {
            reason,
            message,
            field: None,
        });
        self
    }

    /// An error kube-apiserver answers with no reason: one no handler made a Status of.
    pub(crate) fn without_reason(code: u16, message: impl Into<String>) -> KubeError {
        KubeError::new(code, "", message)
    }

    /// Adds a `details.causes` entry about `field`.
    pub(crate) fn with_field_cause(
        mut self,
        reason: &'static str,
        message: String,
        field: String,
    ) -> KubeError {
        self.details.causes.push(Cause {
            reason,
            message,
            field: Some(field),
        });
        self
    }

    fn named(mut self, group: &str, plural: &str, name: &str) -> KubeError {
        self.details.name = Some(name.to_string());
        self.details.group = (!group.is_empty()).then(|| group.to_string());
        self.details.kind = Some(plural.to_string());
        self
    }

    /// `pods "x" not found` / `deployments.apps "x" not found`.
    pub fn not_found(group: &str, plural: &str, name: &str) -> KubeError {
        let e = KubeError::new(
            404,
            "NotFound",
            format!("{} not found", qualified_name(group, plural, name)),
        );
        e.named(group, plural, name)
    }

    /// A path no resource lives at.
    pub fn unknown_path() -> KubeError {
        KubeError::new(
            404,
            "NotFound",
            "the server could not find the requested resource",
        )
    }

    pub fn method_not_allowed() -> KubeError {
        KubeError::new(
            405,
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource",
        )
    }

    pub fn bad_request(message: impl Into<String>) -> KubeError {
        KubeError::new(400, "BadRequest", message)
    }

    pub fn unsupported_media_type(accepted: &[&str]) -> KubeError {
        KubeError::new(
            415,
            "UnsupportedMediaType",
            format!(
                "the body of the request was in an unknown format - accepted media types include: {}",
                accepted.join(", ")
            ),
        )
    }

    pub fn too_large(limit: usize) -> KubeError {
        KubeError::new(
            413,
            "RequestEntityTooLarge",
            format!("Request entity too large: limit is {limit}"),
        )
    }

    /// 409 on a create: `configmaps "x" already exists`.
    pub fn already_exists(group: &str, plural: &str, name: &str) -> KubeError {
        let not_found = KubeError::not_found(group, plural, name);
        KubeError {
            code: 409,
            reason: "AlreadyExists",
            message: format!("{} already exists", qualified_name(group, plural, name)),
            ..not_found
        }
    }

    pub fn conflict(group: &str, plural: &str, name: &str) -> KubeError {
        let qualified = if group.is_empty() {
            plural.to_string()
        } else {
            format!("{plural}.{group}")
        };
        let e = KubeError::new(
            409,
            "Conflict",
            format!(
                "Operation cannot be fulfilled on {qualified} \"{name}\": the object has been modified; please apply your changes to the latest version and try again"
            ),
        );
        e.named(group, plural, name)
    }

    /// 422: `Scale.autoscaling "x" is invalid: spec.replicas: ...`.
    pub fn invalid(kind_group: &str, name: &str, detail: &str) -> KubeError {
        let mut e = KubeError::new(
            422,
            "Invalid",
            format!("{kind_group} \"{name}\" is invalid: {detail}"),
        );
        // kubectl words a 422 from its details: `The Namespace "x" is invalid: <causes>`.
        let (kind, group) = kind_group.split_once('.').unwrap_or((kind_group, ""));
        e.details.name = Some(name.to_string());
        e.details.group = (!group.is_empty()).then(|| group.to_string());
        e.details.kind = Some(kind.to_string());
        let list = detail
            .strip_prefix('[')
            .and_then(|d| d.strip_suffix(']'))
            .map_or_else(|| vec![detail], |d| d.split(", ").collect());
        e.details.causes = list.into_iter().map(Cause::of_field).collect();
        e
    }

    /// A watch from a resourceVersion older than the kept history.
    pub fn expired(requested: u64, oldest: u64) -> KubeError {
        KubeError::new(
            410,
            "Expired",
            format!("too old resource version: {requested} ({oldest})"),
        )
    }

    pub fn internal(message: &str) -> KubeError {
        KubeError::new(500, "InternalError", message)
    }

    pub fn not_acceptable() -> KubeError {
        KubeError::new(
            406,
            "NotAcceptable",
            "only the following media types are accepted: application/json, application/json;as=Table;v=v1;g=meta.k8s.io",
        )
    }

    /// The `Status` object.
    pub fn to_json(&self) -> Value {
        let mut details = Map::new();
        let d = &self.details;
        if let Some(n) = &d.name {
            details.insert("name".into(), n.clone().into());
        }
        if let Some(g) = &d.group {
            details.insert("group".into(), g.clone().into());
        }
        if let Some(k) = &d.kind {
            details.insert("kind".into(), k.clone().into());
        }
        if !d.causes.is_empty() {
            let causes: Vec<Value> = d
                .causes
                .iter()
                .map(|c| {
                    let mut v = json!({"reason": c.reason, "message": c.message});
                    if let Some(f) = &c.field {
                        v["field"] = f.clone().into();
                    }
                    v
                })
                .collect();
            details.insert("causes".into(), Value::Array(causes));
        }
        let mut v = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
        });
        if self.reason.is_empty() {
            if let Some(m) = v.as_object_mut() {
                m.shift_remove("reason");
            }
        }
        if !details.is_empty() {
            v["details"] = Value::Object(details);
        }
        v["code"] = self.code.into();
        v
    }
}

impl IntoResponse for KubeError {
    fn into_response(self) -> Response {
        let body = self.to_json().to_string();
        let mut r = (
            StatusCode::from_u16(self.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            body,
        )
            .into_response();
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_found_is_kubectls_shape() {
        let e = KubeError::not_found("apps", "deployments", "nope");
        assert_eq!(
            e.to_json().to_string(),
            r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"deployments.apps \"nope\" not found","reason":"NotFound","details":{"name":"nope","group":"apps","kind":"deployments"},"code":404}"#
        );
        assert_eq!(
            KubeError::not_found("", "pods", "x").message,
            "pods \"x\" not found"
        );
        let e = KubeError::already_exists("", "configmaps", "x");
        assert_eq!(
            (e.code, e.reason, e.message.as_str()),
            (409, "AlreadyExists", "configmaps \"x\" already exists")
        );
    }
}
