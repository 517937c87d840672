//! The simulated world: the workload cluster's objects and the cloud behind them.

use crate::cloud::{Cluster, MachineDeployment};
use crate::flavor::Flavor;
use crate::fxhash::FxBuild;
use crate::kube::{
    Deployment, EventLog, Labels, Node, NodeId, Pod, PodId, PodPhase, ScheduledCondition, Taint,
};
use crate::resources::Resources;
use crate::scheduler::{SnapNode, Snapshot};
use crate::time::{SimDuration, SimTime};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

/// A Nova server behind a node: created by a resize, registered as a node after the boot delay.
#[derive(Clone, Debug)]
pub struct Machine {
    pub name: String,
    pub nodegroup: String,
    pub created: SimTime,
    pub node: Option<NodeId>,
    /// Set by a fault: the server never becomes a node.
    pub never_ready: bool,
    /// Heat driver: its member index in the nodegroup's `kube_minions` ResourceGroup (the
    /// `<i>` of `...-node-<i>`); 0 under Cluster API.
    pub index: u32,
    /// Cluster API: the value of its `cluster.x-k8s.io/delete-machine` annotation (the
    /// clusterapi provider's mark before it scales down); marked machines go first.
    pub delete_mark: Option<String>,
}

/// Per-nodegroup node shape beyond the flavor: extra labels and taints given to its nodes.
#[derive(Clone, Debug, Default)]
pub struct NodeTemplateExtras {
    pub labels: Labels,
    pub taints: Vec<Taint>,
}

/// Timing of the cloud's infrastructure.
#[derive(Clone, Copy, Debug)]
pub struct CloudTiming {
    /// Server create until the kubelet registers the node.
    pub boot_delay: SimDuration,
    /// Registration until the node is Ready.
    pub ready_delay: SimDuration,
}

impl Default for CloudTiming {
    fn default() -> Self {
        CloudTiming {
            boot_delay: SimDuration::from_secs(180),
            ready_delay: SimDuration::from_secs(20),
        }
    }
}

/// A ConfigMap's `data`. The autoscaler's status is kept as the structure and rendered when
/// read: it is rewritten every loop but read rarely.
#[derive(Clone, Debug, PartialEq)]
pub enum ConfigMapData {
    Plain(BTreeMap<String, String>),
    AutoscalerStatus {
        status: Box<crate::autoscaler::status::AutoscalerStatus>,
        /// 1.30's YAML, else the legacy text.
        yaml: bool,
    },
}

impl ConfigMapData {
    pub fn data(&self) -> BTreeMap<String, String> {
        match self {
            ConfigMapData::Plain(d) => d.clone(),
            ConfigMapData::AutoscalerStatus { status, yaml } => {
                let text = if *yaml {
                    status.to_yaml()
                } else {
                    status.to_legacy_text()
                };
                [("status".to_string(), text)].into_iter().collect()
            }
        }
    }
}

/// A Secret's data, for mounting cloud-configs into an autoscaler pod.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Secret {
    pub namespace: String,
    pub name: String,
    pub data: BTreeMap<String, String>,
}

/// What the pods bound to one node take from it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct NodeUsage {
    requested: Resources,
    /// One entry per bound pod's port (a multiset: only membership is ever asked).
    host_ports: Vec<u16>,
}

