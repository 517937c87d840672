//! What kube-apiserver checks of a written object before anything is stored, in its words:
//! the body's kind and version against the URL's (`transformDecodeError` in
//! `apiserver/pkg/endpoints/handlers/rest.go`), the name and namespace against the URL's
//! (`checkName`; `EnsureObjectNamespaceMatchesRequestNamespace` on create), and the syntax of
//! a new object's name (`ValidateObjectMeta`: an RFC 1123 subdomain, a label for Namespaces).

use super::status::KubeError;
use serde_json::{Map, Value};

type Result<T> = std::result::Result<T, KubeError>;

/// A string of a body's `metadata` (`""` when absent); a `metadata` that is not an object, or
/// a field that is not a string, cannot be decoded.
pub fn meta_str<'a>(body: &'a Map<String, Value>, field: &str) -> Result<&'a str> {
    let meta = match body.get("metadata") {
        None | Some(Value::Null) => return Ok(""),
        Some(Value::Object(m)) => m,
        Some(_) => {
            return Err(KubeError::bad_request(
                "error decoding request body: metadata: expected an object",
            ))
        }
    };
    match meta.get(field) {
        None | Some(Value::Null) => Ok(""),
        Some(Value::String(s)) => Ok(s),
        Some(other) => Err(KubeError::bad_request(format!(
            "error decoding request body: metadata.{field}: expected a string, got {other}"
        ))),
    }
}

fn body_kind(body: &Map<String, Value>, kind: &str, api_version: &str) -> Result<()> {
    let field = |f: &str| body.get(f).and_then(Value::as_str);
    check_kind(field("kind"), field("apiVersion"), kind, api_version)
}

/// Everything a create checks of `body` before anything is stored: its kind, the URL's
/// namespace (`""` for a cluster-scoped kind), a name, and a valid one. `kind_group` names
/// the kind in `Invalid` messages (`ConfigMap`, `Deployment.apps`). Answers the name.
pub fn admit_create(
    body: &Map<String, Value>,
    (kind, api_version, kind_group): (&str, &str, &str),
    namespace: &str,
) -> Result<String> {
    body_kind(body, kind, api_version)?;
    check_create_namespace(meta_str(body, "namespace")?, namespace)?;
    let name = meta_str(body, "name")?;
    if name.is_empty() {
        return Err(KubeError::invalid(
            kind_group,
            "",
            "metadata.name: Required value: name or generateName is required",
        ));
    }
    check_new_name(kind_group, name)?;
    Ok(name.to_string())
}

/// Everything an update checks of `body`: its kind, and the URL's name and namespace.
pub fn admit_update(
    body: &Map<String, Value>,
    (kind, api_version): (&str, &str),
    name: &str,
    namespace: &str,
) -> Result<()> {
    body_kind(body, kind, api_version)?;
    check_update_name(
        meta_str(body, "name")?,
        meta_str(body, "namespace")?,
        name,
        namespace,
    )
}

/// Built-in kinds of kube-apiserver's scheme by `apiVersion` (the ones a client may name in a
/// body sent to the wrong URL); a body naming another kind is not registered.
const BUILTIN: &[(&str, &[&str])] = &[
    (
        "v1",
        &[
            "Binding",
            "ConfigMap",
            "Endpoints",
            "Event",
            "LimitRange",
            "Namespace",
            "Node",
            "PersistentVolume",
            "PersistentVolumeClaim",
            "Pod",
            "ReplicationController",
            "ResourceQuota",
            "Secret",
            "Service",
            "ServiceAccount",
        ],
    ),
    (
        "apps/v1",
        &[
            "ControllerRevision",
            "DaemonSet",
            "Deployment",
            "ReplicaSet",
            "StatefulSet",
        ],
    ),
    ("autoscaling/v1", &["HorizontalPodAutoscaler", "Scale"]),
    ("batch/v1", &["CronJob", "Job"]),
    ("coordination.k8s.io/v1", &["Lease"]),
    ("policy/v1", &["Eviction", "PodDisruptionBudget"]),
    (
        "rbac.authorization.k8s.io/v1",
        &["ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"],
    ),
    (
        "storage.k8s.io/v1",
        &["CSIDriver", "CSINode", "CSIStorageCapacity", "StorageClass"],
    ),
];

/// The scheme name kube-apiserver's errors print for its built-in types.
const SCHEME: &str = "pkg/api/legacyscheme/scheme.go:30";

fn version_of(api_version: &str) -> &str {
    api_version.rsplit('/').next().unwrap_or(api_version)
}

/// The Go package name of a group's internal types (`core`, `apps`, `rbac`, ...).
fn internal_package(api_version: &str) -> &str {
    match api_version.split_once('/') {
        None => "core",
        Some((group, _)) => group.split('.').next().unwrap_or(group),
    }
}

/// A body whose `kind` or `apiVersion` is not the URL's `kind` in `api_version` cannot be
/// decoded into it: the decoder's 400 for a built-in target. Missing fields take the URL's
/// (the serializer defaults them). Custom resources (`*.x-k8s.io`) are decoded unstructured,
/// where only the version is compared.
pub fn check_kind(
    body_kind: Option<&str>,
    body_api_version: Option<&str>,
    kind: &str,
    api_version: &str,
) -> Result<()> {
    let data_kind = body_kind.filter(|k| !k.is_empty()).unwrap_or(kind);
    let data_version = body_api_version
        .filter(|v| !v.is_empty())
        .unwrap_or(api_version);
    if (data_kind, data_version) == (kind, api_version) {
        return Ok(());
    }
    if api_version.contains(".x-k8s.io/") {
        return Err(KubeError::bad_request(format!(
            "the API version in the data ({data_version}) does not match the expected API version ({api_version})"
        )));
    }
    let registered = BUILTIN
        .iter()
        .any(|(v, kinds)| *v == data_version && kinds.contains(&data_kind));
    let cause = if registered {
        format!(
            "converting ({}.{data_kind}) to ({}.{kind}): unknown conversion",
            version_of(data_version),
            internal_package(api_version)
        )
    } else {
        format!(
            "no kind {data_kind:?} is registered for version {data_version:?} in scheme {SCHEME:?}"
        )
    };
    Err(KubeError::bad_request(format!(
        "{data_kind} in version {:?} cannot be handled as a {kind}: {cause}",
        version_of(data_version)
    )))
}

