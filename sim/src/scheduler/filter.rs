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

/// The static filters' answers by (spec, node class), so labels and taints are compared once
/// per class and spec, not once per node: the hot loops then cost one hash lookup per node.
/// Specs that name a node or select on the hostname are checked per node.
#[derive(Default)]
pub struct StaticMemo(std::collections::HashMap<(usize, u32), bool, crate::fxhash::FxBuild>);

impl StaticMemo {
    /// [`fits`], reusing the static filters' answer for the node's class.
    pub fn fits(&mut self, spec: &PodSpec, node: &SnapNode) -> bool {
        if !fits_resources(spec, node) {
            return false;
        }
        // With no selector, affinity or taint there are no strings to compare: no lookup.
        let trivial = spec.node_selector.is_empty()
            && spec.affinity.required_terms.is_empty()
            && node.taints.is_empty();
        let Some(class) = node.class.filter(|_| !trivial) else {
            return fits_static(spec, node);
        };
        let key = (spec as *const PodSpec as usize, class);
        if let Some(&known) = self.0.get(&key) {
            return known;
        }
        // Asked once per spec and class (a miss), not once per node.
        let answer = fits_static(spec, node);
        if per_class(spec) {
            self.0.insert(key, answer);
        }
        answer
    }
}

/// Whether the static filters' answer for `spec` is the same on every node of a class: not
/// when the spec names a node or looks at the hostname (the one label a class leaves out).
fn per_class(spec: &PodSpec) -> bool {
    const HOSTNAME: &str = "kubernetes.io/hostname";
    spec.node_name.is_none()
        && !spec.node_selector.contains_key(HOSTNAME)
        && !spec
            .affinity
            .required_terms
            .iter()
            .flat_map(|t| &t.match_expressions)
            .any(|r| r.key == HOSTNAME)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kube::{Labels, Taint, TaintEffect};
    use crate::resources::Resources;

    fn node(name: &str, zone: &str, class: Option<u32>) -> SnapNode {
        let labels: Labels = [
            ("kubernetes.io/hostname", name),
            ("topology.kubernetes.io/zone", zone),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let mut n = SnapNode::empty(
            name,
            Resources {
                milli_cpu: 1000,
                memory: 1 << 30,
                pods: 10,
                ..Resources::ZERO
            },
            labels,
            Vec::new(),
        );
        n.class = class;
        n
    }

    #[test]
    fn the_memo_answers_per_class_and_agrees_with_fits() {
        let mut spec = PodSpec::with_requests(100, 0);
        spec.node_selector
            .insert("topology.kubernetes.io/zone".into(), "a".into());
        let (a1, a2, b) = (
            node("a1", "a", Some(0)),
            node("a2", "a", Some(0)),
            node("b", "b", Some(4)),
        );
        let mut memo = StaticMemo::default();
        for n in [&a1, &a2, &b] {
            assert_eq!(memo.fits(&spec, n), fits(&spec, n), "{}", n.name);
        }
        assert_eq!(memo.0.len(), 2, "one answer per class");
        // A tainted node of its own class is checked for itself.
        let mut t = node("t", "a", Some(8));
        t.taints
            .push(Taint::new("gpu", "present", TaintEffect::NoSchedule));
        assert!(!memo.fits(&spec, &t));
    }

    #[test]
    fn hostname_selectors_and_node_names_are_checked_per_node() {
        let (a1, a2) = (node("a1", "a", Some(0)), node("a2", "a", Some(0)));
        let mut memo = StaticMemo::default();
        let mut by_host = PodSpec::with_requests(100, 0);
        by_host
            .node_selector
            .insert("kubernetes.io/hostname".into(), "a2".into());
        assert!(!memo.fits(&by_host, &a1));
        assert!(memo.fits(&by_host, &a2));
        let mut by_name = PodSpec::with_requests(100, 0);
        by_name.node_name = Some("a1".into());
        assert!(memo.fits(&by_name, &a1));
        assert!(!memo.fits(&by_name, &a2));
        assert!(memo.0.is_empty());
    }
}