#[derive(Clone, Debug, Default)]
pub struct World {
    pub nodes: Vec<Node>,
    /// Private so that every bind and delete goes through the methods that keep `usage` and
    /// `unbound` in step.
    pods: Vec<Pod>,
    /// Per pod, the [`World::revision`] of its last change: readers that render pods (the
    /// Kubernetes mock) re-render only those whose revision moved.
    pod_revs: Vec<u64>,
    /// Bumped by every pod change.
    revision: u64,
    /// Per node (by `NodeId`), the requests of its live bound pods: a snapshot copies these
    /// totals instead of summing every running pod each loop.
    usage: Vec<NodeUsage>,
    /// Live pods without a node, so pending pods are found without a walk over running ones.
    unbound: BTreeSet<PodId>,
    /// Scheduling classes by (labels without the hostname, configured taints).
    classes: BTreeMap<(Labels, Vec<crate::kube::Taint>), u32>,
    /// Live pods by namespace and name (a count: a file may pin one name twice), so a
    /// generated name is checked against them in O(1). Only looked up, but for its keys: the
    /// namespaces pods were ever added in ([`World::pod_namespaces`]).
    pod_names: HashMap<Arc<str>, HashMap<Arc<str>, u32, FxBuild>, FxBuild>,
    /// Names of the machines in [`World::machines`] added through [`World::push_machine`].
    machine_names: HashSet<String, FxBuild>,
    pub deployments: Vec<Deployment>,
    pub secrets: Vec<Secret>,
    /// ConfigMap data by `(namespace, name)`; the autoscaler writes its status here.
    pub configmaps: BTreeMap<(String, String), ConfigMapData>,
    /// Parsed `priorities` of `cluster-autoscaler-priority-expander`, when present.
    pub priority_expander: Option<crate::autoscaler::expander::Priorities>,
    pub events: EventLog,
    pub cluster: Option<Cluster>,
    pub machine_deployments: Vec<MachineDeployment>,
    /// Per nodegroup: annotations an operator set on its MachineDeployment before the start
    /// (kept over what the driver renders at creation).
    pub operator_annotations: BTreeMap<String, BTreeMap<String, String>>,
    pub machines: Vec<Machine>,
    pub flavors: BTreeMap<String, Flavor>,
    pub node_extras: BTreeMap<String, NodeTemplateExtras>,
    pub timing: CloudTiming,
    /// Nodegroups whose new servers never become nodes (a fault: quota, broken image).
    pub never_ready: std::collections::BTreeSet<String>,
    /// Nodegroups whose nodes register but never become Ready (a fault: a broken CNI).
    pub not_ready: std::collections::BTreeSet<String>,
    /// Faults on the cloud's APIs, asked by every caller before a request is answered.
    pub faults: crate::cloud::faults::Faults,
    /// Node groups of upstream's test cloud provider (scenarios that mirror its unit tests).
    pub test_groups: Vec<crate::autoscaler::TestGroup>,
    /// Upstream's unit-test set-up: no kube-scheduler, one direct `ScaleUp` at time zero.
    pub harness: Option<crate::autoscaler::Harness>,
    /// API objects clients keep that nothing simulated reads (leader-election Leases): kept
    /// as written, so the API answers what it was told.
    pub stored: BTreeMap<StoredKey, serde_json::Value>,
    /// Heat driver: per nodegroup, the member indices a resize's `nodes_to_remove` took out;
    /// Heat never reuses them (a ResourceGroup's removal-policy blacklist).
    pub heat_removed: BTreeMap<String, std::collections::BTreeSet<u32>>,
}

/// A [`World::stored`] object: `(resource plural with its group, e.g. "leases.coordination.k8s.io",
/// namespace or "", name)`.
pub type StoredKey = (String, String, String);

