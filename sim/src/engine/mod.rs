//! The discrete-event loop: a virtual clock, a queue of timed events, and the controllers that
//! react to them (deployment controller, machine provisioning, kube-scheduler, autoscalers).
//!
//! Callers drive it with [`Engine::run_until`] and change the world with [`Engine::apply`].
//! Engine events at a time run before operations applied at that same time.

mod kubelet;
mod nodegroups;
mod ops;
mod outside;
mod reconcile;

pub use ops::{ApiResponse, Operation};

use crate::autoscaler::Autoscaler;
use crate::deploy::AutoscalerSpec;
use crate::kube::NodeId;
use crate::rng::SimRng;
use crate::time::{Epoch, SimTime};
use crate::trace::Trace;
use crate::world::World;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

/// kube-scheduler retries unschedulable pods at least this often
/// (`podMaxInUnschedulablePodsDuration`).
const SCHEDULER_FLUSH: crate::time::SimDuration = crate::time::SimDuration::from_mins(5);

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Event {
    AutoscalerLoop(usize),
    AutoscalerRestart(usize),
    MachineBooted(String),
    NodeReady(NodeId),
    SchedulerFlush,
}

/// One autoscaler loop taken out of the engine (see [`Engine::take_loop`]).
pub struct LoopTask {
    pub index: usize,
    pub autoscaler: Autoscaler,
    pub rng: SimRng,
    pub now: SimTime,
    pub epoch: Epoch,
}

impl LoopTask {
    /// One `RunOnce` against `out`.
    pub fn run(&mut self, out: &mut dyn crate::autoscaler::outside::Outside) {
        self.autoscaler
            .run_once(out, self.now, self.epoch, &mut self.rng);
    }
}

/// The simulation: world, autoscalers, clock and trace.
pub struct Engine {
    pub world: World,
    pub autoscalers: Vec<Autoscaler>,
    pub trace: Trace,
    pub epoch: Epoch,
    now: SimTime,
    rng: SimRng,
    queue: BinaryHeap<Reverse<(SimTime, u64, Event)>>,
    seq: u64,
    /// A change the scheduler should react to happened.
    dirty: bool,
    /// Per-nodegroup name parts (MachineSet hash, Heat stack id) generated once.
    name_parts: BTreeMap<String, String>,
    /// FailedScheduling messages already shown on the timeline, per pod.
    shown: BTreeMap<String, String>,
    /// An autoscaler loop is running outside ([`Engine::run_until_loop`]).
    loop_out: bool,
}

impl Engine {
    /// Builds an engine over `world`: existing nodegroups get their machines and Ready nodes at
    /// time zero, deployments their pods, and each autoscaler starts.
    pub fn new(world: World, autoscalers: Vec<AutoscalerSpec>, seed: u64, epoch: Epoch) -> Engine {
        let mut e = Engine {
            world,
            autoscalers: Vec::new(),
            trace: Trace::default(),
            epoch,
            now: SimTime::ZERO,
            rng: SimRng::new(seed),
            queue: BinaryHeap::new(),
            seq: 0,
            dirty: true,
            name_parts: BTreeMap::new(),
            shown: BTreeMap::new(),
            loop_out: false,
        };
        if let Some(c) = &e.world.cluster {
            if c.driver.is_capi() {
                // The cluster exists already: render what the driver rendered at creation.
                let _ = crate::cloud::capi::bootstrap(c, &mut e.world.machine_deployments);
                for md in &mut e.world.machine_deployments {
                    if let Some(a) = e.world.operator_annotations.get(&md.nodegroup) {
                        md.annotations.extend(a.clone());
                    }
                }
            }
        }
        e.bootstrap_machines();
        e.name_heat_stack();
        for spec in autoscalers {
            e.deploy_autoscaler(spec);
        }
        e.settle();
        e.push(SimTime::ZERO + SCHEDULER_FLUSH, Event::SchedulerFlush);
        e
    }

    pub fn now(&self) -> SimTime {
        self.now
    }

    pub fn rng(&self) -> &SimRng {
        &self.rng
    }

