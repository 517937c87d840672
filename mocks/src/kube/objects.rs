//! The engine's world as Kubernetes API objects (JSON): Node, Pod, Event, ConfigMap,
//! Namespace, Deployment, ReplicaSet and the `autoscaling/v1` Scale (Cluster API's
//! MachineDeployments are in [`super::capi`]).
//!
//! Rendering is a pure function of the engine: the same world gives the same bytes. Fields the
//! engine does not model get fixed, plausible values (OS image, container runtime) or values
//! derived from names (uids of nodes, deployments and events, IPs from table positions).
//! `metadata.resourceVersion` is left empty here; the [`super::store`] fills it in.

use super::discovery::Resource;
use magsim_sim::engine::Engine;
use magsim_sim::kube::{
    Event, Node, NodeId, Pod, PodId, PodPhase, PodSpec, ScheduledCondition, TaintEffect,
    Toleration, TolerationOp,
};
use magsim_sim::resources::{format_bytes, format_cpu, Resources};
use magsim_sim::time::SimTime;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// Identifies one object: its resource type, namespace (`""` when cluster-scoped) and name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjKey {
    pub resource: Resource,
    pub namespace: String,
    pub name: String,
}

/// OS details the engine does not model: what a Jetstream2 Magnum (CAPI, Ubuntu) node reports.
pub const OS_IMAGE: &str = "Ubuntu 22.04.5 LTS";
pub const KERNEL_VERSION: &str = "5.15.0-126-generic";
pub const CONTAINER_RUNTIME: &str = "containerd://1.7.24";

/// Namespaces that exist in every cluster.
const BUILTIN_NAMESPACES: [&str; 4] = ["default", "kube-node-lease", "kube-public", "kube-system"];

pub use magsim_sim::ids::derived_uid;

/// Virtual time as a Kubernetes timestamp.
pub fn ts(engine: &Engine, t: SimTime) -> String {
    engine.epoch.at(t).rfc3339()
}

fn resources_json(r: &Resources, with_pods: bool) -> Value {
    let mut m = Map::new();
    m.insert("cpu".into(), format_cpu(r.milli_cpu).into());
    if r.ephemeral_storage > 0 {
        m.insert(
            "ephemeral-storage".into(),
            format_bytes(r.ephemeral_storage).into(),
        );
    }
    m.insert("memory".into(), format_bytes(r.memory).into());
    if r.gpus > 0 {
        m.insert("nvidia.com/gpu".into(), r.gpus.to_string().into());
    }
    if with_pods {
        m.insert("pods".into(), r.pods.to_string().into());
    }
    Value::Object(m)
}

fn labels_json(labels: &BTreeMap<String, String>) -> Value {
    Value::Object(
        labels
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect(),
    )
}

/// `10.0.<hi>.<lo>`: node `id`'s InternalIP.
pub fn node_ip(id: NodeId) -> String {
    let n = id.0 as u64 + 10;
    format!("10.0.{}.{}", n / 256, n % 256)
}

/// A running pod's IP, from its position in the pod table.
pub fn pod_ip(id: PodId) -> String {
    let n = id.0 as u64;
    format!("10.100.{}.{}", (n / 250) % 256, n % 250 + 2)
}

pub fn kubelet_version(engine: &Engine) -> String {
    engine
        .world
        .cluster
        .as_ref()
        .map_or_else(|| "v1.30.4".to_string(), |c| c.coe_version.clone())
}

pub fn node_uid(n: &Node) -> String {
    derived_uid(&["node", &n.name, &n.created.0.to_string()])
}

