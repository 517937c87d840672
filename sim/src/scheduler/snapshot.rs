//! A cluster snapshot: nodes with what is already placed on them. The scheduler binds from one;
//! the autoscaler forks one and adds upcoming and template nodes to simulate.

use super::filter::{self, Rejection, StaticMemo};
use super::message::fit_error_message;
use crate::kube::{Labels, NodeId, PodSpec, Taint};
use crate::resources::Resources;

/// One node as scheduling sees it.
#[derive(Clone, Debug)]
pub struct SnapNode {
    /// Shared, so copies of a template cost no allocation.
    pub name: std::sync::Arc<str>,
    /// The world node behind this entry; `None` for upcoming and template nodes.
    pub id: Option<NodeId>,
    pub allocatable: Resources,
    /// Shared with the world's node (or the template), so snapshots copy a pointer.
    pub labels: std::sync::Arc<Labels>,
    /// Effective taints (including not-ready and cordon taints).
    pub taints: Vec<Taint>,
    pub unschedulable: bool,
    pub requested: Resources,
    pub host_ports: Vec<u16>,
    /// The world node's scheduling class with its readiness and cordon (`None` for
    /// upcoming and template nodes): equal classes pass or fail the static filters together.
    pub class: Option<u32>,
}

impl SnapNode {
    /// A node with nothing placed on it.
    pub fn empty(
        name: impl Into<std::sync::Arc<str>>,
        allocatable: Resources,
        labels: impl Into<std::sync::Arc<Labels>>,
        taints: Vec<Taint>,
    ) -> SnapNode {
        SnapNode {
            name: name.into(),
            id: None,
            allocatable,
            labels: labels.into(),
            taints,
            unschedulable: false,
            requested: Resources::ZERO,
            host_ports: Vec::new(),
            class: None,
        }
    }

    pub fn check(&self, spec: &PodSpec) -> Result<(), Rejection> {
        filter::check(spec, self)
    }

    pub fn fits(&self, spec: &PodSpec) -> bool {
        filter::fits(spec, self)
    }

    /// Places `n` pods of `spec` at once.
    pub fn place_n(&mut self, spec: &PodSpec, n: u64) {
        self.requested = self.requested.plus(spec.requests.times(n));
        for _ in 0..n.min(u64::from(!spec.host_ports.is_empty())) {
            self.host_ports.extend_from_slice(&spec.host_ports);
        }
    }

    pub fn place(&mut self, spec: &PodSpec) {
        self.requested = self.requested.plus(spec.requests);
        self.host_ports.extend_from_slice(&spec.host_ports);
    }

    /// NodeResourcesFit's LeastAllocated score after placing `spec` (0..=100).
    fn score(&self, spec: &PodSpec) -> u64 {
        let after = self.requested.plus(spec.requests);
        let part = |alloc: u64, used: u64| {
            (alloc.saturating_sub(used) * 100)
                .checked_div(alloc)
                .unwrap_or(0)
        };
        (part(self.allocatable.milli_cpu, after.milli_cpu)
            + part(self.allocatable.memory, after.memory))
            / 2
    }
}

/// Why no node took a pod.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FitError {
    pub num_nodes: usize,
    pub rejections: Vec<Rejection>,
}

impl FitError {
    pub fn message(&self) -> String {
        fit_error_message(self.num_nodes, &self.rejections)
    }
}

#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    pub nodes: Vec<SnapNode>,
}

impl Snapshot {
    /// kube-scheduler's choice: the feasible node with the best score, ties to the earliest
    /// node (snapshots list nodes in creation order, so this is deterministic).
    pub fn best_node(&self, spec: &PodSpec) -> Result<usize, FitError> {
        self.best_node_with(spec, &mut StaticMemo::default())
    }

    /// [`Snapshot::best_node`] with a memo kept across the pods of one scheduling pass.
    pub fn best_node_with(&self, spec: &PodSpec, memo: &mut StaticMemo) -> Result<usize, FitError> {
        let mut best: Option<(u64, usize)> = None;
        for (i, node) in self.nodes.iter().enumerate() {
            if memo.fits(spec, node) {
                let s = node.score(spec);
                if best.is_none_or(|(bs, _)| s > bs) {
                    best = Some((s, i));
                }
            }
        }
        best.map(|(_, i)| i).ok_or_else(|| FitError {
            num_nodes: self.nodes.len(),
            rejections: self
                .nodes
                .iter()
                .filter_map(|n| n.check(spec).err())
                .collect(),
        })
    }

    /// cluster-autoscaler's filter-out-schedulable: places each pod, in order, on the first node
    /// (from a rotating start) that takes it, and returns the pods that fit nowhere.
    ///
    /// Placing only ever consumes capacity, so a spec that failed once fails for the rest of the
    /// pass; such pods are rejected without another walk over the nodes (upstream skips only
    /// repeats from the same controller; the answer is the same).
    pub fn filter_out_schedulable<'a, T: Copy>(
        &mut self,
        pods: impl IntoIterator<Item = (T, &'a PodSpec)>,
    ) -> Vec<T> {
        let mut failed: Vec<&PodSpec> = Vec::new();
        let mut left = Vec::new();
        let mut cursor = 0;
        let mut memo = StaticMemo::default();
        for (id, spec) in pods {
            if failed.iter().any(|f| std::ptr::eq(*f, spec) || *f == spec) {
                left.push(id);
                continue;
            }
            match self.first_fit(spec, cursor, &mut memo) {
                Some(i) => {
                    self.nodes[i].place(spec);
                    cursor = (i + 1) % self.nodes.len();
                }
                None => {
                    failed.push(spec);
                    left.push(id);
                }
            }
        }
        left
    }

    /// The cluster-autoscaler's choice: the first node, from `start`, that passes the filters
    /// (upstream's `FitsAnyNodeMatching` walk).
    pub fn first_fit(&self, spec: &PodSpec, start: usize, memo: &mut StaticMemo) -> Option<usize> {
        let n = self.nodes.len();
        (0..n)
            .map(|k| (start + k) % n)
            .find(|&i| memo.fits(spec, &self.nodes[i]))
    }
}
