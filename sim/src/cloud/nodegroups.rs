//! Creating and deleting nodegroups (`POST` and `DELETE /v1/clusters/{c}/nodegroups`): the
//! body as wsme reads it into Magnum's `NodeGroup` type and the API controller's checks
//! (`magnum/api/controllers/v1/nodegroup.py`, `post` and `delete`). What the conductor and
//! the driver then do is the engine's part.

use super::magnum::{check_counts, count_attribute};
use super::patch::{py_repr, py_type};
use super::{ApiError, Cluster, Nodegroup};
use indexmap::IndexMap;
use serde_json::Value;

/// The attributes of Magnum's API `NodeGroup` a request body may carry; anything else is
/// wsme's `UnknownAttribute`.
const ATTRIBUTES: &[&str] = &[
    "id",
    "uuid",
    "name",
    "cluster_id",
    "project_id",
    "docker_volume_size",
    "labels",
    "links",
    "flavor_id",
    "image_id",
    "node_addresses",
    "node_count",
    "role",
    "min_node_count",
    "max_node_count",
    "is_default",
    "stack_id",
    "status",
    "status_reason",
    "version",
    "merge_labels",
];

/// A nodegroup create request, with wsme's defaults filled in (`node_count` 1,
/// `min_node_count` 0, `role` `worker`).
#[derive(Clone, Debug, PartialEq)]
pub struct NewNodegroup {
    pub name: String,
    pub node_count: u32,
    pub min_node_count: u32,
    pub max_node_count: Option<u32>,
    pub role: String,
    pub flavor_id: Option<String>,
    pub image_id: Option<String>,
    pub labels: Option<IndexMap<String, String>>,
    pub merge_labels: bool,
}

impl NewNodegroup {
    /// Reads a request body as wsme does: unknown attributes, wrong types and counts out of
    /// range are `400`s in Magnum's words.
    pub fn from_json(body: &Value) -> Result<NewNodegroup, ApiError> {
        let Value::Object(m) = body else {
            return Err(ApiError::new(
                400,
                "Invalid input for field/attribute nodegroup. Value: 'None'. Mandatory field missing.",
            ));
        };
        let unknown: Vec<&str> = m
            .keys()
            .map(String::as_str)
            .filter(|k| !ATTRIBUTES.contains(k))
            .collect();
        if !unknown.is_empty() {
            return Err(ApiError::new(
                400,
                format!(
                    "Unknown attribute for argument nodegroup: {}",
                    unknown.join(", ")
                ),
            ));
        }
        let count = |field: &str, default: Option<u32>| match m.get(field) {
            Some(v) => Ok(count_attribute(field, v)?.or(default)),
            None => Ok(default),
        };
        let name = text(m.get("name"), "name")?.ok_or_else(|| {
            ApiError::new(
                400,
                "Invalid input for field/attribute name. Value: 'None'. Mandatory field missing.",
            )
        })?;
        Ok(NewNodegroup {
            node_count: count("node_count", Some(1))?.unwrap_or(1),
            min_node_count: count("min_node_count", Some(0))?.unwrap_or(0),
            max_node_count: count("max_node_count", None)?,
            role: text(m.get("role"), "role")?.unwrap_or_else(|| "worker".into()),
            flavor_id: text(m.get("flavor_id"), "flavor_id")?,
            image_id: text(m.get("image_id"), "image_id")?,
            labels: labels(m.get("labels"))?,
            merge_labels: m.get("merge_labels").is_some_and(truthy),
            name,
        })
    }
}

/// A `StringType(min_length=1, max_length=255)` attribute; `null` is unset.
fn text(v: Option<&Value>, field: &str) -> Result<Option<String>, ApiError> {
    let invalid = |shown: &str, why: String| {
        ApiError::new(
            400,
            format!("Invalid input for field/attribute {field}. Value: '{shown}'. {why}"),
        )
    };
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => match s.chars().count() {
            0 => Err(invalid(
                s,
                "Value should have a minimum character requirement of 1".into(),
            )),
            256.. => Err(invalid(
                s,
                "Value should have a maximum character requirement of 255".into(),
            )),
            _ => Ok(Some(s.clone())),
        },
        Some(other) => Err(invalid(
            &py_repr(other),
            format!(
                "Wrong type. Expected '<class 'str'>', got '{}'",
                py_type(other)
            ),
        )),
    }
}

/// `labels`: a dict of text, int, bool or float values, kept as Magnum stores them (text).
fn labels(v: Option<&Value>) -> Result<Option<IndexMap<String, String>>, ApiError> {
    let wrong = |other: &Value| {
        ApiError::new(
            400,
            format!(
                "Invalid input for field/attribute labels. Value: '{}'. Wrong type. Expected '{{<class 'str'>: <class 'str'>}}', got '{}'",
                py_repr(other),
                py_type(other)
            ),
        )
    };
    let m = match v {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Object(m)) => m,
        Some(other) => return Err(wrong(other)),
    };
    m.iter()
        .map(|(k, v)| match v {
            Value::String(s) => Ok((k.clone(), s.clone())),
            Value::Number(n) => Ok((k.clone(), n.to_string())),
            Value::Bool(b) => Ok((k.clone(), if *b { "True" } else { "False" }.to_string())),
            other => Err(wrong(other)),
        })
        .collect::<Result<_, _>>()
        .map(Some)
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::String(s) => matches!(s.to_ascii_lowercase().as_str(), "true" | "1" | "yes" | "on"),
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        _ => false,
    }
}