pub fn node_json(engine: &Engine, id: NodeId) -> Value {
    let n = engine.world.node(id);
    let uid = node_uid(n);
    let mut labels: BTreeMap<String, String> = (*n.labels).clone();
    labels
        .entry("kubernetes.io/hostname".into())
        .or_insert_with(|| n.name.to_string());
    labels
        .entry("beta.kubernetes.io/arch".into())
        .or_insert_with(|| "amd64".into());
    labels
        .entry("beta.kubernetes.io/os".into())
        .or_insert_with(|| "linux".into());
    let mut spec = Map::new();
    spec.insert("providerID".into(), format!("openstack:///{uid}").into());
    let taints: Vec<Value> = n
        .effective_taints()
        .iter()
        .map(|t| {
            let mut m = Map::new();
            m.insert("key".into(), t.key.clone().into());
            if !t.value.is_empty() {
                m.insert("value".into(), t.value.clone().into());
            }
            m.insert("effect".into(), t.effect.to_string().into());
            Value::Object(m)
        })
        .collect();
    if !taints.is_empty() {
        spec.insert("taints".into(), Value::Array(taints));
    }
    if n.unschedulable {
        spec.insert("unschedulable".into(), true.into());
    }
    let created = ts(engine, n.created);
    let ready_at = ts(engine, n.created + engine.world.timing.ready_delay);
    let pressure = |t: &str, reason: &str, msg: &str| json!({"type": t, "status": "False", "lastHeartbeatTime": created, "lastTransitionTime": created, "reason": reason, "message": msg});
    let ready = if n.ready {
        json!({"type": "Ready", "status": "True", "lastHeartbeatTime": ready_at, "lastTransitionTime": ready_at, "reason": "KubeletReady", "message": "kubelet is posting ready status"})
    } else {
        json!({"type": "Ready", "status": "False", "lastHeartbeatTime": created, "lastTransitionTime": created, "reason": "KubeletNotReady", "message": "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized"})
    };
    json!({
        "kind": "Node",
        "apiVersion": "v1",
        "metadata": {
            "name": n.name,
            "uid": uid,
            "resourceVersion": "",
            "creationTimestamp": created,
            "labels": labels_json(&labels),
            "annotations": {
                "node.alpha.kubernetes.io/ttl": "0",
                "volumes.kubernetes.io/controller-managed-attach-detach": "true",
            },
        },
        "spec": Value::Object(spec),
        "status": {
            "capacity": resources_json(&n.capacity, true),
            "allocatable": resources_json(&n.allocatable, true),
            "conditions": [
                pressure("MemoryPressure", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
                pressure("DiskPressure", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                pressure("PIDPressure", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
                ready,
            ],
            "addresses": [
                {"type": "InternalIP", "address": node_ip(id)},
                {"type": "Hostname", "address": n.name},
            ],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {
                "machineID": derived_uid(&["machine", &n.name]).replace('-', ""),
                "systemUUID": uid,
                "bootID": derived_uid(&["boot", &n.name]),
                "kernelVersion": KERNEL_VERSION,
                "osImage": OS_IMAGE,
                "containerRuntimeVersion": CONTAINER_RUNTIME,
                "kubeletVersion": kubelet_version(engine),
                "kubeProxyVersion": kubelet_version(engine),
                "operatingSystem": "linux",
                "architecture": "amd64",
            },
        },
    })
}

fn toleration_json(t: &Toleration) -> Value {
    let mut m = Map::new();
    if !t.key.is_empty() {
        m.insert("key".into(), t.key.clone().into());
    }
    m.insert(
        "operator".into(),
        match t.op {
            TolerationOp::Equal => "Equal",
            TolerationOp::Exists => "Exists",
        }
        .into(),
    );
    if !t.value.is_empty() {
        m.insert("value".into(), t.value.clone().into());
    }
    if let Some(e) = t.effect {
        m.insert("effect".into(), e.to_string().into());
    }
    Value::Object(m)
}

fn container_json(spec: &PodSpec) -> Value {
    let name = if spec.container.is_empty() {
        "app"
    } else {
        spec.container.as_str()
    };
    let image = if spec.image.is_empty() {
        "nginx"
    } else {
        spec.image.as_str()
    };
    let mut c = json!({
        "name": name,
        "image": image,
        "resources": {"requests": resources_json(&spec.requests, false)},
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
        "imagePullPolicy": "IfNotPresent",
    });
    if !spec.host_ports.is_empty() {
        c["ports"] = Value::Array(
            spec.host_ports
                .iter()
                .map(|p| json!({"containerPort": p, "hostPort": p, "protocol": "TCP"}))
                .collect(),
        );
    }
    c
}

/// The pod template spec (no node, no defaulted tolerations).
fn pod_spec_json(spec: &PodSpec) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("containers".into(), json!([container_json(spec)]));
    m.insert("restartPolicy".into(), "Always".into());
    m.insert("terminationGracePeriodSeconds".into(), 30.into());
    m.insert("dnsPolicy".into(), "ClusterFirst".into());
    if !spec.node_selector.is_empty() {
        m.insert("nodeSelector".into(), labels_json(&spec.node_selector));
    }
    m.insert("serviceAccountName".into(), "default".into());
    m.insert("serviceAccount".into(), "default".into());
    m.insert("securityContext".into(), json!({}));
    if !spec.affinity.required_terms.is_empty() {
        let terms: Vec<Value> = spec
            .affinity
            .required_terms
            .iter()
            .map(|t| {
                json!({"matchExpressions": t.match_expressions.iter().map(|r| {
                    let mut e = json!({"key": r.key, "operator": format!("{:?}", r.op)});
                    if !r.values.is_empty() {
                        e["values"] = json!(r.values);
                    }
                    e
                }).collect::<Vec<_>>()})
            })
            .collect();
        m.insert(
            "affinity".into(),
            json!({"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": terms}}}),
        );
    }
    m.insert("schedulerName".into(), "default-scheduler".into());
    if !spec.tolerations.is_empty() {
        m.insert(
            "tolerations".into(),
            Value::Array(spec.tolerations.iter().map(toleration_json).collect()),
        );
    }
    m
}

