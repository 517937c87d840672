//! The `kube-system/cluster-autoscaler-status` ConfigMap: cluster-autoscaler 1.30's YAML
//! (`clusterstate/api/types.go`, marshalled by yaml.v2) and the human-readable text of 1.29
//! and earlier (`clusterstate/api/utils.go::GetReadableString`).

use crate::time::Timestamp;
use std::fmt;

macro_rules! words {
    ($(#[$m:meta])* $name:ident { $($v:ident),* }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum $name { $($v),* }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self { $($name::$v => f.write_str(stringify!($v))),* }
            }
        }
    };
}

words!(
    /// `autoscalerStatus`.
    AutoscalerState { Initializing, Running }
);
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

#[derive(Clone, Debug, Default, PartialEq)]
pub struct NodeCounts {
    pub registered: RegisteredNodes,
    pub long_unregistered: u32,
    pub unregistered: u32,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct RegisteredNodes {
    pub total: u32,
    pub ready: u32,
    pub not_started: u32,
    pub being_deleted: u32,
    pub unready: UnreadyNodes,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct UnreadyNodes {
    pub total: u32,
    pub resource_unready: u32,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ConditionTimes {
    pub last_probe_time: Option<Timestamp>,
    pub last_transition_time: Option<Timestamp>,
}

/// Upstream truncates a backoff error message to this many bytes plus `<truncated>`.
const MAX_ERROR_MESSAGE: usize = 500;

/// A block-style YAML writer with yaml.v2's scalar quoting.
struct Yaml {
    out: String,
}

impl Yaml {
    fn line(&mut self, indent: usize, key: &str, value: impl fmt::Display) {
        self.out
            .push_str(&format!("{:indent$}{key}: {value}\n", ""));
    }
    fn open(&mut self, indent: usize, key: &str) {
        self.out.push_str(&format!("{:indent$}{key}:\n", ""));
    }
    fn str(&mut self, indent: usize, key: &str, value: &str) {
        self.line(indent, key, scalar(value));
    }
    fn times(&mut self, indent: usize, t: &ConditionTimes) {
        for (key, v) in [
            ("lastProbeTime", t.last_probe_time),
            ("lastTransitionTime", t.last_transition_time),
        ] {
            if let Some(v) = v {
                self.line(indent, key, format!("\"{}\"", v.rfc3339_nano()));
            }
        }
    }
    fn counts(&mut self, indent: usize, c: &NodeCounts) {
        let r = &c.registered;
        let registered_zero = r.total == 0
            && r.ready == 0
            && r.not_started == 0
            && r.being_deleted == 0
            && r.unready.total == 0
            && r.unready.resource_unready == 0;
        if registered_zero && c.long_unregistered == 0 && c.unregistered == 0 {
            return;
        }
        self.open(indent, "nodeCounts");
        if !registered_zero {
            self.open(indent + 2, "registered");
            self.line(indent + 4, "total", r.total);
            self.line(indent + 4, "ready", r.ready);
            self.line(indent + 4, "notStarted", r.not_started);
            if r.being_deleted > 0 {
                self.line(indent + 4, "beingDeleted", r.being_deleted);
            }
            if r.unready.total > 0 || r.unready.resource_unready > 0 {
                self.open(indent + 4, "unready");
                self.line(indent + 6, "total", r.unready.total);
                self.line(indent + 6, "resourceUnready", r.unready.resource_unready);
            }
        }
        self.line(indent + 2, "longUnregistered", c.long_unregistered);
        self.line(indent + 2, "unregistered", c.unregistered);
    }
    fn scale_down(&mut self, indent: usize, s: &ScaleDownCondition) {
        self.open(indent, "scaleDown");
        self.line(indent + 2, "status", s.status);
        if s.candidates > 0 {
            self.line(indent + 2, "candidates", s.candidates);
        }
        self.times(indent + 2, &s.times);
    }
}

/// How yaml.v2 writes a string: plain when it reads back as the same string, single-quoted
/// when plain is not allowed, double-quoted when it would read back as another type.
fn scalar(s: &str) -> String {
    let other_type = matches!(
        s.to_ascii_lowercase().as_str(),
        "" | "~" | "null" | "true" | "false" | "yes" | "no" | "on" | "off" | "y" | "n"
    ) || s.parse::<f64>().is_ok()
        || looks_like_timestamp(s);
    if other_type {
        return format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""));
    }
    let first = s.chars().next().unwrap_or(' ');
    let plain = !s.contains(": ")
        && !s.contains(" #")
        && !s.ends_with(':')
        && !s.starts_with(' ')
        && !s.ends_with(' ')
        && !s.contains('\n')
        && !"-?:,[]{}#&*!|>'\"%@`".contains(first);
    if plain
        || (first == '-'
            && s.len() > 1
            && !s[1..].starts_with(' ')
            && !s.contains(": ")
            && !s.contains(" #"))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "''"))
    }
}

