//! `/openapi/v3`: just enough OpenAPI for kubectl's field validation. kubectl (1.27 and up)
//! asks the v3 document of an object's group version whether its `PATCH` takes the
//! `fieldValidation` query parameter; where it does, kubectl leaves validation to the server
//! (`--validate=strict` sends `fieldValidation=Strict`) instead of validating against
//! schemas it downloads. So each group version's document lists, for every served kind, its
//! `PATCH` operation with that parameter and the kind's `x-kubernetes-group-version-kind`,
//! and no schemas: `kubectl apply` then computes its patches from the types built into
//! kubectl, as it does for a kind the schemas do not describe.
//!
//! The server then validates as kube-apiserver does ([`super::schema`]: unknown fields
//! refused under `Strict`, warned of under `Warn`). What is not done: the documents carry no
//! schemas, so `kubectl explain` has nothing to explain.

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

/// A stable tag of a document's content (the `hash` clients cache it under).
fn hash(doc: &Value) -> String {
    let uid = magsim_sim::ids::derived_uid(&["openapi", &doc.to_string()]);
    uid.replace('-', "").to_uppercase()
}

/// `GET /openapi/v3`: the index of group version documents.
pub fn index() -> Value {
    let paths: Map<String, Value> = group_versions()
        .into_iter()
        .map(|(gv, group)| {
            let url = format!("/openapi/v3/{gv}?hash={}", hash(&document(group)));
            (gv, json!({ "serverRelativeURL": url }))
        })
        .collect();
    json!({ "paths": paths })
}

/// `GET /openapi/v3/<group version>`, or `None` for one not served.
pub fn group_version(path: &str) -> Option<Value> {
    group_versions()
        .into_iter()
        .find(|(gv, _)| gv == path)
        .map(|(_, group)| document(group))
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
        "components": {"schemas": {}},
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