fn owner_api_version(kind: &str) -> &'static str {
    match kind {
        "ReplicaSet" | "DaemonSet" | "StatefulSet" | "Deployment" => "apps/v1",
        "Job" | "CronJob" => "batch/v1",
        _ => "v1",
    }
}

/// The uid of the workload object `kind/name` in `namespace` (derived; ReplicaSets and
/// Deployments are not stored by the engine).
pub fn workload_uid(kind: &str, namespace: &str, name: &str) -> String {
    derived_uid(&[kind, namespace, name])
}

pub fn pod_json(engine: &Engine, id: PodId) -> Value {
    let p: &Pod = engine.world.pod(id);
    let mut meta = Map::new();
    meta.insert("name".into(), p.name.to_string().into());
    if let Some(o) = &p.owner {
        meta.insert("generateName".into(), format!("{}-", o.name).into());
    }
    meta.insert("namespace".into(), p.namespace.to_string().into());
    meta.insert("uid".into(), p.uid.clone().into());
    meta.insert("resourceVersion".into(), "".into());
    meta.insert("creationTimestamp".into(), ts(engine, p.created).into());
    if !p.labels.is_empty() {
        meta.insert("labels".into(), labels_json(&p.labels));
    }
    if let Some(o) = &p.owner {
        meta.insert(
            "ownerReferences".into(),
            json!([{
                "apiVersion": owner_api_version(&o.kind),
                "kind": o.kind,
                "name": o.name,
                "uid": workload_uid(&o.kind, &p.namespace, &o.name),
                "controller": true,
                "blockOwnerDeletion": true,
            }]),
        );
    }
    let mut spec = pod_spec_json(&p.spec);
    let node = p.node.map(|n| (n, engine.world.node(n)));
    if let Some((_, n)) = node {
        spec.insert("nodeName".into(), n.name.to_string().into());
    }
    // DefaultTolerationSeconds admission.
    let mut tolerations: Vec<Value> = p.spec.tolerations.iter().map(toleration_json).collect();
    for key in [
        "node.kubernetes.io/not-ready",
        "node.kubernetes.io/unreachable",
    ] {
        let covered = p.spec.tolerations.iter().any(|t| {
            (t.key == key || t.key.is_empty() && t.op == TolerationOp::Exists)
                && t.effect.is_none_or(|e| e == TaintEffect::NoExecute)
        });
        if !covered {
            tolerations.push(json!({"key": key, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}));
        }
    }
    spec.insert("tolerations".into(), Value::Array(tolerations));
    spec.insert("priority".into(), p.spec.priority.into());
    spec.insert("enableServiceLinks".into(), true.into());
    spec.insert("preemptionPolicy".into(), "PreemptLowerPriority".into());

    let mut status = Map::new();
    status.insert("phase".into(), p.phase.to_string().into());
    let container = container_json(&p.spec);
    match (&p.scheduled, node) {
        (ScheduledCondition::Scheduled { at }, Some((nid, _))) if p.phase == PodPhase::Running => {
            let at = ts(engine, *at);
            let cond = |t: &str| json!({"type": t, "status": "True", "lastProbeTime": null, "lastTransitionTime": at});
            status.insert(
                "conditions".into(),
                json!([
                    cond("PodReadyToStartContainers"),
                    cond("Initialized"),
                    cond("Ready"),
                    cond("ContainersReady"),
                    cond("PodScheduled"),
                ]),
            );
            let host = node_ip(nid);
            let ip = pod_ip(id);
            status.insert("hostIP".into(), host.clone().into());
            status.insert("hostIPs".into(), json!([{"ip": host}]));
            status.insert("podIP".into(), ip.clone().into());
            status.insert("podIPs".into(), json!([{"ip": ip}]));
            status.insert("startTime".into(), at.clone().into());
            let image = container["image"].as_str().unwrap_or_default().to_string();
            status.insert(
                "containerStatuses".into(),
                json!([{
                    "name": container["name"],
                    "state": {"running": {"startedAt": at}},
                    "lastState": {},
                    "ready": true,
                    "restartCount": 0,
                    "image": image,
                    "imageID": format!("{image}@sha256:{}", derived_uid(&["image", &image]).replace('-', "")),
                    "containerID": format!("containerd://{}", derived_uid(&["container", &p.uid]).replace('-', "")),
                    "started": true,
                }]),
            );
        }
        (ScheduledCondition::Unschedulable { since, message }, _) => {
            status.insert(
                "conditions".into(),
                json!([{
                    "type": "PodScheduled",
                    "status": "False",
                    "lastProbeTime": null,
                    "lastTransitionTime": ts(engine, *since),
                    "reason": "Unschedulable",
                    "message": message,
                }]),
            );
        }
        _ => {}
    }
    let r = &p.spec.requests;
    let qos = if r.milli_cpu == 0 && r.memory == 0 && r.gpus == 0 && r.ephemeral_storage == 0 {
        "BestEffort"
    } else {
        "Burstable"
    };
    status.insert("qosClass".into(), qos.into());
    json!({
        "kind": "Pod",
        "apiVersion": "v1",
        "metadata": Value::Object(meta),
        "spec": Value::Object(spec),
        "status": Value::Object(status),
    })
}

