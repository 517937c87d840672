//! The resource types the mock serves and the discovery documents that announce them:
//! aggregated discovery (`apidiscovery.k8s.io/v2`, what kubectl 1.32 asks for first, with its
//! exact Content-Type) and the legacy `APIVersions` / `APIGroupList` / `APIResourceList`.
//! Cluster API's `cluster.x-k8s.io/v1beta1` MachineDeployments are announced as their CRD is.

use serde_json::{json, Value};

/// The aggregated discovery Content-Type; kubectl parses the body as legacy discovery without it.
pub const AGGREGATED_CONTENT_TYPE: &str =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

/// A resource type the mock serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Resource {
    Pods,
    Nodes,
    Events,
    ConfigMaps,
    Namespaces,
    Deployments,
    ReplicaSets,
    MachineDeployments,
}

/// Named API groups in the order `/apis` lists them.
const GROUPS: [&str; 2] = ["apps", CAPI_GROUP];

/// Cluster API's group (the MachineDeployment CRD).
pub const CAPI_GROUP: &str = "cluster.x-k8s.io";

impl Resource {
    pub const ALL: [Resource; 8] = [
        Resource::Pods,
        Resource::Nodes,
        Resource::Events,
        Resource::ConfigMaps,
        Resource::Namespaces,
        Resource::Deployments,
        Resource::ReplicaSets,
        Resource::MachineDeployments,
    ];

    /// `""` for the core group.
    pub fn group(self) -> &'static str {
        match self {
            Resource::Deployments | Resource::ReplicaSets => "apps",
            Resource::MachineDeployments => CAPI_GROUP,
            _ => "",
        }
    }

    /// The one version served for the resource's group.
    pub fn version(self) -> &'static str {
        version_of(self.group())
    }

    pub fn api_version(self) -> &'static str {
        match self.group() {
            "" => "v1",
            "apps" => "apps/v1",
            _ => "cluster.x-k8s.io/v1beta1",
        }
    }

    pub fn plural(self) -> &'static str {
        match self {
            Resource::Pods => "pods",
            Resource::Nodes => "nodes",
            Resource::Events => "events",
            Resource::ConfigMaps => "configmaps",
            Resource::Namespaces => "namespaces",
            Resource::Deployments => "deployments",
            Resource::ReplicaSets => "replicasets",
            Resource::MachineDeployments => "machinedeployments",
        }
    }

    pub fn singular(self) -> &'static str {
        match self {
            Resource::Pods => "pod",
            Resource::Nodes => "node",
            Resource::Events => "event",
            Resource::ConfigMaps => "configmap",
            Resource::Namespaces => "namespace",
            Resource::Deployments => "deployment",
            Resource::ReplicaSets => "replicaset",
            Resource::MachineDeployments => "machinedeployment",
        }
    }

    pub fn kind(self) -> &'static str {
        match self {
            Resource::Pods => "Pod",
            Resource::Nodes => "Node",
            Resource::Events => "Event",
            Resource::ConfigMaps => "ConfigMap",
            Resource::Namespaces => "Namespace",
            Resource::Deployments => "Deployment",
            Resource::ReplicaSets => "ReplicaSet",
            Resource::MachineDeployments => "MachineDeployment",
        }
    }

    pub fn namespaced(self) -> bool {
        !matches!(self, Resource::Nodes | Resource::Namespaces)
    }

    fn short_names(self) -> &'static [&'static str] {
        match self {
            Resource::Pods => &["po"],
            Resource::Nodes => &["no"],
            Resource::Events => &["ev"],
            Resource::ConfigMaps => &["cm"],
            Resource::Namespaces => &["ns"],
            Resource::Deployments => &["deploy"],
            Resource::ReplicaSets => &["rs"],
            Resource::MachineDeployments => &["md"],
        }
    }

    fn categories(self) -> &'static [&'static str] {
        match self {
            Resource::Pods | Resource::Deployments | Resource::ReplicaSets => &["all"],
            Resource::MachineDeployments => &["cluster-api"],
            _ => &[],
        }
    }

    fn verbs(self) -> &'static [&'static str] {
        match self {
            Resource::Namespaces | Resource::Nodes => &[
                "create", "delete", "get", "list", "patch", "update", "watch",
            ],
            _ => &[
                "create",
                "delete",
                "deletecollection",
                "get",
                "list",
                "patch",
                "update",
                "watch",
            ],
        }
    }

    /// Finds the resource of `group` named `plural` in a URL.
    pub fn from_path(group: &str, plural: &str) -> Option<Resource> {
        Resource::ALL
            .into_iter()
            .find(|r| r.group() == group && r.plural() == plural)
    }

    /// Subresources announced in discovery: `(name, group, version, kind, verbs)`.
    fn subresources(self) -> Vec<(&'static str, &'static str, &'static str, &'static str)> {
        match self {
            Resource::Pods => vec![("status", "", "v1", "Pod")],
            Resource::Nodes => vec![("status", "", "v1", "Node")],
            Resource::Namespaces => vec![("status", "", "v1", "Namespace")],
            Resource::Deployments => vec![
                ("status", "apps", "v1", "Deployment"),
                ("scale", "autoscaling", "v1", "Scale"),
            ],
            Resource::ReplicaSets => vec![
                ("status", "apps", "v1", "ReplicaSet"),
                ("scale", "autoscaling", "v1", "Scale"),
            ],
            Resource::MachineDeployments => vec![
                ("status", CAPI_GROUP, "v1beta1", "MachineDeployment"),
                ("scale", "autoscaling", "v1", "Scale"),
            ],
            _ => Vec::new(),
        }
    }
}

