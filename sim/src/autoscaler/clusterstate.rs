//! Cluster state as cluster-autoscaler tracks it: node readiness per group, upcoming nodes,
//! health, scale-up requests in flight and failed-scale-up backoff.

use super::options::AutoscalerOptions;
use super::provider::NodeGroup;
use crate::time::{SimDuration, SimTime};
use crate::world::World;
use std::collections::BTreeMap;

/// A node is NotStarted (not Unready) for this long after creation (`MaxNodeStartupTime`).
const MAX_NODE_STARTUP_TIME: SimDuration = SimDuration::from_mins(15);

/// Node counts of one group (or the cluster).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Readiness {
    pub ready: u32,
    pub unready: u32,
    pub not_started: u32,
    pub unregistered: u32,
    pub long_unregistered: u32,
}

impl Readiness {
    pub fn registered(&self) -> u32 {
        self.ready + self.unready + self.not_started
    }

    /// No node and no server counted: upstream then has no readiness entry for the group,
    /// whose probe time is zero (`updateReadinessStats` adds one per node it sees).
    pub fn is_empty(&self) -> bool {
        self.registered() + self.unregistered + self.long_unregistered == 0
    }

    pub fn add(&mut self, o: Readiness) {
        self.ready += o.ready;
        self.unready += o.unready;
        self.not_started += o.not_started;
        self.unregistered += o.unregistered;
        self.long_unregistered += o.long_unregistered;
    }
}

/// When the autoscaler first saw each server without a node, by server name. Upstream counts
/// an unregistered instance as long-unregistered from when it noticed it, not from when it
/// was created, so a request times out before its server is given up on.
pub type UnregisteredSince = BTreeMap<String, SimTime>;

/// Counts nodes and machines of `group` at `now`.
pub fn readiness(
    world: &World,
    group: &NodeGroup,
    now: SimTime,
    opts: &AutoscalerOptions,
    since: &UnregisteredSince,
) -> Readiness {
    let mut r = Readiness::default();
    for (_, n) in world.live_nodes() {
        if !n
            .nodegroup
            .as_ref()
            .is_some_and(|ng| group.nodegroups.contains(ng))
        {
            continue;
        }
        if n.ready {
            r.ready += 1;
        } else if now.since(n.created) < opts.timer(MAX_NODE_STARTUP_TIME) {
            r.not_started += 1;
        } else {
            r.unready += 1;
        }
    }
    for m in world
        .machines
        .iter()
        .filter(|m| m.node.is_none() && group.nodegroups.contains(&m.nodegroup))
    {
        let noticed = since.get(&m.name).copied().unwrap_or(now);
        if now.since(noticed) > opts.max_node_provision_time {
            r.long_unregistered += 1;
        } else {
            r.unregistered += 1;
        }
    }
    r
}

/// Nodes requested but not yet registered-and-ready (`GetUpcomingNodes`).
pub fn upcoming(group: &NodeGroup, r: &Readiness) -> u32 {
    group
        .target
        .saturating_sub(r.ready + r.unready + r.long_unregistered)
}

/// A scale-up the cloud accepted and the autoscaler is waiting on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScaleUpRequest {
    pub increase: u32,
    pub time: SimTime,
    pub expected_add_time: SimTime,
}

/// `IsNodeGroupHealthy`: too few ready nodes beyond both tolerances means unhealthy.
pub fn group_healthy(
    group: &NodeGroup,
    r: &Readiness,
    request: Option<&ScaleUpRequest>,
    opts: &AutoscalerOptions,
) -> bool {
    let min_acceptable = group
        .target
        .saturating_sub(r.long_unregistered)
        .saturating_sub(request.map_or(0, |q| q.increase));
    if r.ready >= min_acceptable {
        return true;
    }
    let unjustified = (min_acceptable - r.ready) as f64;
    let total = (r.ready + r.unready + r.not_started) as f64;
    !(unjustified > opts.ok_total_unready_count as f64
        && unjustified > opts.max_total_unready_percentage / 100.0 * total)
}