/// Live pods per `(namespace, owner name)`: `(all, running)`; built once per rendering so
/// large worlds render in linear time.
#[derive(Default)]
pub struct OwnedPods(std::collections::HashMap<(String, String), (usize, usize)>);

impl OwnedPods {
    pub fn new(engine: &Engine) -> OwnedPods {
        let mut m = std::collections::HashMap::new();
        for (_, p) in engine.world.live_pods() {
            if let Some(o) = &p.owner {
                let e: &mut (usize, usize) = m
                    .entry((p.namespace.to_string(), o.name.clone()))
                    .or_default();
                e.0 += 1;
                if p.phase == PodPhase::Running {
                    e.1 += 1;
                }
            }
        }
        OwnedPods(m)
    }

    fn get(&self, namespace: &str, owner: &str) -> (usize, usize) {
        self.0
            .get(&(namespace.to_string(), owner.to_string()))
            .copied()
            .unwrap_or_default()
    }
}

fn insert_nonzero(m: &mut Map<String, Value>, key: &str, v: usize) {
    if v > 0 {
        m.insert(key.into(), v.into());
    }
}

pub fn deployment_json(
    engine: &Engine,
    d: &magsim_sim::kube::Deployment,
    owned: &OwnedPods,
) -> Value {
    let (current, ready) = owned.get(&d.namespace, &d.replica_set_name());
    let created = ts(engine, SimTime::ZERO);
    let mut status = Map::new();
    status.insert("observedGeneration".into(), 1.into());
    insert_nonzero(&mut status, "replicas", current);
    insert_nonzero(&mut status, "updatedReplicas", current);
    insert_nonzero(&mut status, "readyReplicas", ready);
    insert_nonzero(&mut status, "availableReplicas", ready);
    insert_nonzero(
        &mut status,
        "unavailableReplicas",
        current.saturating_sub(ready),
    );
    let available = ready >= d.replicas as usize;
    status.insert(
        "conditions".into(),
        json!([
            if available {
                json!({"type": "Available", "status": "True", "lastUpdateTime": created, "lastTransitionTime": created, "reason": "MinimumReplicasAvailable", "message": "Deployment has minimum availability."})
            } else {
                json!({"type": "Available", "status": "False", "lastUpdateTime": created, "lastTransitionTime": created, "reason": "MinimumReplicasUnavailable", "message": "Deployment does not have minimum availability."})
            },
            {"type": "Progressing", "status": "True", "lastUpdateTime": created, "lastTransitionTime": created, "reason": "NewReplicaSetAvailable", "message": format!("ReplicaSet \"{}\" has successfully progressed.", d.replica_set_name())},
        ]),
    );
    json!({
        "kind": "Deployment",
        "apiVersion": "apps/v1",
        "metadata": {
            "name": d.name,
            "namespace": d.namespace,
            "uid": workload_uid("Deployment", &d.namespace, &d.name),
            "resourceVersion": "",
            "generation": 1,
            "creationTimestamp": created,
            "labels": labels_json(&d.labels),
            "annotations": {"deployment.kubernetes.io/revision": "1"},
        },
        "spec": {
            "replicas": d.replicas,
            "selector": {"matchLabels": labels_json(&d.labels)},
            "template": {
                "metadata": {"creationTimestamp": null, "labels": labels_json(&d.labels)},
                "spec": Value::Object(pod_spec_json(&d.spec)),
            },
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}},
            "revisionHistoryLimit": 10,
            "progressDeadlineSeconds": 600,
        },
        "status": Value::Object(status),
    })
}

