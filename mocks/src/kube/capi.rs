//! Cluster API objects as the management cluster serves them (`cluster.x-k8s.io/v1beta1`):
//! the engine's MachineDeployments, with the autoscaler annotations exactly as
//! magnum-capi-helm renders them (what the clusterapi provider reads), and their status
//! counted from the nodegroup's servers; below each, one MachineSet and one Machine per
//! server, linked by owner references, with `spec.providerID` and `status.nodeRef` once the
//! server's node registered (how the provider maps Nodes to node groups); and the Cluster.

use super::discovery::Resource;
use super::objects::{derived_uid, kubelet_version, node_uid, ts, workload_uid};
use magsim_sim::cloud::capi::MachineDeployment;
use magsim_sim::engine::Engine;
use magsim_sim::time::SimTime;
use magsim_sim::world::Machine;
use serde_json::{json, Map, Value};

/// Labels Cluster API's webhooks default onto a MachineDeployment, its selector and template.
pub const CLUSTER_NAME_LABEL: &str = "cluster.x-k8s.io/cluster-name";
pub const DEPLOYMENT_NAME_LABEL: &str = "cluster.x-k8s.io/deployment-name";
pub const SET_NAME_LABEL: &str = "cluster.x-k8s.io/set-name";
/// What the clusterapi provider sets on a Machine before scaling its deployment down.
pub const DELETE_MACHINE_ANNOTATION: &str = "cluster.x-k8s.io/delete-machine";
const API_VERSION: &str = "cluster.x-k8s.io/v1beta1";

/// The Cluster API cluster: `capi::render` names deployments `<stack_id>-<nodegroup>`, and the
/// stack id is the cluster name (`--node-group-auto-discovery=...,clusterName=<stack_id>`).
pub fn cluster_name(md: &MachineDeployment) -> &str {
    md.name
        .strip_suffix(md.nodegroup.as_str())
        .and_then(|s| s.strip_suffix('-'))
        .unwrap_or(&md.name)
}

fn string_map<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Value {
    Value::Object(
        pairs
            .into_iter()
            .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
            .collect(),
    )
}

/// `(servers, servers whose node is Ready)` of the deployment's nodegroup.
fn machine_counts(engine: &Engine, md: &MachineDeployment) -> (u32, u32) {
    let w = &engine.world;
    let mine = w.machines.iter().filter(|m| m.nodegroup == md.nodegroup);
    let (mut all, mut ready) = (0, 0);
    for m in mine {
        all += 1;
        if m.node.is_some_and(|id| {
            let n = w.node(id);
            n.ready && !n.deleted
        }) {
            ready += 1;
        }
    }
    (all, ready)
}

/// Cluster API's `MachineDeploymentPhase` from desired, current and ready counts.
fn phase(desired: u32, current: u32, ready: u32) -> &'static str {
    if current > desired {
        "ScalingDown"
    } else if desired > ready {
        "ScalingUp"
    } else {
        "Running"
    }
}

pub fn machine_deployment_json(engine: &Engine, md: &MachineDeployment) -> Value {
    let cluster = cluster_name(md);
    let labels = string_map([
        (CLUSTER_NAME_LABEL, cluster),
        (DEPLOYMENT_NAME_LABEL, md.name.as_str()),
    ]);
    let selector = format!(
        "{CLUSTER_NAME_LABEL}={cluster},{DEPLOYMENT_NAME_LABEL}={}",
        md.name
    );
    let (current, ready) = machine_counts(engine, md);
    let mut meta = Map::new();
    meta.insert("name".into(), md.name.clone().into());
    meta.insert("namespace".into(), md.namespace.clone().into());
    meta.insert("uid".into(), md_uid(md).into());
    meta.insert("resourceVersion".into(), "".into());
    meta.insert("generation".into(), 1.into());
    meta.insert("creationTimestamp".into(), ts(engine, SimTime::ZERO).into());
    meta.insert("labels".into(), string_map([(CLUSTER_NAME_LABEL, cluster)]));
    if !md.annotations.is_empty() {
        meta.insert(
            "annotations".into(),
            string_map(md.annotations.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
        );
    }
    json!({
        "kind": "MachineDeployment",
        "apiVersion": "cluster.x-k8s.io/v1beta1",
        "metadata": Value::Object(meta),
        "spec": {
            "clusterName": cluster,
            "replicas": md.replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"clusterName": cluster, "version": kubelet_version(engine)},
            },
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
            "minReadySeconds": 0,
            "revisionHistoryLimit": 1,
            "progressDeadlineSeconds": 600,
        },
        "status": {
            "selector": selector,
            "replicas": current,
            "updatedReplicas": current,
            "readyReplicas": ready,
            "availableReplicas": ready,
            "unavailableReplicas": md.replicas.saturating_sub(ready),
            "phase": phase(md.replicas, current, ready),
            "observedGeneration": 1,
        },
    })
}

