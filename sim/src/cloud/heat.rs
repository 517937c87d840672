//! The Heat stacks Magnum's Heat driver creates, as Heat names them: one stack per nodegroup
//! (the default nodegroups share the cluster's), its `kube_minions` ResourceGroup nested
//! stack, and one nested stack per member. Ids are derived from names, never drawn, so the
//! mock Heat and the engine agree without storing anything.
//!
//! A magnum-capi-helm cluster has no stacks: its `stack_id` is a Helm release name.

use super::magnum::{Cluster, Nodegroup};
use crate::kube::Node;

pub use crate::ids::derived_uid;

/// The Nova server id behind a node: its `spec.providerID` is `openstack:///<id>` and its
/// `systemUUID` the same id (what the magnum provider sends as `nodes_to_remove`).
pub fn server_id(n: &Node) -> String {
    derived_uid(&["node", &n.name, &n.created.0.to_string()])
}

/// Heat's short id: 12 lower-case base32 characters (`heat/common/short_id.py`), here taken
/// from a hash of `seed`.
pub fn short_id(seed: &str) -> String {
    const A: &[u8] = b"abcdefghijklmnopqrstuvwxyz234567";
    let mut h = crate::ids::fnv1a(derived_uid(&["short", seed]).as_bytes());
    (0..12)
        .map(|_| {
            let c = A[(h % 32) as usize] as char;
            h /= 32;
            c
        })
        .collect()
}

/// The cluster stack's name under the Heat driver: `<name[:30]>-<short id>`, lower-case
/// (`magnum/drivers/heat/driver.py:192-201`).
pub fn cluster_stack_name(cluster_name: &str, short: &str) -> String {
    let base: String = cluster_name.chars().take(30).collect();
    format!("{base}-{short}").to_lowercase()
}

/// A Heat stack's identity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stack {
    pub id: String,
    pub name: String,
}

/// The stack behind a nodegroup's `stack_id` (Heat driver only): the cluster's for the
/// default nodegroups, else the nodegroup's own, named `<cluster[:20]>-<ng[:9]>-<short id>`
/// (`magnum/drivers/heat/driver.py:194-201`).
pub fn nodegroup_stack(c: &Cluster, ng: &Nodegroup) -> Option<Stack> {
    if c.driver.is_capi() {
        return None;
    }
    let id = ng.stack_id.clone()?;
    if id == c.stack_id {
        return Some(Stack {
            id,
            name: c.stack_name.clone()?,
        });
    }
    let cluster: String = c.name.chars().take(20).collect();
    let group: String = ng.name.chars().take(9).collect();
    Some(Stack {
        name: format!("{cluster}-{group}-{}", short_id(&id)).to_lowercase(),
        id,
    })
}

/// The `kube_minions` ResourceGroup's nested stack of a nodegroup stack: Heat names nested
/// stacks `<parent>-<resource>-<short id>` (`heat/engine/resource.py:1864-1875`).
pub fn minions_stack(parent: &Stack) -> Stack {
    let id = derived_uid(&["kube_minions", &parent.id]);
    Stack {
        name: format!("{}-kube_minions-{}", parent.name, short_id(&id)),
        id,
    }
}

/// Member `index` of a `kube_minions` group: its own nested stack.
pub fn member_stack(minions: &Stack, index: u32) -> Stack {
    let i = index.to_string();
    let id = derived_uid(&["member", &minions.id, &i]);
    Stack {
        name: format!("{}-{i}-{}", minions.name, short_id(&id)),
        id,
    }
}

/// The member names a ResourceGroup of `size` uses: the first `size` indices not removed
/// by a removal policy (`heat/engine/resources/openstack/heat/resource_group.py`,
/// `_resource_names`).
pub fn member_indices(size: u32, removed: &std::collections::BTreeSet<u32>) -> Vec<u32> {
    (0..)
        .filter(|i| !removed.contains(i))
        .take(size as usize)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::magnum::tests::incident_cluster;
    use crate::cloud::Driver;

    #[test]
    fn short_ids_are_heat_shaped_and_stable() {
        let s = short_id("x");
        assert_eq!(s.len(), 12);
        assert!(s
            .chars()
            .all(|c| c.is_ascii_lowercase() || ('2'..='7').contains(&c)));
        assert_eq!(s, short_id("x"));
        assert_ne!(s, short_id("y"));
        assert_eq!(
            cluster_stack_name("My-Cluster", "abc"),
            "my-cluster-abc",
            "lower-cased as Magnum does"
        );
    }

    #[test]
    fn only_the_heat_driver_has_stacks() {
        let mut c = incident_cluster();
        let ng = c.nodegroups[0].clone();
        assert_eq!(nodegroup_stack(&c, &ng), None, "capi-helm: a release name");
        c.driver = Driver::Heat;
        c.stack_id = derived_uid(&["stack"]);
        c.stack_name = Some("k8s-abcdefghijkl".into());
        let mut ng = c.nodegroups[0].clone();
        ng.stack_id = Some(c.stack_id.clone());
        let s = nodegroup_stack(&c, &ng).unwrap();
        assert_eq!(s.name, "k8s-abcdefghijkl");
        let m = minions_stack(&s);
        assert!(m.name.starts_with("k8s-abcdefghijkl-kube_minions-"));
        assert_ne!(member_stack(&m, 0).id, member_stack(&m, 1).id);
        ng.stack_id = Some(derived_uid(&["other"]));
        ng.name = "gpu-workers-a".into();
        let own = nodegroup_stack(&c, &ng).unwrap();
        assert!(own.name.starts_with("k8s-gpu-worke-"), "{}", own.name);
    }

    #[test]
    fn removed_members_are_skipped_for_good() {
        let removed = [1, 3].into_iter().collect();
        assert_eq!(member_indices(4, &removed), vec![0, 2, 4, 5]);
        assert_eq!(member_indices(0, &removed), Vec::<u32>::new());
    }
}