pub fn replica_set_json(
    engine: &Engine,
    d: &magsim_sim::kube::Deployment,
    owned: &OwnedPods,
) -> Value {
    let name = d.replica_set_name();
    let (current, ready) = owned.get(&d.namespace, &name);
    let mut labels = d.labels.clone();
    labels.insert("pod-template-hash".into(), d.template_hash.clone());
    let mut status = Map::new();
    status.insert("replicas".into(), current.into());
    insert_nonzero(&mut status, "fullyLabeledReplicas", current);
    insert_nonzero(&mut status, "readyReplicas", ready);
    insert_nonzero(&mut status, "availableReplicas", ready);
    status.insert("observedGeneration".into(), 1.into());
    json!({
        "kind": "ReplicaSet",
        "apiVersion": "apps/v1",
        "metadata": {
            "name": name,
            "namespace": d.namespace,
            "uid": workload_uid("ReplicaSet", &d.namespace, &name),
            "resourceVersion": "",
            "generation": 1,
            "creationTimestamp": ts(engine, SimTime::ZERO),
            "labels": labels_json(&labels),
            "annotations": {
                "deployment.kubernetes.io/desired-replicas": d.replicas.to_string(),
                "deployment.kubernetes.io/max-replicas": (d.replicas + d.replicas.div_ceil(4)).to_string(),
                "deployment.kubernetes.io/revision": "1",
            },
            "ownerReferences": [{
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "name": d.name,
                "uid": workload_uid("Deployment", &d.namespace, &d.name),
                "controller": true,
                "blockOwnerDeletion": true,
            }],
        },
        "spec": {
            "replicas": d.replicas,
            "selector": {"matchLabels": labels_json(&labels)},
            "template": {
                "metadata": {"creationTimestamp": null, "labels": labels_json(&labels)},
                "spec": Value::Object(pod_spec_json(&d.spec)),
            },
        },
        "status": Value::Object(status),
    })
}

