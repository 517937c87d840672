//! The estimator's path for pods with topology spread constraints: PodTopologySpread needs
//! pod counts per domain over the whole snapshot (existing nodes and the ones being added),
//! so these pods are placed one by one with the full check.

use super::estimator::Estimate;
use super::provider::Template;
use crate::kube::{Labels, PodId, PodSpec, TopologySpread};
use crate::scheduler::{fits_resources, SnapNode};
use std::collections::BTreeMap;

/// A pending pod as this path needs it.
pub struct SpreadPod<'a> {
    pub id: PodId,
    pub spec: &'a PodSpec,
    pub labels: &'a Labels,
}

/// A node already in the cluster: its labels and the labels of the pods on it.
pub struct ExistingNode<'a> {
    pub labels: &'a Labels,
    pub pods: Vec<&'a Labels>,
}

struct NewNode<'a> {
    snap: SnapNode,
    pods: Vec<&'a Labels>,
}

/// Places `pods` (already in the estimator's order) on copies of `template`: the last added
/// node first, then any added node, then a new one. A pod that fits no fresh node ends its
/// group's packing, as upstream's estimator stops rather than add nodes that stay empty; only
/// nodes that received pods are counted.
pub fn estimate<'a>(
    pods: &[SpreadPod<'a>],
    template: &Template,
    node_limit: Option<u32>,
    existing: &[ExistingNode<'a>],
) -> Estimate {
    let mut nodes: Vec<NewNode<'a>> = Vec::new();
    let mut placed = Vec::new();
    let mut stuck_spec: Option<&PodSpec> = None;
    for p in pods {
        if stuck_spec.is_some_and(|s| s == p.spec) {
            continue;
        }
        let order = (0..nodes.len()).rev().take(1).chain(0..nodes.len());
        let fit = order.into_iter().find(|&i| fits(p, i, &nodes, existing));
        let target = match fit {
            Some(i) => i,
            None => {
                let last_empty = nodes.last().is_some_and(|n| n.pods.is_empty());
                if last_empty || node_limit.is_some_and(|l| nodes.len() as u32 >= l) {
                    stuck_spec = Some(p.spec);
                    continue;
                }
                nodes.push(NewNode {
                    snap: template.node.clone(),
                    pods: Vec::new(),
                });
                let i = nodes.len() - 1;
                if !fits(p, i, &nodes, existing) {
                    stuck_spec = Some(p.spec);
                    continue;
                }
                i
            }
        };
        nodes[target].snap.place(p.spec);
        nodes[target].pods.push(p.labels);
        placed.push(p.id);
    }
    Estimate {
        node_count: nodes.iter().filter(|n| !n.pods.is_empty()).count() as u32,
        pods: placed,
    }
}

fn fits(p: &SpreadPod, i: usize, all: &[NewNode], existing: &[ExistingNode]) -> bool {
    fits_resources(p.spec, &all[i].snap)
        && p.spec
            .topology_spread
            .iter()
            .all(|c| skew_ok(c, p.labels, i, all, existing))
}

const HOSTNAME: &str = "kubernetes.io/hostname";

/// A topology domain: a label value, or a new node's own hostname (each copy of the template
/// gets a unique one).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Domain<'a> {
    Label(&'a str),
    NewNode(usize),
}

fn new_node_domain<'a>(c: &TopologySpread, i: usize, n: &'a NewNode) -> Option<Domain<'a>> {
    if c.key == HOSTNAME {
        return Some(Domain::NewNode(i));
    }
    n.snap.labels.get(&c.key).map(|d| Domain::Label(d))
}

/// PodTopologySpread's filter: once the pod is placed, its domain may exceed the emptiest
/// domain by at most `max_skew`. Domains are the key's values over every node.
fn skew_ok(
    c: &TopologySpread,
    labels: &Labels,
    i: usize,
    all: &[NewNode],
    existing: &[ExistingNode],
) -> bool {
    let Some(mine) = new_node_domain(c, i, &all[i]) else {
        return false;
    };
    let matching = |pods: &[&Labels]| pods.iter().filter(|l| c.selects(l)).count() as u32;
    let mut counts: BTreeMap<Domain, u32> = BTreeMap::new();
    for n in existing {
        if let Some(d) = n.labels.get(&c.key) {
            *counts.entry(Domain::Label(d)).or_default() += matching(&n.pods);
        }
    }
    for (j, n) in all.iter().enumerate() {
        if let Some(d) = new_node_domain(c, j, n) {
            *counts.entry(d).or_default() += matching(&n.pods);
        }
    }
    let min = counts.values().copied().min().unwrap_or(0);
    let here = counts.get(&mine).copied().unwrap_or(0);
    here + u32::from(c.selects(labels)) <= min + c.max_skew
}
