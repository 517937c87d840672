//! The `cluster-autoscaler-status` ConfigMap text (`data.status`).
//!
//! [`AutoscalerStatus`] mirrors upstream's `clusterstate/api/types.go` (1.30.2) and renders it two
//! ways:
//! - [`AutoscalerStatus::to_yaml`]: what 1.30+ writes, i.e. `gopkg.in/yaml.v2` (v2.4.0, the
//!   vendored one) marshalling upstream's structs. The yaml.v2 rules that matter are modelled
//!   here: `omitempty` (zero struct, empty string, 0, empty slice), scalar quoting (plain,
//!   single-quoted, double-quoted, literal, `!!binary` for invalid UTF-8) and yaml.v2's line
//!   folding of long strings at column 80, which is on by default in v2.4.0 and never switched
//!   off by cluster-autoscaler (nothing in its vendored tree calls `yaml.FutureLineWrap`).
//! - [`AutoscalerStatus::to_legacy_text`]: the human-readable text of releases up to 1.29
//!   (`clusterstate/api/utils.go::GetReadableString` at 1.29.5 plus the header that
//!   `clusterstate/utils/status.go::WriteStatusConfigMap` prepends).
//!
//! Times are millisecond-precise [`Timestamp`]s, so fractions print with at most three digits
//! where the real binary prints up to nine.

use crate::gostd::yaml::{self as goyaml, go_str, go_string, int, Node};
use crate::time::Timestamp;
use std::fmt;

/// Declares a status word enum whose `Display` is upstream's word for it.
macro_rules! status_words {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum $name {
            $($(#[$vdoc])* $variant),+
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(match self {
                    $($name::$variant => stringify!($variant)),+
                })
            }
        }
    };
}

status_words!(
    /// `autoscalerStatus`: `Initializing` at start-up, `Running` from the first loop on.
    AutoscalerState { Initializing, Running }
);
status_words!(
    /// Health of the cluster or of one node group.
    HealthStatus { Healthy, Unhealthy }
);
status_words!(
    /// Cluster-wide scale-up: `InProgress` while any node group is `InProgress`.
    ClusterScaleUpStatus { InProgress, NoActivity }
);
status_words!(
    /// Scale-down, cluster-wide or per node group.
    ScaleDownStatus { CandidatesPresent, NoCandidates }
);
status_words!(
    /// A node group's scale-up condition, checked in this order upstream.
    NodeGroupScaleUpStatus { InProgress, Unhealthy, Backoff, NoActivity }
);

/// One status write: upstream's `api.ClusterAutoscalerStatus`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AutoscalerStatus {
    /// The loop time; YAML `time:` and the legacy header print it in Go's
    /// `2006-01-02 15:04:05.999999999 -0700 MST` form.
    pub time: Timestamp,
    /// `None` models upstream's empty string (omitted).
    pub autoscaler_status: Option<AutoscalerState>,
    /// `None` or `Some("")` is omitted; upstream's loop never sets it.
    pub message: Option<String>,
    pub cluster_wide: ClusterWideStatus,
    /// In cloud-provider order; an empty list is omitted from the YAML (`omitempty`).
    pub node_groups: Vec<NodeGroupStatus>,
}

/// `clusterWide`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterWideStatus {
    pub health: ClusterHealth,
    pub scale_up: ClusterScaleUp,
    pub scale_down: ScaleDownCondition,
}

/// `clusterWide.health`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterHealth {
    pub status: HealthStatus,
    pub node_counts: NodeCounts,
    pub times: ConditionTimes,
}

/// `clusterWide.scaleUp`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterScaleUp {
    pub status: ClusterScaleUpStatus,
    pub times: ConditionTimes,
}

/// `scaleDown`, cluster-wide or per node group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScaleDownCondition {
    pub status: ScaleDownStatus,
    /// Omitted from the YAML when 0.
    pub candidates: u32,
    pub times: ConditionTimes,
}

/// One entry of `nodeGroups`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeGroupStatus {
    /// `NodeGroup.Id()`; omitted from the YAML when empty.
    pub name: String,
    pub health: NodeGroupHealth,
    pub scale_up: NodeGroupScaleUp,
    pub scale_down: ScaleDownCondition,
}

/// A node group's `health`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeGroupHealth {
    pub status: HealthStatus,
    pub node_counts: NodeCounts,
    pub cloud_provider_target: u32,
    pub min_size: u32,
    pub max_size: u32,
    pub times: ConditionTimes,
}