/// `autoscaling/v1` Scale of a deployment or MachineDeployment (what `kubectl scale` and the
/// clusterapi provider read and write). The selector is the object's `status.selector` (the
/// CRD's `selectorpath`), else its `spec.selector.matchLabels`.
pub fn scale_json(deployment: &Value) -> Value {
    let meta = &deployment["metadata"];
    let selector: Vec<String> = match deployment["status"]["selector"].as_str() {
        Some(s) => vec![s.to_string()],
        None => deployment["spec"]["selector"]["matchLabels"]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                    .collect()
            })
            .unwrap_or_default(),
    };
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": meta["name"],
            "namespace": meta["namespace"],
            "uid": meta["uid"],
            "resourceVersion": meta["resourceVersion"],
            "creationTimestamp": meta["creationTimestamp"],
        },
        "spec": {"replicas": deployment["spec"]["replicas"]},
        "status": {
            "replicas": deployment["status"].get("replicas").cloned().unwrap_or(0.into()),
            "selector": selector.join(","),
        },
    })
}

/// The uid an event's involved object has: the (latest) pod's or node's own uid, else one
/// derived from its kind and name.
pub struct Uids<'a> {
    pods: std::collections::HashMap<(&'a str, &'a str), &'a str>,
    nodes: std::collections::HashMap<&'a str, String>,
    /// The in-cluster autoscalers' pods (not in the world's pod table).
    autoscaler_pods: std::collections::HashMap<(String, String), String>,
}