/// `IsClusterHealthy`.
pub fn cluster_healthy(r: &Readiness, opts: &AutoscalerOptions) -> bool {
    let unready = r.unready as f64;
    let total = r.registered() as f64;
    !(unready > opts.ok_total_unready_count as f64
        && unready > opts.max_total_unready_percentage / 100.0 * total)
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackoffEntry {
    pub duration: SimDuration,
    pub until: SimTime,
    pub last_failure: SimTime,
    pub error_code: String,
    pub error_message: String,
}

/// Exponential backoff per node group (`utils/backoff/exponential_backoff.go`).
#[derive(Clone, Debug, Default)]
pub struct Backoff {
    entries: BTreeMap<String, BackoffEntry>,
}

impl Backoff {
    /// Records a failed scale-up: the first backs off for the initial duration; one after the
    /// previous backoff expired doubles it (up to the max); one during a backoff keeps it.
    pub fn fail(
        &mut self,
        group: &str,
        now: SimTime,
        opts: &AutoscalerOptions,
        code: &str,
        message: String,
    ) {
        let duration = match self.entries.get(group) {
            Some(e) if e.until <= now => SimDuration(
                e.duration
                    .0
                    .saturating_mul(2)
                    .min(opts.max_node_group_backoff_duration.0),
            ),
            Some(e) => e.duration,
            None => opts.initial_node_group_backoff_duration,
        };
        self.entries.insert(
            group.to_string(),
            BackoffEntry {
                duration,
                until: now + duration,
                last_failure: now,
                error_code: code.to_string(),
                error_message: message,
            },
        );
    }

    /// The active backoff of `group`, if any.
    pub fn active(&self, group: &str, now: SimTime) -> Option<&BackoffEntry> {
        self.entries.get(group).filter(|e| now < e.until)
    }

    /// Forgets groups whose last failure is older than the reset timeout.
    pub fn forget_stale(&mut self, now: SimTime, opts: &AutoscalerOptions) {
        self.entries
            .retain(|_, e| now.since(e.last_failure) < opts.node_group_backoff_reset_timeout);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unregistered_counts_from_when_it_was_noticed() {
        use crate::autoscaler::provider::Handle;
        use crate::world::Machine;
        let mut w = World::default();
        w.machines.push(Machine {
            name: "m".into(),
            nodegroup: "g".into(),
            created: SimTime(0),
            node: None,
            never_ready: true,
            index: 0,
            delete_mark: None,
        });
        let g = NodeGroup {
            id: "g".into(),
            min: 0,
            max: 2,
            target: 1,
            nodegroups: vec!["g".into()],
            handle: Handle::HeatCluster,
            template: None,
        };
        let o = AutoscalerOptions::default();
        let mut since = UnregisteredSince::new();
        since.insert("m".into(), SimTime(10_000));
        let at = |ms| readiness(&w, &g, SimTime(ms), &o, &since);
        assert_eq!(
            (at(905_000).unregistered, at(905_000).long_unregistered),
            (1, 0)
        );
        assert_eq!(
            (at(910_001).unregistered, at(910_001).long_unregistered),
            (0, 1)
        );
        assert_eq!(upcoming(&g, &at(910_001)), 0);
        assert_eq!(upcoming(&g, &at(905_000)), 1);
    }

    #[test]
    fn backoff_doubles_after_expiry_and_caps() {
        let o = AutoscalerOptions::default();
        let mut b = Backoff::default();
        b.fail("g", SimTime(0), &o, "timeout", "m".into());
        assert_eq!(
            b.active("g", SimTime(1)).unwrap().duration,
            SimDuration::from_mins(5)
        );
        b.fail("g", SimTime(60_000), &o, "timeout", "m".into());
        assert_eq!(
            b.active("g", SimTime(60_001)).unwrap().duration,
            SimDuration::from_mins(5)
        );
        b.fail("g", SimTime(400_000), &o, "timeout", "m".into());
        assert_eq!(
            b.active("g", SimTime(400_001)).unwrap().duration,
            SimDuration::from_mins(10)
        );
        for k in 0..10u64 {
            let t = SimTime(10_000_000 + k * 4_000_000);
            b.fail("g", t, &o, "timeout", "m".into());
        }
        assert_eq!(
            b.active("g", SimTime(46_000_001)).unwrap().duration,
            SimDuration::from_mins(30)
        );
        assert!(b.active("g", SimTime(46_000_000 + 1_800_000)).is_none());
        b.forget_stale(SimTime(46_000_000 + 3 * 3_600_000), &o);
        assert!(b.entries.is_empty());
    }
}