/// `checkName` of an update: the body's name and namespace are the URL's.
pub fn check_update_name(
    body_name: &str,
    body_namespace: &str,
    name: &str,
    namespace: &str,
) -> Result<()> {
    if body_name != name {
        return Err(KubeError::bad_request(format!(
            "the name of the object ({body_name}) does not match the name on the URL ({name})"
        )));
    }
    if !namespace.is_empty() && !body_namespace.is_empty() && body_namespace != namespace {
        return Err(KubeError::bad_request(format!(
            "the namespace of the object ({body_namespace}) does not match the namespace on the request ({namespace})"
        )));
    }
    Ok(())
}

/// A create's body namespace, when set, is the URL's.
pub fn check_create_namespace(body_namespace: &str, namespace: &str) -> Result<()> {
    if !namespace.is_empty() && !body_namespace.is_empty() && body_namespace != namespace {
        return Err(KubeError::bad_request(
            "the namespace of the provided object does not match the namespace sent on the request",
        ));
    }
    Ok(())
}

const SUBDOMAIN: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";

/// `[a-z0-9]([-a-z0-9]*[a-z0-9])?`
fn is_label(s: &str) -> bool {
    let b = s.as_bytes();
    let alnum = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    !b.is_empty()
        && alnum(&b[0])
        && alnum(&b[b.len() - 1])
        && b.iter().all(|c| alnum(c) || *c == b'-')
}

/// Why `name` is not a valid name for a new `kind_group` object (a Namespace's is a DNS
/// label, every other kind served a DNS subdomain): the 422 `Invalid` Status, each failed
/// rule one cause as apimachinery's `IsDNS1123Subdomain` / `IsDNS1123Label` list them.
pub fn check_new_name(kind_group: &str, name: &str) -> Result<()> {
    let namespace = kind_group == "Namespace";
    let (max, rule, ok) = if namespace {
        (63, LABEL, is_label(name))
    } else {
        (253, SUBDOMAIN, name.split('.').all(is_label))
    };
    let mut causes = Vec::new();
    if name.len() > max {
        causes.push(format!("must be no more than {max} characters"));
    }
    if !ok {
        causes.push(rule.to_string());
    }
    let detail: Vec<String> = causes
        .iter()
        .map(|c| format!("metadata.name: Invalid value: {name:?}: {c}"))
        .collect();
    match detail.len() {
        0 => Ok(()),
        1 => Err(KubeError::invalid(kind_group, name, &detail[0])),
        _ => Err(KubeError::invalid(
            kind_group,
            name,
            &format!("[{}]", detail.join(", ")),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_of_another_kind_is_not_decoded_into_the_urls() {
        assert!(check_kind(None, None, "ConfigMap", "v1").is_ok());
        assert!(check_kind(Some("ConfigMap"), Some("v1"), "ConfigMap", "v1").is_ok());
        let e = check_kind(Some("Secret"), Some("v1"), "ConfigMap", "v1").unwrap_err();
        assert_eq!(e.code, 400);
        assert_eq!(
            e.message,
            r#"Secret in version "v1" cannot be handled as a ConfigMap: converting (v1.Secret) to (core.ConfigMap): unknown conversion"#
        );
        let e = check_kind(Some("Deployment"), Some("v1"), "Scale", "autoscaling/v1").unwrap_err();
        assert_eq!(
            e.message,
            r#"Deployment in version "v1" cannot be handled as a Scale: no kind "Deployment" is registered for version "v1" in scheme "pkg/api/legacyscheme/scheme.go:30""#
        );
    }

    #[test]
    fn names_follow_rfc_1123() {
        for ok in [
            "a",
            "cluster-autoscaler-status",
            "k8s.io",
            "0abc",
            "a.b-c.d",
        ] {
            assert!(check_new_name("ConfigMap", ok).is_ok(), "{ok}");
        }
        for bad in ["Bad_Name!", "-a", "a-", "a..b", ".a", "A", ""] {
            assert_eq!(
                check_new_name("ConfigMap", bad).unwrap_err().code,
                422,
                "{bad}"
            );
        }
        let e = check_new_name("ConfigMap", "Bad_Name!").unwrap_err();
        assert_eq!(
            e.message,
            format!(
                r#"ConfigMap "Bad_Name!" is invalid: metadata.name: Invalid value: "Bad_Name!": {SUBDOMAIN}"#
            )
        );
        assert!(
            check_new_name("Namespace", "a.b").is_err(),
            "a label has no dots"
        );
        let long = "a".repeat(64);
        let e = check_new_name("Namespace", &long).unwrap_err();
        assert!(
            e.message.ends_with("must be no more than 63 characters"),
            "{}",
            e.message
        );
        let e = check_new_name("ConfigMap", &format!("{}_", "a".repeat(253))).unwrap_err();
        assert!(
            e.message.contains(": [metadata.name: Invalid value: "),
            "{}",
            e.message
        );
    }
}