impl<'a> Uids<'a> {
    pub fn new(engine: &'a Engine) -> Uids<'a> {
        Uids {
            pods: engine
                .world
                .pods()
                .iter()
                .map(|p| ((&*p.namespace, &*p.name), p.uid.as_str()))
                .collect(),
            nodes: engine
                .world
                .nodes
                .iter()
                .map(|n| (&*n.name, node_uid(n)))
                .collect(),
            autoscaler_pods: engine
                .autoscaler_pods()
                .map(|(_, p)| ((p.namespace, p.name), p.uid))
                .collect(),
        }
    }

    pub fn of(&self, e: &Event) -> String {
        let o = &e.object;
        let found = match o.kind {
            "Pod" => self
                .pods
                .get(&(&*o.namespace, &*o.name))
                .map(|u| u.to_string())
                .or_else(|| {
                    self.autoscaler_pods
                        .get(&(o.namespace.to_string(), o.name.to_string()))
                        .cloned()
                }),
            "Node" => self.nodes.get(&*o.name).cloned(),
            _ => None,
        };
        found.unwrap_or_else(|| workload_uid(o.kind, &o.namespace, &o.name))
    }
}

/// The namespace an event is stored in: its object's, or `default` for cluster-scoped ones.
pub fn event_namespace(e: &Event) -> &str {
    if e.object.namespace.is_empty() {
        "default"
    } else {
        &e.object.namespace
    }
}

/// An event's name as client-go's recorder makes it: `<object>.<hex nanoseconds of
/// first_seen>`, moved to the next nanosecond while `taken` says the name is in use.
pub fn event_name(engine: &Engine, e: &Event, taken: impl Fn(&str) -> bool) -> String {
    let mut nanos = engine.epoch.at(e.first_seen).unix_millis as u128 * 1_000_000;
    loop {
        let name = format!("{}.{nanos:x}", e.object.name);
        if !taken(&name) {
            return name;
        }
        nanos += 1;
    }
}

/// One event as the API server stores it, under `namespace`/`name`.
pub fn event_json(engine: &Engine, e: &Event, uids: &Uids, namespace: &str, name: &str) -> Value {
    let api_version = owner_api_version(e.object.kind);
    let mut involved = Map::new();
    involved.insert("kind".into(), e.object.kind.into());
    if !e.object.namespace.is_empty() {
        involved.insert("namespace".into(), e.object.namespace.to_string().into());
    }
    involved.insert("name".into(), e.object.name.to_string().into());
    involved.insert("uid".into(), uids.of(e).into());
    involved.insert("apiVersion".into(), api_version.into());
    let first = ts(engine, e.first_seen);
    json!({
        "kind": "Event",
        "apiVersion": "v1",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": derived_uid(&["event", namespace, name]),
            "resourceVersion": "",
            "creationTimestamp": first,
        },
        "involvedObject": Value::Object(involved),
        "reason": e.reason,
        "message": e.message,
        "source": {"component": e.source},
        "firstTimestamp": first,
        "lastTimestamp": ts(engine, e.last_seen),
        "count": e.count,
        "type": e.event_type.to_string(),
        "eventTime": null,
        "reportingComponent": e.source,
        "reportingInstance": "",
    })
}

pub fn configmap_json(
    engine: &Engine,
    namespace: &str,
    name: &str,
    data: &BTreeMap<String, String>,
) -> Value {
    json!({
        "kind": "ConfigMap",
        "apiVersion": "v1",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": workload_uid("ConfigMap", namespace, name),
            "resourceVersion": "",
            "creationTimestamp": ts(engine, SimTime::ZERO),
        },
        "data": labels_json(data),
    })
}

pub fn namespace_json(engine: &Engine, name: &str) -> Value {
    json!({
        "kind": "Namespace",
        "apiVersion": "v1",
        "metadata": {
            "name": name,
            "uid": workload_uid("Namespace", "", name),
            "resourceVersion": "",
            "creationTimestamp": ts(engine, SimTime::ZERO),
            "labels": {"kubernetes.io/metadata.name": name},
        },
        "spec": {"finalizers": ["kubernetes"]},
        "status": {"phase": "Active"},
    })
}

