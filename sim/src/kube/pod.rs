//! Pods.

use super::{Labels, NodeAffinity, NodeId, Toleration};
use crate::resources::Resources;
use crate::time::SimTime;

/// Index of a pod in the world's pod table; stable for the whole run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PodId(pub u32);

/// The controller that owns a pod (`ReplicaSet/<name>` for Deployment pods).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Owner {
    pub kind: String,
    pub name: String,
}

/// The scheduling-relevant part of a pod spec; two pods with equal specs and labels under
/// one controller are equivalent for the autoscaler.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PodSpec {
    /// Summed container requests; `pods` is always 1.
    pub requests: Resources,
    pub node_selector: Labels,
    pub affinity: NodeAffinity,
    pub tolerations: Vec<Toleration>,
    pub node_name: Option<String>,
    pub host_ports: Vec<u16>,
    /// `topologySpreadConstraints` with `whenUnsatisfiable: DoNotSchedule`.
    pub topology_spread: Vec<TopologySpread>,
    pub priority: i32,
    pub container: String,
    pub image: String,
}

impl PodSpec {
    /// A spec that requests only CPU (milli) and memory (bytes).
    pub fn with_requests(milli_cpu: u64, memory: u64) -> PodSpec {
        PodSpec {
            requests: Resources {
                milli_cpu,
                memory,
                pods: 1,
                ..Resources::ZERO
            },
            ..Default::default()
        }
    }
}

/// One hard topology spread constraint: pods matching `selector` may differ by at most
/// `max_skew` between the domains of `key` (`kubernetes.io/hostname`, a zone label, ...).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopologySpread {
    pub max_skew: u32,
    pub key: String,
    pub selector: Labels,
}

impl TopologySpread {
    pub fn selects(&self, labels: &Labels) -> bool {
        self.selector
            .iter()
            .all(|(k, v)| labels.get(k).is_some_and(|x| x == v))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PodPhase {
    Pending,
    Running,
}

impl std::fmt::Display for PodPhase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PodPhase::Pending => "Pending",
            PodPhase::Running => "Running",
        })
    }
}

/// The `PodScheduled` condition as the scheduler leaves it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScheduledCondition {
    /// Not yet tried.
    Unknown,
    /// `status=False reason=Unschedulable`, with kube-scheduler's message.
    Unschedulable {
        since: SimTime,
        message: String,
    },
    Scheduled {
        at: SimTime,
    },
}

#[derive(Clone, Debug)]
pub struct Pod {
    pub name: std::sync::Arc<str>,
    pub namespace: std::sync::Arc<str>,
    pub uid: String,
    pub owner: Option<Owner>,
    pub labels: Labels,
    /// Shared with the pod's controller and its siblings, so equal specs are usually the same
    /// allocation and compare by pointer.
    pub spec: std::sync::Arc<PodSpec>,
    pub created: SimTime,
    pub node: Option<NodeId>,
    pub phase: PodPhase,
    pub scheduled: ScheduledCondition,
    pub deleted: bool,
}

impl Pod {
    pub fn is_unschedulable(&self) -> bool {
        !self.deleted
            && self.node.is_none()
            && matches!(self.scheduled, ScheduledCondition::Unschedulable { .. })
    }

    pub fn is_pending(&self) -> bool {
        !self.deleted && self.node.is_none()
    }

    /// `namespace/name`.
    pub fn key(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }
}
