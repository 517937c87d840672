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
    Services,
    PersistentVolumes,
    PersistentVolumeClaims,
    ReplicationControllers,
    Deployments,
    ReplicaSets,
    DaemonSets,
    StatefulSets,
    Jobs,
    PodDisruptionBudgets,
    StorageClasses,
    CsiNodes,
    CsiDrivers,
    CsiStorageCapacities,
    Leases,
    Clusters,
    MachineDeployments,
    MachineSets,
    Machines,
    Secrets,
    ServiceAccounts,
    Roles,
    RoleBindings,
    ClusterRoles,
    ClusterRoleBindings,
}

/// What discovery says of one resource type.
struct Desc {
    group: &'static str,
    plural: &'static str,
    singular: &'static str,
    kind: &'static str,
    namespaced: bool,
    short_names: &'static [&'static str],
    categories: &'static [&'static str],
    /// `status` and `scale` subresources served.
    status: bool,
    scale: bool,
    /// Kept as clients write it ([`Resource::is_stored`]).
    stored: bool,
}

const fn desc(
    group: &'static str,
    plural: &'static str,
    singular: &'static str,
    kind: &'static str,
    namespaced: bool,
    short_names: &'static [&'static str],
) -> Desc {
    Desc {
        group,
        plural,
        singular,
        kind,
        namespaced,
        short_names,
        categories: &[],
        status: false,
        scale: false,
        stored: false,
    }
}

impl Desc {
    const fn categories(mut self, c: &'static [&'static str]) -> Desc {
        self.categories = c;
        self
    }
    const fn status(mut self) -> Desc {
        self.status = true;
        self
    }
    const fn scale(mut self) -> Desc {
        self.scale = true;
        self
    }
    const fn stored(mut self) -> Desc {
        self.stored = true;
        self
    }
}

/// Named API groups in the order `/apis` lists them.
pub(super) const GROUPS: [&str; 7] = [
    "apps",
    "batch",
    "policy",
    RBAC_GROUP,
    "storage.k8s.io",
    "coordination.k8s.io",
    CAPI_GROUP,
];

/// Role-based access control: the kinds a cluster-autoscaler's manifest applies.
pub const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

/// Cluster API's group (the MachineDeployment CRD).
pub const CAPI_GROUP: &str = "cluster.x-k8s.io";

