//! The default profile's filter plugins, in upstream order; the first failing plugin's reasons
//! are the node's reasons (`RunFilterPlugins` stops there).

use super::snapshot::SnapNode;
use crate::kube::labels::selector_matches;
use crate::kube::taints::first_untolerated;
use crate::kube::PodSpec;

/// Why one node cannot take a pod.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    pub reasons: Vec<String>,
    /// False for `UnschedulableAndUnresolvable` plugins (selector, taint, node name,
    /// cordon): evicting pods would not help, so preemption says it is "not helpful".
    pub preemption_may_help: bool,
}

impl Rejection {
    fn unresolvable(reason: String) -> Rejection {
        Rejection {
            reasons: vec![reason],
            preemption_may_help: false,
        }
    }
}

/// Whether `node` passes every filter for `spec`: the hot path, with no allocation. Agrees
/// with [`check`], which says why not.
pub fn fits(spec: &PodSpec, node: &SnapNode) -> bool {
    fits_resources(spec, node) && fits_static(spec, node)
}

/// The filters that depend on what is already placed: resources and host ports.
pub fn fits_resources(spec: &PodSpec, node: &SnapNode) -> bool {
    spec.requests
        .fits_beside(&node.requested, &node.allocatable)
        && !spec.host_ports.iter().any(|p| node.host_ports.contains(p))
}

/// The filters that depend only on the node itself: cordon, name, taints, selector, affinity.
/// Copies of one template agree on these, which the estimator relies on.
pub fn fits_static(spec: &PodSpec, node: &SnapNode) -> bool {
    (!node.unschedulable || tolerates_cordon(spec))
        && spec.node_name.as_deref().is_none_or(|n| n == &*node.name)
        && first_untolerated(&node.taints, &spec.tolerations).is_none()
        && selector_matches(&spec.node_selector, &node.labels)
        && spec.affinity.matches(&node.labels)
}

fn tolerates_cordon(spec: &PodSpec) -> bool {
    spec.tolerations
        .iter()
        .any(|t| t.tolerates(&crate::kube::Taint::unschedulable()))
}

/// Runs NodeUnschedulable, NodeName, TaintToleration, NodeAffinity, NodePorts and
/// NodeResourcesFit against `node` for `spec`.
pub fn check(spec: &PodSpec, node: &SnapNode) -> Result<(), Rejection> {
    if node.unschedulable && !tolerates_cordon(spec) {
        return Err(Rejection::unresolvable("node(s) were unschedulable".into()));
    }
    if spec.node_name.as_deref().is_some_and(|n| n != &*node.name) {
        return Err(Rejection::unresolvable(
            "node(s) didn't match the requested node name".into(),
        ));
    }
    if let Some(taint) = first_untolerated(&node.taints, &spec.tolerations) {
        return Err(Rejection::unresolvable(format!(
            "node(s) had untolerated taint {taint}"
        )));
    }
    if !selector_matches(&spec.node_selector, &node.labels) || !spec.affinity.matches(&node.labels)
    {
        return Err(Rejection::unresolvable(
            "node(s) didn't match Pod's node affinity/selector".into(),
        ));
    }
    if spec.host_ports.iter().any(|p| node.host_ports.contains(p)) {
        return Err(Rejection {
            reasons: vec!["node(s) didn't have free ports for the requested pod ports".into()],
            preemption_may_help: true,
        });
    }
    let free = node.allocatable.minus(node.requested);
    let missing = spec.requests.insufficient(&free);
    if !missing.is_empty() {
        return Err(Rejection {
            reasons: missing.into_iter().map(String::from).collect(),
            preemption_may_help: true,
        });
    }
    Ok(())
}
