//! The autoscaler process: start-up, crash-loop, and one loop at a time.

use super::clusterstate::{self, Backoff, Readiness, ScaleUpRequest};
use super::container::{Container, Site};
use super::klog;
use super::orchestrator::{self, Decision, GroupState, Increase, Inputs, Outcome};
use super::outside::Outside;
use super::provider::{Handle, NodeGroup, Provider};
use super::reasons;
use super::status::*;
use crate::deploy::{AutoscalerSpec, Fatal, Started};
use crate::fxhash::FxBuild;
use crate::kube::{EventType, ObjectRef, PodId};
use crate::rng::SimRng;
use crate::scheduler::Snapshot;
use crate::time::{Epoch, SimDuration, SimTime};
use crate::trace::Trace;
use crate::world::World;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// How long the event spam filter keeps a repeat out (client-go: 1 event per 5 min per key).
const EVENT_SPAM_WINDOW: SimDuration = SimDuration::from_mins(5);
/// Pods younger than this are left for the next loop (`unschedulablePodTimeBuffer`).
const NEW_POD_BUFFER: SimDuration = SimDuration::from_secs(2);
const NEW_GPU_POD_BUFFER: SimDuration = SimDuration::from_secs(30);
/// kubelet's crash-loop back-off: 10 s doubling to 5 min. The first crash is restarted at
/// once (`doBackOff`: no back-off entry yet, so `IsInBackOffSince` is false and `Next` only
/// starts one); each later crash waits the entry's current delay.
const CRASH_BACKOFF_START: SimDuration = SimDuration::from_secs(10);
const CRASH_BACKOFF_MAX: SimDuration = SimDuration::from_mins(5);
/// The magnum provider sleeps after every `DeleteNodes` "to ensure that delete requests are
/// received in order" (`magnum_nodegroup.go`, `postDeleteSleepDuration`): the loop ends, and
/// the next starts, that much later.
const MAGNUM_POST_DELETE_SLEEP: SimDuration = SimDuration::from_secs(5);

/// The process's state.
#[derive(Clone, Debug)]
pub enum Phase {
    Running(Box<Running>),
    CrashLoopBackOff {
        fatal: Fatal,
        restarts: u32,
        next_start: SimTime,
    },
    /// Deleted, or replaced by a new deployment of the same name.
    Stopped,
}

/// A running autoscaler's memory between loops.
#[derive(Clone, Debug)]
pub struct Running {
    pub started: Started,
    provider: Provider,
    backoff: Backoff,
    requests: BTreeMap<String, ScaleUpRequest>,
    /// Last recording time by spam key; only looked up, never iterated.
    spam: HashMap<u64, SimTime, FxBuild>,
    unregistered_since: clusterstate::UnregisteredSince,
    /// Per condition: its status and when it last changed (`None`: at a zero probe time).
    transitions: BTreeMap<String, (String, Option<SimTime>)>,
    /// When scale-down last ran `UpdateScaleDownCandidates`: not in a loop that scaled up
    /// ("No scale down in this iteration", `static_autoscaler.go`) or found the cluster
    /// unhealthy, so a scale-up in the very first loop leaves the scaleDown conditions with
    /// a zero probe time and, until they change, no `lastTransitionTime`.
    scale_down_probed: Option<SimTime>,
    /// How long the last loop's own waits held it past its start; the next loop starts that
    /// much later (`time.After(scanInterval)` counts from the end of `RunOnce`).
    busy: SimDuration,
    pub status: Option<AutoscalerStatus>,
    /// Whether a loop has run yet (its first warns that acceptable ranges are empty).
    looped: bool,
    pub last_decision: Option<(SimTime, Decision)>,
    pub last_groups: Vec<NodeGroup>,
}

#[derive(Clone, Debug)]
pub struct Autoscaler {
    pub spec: AutoscalerSpec,
    pub phase: Phase,
    /// The container the kubelet runs it in: restarts and the process's log.
    pub container: Container,
    /// When the node instances cache last refreshed (every 2 minutes while it runs).
    cache_refreshed: SimTime,
}

/// What one loop did, for callers that want more than the trace.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LoopReport {
    pub scaled_up: bool,
    pub error: Option<String>,
}

impl Autoscaler {
    /// Starts the process at `now`; a fatal start-up enters CrashLoopBackOff.
    pub fn start(
        spec: AutoscalerSpec,
        world: &World,
        now: SimTime,
        epoch: Epoch,
        trace: &mut Trace,
    ) -> Autoscaler {
        let result = spec.start(world);
        let mut container = Container::new(now);
        klog::start(&mut container, &spec, &result, now);
        let phase = match result {
            Ok(started) => {
                trace.push(
                    now,
                    &spec.name,
                    format!(
                        "started cluster-autoscaler {} ({})",
                        started.version,
                        describe_provider(&started)
                    ),
                );
                Phase::Running(Box::new(Running::new(started)))
            }
            Err(fatal) => {
                trace.push(
                    now,
                    &spec.name,
                    crate::deploy::klog_fatal(epoch.at(now), &fatal),
                );
                trace.push(
                    now,
                    &spec.name,
                    format!(
                        "container exited with status {}; pod is in CrashLoopBackOff",
                        fatal.exit_code
                    ),
                );
                Phase::CrashLoopBackOff {
                    fatal,
                    restarts: 0,
                    next_start: now,
                }
            }
        };
        Autoscaler {
            spec,
            phase,
            container,
            cache_refreshed: now,
        }
    }

    /// A stopped stand-in with the same spec, kept in its slot while the real one runs a loop.
    pub fn placeholder(&self) -> Autoscaler {
        Autoscaler {
            spec: self.spec.clone(),
            phase: Phase::Stopped,
            container: Container::new(SimTime::ZERO),
            cache_refreshed: SimTime::ZERO,
        }
    }

