//! cluster-autoscaler's fixed texts (1.30.2), in one place so tests can pin them.

/// Skip reasons (`core/scaleup/orchestrator/skippedreasons.go`).
pub const BACKOFF: &str = "in backoff after failed scale-up";
pub const MAX_SIZE_REACHED: &str = "max node group size reached";
pub const NOT_READY: &str = "not ready for scale-up";

/// `max cluster <resources> limit reached`, resource names sorted and joined by `, `.
pub fn max_resource_limit_reached(resources: &[&str]) -> String {
    let mut r = resources.to_vec();
    r.sort_unstable();
    format!("max cluster {} limit reached", r.join(", "))
}

/// The `NotTriggerScaleUp` message.
pub fn not_trigger_scale_up(reasons: &str) -> String {
    format!("pod didn't trigger scale-up: {reasons}")
}

/// One `ScaleUpInfo` as Go's `%v` prints it: `{id 5->6 (max: 6)}`.
pub fn scale_up_info(id: &str, current: u32, new: u32, max: u32) -> String {
    format!("{{{id} {current}->{new} (max: {max})}}")
}

/// The `TriggeredScaleUp` message for a list of `ScaleUpInfo`s.
pub fn triggered_scale_up(infos: &[String]) -> String {
    format!("pod triggered scale-up: [{}]", infos.join(" "))
}

pub fn scaled_up_group_setting(id: &str, new: u32, current: u32, max: u32) -> String {
    format!("Scale-up: setting group {id} size to {new} instead of {current} (max: {max})")
}

pub fn scaled_up_group_set(id: &str, new: u32, current: u32, max: u32) -> String {
    format!("Scale-up: group {id} size set to {new} instead of {current} (max: {max})")
}

pub fn failed_to_scale_up_group(id: &str, err: &str) -> String {
    format!("Scale-up failed for group {id}: {err}")
}

pub fn max_nodes_total_reached(max: u32) -> String {
    format!("Max total nodes in cluster reached: {max}")
}

pub fn scale_up_timed_out(id: &str, after: crate::time::SimDuration) -> String {
    format!("Nodes added to group {id} failed to register within {after}")
}

pub fn no_node_info(id: &str) -> String {
    format!("could not compute total resources: No node info for: {id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstream_texts() {
        assert_eq!(
            not_trigger_scale_up(&format!("1 {MAX_SIZE_REACHED}")),
            "pod didn't trigger scale-up: 1 max node group size reached"
        );
        assert_eq!(
            max_resource_limit_reached(&["memory", "cpu"]),
            "max cluster cpu, memory limit reached"
        );
        assert_eq!(
            triggered_scale_up(&[scale_up_info("ng2", 1, 2, 2), scale_up_info("ng3", 1, 2, 5)]),
            "pod triggered scale-up: [{ng2 1->2 (max: 2)} {ng3 1->2 (max: 5)}]"
        );
        assert_eq!(
            scaled_up_group_setting("g", 6, 5, 6),
            "Scale-up: setting group g size to 6 instead of 5 (max: 6)"
        );
        assert_eq!(
            scaled_up_group_set("g", 6, 5, 6),
            "Scale-up: group g size set to 6 instead of 5 (max: 6)"
        );
        assert_eq!(BACKOFF, "in backoff after failed scale-up");
        assert_eq!(NOT_READY, "not ready for scale-up");
        assert_eq!(
            scale_up_timed_out("g", crate::time::SimDuration::from_mins(15)),
            "Nodes added to group g failed to register within 15m0s"
        );
        assert_eq!(
            max_nodes_total_reached(3),
            "Max total nodes in cluster reached: 3"
        );
    }
}