/// The deployment's MachineSet: `<deployment>-<hash>`, the hash its machine names carry.
pub fn machine_set_name(engine: &Engine, md: &MachineDeployment) -> String {
    match engine.machine_set_hash(&md.nodegroup) {
        Some(hash) => format!("{}-{hash}", md.name),
        // No machine was ever named: a stable stand-in until one is.
        None => format!(
            "{}-{}",
            md.name,
            &derived_uid(&["machineset", &md.name])[..5]
        ),
    }
}

fn owner(kind: &str, name: &str, uid: String) -> Value {
    json!([{"apiVersion": API_VERSION, "kind": kind, "name": name, "uid": uid,
            "controller": true, "blockOwnerDeletion": true}])
}

fn md_uid(md: &MachineDeployment) -> String {
    workload_uid("MachineDeployment", &md.namespace, &md.name)
}

/// The Cluster every deployment of one cluster name belongs to.
pub fn cluster_json(engine: &Engine, namespace: &str, name: &str) -> Value {
    // What Magnum shows as the cluster's api_address.
    let host = "192.0.2.10";
    json!({
        "kind": "Cluster",
        "apiVersion": API_VERSION,
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": workload_uid("Cluster", namespace, name),
            "resourceVersion": "",
            "generation": 1,
            "creationTimestamp": ts(engine, SimTime::ZERO),
            "labels": string_map([(CLUSTER_NAME_LABEL, name)]),
        },
        "spec": {
            "controlPlaneEndpoint": {"host": host, "port": 6443},
            "infrastructureRef": {"apiVersion": "infrastructure.cluster.x-k8s.io/v1beta1",
                                   "kind": "OpenStackCluster", "name": name, "namespace": namespace},
        },
        "status": {
            "phase": "Provisioned",
            "infrastructureReady": true,
            "controlPlaneReady": true,
            "observedGeneration": 1,
        },
    })
}

fn machines_of<'a>(
    engine: &'a Engine,
    md: &'a MachineDeployment,
) -> impl Iterator<Item = &'a Machine> {
    engine
        .world
        .machines
        .iter()
        .filter(move |m| m.nodegroup == md.nodegroup)
}

pub fn machine_set_json(engine: &Engine, md: &MachineDeployment) -> Value {
    let cluster = cluster_name(md);
    let name = machine_set_name(engine, md);
    let labels = string_map([
        (CLUSTER_NAME_LABEL, cluster),
        (DEPLOYMENT_NAME_LABEL, md.name.as_str()),
    ]);
    let (current, ready) = machine_counts(engine, md);
    json!({
        "kind": "MachineSet",
        "apiVersion": API_VERSION,
        "metadata": {
            "name": name,
            "namespace": md.namespace,
            "uid": workload_uid("MachineSet", &md.namespace, &name),
            "resourceVersion": "",
            "generation": 1,
            "creationTimestamp": ts(engine, SimTime::ZERO),
            "labels": labels,
            "ownerReferences": owner("MachineDeployment", &md.name, md_uid(md)),
        },
        "spec": {
            "clusterName": cluster,
            "replicas": md.replicas,
            "deletePolicy": "Random",
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"clusterName": cluster, "version": kubelet_version(engine)},
            },
        },
        "status": {
            "selector": format!("{CLUSTER_NAME_LABEL}={cluster},{DEPLOYMENT_NAME_LABEL}={}", md.name),
            "replicas": current,
            "fullyLabeledReplicas": current,
            "readyReplicas": ready,
            "availableReplicas": ready,
            "observedGeneration": 1,
        },
    })
}