/// Every resource type: what the cluster-autoscaler's informers list and watch (1.30.2's
/// listers and its scheduler framework's), kubectl's everyday kinds, and Cluster API's.
const DESCS: [(Resource, Desc); 30] = [
    (
        Resource::Pods,
        desc("", "pods", "pod", "Pod", true, &["po"])
            .categories(&["all"])
            .status(),
    ),
    (
        Resource::Nodes,
        desc("", "nodes", "node", "Node", false, &["no"]).status(),
    ),
    (
        Resource::Events,
        desc("", "events", "event", "Event", true, &["ev"]),
    ),
    (
        Resource::ConfigMaps,
        desc("", "configmaps", "configmap", "ConfigMap", true, &["cm"]),
    ),
    (
        Resource::Namespaces,
        desc("", "namespaces", "namespace", "Namespace", false, &["ns"]).status(),
    ),
    (
        Resource::Services,
        desc("", "services", "service", "Service", true, &["svc"])
            .categories(&["all"])
            .status()
            .stored(),
    ),
    (
        Resource::PersistentVolumes,
        desc(
            "",
            "persistentvolumes",
            "persistentvolume",
            "PersistentVolume",
            false,
            &["pv"],
        )
        .status()
        .stored(),
    ),
    (
        Resource::PersistentVolumeClaims,
        desc(
            "",
            "persistentvolumeclaims",
            "persistentvolumeclaim",
            "PersistentVolumeClaim",
            true,
            &["pvc"],
        )
        .status()
        .stored(),
    ),
    (
        Resource::ReplicationControllers,
        desc(
            "",
            "replicationcontrollers",
            "replicationcontroller",
            "ReplicationController",
            true,
            &["rc"],
        )
        .categories(&["all"])
        .status()
        .scale()
        .stored(),
    ),
    (
        Resource::Deployments,
        desc(
            "apps",
            "deployments",
            "deployment",
            "Deployment",
            true,
            &["deploy"],
        )
        .categories(&["all"])
        .status()
        .scale(),
    ),
    (
        Resource::ReplicaSets,
        desc(
            "apps",
            "replicasets",
            "replicaset",
            "ReplicaSet",
            true,
            &["rs"],
        )
        .categories(&["all"])
        .status()
        .scale(),
    ),
    (
        Resource::DaemonSets,
        desc(
            "apps",
            "daemonsets",
            "daemonset",
            "DaemonSet",
            true,
            &["ds"],
        )
        .categories(&["all"])
        .status()
        .stored(),
    ),
    (
        Resource::StatefulSets,
        desc(
            "apps",
            "statefulsets",
            "statefulset",
            "StatefulSet",
            true,
            &["sts"],
        )
        .categories(&["all"])
        .status()
        .scale()
        .stored(),
    ),
    (
        Resource::Jobs,
        desc("batch", "jobs", "job", "Job", true, &[])
            .categories(&["all"])
            .status()
            .stored(),
    ),
    (
        Resource::PodDisruptionBudgets,
        desc(
            "policy",
            "poddisruptionbudgets",
            "poddisruptionbudget",
            "PodDisruptionBudget",
            true,
            &["pdb"],
        )
        .status()
        .stored(),
    ),
    (
        Resource::StorageClasses,
        desc(
            "storage.k8s.io",
            "storageclasses",
            "storageclass",
            "StorageClass",
            false,
            &["sc"],
        )
        .stored(),
    ),
    (
        Resource::CsiNodes,
        desc(
            "storage.k8s.io",
            "csinodes",
            "csinode",
            "CSINode",
            false,
            &[],
        )
        .stored(),
    ),
    (
        Resource::CsiDrivers,
        desc(
            "storage.k8s.io",
            "csidrivers",
            "csidriver",
            "CSIDriver",
            false,
            &[],
        )
        .stored(),
    ),
    (
        Resource::CsiStorageCapacities,
        desc(
            "storage.k8s.io",
            "csistoragecapacities",
            "csistoragecapacity",
            "CSIStorageCapacity",
            true,
            &[],
        )
        .stored(),
    ),
    (
        Resource::Leases,
        desc("coordination.k8s.io", "leases", "lease", "Lease", true, &[]).stored(),
    ),
    (
        Resource::Clusters,
        desc(CAPI_GROUP, "clusters", "cluster", "Cluster", true, &["cl"])
            .categories(&["cluster-api"])
            .status(),
    ),
    (
        Resource::MachineDeployments,
        desc(
            CAPI_GROUP,
            "machinedeployments",
            "machinedeployment",
            "MachineDeployment",
            true,
            &["md"],
        )
        .categories(&["cluster-api"])
        .status()
        .scale(),
    ),
    (
        Resource::MachineSets,
        desc(
            CAPI_GROUP,
            "machinesets",
            "machineset",
            "MachineSet",
            true,
            &["ms"],
        )
        .categories(&["cluster-api"])
        .status()
        .scale(),
    ),
    (
        Resource::Machines,
        desc(CAPI_GROUP, "machines", "machine", "Machine", true, &["ma"])
            .categories(&["cluster-api"])
            .status(),
    ),
    // World-backed as ConfigMaps are: the engine's Secrets (a cloud-config an autoscaler mounts).
    (
        Resource::Secrets,
        desc("", "secrets", "secret", "Secret", true, &[]),
    ),
    (
        Resource::ServiceAccounts,
        desc(
            "",
            "serviceaccounts",
            "serviceaccount",
            "ServiceAccount",
            true,
            &["sa"],
        )
        .stored(),
    ),
    (
        Resource::Roles,
        desc(RBAC_GROUP, "roles", "role", "Role", true, &[]).stored(),
    ),
    (
        Resource::RoleBindings,
        desc(
            RBAC_GROUP,
            "rolebindings",
            "rolebinding",
            "RoleBinding",
            true,
            &[],
        )
        .stored(),
    ),
    (
        Resource::ClusterRoles,
        desc(
            RBAC_GROUP,
            "clusterroles",
            "clusterrole",
            "ClusterRole",
            false,
            &[],
        )
        .stored(),
    ),
    (
        Resource::ClusterRoleBindings,
        desc(
            RBAC_GROUP,
            "clusterrolebindings",
            "clusterrolebinding",
            "ClusterRoleBinding",
            false,
            &[],
        )
        .stored(),
    ),
];

impl Resource {
    pub const ALL: [Resource; 30] = {
        let mut all = [Resource::Pods; 30];
        let mut i = 0;
        while i < DESCS.len() {
            all[i] = DESCS[i].0;
            i += 1;
        }
        all
    };

