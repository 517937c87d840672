//! The controllers: Deployment → pods, desired machines → servers → nodes, and kube-scheduler.

use super::{Engine, Event};
use crate::kube::{
    EventType, Node, NodeId, ObjectRef, Owner, Pod, PodId, PodPhase, ScheduledCondition,
};
use crate::time::SimTime;
use crate::world::Machine;

impl Engine {
    /// Existing nodegroups start with Ready nodes for their machines.
    pub(super) fn bootstrap_machines(&mut self) {
        for ng in self.nodegroup_names() {
            for _ in 0..self.world.desired_machines(&ng) {
                let (name, index) = self.machine_name(&ng);
                self.world.push_machine(Machine {
                    name: name.clone(),
                    nodegroup: ng.clone(),
                    created: SimTime::ZERO,
                    node: None,
                    never_ready: false,
                    index,
                    delete_mark: None,
                });
                if let Some(id) = self.register_node(&name) {
                    self.world.nodes[id.0 as usize].ready = true;
                }
            }
        }
    }

    fn nodegroup_names(&self) -> Vec<String> {
        self.world.cluster.as_ref().map_or(Vec::new(), |c| {
            c.nodegroups.iter().map(|n| n.name.clone()).collect()
        })
    }

    /// Node names as the drivers make them: CAPI `<md>-<5>-<5>`, Heat `<cluster>-<id>-node-<i>`
    /// with `<i>` its member index (returned too; 0 under CAPI).
    fn machine_name(&mut self, ng: &str) -> (String, u32) {
        let capi = self
            .world
            .machine_deployments
            .iter()
            .find(|m| m.nodegroup == ng)
            .map(|m| m.name.clone());
        if let Some(md) = capi {
            let rng = &mut self.rng;
            let hash = self
                .name_parts
                .entry(ng.to_string())
                .or_insert_with(|| rng.kube_suffix(5))
                .clone();
            // A suffix already taken by a live machine is drawn again from the same stream
            // (no collision, no extra draw: runs without one are unchanged).
            loop {
                let name = format!("{md}-{hash}-{}", self.rng.kube_suffix(5));
                if !self.world.machine_name_taken(&name) {
                    return (name, 0);
                }
            }
        }
        let cluster = self
            .world
            .cluster
            .as_ref()
            .map_or("cluster".to_string(), |c| c.name.clone());
        let stack = self.heat_short_id();
        // A ResourceGroup grows with the lowest index neither in use nor removed by a
        // removal policy (`resource_group.py`, `_resource_names`).
        let removed = self.world.heat_removed.get(ng);
        let index = (0..)
            .find(|i| {
                !removed.is_some_and(|r| r.contains(i))
                    && !self
                        .world
                        .machines
                        .iter()
                        .any(|m| m.nodegroup == ng && m.index == *i)
            })
            .unwrap_or(0);
        let role = if ng.contains("master") {
            "master"
        } else {
            "node"
        };
        let name = if ng == "default-worker" || ng == "default-master" {
            format!("{cluster}-{stack}-{role}-{index}")
        } else {
            format!("{cluster}-{stack}-{ng}-{index}")
        };
        (name, index)
    }

    /// Names the Heat cluster stack after the short id its node names carry. A cluster with
    /// no node at time zero takes the short id from its stack uuid instead of a draw.
    pub(super) fn name_heat_stack(&mut self) {
        let Some(c) = self.world.cluster.as_ref().filter(|c| !c.driver.is_capi()) else {
            return;
        };
        let short = match self.name_parts.get("") {
            Some(s) => s.clone(),
            None => {
                let s = crate::cloud::heat::short_id(&c.stack_id);
                self.name_parts.insert(String::new(), s.clone());
                s
            }
        };
        let c = self.world.cluster.as_mut().expect("checked above");
        c.stack_name = Some(crate::cloud::heat::cluster_stack_name(&c.name, &short));
    }

    /// The Heat cluster stack's short id, drawn once (the middle of every Heat node name).
    pub(super) fn heat_short_id(&mut self) -> String {
        let rng = &mut self.rng;
        self.name_parts
            .entry(String::new())
            .or_insert_with(|| rng.lower_alnum(12))
            .clone()
    }

