//! One scale-up decision (`ScaleUpOrchestrator.ScaleUp`): skip groups that cannot grow, check
//! each pod group against each template, estimate, expand, cap and balance.

use super::equivalence::{self, PodGroup};
use super::estimator::{decreasing, estimate, EstimateGroup};
use super::expander::{self, Priorities, ScaleUpOption};
use super::harness::Harness;
use super::options::AutoscalerOptions;
use super::provider::NodeGroup;
use super::reasons;
use super::spread::{self, ExistingNode, SpreadPod};
use crate::kube::PodId;
use crate::resources::GIB;
use crate::rng::SimRng;
use crate::world::World;
use std::collections::BTreeMap;

/// What the orchestrator concluded about one node group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupVerdict {
    pub id: String,
    /// The skip reason, when the group was not considered at all.
    pub skipped: Option<String>,
    /// Per pod group (index into `Decision::pod_groups`): the template's rejection reasons.
    pub rejected: BTreeMap<usize, Vec<String>>,
    /// The estimate, when the group produced an option: (nodes, pods).
    pub option: Option<(u32, usize)>,
}

/// A planned size change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Increase {
    pub group: usize,
    pub current: u32,
    pub new: u32,
    pub max: u32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing can help the pods: `NotTriggerScaleUp` for `remain`.
    NoOptions,
    /// Scale up as listed (balanced over similar groups when enabled).
    ScaleUp(Vec<Increase>),
    /// The decision failed (no pod events; upstream logs `Failed to scale up: ...`).
    Error(String),
}

#[derive(Clone, Debug)]
pub struct Decision {
    pub pod_groups: Vec<PodGroup>,
    pub groups: Vec<GroupVerdict>,
    pub options: Vec<ScaleUpOption>,
    pub outcome: Outcome,
    pub triggered: Vec<PodId>,
    pub remain: Vec<PodId>,
    pub awaiting: Vec<PodId>,
    /// `Max total nodes in cluster reached: N` when the cap was applied.
    pub max_nodes_total_hit: bool,
}