    fn desc(self) -> &'static Desc {
        // DESCS lists the variants in declaration order.
        &DESCS[self as usize].1
    }

    /// `""` for the core group.
    pub fn group(self) -> &'static str {
        self.desc().group
    }

    /// The one version served for the resource's group.
    pub fn version(self) -> &'static str {
        version_of(self.group())
    }

    pub fn api_version(self) -> String {
        match self.group() {
            "" => "v1".to_string(),
            g => format!("{g}/{}", version_of(g)),
        }
    }

    pub fn plural(self) -> &'static str {
        self.desc().plural
    }

    pub fn singular(self) -> &'static str {
        self.desc().singular
    }

    pub fn kind(self) -> &'static str {
        self.desc().kind
    }

    pub fn namespaced(self) -> bool {
        self.desc().namespaced
    }

    fn short_names(self) -> &'static [&'static str] {
        self.desc().short_names
    }

    fn categories(self) -> &'static [&'static str] {
        self.desc().categories
    }

    fn verbs(self) -> &'static [&'static str] {
        if self.namespaced() {
            &[
                "create",
                "delete",
                "deletecollection",
                "get",
                "list",
                "patch",
                "update",
                "watch",
            ]
        } else {
            &[
                "create", "delete", "get", "list", "patch", "update", "watch",
            ]
        }
    }

    /// The key part naming this resource in [`magsim_sim::world::World::stored`]:
    /// `plural.group`, or `plural` for the core group.
    pub fn stored_name(self) -> String {
        match self.group() {
            "" => self.plural().to_string(),
            g => format!("{}.{g}", self.plural()),
        }
    }

    pub fn from_stored(name: &str) -> Option<Resource> {
        Resource::ALL.into_iter().find(|r| r.stored_name() == name)
    }

    /// Kept as clients write them ([`magsim_sim::world::World::stored`]): nothing simulated
    /// reads these kinds.
    pub fn is_stored(self) -> bool {
        self.desc().stored
    }

    /// Cluster API objects a client may update or patch (the parts
    /// [`super::writes`] keeps: bounds, replicas, the delete-machine mark).
    pub fn is_capi_writable(self) -> bool {
        matches!(self, Resource::MachineDeployments | Resource::Machines)
    }

    /// Finds the resource of `group` named `plural` in a URL.
    pub fn from_path(group: &str, plural: &str) -> Option<Resource> {
        Resource::ALL
            .into_iter()
            .find(|r| r.group() == group && r.plural() == plural)
    }

    /// Subresources announced in discovery.
    fn subresources(self) -> Vec<Subresource> {
        const UPDATE: &[&str] = &["get", "patch", "update"];
        let d = self.desc();
        let mut subs = Vec::new();
        if d.status {
            subs.push(Subresource {
                name: "status",
                group: d.group,
                version: self.version(),
                kind: d.kind,
                verbs: UPDATE,
            });
        }
        if d.scale {
            subs.push(Subresource {
                name: "scale",
                group: "autoscaling",
                version: "v1",
                kind: "Scale",
                verbs: UPDATE,
            });
        }
        if self == Resource::Pods {
            // kubectl drain evicts when discovery names policy/v1 Eviction (else it deletes).
            subs.push(Subresource {
                name: "eviction",
                group: "policy",
                version: "v1",
                kind: "Eviction",
                verbs: &["create"],
            });
            subs.push(Subresource {
                name: "log",
                group: "",
                version: "v1",
                kind: "Pod",
                verbs: &["get"],
            });
        }
        subs
    }
}

/// A subresource as discovery announces it.
struct Subresource {
    name: &'static str,
    group: &'static str,
    version: &'static str,
    kind: &'static str,
    verbs: &'static [&'static str],
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
        .map(|s| {
            json!({
                "subresource": s.name,
                "responseKind": {"group": s.group, "version": s.version, "kind": s.kind},
                "verbs": s.verbs,
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

/// The named groups served.
pub fn is_group(group: &str) -> bool {
    GROUPS.contains(&group)
}

/// Legacy `GET /api/v1` or `GET /apis/{group}/{version}`.
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
        for sub in r.subresources() {
            let mut s = json!({
                "name": format!("{}/{}", r.plural(), sub.name),
                "singularName": "",
                "namespaced": r.namespaced(),
                "kind": sub.kind,
                "verbs": sub.verbs,
            });
            if sub.group != group {
                s["group"] = sub.group.into();
                s["version"] = sub.version.into();
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
    fn descriptors_follow_the_enum() {
        for (i, (r, _)) in DESCS.iter().enumerate() {
            assert_eq!(*r as usize, i, "{r:?}");
        }
    }

    #[test]
    fn cluster_api_is_announced_as_its_crd() {
        let apis = aggregated(false);
        let capi = &apis["items"][6];
        assert_eq!(capi["metadata"]["name"], "cluster.x-k8s.io");
        assert_eq!(capi["versions"][0]["version"], "v1beta1");
        let md = &capi["versions"][0]["resources"][1];
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
                "clusters",
                "clusters/status",
                "machinedeployments",
                "machinedeployments/status",
                "machinedeployments/scale",
                "machinesets",
                "machinesets/status",
                "machinesets/scale",
                "machines",
                "machines/status",
            ]
        );
        assert_eq!(
            api_group_list()["groups"][6]["preferredVersion"]["groupVersion"],
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