/// The version served for `group`: `v1`, or `v1beta1` for Cluster API.
pub fn version_of(group: &str) -> &'static str {
    if group == CAPI_GROUP {
        "v1beta1"
    } else {
        "v1"
    }
}

fn group_resources(group: &str) -> impl Iterator<Item = Resource> + '_ {
    Resource::ALL
        .into_iter()
        .filter(move |r| r.group() == group)
}

fn aggregated_resource(r: Resource) -> Value {
    let mut v = json!({
        "resource": r.plural(),
        "responseKind": {"group": r.group(), "version": r.version(), "kind": r.kind()},
        "scope": if r.namespaced() { "Namespaced" } else { "Cluster" },
        "singularResource": r.singular(),
        "verbs": r.verbs(),
        "shortNames": r.short_names(),
    });
    if !r.categories().is_empty() {
        v["categories"] = json!(r.categories());
    }
    let subs: Vec<Value> = r
        .subresources()
        .into_iter()
        .map(|(name, g, ver, kind)| {
            json!({
                "subresource": name,
                "responseKind": {"group": g, "version": ver, "kind": kind},
                "verbs": ["get", "patch", "update"],
            })
        })
        .collect();
    if !subs.is_empty() {
        v["subresources"] = Value::Array(subs);
    }
    v
}

fn aggregated_group(group: &str) -> Value {
    let metadata = if group.is_empty() {
        json!({"creationTimestamp": null})
    } else {
        json!({"name": group, "creationTimestamp": null})
    };
    json!({
        "metadata": metadata,
        "versions": [{
            "version": version_of(group),
            "freshness": "Current",
            "resources": group_resources(group).map(aggregated_resource).collect::<Vec<_>>(),
        }],
    })
}

/// `GET /api` (core) or `GET /apis` (named groups) as an `APIGroupDiscoveryList`.
pub fn aggregated(core: bool) -> Value {
    let items = if core {
        vec![aggregated_group("")]
    } else {
        GROUPS.iter().map(|g| aggregated_group(g)).collect()
    };
    json!({
        "kind": "APIGroupDiscoveryList",
        "apiVersion": "apidiscovery.k8s.io/v2",
        "metadata": {},
        "items": items,
    })
}

/// Legacy `GET /api`.
pub fn api_versions(server_address: &str) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
    })
}

/// Legacy `GET /apis`.
pub fn api_group_list() -> Value {
    json!({
        "kind": "APIGroupList",
        "apiVersion": "v1",
        "groups": GROUPS.iter().map(|g| group_entry(g)).collect::<Vec<_>>(),
    })
}

fn group_entry(group: &str) -> Value {
    let gv = json!({"groupVersion": format!("{group}/{}", version_of(group)), "version": version_of(group)});
    json!({
        "name": group,
        "versions": [gv.clone()],
        "preferredVersion": gv,
    })
}

/// Legacy `GET /apis/{group}`: one `APIGroup`.
pub fn api_group(group: &str) -> Value {
    let mut v = json!({"kind": "APIGroup", "apiVersion": "v1"});
    if let (Some(m), Value::Object(entry)) = (v.as_object_mut(), group_entry(group)) {
        m.extend(entry);
    }
    v
}

