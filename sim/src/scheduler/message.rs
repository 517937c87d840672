//! kube-scheduler's FitError text.

use super::Rejection;
use std::collections::BTreeMap;

/// The `FailedScheduling` message for a pod no node accepted, e.g.
/// `0/5 nodes are available: 5 Insufficient memory. preemption: 0/5 nodes are available: 5 No preemption victims found for incoming pod.`
///
/// As upstream: each reason is counted per node, the `"<n> <reason>"` strings are sorted,
/// and the preemption part counts nodes by whether evicting lower-priority pods could help
/// (magsim models no preemption victims).
pub fn fit_error_message(num_nodes: usize, rejections: &[Rejection]) -> String {
    if num_nodes == 0 {
        return "no nodes available to schedule pods".to_string();
    }
    let mut reasons: BTreeMap<&str, usize> = BTreeMap::new();
    let mut preemption: BTreeMap<&str, usize> = BTreeMap::new();
    for r in rejections {
        for reason in &r.reasons {
            *reasons.entry(reason).or_default() += 1;
        }
        let p = if r.preemption_may_help {
            "No preemption victims found for incoming pod"
        } else {
            "Preemption is not helpful for scheduling"
        };
        *preemption.entry(p).or_default() += 1;
    }
    format!(
        "0/{num_nodes} nodes are available: {}. preemption: 0/{num_nodes} nodes are available: {}.",
        histogram(&reasons),
        histogram(&preemption)
    )
}

fn histogram(counts: &BTreeMap<&str, usize>) -> String {
    let mut items: Vec<String> = counts.iter().map(|(r, n)| format!("{n} {r}")).collect();
    items.sort();
    items.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rej(reasons: &[&str], help: bool) -> Rejection {
        Rejection {
            reasons: reasons.iter().map(|s| s.to_string()).collect(),
            preemption_may_help: help,
        }
    }

    #[test]
    fn incident_message() {
        let r = vec![rej(&["Insufficient memory"], true); 5];
        assert_eq!(
            fit_error_message(5, &r),
            "0/5 nodes are available: 5 Insufficient memory. preemption: 0/5 nodes are available: 5 No preemption victims found for incoming pod."
        );
    }

    #[test]
    fn mixed_reasons_sort_as_strings() {
        let mut r = vec![rej(&["Insufficient cpu", "Insufficient memory"], true); 5];
        r.push(rej(
            &["node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }"],
            false,
        ));
        assert_eq!(
            fit_error_message(6, &r),
            "0/6 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 5 Insufficient cpu, 5 Insufficient memory. preemption: 0/6 nodes are available: 1 Preemption is not helpful for scheduling, 5 No preemption victims found for incoming pod."
        );
        assert_eq!(
            fit_error_message(0, &[]),
            "no nodes available to schedule pods"
        );
    }
}