fn looks_like_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 10
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[7] == b'-'
        && b[5..7].iter().all(u8::is_ascii_digit)
        && b[8..10].iter().all(u8::is_ascii_digit)
}

impl AutoscalerStatus {
    /// The 1.30+ YAML, as `yaml.v2` marshals upstream's `ClusterAutoscalerStatus`.
    pub fn to_yaml(&self) -> String {
        let mut y = Yaml { out: String::new() };
        y.line(0, "time", self.time.go_string());
        if let Some(s) = self.autoscaler_status {
            y.line(0, "autoscalerStatus", s);
        }
        if let Some(m) = &self.message {
            y.str(0, "message", m);
        }
        let c = &self.cluster_wide;
        y.open(0, "clusterWide");
        y.open(2, "health");
        y.line(4, "status", c.health.status);
        y.counts(4, &c.health.node_counts);
        y.times(4, &c.health.times);
        y.open(2, "scaleUp");
        y.line(4, "status", c.scale_up.status);
        y.times(4, &c.scale_up.times);
        y.scale_down(2, &c.scale_down);
        if !self.node_groups.is_empty() {
            y.open(0, "nodeGroups");
        }
        for g in &self.node_groups {
            y.out.push_str(&format!("- name: {}\n", scalar(&g.name)));
            y.open(2, "health");
            y.line(4, "status", g.health.status);
            y.counts(4, &g.health.node_counts);
            y.line(4, "cloudProviderTarget", g.health.cloud_provider_target);
            y.line(4, "minSize", g.health.min_size);
            y.line(4, "maxSize", g.health.max_size);
            y.times(4, &g.health.times);
            y.open(2, "scaleUp");
            y.line(4, "status", g.scale_up.status);
            if let Some(b) = &g.scale_up.backoff_info {
                y.open(4, "backoffInfo");
                y.str(6, "errorCode", &b.error_code);
                y.str(6, "errorMessage", &truncate(&b.error_message));
            }
            y.times(4, &g.scale_up.times);
            y.scale_down(2, &g.scale_down);
        }
        y.out
    }

    /// The text format of cluster-autoscaler 1.29 and earlier.
    pub fn to_legacy_text(&self) -> String {
        let c = &self.cluster_wide;
        let mut out = format!(
            "Cluster-autoscaler status at {}:\nCluster-wide:\n",
            self.time.go_string()
        );
        let counts = |n: &NodeCounts| {
            let r = &n.registered;
            format!(
                "ready={} unready={} (resourceUnready={}) notStarted={} longNotStarted=0 registered={} longUnregistered={}",
                r.ready, r.unready.total, r.unready.resource_unready, r.not_started, r.total, n.long_unregistered
            )
        };
        let cond = |out: &mut String,
                    kind: &str,
                    status: &dyn fmt::Display,
                    msg: String,
                    t: &ConditionTimes| {
            out.push_str(&format!("  {:<12} {status} ({msg})\n", format!("{kind}:")));
            out.push_str(&format!(
                "               LastProbeTime:      {}\n",
                legacy_time(t.last_probe_time)
            ));
            out.push_str(&format!(
                "               LastTransitionTime: {}\n",
                legacy_time(t.last_transition_time)
            ));
        };
        cond(
            &mut out,
            "Health",
            &c.health.status,
            counts(&c.health.node_counts),
            &c.health.times,
        );
        let r = &c.health.node_counts.registered;
        cond(
            &mut out,
            "ScaleUp",
            &c.scale_up.status,
            format!("ready={} registered={}", r.ready, r.total),
            &c.scale_up.times,
        );
        cond(
            &mut out,
            "ScaleDown",
            &c.scale_down.status,
            format!("candidates={}", c.scale_down.candidates),
            &c.scale_down.times,
        );
        out.push_str("\nNodeGroups:\n");
        for g in &self.node_groups {
            let h = &g.health;
            out.push_str(&format!("  Name:        {}\n", g.name));
            let health = format!(
                "{} cloudProviderTarget={} (minSize={}, maxSize={})",
                counts(&h.node_counts),
                h.cloud_provider_target,
                h.min_size,
                h.max_size
            );
            cond(&mut out, "Health", &h.status, health, &h.times);
            let up = format!(
                "ready={} cloudProviderTarget={}",
                h.node_counts.registered.ready, h.cloud_provider_target
            );
            cond(
                &mut out,
                "ScaleUp",
                &g.scale_up.status,
                up,
                &g.scale_up.times,
            );
            cond(
                &mut out,
                "ScaleDown",
                &g.scale_down.status,
                format!("candidates={}", g.scale_down.candidates),
                &g.scale_down.times,
            );
            out.push('\n');
        }
        out
    }