/// The named groups served (`apps`, `cluster.x-k8s.io`).
pub fn is_group(group: &str) -> bool {
    GROUPS.contains(&group)
}

/// Legacy `GET /api/v1`, `GET /apis/apps/v1` or `GET /apis/cluster.x-k8s.io/v1beta1`.
pub fn api_resource_list(group: &str) -> Value {
    let mut resources = Vec::new();
    for r in group_resources(group) {
        let mut v = json!({
            "name": r.plural(),
            "singularName": r.singular(),
            "namespaced": r.namespaced(),
            "kind": r.kind(),
            "verbs": r.verbs(),
            "shortNames": r.short_names(),
        });
        if !r.categories().is_empty() {
            v["categories"] = json!(r.categories());
        }
        resources.push(v);
        for (name, g, ver, kind) in r.subresources() {
            let mut s = json!({
                "name": format!("{}/{name}", r.plural()),
                "singularName": "",
                "namespaced": r.namespaced(),
                "kind": kind,
                "verbs": ["get", "patch", "update"],
            });
            if g != group {
                s["group"] = g.into();
                s["version"] = ver.into();
            }
            resources.push(s);
        }
    }
    let gv = if group.is_empty() {
        "v1".to_string()
    } else {
        format!("{group}/{}", version_of(group))
    };
    json!({
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": gv,
        "resources": resources,
    })
}

/// `GET /version`: minor "32" makes the gcloud kubectl dispatcher run kubectl 1.32.
pub fn version() -> Value {
    json!({
        "major": "1",
        "minor": "32",
        "emulationMajor": "1",
        "emulationMinor": "32",
        "minCompatibilityMajor": "1",
        "minCompatibilityMinor": "31",
        "gitVersion": "v1.32.0",
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2025-01-01T00:00:00Z",
        "goVersion": "go1.23.4",
        "compiler": "gc",
        "platform": "linux/amd64",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aggregated_core_has_short_names_and_no_group_name() {
        let v = aggregated(true);
        let item = &v["items"][0];
        assert!(item["metadata"].get("name").is_none());
        let res = item["versions"][0]["resources"].as_array().unwrap();
        let pods = res.iter().find(|r| r["resource"] == "pods").unwrap();
        assert_eq!(pods["shortNames"], json!(["po"]));
        let nodes = res.iter().find(|r| r["resource"] == "nodes").unwrap();
        assert_eq!(nodes["scope"], "Cluster");
        let apps = aggregated(false);
        let deploy = &apps["items"][0]["versions"][0]["resources"][0];
        assert_eq!(deploy["resource"], "deployments");
        assert_eq!(deploy["subresources"][1]["responseKind"]["kind"], "Scale");
    }

    #[test]
    fn cluster_api_is_announced_as_its_crd() {
        let apis = aggregated(false);
        let capi = &apis["items"][1];
        assert_eq!(capi["metadata"]["name"], "cluster.x-k8s.io");
        assert_eq!(capi["versions"][0]["version"], "v1beta1");
        let md = &capi["versions"][0]["resources"][0];
        assert_eq!(md["resource"], "machinedeployments");
        assert_eq!(
            md["responseKind"],
            json!({"group": "cluster.x-k8s.io", "version": "v1beta1", "kind": "MachineDeployment"})
        );
        assert_eq!(md["shortNames"], json!(["md"]));
        assert_eq!(md["subresources"][1]["subresource"], "scale");
        let legacy = api_resource_list(CAPI_GROUP);
        assert_eq!(legacy["groupVersion"], "cluster.x-k8s.io/v1beta1");
        let names: Vec<&str> = legacy["resources"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|r| r["name"].as_str())
            .collect();
        assert_eq!(
            names,
            [
                "machinedeployments",
                "machinedeployments/status",
                "machinedeployments/scale"
            ]
        );
        assert_eq!(
            api_group_list()["groups"][1]["preferredVersion"]["groupVersion"],
            "cluster.x-k8s.io/v1beta1"
        );
        assert_eq!(api_group(CAPI_GROUP)["kind"], "APIGroup");
    }

    #[test]
    fn legacy_scale_names_its_group() {
        let v = api_resource_list("apps");
        let scale = v["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == "deployments/scale")
            .unwrap();
        assert_eq!(scale["group"], "autoscaling");
        assert_eq!(
            Resource::from_path("apps", "deployments"),
            Some(Resource::Deployments)
        );
        assert_eq!(Resource::from_path("", "deployments"), None);
    }
}