    /// Creates the Node object for a machine (NotReady until the ready delay passes).
    fn register_node(&mut self, machine: &str) -> Option<NodeId> {
        let m = self.world.machines.iter().position(|m| m.name == machine)?;
        let ng = self.world.machines[m].nodegroup.clone();
        let shape = self.world.node_shape(&ng)?;
        let mut labels = shape.labels;
        labels.insert("kubernetes.io/hostname".into(), machine.to_string());
        let id = self.world.add_node(Node {
            name: machine.into(),
            nodegroup: Some(ng),
            capacity: shape.capacity,
            allocatable: shape.allocatable,
            labels: labels.into(),
            taints: shape.taints,
            ready: false,
            unschedulable: false,
            created: self.now,
            deleted: false,
            flavor: shape.flavor,
            class: None,
        });
        self.world.machines[m].node = Some(id);
        self.dirty = true;
        Some(id)
    }

    pub(super) fn machine_booted(&mut self, name: &str) {
        if !self.world.machines.iter().any(|m| m.name == name) {
            return;
        }
        if let Some(id) = self.register_node(name) {
            let stuck = self
                .world
                .node(id)
                .nodegroup
                .as_ref()
                .is_some_and(|ng| self.world.not_ready.contains(ng));
            let note = if stuck {
                " (fault not-ready: it will stay NotReady)"
            } else {
                ""
            };
            self.trace.push(
                self.now,
                "kubelet",
                format!("node {name} registered (NotReady){note}"),
            );
            if !stuck {
                let at = self.now + self.world.timing.ready_delay;
                self.push(at, Event::NodeReady(id));
            }
        }
    }

    /// Creates or removes servers until each nodegroup has what its driver asks for.
    pub(super) fn reconcile_machines(&mut self) {
        for ng in self.nodegroup_names() {
            let desired = self.world.desired_machines(&ng) as usize;
            let current = self.world.machine_count(&ng);
            for _ in current..desired {
                let (name, index) = self.machine_name(&ng);
                let never_ready = self.world.never_ready.contains(&ng);
                let note = if never_ready {
                    " (fault never-ready: it will not register)"
                } else {
                    ""
                };
                self.trace.push(
                    self.now,
                    "cloud",
                    format!("server {name} building for nodegroup {ng}{note}"),
                );
                self.world.push_machine(Machine {
                    name: name.clone(),
                    nodegroup: ng.clone(),
                    created: self.now,
                    node: None,
                    never_ready,
                    index,
                    delete_mark: None,
                });
                if !never_ready {
                    let at = self.now + self.world.timing.boot_delay;
                    self.push(at, Event::MachineBooted(name));
                }
            }
            for _ in desired..current {
                // Cluster API's MachineSet deletes machines marked `delete-machine` first,
                // then the newest.
                let mine = |m: &Machine| m.nodegroup == ng;
                let marked = self
                    .world
                    .machines
                    .iter()
                    .position(|m| mine(m) && m.delete_mark.is_some());
                let Some(i) = marked.or_else(|| self.world.machines.iter().rposition(mine)) else {
                    break;
                };
                let m = self.world.remove_machine(i);
                self.server_deleted(&m);
            }
        }
    }

    /// A removed machine's server is gone: the timeline says so and its node goes with it.
    pub(super) fn server_deleted(&mut self, m: &Machine) {
        self.trace
            .push(self.now, "cloud", format!("server {} deleted", m.name));
        if let Some(id) = m.node {
            self.remove_node(id);
        }
    }

    pub(super) fn remove_node(&mut self, id: NodeId) {
        self.world.nodes[id.0 as usize].deleted = true;
        let bound: Vec<PodId> = self
            .world
            .live_pods()
            .filter(|(_, p)| p.node == Some(id))
            .map(|(p, _)| p)
            .collect();
        for p in bound {
            self.world.delete_pod(p);
        }
        self.dirty = true;
    }

