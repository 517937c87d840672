//! The binpacking estimator: how many template nodes a group needs for the given pods
//! (`estimator/binpacking_estimator.go`), first-fit decreasing.

use super::provider::Template;
use crate::kube::{PodId, PodSpec};
use crate::scheduler::{fits_resources, SnapNode, Snapshot};

/// Pods that share one scheduling spec, estimated together.
pub struct EstimateGroup<'a> {
    pub spec: &'a PodSpec,
    pub pods: &'a [PodId],
}

/// How many new nodes the pods need, and which pods they hold.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Estimate {
    pub node_count: u32,
    pub pods: Vec<PodId>,
}

/// `DecreasingPodOrderer`'s score: requests relative to the template's allocatable.
fn score(spec: &PodSpec, t: &SnapNode) -> f64 {
    let part = |req: u64, alloc: u64| {
        if alloc == 0 {
            0.0
        } else {
            req as f64 / alloc as f64
        }
    };
    part(spec.requests.milli_cpu, t.allocatable.milli_cpu)
        + part(spec.requests.memory, t.allocatable.memory)
}

/// `DecreasingPodOrderer`: group indices, largest requests first (stable).
pub fn decreasing(groups: &[EstimateGroup], template: &Template) -> Vec<usize> {
    let mut order: Vec<usize> = (0..groups.len()).collect();
    order.sort_by(|&a, &b| {
        score(groups[b].spec, &template.node)
            .partial_cmp(&score(groups[a].spec, &template.node))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    order
}

/// Packs `groups` onto copies of `template`. `node_limit` caps new nodes (`None` = no cap);
/// the limiter is consulted only when a node is about to be added, as upstream does.
///
/// Every group given here passed the scheduler's filters on the empty template, and copies of
/// a template agree on the node-only filters, so only resources and ports are checked per node.
pub fn estimate(
    groups: &[EstimateGroup],
    template: &Template,
    node_limit: Option<u32>,
) -> Estimate {
    let order = decreasing(groups, template);
    let total: usize = groups.iter().map(|g| g.pods.len()).sum();
    let most_nodes = node_limit
        .map_or(total, |l| (l as usize).min(total))
        .min(1 << 14);
    let mut snap = Snapshot {
        nodes: Vec::with_capacity(most_nodes),
    };
    let mut used = Vec::<bool>::new();
    let mut placed = Vec::with_capacity(groups.iter().map(|g| g.pods.len()).sum());
    let mut cursor = 0usize;
    // Specs that fit none of the nodes added so far, with the node count at that time: nodes
    // only fill up, so an equal spec fails again until a node is added.
    let mut misfits: Vec<(&PodSpec, usize)> = Vec::new();
    let mut limit_reached = false;
    for g in order {
        let EstimateGroup { spec, pods } = groups[g];
        let known_misfit = misfits
            .iter()
            .any(|(f, n)| *n == snap.nodes.len() && (std::ptr::eq(*f, spec) || *f == spec));
        // On nodes already added: stop at the first pod that fits none of them.
        let mut rest = pods;
        while !known_misfit && !snap.nodes.is_empty() {
            let Some((&pod, tail)) = rest.split_first() else {
                break;
            };
            let n = snap.nodes.len();
            let Some(i) = (0..n)
                .map(|k| (cursor + k) % n)
                .find(|&i| fits_resources(spec, &snap.nodes[i]))
            else {
                remember_misfit(&mut misfits, spec, snap.nodes.len());
                break;
            };
            snap.nodes[i].place(spec);
            used[i] = true;
            cursor = (i + 1) % snap.nodes.len();
            placed.push(pod);
            rest = tail;
        }
        if limit_reached {
            // No node can be added and the pod fits none of the added ones.
            continue;
        }
        // On new nodes: the last added one, else a fresh template copy. Filling a node with
        // pods of one spec one by one stops where `room` says, so place them as a batch.
        while !rest.is_empty() {
            let last = match snap.nodes.len().checked_sub(1) {
                Some(last) if room(spec, &snap.nodes[last]) > 0 => last,
                Some(last) if !used[last] => break,
                _ => {
                    if node_limit.is_some_and(|l| snap.nodes.len() as u32 >= l) {
                        limit_reached = true;
                        break;
                    }
                    snap.nodes.push(template.node.clone());
                    used.push(false);
                    snap.nodes.len() - 1
                }
            };
            let take = (room(spec, &snap.nodes[last]) as usize).min(rest.len());
            if take == 0 {
                break;
            }
            snap.nodes[last].place_n(spec, take as u64);
            used[last] = true;
            placed.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
        }
    }
    Estimate {
        node_count: used.iter().filter(|u| **u).count() as u32,
        pods: placed,
    }
}

/// How many more pods of `spec` fit on `node` (at most one when it uses host ports).
fn room(spec: &PodSpec, node: &SnapNode) -> u64 {
    if !fits_resources(spec, node) {
        return 0;
    }
    if !spec.host_ports.is_empty() {
        return 1;
    }
    let (r, used, alloc) = (&spec.requests, &node.requested, &node.allocatable);
    [
        (r.milli_cpu, used.milli_cpu, alloc.milli_cpu),
        (r.memory, used.memory, alloc.memory),
        (r.pods, used.pods, alloc.pods),
        (r.gpus, used.gpus, alloc.gpus),
        (
            r.ephemeral_storage,
            used.ephemeral_storage,
            alloc.ephemeral_storage,
        ),
    ]
    .into_iter()
    .filter(|&(req, _, _)| req > 0)
    .map(|(req, u, a)| a.saturating_sub(u) / req)
    .min()
    .unwrap_or(1)
}

/// Keeps one entry per distinct spec: the latest node count it failed at.
fn remember_misfit<'a>(misfits: &mut Vec<(&'a PodSpec, usize)>, spec: &'a PodSpec, nodes: usize) {
    match misfits
        .iter_mut()
        .find(|(f, _)| std::ptr::eq(*f, spec) || *f == spec)
    {
        Some(entry) => entry.1 = nodes,
        None => misfits.push((spec, nodes)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::Resources;

    fn template(cpu: u64, mem: u64, pods: u64) -> Template {
        Template::of_size(Resources {
            milli_cpu: cpu,
            memory: mem,
            pods,
            gpus: 0,
            ephemeral_storage: 0,
        })
    }

    fn spec(cpu: u64, mem: u64) -> PodSpec {
        PodSpec::with_requests(cpu, mem)
    }

    fn ids(range: std::ops::Range<u32>) -> Vec<PodId> {
        range.map(PodId).collect()
    }

    #[test]
    fn upstream_benchmark_answer() {
        let t = template(1000, 5000 << 20, 100);
        let (small, big) = (spec(50, 100), spec(95, 190));
        let (a, b) = (ids(0..50_000), ids(50_000..51_000));
        let e = estimate(
            &[
                EstimateGroup {
                    spec: &small,
                    pods: &a,
                },
                EstimateGroup {
                    spec: &big,
                    pods: &b,
                },
            ],
            &t,
            Some(3000),
        );
        assert_eq!((e.node_count, e.pods.len()), (2595, 51_000));
    }

    #[test]
    fn limits_and_pod_slots() {
        let t = template(1000, 1 << 30, 10);
        let p = spec(350, 0);
        assert_eq!(
            estimate(
                &[EstimateGroup {
                    spec: &p,
                    pods: &ids(0..10)
                }],
                &t,
                None
            )
            .node_count,
            5
        );
        let tiny = spec(10, 0);
        let t2 = template(10_000, 1 << 30, 10);
        assert_eq!(
            estimate(
                &[EstimateGroup {
                    spec: &tiny,
                    pods: &ids(0..20)
                }],
                &t2,
                None
            )
            .node_count,
            2
        );
        let half = spec(500, 0);
        let e = estimate(
            &[EstimateGroup {
                spec: &half,
                pods: &ids(0..20),
            }],
            &t,
            Some(5),
        );
        assert_eq!((e.node_count, e.pods.len()), (5, 10));
        let too_big = spec(2000, 0);
        let e = estimate(
            &[EstimateGroup {
                spec: &too_big,
                pods: &ids(0..3),
            }],
            &t,
            None,
        );
        assert_eq!((e.node_count, e.pods.len()), (0, 0));
    }
}