    /// When the kubelet restarts a crashed container next.
    pub fn next_restart(&self) -> Option<SimTime> {
        match &self.phase {
            Phase::CrashLoopBackOff { next_start, .. } => Some(*next_start),
            _ => None,
        }
    }

    pub fn is_stopped(&self) -> bool {
        matches!(self.phase, Phase::Stopped)
    }

    /// A crash-looping container's restart: it runs the same start-up again (a fixed Secret
    /// lets it come up).
    pub fn restart(&mut self, world: &World, now: SimTime, epoch: Epoch, trace: &mut Trace) {
        let Phase::CrashLoopBackOff { restarts, .. } = self.phase.clone() else {
            return;
        };
        let result = self.spec.start(world);
        self.container.restart(now);
        klog::start(&mut self.container, &self.spec, &result, now);
        self.cache_refreshed = now;
        match result {
            Ok(started) => {
                trace.push(
                    now,
                    &self.spec.name,
                    format!(
                        "restart {}: started cluster-autoscaler {}",
                        restarts + 1,
                        started.version
                    ),
                );
                self.phase = Phase::Running(Box::new(Running::new(started)));
            }
            Err(fatal) => {
                let restarts = restarts + 1;
                let wait = SimDuration(
                    CRASH_BACKOFF_START
                        .0
                        .saturating_mul(1 << (restarts - 1).min(10))
                        .min(CRASH_BACKOFF_MAX.0),
                );
                trace.push(
                    now,
                    &self.spec.name,
                    crate::deploy::klog_fatal(epoch.at(now), &fatal),
                );
                trace.push(now, &self.spec.name, format!("Back-off restarting failed container (restarts: {restarts}, next in {wait})"));
                self.phase = Phase::CrashLoopBackOff {
                    fatal,
                    restarts,
                    next_start: now + wait,
                };
            }
        }
    }

    pub fn running(&self) -> Option<&Running> {
        match &self.phase {
            Phase::Running(r) => Some(r),
            _ => None,
        }
    }

    /// How long the last loop ran past its start (and resets it): the time to add before the
    /// next one.
    pub fn take_busy(&mut self) -> SimDuration {
        match &mut self.phase {
            Phase::Running(r) => std::mem::replace(&mut r.busy, SimDuration::ZERO),
            _ => SimDuration::ZERO,
        }
    }

    pub fn scan_interval(&self) -> Option<SimDuration> {
        // Never below the minimum (the loader refuses it; this keeps the clock moving for
        // anything that reaches the engine another way).
        self.running().map(|r| {
            r.started
                .options
                .scan_interval
                .max(crate::limits::MIN_SCAN_INTERVAL)
        })
    }

    /// One `RunOnce` at `now`.
    pub fn run_once(
        &mut self,
        out: &mut dyn Outside,
        now: SimTime,
        epoch: Epoch,
        rng: &mut SimRng,
    ) -> LoopReport {
        let name = self.spec.name.clone();
        let yaml = !self.spec.legacy_status;
        match &mut self.phase {
            Phase::Running(r) => {
                while klog::measured(r.started.version)
                    && now.since(self.cache_refreshed) >= klog::CACHE_REFRESH_INTERVAL
                {
                    self.cache_refreshed = self.cache_refreshed + klog::CACHE_REFRESH_INTERVAL;
                    klog::cache_refresh(&mut self.container, self.cache_refreshed);
                }
                let mut out = Logged {
                    inner: out,
                    container: &mut self.container,
                };
                r.run_once(&name, yaml, &mut out, now, epoch, rng)
            }
            Phase::CrashLoopBackOff { .. } | Phase::Stopped => LoopReport::default(),
        }
    }

    /// Where each group's bounds come from (see [`Provider::limit_source`]).
    pub fn limit_source(&self, world: &World, group: &NodeGroup) -> Option<String> {
        self.running()
            .map(|r| r.provider.limit_source(world, group))
    }

    /// The decision the autoscaler would take at `now`, without acting on it.
    pub fn explain(
        &self,
        world: &World,
        now: SimTime,
        rng: &SimRng,
    ) -> Option<(Vec<NodeGroup>, Result<Decision, String>)> {
        let mut r = self.running()?.clone();
        let mut rng = rng.clone();
        Some(match r.plan(world, now, &mut rng) {
            Ok(Plan::Decide {
                groups, decision, ..
            }) => (groups, Ok(decision)),
            Ok(Plan::Skip { groups, why, .. }) => (groups, Err(why.text().to_string())),
            Err(e) => (Vec::new(), Err(e)),
        })
    }
}

/// The outside world as a running process sees it, its klog lines going to its container.
struct Logged<'a> {
    inner: &'a mut dyn Outside,
    container: &'a mut Container,
}

impl Outside for Logged<'_> {
    fn world(&self) -> &World {
        self.inner.world()
    }

    fn log(&mut self, now: SimTime, actor: &str, text: String) {
        self.inner.log(now, actor, text);
    }

    fn klog(&mut self, now: SimTime, site: Site, text: String) {
        self.container.write(now, site, text);
    }

    fn magnum(
        &mut self,
        now: SimTime,
        token: &mut Option<SimTime>,
        call: &super::outside::MagnumCall,
        notes: &mut Vec<String>,
    ) -> Result<(), String> {
        self.inner.magnum(now, token, call, notes)
    }

    fn scale_machine_deployment(&mut self, index: usize, replicas: u32) -> Result<(), String> {
        self.inner.scale_machine_deployment(index, replicas)
    }

    fn set_test_group_target(&mut self, name: &str, target: u32) -> Result<(), String> {
        self.inner.set_test_group_target(name, target)
    }

    fn remove_unregistered(&mut self, machine: &str) -> Option<u32> {
        self.inner.remove_unregistered(machine)
    }

    fn record_event(
        &mut self,
        now: SimTime,
        obj: ObjectRef,
        t: EventType,
        reason: &'static str,
        message: Arc<str>,
    ) {
        self.inner.record_event(now, obj, t, reason, message);
    }

    fn write_config_map(&mut self, namespace: &str, name: &str, data: crate::world::ConfigMapData) {
        self.inner.write_config_map(namespace, name, data);
    }
}