/// A node group's `scaleUp`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeGroupScaleUp {
    pub status: NodeGroupScaleUpStatus,
    /// Set only in `Backoff` upstream; rendered whenever `Some` and not all empty.
    pub backoff_info: Option<BackoffInfo>,
    pub times: ConditionTimes,
}

/// `backoffInfo` of a group in `Backoff`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackoffInfo {
    pub error_code: String,
    /// The full message; the YAML shows it cut the way upstream cuts it
    /// ([`status_error_message`]).
    pub error_message: String,
}

/// `nodeCounts`; omitted from the YAML when every count is 0.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct NodeCounts {
    pub registered: RegisteredNodes,
    pub long_unregistered: u32,
    pub unregistered: u32,
}

/// `nodeCounts.registered`; omitted from the YAML when every count in it is 0.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct RegisteredNodes {
    pub total: u32,
    pub ready: u32,
    pub not_started: u32,
    /// Omitted from the YAML when 0.
    pub being_deleted: u32,
    pub unready: UnreadyNodes,
}

/// `nodeCounts.registered.unready`; omitted from the YAML when both counts are 0.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct UnreadyNodes {
    pub total: u32,
    pub resource_unready: u32,
}

/// A condition's probe and transition times; `None` is Go's zero time.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ConditionTimes {
    pub last_probe_time: Option<Timestamp>,
    pub last_transition_time: Option<Timestamp>,
}

/// Upstream's `maxErrorMessageSize` (clusterstate.go).
const MAX_ERROR_MESSAGE_SIZE: usize = 500;
/// Upstream's `messageTrancated` suffix (clusterstate.go).
const MESSAGE_TRUNCATED: &str = "<truncated>";
/// How Go prints a zero `time.Time`: a condition never probed.
const GO_ZERO_TIME: &str = "0001-01-01 00:00:00 +0000 UTC";
/// Go's zero `time.Time` (0001-01-01T00:00:00Z) in Unix milliseconds.
const GO_ZERO_UNIX_MILLIS: i64 = -62_135_596_800_000;

/// The bytes upstream puts in `backoffInfo.errorMessage` (`truncateIfExceedMaxLength`): a
/// message over 500 bytes becomes its first 489 bytes plus `<truncated>`, 500 bytes in all.
/// The cut is by byte, so it can split a UTF-8 character; the YAML then shows `!!binary`.
pub fn status_error_message(message: &str) -> Vec<u8> {
    let bytes = message.as_bytes();
    if bytes.len() <= MAX_ERROR_MESSAGE_SIZE {
        return bytes.to_vec();
    }
    let keep = MAX_ERROR_MESSAGE_SIZE - MESSAGE_TRUNCATED.len();
    let mut out = bytes.get(..keep).unwrap_or(bytes).to_vec();
    out.extend_from_slice(MESSAGE_TRUNCATED.as_bytes());
    out
}

impl AutoscalerStatus {
    /// The 1.30+ `data.status`: byte for byte what yaml.v2 marshals from upstream's structs.
    pub fn to_yaml(&self) -> String {
        let mut root = top_fields(self.time, self.autoscaler_status, self.message.as_deref());
        root.push(("clusterWide", cluster_wide_node(&self.cluster_wide)));
        if !self.node_groups.is_empty() {
            root.push((
                "nodeGroups",
                Node::Seq(self.node_groups.iter().map(node_group_node).collect()),
            ));
        }
        goyaml::document(&Node::Map(root))
    }

    /// The YAML of a status whose `clusterWide` and `nodeGroups` are empty, which upstream
    /// omits entirely. At start-up 1.30+ writes this with `Initializing` and no message
    /// (`EmptyClusterAutoscalerStatus`); see [`AutoscalerStatus::initial_yaml`].
    pub fn empty_yaml(
        time: Timestamp,
        autoscaler_status: Option<AutoscalerState>,
        message: Option<&str>,
    ) -> String {
        goyaml::document(&Node::Map(top_fields(time, autoscaler_status, message)))
    }

    /// What 1.30+ writes when it starts (`NewStatusMapRecorder`):
    /// `time: ...\nautoscalerStatus: Initializing\n`.
    pub fn initial_yaml(time: Timestamp) -> String {
        Self::empty_yaml(time, Some(AutoscalerState::Initializing), None)
    }