impl Cluster {
    /// The controller's checks of a create, in its order, and the nodegroup it hands the
    /// conductor: the image, flavor and labels default to the cluster's (labels merged when
    /// asked). `flavor_known` is Nova's answer for a name or id
    /// (`validate_flavor_root_volume_size`, which magsim asks whatever `boot_volume_size`
    /// says: it cannot boot a flavor it does not know).
    pub fn admit_nodegroup(
        &self,
        new: &NewNodegroup,
        uuid: String,
        flavor_known: impl Fn(&str) -> bool,
    ) -> Result<Nodegroup, ApiError> {
        if self.nodegroups.iter().any(|n| n.name == new.name) {
            return Err(ApiError::new(
                409,
                format!(
                    "A node group with name {} already exists in the cluster {}.",
                    new.name, self.name
                ),
            ));
        }
        check_counts(
            &new.name,
            new.min_node_count,
            new.max_node_count,
            new.node_count,
        )?;
        if new.role == "master" {
            return Err(ApiError::new(
                400,
                "Creating master nodegroups is currently not supported.",
            ));
        }
        let worker = self.default_worker();
        let flavor_id = match &new.flavor_id {
            Some(f) => f.clone(),
            None => worker.map(|w| w.flavor_id.clone()).unwrap_or_default(),
        };
        if !flavor_known(&flavor_id) {
            return Err(ApiError::new(
                400,
                format!("Unable to find flavor {flavor_id}."),
            ));
        }
        let labels = match (&new.labels, new.merge_labels) {
            (None, _) => self.labels.clone(),
            (Some(l), true) => {
                let mut merged = self.labels.clone();
                merged.extend(l.iter().map(|(k, v)| (k.clone(), v.clone())));
                merged
            }
            (Some(l), false) => l.clone(),
        };
        Ok(Nodegroup {
            id: self.nodegroups.iter().map(|n| n.id).max().unwrap_or(0) + 1,
            uuid,
            name: new.name.clone(),
            role: new.role.clone(),
            flavor_id,
            image_id: new
                .image_id
                .clone()
                .or_else(|| worker.map(|w| w.image_id.clone()))
                .unwrap_or_default(),
            node_count: new.node_count,
            min_node_count: new.min_node_count,
            max_node_count: new.max_node_count,
            labels,
            is_default: false,
            status: "CREATE_IN_PROGRESS".into(),
            status_reason: None,
            stack_id: None,
        })
    }

    /// The controller's checks of a delete: the nodegroup exists and is not a default one.
    pub fn check_delete_nodegroup(&self, ident: &str) -> Result<String, ApiError> {
        let ng = self.nodegroup(ident)?;
        if ng.is_default {
            return Err(ApiError::new(
                400,
                "Deleting a default nodegroup is not supported.",
            ));
        }
        Ok(ng.name.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::magnum::tests::incident_cluster;
    use serde_json::json;

    fn admit(body: Value) -> Result<Nodegroup, ApiError> {
        let new = NewNodegroup::from_json(&body)?;
        incident_cluster().admit_nodegroup(&new, "u".into(), |f| f.starts_with("m3."))
    }

    #[test]
    fn defaults_come_from_wsme_and_the_cluster() {
        let ng = admit(json!({"name": "gpu", "max_node_count": null})).unwrap();
        let c = incident_cluster();
        let w = c.default_worker().unwrap();
        assert_eq!((ng.node_count, ng.min_node_count), (1, 0));
        assert_eq!(ng.max_node_count, None);
        assert_eq!(ng.role, "worker");
        assert_eq!(ng.flavor_id, w.flavor_id);
        assert_eq!(ng.labels, c.labels);
        assert_eq!(ng.status, "CREATE_IN_PROGRESS");
        assert_eq!(ng.id, c.nodegroups.iter().map(|n| n.id).max().unwrap() + 1);
    }

    #[test]
    fn labels_replace_or_merge() {
        let only = admit(json!({"name": "a", "labels": {"x": "1"}})).unwrap();
        assert_eq!(only.labels.len(), 1);
        let merged = admit(json!({"name": "a", "labels": {"x": 2}, "merge_labels": true})).unwrap();
        assert_eq!(merged.labels.get("x").map(String::as_str), Some("2"));
        assert!(merged.labels.len() > 1);
    }

    #[test]
    fn the_controller_refuses_in_magnums_words() {
        let e = |b: Value| admit(b).unwrap_err();
        let dup = e(json!({"name": "default-worker"}));
        assert_eq!(dup.status, 409);
        assert_eq!(
            dup.message,
            "A node group with name default-worker already exists in the cluster k8s."
        );
        let counts = e(json!({"name": "a", "node_count": 1, "min_node_count": 2}));
        assert_eq!(counts.message, "min_node_count for a is invalid (min_node_count (2) should be less or equal to node_count (1)).");
        assert_eq!(
            e(json!({"name": "a", "role": "master"})).message,
            "Creating master nodegroups is currently not supported."
        );
        assert_eq!(
            e(json!({"name": "a", "flavor_id": "x9.huge"})).message,
            "Unable to find flavor x9.huge."
        );
        assert_eq!(
            e(json!({"name": "a", "colour": "red"})).message,
            "Unknown attribute for argument nodegroup: colour"
        );
        let neg = e(json!({"name": "a", "node_count": -1}));
        assert_eq!(neg.status, 400);
        assert!(neg
            .message
            .contains("Value should be greater or equal to 0"));
        assert!(e(json!({"node_count": 1})).message.contains("name"));
    }

    #[test]
    fn default_nodegroups_cannot_be_deleted() {
        let c = incident_cluster();
        let e = c.check_delete_nodegroup("default-worker").unwrap_err();
        assert_eq!(
            (e.status, e.message.as_str()),
            (400, "Deleting a default nodegroup is not supported.")
        );
        assert_eq!(c.check_delete_nodegroup("nope").unwrap_err().status, 404);
    }
}
