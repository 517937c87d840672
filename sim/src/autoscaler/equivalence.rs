//! Equivalence groups: pods of one controller with equal labels and scheduling spec are
//! decided once (`core/scaleup/equivalence/groups.go`).

use crate::fxhash::FxBuild;
use crate::kube::{Pod, PodId};
use crate::world::World;
use std::collections::HashMap;

/// Upstream keeps at most this many distinct groups per controller; further specs each get a
/// group of their own.
const MAX_GROUPS_PER_CONTROLLER: usize = 10;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PodGroup {
    /// Pods in the order they were listed; the first is the exemplar.
    pub pods: Vec<PodId>,
}

impl PodGroup {
    pub fn exemplar(&self) -> PodId {
        self.pods[0]
    }
}

/// (controller kind, namespace, controller name).
type OwnerKey<'a> = (&'a str, &'a str, &'a str);

fn equivalent(a: &Pod, b: &Pod) -> bool {
    a.labels == b.labels && (std::sync::Arc::ptr_eq(&a.spec, &b.spec) || a.spec == b.spec)
}

/// Groups `pods`, keeping first-seen order so the result is deterministic (upstream iterates a
/// Go map here).
pub fn build(world: &World, pods: &[PodId]) -> Vec<PodGroup> {
    let mut groups: Vec<PodGroup> = Vec::new();
    // Each controller's groups; only looked up, so its order never matters.
    let mut per_owner: HashMap<OwnerKey, Vec<usize>, FxBuild> = HashMap::default();
    for &id in pods {
        let pod = world.pod(id);
        let Some(owner) = &pod.owner else {
            groups.push(PodGroup { pods: vec![id] });
            continue;
        };
        let key = (owner.kind.as_str(), &*pod.namespace, owner.name.as_str());
        let slot = per_owner.entry(key).or_default();
        let found = slot
            .iter()
            .copied()
            .find(|&g| equivalent(world.pod(groups[g].exemplar()), pod));
        match found {
            Some(g) => groups[g].pods.push(id),
            None => {
                groups.push(PodGroup { pods: vec![id] });
                if slot.len() < MAX_GROUPS_PER_CONTROLLER {
                    slot.push(groups.len() - 1);
                }
            }
        }
    }
    groups
}