    /// What releases up to 1.29 write when they start: the header, then `Initializing` with
    /// no final newline.
    pub fn initial_legacy_text(time: Timestamp) -> String {
        format!(
            "Cluster-autoscaler status at {}:\nInitializing",
            time.go_string()
        )
    }

    /// The human-readable text of releases up to 1.29.
    ///
    /// Condition times print as Go's `time.Time.String()`; the real binary's probe times also
    /// carry a monotonic-clock suffix (` m=+3605.120000001`), which a simulator has no value
    /// for, so it is left out. A missing time prints as Go's zero time. That format has no
    /// place for `autoscaler_status`, `message`, `being_deleted`, `unregistered` or
    /// `backoff_info`, so they are not shown; without node groups the `NodeGroups:` block is
    /// left out and the text ends right after the cluster-wide conditions.
    pub fn to_legacy_text(&self) -> String {
        let mut out = format!(
            "Cluster-autoscaler status at {}:\nCluster-wide:\n",
            self.time.go_string()
        );
        let cw = &self.cluster_wide;
        let counts = &cw.health.node_counts;
        push_condition(
            &mut out,
            "Health:",
            &cw.health.status.to_string(),
            &health_message(counts),
            &cw.health.times,
        );
        push_condition(
            &mut out,
            "ScaleUp:",
            &cw.scale_up.status.to_string(),
            &format!(
                "ready={} registered={}",
                counts.registered.ready, counts.registered.total
            ),
            &cw.scale_up.times,
        );
        push_scale_down(&mut out, &cw.scale_down);
        if self.node_groups.is_empty() {
            return out;
        }
        out.push_str("\nNodeGroups:\n");
        for g in &self.node_groups {
            out.push_str(&format!("  Name:        {}\n", g.name));
            let h = &g.health;
            push_condition(
                &mut out,
                "Health:",
                &h.status.to_string(),
                &format!(
                    "{} cloudProviderTarget={} (minSize={}, maxSize={})",
                    health_message(&h.node_counts),
                    h.cloud_provider_target,
                    h.min_size,
                    h.max_size
                ),
                &h.times,
            );
            push_condition(
                &mut out,
                "ScaleUp:",
                &g.scale_up.status.to_string(),
                &format!(
                    "ready={} cloudProviderTarget={}",
                    h.node_counts.registered.ready, h.cloud_provider_target
                ),
                &g.scale_up.times,
            );
            push_scale_down(&mut out, &g.scale_down);
            out.push('\n');
        }
        out
    }

    /// The status of the node group with this id.
    pub fn node_group(&self, name: &str) -> Option<&NodeGroupStatus> {
        self.node_groups.iter().find(|g| g.name == name)
    }
}

// ---------------------------------------------------------------------------------------------
// Legacy text (clusterstate/api/utils.go @ 1.29.5).

/// The health message 1.29's `buildHealthStatus*` writes; `longNotStarted=0` is a literal.
fn health_message(c: &NodeCounts) -> String {
    let r = &c.registered;
    format!(
        "ready={} unready={} (resourceUnready={}) notStarted={} longNotStarted=0 registered={} longUnregistered={}",
        r.ready, r.unready.total, r.unready.resource_unready, r.not_started, r.total, c.long_unregistered
    )
}

/// A condition as `getConditionsString` prints it: `%-12v` type, status, `(message)`, times.
fn push_condition(out: &mut String, kind: &str, status: &str, message: &str, t: &ConditionTimes) {
    out.push_str(&format!("  {kind:<12} {status}"));
    if !message.is_empty() {
        out.push_str(&format!(" ({message})"));
    }
    out.push('\n');
    out.push_str(&format!(
        "  {:13}LastProbeTime:      {}\n",
        "",
        legacy_time(t.last_probe_time)
    ));
    out.push_str(&format!(
        "  {:13}LastTransitionTime: {}\n",
        "",
        legacy_time(t.last_transition_time)
    ));
}

fn push_scale_down(out: &mut String, sd: &ScaleDownCondition) {
    push_condition(
        out,
        "ScaleDown:",
        &sd.status.to_string(),
        &format!("candidates={}", sd.candidates),
        &sd.times,
    );
}

fn legacy_time(t: Option<Timestamp>) -> String {
    match present(t) {
        Some(t) => t.go_string(),
        None => GO_ZERO_TIME.to_string(),
    }
}