    pub fn node_group(&self, name: &str) -> Option<&NodeGroupStatus> {
        self.node_groups.iter().find(|g| g.name == name)
    }
}

fn legacy_time(t: Option<Timestamp>) -> String {
    t.map_or(
        "0001-01-01 00:00:00 +0000 UTC".to_string(),
        Timestamp::go_string,
    )
}

fn truncate(m: &str) -> String {
    if m.len() <= MAX_ERROR_MESSAGE {
        return m.to_string();
    }
    let mut end = MAX_ERROR_MESSAGE;
    while !m.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}<truncated>", &m[..end])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::{Epoch, SimTime};

    fn ts(rfc: &str, ms: u64) -> Timestamp {
        Epoch::parse_rfc3339(rfc).unwrap().at(SimTime(ms))
    }

    fn counts(total: u32) -> NodeCounts {
        NodeCounts {
            registered: RegisteredNodes {
                total,
                ready: total,
                ..Default::default()
            },
            ..Default::default()
        }
    }

    fn example() -> AutoscalerStatus {
        let probe = ts("2025-11-10T14:03:20Z", 987);
        let trans = ts("2025-11-10T13:03:30Z", 111);
        let down = ts("2025-11-10T14:03:11Z", 500);
        let t = ConditionTimes {
            last_probe_time: Some(probe),
            last_transition_time: Some(trans),
        };
        let td = ConditionTimes {
            last_probe_time: Some(down),
            last_transition_time: Some(trans),
        };
        AutoscalerStatus {
            time: ts("2025-11-10T14:03:21Z", 123),
            autoscaler_status: Some(AutoscalerState::Running),
            message: None,
            cluster_wide: ClusterWideStatus {
                health: ClusterHealth {
                    status: HealthStatus::Healthy,
                    node_counts: counts(3),
                    times: t.clone(),
                },
                scale_up: ClusterScaleUp {
                    status: ClusterScaleUpStatus::NoActivity,
                    times: t.clone(),
                },
                scale_down: ScaleDownCondition {
                    status: ScaleDownStatus::NoCandidates,
                    candidates: 0,
                    times: td.clone(),
                },
            },
            node_groups: vec![NodeGroupStatus {
                name: "MachineDeployment/magnum-0123abcd/k8s-abcd1234-default-worker".into(),
                health: NodeGroupHealth {
                    status: HealthStatus::Healthy,
                    node_counts: counts(2),
                    cloud_provider_target: 2,
                    min_size: 1,
                    max_size: 2,
                    times: t.clone(),
                },
                scale_up: NodeGroupScaleUp {
                    status: NodeGroupScaleUpStatus::NoActivity,
                    backoff_info: None,
                    times: t,
                },
                scale_down: ScaleDownCondition {
                    status: ScaleDownStatus::NoCandidates,
                    candidates: 0,
                    times: td,
                },
            }],
        }
    }

    /// The worked example of ca-upstream-detail.md §4.2 (millisecond times).
    #[test]
    fn yaml_matches_the_upstream_layout() {
        let expected = r#"time: 2025-11-10 14:03:21.123 +0000 UTC
autoscalerStatus: Running
clusterWide:
  health:
    status: Healthy
    nodeCounts:
      registered:
        total: 3
        ready: 3
        notStarted: 0
      longUnregistered: 0
      unregistered: 0
    lastProbeTime: "2025-11-10T14:03:20.987Z"
    lastTransitionTime: "2025-11-10T13:03:30.111Z"
  scaleUp:
    status: NoActivity
    lastProbeTime: "2025-11-10T14:03:20.987Z"
    lastTransitionTime: "2025-11-10T13:03:30.111Z"
  scaleDown:
    status: NoCandidates
    lastProbeTime: "2025-11-10T14:03:11.5Z"
    lastTransitionTime: "2025-11-10T13:03:30.111Z"
nodeGroups:
- name: MachineDeployment/magnum-0123abcd/k8s-abcd1234-default-worker
  health:
    status: Healthy
    nodeCounts:
      registered:
        total: 2
        ready: 2
        notStarted: 0
      longUnregistered: 0
      unregistered: 0
    cloudProviderTarget: 2
    minSize: 1
    maxSize: 2
    lastProbeTime: "2025-11-10T14:03:20.987Z"
    lastTransitionTime: "2025-11-10T13:03:30.111Z"
  scaleUp:
    status: NoActivity
    lastProbeTime: "2025-11-10T14:03:20.987Z"
    lastTransitionTime: "2025-11-10T13:03:30.111Z"
  scaleDown:
    status: NoCandidates
    lastProbeTime: "2025-11-10T14:03:11.5Z"
    lastTransitionTime: "2025-11-10T13:03:30.111Z"
"#;
        assert_eq!(example().to_yaml(), expected);
    }

    #[test]
    fn backoff_unready_and_empty_counts() {
        let mut s = example();
        let g = &mut s.node_groups[0];
        g.scale_up.status = NodeGroupScaleUpStatus::Backoff;
        g.scale_up.backoff_info = Some(BackoffInfo {
            error_code: "timeout".into(),
            error_message: "failed to increase node group size: quota exceeded".into(),
        });
        g.health.node_counts = NodeCounts::default();
        s.cluster_wide.health.node_counts.registered.unready = UnreadyNodes {
            total: 1,
            resource_unready: 0,
        };
        s.cluster_wide.health.node_counts.registered.being_deleted = 2;
        let y = s.to_yaml();
        assert!(y.contains("    backoffInfo:\n      errorCode: timeout\n      errorMessage: 'failed to increase node group size: quota exceeded'\n"), "{y}");
        assert!(y.contains("        beingDeleted: 2\n        unready:\n          total: 1\n          resourceUnready: 0\n"), "{y}");
        assert!(
            y.contains("  health:\n    status: Healthy\n    cloudProviderTarget: 2\n"),
            "empty nodeCounts omitted: {y}"
        );
        assert_eq!(
            truncate(&"x".repeat(600)),
            format!("{}<truncated>", "x".repeat(500))
        );
    }

    #[test]
    fn scalars_quote_like_yaml_v2() {
        assert_eq!(scalar("Running"), "Running");
        assert_eq!(scalar("a: b"), "'a: b'");
        assert_eq!(scalar("true"), "\"true\"");
        assert_eq!(scalar("5"), "\"5\"");
        assert_eq!(scalar("it's: x"), "'it''s: x'");
        assert_eq!(scalar(""), "\"\"");
    }

    #[test]
    fn message_only_status() {
        let mut s = example();
        s.autoscaler_status = None;
        s.message = Some("TEST_MSG".into());
        s.node_groups.clear();
        assert!(s.to_yaml().starts_with(
            "time: 2025-11-10 14:03:21.123 +0000 UTC\nmessage: TEST_MSG\nclusterWide:\n"
        ));
        assert!(!s.to_yaml().contains("nodeGroups"));
    }

    /// The legacy text of ca-upstream-detail.md §4.1.
    #[test]
    fn legacy_text_layout() {
        let text = example().to_legacy_text();
        let expected_head = "Cluster-autoscaler status at 2025-11-10 14:03:21.123 +0000 UTC:\nCluster-wide:\n  Health:      Healthy (ready=3 unready=0 (resourceUnready=0) notStarted=0 longNotStarted=0 registered=3 longUnregistered=0)\n               LastProbeTime:      2025-11-10 14:03:20.987 +0000 UTC\n               LastTransitionTime: 2025-11-10 13:03:30.111 +0000 UTC\n  ScaleUp:     NoActivity (ready=3 registered=3)\n";
        assert!(text.starts_with(expected_head), "{text}");
        assert!(text.contains("\nNodeGroups:\n  Name:        MachineDeployment/magnum-0123abcd/k8s-abcd1234-default-worker\n  Health:      Healthy (ready=2 unready=0 (resourceUnready=0) notStarted=0 longNotStarted=0 registered=2 longUnregistered=0 cloudProviderTarget=2 (minSize=1, maxSize=2))\n"));
        assert!(text.contains("  ScaleUp:     NoActivity (ready=2 cloudProviderTarget=2)\n"));
        assert!(text.ends_with("  ScaleDown:   NoCandidates (candidates=0)\n               LastProbeTime:      2025-11-10 14:03:11.5 +0000 UTC\n               LastTransitionTime: 2025-11-10 13:03:30.111 +0000 UTC\n\n"));
    }
}