impl Decision {
    /// The `NotTriggerScaleUp` reasons for a pod group: every skipped group's reason and every
    /// rejecting group's reasons, counted. Upstream iterates a Go map; magsim orders by count
    /// (descending) then text.
    pub fn reasons_message(&self, pod_group: usize) -> String {
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for g in &self.groups {
            if let Some(s) = &g.skipped {
                *counts.entry(s).or_default() += 1;
            }
            for r in g.rejected.get(&pod_group).into_iter().flatten() {
                *counts.entry(r).or_default() += 1;
            }
        }
        let mut items: Vec<(&str, usize)> = counts.into_iter().collect();
        items.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        items
            .iter()
            .map(|(r, n)| format!("{n} {r}"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Each pod's group, as [`Decision::pod_group_of`] finds it, for many look-ups.
    pub fn pod_group_index(&self) -> BTreeMap<PodId, usize> {
        let mut index = BTreeMap::new();
        for (i, g) in self.pod_groups.iter().enumerate() {
            for &p in &g.pods {
                index.entry(p).or_insert(i);
            }
        }
        index
    }

    pub fn pod_group_of(&self, pod: PodId) -> Option<usize> {
        self.pod_groups.iter().position(|g| g.pods.contains(&pod))
    }
}

/// What the orchestrator needs to know about each group besides the group itself.
pub struct GroupState {
    pub healthy: bool,
    pub backoff: bool,
}

pub struct Inputs<'a> {
    pub world: &'a World,
    pub groups: &'a [NodeGroup],
    pub states: &'a [GroupState],
    pub options: &'a AutoscalerOptions,
    pub priorities: Option<&'a Priorities>,
    /// Ready nodes plus upcoming ones.
    pub current_node_count: u32,
    /// Upstream's unit-test set-up, when a scenario mirrors one.
    pub harness: Option<&'a Harness>,
}

pub fn scale_up(inp: &Inputs, pods: &[PodId], rng: &mut SimRng) -> Decision {
    let pod_groups = equivalence::build(inp.world, pods);
    let mut d = Decision {
        pod_groups,
        groups: inp
            .groups
            .iter()
            .map(|g| GroupVerdict {
                id: g.id.clone(),
                skipped: None,
                rejected: BTreeMap::new(),
                option: None,
            })
            .collect(),
        options: Vec::new(),
        outcome: Outcome::NoOptions,
        triggered: Vec::new(),
        remain: Vec::new(),
        awaiting: Vec::new(),
        max_nodes_total_hit: false,
    };
    let (cores_left, memory_left) = match resources_left(inp) {
        Ok(left) => left,
        Err(e) => {
            d.outcome = Outcome::Error(e);
            return d;
        }
    };
    let mut schedulable_on: Vec<Vec<usize>> = vec![Vec::new(); d.pod_groups.len()];
    for (gi, g) in inp.groups.iter().enumerate() {
        d.groups[gi].skipped = skip_reason(g, &inp.states[gi], cores_left, memory_left);
        if d.groups[gi].skipped.is_some() {
            continue;
        }
        let Some(t) = &g.template else { continue };
        for (pi, pg) in d.pod_groups.iter().enumerate() {
            match t.node.check(&inp.world.pod(pg.exemplar()).spec) {
                Ok(()) => schedulable_on[pi].push(gi),
                Err(r) => {
                    d.groups[gi].rejected.insert(pi, r.reasons);
                }
            }
        }
    }
    for (gi, g) in inp.groups.iter().enumerate() {
        let (Some(t), None) = (&g.template, &d.groups[gi].skipped) else {
            continue;
        };
        let eg: Vec<EstimateGroup> = d
            .pod_groups
            .iter()
            .enumerate()
            .filter(|(pi, _)| schedulable_on[*pi].contains(&gi))
            .map(|(_, pg)| EstimateGroup {
                spec: &inp.world.pod(pg.exemplar()).spec,
                pods: &pg.pods,
            })
            .collect();
        if eg.is_empty() {
            continue;
        }
        let e = if eg.iter().any(|x| !x.spec.topology_spread.is_empty()) {
            estimate_with_spread(inp.world, &eg, t, node_limit(inp, g))
        } else {
            estimate(&eg, t, node_limit(inp, g))
        };
        if e.node_count > 0 && !e.pods.is_empty() {
            d.groups[gi].option = Some((e.node_count, e.pods.len()));
            d.options.push(ScaleUpOption {
                group: gi,
                node_count: e.node_count,
                pods: e.pods,
            });
        }
    }
    for (pi, pg) in d.pod_groups.iter().enumerate() {
        if schedulable_on[pi].is_empty() {
            d.remain.extend_from_slice(&pg.pods);
        }
    }
    let Some(best) = choose(inp, &d.options, rng) else {
        if inp.harness.is_some_and(|h| h.choose.is_some()) && !d.options.is_empty() {
            d.outcome = Outcome::Error("the option to choose is not among the options".into());
        }
        return d;
    };
    let best = d.options[best].clone();
    for (pi, pg) in d.pod_groups.iter().enumerate() {
        if !schedulable_on[pi].is_empty() && !schedulable_on[pi].contains(&best.group) {
            d.awaiting.extend_from_slice(&pg.pods);
        }
    }
    d.triggered = best.pods.clone();
    d.outcome = match plan_increase(
        inp,
        &best,
        &schedulable_on,
        cores_left,
        memory_left,
        &mut d.max_nodes_total_hit,
    ) {
        Ok(inc) => Outcome::ScaleUp(inc),
        Err(e) => Outcome::Error(e),
    };
    d
}

/// The estimate for pod groups some of which spread over a topology: pod by pod, counting
/// matching pods on the cluster's nodes.
fn estimate_with_spread(
    world: &World,
    eg: &[EstimateGroup],
    t: &super::provider::Template,
    node_limit: Option<u32>,
) -> super::estimator::Estimate {
    let pods: Vec<SpreadPod> = decreasing(eg, t)
        .into_iter()
        .flat_map(|gi| eg[gi].pods.iter())
        .map(|&id| SpreadPod {
            id,
            spec: &world.pod(id).spec,
            labels: &world.pod(id).labels,
        })
        .collect();
    let existing: Vec<ExistingNode> = world
        .live_nodes()
        .map(|(nid, n)| ExistingNode {
            labels: &n.labels,
            pods: world
                .live_pods()
                .filter(|(_, p)| p.node == Some(nid))
                .map(|(_, p)| &p.labels)
                .collect(),
        })
        .collect();
    spread::estimate(&pods, t, node_limit, &existing)
}

/// `ScaleUpToNodeGroupMinSize`: every healthy group below its min size grows to it, each
/// capped by the cores and memory left and by `--max-nodes-total`, in group order.
pub fn scale_up_to_min_size(inp: &Inputs) -> Vec<Increase> {
    let Ok((mut cores_left, mut memory_left)) = resources_left(inp) else {
        return Vec::new();
    };
    let mut nodes = inp.current_node_count;
    let mut out = Vec::new();
    for (gi, g) in inp.groups.iter().enumerate() {
        let s = &inp.states[gi];
        let Some(t) = &g.template else { continue };
        if !s.healthy || s.backoff || g.target >= g.min || g.target >= g.max {
            continue;
        }
        let fit = |left: u64, per_node: u64| {
            left.checked_div(per_node)
                .map_or(u32::MAX, |n| n.min(u32::MAX as u64) as u32)
        };
        let mut count = (g.min - g.target)
            .min(fit(cores_left, t.cores()))
            .min(fit(memory_left, t.capacity.memory));
        if inp.options.max_nodes_total > 0 {
            count = count.min(inp.options.max_nodes_total.saturating_sub(nodes));
        }
        if count == 0 {
            continue;
        }
        cores_left -= count as u64 * t.cores();
        memory_left -= count as u64 * t.capacity.memory;
        nodes += count;
        out.push(Increase {
            group: gi,
            current: g.target,
            new: g.target + count,
            max: g.max,
        });
    }
    out
}

/// The expander's pick, or the option upstream's test names (`ExpansionOptionToChoose`).
fn choose(inp: &Inputs, options: &[ScaleUpOption], rng: &mut SimRng) -> Option<usize> {
    if let Some((group, nodes)) = inp.harness.and_then(|h| h.choose.as_ref()) {
        return options
            .iter()
            .position(|o| &inp.groups[o.group].id == group && o.node_count == *nodes);
    }
    expander::choose(
        &inp.options.expander,
        options,
        inp.groups,
        inp.world,
        inp.priorities,
        rng,
    )
}

/// `ResourcesLeft`: cluster-wide cores and memory under `--cores-total`/`--memory-total`.
fn resources_left(inp: &Inputs) -> Result<(u64, u64), String> {
    let (mut cores, mut memory) = (0u64, 0u64);
    for g in inp.groups {
        let t = g
            .template
            .as_ref()
            .ok_or_else(|| reasons::no_node_info(&g.id))?;
        // Saturating: a target of billions (a scenario may ask) must not wrap into headroom.
        let n = u64::from(g.target);
        cores = cores.saturating_add(n.saturating_mul(t.cores()));
        memory = memory.saturating_add(n.saturating_mul(t.capacity.memory));
    }
    for (_, n) in inp.world.live_nodes() {
        let grouped = n
            .nodegroup
            .as_ref()
            .is_some_and(|ng| inp.groups.iter().any(|g| g.nodegroups.contains(ng)));
        if !grouped {
            cores = cores.saturating_add(n.capacity.milli_cpu.div_ceil(1000));
            memory = memory.saturating_add(n.capacity.memory);
        }
    }
    let o = inp.options;
    Ok((
        o.cores_total.1.saturating_sub(cores),
        o.memory_total_gib
            .1
            .saturating_mul(GIB)
            .saturating_sub(memory),
    ))
}

fn skip_reason(g: &NodeGroup, s: &GroupState, cores_left: u64, memory_left: u64) -> Option<String> {
    if !s.healthy {
        return Some(reasons::NOT_READY.into());
    }
    if s.backoff {
        return Some(reasons::BACKOFF.into());
    }
    if g.target >= g.max {
        return Some(reasons::MAX_SIZE_REACHED.into());
    }
    let Some(t) = &g.template else {
        return Some(reasons::NOT_READY.into());
    };
    let mut over = Vec::new();
    if t.cores() > cores_left {
        over.push("cpu");
    }
    if t.capacity.memory > memory_left {
        over.push("memory");
    }
    (!over.is_empty()).then(|| reasons::max_resource_limit_reached(&over))
}

/// The estimator's node limit: the smallest positive of the group's headroom,
/// `--max-nodes-per-scaleup` and `--max-nodes-total` headroom; zero headroom denies all.
fn node_limit(inp: &Inputs, g: &NodeGroup) -> Option<u32> {
    if inp.harness.is_some_and(|h| !h.estimator_limits) {
        return None;
    }
    let mut limit = g
        .max
        .saturating_sub(g.target)
        .min(inp.options.max_nodes_per_scaleup);
    if inp.options.max_nodes_total > 0 {
        limit = limit.min(
            inp.options
                .max_nodes_total
                .saturating_sub(inp.current_node_count),
        );
    }
    Some(limit)
}

fn plan_increase(
    inp: &Inputs,
    best: &ScaleUpOption,
    schedulable_on: &[Vec<usize>],
    cores_left: u64,
    memory_left: u64,
    max_total_hit: &mut bool,
) -> Result<Vec<Increase>, String> {
    let o = inp.options;
    let mut count = best.node_count;
    if o.max_nodes_total > 0 && inp.current_node_count + count > o.max_nodes_total {
        *max_total_hit = true;
        count = o.max_nodes_total.saturating_sub(inp.current_node_count);
        if count < 1 {
            return Err("max node total count already reached".into());
        }
    }
    let g = &inp.groups[best.group];
    if let Some(t) = &g.template {
        if t.cores() > 0 && count as u64 * t.cores() > cores_left {
            count = (cores_left / t.cores()) as u32;
        }
        if t.capacity.memory > 0 && count as u64 * t.capacity.memory > memory_left {
            count = (memory_left / t.capacity.memory) as u32;
        }
    }
    if count < 1 {
        return Err("max resource limit reached".into());
    }
    let mut set = vec![best.group];
    if o.balance_similar_node_groups {
        set.extend(similar_groups(inp, best.group, schedulable_on));
    }
    Ok(balance(inp.groups, &set, count))
}

/// Groups similar enough to share the scale-up (`--balance-similar-node-groups`).
fn similar_groups(inp: &Inputs, best: usize, schedulable_on: &[Vec<usize>]) -> Vec<usize> {
    let o = inp.options;
    let Some(bt) = &inp.groups[best].template else {
        return Vec::new();
    };
    let ignored = |k: &str| {
        matches!(
            k,
            "kubernetes.io/hostname"
                | "topology.kubernetes.io/zone"
                | "topology.kubernetes.io/region"
                | "failure-domain.beta.kubernetes.io/zone"
                | "failure-domain.beta.kubernetes.io/region"
                | "beta.kubernetes.io/fluentd-ds-ready"
                | "kops.k8s.io/instancegroup"
        ) || o.balancing_ignore_labels.iter().any(|l| l == k)
    };
    let within = |a: u64, b: u64, ratio: f64| {
        let (hi, lo) = (a.max(b) as f64, a.min(b) as f64);
        hi == 0.0 || (hi - lo) / hi <= ratio
    };
    (0..inp.groups.len())
        .filter(|&gi| gi != best && inp.states[gi].healthy && !inp.states[gi].backoff)
        .filter(|&gi| inp.groups[gi].target < inp.groups[gi].max)
        .filter(|&gi| {
            let Some(t) = &inp.groups[gi].template else {
                return false;
            };
            let (a, b) = (&t.capacity, &bt.capacity);
            let labels_eq = t.node.labels.iter().filter(|(k, _)| !ignored(k)).eq(bt
                .node
                .labels
                .iter()
                .filter(|(k, _)| !ignored(k)));
            a.milli_cpu == b.milli_cpu
                && a.gpus == b.gpus
                && a.pods == b.pods
                && within(a.memory, b.memory, o.memory_difference_ratio)
                && within(
                    t.node.allocatable.memory,
                    bt.node.allocatable.memory,
                    o.max_allocatable_difference_ratio,
                )
                && within(
                    t.node.allocatable.milli_cpu,
                    bt.node.allocatable.milli_cpu,
                    o.max_allocatable_difference_ratio,
                )
                && labels_eq
                && t.node.taints == bt.node.taints
        })
        .filter(|&gi| {
            schedulable_on
                .iter()
                .all(|on| !on.contains(&best) || on.contains(&gi))
        })
        .collect()
}

/// `BalanceScaleUpBetweenGroups`: hand nodes one at a time to the smallest group below max.
fn balance(groups: &[NodeGroup], set: &[usize], count: u32) -> Vec<Increase> {
    let mut sizes: Vec<(usize, u32)> = set
        .iter()
        .map(|&gi| (gi, groups[gi].target))
        .filter(|&(gi, t)| t < groups[gi].max)
        .collect();
    let capacity: u32 = sizes.iter().map(|&(gi, t)| groups[gi].max - t).sum();
    let mut left = count.min(capacity);
    while left > 0 {
        let Some(pick) = sizes
            .iter()
            .enumerate()
            .filter(|(_, &(gi, t))| t < groups[gi].max)
            .min_by_key(|(i, &(_, t))| (t, *i))
            .map(|(i, _)| i)
        else {
            break;
        };
        sizes[pick].1 += 1;
        left -= 1;
    }
    let mut out: Vec<Increase> = sizes
        .into_iter()
        .filter(|&(gi, t)| t > groups[gi].target)
        .map(|(gi, new)| Increase {
            group: gi,
            current: groups[gi].target,
            new,
            max: groups[gi].max,
        })
        .collect();
    if out.len() > 1 {
        out.sort_by_key(|i| (i.current, i.group));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(id: &str, skipped: Option<&str>, rejected: Option<&str>) -> GroupVerdict {
        GroupVerdict {
            id: id.into(),
            skipped: skipped.map(String::from),
            rejected: rejected
                .map(|r| [(0, vec![r.to_string()])].into_iter().collect())
                .unwrap_or_default(),
            option: None,
        }
    }

    /// Upstream's `TestReasonsMessage` (eventing_scale_up_processor_test.go, 1.30.2). Its
    /// reasons for the non-existing groups tmp1 and tmp2 are dropped because only considered
    /// groups reach a `Decision`.
    #[test]
    fn reasons_message_counts_each_reason_over_the_groups() {
        let d = Decision {
            pod_groups: vec![PodGroup {
                pods: vec![PodId(0)],
            }],
            groups: vec![
                verdict("g1", None, Some("not schedulable")),
                verdict("g2", None, Some("not schedulable")),
                verdict("g3", None, Some("also not schedulable")),
                verdict("g4", Some("max limit reached"), None),
                verdict("g5", Some("not ready"), None),
                verdict("g6", Some("max limit reached"), None),
            ],
            options: Vec::new(),
            outcome: Outcome::NoOptions,
            triggered: Vec::new(),
            remain: vec![PodId(0)],
            awaiting: Vec::new(),
            max_nodes_total_hit: false,
        };
        let m = d.reasons_message(0);
        for part in [
            "2 not schedulable",
            "1 also not schedulable",
            "2 max limit reached",
            "1 not ready",
        ] {
            assert!(m.contains(part), "{m:?} lacks {part:?}");
        }
        assert_eq!(
            m,
            "2 max limit reached, 2 not schedulable, 1 also not schedulable, 1 not ready"
        );
    }
}
