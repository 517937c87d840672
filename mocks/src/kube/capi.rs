//! Cluster API objects as the management cluster serves them: the engine's
//! MachineDeployments (`cluster.x-k8s.io/v1beta1`), with the autoscaler annotations exactly as
//! magnum-capi-helm renders them (what the clusterapi provider reads), and their status
//! counted from the nodegroup's servers.

use super::objects::{kubelet_version, ts, workload_uid};
use magsim_sim::cloud::capi::MachineDeployment;
use magsim_sim::engine::Engine;
use magsim_sim::time::SimTime;
use serde_json::{json, Map, Value};

/// Labels Cluster API's webhooks default onto a MachineDeployment, its selector and template.
pub const CLUSTER_NAME_LABEL: &str = "cluster.x-k8s.io/cluster-name";
pub const DEPLOYMENT_NAME_LABEL: &str = "cluster.x-k8s.io/deployment-name";

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
    meta.insert(
        "uid".into(),
        workload_uid("MachineDeployment", &md.namespace, &md.name).into(),
    );
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