    /// ReplicaSets keep `replicas` pods: new ones take pinned names first; extra ones go
    /// unscheduled-first, newest-first.
    pub(super) fn reconcile_deployments(&mut self) {
        for d in 0..self.world.deployments.len() {
            let dep = self.world.deployments[d].clone();
            let rs = dep.replica_set_name();
            let owned: Vec<PodId> = self
                .world
                .live_pods()
                .filter(|(_, p)| {
                    *p.namespace == *dep.namespace && p.owner.as_ref().is_some_and(|o| o.name == rs)
                })
                .map(|(id, _)| id)
                .collect();
            let want = dep.replicas as usize;
            for _ in owned.len()..want {
                let name = dep
                    .pinned_pod_names
                    .iter()
                    .find(|n| {
                        self.world
                            .pods()
                            .iter()
                            .all(|p| *p.name != **n || *p.namespace != *dep.namespace)
                    })
                    .cloned()
                    .unwrap_or_else(|| loop {
                        // Drawn again while a live pod of the namespace has the name.
                        let name = format!("{rs}-{}", self.rng.kube_suffix(5));
                        if !self.world.pod_name_taken(&dep.namespace, &name) {
                            break name;
                        }
                    });
                let mut labels = dep.labels.clone();
                labels.insert("pod-template-hash".into(), dep.template_hash.clone());
                let pod = Pod {
                    name: name.into(),
                    namespace: dep.namespace.as_str().into(),
                    uid: self.rng.uuid4(),
                    owner: Some(Owner {
                        kind: "ReplicaSet".into(),
                        name: rs.clone(),
                    }),
                    labels,
                    spec: dep.spec.clone(),
                    created: self.now,
                    node: None,
                    phase: PodPhase::Pending,
                    scheduled: ScheduledCondition::Unknown,
                    deleted: false,
                };
                self.add_pod(pod);
            }
            if owned.len() > want {
                let mut victims = owned.clone();
                victims.sort_by_key(|&p| {
                    let pod = self.world.pod(p);
                    (
                        pod.node.is_some(),
                        std::cmp::Reverse(pod.created),
                        std::cmp::Reverse(p),
                    )
                });
                for &p in victims.iter().take(owned.len() - want) {
                    self.world.delete_pod(p);
                    let name = self.world.pod(p).name.clone();
                    self.trace
                        .push(self.now, "replicaset", format!("deleted pod {name}"));
                    self.dirty = true;
                }
            }
        }
    }

    pub(super) fn add_pod(&mut self, pod: Pod) {
        self.trace.push(
            self.now,
            "replicaset",
            format!("created pod {}/{}", pod.namespace, pod.name),
        );
        self.world.add_pod(pod);
        self.dirty = true;
    }

    /// One kube-scheduler pass over pending pods, highest priority and oldest first.
    pub(super) fn schedule_pending(&mut self) {
        if self.world.harness.is_some() {
            return; // upstream's unit tests have no kube-scheduler
        }
        let mut pending: Vec<PodId> = self.world.unbound_pods().map(|(id, _)| id).collect();
        if pending.is_empty() {
            return;
        }
        pending.sort_by_key(|&p| {
            let pod = self.world.pod(p);
            (std::cmp::Reverse(pod.spec.priority), pod.created, p)
        });
        let mut snap = self.world.snapshot();
        let mut memo = crate::scheduler::StaticMemo::default();
        for p in pending {
            let spec = self.world.pod(p).spec.clone();
            match snap.best_node_with(&spec, &mut memo) {
                Ok(i) => {
                    snap.nodes[i].place(&spec);
                    let node = snap.nodes[i].id.expect("world snapshot nodes have ids");
                    let node_name = snap.nodes[i].name.clone();
                    let now = self.now;
                    self.world.bind(p, node, now);
                    let pod = self.world.pod(p);
                    let key = pod.key();
                    let obj = ObjectRef::pod(pod);
                    self.world.events.record(
                        now,
                        obj,
                        EventType::Normal,
                        "Scheduled",
                        format!("Successfully assigned {key} to {node_name}"),
                        "default-scheduler",
                    );
                    self.trace.push(
                        now,
                        "scheduler",
                        format!("Scheduled {key} to {node_name}; pod Running"),
                    );
                }
                Err(fit) => {
                    let message = fit.message();
                    let now = self.now;
                    self.world.mark_unschedulable(p, now, message.clone());
                    let pod = self.world.pod(p);
                    let key = pod.key();
                    let obj = ObjectRef::pod(pod);
                    self.world.events.record(
                        now,
                        obj,
                        EventType::Warning,
                        "FailedScheduling",
                        message.clone(),
                        "default-scheduler",
                    );
                    if self.shown.get(&key) != Some(&message) {
                        self.trace.push(
                            now,
                            "scheduler",
                            format!(
                                "Warning FailedScheduling pod/{}: {message}",
                                key.split('/').nth(1).unwrap_or(&key)
                            ),
                        );
                        self.shown.insert(key, message);
                    }
                }
            }
        }
    }
}
