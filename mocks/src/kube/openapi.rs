//! `/openapi/v3`: just enough OpenAPI for kubectl's field validation. kubectl (1.27 and up)
//! asks the v3 document of an object's group version whether its `PATCH` takes the
//! `fieldValidation` query parameter; where it does, kubectl leaves validation to the server
//! (`--validate=strict` sends `fieldValidation=Strict`) instead of validating against
//! schemas it downloads. So each group version's document lists, for every served kind, its
//! `PATCH` operation with that parameter and the kind's `x-kubernetes-group-version-kind`;
//! `kubectl apply` computes its patches from the types built into kubectl.
//!
//! The server then validates as kube-apiserver does ([`super::schema`]: unknown fields
//! refused under `Strict`, warned of under `Warn`). The documents also carry the kinds'
//! schemas (`components.schemas`, from the maintained types), which `kubectl explain` reads.

use super::discovery::{version_of, Resource, GROUPS};
use serde_json::{json, Map, Value};

/// `api/v1`, `apis/apps/v1`, ...: the group versions served, as the index names them.
fn group_versions() -> Vec<(String, &'static str)> {
    std::iter::once(("api/v1".to_string(), ""))
        .chain(
            GROUPS
                .iter()
                .map(|g| (format!("apis/{g}/{}", version_of(g)), *g)),
        )
        .collect()
}

/// A group version's document, as served: its bytes and their hash (the tag clients
/// cache it under).
struct Served {
    path: String,
    text: String,
    hash: String,
}

/// Every group version's document, made and serialized once (the schemas are large).
fn documents() -> &'static [Served] {
    static DOCS: std::sync::OnceLock<Vec<Served>> = std::sync::OnceLock::new();
    DOCS.get_or_init(|| {
        group_versions()
            .into_iter()
            .map(|(path, group)| {
                let doc = document(group);
                let text = doc.to_string();
                let uid = magsim_sim::ids::derived_uid(&["openapi", &text]);
                let hash = uid.replace('-', "").to_uppercase();
                Served { path, text, hash }
            })
            .collect()
    })
}

/// `GET /openapi/v3`: the index of group version documents.
pub fn index() -> Value {
    let paths: Map<String, Value> = documents()
        .iter()
        .map(|d| {
            let url = format!("/openapi/v3/{}?hash={}", d.path, d.hash);
            (d.path.clone(), json!({ "serverRelativeURL": url }))
        })
        .collect();
    json!({ "paths": paths })
}

/// `GET /openapi/v3/<group version>`: the document's bytes, serialized once; `None` for one
/// not served.
pub fn group_version_text(path: &str) -> Option<&'static str> {
    documents()
        .iter()
        .find(|d| d.path == path)
        .map(|d| d.text.as_str())
}

fn document(group: &str) -> Value {
    let version = if group.is_empty() {
        "v1"
    } else {
        version_of(group)
    };
    let prefix = if group.is_empty() {
        "/api/v1".to_string()
    } else {
        format!("/apis/{group}/{version}")
    };
    let mut paths = Map::new();
    for r in Resource::ALL.into_iter().filter(|r| r.group() == group) {
        let scope = if r.namespaced() {
            "/namespaces/{namespace}"
        } else {
            ""
        };
        let gvk = json!({"group": group, "version": version, "kind": r.kind()});
        paths.insert(
            format!("{prefix}{scope}/{}/{{name}}", r.plural()),
            json!({"patch": {
                "operationId": format!("patch{}", r.kind()),
                "x-kubernetes-action": "patch",
                "x-kubernetes-group-version-kind": gvk,
                "parameters": [{
                    "name": "fieldValidation",
                    "in": "query",
                    "description": "fieldValidation instructs the server on how to handle objects in the request containing unknown or duplicate fields.",
                    "schema": {"type": "string", "uniqueItems": true},
                }],
            }}),
        );
    }
    json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": super::discovery::version()["gitVersion"]},
        "paths": paths,
        "components": {"schemas": schemas(group, version)},
    })
}

/// The schemas of a group version's kinds as `components.schemas`: the definitions of the
/// maintained types under their OpenAPI names, `$ref`s pointing into the components, each
/// kind tagged with its `x-kubernetes-group-version-kind` (what `kubectl explain` looks up).
fn schemas(group: &str, version: &str) -> Map<String, Value> {
    let mut out = Map::new();
    for r in Resource::ALL.into_iter().filter(|r| r.group() == group) {
        let Some(kind) = super::schema::schema_of(r) else {
            continue;
        };
        let mut root = kind.root.clone();
        if let Some(o) = root.as_object_mut() {
            if let Some(Value::Object(defs)) = o.shift_remove("$defs") {
                for (name, def) in defs {
                    out.entry(name).or_insert(def);
                }
            }
            o.shift_remove("$schema");
            o.shift_remove("title");
            o.insert(
                "x-kubernetes-group-version-kind".into(),
                json!([{"group": group, "kind": r.kind(), "version": version}]),
            );
        }
        out.insert(kind.name.clone(), root);
    }
    let mut doc = Value::Object(out);
    rebase_refs(&mut doc);
    match doc {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// `#/$defs/X` → `#/components/schemas/X`, everywhere.
fn rebase_refs(v: &mut Value) {
    match v {
        Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                match (k.as_str(), &*x) {
                    ("$ref", Value::String(r)) if r.starts_with("#/$defs/") => {
                        *x = Value::String(r.replacen("#/$defs/", "#/components/schemas/", 1));
                    }
                    _ => rebase_refs(x),
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(rebase_refs),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group_version(path: &str) -> Option<Value> {
        group_version_text(path).map(|t| serde_json::from_str(t).expect("JSON"))
    }

    #[test]
    fn every_kind_declares_field_validation() {
        let idx = index();
        let url = idx["paths"]["apis/apps/v1"]["serverRelativeURL"]
            .as_str()
            .unwrap();
        assert!(url.starts_with("/openapi/v3/apis/apps/v1?hash="), "{url}");
        let doc = group_version("apis/apps/v1").unwrap();
        let patch =
            &doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"];
        assert_eq!(
            patch["x-kubernetes-group-version-kind"]["kind"],
            "Deployment"
        );
        assert_eq!(patch["parameters"][0]["name"], "fieldValidation");
        let core = group_version("api/v1").unwrap();
        assert!(
            core["paths"]["/api/v1/nodes/{name}"].is_object(),
            "cluster-scoped"
        );
        assert!(group_version("apis/nope/v1").is_none());
    }

    #[test]
    fn kinds_carry_their_schemas_for_explain() {
        let doc = group_version("apis/apps/v1").unwrap();
        let schemas = &doc["components"]["schemas"];
        let d = &schemas["io.k8s.api.apps.v1.Deployment"];
        assert_eq!(
            d["x-kubernetes-group-version-kind"][0],
            json!({"group": "apps", "kind": "Deployment", "version": "v1"})
        );
        assert_eq!(
            d["properties"]["spec"]["$ref"],
            "#/components/schemas/io.k8s.api.apps.v1.DeploymentSpec"
        );
        let spec = &schemas["io.k8s.api.apps.v1.DeploymentSpec"];
        assert_eq!(spec["properties"]["replicas"]["type"], "integer");
        assert!(!doc.to_string().contains("#/$defs/"));
    }
}