/// One server of the deployment as its Machine: `Provisioning` until its node registers,
/// then `Running` with the node's provider id and a `nodeRef`.
pub fn machine_json(engine: &Engine, md: &MachineDeployment, m: &Machine) -> Value {
    let cluster = cluster_name(md);
    let set = machine_set_name(engine, md);
    let w = &engine.world;
    let node = m.node.map(|id| w.node(id)).filter(|n| !n.deleted);
    let mut spec = json!({
        "clusterName": cluster,
        "version": kubelet_version(engine),
        "bootstrap": {"dataSecretName": m.name},
        "infrastructureRef": {"apiVersion": "infrastructure.cluster.x-k8s.io/v1beta1",
                               "kind": "OpenStackMachine", "name": m.name, "namespace": md.namespace},
    });
    let mut status = json!({
        "phase": "Provisioning",
        "bootstrapReady": true,
        "infrastructureReady": false,
        "observedGeneration": 1,
    });
    if let Some(n) = node {
        let uid = node_uid(n);
        spec["providerID"] = format!("openstack:///{uid}").into();
        status["phase"] = "Running".into();
        status["infrastructureReady"] = true.into();
        status["nodeRef"] =
            json!({"apiVersion": "v1", "kind": "Node", "name": n.name.as_ref(), "uid": uid});
    }
    json!({
        "kind": "Machine",
        "apiVersion": API_VERSION,
        "metadata": {
            "name": m.name,
            "namespace": md.namespace,
            "uid": workload_uid("Machine", &md.namespace, &m.name),
            "resourceVersion": "",
            "generation": 1,
            "creationTimestamp": ts(engine, m.created),
            "labels": string_map([
                (CLUSTER_NAME_LABEL, cluster),
                (DEPLOYMENT_NAME_LABEL, md.name.as_str()),
                (SET_NAME_LABEL, set.as_str()),
            ]),
            "ownerReferences": owner("MachineSet", &set, workload_uid("MachineSet", &md.namespace, &set)),
            "annotations": match &m.delete_mark {
                Some(v) => string_map([(DELETE_MACHINE_ANNOTATION, v.as_str())]),
                None => json!({}),
            },
        },
        "spec": spec,
        "status": status,
    })
}

/// Every Cluster API object of the world: `(resource, namespace, name, object)`.
pub fn render(engine: &Engine) -> Vec<(Resource, String, String, Value)> {
    let mut out = Vec::new();
    let mut clusters = std::collections::BTreeSet::new();
    for md in &engine.world.machine_deployments {
        let ns = md.namespace.clone();
        if clusters.insert((ns.clone(), cluster_name(md).to_string())) {
            let name = cluster_name(md).to_string();
            out.push((
                Resource::Clusters,
                ns.clone(),
                name.clone(),
                cluster_json(engine, &ns, &name),
            ));
        }
        out.push((
            Resource::MachineDeployments,
            ns.clone(),
            md.name.clone(),
            machine_deployment_json(engine, md),
        ));
        out.push((
            Resource::MachineSets,
            ns.clone(),
            machine_set_name(engine, md),
            machine_set_json(engine, md),
        ));
        for m in machines_of(engine, md) {
            if m.node.is_some_and(|id| engine.world.node(id).deleted) {
                continue;
            }
            out.push((
                Resource::Machines,
                ns.clone(),
                m.name.clone(),
                machine_json(engine, md, m),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cluster_is_the_name_without_the_nodegroup() {
        let md = MachineDeployment {
            name: "k8s-wamiv264xiet-default-worker".into(),
            namespace: "magnum-x".into(),
            nodegroup: "default-worker".into(),
            replicas: 5,
            annotations: Default::default(),
            autoscaled_at: None,
        };
        assert_eq!(cluster_name(&md), "k8s-wamiv264xiet");
    }

    #[test]
    fn phases_follow_cluster_api() {
        assert_eq!(phase(5, 5, 5), "Running");
        assert_eq!(phase(6, 6, 5), "ScalingUp");
        assert_eq!(phase(6, 5, 5), "ScalingUp");
        assert_eq!(phase(4, 5, 5), "ScalingDown");
    }
}
