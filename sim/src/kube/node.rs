//! Nodes.

use super::{Labels, Taint};
use crate::resources::Resources;
use crate::time::SimTime;

/// Index of a node in the world's node table; stable for the whole run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeId(pub u32);

#[derive(Clone, Debug)]
pub struct Node {
    /// Shared with snapshots, which copy it every loop.
    pub name: std::sync::Arc<str>,
    /// The Magnum nodegroup whose machine this is (`None` for nodes no group owns).
    pub nodegroup: Option<String>,
    pub capacity: Resources,
    pub allocatable: Resources,
    pub labels: std::sync::Arc<Labels>,
    /// Taints from the node's configuration; readiness and cordon taints are derived.
    pub taints: Vec<Taint>,
    pub ready: bool,
    pub unschedulable: bool,
    pub created: SimTime,
    pub deleted: bool,
    pub flavor: String,
    /// Interned scheduling class: nodes with equal labels (hostname aside) and configured
    /// taints share one, so the static filters run once per class, not once per node.
    /// Assigned by [`crate::world::World::add_node`]; `None` means never shared.
    pub class: Option<u32>,
}

impl Node {
    /// Every taint the scheduler sees: configured ones plus the not-ready and cordon taints the
    /// node lifecycle controller adds.
    pub fn effective_taints(&self) -> Vec<Taint> {
        let mut t = self.taints.clone();
        if !self.ready {
            t.push(Taint::not_ready());
        }
        if self.unschedulable {
            t.push(Taint::unschedulable());
        }
        t
    }

    pub fn is_control_plane(&self) -> bool {
        self.labels
            .contains_key("node-role.kubernetes.io/control-plane")
    }
}