fn describe_provider(s: &Started) -> String {
    match &s.provider {
        crate::deploy::ProviderKind::ClusterApi => {
            "clusterapi provider: limits from MachineDeployment annotations".into()
        }
        crate::deploy::ProviderKind::Magnum(crate::deploy::MagnumManager::Heat { spec }) => {
            format!(
                "magnum provider, Heat manager: group {} {}..{} from --nodes",
                spec.name, spec.min, spec.max
            )
        }
        crate::deploy::ProviderKind::Magnum(crate::deploy::MagnumManager::Nodegroups {
            discovery,
        }) => match discovery {
            crate::deploy::Discovery::Static(specs) => format!(
                "magnum provider: static groups {}",
                specs
                    .iter()
                    .map(|s| format!("{}:{}:{}", s.min, s.max, s.name))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            crate::deploy::Discovery::Roles(roles) => format!(
                "magnum provider: auto-discovery of roles {}",
                roles.join(",")
            ),
        },
        crate::deploy::ProviderKind::Test => {
            "upstream's test provider: groups as the scenario declares them".into()
        }
    }
}

/// Why a loop ends before deciding, in upstream's log words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Skip {
    ClusterUnhealthy,
    NoUnschedulablePods,
    MaxNodesTotal,
    PodsVeryNew,
}

impl Skip {
    fn text(self) -> &'static str {
        match self {
            Skip::ClusterUnhealthy => "Cluster is unhealthy",
            Skip::NoUnschedulablePods => "No unschedulable pods",
            Skip::MaxNodesTotal => "Max total nodes in cluster reached",
            Skip::PodsVeryNew => "Unschedulable pods are very new, waiting one iteration for more",
        }
    }

    /// Its klog call, where it was measured.
    fn site(self) -> Option<Site> {
        match self {
            Skip::NoUnschedulablePods => Some(klog::NO_UNSCHEDULABLE_PODS),
            Skip::PodsVeryNew => Some(klog::PODS_VERY_NEW),
            Skip::ClusterUnhealthy | Skip::MaxNodesTotal => None,
        }
    }
}

/// What the loop found before acting.
enum Plan {
    Skip {
        groups: Vec<NodeGroup>,
        readiness: Vec<Readiness>,
        why: Skip,
    },
    Decide {
        groups: Vec<NodeGroup>,
        readiness: Vec<Readiness>,
        decision: Decision,
    },
}

