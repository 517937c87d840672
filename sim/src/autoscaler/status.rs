// TEMPORARY STUB — replaced by the helper's module.
use crate::time::Timestamp;
use std::fmt;
macro_rules! words { ($name:ident { $($v:ident),* }) => { #[derive(Clone, Copy, Debug, PartialEq, Eq)] pub enum $name { $($v),* } impl fmt::Display for $name { fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result { match self { $($name::$v => f.write_str(stringify!($v))),* } } } } }
words!(AutoscalerState {
    Initializing,
    Running
});
words!(HealthStatus { Healthy, Unhealthy });
words!(ClusterScaleUpStatus {
    InProgress,
    NoActivity
});
words!(ScaleDownStatus {
    CandidatesPresent,
    NoCandidates
});
words!(NodeGroupScaleUpStatus {
    InProgress,
    Unhealthy,
    Backoff,
    NoActivity
});
#[derive(Clone, Debug, PartialEq)]
pub struct AutoscalerStatus {
    pub time: Timestamp,
    pub autoscaler_status: Option<AutoscalerState>,
    pub message: Option<String>,
    pub cluster_wide: ClusterWideStatus,
    pub node_groups: Vec<NodeGroupStatus>,
}
#[derive(Clone, Debug, PartialEq)]
pub struct ClusterWideStatus {
    pub health: ClusterHealth,
    pub scale_up: ClusterScaleUp,
    pub scale_down: ScaleDownCondition,
}
#[derive(Clone, Debug, PartialEq)]
pub struct ClusterHealth {
    pub status: HealthStatus,
    pub node_counts: NodeCounts,
    pub times: ConditionTimes,
}
#[derive(Clone, Debug, PartialEq)]
pub struct ClusterScaleUp {
    pub status: ClusterScaleUpStatus,
    pub times: ConditionTimes,
}
#[derive(Clone, Debug, PartialEq)]
pub struct ScaleDownCondition {
    pub status: ScaleDownStatus,
    pub candidates: u32,
    pub times: ConditionTimes,
}
#[derive(Clone, Debug, PartialEq)]
pub struct NodeGroupStatus {
    pub name: String,
    pub health: NodeGroupHealth,
    pub scale_up: NodeGroupScaleUp,
    pub scale_down: ScaleDownCondition,
}
#[derive(Clone, Debug, PartialEq)]
pub struct NodeGroupHealth {
    pub status: HealthStatus,
    pub node_counts: NodeCounts,
    pub cloud_provider_target: u32,
    pub min_size: u32,
    pub max_size: u32,
    pub times: ConditionTimes,
}
#[derive(Clone, Debug, PartialEq)]
pub struct NodeGroupScaleUp {
    pub status: NodeGroupScaleUpStatus,
    pub backoff_info: Option<BackoffInfo>,
    pub times: ConditionTimes,
}
#[derive(Clone, Debug, PartialEq)]
pub struct BackoffInfo {
    pub error_code: String,
    pub error_message: String,
}
#[derive(Clone, Debug, PartialEq, Default)]
pub struct NodeCounts {
    pub registered: RegisteredNodes,
    pub long_unregistered: u32,
    pub unregistered: u32,
}
#[derive(Clone, Debug, PartialEq, Default)]
pub struct RegisteredNodes {
    pub total: u32,
    pub ready: u32,
    pub not_started: u32,
    pub being_deleted: u32,
    pub unready: UnreadyNodes,
}
#[derive(Clone, Debug, PartialEq, Default)]
pub struct UnreadyNodes {
    pub total: u32,
    pub resource_unready: u32,
}
#[derive(Clone, Debug, PartialEq, Default)]
pub struct ConditionTimes {
    pub last_probe_time: Option<Timestamp>,
    pub last_transition_time: Option<Timestamp>,
}
impl AutoscalerStatus {
    pub fn to_yaml(&self) -> String {
        let mut s = format!(
            "time: {}\nautoscalerStatus: Running\n",
            self.time.go_string()
        );
        for g in &self.node_groups {
            s.push_str(&format!("- name: {}\n  health:\n    cloudProviderTarget: {}\n    minSize: {}\n    maxSize: {}\n", g.name, g.health.cloud_provider_target, g.health.min_size, g.health.max_size));
        }
        s
    }
    pub fn to_legacy_text(&self) -> String {
        let mut s = format!("Cluster-autoscaler status at {}:\n", self.time.go_string());
        for g in &self.node_groups {
            s.push_str(&format!(
                "  Name:        {}\n cloudProviderTarget={} (minSize={}, maxSize={})\n",
                g.name, g.health.cloud_provider_target, g.health.min_size, g.health.max_size
            ));
        }
        s
    }
    pub fn node_group(&self, name: &str) -> Option<&NodeGroupStatus> {
        self.node_groups.iter().find(|g| g.name == name)
    }
}