    /// The MachineSet hash of a Cluster API nodegroup's machine names, once one was drawn.
    pub fn machine_set_hash(&self, nodegroup: &str) -> Option<&str> {
        self.name_parts.get(nodegroup).map(String::as_str)
    }

    fn push(&mut self, at: SimTime, ev: Event) {
        self.seq += 1;
        self.queue.push(Reverse((at, self.seq, ev)));
    }

    /// Processes every event due at or before `t`, then sets the clock to `t`.
    pub fn run_until(&mut self, t: SimTime) {
        while let Some(Reverse((at, _, _))) = self.queue.peek() {
            if *at > t {
                break;
            }
            let Some(Reverse((at, _, ev))) = self.queue.pop() else {
                break;
            };
            self.now = at;
            self.handle(ev);
            self.settle();
        }
        self.now = self.now.max(t);
    }

    /// As [`Engine::run_until`], but an autoscaler loop that comes due is taken out and
    /// returned instead of run, so it can run against an outside world that calls back into
    /// this engine (the mock servers, over the wire). Until [`Engine::finish_loop`], API
    /// writes defer the controllers, as they would wait for the loop in memory.
    pub fn run_until_loop(&mut self, t: SimTime) -> Option<LoopTask> {
        while let Some(Reverse((at, _, _))) = self.queue.peek() {
            if *at > t {
                break;
            }
            let Some(Reverse((at, _, ev))) = self.queue.pop() else {
                break;
            };
            self.now = at;
            if let Event::AutoscalerLoop(i) = ev {
                if self.autoscalers[i].scan_interval().is_some() {
                    self.loop_out = true;
                    return Some(self.take_loop(i));
                }
            }
            self.handle(ev);
            self.settle();
        }
        self.now = self.now.max(t);
        None
    }

    /// Puts a loop taken by [`Engine::run_until_loop`] back, queues the next one and lets
    /// the controllers react.
    pub fn finish_loop(&mut self, task: LoopTask) {
        let i = task.index;
        self.put_loop(task);
        self.loop_out = false;
        if self.world.harness.is_none() {
            if let Some(interval) = self.autoscalers[i].scan_interval() {
                let busy = self.autoscalers[i].take_busy();
                self.push(self.now + busy + interval, Event::AutoscalerLoop(i));
            }
        }
        self.settle();
    }

    /// Runs one kube-scheduler pass now (benchmarks; the loop runs it on every change).
    pub fn schedule(&mut self) {
        self.schedule_pending();
    }

    /// A copy of this engine at the same instant, with the same queue and RNG state.
    pub fn fork(&self) -> Engine {
        Engine {
            world: self.world.clone(),
            autoscalers: self.autoscalers.clone(),
            trace: self.trace.clone(),
            epoch: self.epoch,
            now: self.now,
            rng: self.rng.clone(),
            queue: self.queue.clone(),
            seq: self.seq,
            dirty: self.dirty,
            name_parts: self.name_parts.clone(),
            shown: self.shown.clone(),
            loop_out: self.loop_out,
        }
    }

