//! Expanders: which scale-up option wins (`expander/`). Filters run in the chain's order and
//! a seeded random pick breaks whatever tie remains, as upstream's chain does.

use super::options::ExpanderName;
use super::provider::NodeGroup;
use crate::kube::PodId;
use crate::rng::SimRng;
use crate::world::World;
use std::collections::BTreeMap;

/// One way to scale up: grow `group` by `node_count` nodes to host `pods`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScaleUpOption {
    pub group: usize,
    pub node_count: u32,
    pub pods: Vec<PodId>,
}

/// The priority expander's ConfigMap data: priority → group-id regexes (unanchored).
pub type Priorities = BTreeMap<i64, Vec<String>>;

/// Picks the best option's index in `options`.
pub fn choose(
    chain: &[ExpanderName],
    options: &[ScaleUpOption],
    groups: &[NodeGroup],
    world: &World,
    priorities: Option<&Priorities>,
    rng: &mut SimRng,
) -> Option<usize> {
    let mut left: Vec<usize> = (0..options.len()).collect();
    for name in chain {
        if left.len() <= 1 {
            break;
        }
        left = match name {
            ExpanderName::MostPods => keep_max(&left, |i| options[i].pods.len() as f64),
            ExpanderName::LeastNodes => keep_max(&left, |i| -(options[i].node_count as f64)),
            ExpanderName::LeastWaste => keep_max(&left, |i| {
                -waste(&options[i], &groups[options[i].group], world)
            }),
            ExpanderName::Priority => by_priority(&left, options, groups, priorities),
            _ => left,
        };
    }
    match left.len() {
        0 => None,
        1 => Some(left[0]),
        n => Some(left[rng.below(n)]),
    }
}

fn keep_max(left: &[usize], score: impl Fn(usize) -> f64) -> Vec<usize> {
    let best = left
        .iter()
        .map(|&i| score(i))
        .fold(f64::NEG_INFINITY, f64::max);
    left.iter().copied().filter(|&i| score(i) == best).collect()
}

/// least-waste: unused cpu fraction plus unused memory fraction of the new nodes' capacity.
fn waste(o: &ScaleUpOption, g: &NodeGroup, world: &World) -> f64 {
    let Some(t) = &g.template else {
        return f64::INFINITY;
    };
    let (cpu, mem) = o.pods.iter().fold((0u64, 0u64), |(c, m), &p| {
        let r = world.pod(p).spec.requests;
        (c + r.milli_cpu, m + r.memory)
    });
    let n = o.node_count as f64;
    let frac = |cap: u64, used: u64| {
        let total = cap as f64 * n;
        if total == 0.0 {
            0.0
        } else {
            (total - used as f64) / total
        }
    };
    frac(t.capacity.milli_cpu, cpu) + frac(t.capacity.memory, mem)
}

/// priority: options whose group id matches a regex of the highest matching priority; with no
/// config or no match at all every option stays.
fn by_priority(
    left: &[usize],
    options: &[ScaleUpOption],
    groups: &[NodeGroup],
    priorities: Option<&Priorities>,
) -> Vec<usize> {
    let Some(priorities) = priorities else {
        return left.to_vec();
    };
    for (_, patterns) in priorities.iter().rev() {
        let res: Vec<regex_lite::Regex> = patterns
            .iter()
            .filter_map(|p| regex_lite::Regex::new(p).ok())
            .collect();
        let hits: Vec<usize> = left
            .iter()
            .copied()
            .filter(|&i| res.iter().any(|r| r.is_match(&groups[options[i].group].id)))
            .collect();
        if !hits.is_empty() {
            return hits;
        }
    }
    left.to_vec()
}
