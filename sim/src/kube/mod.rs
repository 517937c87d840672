//! Kubernetes objects as the scheduler and autoscaler see them.

pub mod events;
pub mod labels;
pub mod node;
pub mod pod;
pub mod taints;
pub mod workload;

pub use events::{Event, EventLog, EventType, ObjectRef};
pub use labels::{Labels, NodeAffinity, NodeSelectorRequirement, NodeSelectorTerm, SelectorOp};
pub use node::{Node, NodeId};
pub use pod::{Owner, Pod, PodId, PodPhase, PodSpec, ScheduledCondition, TopologySpread};
pub use taints::{Taint, TaintEffect, Toleration, TolerationOp};
pub use workload::Deployment;