    /// The pods of the in-cluster autoscalers that run (or crash-loop), with their index in
    /// [`Engine::autoscalers`].
    pub fn autoscaler_pods(
        &self,
    ) -> impl Iterator<Item = (usize, crate::deploy::pod::AutoscalerPod)> + '_ {
        self.autoscalers
            .iter()
            .enumerate()
            .filter(|(_, a)| !a.is_stopped())
            .filter_map(|(i, a)| {
                Some((
                    i,
                    crate::deploy::pod::AutoscalerPod::of(&a.spec, &self.world)?,
                ))
            })
    }

    /// The time of the next queued event, if any.
    pub fn next_event_time(&self) -> Option<SimTime> {
        self.queue.peek().map(|Reverse((t, _, _))| *t)
    }

    fn handle(&mut self, ev: Event) {
        match ev {
            Event::AutoscalerLoop(i) => {
                let Some(interval) = self.autoscalers[i].scan_interval() else {
                    return;
                };
                let mut task = self.take_loop(i);
                task.run(self);
                self.put_loop(task);
                if self.world.harness.is_none() {
                    let busy = self.autoscalers[i].take_busy();
                    self.push(self.now + busy + interval, Event::AutoscalerLoop(i));
                }
            }
            Event::AutoscalerRestart(i) => {
                let (now, epoch) = (self.now, self.epoch);
                self.autoscalers[i].restart(&self.world, now, epoch, &mut self.trace);
                self.kubelet_events(i, false);
                self.schedule_autoscaler(i);
            }
            Event::MachineBooted(name) => self.machine_booted(&name),
            Event::NodeReady(id) => {
                let node = &mut self.world.nodes[id.0 as usize];
                if !node.deleted {
                    node.ready = true;
                    let name = node.name.clone();
                    self.trace
                        .push(self.now, "kubelet", format!("node {name} is Ready"));
                    self.dirty = true;
                }
            }
            Event::SchedulerFlush => {
                self.dirty = true;
                self.push(self.now + SCHEDULER_FLUSH, Event::SchedulerFlush);
            }
        }
    }

    /// Takes autoscaler `i` and the RNG out of the engine, so its loop can run against an
    /// outside world that reaches back into the engine (itself in memory; the mock servers
    /// over the wire). Put them back with [`Engine::put_loop`] before anything else runs.
    pub fn take_loop(&mut self, i: usize) -> LoopTask {
        let placeholder = self.autoscalers[i].placeholder();
        LoopTask {
            index: i,
            autoscaler: std::mem::replace(&mut self.autoscalers[i], placeholder),
            rng: std::mem::replace(&mut self.rng, SimRng::new(0)),
            now: self.now,
            epoch: self.epoch,
        }
    }

    pub fn put_loop(&mut self, task: LoopTask) {
        self.autoscalers[task.index] = task.autoscaler;
        self.rng = task.rng;
    }

    /// Queues the next loop or restart of autoscaler `i`.
    fn schedule_autoscaler(&mut self, i: usize) {
        if let Some(t) = self.autoscalers[i].next_restart() {
            self.push(t, Event::AutoscalerRestart(i));
        } else if let Some(interval) = self.autoscalers[i].scan_interval() {
            // Upstream's unit tests call ScaleUp once, at once.
            let first = match self.world.harness {
                Some(_) => self.now,
                None => self.now + interval,
            };
            self.push(first, Event::AutoscalerLoop(i));
        }
    }

    fn deploy_autoscaler(&mut self, spec: AutoscalerSpec) {
        let a = Autoscaler::start(spec, &self.world, self.now, self.epoch, &mut self.trace);
        self.write_initial_status(&a);
        self.autoscalers.push(a);
        self.kubelet_events(self.autoscalers.len() - 1, true);
        self.schedule_autoscaler(self.autoscalers.len() - 1);
    }

    /// `NewStatusMapRecorder` writes the initial status as soon as the process starts, before
    /// the cloud provider is built (`core/autoscaler.go` `initializeDefaultOptions`): a
    /// process that then dies on its provider's start-up still leaves `Initializing` behind
    /// (seen with the real 1.30.2 magnum provider and an unknown `--nodes` group). Only a
    /// flag error (exit 2) comes before it.
    fn write_initial_status(&mut self, a: &Autoscaler) {
        use crate::autoscaler::status::AutoscalerStatus;
        let (options, version, overwrite) = match (a.running(), &a.phase) {
            (Some(r), _) => (r.started.options.clone(), r.started.version, true),
            (None, crate::autoscaler::Phase::CrashLoopBackOff { fatal, .. })
                if fatal.exit_code != 2 =>
            {
                match crate::autoscaler::options::parse_args(&a.spec.args) {
                    Ok(o) => (
                        o,
                        crate::deploy::CaVersion::from_image(&a.spec.image),
                        false,
                    ),
                    Err(_) => return,
                }
            }
            _ => return,
        };
        if !options.write_status_configmap {
            return;
        }
        let key = (
            options.namespace.clone(),
            options.status_config_map_name.clone(),
        );
        if !overwrite && self.world.configmaps.contains_key(&key) {
            return;
        }
        let ts = self.epoch.at(self.now);
        let text = if a.spec.legacy_status || !version.writes_yaml_status() {
            AutoscalerStatus::initial_legacy_text(ts)
        } else {
            AutoscalerStatus::initial_yaml(ts)
        };
        self.world.configmaps.insert(
            key,
            crate::world::ConfigMapData::Plain(
                [("status".to_string(), text)].into_iter().collect(),
            ),
        );
    }

    /// Runs the controllers until nothing changes: deployments, machines, scheduler.
    fn settle(&mut self) {
        self.reconcile_deployments();
        let pods = self.world.revision();
        self.reconcile_machines();
        // A machine removed with its node took the node's pods along: their ReplicaSets
        // replace them now, not whenever the next event or API call settles the world.
        if self.world.revision() != pods {
            self.reconcile_deployments();
        }
        if self.dirty {
            self.dirty = false;
            self.schedule_pending();
        }
        self.complete_nodegroups();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::magnum::tests::incident_cluster;
    use crate::flavor::Flavor;
    use crate::time::SimDuration;

    fn engine() -> Engine {
        let mut world = World::default();
        world
            .flavors
            .insert("m3.small".into(), Flavor::jetstream2("m3.small").unwrap());
        world.cluster = Some(incident_cluster());
        Engine::new(world, Vec::new(), 1, Epoch::default())
    }

    #[test]
    fn scaling_past_the_caps_is_refused_and_allocates_nothing() {
        use crate::kube::{Deployment, PodSpec};
        let mut e = engine();
        e.world.deployments.push(Deployment {
            name: "web".into(),
            namespace: "default".into(),
            replicas: 1,
            labels: [("app".to_string(), "web".to_string())]
                .into_iter()
                .collect(),
            spec: std::sync::Arc::new(PodSpec::with_requests(0, 0)),
            template_hash: "5d8f7c9b6".into(),
            pinned_pod_names: Vec::new(),
        });
        let scale = |replicas| Operation::ScaleDeployment {
            namespace: "default".into(),
            name: "web".into(),
            replicas,
        };
        for replicas in [crate::limits::MAX_PODS + 1, 1_000_000_000] {
            let r = e.apply(scale(replicas), None);
            assert_eq!(r.status, 422, "{replicas}");
            assert!(r
                .error
                .unwrap()
                .message
                .contains("must be less than or equal to 200000"));
        }
        assert_eq!(e.world.deployments[0].replicas, 1);
        assert!(e.world.live_pods().count() <= 1);
        let md = e.world.machine_deployments[0].clone();
        let r = e.apply(
            Operation::ScaleMachineDeployment {
                namespace: md.namespace.clone(),
                name: md.name.clone(),
                replicas: crate::limits::MAX_NODES + 1,
            },
            None,
        );
        assert_eq!(r.status, 422);
        let r = e.apply(
            Operation::Resize {
                cluster: "k8s".into(),
                node_count: i64::from(crate::limits::MAX_NODES) + 1,
                nodegroup: None,
                nodes_to_remove: Vec::new(),
            },
            None,
        );
        assert_eq!(r.status, 400);
        assert_eq!(
            r.error.unwrap().message,
            "Invalid input for field/attribute node_count. Value: '10001'. Value should be lower or equal to 10000"
        );
        assert_eq!(e.world.machine_deployments[0].replicas, md.replicas);
        assert_eq!(e.world.machines.len(), 5);
    }

    #[test]
    fn a_generated_pod_name_taken_by_a_live_pod_is_drawn_again() {
        use crate::kube::{Deployment, Pod, PodPhase, PodSpec, ScheduledCondition};
        let mut e = engine();
        let spec = std::sync::Arc::new(PodSpec::with_requests(0, 0));
        e.world.deployments.push(Deployment {
            name: "web".into(),
            namespace: "default".into(),
            replicas: 0,
            labels: [("app".to_string(), "web".to_string())]
                .into_iter()
                .collect(),
            spec: spec.clone(),
            template_hash: "5d8f7c9b6".into(),
            pinned_pod_names: Vec::new(),
        });
        let rs = e.world.deployments[0].replica_set_name();
        // The suffixes the next two draws give.
        let mut probe = e.rng.clone();
        let (first, second) = (probe.kube_suffix(5), probe.kube_suffix(5));
        let squatter = format!("{rs}-{first}");
        e.world.add_pod(Pod {
            name: squatter.as_str().into(),
            namespace: "default".into(),
            uid: "squatter".into(),
            owner: None,
            labels: Default::default(),
            spec,
            created: SimTime::ZERO,
            node: None,
            phase: PodPhase::Pending,
            scheduled: ScheduledCondition::Unknown,
            deleted: false,
        });
        assert!(e.world.pod_name_taken("default", &squatter));
        assert!(!e.world.pod_name_taken("other", &squatter));
        let r = e.apply(
            Operation::ScaleDeployment {
                namespace: "default".into(),
                name: "web".into(),
                replicas: 1,
            },
            None,
        );
        assert_eq!(r.status, 200);
        let names: Vec<String> = e
            .world
            .live_pods()
            .filter(|(_, p)| p.owner.is_some())
            .map(|(_, p)| p.name.to_string())
            .collect();
        assert_eq!(names, vec![format!("{rs}-{second}")]);
        // A deleted pod's name is free again.
        let id = e.world.find_pod("default", &squatter).unwrap();
        e.world.delete_pod(id);
        assert!(!e.world.pod_name_taken("default", &squatter));
    }

    #[test]
    fn a_generated_machine_name_taken_by_a_live_machine_is_drawn_again() {
        let mut e = engine();
        let md = e.world.machine_deployments[0].clone();
        let hash = e.name_parts[&md.nodegroup].clone();
        let mut probe = e.rng.clone();
        let (first, second) = (probe.kube_suffix(5), probe.kube_suffix(5));
        let squatter = format!("{}-{hash}-{first}", md.name);
        e.world.push_machine(crate::world::Machine {
            name: squatter.clone(),
            nodegroup: "elsewhere".into(),
            created: SimTime::ZERO,
            node: None,
            never_ready: true,
            index: 0,
            delete_mark: None,
        });
        let before: Vec<String> = e.world.machines.iter().map(|m| m.name.clone()).collect();
        e.apply(
            Operation::ScaleMachineDeployment {
                namespace: md.namespace.clone(),
                name: md.name.clone(),
                replicas: md.replicas + 1,
            },
            None,
        );
        let new: Vec<&str> = e
            .world
            .machines
            .iter()
            .map(|m| m.name.as_str())
            .filter(|n| !before.iter().any(|b| b == n))
            .collect();
        assert_eq!(new, vec![format!("{}-{hash}-{second}", md.name)]);
    }

    #[test]
    fn existing_nodegroups_start_with_ready_nodes() {
        let e = engine();
        assert_eq!(e.world.live_nodes().filter(|(_, n)| n.ready).count(), 5);
        assert_eq!(e.world.machine_deployments[0].replicas, 5);
    }

    #[test]
    fn capi_resize_ignores_nodes_to_remove_and_boots_after_the_delay() {
        let mut e = engine();
        let victim = e.world.nodes[0].name.clone();
        let r = e.apply(
            Operation::Resize {
                cluster: "k8s".into(),
                node_count: 6,
                nodegroup: None,
                nodes_to_remove: vec![victim.to_string()],
            },
            None,
        );
        assert_eq!(r.status, 202);
        assert!(r
            .request_id
            .as_deref()
            .is_some_and(|id| id.starts_with("req-") && id.len() == 40));
        assert!(e
            .trace
            .entries
            .iter()
            .any(|t| t.text == "nodes_to_remove is ignored by the magnum-capi-helm driver"));
        assert!(e.world.find_node(&victim).is_some());
        e.run_until(SimTime::ZERO + SimDuration::from_secs(179));
        assert_eq!(e.world.live_nodes().count(), 5);
        e.run_until(SimTime::ZERO + SimDuration::from_secs(180));
        assert_eq!(e.world.live_nodes().count(), 6);
        e.run_until(SimTime::ZERO + SimDuration::from_secs(200));
        assert_eq!(e.world.live_nodes().filter(|(_, n)| n.ready).count(), 6);
    }

    #[test]
    fn scaling_a_machine_deployment_is_increase_size_plus_the_controllers() {
        let mut e = engine();
        let md = e.world.machine_deployments[0].clone();
        let mut direct = e.fork();
        let traced = e.trace.entries.len();
        let r = e.apply(
            Operation::ScaleMachineDeployment {
                namespace: md.namespace.clone(),
                name: md.name.clone(),
                replicas: 7,
            },
            None,
        );
        assert_eq!((r.status, r.request_id.as_deref()), (200, None));
        assert_eq!(r.body["replicas"], 7);
        // What the in-memory clusterapi provider's `grow` does, then the controllers.
        direct.world.machine_deployments[0].replicas = 7;
        direct.settle();
        assert_eq!(
            e.world.machine_deployments,
            direct.world.machine_deployments
        );
        assert_eq!(
            format!("{:?}", e.world.machines),
            format!("{:?}", direct.world.machines)
        );
        assert_eq!(e.trace, direct.trace);
        // Only the cloud's own lines: the write itself is the client's to log.
        let added = &e.trace.entries[traced..];
        assert_eq!(added.len(), 2);
        assert!(added.iter().all(|t| t.actor == "cloud"), "{added:?}");
        e.run_until(SimTime::ZERO + SimDuration::from_secs(200));
        assert_eq!(e.world.live_nodes().filter(|(_, n)| n.ready).count(), 7);

        let r = e.apply(
            Operation::ScaleMachineDeployment {
                namespace: md.namespace,
                name: "nope".into(),
                replicas: 1,
            },
            None,
        );
        assert_eq!(r.status, 404);
        assert_eq!(
            r.error.unwrap().message,
            "machinedeployments.cluster.x-k8s.io \"nope\" not found"
        );
    }

    #[test]
    fn posted_events_aggregate_and_configmaps_replace_without_trace_lines() {
        let mut e = engine();
        let traced = e.trace.entries.len();
        let record = |e: &mut Engine| {
            e.apply(
                Operation::RecordEvent {
                    object: crate::kube::ObjectRef::new("ConfigMap", "kube-system", "status"),
                    event_type: crate::kube::EventType::Normal,
                    reason: "ScaledUpGroup",
                    message: "Scale-up: setting group size to 6".into(),
                    source: "cluster-autoscaler",
                },
                None,
            )
        };
        let first = record(&mut e);
        e.run_until(SimTime::ZERO + SimDuration::from_secs(10));
        let second = record(&mut e);
        assert_eq!((first.status, second.status), (201, 200));
        assert_eq!(second.body["index"], first.body["index"]);
        assert_eq!(second.body["count"], 2);
        let ev = &e.world.events.all()[first.body["index"].as_u64().unwrap() as usize];
        assert_eq!(
            (ev.count, ev.last_seen),
            (2, SimTime::ZERO + SimDuration::from_secs(10))
        );

        let put = |e: &mut Engine, v: &str| {
            e.apply(
                Operation::PutConfigMap {
                    namespace: "kube-system".into(),
                    name: "cm".into(),
                    data: [("k".to_string(), v.to_string())].into_iter().collect(),
                },
                None,
            )
        };
        assert_eq!(put(&mut e, "a").status, 201);
        assert_eq!(put(&mut e, "b").status, 200);
        assert_eq!(
            e.world.configmaps[&("kube-system".to_string(), "cm".to_string())].data()["k"],
            "b"
        );
        assert_eq!(e.trace.entries.len(), traced);
    }

    #[test]
    fn unknown_cluster_is_magnums_404() {
        let mut e = engine();
        let r = e.apply(
            Operation::ShowCluster {
                cluster: "nope".into(),
            },
            Some("req-x".into()),
        );
        assert_eq!(r.status, 404);
        assert_eq!(r.error.unwrap().message, "Cluster nope could not be found.");
        assert_eq!(r.request_id.as_deref(), Some("req-x"));
    }
}