impl Running {
    fn new(started: Started) -> Running {
        Running {
            provider: Provider::new(started.provider.clone())
                .with_timer_scale(started.options.timer_scale),
            started,
            backoff: Backoff::default(),
            requests: BTreeMap::new(),
            spam: HashMap::default(),
            unregistered_since: BTreeMap::new(),
            transitions: BTreeMap::new(),
            scale_down_probed: None,
            busy: SimDuration::ZERO,
            status: None,
            looped: false,
            last_decision: None,
            last_groups: Vec::new(),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn run_once(
        &mut self,
        name: &str,
        yaml: bool,
        out: &mut dyn Outside,
        now: SimTime,
        epoch: Epoch,
        rng: &mut SimRng,
    ) -> LoopReport {
        self.backoff.forget_stale(now, &self.started.options);
        let fail = |e: String, out: &mut dyn Outside| {
            out.log(now, name, format!("Failed to update node registry: {e}"));
            LoopReport {
                scaled_up: false,
                error: Some(e),
            }
        };
        if let Err(e) = self.refresh(name, out, now) {
            out.log(
                now,
                name,
                format!("Failed to refresh cloud provider config: {e}"),
            );
            return LoopReport {
                scaled_up: false,
                error: Some(e),
            };
        }
        self.notice_unregistered(out.world(), now);
        if !self.looped {
            self.looped = true;
            self.klog(out, now, klog::ACCEPTABLE_RANGES, || {
                "AcceptableRanges have not been populated yet. Skip checking".into()
            });
        }
        if !self.unregistered_since.is_empty() {
            let n = self.unregistered_since.len();
            self.klog(out, now, klog::UNREGISTERED_PRESENT, || {
                format!("{n} unregistered nodes present")
            });
        }
        // `static_autoscaler.go:378-382`: RunOnce ends here, before the cluster state.
        if let Some(e) = self.provider.node_infos_error(out.world()) {
            out.log(
                now,
                name,
                format!("Failed to get node infos for groups: {e}"),
            );
            return LoopReport {
                scaled_up: false,
                error: Some(e),
            };
        }
        // Expiring requests and removing servers need no templates; `plan` reads them.
        // The status is the cluster state read before servers were removed (upstream writes
        // `clusterStateRegistry` as `UpdateNodes` left it, at the end of `RunOnce`).
        let stale_status = match self.provider.groups_without_templates(out.world(), now) {
            Ok(groups) => {
                self.expire_requests(name, out, now, &groups);
                self.remove_unregistered(name, out, now, &groups)
                    .map(|readiness| (groups, readiness))
            }
            Err(e) => return fail(e, out),
        };
        let plan = match self.plan(out.world(), now, rng) {
            Ok(p) => p,
            Err(e) => return fail(e, out),
        };
        let mut report = LoopReport::default();
        let mut scale_down_runs = true;
        let (groups, readiness) = match plan {
            Plan::Skip {
                groups,
                readiness,
                why,
            } => {
                if let Some(site) = why.site() {
                    self.klog(out, now, site, || why.text().to_string());
                }
                if why == Skip::ClusterUnhealthy {
                    scale_down_runs = false;
                    self.event(
                        out,
                        now,
                        config_map_ref(&self.started.options),
                        EventType::Warning,
                        "ClusterUnhealthy",
                        why.text(),
                        name,
                    );
                }
                (groups, readiness)
            }
            Plan::Decide {
                groups,
                readiness,
                decision,
            } => {
                self.log_decision(out, now, &groups, &decision);
                report = self.act(name, out, now, &groups, &decision);
                self.last_decision = Some((now, decision));
                scale_down_runs = !report.scaled_up;
                (groups, readiness)
            }
        };
        if scale_down_runs {
            self.scale_down_probed = Some(now);
        }
        if self.started.options.enforce_node_group_min_size {
            self.scale_to_min_size(name, out, now);
        }
        match &stale_status {
            Some((g, r)) => self.write_status(out, now, epoch, g, r, yaml),
            None => self.write_status(out, now, epoch, &groups, &readiness, yaml),
        }
        self.last_groups = groups;
        report
    }

    /// `CloudProvider.Refresh()`, before any other provider call; its notes go to the log.
    fn refresh(&mut self, name: &str, out: &mut dyn Outside, now: SimTime) -> Result<(), String> {
        let cluster = self.started.options.cluster_name.as_deref().unwrap_or("");
        let mut notes = Vec::new();
        let answer = self.provider.refresh(out, now, cluster, &mut notes);
        for line in notes {
            out.log(now, name, line);
        }
        answer
    }

    /// Reads the groups and decides, touching nothing but provider caches.
    fn plan(&mut self, world: &World, now: SimTime, rng: &mut SimRng) -> Result<Plan, String> {
        let opts = self.started.options.clone();
        let groups = self.provider.node_groups(world, now)?;
        let readiness = self.readiness(world, &groups, now);
        let mut cluster = Readiness::default();
        for (_, n) in world.live_nodes() {
            if n.ready {
                cluster.ready += 1;
            } else if now.since(n.created) < opts.timer(SimDuration::from_mins(15)) {
                cluster.not_started += 1;
            } else {
                cluster.unready += 1;
            }
        }
        let skip = |why: Skip| {
            Ok(Plan::Skip {
                groups: groups.clone(),
                readiness: readiness.clone(),
                why,
            })
        };
        if let Some(h) = &world.harness {
            let pending: Vec<PodId> = world.unbound_pods().map(|(id, _)| id).collect();
            let states = self.group_states(&groups, &readiness, now);
            let inputs = Inputs {
                world,
                groups: &groups,
                states: &states,
                options: &opts,
                priorities: world.priority_expander.as_ref(),
                current_node_count: world.live_nodes().count() as u32,
                harness: Some(h),
            };
            let decision = orchestrator::scale_up(&inputs, &pending, rng);
            return Ok(Plan::Decide {
                groups,
                readiness,
                decision,
            });
        }
        if !clusterstate::cluster_healthy(&cluster, &opts) {
            return skip(Skip::ClusterUnhealthy);
        }
        let pending = self.unschedulable_after_filter(world, &groups, &readiness, now);
        let pending: Vec<PodId> = pending
            .into_iter()
            .filter(|&p| now.since(world.pod(p).created) > opts.new_pod_scale_up_delay)
            .collect();
        if pending.is_empty() {
            return skip(Skip::NoUnschedulablePods);
        }
        if opts.max_nodes_total > 0 && cluster.ready >= opts.max_nodes_total {
            return skip(Skip::MaxNodesTotal);
        }
        let oldest = pending
            .iter()
            .map(|&p| world.pod(p).created)
            .min()
            .unwrap_or(now);
        let oldest_gpu = pending
            .iter()
            .filter(|&&p| world.pod(p).spec.requests.gpus > 0)
            .map(|&p| world.pod(p).created)
            .min();
        if oldest + opts.timer(NEW_POD_BUFFER) > now
            || oldest_gpu.is_some_and(|t| t + opts.timer(NEW_GPU_POD_BUFFER) > now)
        {
            return skip(Skip::PodsVeryNew);
        }
        let states = self.group_states(&groups, &readiness, now);
        let upcoming: u32 = groups
            .iter()
            .zip(&readiness)
            .map(|(g, r)| clusterstate::upcoming(g, r))
            .sum();
        let inputs = Inputs {
            world,
            groups: &groups,
            states: &states,
            options: &opts,
            priorities: world.priority_expander.as_ref(),
            current_node_count: cluster.ready + upcoming,
            harness: None,
        };
        let decision = orchestrator::scale_up(&inputs, &pending, rng);
        Ok(Plan::Decide {
            groups,
            readiness,
            decision,
        })
    }

    fn readiness(&self, world: &World, groups: &[NodeGroup], now: SimTime) -> Vec<Readiness> {
        let opts = &self.started.options;
        groups
            .iter()
            .map(|g| clusterstate::readiness(world, g, now, opts, &self.unregistered_since))
            .collect()
    }

    /// `ScaleUpToNodeGroupMinSize`, run after the scale-up when `--enforce-node-group-min-size`
    /// is set: groups below their min size grow to it, within the cluster's limits.
    fn scale_to_min_size(&mut self, name: &str, out: &mut dyn Outside, now: SimTime) {
        let Ok(groups) = self.provider.node_groups(out.world(), now) else {
            return;
        };
        let readiness = self.readiness(out.world(), &groups, now);
        let states = self.group_states(&groups, &readiness, now);
        let upcoming: u32 = groups
            .iter()
            .zip(&readiness)
            .map(|(g, r)| clusterstate::upcoming(g, r))
            .sum();
        let ready = out.world().live_nodes().filter(|(_, n)| n.ready).count() as u32;
        let opts = self.started.options.clone();
        let world = out.world();
        let inputs = Inputs {
            world,
            groups: &groups,
            states: &states,
            options: &opts,
            priorities: None,
            current_node_count: match &out.world().harness {
                Some(_) => out.world().live_nodes().count() as u32,
                None => ready + upcoming,
            },
            harness: out.world().harness.as_ref(),
        };
        let increases = orchestrator::scale_up_to_min_size(&inputs);
        if increases.is_empty() {
            return;
        }
        let plan: Vec<String> = increases
            .iter()
            .map(|i| reasons::scale_up_info(&groups[i.group].id, i.current, i.new, i.max))
            .collect();
        out.log(
            now,
            name,
            format!(
                "ScaleUpToNodeGroupMinSize: final scale-up plan: [{}]",
                plan.join(" ")
            ),
        );
        if let Err(e) = self.execute(name, out, now, &groups, &increases) {
            out.log(now, name, format!("Failed to scale up: {e}"));
        }
    }

    fn group_states(
        &self,
        groups: &[NodeGroup],
        readiness: &[Readiness],
        now: SimTime,
    ) -> Vec<GroupState> {
        let opts = &self.started.options;
        groups
            .iter()
            .zip(readiness)
            .map(|(g, r)| GroupState {
                healthy: clusterstate::group_healthy(g, r, self.requests.get(&g.id), opts),
                backoff: self.backoff.active(&g.id, now).is_some(),
            })
            .collect()
    }

    /// Unschedulable pods that fit neither existing nodes nor nodes already on their way
    /// (filter-out-schedulable on a snapshot with upcoming template nodes).
    fn unschedulable_after_filter(
        &self,
        world: &World,
        groups: &[NodeGroup],
        readiness: &[Readiness],
        now: SimTime,
    ) -> Vec<PodId> {
        let opts = &self.started.options;
        let mut pods: Vec<PodId> = world
            .unbound_pods()
            .filter(|(_, p)| {
                p.is_unschedulable() && p.spec.priority >= opts.expendable_pods_priority_cutoff
            })
            .map(|(id, _)| id)
            .collect();
        pods.sort_by_key(|&p| std::cmp::Reverse(world.pod(p).spec.priority));
        let mut snap = world.snapshot();
        snap.nodes.retain(|n| {
            n.id.is_none_or(|id| {
                let node = world.node(id);
                node.ready
                    || now.since(node.created)
                        >= self.started.options.timer(SimDuration::from_mins(15))
            })
        });
        add_upcoming(&mut snap, groups, readiness);
        snap.filter_out_schedulable(pods.into_iter().map(|p| (p, &*world.pod(p).spec)))
    }

    /// `updateScaleRequests`: a request whose nodes all arrived is done; one past its
    /// deadline times out and backs the group off.
    fn expire_requests(
        &mut self,
        name: &str,
        out: &mut dyn Outside,
        now: SimTime,
        groups: &[NodeGroup],
    ) {
        let opts = self.started.options.clone();
        let ids: Vec<String> = self.requests.keys().cloned().collect();
        for id in ids {
            let Some(g) = groups.iter().find(|g| g.id == id) else {
                continue;
            };
            let r = clusterstate::readiness(out.world(), g, now, &opts, &self.unregistered_since);
            if clusterstate::upcoming(g, &r) == 0 && r.unregistered == 0 {
                self.requests.remove(&id);
                continue;
            }
            let req = &self.requests[&id];
            if now > req.expected_add_time {
                // clusterstate.go (1.30.2) `updateScaleRequests`: the time since the request,
                // `currentTime.Sub(scaleUpRequest.Time)`, not the flag.
                let after = now.since(req.time);
                self.requests.remove(&id);
                self.event(
                    out,
                    now,
                    config_map_ref(&opts),
                    EventType::Warning,
                    "ScaleUpTimedOut",
                    reasons::scale_up_timed_out(&id, after),
                    name,
                );
                self.backoff.fail(
                    &id,
                    now,
                    &opts,
                    "timeout",
                    format!("Scale-up timed out for node group {id} after {after}"),
                );
            }
        }
    }

    /// Remembers when each server without a node was first seen; forgets the rest.
    fn notice_unregistered(&mut self, world: &World, now: SimTime) {
        let pending: Vec<&str> = world
            .machines
            .iter()
            .filter(|m| m.node.is_none())
            .map(|m| m.name.as_str())
            .collect();
        self.unregistered_since
            .retain(|m, _| pending.contains(&m.as_str()));
        for m in pending {
            self.unregistered_since.entry(m.to_string()).or_insert(now);
        }
    }

    /// `removeOldUnregisteredNodes`: servers that never registered within
    /// `--max-node-provision-time` are deleted and the group shrinks by one each. When any
    /// went, returns the groups' readiness as it stood before.
    fn remove_unregistered(
        &mut self,
        name: &str,
        out: &mut dyn Outside,
        now: SimTime,
        groups: &[NodeGroup],
    ) -> Option<Vec<Readiness>> {
        let limit = self.started.options.max_node_provision_time;
        let mut before = None;
        for g in groups {
            let stale: Vec<String> = out
                .world()
                .machines
                .iter()
                .filter(|m| m.node.is_none() && g.nodegroups.contains(&m.nodegroup))
                .filter(|m| {
                    self.unregistered_since
                        .get(&m.name)
                        .is_some_and(|&t| now.since(t) > limit)
                })
                .map(|m| m.name.clone())
                .collect();
            for machine in stale {
                if before.is_none() {
                    before = Some(self.readiness(out.world(), groups, now));
                }
                out.log(
                    now,
                    name,
                    format!("Removing unregistered node {machine} of group {}", g.id),
                );
                let node = self.unregistered_node_name(out.world(), g, &machine);
                let target = out.remove_unregistered(&machine);
                if let Some(t) = target {
                    self.provider.set_target(g, t);
                    if matches!(g.handle, Handle::MagnumNodegroup(_)) {
                        let sleep = self.started.options.timer(MAGNUM_POST_DELETE_SLEEP);
                        self.busy = self.busy.checked_add(sleep).unwrap_or(self.busy);
                    }
                    if let Some(node) = node {
                        let opts = self.started.options.clone();
                        self.event(
                            out,
                            now,
                            config_map_ref(&opts),
                            EventType::Normal,
                            "DeleteUnregistered",
                            format!("Removed unregistered node {node}"),
                            name,
                        );
                    }
                }
            }
        }
        before
    }

    /// The name upstream's fake node for a server that never registered carries
    /// (`FakeNode` names it after the instance id): for the clusterapi provider its
    /// pending-machine id, `pending-machine-<namespace>_<machine>` (seen with the real 1.30.2
    /// binary); for the magnum provider's nodegroups manager the member's fake provider id,
    /// `fake:///<nodegroup uuid>/<member index>`, as `getNodes` gives a member still in
    /// `CREATE_IN_PROGRESS` (`magnum_manager_impl.go`). The <= 1.18 Heat manager is not
    /// modelled: no event.
    fn unregistered_node_name(
        &self,
        world: &World,
        g: &NodeGroup,
        machine: &str,
    ) -> Option<String> {
        match (&self.started.provider, &g.handle) {
            (crate::deploy::ProviderKind::ClusterApi, _) => {
                let namespace = g.id.split('/').nth(1)?;
                Some(format!("pending-machine-{namespace}_{machine}"))
            }
            (crate::deploy::ProviderKind::Magnum(_), Handle::MagnumNodegroup(name)) => {
                let ng = world.cluster.as_ref()?.nodegroup(name).ok()?;
                let m = world.machines.iter().find(|m| m.name == machine)?;
                Some(format!("fake:///{}/{}", ng.uuid, m.index))
            }
            _ => None,
        }
    }

    fn act(
        &mut self,
        name: &str,
        out: &mut dyn Outside,
        now: SimTime,
        groups: &[NodeGroup],
        d: &Decision,
    ) -> LoopReport {
        let opts = self.started.options.clone();
        let cm = config_map_ref(&opts);
        match &d.outcome {
            Outcome::Error(e) => {
                out.log(now, name, format!("Failed to scale up: {e}"));
                LoopReport {
                    scaled_up: false,
                    error: Some(e.clone()),
                }
            }
            Outcome::NoOptions => {
                // One message per pod group, shared by its pods' events.
                let group_of = d.pod_group_index();
                let mut messages: Vec<Option<Arc<str>>> = vec![None; d.pod_groups.len()];
                for &p in &d.remain {
                    let Some(&pg) = group_of.get(&p) else {
                        continue;
                    };
                    let msg = messages[pg]
                        .get_or_insert_with(|| {
                            reasons::not_trigger_scale_up(&d.reasons_message(pg)).into()
                        })
                        .clone();
                    let obj = pod_ref(out.world(), p);
                    self.event(
                        out,
                        now,
                        obj,
                        EventType::Normal,
                        "NotTriggerScaleUp",
                        msg,
                        name,
                    );
                }
                LoopReport::default()
            }
            Outcome::ScaleUp(increases) => {
                if d.max_nodes_total_hit {
                    self.event(
                        out,
                        now,
                        cm.clone(),
                        EventType::Warning,
                        "MaxNodesTotalReached",
                        reasons::max_nodes_total_reached(opts.max_nodes_total),
                        name,
                    );
                }
                let infos = match self.execute(name, out, now, groups, increases) {
                    Ok(infos) => infos,
                    Err(e) => {
                        out.log(now, name, format!("Failed to scale up: {e}"));
                        return LoopReport {
                            scaled_up: false,
                            error: Some(e),
                        };
                    }
                };
                let msg: Arc<str> = reasons::triggered_scale_up(&infos).into();
                for &p in &d.triggered {
                    let obj = pod_ref(out.world(), p);
                    self.event(
                        out,
                        now,
                        obj,
                        EventType::Normal,
                        "TriggeredScaleUp",
                        msg.clone(),
                        name,
                    );
                }
                LoopReport {
                    scaled_up: true,
                    error: None,
                }
            }
        }
    }

    /// `ExecuteScaleUps`: grows each group in turn, with upstream's `ScaledUpGroup` events on
    /// the status ConfigMap; returns the `ScaleUpInfo`s, or the first failure.
    fn execute(
        &mut self,
        name: &str,
        out: &mut dyn Outside,
        now: SimTime,
        groups: &[NodeGroup],
        increases: &[Increase],
    ) -> Result<Vec<String>, String> {
        let opts = self.started.options.clone();
        let cm = config_map_ref(&opts);
        let mut infos = Vec::new();
        let mut failed = None;
        for inc in increases {
            let g = &groups[inc.group];
            self.klog(out, now, klog::SETTING_GROUP_SIZE, || {
                format!("Scale-up: setting group {} size to {}", g.id, inc.new)
            });
            self.event(
                out,
                now,
                cm.clone(),
                EventType::Normal,
                "ScaledUpGroup",
                reasons::scaled_up_group_setting(&g.id, inc.new, inc.current, inc.max),
                name,
            );
            let result = self.increase_size(name, out, now, g, inc);
            match result {
                Ok(()) => {
                    self.event(
                        out,
                        now,
                        cm.clone(),
                        EventType::Normal,
                        "ScaledUpGroup",
                        reasons::scaled_up_group_set(&g.id, inc.new, inc.current, inc.max),
                        name,
                    );
                    self.requests.insert(
                        g.id.clone(),
                        ScaleUpRequest {
                            increase: inc.new - inc.current,
                            time: now,
                            expected_add_time: now + opts.max_node_provision_time,
                        },
                    );
                    infos.push(reasons::scale_up_info(&g.id, inc.current, inc.new, inc.max));
                }
                Err(e) => {
                    self.event(
                        out,
                        now,
                        cm.clone(),
                        EventType::Warning,
                        "FailedToScaleUpGroup",
                        reasons::failed_to_scale_up_group(&g.id, &e),
                        name,
                    );
                    self.backoff.fail(
                        &g.id,
                        now,
                        &opts,
                        "cloudProviderError",
                        format!("failed to increase node group size: {e}"),
                    );
                    failed = Some(format!("failed to increase node group size: {e}"));
                }
            }
        }
        match failed {
            Some(e) => Err(e),
            None => Ok(infos),
        }
    }

    /// `IncreaseSize` on one group: the provider's checks, its request to the cloud (which
    /// faults can fail), then the cloud-side effect.
    fn increase_size(
        &mut self,
        name: &str,
        out: &mut dyn Outside,
        now: SimTime,
        g: &NodeGroup,
        inc: &Increase,
    ) -> Result<(), String> {
        let desired = self.provider.check_increase(g, inc.new - inc.current)?;
        let cluster = self
            .started
            .options
            .cluster_name
            .clone()
            .unwrap_or_default();
        let mut notes = Vec::new();
        let answer = self
            .provider
            .increase(out, now, g, inc.new, &cluster, &mut notes);
        for line in notes {
            out.log(now, name, line);
        }
        answer?;
        self.provider.set_target(g, desired);
        Ok(())
    }

    /// A klog line of the process, formatted only when `--v` lets it through.
    fn klog(&self, out: &mut dyn Outside, now: SimTime, site: Site, text: impl FnOnce() -> String) {
        if site.v <= self.started.options.verbosity && klog::measured(self.started.version) {
            out.klog(now, site, text());
        }
    }

    /// What `ScaleUp` logs of its decision: the pods it tries to help (up to the logging
    /// quota), then the option it picked and the plan, or that there was none.
    fn log_decision(
        &self,
        out: &mut dyn Outside,
        now: SimTime,
        groups: &[NodeGroup],
        d: &Decision,
    ) {
        if self.started.options.verbosity < 1 || !klog::measured(self.started.version) {
            return;
        }
        let pods: Vec<PodId> = d
            .pod_groups
            .iter()
            .flat_map(|g| g.pods.iter().copied())
            .collect();
        for &p in pods.iter().take(klog::PODS_LOGGING_QUOTA) {
            let pod = out.world().pod(p);
            let text = format!("Pod {}/{} is unschedulable", pod.namespace, pod.name);
            out.klog(now, klog::POD_UNSCHEDULABLE, text);
        }
        if let Some(more) = pods
            .len()
            .checked_sub(klog::PODS_LOGGING_QUOTA)
            .filter(|&n| n > 0)
        {
            let text = format!("{more} other pods are also unschedulable");
            out.klog(now, klog::POD_UNSCHEDULABLE, text);
        }
        match &d.outcome {
            Outcome::NoOptions => {
                out.klog(
                    now,
                    klog::NO_EXPANSION_OPTIONS,
                    "No expansion options".into(),
                );
            }
            Outcome::ScaleUp(increases) => {
                let Some(first) = increases.first() else {
                    return;
                };
                let id = &groups[first.group].id;
                out.klog(
                    now,
                    klog::BEST_OPTION,
                    format!("Best option to resize: {id}"),
                );
                if let Some(o) = d.options.iter().find(|o| o.group == first.group) {
                    let text = format!("Estimated {} nodes needed in {id}", o.node_count);
                    out.klog(now, klog::ESTIMATED_NODES, text);
                }
                let plan: Vec<String> = increases
                    .iter()
                    .map(|i| reasons::scale_up_info(&groups[i.group].id, i.current, i.new, i.max))
                    .collect();
                let text = format!("Final scale-up plan: [{}]", plan.join(" "));
                out.klog(now, klog::FINAL_PLAN, text);
            }
            Outcome::Error(_) => {}
        }
    }

    /// Records an event unless the spam filter holds it back (1 per 5 min per reason and
    /// object; per message for the status ConfigMap).
    #[allow(clippy::too_many_arguments)]
    fn event(
        &mut self,
        out: &mut dyn Outside,
        now: SimTime,
        obj: ObjectRef,
        t: EventType,
        reason: &'static str,
        message: impl Into<Arc<str>>,
        name: &str,
    ) {
        let message: Arc<str> = message.into();
        // The spam filter's key: reason and object, plus the message for the ConfigMap.
        let per_message = if obj.kind == "ConfigMap" {
            &*message
        } else {
            ""
        };
        let key = crate::kube::events::key_hash(&obj, reason, per_message, "");
        if !self.started.options.record_duplicated_events {
            if self
                .spam
                .get(&key)
                .is_some_and(|&last| now.since(last) < EVENT_SPAM_WINDOW)
            {
                return;
            }
            self.spam.insert(key, now);
        }
        out.log(now, name, event_line(t, reason, &obj, &message));
        out.record_event(now, obj, t, reason, message);
    }

    /// `updateLastTransitionSingleCondition`: a changed status takes the probe time.
    fn transition(&mut self, key: String, status: &str, probe: Option<SimTime>) -> Option<SimTime> {
        let e = self
            .transitions
            .entry(key)
            .or_insert_with(|| (status.to_string(), probe));
        if e.0 != status {
            *e = (status.to_string(), probe);
        }
        e.1
    }

    fn write_status(
        &mut self,
        out: &mut dyn Outside,
        now: SimTime,
        epoch: Epoch,
        groups: &[NodeGroup],
        readiness: &[Readiness],
        yaml: bool,
    ) {
        let opts = self.started.options.clone();
        if !opts.write_status_configmap {
            return;
        }
        let probe = Some(epoch.at(now));
        // A group with nothing in it has a zero probe time (and so, while its status holds,
        // no transition time either): `buildHealthStatusNodeGroup` reads its readiness entry.
        let times = |s: &mut Self, key: String, status: &str, probed: bool| {
            let probed = probed.then_some(now);
            ConditionTimes {
                last_probe_time: probed.and(probe),
                last_transition_time: s.transition(key, status, probed).map(|t| epoch.at(t)),
            }
        };
        let scale_down_times = |s: &mut Self, key: String| {
            let probed = s.scale_down_probed;
            ConditionTimes {
                last_probe_time: probed.map(|t| epoch.at(t)),
                last_transition_time: s
                    .transition(key, "NoCandidates", probed)
                    .map(|t| epoch.at(t)),
            }
        };
        let mut node_groups = Vec::new();
        let mut cluster = Readiness::default();
        let mut any_in_progress = false;
        for (g, r) in groups.iter().zip(readiness) {
            cluster.add(*r);
            let healthy = clusterstate::group_healthy(g, r, self.requests.get(&g.id), &opts);
            let backoff = self.backoff.active(&g.id, now).cloned();
            let (scale_up, backoff_info) = if self.requests.contains_key(&g.id) {
                any_in_progress = true;
                (NodeGroupScaleUpStatus::InProgress, None)
            } else if !healthy {
                (NodeGroupScaleUpStatus::Unhealthy, None)
            } else if let Some(b) = backoff {
                (
                    NodeGroupScaleUpStatus::Backoff,
                    Some(BackoffInfo {
                        error_code: b.error_code,
                        error_message: b.error_message,
                    }),
                )
            } else {
                (NodeGroupScaleUpStatus::NoActivity, None)
            };
            let health = if healthy {
                HealthStatus::Healthy
            } else {
                HealthStatus::Unhealthy
            };
            node_groups.push(NodeGroupStatus {
                name: g.id.clone(),
                health: NodeGroupHealth {
                    status: health,
                    node_counts: counts(r),
                    cloud_provider_target: g.target,
                    min_size: g.min,
                    max_size: g.max,
                    times: times(
                        self,
                        format!("{}/health", g.id),
                        &health.to_string(),
                        !r.is_empty(),
                    ),
                },
                scale_up: NodeGroupScaleUp {
                    status: scale_up,
                    backoff_info,
                    times: times(
                        self,
                        format!("{}/scaleUp", g.id),
                        &scale_up.to_string(),
                        !r.is_empty(),
                    ),
                },
                scale_down: ScaleDownCondition {
                    status: ScaleDownStatus::NoCandidates,
                    candidates: 0,
                    times: scale_down_times(self, format!("{}/scaleDown", g.id)),
                },
            });
        }
        for (_, n) in out.world().live_nodes() {
            let grouped = n
                .nodegroup
                .as_ref()
                .is_some_and(|ng| groups.iter().any(|g| g.nodegroups.contains(ng)));
            if !grouped {
                cluster.add(if n.ready {
                    Readiness {
                        ready: 1,
                        ..Default::default()
                    }
                } else {
                    Readiness {
                        not_started: 1,
                        ..Default::default()
                    }
                });
            }
        }
        let cluster_scale_up = if any_in_progress {
            ClusterScaleUpStatus::InProgress
        } else {
            ClusterScaleUpStatus::NoActivity
        };
        let status = AutoscalerStatus {
            time: epoch.at(now),
            autoscaler_status: Some(AutoscalerState::Running),
            message: None,
            cluster_wide: ClusterWideStatus {
                health: ClusterHealth {
                    status: HealthStatus::Healthy,
                    node_counts: counts(&cluster),
                    times: times(self, "cluster/health".into(), "Healthy", true),
                },
                scale_up: ClusterScaleUp {
                    status: cluster_scale_up,
                    times: times(
                        self,
                        "cluster/scaleUp".into(),
                        &cluster_scale_up.to_string(),
                        true,
                    ),
                },
                scale_down: ScaleDownCondition {
                    status: ScaleDownStatus::NoCandidates,
                    candidates: 0,
                    times: scale_down_times(self, "cluster/scaleDown".into()),
                },
            },
            node_groups,
        };
        let data = crate::world::ConfigMapData::AutoscalerStatus {
            status: Box::new(status.clone()),
            yaml: yaml && self.started.version.writes_yaml_status(),
        };
        out.write_config_map(&opts.namespace, &opts.status_config_map_name, data);
        self.status = Some(status);
    }
}

fn counts(r: &Readiness) -> NodeCounts {
    NodeCounts {
        registered: RegisteredNodes {
            total: r.registered(),
            ready: r.ready,
            not_started: r.not_started,
            being_deleted: 0,
            unready: UnreadyNodes {
                total: r.unready,
                resource_unready: 0,
            },
        },
        long_unregistered: r.long_unregistered,
        unregistered: r.unregistered,
    }
}

/// Upcoming nodes become template copies in the snapshot, so pods that will fit there are not
/// scaled up for twice.
fn add_upcoming(snap: &mut Snapshot, groups: &[NodeGroup], readiness: &[Readiness]) {
    let total: u32 = groups
        .iter()
        .zip(readiness)
        .map(|(g, r)| clusterstate::upcoming(g, r))
        .sum();
    snap.nodes.reserve(total as usize);
    for (g, r) in groups.iter().zip(readiness) {
        let Some(t) = &g.template else { continue };
        for i in 0..clusterstate::upcoming(g, r) {
            let mut n = t.node.clone();
            n.name = format!("{}-upcoming-{i}", t.node.name).into();
            snap.nodes.push(n);
        }
    }
}

/// The trace's `Normal Reason pod/name: message`, sized up front and built without the
/// formatting machinery (one per pod event).
fn event_line(t: EventType, reason: &str, obj: &ObjectRef, message: &str) -> String {
    let mut line = String::with_capacity(
        t.as_str().len() + reason.len() + obj.kind.len() + obj.name.len() + message.len() + 6,
    );
    for part in [t.as_str(), " ", reason, " "] {
        line.push_str(part);
    }
    obj.push_to(&mut line);
    line.push_str(": ");
    line.push_str(message);
    line
}

fn config_map_ref(o: &super::options::AutoscalerOptions) -> ObjectRef {
    ObjectRef::new("ConfigMap", &o.namespace, &o.status_config_map_name)
}

fn pod_ref(world: &World, p: PodId) -> ObjectRef {
    let pod = world.pod(p);
    ObjectRef::pod(pod)
}