impl World {
    pub fn machine_deployment_mut(
        &mut self,
        namespace: &str,
        name: &str,
    ) -> Option<&mut MachineDeployment> {
        self.machine_deployments
            .iter_mut()
            .find(|m| m.name == name && m.namespace == namespace)
    }

    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id.0 as usize]
    }

    pub fn pod(&self, id: PodId) -> &Pod {
        &self.pods[id.0 as usize]
    }

    /// When `id` last changed (added, bound, marked unschedulable or deleted), on a counter
    /// that only grows: equal revisions mean an unchanged pod.
    pub fn pod_rev(&self, id: PodId) -> u64 {
        self.pod_revs[id.0 as usize]
    }

    /// The counter [`World::pod_rev`] reads: it moves whenever any pod changes.
    pub fn revision(&self) -> u64 {
        self.revision
    }

    fn touch(&mut self, id: PodId) {
        self.revision += 1;
        let i = id.0 as usize;
        if self.pod_revs.len() <= i {
            self.pod_revs.resize(i + 1, 0);
        }
        self.pod_revs[i] = self.revision;
    }

    pub fn live_nodes(&self) -> impl Iterator<Item = (NodeId, &Node)> {
        self.nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| !n.deleted)
            .map(|(i, n)| (NodeId(i as u32), n))
    }

    /// Every pod ever created, deleted ones included; `PodId` indexes it.
    pub fn pods(&self) -> &[Pod] {
        &self.pods
    }

    /// Live pods without a node (pending), in creation order.
    pub fn unbound_pods(&self) -> impl Iterator<Item = (PodId, &Pod)> {
        self.unbound.iter().map(|&id| (id, self.pod(id)))
    }

    pub fn live_pods(&self) -> impl Iterator<Item = (PodId, &Pod)> {
        self.pods
            .iter()
            .enumerate()
            .filter(|(_, p)| !p.deleted)
            .map(|(i, p)| (PodId(i as u32), p))
    }

    pub fn find_pod(&self, namespace: &str, name: &str) -> Option<PodId> {
        self.live_pods()
            .find(|(_, p)| &*p.name == name && &*p.namespace == namespace)
            .map(|(id, _)| id)
    }

    pub fn find_node(&self, name: &str) -> Option<NodeId> {
        self.live_nodes()
            .find(|(_, n)| &*n.name == name)
            .map(|(id, _)| id)
    }

    /// The Magnum cluster `ident` names (its name or uuid), as every API that takes one
    /// looks it up.
    pub fn magnum_cluster(&self, ident: &str) -> Option<&crate::cloud::Cluster> {
        self.cluster.as_ref().filter(|c| c.matches(ident))
    }

    /// The flavor a Magnum nodegroup's machines boot with.
    pub fn nodegroup_flavor(&self, nodegroup: &str) -> Option<&Flavor> {
        let ng = self.cluster.as_ref()?.nodegroup(nodegroup).ok()?;
        self.flavors.get(&ng.flavor_id)
    }

    /// Ready and not-ready live nodes of a nodegroup.
    pub fn nodegroup_nodes(&self, nodegroup: &str) -> impl Iterator<Item = (NodeId, &Node)> + '_ {
        let ng = nodegroup.to_string();
        self.live_nodes()
            .filter(move |(_, n)| n.nodegroup.as_deref() == Some(ng.as_str()))
    }

    /// Machines of a nodegroup that still exist.
    pub fn machine_count(&self, nodegroup: &str) -> usize {
        self.machines
            .iter()
            .filter(|m| m.nodegroup == nodegroup)
            .count()
    }

    /// Scheduling view of every live node, in the order the nodes were created, with bound
    /// pods accounted.
    pub fn snapshot(&self) -> Snapshot {
        debug_assert_eq!(self.usage_from_pods(), self.usage_padded());
        let empty = NodeUsage::default();
        let mut nodes = Vec::with_capacity(self.nodes.len());
        nodes.extend(self.live_nodes().map(|(id, n)| {
            let used = self.usage.get(id.0 as usize).unwrap_or(&empty);
            SnapNode {
                name: n.name.clone(),
                id: Some(id),
                allocatable: n.allocatable,
                labels: n.labels.clone(),
                taints: n.effective_taints(),
                unschedulable: n.unschedulable,
                // Readiness and cordon change the effective taints: part of the class.
                class: n
                    .class
                    .map(|c| c << 2 | u32::from(!n.ready) << 1 | u32::from(n.unschedulable)),
                requested: used.requested,
                host_ports: used.host_ports.clone(),
            }
        }));
        Snapshot { nodes }
    }

    /// Adds a node with its interned scheduling class and returns its id.
    pub fn add_node(&mut self, mut node: Node) -> NodeId {
        let mut labels = (*node.labels).clone();
        labels.remove("kubernetes.io/hostname");
        let next = self.classes.len() as u32;
        let class = *self
            .classes
            .entry((labels, node.taints.clone()))
            .or_insert(next);
        node.class = Some(class);
        self.nodes.push(node);
        NodeId(self.nodes.len() as u32 - 1)
    }

    /// Gives node `id` new labels and configured taints, in the scheduling class they make.
    pub fn relabel_node(&mut self, id: NodeId, labels: Labels, taints: Vec<crate::kube::Taint>) {
        let mut key = labels.clone();
        key.remove("kubernetes.io/hostname");
        let next = self.classes.len() as u32;
        let class = *self.classes.entry((key, taints.clone())).or_insert(next);
        let node = &mut self.nodes[id.0 as usize];
        node.labels = std::sync::Arc::new(labels);
        node.taints = taints;
        node.class = Some(class);
    }

    /// Every namespace a pod was ever added in, in no particular order (callers sort).
    pub fn pod_namespaces(&self) -> impl Iterator<Item = &str> + '_ {
        self.pod_names.keys().map(|ns| &**ns)
    }

    /// Whether a live pod in `namespace` is named `name`.
    pub fn pod_name_taken(&self, namespace: &str, name: &str) -> bool {
        self.pod_names
            .get(namespace)
            .is_some_and(|names| names.contains_key(name))
    }

    /// Adds a machine, indexing its name for [`World::machine_name_taken`].
    pub fn push_machine(&mut self, machine: Machine) {
        self.machine_names.insert(machine.name.clone());
        self.machines.push(machine);
    }

    /// Removes the machine at `index` of [`World::machines`].
    pub fn remove_machine(&mut self, index: usize) -> Machine {
        let m = self.machines.remove(index);
        self.machine_names.remove(&m.name);
        m
    }

    /// Whether a machine (and so a node, which takes its name) is named `name`.
    pub fn machine_name_taken(&self, name: &str) -> bool {
        self.machine_names.contains(name)
    }

    /// Adds a pod (bound or not) and returns its id.
    pub fn add_pod(&mut self, pod: Pod) -> PodId {
        let id = PodId(self.pods.len() as u32);
        *self
            .pod_names
            .entry(pod.namespace.clone())
            .or_default()
            .entry(pod.name.clone())
            .or_default() += 1;
        self.pods.push(pod);
        self.touch(id);
        self.track(id);
        id
    }

    /// Binds a pending pod to `node`: it runs from `now`.
    pub fn bind(&mut self, id: PodId, node: NodeId, now: SimTime) {
        self.untrack(id);
        let pod = &mut self.pods[id.0 as usize];
        pod.node = Some(node);
        pod.phase = PodPhase::Running;
        pod.scheduled = ScheduledCondition::Scheduled { at: now };
        self.touch(id);
        self.track(id);
    }

    /// Marks a pod deleted (a no-op for one already gone).
    pub fn delete_pod(&mut self, id: PodId) {
        self.untrack(id);
        let pod = &self.pods[id.0 as usize];
        if !pod.deleted {
            if let Some(names) = self.pod_names.get_mut(&*pod.namespace) {
                if let Some(n) = names.get_mut(&*pod.name) {
                    *n -= 1;
                    if *n == 0 {
                        names.remove(&*pod.name);
                    }
                }
            }
        }
        self.pods[id.0 as usize].deleted = true;
        self.touch(id);
    }

    /// Deletes every pod whose controller is named `owner` (a ReplicaSet going away).
    pub fn delete_owned_by(&mut self, owner: &str) {
        let owned: Vec<PodId> = self
            .live_pods()
            .filter(|(_, p)| p.owner.as_ref().is_some_and(|o| o.name == owner))
            .map(|(id, _)| id)
            .collect();
        for id in owned {
            self.delete_pod(id);
        }
    }

    /// kube-scheduler's `PodScheduled=False` with `message`; `since` stays from the first time.
    pub fn mark_unschedulable(&mut self, id: PodId, now: SimTime, message: String) {
        let pod = &mut self.pods[id.0 as usize];
        let since = match &pod.scheduled {
            ScheduledCondition::Unschedulable { since, .. } => *since,
            _ => now,
        };
        let changed = !matches!(&pod.scheduled,
            ScheduledCondition::Unschedulable { since: s, message: m } if *s == since && *m == message);
        pod.scheduled = ScheduledCondition::Unschedulable { since, message };
        if changed {
            self.touch(id);
        }
    }

    /// Counts a live pod in `usage` or `unbound`.
    fn track(&mut self, id: PodId) {
        let pod = &self.pods[id.0 as usize];
        if pod.deleted {
            return;
        }
        let Some(node) = pod.node else {
            self.unbound.insert(id);
            return;
        };
        let i = node.0 as usize;
        if self.usage.len() <= i {
            self.usage.resize_with(i + 1, NodeUsage::default);
        }
        let used = &mut self.usage[i];
        used.requested = used.requested.plus(pod.spec.requests);
        used.host_ports.extend_from_slice(&pod.spec.host_ports);
    }

    /// Undoes [`World::track`] for a pod about to change.
    fn untrack(&mut self, id: PodId) {
        let pod = &self.pods[id.0 as usize];
        if pod.deleted {
            return;
        }
        let Some(node) = pod.node else {
            self.unbound.remove(&id);
            return;
        };
        let used = &mut self.usage[node.0 as usize];
        used.requested = used.requested.minus(pod.spec.requests);
        for port in &pod.spec.host_ports {
            if let Some(k) = used.host_ports.iter().position(|p| p == port) {
                used.host_ports.swap_remove(k);
            }
        }
    }

    /// `usage` recomputed from the pods, sorted for comparison (debug checks).
    fn usage_from_pods(&self) -> Vec<NodeUsage> {
        let mut usage = vec![NodeUsage::default(); self.nodes.len().max(self.usage.len())];
        for (_, pod) in self.live_pods() {
            if let Some(node) = pod.node {
                let used = &mut usage[node.0 as usize];
                used.requested = used.requested.plus(pod.spec.requests);
                used.host_ports.extend_from_slice(&pod.spec.host_ports);
            }
        }
        for u in &mut usage {
            u.host_ports.sort_unstable();
        }
        usage
    }

    /// `usage` padded to every node and with sorted ports, to compare with the recount.
    fn usage_padded(&self) -> Vec<NodeUsage> {
        let mut usage = self.usage.clone();
        usage.resize_with(self.nodes.len().max(self.usage.len()), NodeUsage::default);
        for u in &mut usage {
            u.host_ports.sort_unstable();
        }
        usage
    }
}