/// `None` for a missing time or Go's zero instant, which upstream treats as unset.
fn present(t: Option<Timestamp>) -> Option<Timestamp> {
    t.filter(|t| t.unix_millis != GO_ZERO_UNIX_MILLIS)
}

// ---------------------------------------------------------------------------------------------
// Struct -> YAML node tree (crate::gostd::yaml), applying upstream's `omitempty` tags (yaml.v2
// `isZero`).

fn top_fields(
    time: Timestamp,
    autoscaler_status: Option<AutoscalerState>,
    message: Option<&str>,
) -> Vec<(&'static str, Node)> {
    let mut fields = vec![("time", go_str(&time.go_string()))];
    if let Some(state) = autoscaler_status {
        fields.push(("autoscalerStatus", go_str(&state.to_string())));
    }
    if let Some(m) = message.filter(|m| !m.is_empty()) {
        fields.push(("message", go_str(m)));
    }
    fields
}

fn cluster_wide_node(cw: &ClusterWideStatus) -> Node {
    let mut health = vec![("status", go_str(&cw.health.status.to_string()))];
    push_node_counts(&mut health, &cw.health.node_counts);
    push_times(&mut health, &cw.health.times);
    let mut scale_up = vec![("status", go_str(&cw.scale_up.status.to_string()))];
    push_times(&mut scale_up, &cw.scale_up.times);
    Node::Map(vec![
        ("health", Node::Map(health)),
        ("scaleUp", Node::Map(scale_up)),
        ("scaleDown", scale_down_node(&cw.scale_down)),
    ])
}

fn node_group_node(g: &NodeGroupStatus) -> Node {
    let mut fields = Vec::new();
    if !g.name.is_empty() {
        fields.push(("name", go_str(&g.name)));
    }
    let h = &g.health;
    let mut health = vec![("status", go_str(&h.status.to_string()))];
    push_node_counts(&mut health, &h.node_counts);
    health.push(("cloudProviderTarget", int(h.cloud_provider_target)));
    health.push(("minSize", int(h.min_size)));
    health.push(("maxSize", int(h.max_size)));
    push_times(&mut health, &h.times);
    fields.push(("health", Node::Map(health)));

    let mut scale_up = vec![("status", go_str(&g.scale_up.status.to_string()))];
    if let Some(b) = &g.scale_up.backoff_info {
        let message = status_error_message(&b.error_message);
        let mut info = Vec::new();
        if !b.error_code.is_empty() {
            info.push(("errorCode", go_str(&b.error_code)));
        }
        if !message.is_empty() {
            info.push(("errorMessage", go_string(&message)));
        }
        if !info.is_empty() {
            scale_up.push(("backoffInfo", Node::Map(info)));
        }
    }
    push_times(&mut scale_up, &g.scale_up.times);
    fields.push(("scaleUp", Node::Map(scale_up)));
    fields.push(("scaleDown", scale_down_node(&g.scale_down)));
    Node::Map(fields)
}

fn scale_down_node(sd: &ScaleDownCondition) -> Node {
    let mut fields = vec![("status", go_str(&sd.status.to_string()))];
    if sd.candidates != 0 {
        fields.push(("candidates", int(sd.candidates)));
    }
    push_times(&mut fields, &sd.times);
    Node::Map(fields)
}

