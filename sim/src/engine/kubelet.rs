//! What the scheduler and the kubelet record for an in-cluster autoscaler's pod as its
//! container starts and crashes: the events `kubectl describe pod` lists (1.30's texts).

use super::Engine;
use crate::autoscaler::Phase;
use crate::deploy::pod::AutoscalerPod;
use crate::kube::{EventType, ObjectRef};

impl Engine {
    /// Autoscaler `i` has just (re)started: its pod's events. `first`: the pod is new, so
    /// the scheduler has just placed it.
    pub(super) fn kubelet_events(&mut self, i: usize, first: bool) {
        let Some(pod) = AutoscalerPod::of(&self.autoscalers[i].spec, &self.world) else {
            return;
        };
        let now = self.now;
        let obj = ObjectRef::new("Pod", &pod.namespace, &pod.name);
        let container = pod.container_name();
        let image = self.autoscalers[i].spec.image.clone();
        let backing_off = matches!(
            self.autoscalers[i].phase,
            Phase::CrashLoopBackOff { next_start, .. } if next_start > now
        );
        let node = pod
            .node(&self.world)
            .map(|n| self.world.node(n).name.to_string());
        let events = &mut self.world.events;
        let mut record = |t: EventType, reason: &'static str, message: String, source| {
            events.record(now, obj.clone(), t, reason, message, source);
        };
        if let (true, Some(node)) = (first, node) {
            let key = format!("{}/{}", pod.namespace, pod.name);
            record(
                EventType::Normal,
                "Scheduled",
                format!("Successfully assigned {key} to {node}"),
                "default-scheduler",
            );
        }
        record(
            EventType::Normal,
            "Pulled",
            format!("Container image {image:?} already present on machine"),
            "kubelet",
        );
        record(
            EventType::Normal,
            "Created",
            format!("Created container {container}"),
            "kubelet",
        );
        record(
            EventType::Normal,
            "Started",
            format!("Started container {container}"),
            "kubelet",
        );
        if backing_off {
            record(
                EventType::Warning,
                "BackOff",
                format!(
                    "Back-off restarting failed container {container} in pod {}_{}({})",
                    pod.name, pod.namespace, pod.uid
                ),
                "kubelet",
            );
        }
    }
}