/// Every object but pods and events (the store renders those one by one, as they change),
/// with the namespaces every object lives in.
pub fn render_cluster(engine: &Engine) -> Vec<(ObjKey, Value)> {
    let w = &engine.world;
    let mut out = Vec::new();
    let key = |resource, namespace: &str, name: &str| ObjKey {
        resource,
        namespace: namespace.to_string(),
        name: name.to_string(),
    };
    let mut namespaces: BTreeSet<&str> = BUILTIN_NAMESPACES.iter().copied().collect();
    for (id, n) in w.live_nodes() {
        out.push((key(Resource::Nodes, "", &n.name), node_json(engine, id)));
    }
    // From the world's indexes: visiting every pod and event here would make each write
    // O(world).
    namespaces.extend(w.pod_namespaces());
    namespaces.extend(
        w.events
            .namespaces()
            .map(|ns| if ns.is_empty() { "default" } else { ns }),
    );
    let owned = OwnedPods::new(engine);
    for d in &w.deployments {
        namespaces.insert(&d.namespace);
        let mut obj = deployment_json(engine, d, &owned);
        super::metadata::lay_over(
            engine,
            Resource::Deployments,
            &d.namespace,
            &d.name,
            &mut obj,
        );
        out.push((key(Resource::Deployments, &d.namespace, &d.name), obj));
        out.push((
            key(Resource::ReplicaSets, &d.namespace, &d.replica_set_name()),
            replica_set_json(engine, d, &owned),
        ));
    }
    for (ns, _) in w.configmaps.keys() {
        namespaces.insert(ns);
    }
    for s in &w.secrets {
        namespaces.insert(&s.namespace);
    }
    let capi = super::capi::render(engine);
    for (_, ns, _, _) in &capi {
        namespaces.insert(ns);
    }
    let created = Resource::Namespaces.stored_name();
    for (resource, ns, name) in w.stored.keys() {
        if *resource == created {
            namespaces.insert(name);
        } else if Resource::from_stored(resource).is_some() && !ns.is_empty() {
            namespaces.insert(ns);
        }
    }
    let mut namespaces: Vec<(ObjKey, Value)> = namespaces
        .into_iter()
        .map(|ns| {
            // One a client created is kept as written; the implicit ones are rendered.
            let obj = w
                .stored
                .get(&(created.clone(), String::new(), ns.to_string()))
                .cloned()
                .unwrap_or_else(|| namespace_json(engine, ns));
            (key(Resource::Namespaces, "", ns), obj)
        })
        .collect();
    for (resource, ns, name, obj) in capi {
        out.push((key(resource, &ns, &name), obj));
    }
    out.extend(super::kubelet::declared_deployments(engine));
    out.extend(super::kubelet::replica_sets(engine));
    super::managed::lay_over(engine, &mut out);
    super::managed::lay_over(engine, &mut namespaces);
    out.extend(render_written(engine));
    out.extend(namespaces);
    out
}

/// The kinds that change only by a client's write: ConfigMaps, Secrets and the kinds kept as
/// written.
pub fn render_written(engine: &Engine) -> Vec<(ObjKey, Value)> {
    let w = &engine.world;
    let key = |resource, namespace: &str, name: &str| ObjKey {
        resource,
        namespace: namespace.to_string(),
        name: name.to_string(),
    };
    let mut out = Vec::new();
    for ((ns, name), data) in &w.configmaps {
        let mut obj = configmap_json(engine, ns, name, &data.data());
        super::metadata::lay_over(engine, Resource::ConfigMaps, ns, name, &mut obj);
        out.push((key(Resource::ConfigMaps, ns, name), obj));
    }
    for s in &w.secrets {
        let mut obj = super::secrets::secret_json(engine, s);
        super::metadata::lay_over(engine, Resource::Secrets, &s.namespace, &s.name, &mut obj);
        out.push((key(Resource::Secrets, &s.namespace, &s.name), obj));
    }
    for ((resource, ns, name), obj) in &w.stored {
        // Namespaces are rendered with the cluster's kinds.
        if let Some(r) = Resource::from_stored(resource).filter(|r| *r != Resource::Namespaces) {
            let mut obj = obj.clone();
            if r == Resource::Deployments {
                // An in-cluster autoscaler's Deployment, as its controller keeps it.
                if let Some(status) = super::kubelet::deployment_status(engine, ns, name, &obj) {
                    if obj["metadata"]["generation"].is_null() {
                        obj["metadata"]["generation"] = 1.into();
                    }
                    obj["status"] = status;
                }
            }
            out.push((key(r, ns, name), obj));
        }
    }
    super::managed::lay_over(engine, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ips_follow_table_positions() {
        assert_eq!(node_ip(NodeId(0)), "10.0.0.10");
        assert_eq!(node_ip(NodeId(250)), "10.0.1.4");
        assert_eq!(pod_ip(PodId(3)), "10.100.0.5");
    }
}