/// `nodeCounts` with its nested `omitempty` rules; nothing when every count is 0.
fn push_node_counts(fields: &mut Vec<(&'static str, Node)>, c: &NodeCounts) {
    if *c == NodeCounts::default() {
        return;
    }
    let mut counts = Vec::new();
    let r = &c.registered;
    if *r != RegisteredNodes::default() {
        let mut reg = vec![
            ("total", int(r.total)),
            ("ready", int(r.ready)),
            ("notStarted", int(r.not_started)),
        ];
        if r.being_deleted != 0 {
            reg.push(("beingDeleted", int(r.being_deleted)));
        }
        if r.unready != UnreadyNodes::default() {
            reg.push((
                "unready",
                Node::Map(vec![
                    ("total", int(r.unready.total)),
                    ("resourceUnready", int(r.unready.resource_unready)),
                ]),
            ));
        }
        counts.push(("registered", Node::Map(reg)));
    }
    counts.push(("longUnregistered", int(c.long_unregistered)));
    counts.push(("unregistered", int(c.unregistered)));
    fields.push(("nodeCounts", Node::Map(counts)));
}

/// `metav1.Time` goes through `time.Time.MarshalText` (RFC 3339 with nanoseconds); a zero
/// time is omitted.
fn push_times(fields: &mut Vec<(&'static str, Node)>, t: &ConditionTimes) {
    if let Some(p) = present(t.last_probe_time) {
        fields.push(("lastProbeTime", go_str(&p.rfc3339_nano())));
    }
    if let Some(p) = present(t.last_transition_time) {
        fields.push(("lastTransitionTime", go_str(&p.rfc3339_nano())));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Epoch;

    fn ts(text: &str) -> Timestamp {
        // `YYYY-MM-DDTHH:MM:SS.mmmZ` for tests.
        let (whole, ms) = text
            .split_once('.')
            .map_or((text.to_string(), 0), |(w, f)| {
                let ms = f.trim_end_matches('Z');
                let ms = format!("{ms:0<3}").parse::<i64>().unwrap();
                (format!("{w}Z"), ms)
            });
        Timestamp {
            unix_millis: Epoch::parse_rfc3339(&whole).unwrap().0 * 1000 + ms,
        }
    }

    fn times(probe: &str, transition: &str) -> ConditionTimes {
        ConditionTimes {
            last_probe_time: Some(ts(probe)),
            last_transition_time: Some(ts(transition)),
        }
    }

    fn counts(total: u32, ready: u32) -> NodeCounts {
        NodeCounts {
            registered: RegisteredNodes {
                total,
                ready,
                ..Default::default()
            },
            ..Default::default()
        }
    }

    const T1: &str = "2025-11-10T14:03:20.987Z";
    const T0: &str = "2025-11-10T13:03:30.111Z";
    const TSD: &str = "2025-11-10T14:03:11.5Z";

    /// The §4.2 example of the reference (times at millisecond precision).
    fn example() -> AutoscalerStatus {
        AutoscalerStatus {
            time: ts("2025-11-10T14:03:21.123Z"),
            autoscaler_status: Some(AutoscalerState::Running),
            message: None,
            cluster_wide: ClusterWideStatus {
                health: ClusterHealth {
                    status: HealthStatus::Healthy,
                    node_counts: counts(3, 3),
                    times: times(T1, T0),
                },
                scale_up: ClusterScaleUp {
                    status: ClusterScaleUpStatus::NoActivity,
                    times: times(T1, T0),
                },
                scale_down: ScaleDownCondition {
                    status: ScaleDownStatus::NoCandidates,
                    candidates: 0,
                    times: times(TSD, T0),
                },
            },
            node_groups: vec![group(
                "MachineDeployment/magnum-0123abcd/k8s-abcd1234-default-worker",
                2,
            )],
        }
    }

    fn group(name: &str, size: u32) -> NodeGroupStatus {
        NodeGroupStatus {
            name: name.to_string(),
            health: NodeGroupHealth {
                status: HealthStatus::Healthy,
                node_counts: counts(size, size),
                cloud_provider_target: size,
                min_size: 1,
                max_size: size,
                times: times(T1, T0),
            },
            scale_up: NodeGroupScaleUp {
                status: NodeGroupScaleUpStatus::NoActivity,
                backoff_info: None,
                times: times(T1, T0),
            },
            scale_down: ScaleDownCondition {
                status: ScaleDownStatus::NoCandidates,
                candidates: 0,
                times: times(TSD, T0),
            },
        }
    }

    #[test]
    fn yaml_matches_reference_example() {
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
    fn legacy_text_matches_reference_example() {
        let mut s = example();
        s.node_groups[0].name = "default-worker-5f1c2a7e".into();
        let expected = r#"Cluster-autoscaler status at 2025-11-10 14:03:21.123 +0000 UTC:
Cluster-wide:
  Health:      Healthy (ready=3 unready=0 (resourceUnready=0) notStarted=0 longNotStarted=0 registered=3 longUnregistered=0)
               LastProbeTime:      2025-11-10 14:03:20.987 +0000 UTC
               LastTransitionTime: 2025-11-10 13:03:30.111 +0000 UTC
  ScaleUp:     NoActivity (ready=3 registered=3)
               LastProbeTime:      2025-11-10 14:03:20.987 +0000 UTC
               LastTransitionTime: 2025-11-10 13:03:30.111 +0000 UTC
  ScaleDown:   NoCandidates (candidates=0)
               LastProbeTime:      2025-11-10 14:03:11.5 +0000 UTC
               LastTransitionTime: 2025-11-10 13:03:30.111 +0000 UTC

NodeGroups:
  Name:        default-worker-5f1c2a7e
  Health:      Healthy (ready=2 unready=0 (resourceUnready=0) notStarted=0 longNotStarted=0 registered=2 longUnregistered=0 cloudProviderTarget=2 (minSize=1, maxSize=2))
               LastProbeTime:      2025-11-10 14:03:20.987 +0000 UTC
               LastTransitionTime: 2025-11-10 13:03:30.111 +0000 UTC
  ScaleUp:     NoActivity (ready=2 cloudProviderTarget=2)
               LastProbeTime:      2025-11-10 14:03:20.987 +0000 UTC
               LastTransitionTime: 2025-11-10 13:03:30.111 +0000 UTC
  ScaleDown:   NoCandidates (candidates=0)
               LastProbeTime:      2025-11-10 14:03:11.5 +0000 UTC
               LastTransitionTime: 2025-11-10 13:03:30.111 +0000 UTC

"#;
        assert_eq!(s.to_legacy_text(), expected);
    }

    #[test]
    fn legacy_text_unprobed_time_and_no_groups() {
        let mut s = example();
        s.node_groups.clear();
        s.cluster_wide.scale_down.times = ConditionTimes::default();
        let text = s.to_legacy_text();
        assert!(text.ends_with(
            "  ScaleDown:   NoCandidates (candidates=0)\n               LastProbeTime:      0001-01-01 00:00:00 +0000 UTC\n               LastTransitionTime: 0001-01-01 00:00:00 +0000 UTC\n"
        ));
        assert!(!text.contains("NodeGroups:"));
    }

    /// Upstream's `TestWriteStatusConfigMap` (status_test.go): a status with only a message,
    /// i.e. empty `autoscalerStatus`, zero `clusterWide` and nil `nodeGroups`, all omitted.
    #[test]
    fn yaml_upstream_write_status_test() {
        let t = ts("2023-12-21T00:00:00Z");
        assert_eq!(
            AutoscalerStatus::empty_yaml(t, None, Some("TEST_MSG")),
            "time: 2023-12-21 00:00:00 +0000 UTC\nmessage: TEST_MSG\n"
        );
        assert_eq!(
            AutoscalerStatus::initial_yaml(t),
            "time: 2023-12-21 00:00:00 +0000 UTC\nautoscalerStatus: Initializing\n"
        );
        assert_eq!(
            AutoscalerStatus::initial_legacy_text(t),
            "Cluster-autoscaler status at 2023-12-21 00:00:00 +0000 UTC:\nInitializing"
        );
    }

    #[test]
    fn yaml_backoff_group_with_all_counts() {
        let mut s = example();
        s.message = Some("TEST_MSG".into());
        let g = &mut s.node_groups[0];
        g.name = "sample-node-group".into();
        g.health.node_counts = NodeCounts {
            registered: RegisteredNodes {
                total: 10,
                ready: 4,
                not_started: 3,
                being_deleted: 1,
                unready: UnreadyNodes {
                    total: 2,
                    resource_unready: 1,
                },
            },
            long_unregistered: 1,
            unregistered: 2,
        };
        g.health.cloud_provider_target = 8;
        g.health.min_size = 2;
        g.health.max_size = 12;
        g.scale_up.status = NodeGroupScaleUpStatus::Backoff;
        g.scale_up.backoff_info = Some(BackoffInfo {
            error_code: "QUOTA_EXCEEDED".into(),
            error_message: "Instance 'sample-node-group-40ce0341-t28s' creation failed: Quota 'CPUS' exceeded. Limit: 57.0 in region us-central1.".into(),
        });
        g.scale_down.status = ScaleDownStatus::CandidatesPresent;
        g.scale_down.candidates = 2;
        let yaml = s.to_yaml();
        let expected_group = r#"nodeGroups:
- name: sample-node-group
  health:
    status: Healthy
    nodeCounts:
      registered:
        total: 10
        ready: 4
        notStarted: 3
        beingDeleted: 1
        unready:
          total: 2
          resourceUnready: 1
      longUnregistered: 1
      unregistered: 2
    cloudProviderTarget: 8
    minSize: 2
    maxSize: 12
    lastProbeTime: "2025-11-10T14:03:20.987Z"
    lastTransitionTime: "2025-11-10T13:03:30.111Z"
  scaleUp:
    status: Backoff
    backoffInfo:
      errorCode: QUOTA_EXCEEDED
      errorMessage: 'Instance ''sample-node-group-40ce0341-t28s'' creation failed:
        Quota ''CPUS'' exceeded. Limit: 57.0 in region us-central1.'
    lastProbeTime: "2025-11-10T14:03:20.987Z"
    lastTransitionTime: "2025-11-10T13:03:30.111Z"
  scaleDown:
    status: CandidatesPresent
    candidates: 2
    lastProbeTime: "2025-11-10T14:03:11.5Z"
    lastTransitionTime: "2025-11-10T13:03:30.111Z"
"#;
        assert!(
            yaml.starts_with("time: 2025-11-10 14:03:21.123 +0000 UTC\nautoscalerStatus: Running\nmessage: TEST_MSG\nclusterWide:\n"),
            "{yaml}"
        );
        assert!(yaml.ends_with(expected_group), "{yaml}");
    }

    /// The example with its node group in `Backoff` for this error.
    fn backoff(code: &str, message: String) -> AutoscalerStatus {
        let mut s = example();
        s.node_groups[0].scale_up.status = NodeGroupScaleUpStatus::Backoff;
        s.node_groups[0].scale_up.backoff_info = Some(BackoffInfo {
            error_code: code.into(),
            error_message: message,
        });
        s
    }

    #[test]
    fn error_message_truncation() {
        let short = "x".repeat(500);
        assert_eq!(status_error_message(&short), short.as_bytes());
        let cut = status_error_message(&"y".repeat(501));
        assert_eq!(cut, format!("{}<truncated>", "y".repeat(489)).as_bytes());
        // Cut to 500 bytes, then folded at column 80 with the scalar's indent (checked
        // against yaml.v2 v2.4.0).
        let yaml = backoff("cloudProviderError", "word ".repeat(120)).to_yaml();
        let expected = r#"    backoffInfo:
      errorCode: cloudProviderError
      errorMessage: word word word word word word word word word word word word word
        word word word word word word word word word word word word word word word
        word word word word word word word word word word word word word word word
        word word word word word word word word word word word word word word word
        word word word word word word word word word word word word word word word
        word word word word word word word word word word word word word word word
        word word word word word word word word word word<truncated>
    lastProbeTime: "#;
        assert!(yaml.contains(expected), "{yaml}");
    }

    #[test]
    fn truncation_inside_a_character_gives_binary() {
        // 488 ASCII bytes then a 2-byte character: the cut at 489 bytes splits it, the text
        // is no longer UTF-8 and yaml.v2 writes it as base64 (checked against yaml.v2).
        let message = format!("{}é{}", "a".repeat(488), "b".repeat(40));
        assert!(std::str::from_utf8(&status_error_message(&message)).is_err());
        let yaml = backoff("", message).to_yaml();
        let expected = r#"    backoffInfo:
      errorMessage: !!binary |
        YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYW
        FhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFh
        YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYW
        FhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFh
        YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYW
        FhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFh
        YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYW
        FhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFh
        YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYW
        FhYWFhYWFhYWFhYWFhYWHDPHRydW5jYXRlZD4=
    lastProbeTime: "#;
        assert!(yaml.contains(expected), "{yaml}");
    }

    #[test]
    fn empty_cluster_without_node_groups() {
        let s = AutoscalerStatus {
            time: ts("2025-11-10T14:00:00Z"),
            autoscaler_status: Some(AutoscalerState::Running),
            message: Some(String::new()),
            cluster_wide: ClusterWideStatus {
                health: ClusterHealth {
                    status: HealthStatus::Healthy,
                    node_counts: NodeCounts::default(),
                    times: times("2025-11-10T14:00:00Z", "2025-11-10T14:00:00Z"),
                },
                scale_up: ClusterScaleUp {
                    status: ClusterScaleUpStatus::NoActivity,
                    times: times("2025-11-10T14:00:00Z", "2025-11-10T14:00:00Z"),
                },
                scale_down: ScaleDownCondition {
                    status: ScaleDownStatus::NoCandidates,
                    candidates: 0,
                    times: ConditionTimes::default(),
                },
            },
            node_groups: Vec::new(),
        };
        let expected = r#"time: 2025-11-10 14:00:00 +0000 UTC
autoscalerStatus: Running
clusterWide:
  health:
    status: Healthy
    lastProbeTime: "2025-11-10T14:00:00Z"
    lastTransitionTime: "2025-11-10T14:00:00Z"
  scaleUp:
    status: NoActivity
    lastProbeTime: "2025-11-10T14:00:00Z"
    lastTransitionTime: "2025-11-10T14:00:00Z"
  scaleDown:
    status: NoCandidates
"#;
        assert_eq!(s.to_yaml(), expected);
    }

    #[test]
    fn node_counts_omit_rules() {
        let mut s = example();
        s.cluster_wide.health.node_counts = NodeCounts {
            registered: RegisteredNodes::default(),
            long_unregistered: 0,
            unregistered: 1,
        };
        s.node_groups[0]
            .health
            .node_counts
            .registered
            .unready
            .resource_unready = 1;
        let yaml = s.to_yaml();
        assert!(yaml.contains(
            "    nodeCounts:\n      longUnregistered: 0\n      unregistered: 1\n    lastProbeTime"
        ));
        assert!(yaml.contains(
            "        notStarted: 0\n        unready:\n          total: 0\n          resourceUnready: 1\n      longUnregistered: 0\n"
        ));
        assert!(!yaml.contains("beingDeleted"));
    }

    #[test]
    fn scalar_quoting_follows_yaml_v2() {
        let render = |s: &str| {
            let mut out = AutoscalerStatus::empty_yaml(ts("2025-11-10T14:00:00Z"), None, Some(s));
            out.replace_range(..36, "");
            out
        };
        assert_eq!(
            render("MachineDeployment/magnum-0123abcd/k8s-abcd1234-default-worker"),
            "message: MachineDeployment/magnum-0123abcd/k8s-abcd1234-default-worker\n"
        );
        assert_eq!(render("true"), "message: \"true\"\n");
        assert_eq!(render("123"), "message: \"123\"\n");
        assert_eq!(render("0x1F"), "message: \"0x1F\"\n");
        assert_eq!(render("1_000"), "message: \"1_000\"\n");
        assert_eq!(render("1e3"), "message: \"1e3\"\n");
        assert_eq!(render(".5"), "message: \".5\"\n");
        assert_eq!(render("1:20"), "message: \"1:20\"\n");
        assert_eq!(render("2025-11-10"), "message: \"2025-11-10\"\n");
        assert_eq!(render("2025-02-30"), "message: 2025-02-30\n");
        assert_eq!(render("~"), "message: \"~\"\n");
        assert_eq!(render("Yes"), "message: \"Yes\"\n");
        assert_eq!(render("NoActivity"), "message: NoActivity\n");
        assert_eq!(render("a: b"), "message: 'a: b'\n");
        assert_eq!(render("- x"), "message: '- x'\n");
        assert_eq!(render("#x"), "message: '#x'\n");
        assert_eq!(render("a #x"), "message: 'a #x'\n");
        assert_eq!(render("a#x"), "message: a#x\n");
        assert_eq!(render(" lead"), "message: ' lead'\n");
        assert_eq!(render("tab\there"), "message: \"tab\\there\"\n");
        assert_eq!(render("two\nlines"), "message: |-\n  two\n  lines\n");
        assert_eq!(render("say \"hi\""), "message: say \"hi\"\n");
        assert_eq!(render("'q'"), "message: '''q'''\n");
        assert_eq!(render("ünïcode"), "message: ünïcode\n");
    }

    #[test]
    fn words_display_upstream_spelling() {
        assert_eq!(NodeGroupScaleUpStatus::Backoff.to_string(), "Backoff");
        assert_eq!(ClusterScaleUpStatus::InProgress.to_string(), "InProgress");
        assert_eq!(
            ScaleDownStatus::CandidatesPresent.to_string(),
            "CandidatesPresent"
        );
        assert_eq!(HealthStatus::Unhealthy.to_string(), "Unhealthy");
        assert_eq!(AutoscalerState::Initializing.to_string(), "Initializing");
    }

    #[test]
    fn node_group_lookup() {
        let s = example();
        let name = "MachineDeployment/magnum-0123abcd/k8s-abcd1234-default-worker";
        assert_eq!(s.node_group(name).map(|g| g.health.max_size), Some(2));
        assert!(s.node_group("other").is_none());
    }
}