/// What a new node of a nodegroup looks like: used when a machine registers and when the
/// autoscaler builds a template for the group, so the two never disagree.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeShape {
    pub flavor: String,
    pub capacity: crate::resources::Resources,
    pub allocatable: crate::resources::Resources,
    pub labels: Labels,
    pub taints: Vec<Taint>,
}

impl World {
    pub fn node_shape(&self, nodegroup: &str) -> Option<NodeShape> {
        let ng = self.cluster.as_ref()?.nodegroup(nodegroup).ok()?;
        let flavor = self.flavors.get(&ng.flavor_id)?;
        let mut labels: Labels = [
            ("kubernetes.io/arch", "amd64"),
            ("kubernetes.io/os", "linux"),
            ("node.kubernetes.io/instance-type", flavor.name.as_str()),
            ("topology.kubernetes.io/zone", "nova"),
            ("magnum.openstack.org/nodegroup", ng.name.as_str()),
            ("magnum.openstack.org/role", ng.role.as_str()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        if ng.is_master() {
            labels.insert(
                "node-role.kubernetes.io/control-plane".into(),
                String::new(),
            );
        }
        let mut taints = Vec::new();
        if ng.is_master() {
            taints.push(Taint::new(
                "node-role.kubernetes.io/control-plane",
                "",
                crate::kube::TaintEffect::NoSchedule,
            ));
        }
        if let Some(extra) = self.node_extras.get(nodegroup) {
            labels.extend(extra.labels.clone());
            taints.extend(extra.taints.clone());
        }
        Some(NodeShape {
            flavor: flavor.name.clone(),
            capacity: flavor.capacity(),
            allocatable: flavor.allocatable(),
            labels,
            taints,
        })
    }
}

/// The cloud's side effects: what the Magnum conductor and the driver do after the API said yes.
impl World {
    /// Sets a nodegroup's count (a resize or a cluster `node_count` PATCH) and re-renders.
    pub fn magnum_resize(&mut self, nodegroup: &str, count: u32) -> Result<(), String> {
        let cluster = self.cluster.as_mut().ok_or("no Magnum cluster")?;
        cluster.set_node_count(nodegroup, count);
        self.rerender(Some(nodegroup))
    }

    /// The driver's re-render after any accepted change. A driver validation failure marks
    /// the cluster `UPDATE_FAILED` with the reason, as the conductor does.
    pub fn rerender(&mut self, resized: Option<&str>) -> Result<(), String> {
        let Some(cluster) = self.cluster.as_mut() else {
            return Ok(());
        };
        if !cluster.driver.is_capi() {
            cluster.status = "UPDATE_COMPLETE".into();
            return Ok(());
        }
        match crate::cloud::capi::render(cluster, &mut self.machine_deployments, resized) {
            Ok(()) => {
                cluster.status = "UPDATE_COMPLETE".into();
                cluster.status_reason = None;
                Ok(())
            }
            Err(e) => {
                cluster.status = "UPDATE_FAILED".into();
                cluster.status_reason = Some(e.clone());
                Err(e)
            }
        }
    }

    /// How many machines the infrastructure should run for a nodegroup: the MachineDeployment's
    /// replicas under Cluster API (none without one), the nodegroup's `node_count` under Heat
    /// and for control planes.
    pub fn desired_machines(&self, nodegroup: &str) -> u32 {
        if let Some(md) = self
            .machine_deployments
            .iter()
            .find(|m| m.nodegroup == nodegroup)
        {
            return md.replicas;
        }
        let Some(c) = self.cluster.as_ref() else {
            return 0;
        };
        match c.nodegroup(nodegroup) {
            // A worker nodegroup the driver did not render (CREATE_FAILED) has no machines.
            Ok(n) if c.driver.is_capi() && !n.is_master() => 0,
            Ok(n) => n.node_count,
            Err(_) => 0,
        }
    }
}

impl World {
    /// Deletes one server and lowers its group's desired count by one, as the autoscaler's
    /// `DeleteNodes` does; returns the new desired count.
    pub fn shrink(&mut self, machine: &str) -> Option<u32> {
        let i = self.machines.iter().position(|m| m.name == machine)?;
        let m = self.remove_machine(i);
        if let Some(id) = m.node {
            self.nodes[id.0 as usize].deleted = true;
        }
        if let Some(md) = self
            .machine_deployments
            .iter_mut()
            .find(|d| d.nodegroup == m.nodegroup)
        {
            md.replicas = md.replicas.saturating_sub(1);
            return Some(md.replicas);
        }
        // Heat: DeleteNodes names the member in `nodes_to_remove`; its index is not reused.
        self.heat_removed
            .entry(m.nodegroup.clone())
            .or_default()
            .insert(m.index);
        let cluster = self.cluster.as_mut()?;
        let count = cluster
            .nodegroup(&m.nodegroup)
            .ok()?
            .node_count
            .saturating_sub(1);
        cluster.set_node_count(&m.nodegroup, count);
        Some(count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kube::PodSpec;
    use std::sync::Arc;

    fn node(name: &str) -> Node {
        Node {
            name: name.into(),
            nodegroup: None,
            capacity: Resources::ZERO,
            allocatable: Resources::ZERO,
            labels: Default::default(),
            taints: Vec::new(),
            ready: true,
            unschedulable: false,
            created: SimTime::ZERO,
            deleted: false,
            flavor: String::new(),
            class: None,
        }
    }

    #[test]
    fn nodes_differing_only_by_hostname_share_a_class() {
        let mut w = World::default();
        let with = |name: &str, taint: bool| {
            let mut n = node(name);
            n.labels = std::sync::Arc::new(
                [("kubernetes.io/hostname", name), ("pool", "x")]
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            );
            if taint {
                n.taints.push(crate::kube::Taint::new(
                    "gpu",
                    "present",
                    crate::kube::TaintEffect::NoSchedule,
                ));
            }
            n
        };
        let a = w.add_node(with("a", false));
        let b = w.add_node(with("b", false));
        let c = w.add_node(with("c", true));
        assert_eq!(w.node(a).class, w.node(b).class);
        assert_ne!(w.node(a).class, w.node(c).class);
        let snap = w.snapshot();
        assert_eq!(snap.nodes[0].class, snap.nodes[1].class);
    }

    fn pod(name: &str, cpu: u64, port: Option<u16>, node: Option<NodeId>) -> Pod {
        let mut spec = PodSpec::with_requests(cpu, 0);
        spec.host_ports.extend(port);
        Pod {
            name: name.into(),
            namespace: "default".into(),
            uid: name.into(),
            owner: None,
            labels: Labels::new(),
            spec: Arc::new(spec),
            created: SimTime::ZERO,
            node,
            phase: PodPhase::Pending,
            scheduled: ScheduledCondition::Unknown,
            deleted: false,
        }
    }

    #[test]
    fn usage_follows_binds_and_deletes() {
        let mut w = World::default();
        w.nodes.extend([node("a"), node("b")]);
        let (a, b) = (NodeId(0), NodeId(1));
        let running = w.add_pod(pod("r", 100, Some(80), Some(a)));
        let pending = w.add_pod(pod("p", 200, Some(81), None));
        let gone = w.add_pod(pod("g", 400, None, None));
        w.delete_pod(gone);
        let ids: Vec<PodId> = w.unbound_pods().map(|(id, _)| id).collect();
        assert_eq!(ids, [pending]);

        w.bind(pending, b, SimTime(5));
        assert_eq!(w.unbound_pods().count(), 0);
        let snap = w.snapshot();
        assert_eq!(snap.nodes[0].requested.milli_cpu, 100);
        assert_eq!(
            (
                snap.nodes[1].requested.milli_cpu,
                &snap.nodes[1].host_ports[..]
            ),
            (200, &[81][..])
        );

        w.delete_pod(running);
        w.delete_pod(running);
        let snap = w.snapshot();
        assert_eq!(snap.nodes[0].requested, Resources::ZERO);
        assert!(snap.nodes[0].host_ports.is_empty());
        assert_eq!(w.usage_from_pods(), w.usage_padded());
    }

    #[test]
    fn deleting_a_controller_frees_its_pods() {
        let mut w = World::default();
        w.nodes.push(node("a"));
        let mut p = pod("r", 100, None, Some(NodeId(0)));
        p.owner = Some(crate::kube::Owner {
            kind: "ReplicaSet".into(),
            name: "rs".into(),
        });
        w.add_pod(p);
        w.delete_owned_by("rs");
        assert_eq!(w.live_pods().count(), 0);
        assert_eq!(w.snapshot().nodes[0].requested, Resources::ZERO);
    }
}
