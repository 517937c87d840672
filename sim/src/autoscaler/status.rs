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
        Emitter::document(&Node::Map(root))
    }

    /// The YAML of a status whose `clusterWide` and `nodeGroups` are empty, which upstream
    /// omits entirely. At start-up 1.30+ writes this with `Initializing` and no message
    /// (`EmptyClusterAutoscalerStatus`); see [`AutoscalerStatus::initial_yaml`].
    pub fn empty_yaml(
        time: Timestamp,
        autoscaler_status: Option<AutoscalerState>,
        message: Option<&str>,
    ) -> String {
        Emitter::document(&Node::Map(top_fields(time, autoscaler_status, message)))
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
// Struct -> YAML node tree, applying upstream's `omitempty` tags (yaml.v2 `isZero`).

/// A YAML node as yaml.v2's encoder produces events for it.
#[derive(Debug)]
enum Node {
    Map(Vec<(&'static str, Node)>),
    Seq(Vec<Node>),
    Scalar(Scalar),
}

/// The scalar styles yaml.v2 asks for or the emitter falls back to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Style {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    Literal,
}

/// A scalar event: its text, the style the encoder asked for, and an explicit tag suffix
/// (`binary` for `!!binary`).
#[derive(Debug)]
struct Scalar {
    value: Vec<u8>,
    style: Style,
    tag: Option<&'static str>,
}

impl Scalar {
    /// A scalar the encoder always writes plain: mapping keys and integers.
    fn plain(text: &str) -> Scalar {
        Scalar {
            value: text.as_bytes().to_vec(),
            style: Style::Plain,
            tag: None,
        }
    }
}

/// A Go `string` field as yaml.v2's `encoder.stringv` emits it.
fn go_string(bytes: &[u8]) -> Node {
    let (value, tag, can_use_plain) = match std::str::from_utf8(bytes) {
        Ok(s) => (
            bytes.to_vec(),
            None,
            resolves_to_str(s) && !is_base60_float(s),
        ),
        Err(_) => (
            encode_base64_lines(bytes).into_bytes(),
            Some("binary"),
            true,
        ),
    };
    let style = if value.contains(&b'\n') {
        Style::Literal
    } else if can_use_plain {
        Style::Plain
    } else {
        Style::DoubleQuoted
    };
    Node::Scalar(Scalar { value, style, tag })
}

fn go_str(s: &str) -> Node {
    go_string(s.as_bytes())
}

fn int(n: u32) -> Node {
    Node::Scalar(Scalar::plain(&n.to_string()))
}

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

/// Go's `encodeBase64` in yaml.v2: standard base64 cut into 70-character lines, each ending
/// in `\n` once there is more than one line.
fn encode_base64_lines(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut encoded = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for k in 0..4 {
            if k <= chunk.len() {
                encoded.push(char::from(ALPHABET[((n >> (18 - 6 * k)) & 63) as usize]));
            } else {
                encoded.push('=');
            }
        }
    }
    const LINE: usize = 70;
    let lines = encoded.len() / LINE + 1;
    if lines <= 1 {
        return encoded;
    }
    let mut out = String::new();
    for piece in encoded.as_bytes().chunks(LINE) {
        out.push_str(&String::from_utf8_lossy(piece));
        out.push('\n');
    }
    out
}

// ---------------------------------------------------------------------------------------------
// yaml.v2 `resolve`: does a string read back as `!!str` when written plain?

/// The words yaml.v2 resolves to bools, null or special floats.
const RESOLVE_WORDS: &[&str] = &[
    "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON", "n", "N", "no", "No",
    "NO", "false", "False", "FALSE", "off", "Off", "OFF", "", "~", "null", "Null", "NULL", ".nan",
    ".NaN", ".NAN", ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF",
];

/// yaml.v2 `resolve("", s)` gives `!!str`: otherwise the encoder double-quotes the string.
fn resolves_to_str(s: &str) -> bool {
    let b = s.as_bytes();
    let hint = match b.first() {
        None => return false,
        Some(b'+' | b'-') => b'S',
        Some(b'0'..=b'9') => b'D',
        Some(b'y' | b'Y' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'o' | b'O' | b'~') => b'M',
        Some(b'.') => b'.',
        Some(_) => return true,
    };
    if RESOLVE_WORDS.contains(&s) {
        return false;
    }
    match hint {
        b'M' => true,
        b'.' => !go_parse_float_ok(s),
        _ => {
            if is_yaml_timestamp(s) {
                return false;
            }
            let plain: String = s.chars().filter(|&c| c != '_').collect();
            if go_parse_int_base0(&plain) {
                return false;
            }
            if is_yaml_style_float(&plain) && plain.parse::<f64>().is_ok_and(f64::is_finite) {
                return false;
            }
            if let Some(rest) = plain.strip_prefix("0b") {
                if go_parse_int_base(rest, 2, true) || go_parse_int_base(rest, 2, false) {
                    return false;
                }
            } else if let Some(rest) = plain.strip_prefix("-0b") {
                if go_parse_int_base(&format!("-{rest}"), 2, true) {
                    return false;
                }
            }
            true
        }
    }
}

/// `strconv.ParseFloat` succeeds on a string starting with `.`: `.digits[e[+-]digits]`,
/// finite.
fn go_parse_float_ok(s: &str) -> bool {
    let Some(rest) = s.strip_prefix('.') else {
        return false;
    };
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return false;
    }
    let tail = &rest[digits..];
    let exponent_ok = tail.is_empty() || {
        let t = tail
            .strip_prefix(['e', 'E'])
            .map(|t| t.strip_prefix(['+', '-']).unwrap_or(t));
        t.is_some_and(|t| !t.is_empty() && t.bytes().all(|c| c.is_ascii_digit()))
    };
    exponent_ok && s.parse::<f64>().is_ok_and(f64::is_finite)
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`, yaml.v2's `yamlStyleFloat`.
fn is_yaml_style_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    let digits = |from: usize| {
        b.iter()
            .skip(from)
            .take_while(|c| c.is_ascii_digit())
            .count()
    };
    if b.get(i) == Some(&b'.') {
        let n = digits(i + 1);
        if n == 0 {
            return false;
        }
        i += 1 + n;
    } else {
        let n = digits(i);
        if n == 0 {
            return false;
        }
        i += n;
        if b.get(i) == Some(&b'.') {
            i += 1 + digits(i + 1);
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let n = digits(i);
        if n == 0 {
            return false;
        }
        i += n;
    }
    i == b.len()
}

/// `strconv.ParseInt(s, 0, 64)` or `strconv.ParseUint(s, 0, 64)` succeeds (no underscores).
fn go_parse_int_base0(s: &str) -> bool {
    let (signed, body) = match s.strip_prefix(['+', '-']) {
        Some(body) => (true, body),
        None => (false, s),
    };
    let b = body.as_bytes();
    let (base, digits) = if b.first() == Some(&b'0') {
        match b.get(1).map(u8::to_ascii_lowercase) {
            Some(b'b') if b.len() >= 3 => (2, &body[2..]),
            Some(b'o') if b.len() >= 3 => (8, &body[2..]),
            Some(b'x') if b.len() >= 3 => (16, &body[2..]),
            _ => (8, &body[1..]),
        }
    } else {
        (10, body)
    };
    if body.is_empty() {
        return false;
    }
    let Some(value) = go_parse_digits(digits, base) else {
        return false;
    };
    if !signed {
        return true;
    }
    let negative = s.starts_with('-');
    if negative {
        value <= 1 << 63
    } else {
        value < 1 << 63
    }
}

/// `strconv.ParseInt(s, base, 64)` (`signed`) or `ParseUint` succeeds.
fn go_parse_int_base(s: &str, base: u32, signed: bool) -> bool {
    if !signed {
        return !s.is_empty() && go_parse_digits(s, base).is_some();
    }
    let negative = s.starts_with('-');
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    if body.is_empty() {
        return false;
    }
    match go_parse_digits(body, base) {
        Some(v) if negative => v <= 1 << 63,
        Some(v) => v < 1 << 63,
        None => false,
    }
}

/// Digits in `base` that fit a u64 (an empty string is 0, as after Go's `0` octal prefix).
fn go_parse_digits(digits: &str, base: u32) -> Option<u64> {
    let mut n: u64 = 0;
    for c in digits.chars() {
        let d = c.to_digit(base)?;
        n = n.checked_mul(u64::from(base))?.checked_add(u64::from(d))?;
    }
    Some(n)
}

/// yaml.v2 `isBase60Float`: `^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$`.
fn is_base60_float(s: &str) -> bool {
    let b = s.as_bytes();
    if !matches!(b.first(), Some(b'+' | b'-' | b'0'..=b'9')) || !s.contains(':') {
        return false;
    }
    let mut i = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    if !b.get(i).is_some_and(u8::is_ascii_digit) {
        return false;
    }
    i += 1;
    while b.get(i).is_some_and(|c| c.is_ascii_digit() || *c == b'_') {
        i += 1;
    }
    let mut groups = 0;
    while b.get(i) == Some(&b':') {
        i += 1;
        // `[0-5]?[0-9]`: two digits when the first is 0-5 and a digit follows, else one
        // (taking one where two are there leaves a digit that nothing else can match).
        match (b.get(i), b.get(i + 1)) {
            (Some(b'0'..=b'5'), Some(d)) if d.is_ascii_digit() => i += 2,
            (Some(d), _) if d.is_ascii_digit() => i += 1,
            _ => return false,
        }
        groups += 1;
    }
    if groups == 0 {
        return false;
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        while b.get(i).is_some_and(|c| c.is_ascii_digit() || *c == b'_') {
            i += 1;
        }
    }
    i == b.len()
}

/// yaml.v2 `parseTimestamp`: `YYYY-` then one of Go layouts `2006-1-2T15:4:5.999999999Z07:00`
/// (`T` or `t`), `2006-1-2 15:4:5.999999999` or `2006-1-2`, as `time.Parse` accepts them.
fn is_yaml_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    let year_digits = b.iter().take_while(|c| c.is_ascii_digit()).count();
    if year_digits != 4 || b.get(4) != Some(&b'-') {
        return false;
    }
    [Some(b'T'), Some(b't'), Some(b' '), None]
        .into_iter()
        .any(|sep| go_parse_yaml_layout(b, sep))
}

/// `time.Parse` with one of yaml.v2's layouts; `sep` is the date/time separator, `None` for
/// the date-only layout. Only the `T`/`t` layouts carry a `Z07:00` zone.
fn go_parse_yaml_layout(b: &[u8], sep: Option<u8>) -> bool {
    let mut p = Cursor { b, i: 0 };
    let year = b
        .iter()
        .take(4)
        .fold(0u32, |acc, c| acc * 10 + u32::from(c - b'0'));
    p.i = 4;
    if !p.lit(b'-') {
        return false;
    }
    let Some(month) = p.getnum() else {
        return false;
    };
    if !p.lit(b'-') {
        return false;
    }
    let Some(day) = p.getnum() else {
        return false;
    };
    if !(1..=12).contains(&month) || day < 1 || day > days_in(month, year) {
        return false;
    }
    let Some(sep) = sep else {
        return p.done();
    };
    if !p.lit(sep) {
        return false;
    }
    let Some(hour) = p.getnum() else {
        return false;
    };
    if !p.lit(b':') {
        return false;
    }
    let Some(minute) = p.getnum() else {
        return false;
    };
    if !p.lit(b':') {
        return false;
    }
    let Some(second) = p.getnum() else {
        return false;
    };
    if hour >= 24 || minute >= 60 || second >= 60 {
        return false;
    }
    if matches!(p.peek(0), Some(b'.' | b',')) && p.peek(1).is_some_and(|c| c.is_ascii_digit()) {
        p.i += 1;
        while p.peek(0).is_some_and(|c| c.is_ascii_digit()) {
            p.i += 1;
        }
    }
    if sep == b' ' {
        return p.done();
    }
    if p.lit(b'Z') {
        return p.done();
    }
    let zone = b.get(p.i..p.i + 6);
    let Some(&[sign, h1, h2, colon, m1, m2]) = zone else {
        return false;
    };
    let two = |x: u8, y: u8| {
        (x.is_ascii_digit() && y.is_ascii_digit())
            .then(|| u32::from(x - b'0') * 10 + u32::from(y - b'0'))
    };
    let (Some(zh), Some(zm)) = (two(h1, h2), two(m1, m2)) else {
        return false;
    };
    p.i += 6;
    matches!(sign, b'+' | b'-') && colon == b':' && zh <= 24 && zm <= 60 && p.done()
}

/// A read position in a byte string, for the timestamp parser.
struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn peek(&self, k: usize) -> Option<u8> {
        self.b.get(self.i + k).copied()
    }
    fn lit(&mut self, c: u8) -> bool {
        let ok = self.peek(0) == Some(c);
        if ok {
            self.i += 1;
        }
        ok
    }
    /// Go's `getnum(s, false)`: one or two digits.
    fn getnum(&mut self) -> Option<u32> {
        let d0 = self.peek(0).filter(u8::is_ascii_digit)?;
        self.i += 1;
        match self.peek(0).filter(u8::is_ascii_digit) {
            Some(d1) => {
                self.i += 1;
                Some(u32::from(d0 - b'0') * 10 + u32::from(d1 - b'0'))
            }
            None => Some(u32::from(d0 - b'0')),
        }
    }
    fn done(&self) -> bool {
        self.i == self.b.len()
    }
}

fn days_in(month: u32, year: u32) -> u32 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

// ---------------------------------------------------------------------------------------------
// The block-style subset of yaml.v2's emitter (emitterc.go): same state, same decisions.

/// Analysis of a scalar's text (`yaml_emitter_analyze_scalar`).
struct Analysis {
    multiline: bool,
    block_plain_allowed: bool,
    single_quoted_allowed: bool,
    block_allowed: bool,
}

const BEST_INDENT: i32 = 2;
const BEST_WIDTH: usize = 80;

/// Where a node sits: as a mapping key/value, and whether it is a simple key.
#[derive(Clone, Copy)]
struct Ctx {
    mapping: bool,
    simple_key: bool,
}

/// yaml.v2's emitter state for one document.
struct Emitter {
    out: Vec<u8>,
    column: usize,
    whitespace: bool,
    indention: bool,
    indent: i32,
    indents: Vec<i32>,
}

fn at(b: &[u8], i: usize) -> u8 {
    b.get(i).copied().unwrap_or(0)
}

/// UTF-8 sequence length from the first byte (1 for anything unexpected, so loops advance).
fn width(c: u8) -> usize {
    match c {
        c if c & 0x80 == 0 => 1,
        c if c & 0xE0 == 0xC0 => 2,
        c if c & 0xF0 == 0xE0 => 3,
        c if c & 0xF8 == 0xF0 => 4,
        _ => 1,
    }
}

fn is_printable(b: &[u8], i: usize) -> bool {
    let (c, c1, c2) = (at(b, i), at(b, i + 1), at(b, i + 2));
    c == 0x0A
        || (0x20..=0x7E).contains(&c)
        || (c == 0xC2 && c1 >= 0xA0)
        || (c > 0xC2 && c < 0xED)
        || (c == 0xED && c1 < 0xA0)
        || c == 0xEE
        || (c == 0xEF && !(c1 == 0xBB && c2 == 0xBF) && !(c1 == 0xBF && (c2 == 0xBE || c2 == 0xBF)))
}

fn is_space(b: &[u8], i: usize) -> bool {
    at(b, i) == b' '
}

fn is_blank(b: &[u8], i: usize) -> bool {
    matches!(at(b, i), b' ' | b'\t')
}

fn is_break(b: &[u8], i: usize) -> bool {
    let (c, c1, c2) = (at(b, i), at(b, i + 1), at(b, i + 2));
    c == b'\r'
        || c == b'\n'
        || (c == 0xC2 && c1 == 0x85)
        || (c == 0xE2 && c1 == 0x80 && (c2 == 0xA8 || c2 == 0xA9))
}

fn is_blankz(b: &[u8], i: usize) -> bool {
    is_blank(b, i) || is_break(b, i) || at(b, i) == 0
}

/// yaml.v2 checks for a BOM at the start of the value whatever the position.
fn starts_with_bom(b: &[u8]) -> bool {
    b.starts_with(&[0xEF, 0xBB, 0xBF])
}

fn analyze(value: &[u8]) -> Analysis {
    if value.is_empty() {
        return Analysis {
            multiline: false,
            block_plain_allowed: true,
            single_quoted_allowed: true,
            block_allowed: false,
        };
    }
    let mut block_indicators = value.starts_with(b"---") || value.starts_with(b"...");
    let (mut line_breaks, mut special) = (false, false);
    let (mut leading_space, mut leading_break) = (false, false);
    let (mut trailing_space, mut trailing_break) = (false, false);
    let (mut break_space, mut space_break) = (false, false);
    let (mut previous_space, mut previous_break) = (false, false);
    let mut preceded_by_whitespace = true;
    let mut i = 0;
    while i < value.len() {
        let w = width(value[i]);
        let followed_by_whitespace = i + w >= value.len() || is_blank(value, i + w);
        let c = value[i];
        if i == 0 {
            match c {
                b'#' | b',' | b'[' | b']' | b'{' | b'}' | b'&' | b'*' | b'!' | b'|' | b'>'
                | b'\'' | b'"' | b'%' | b'@' | b'`' => block_indicators = true,
                b'?' | b':' | b'-' if followed_by_whitespace => block_indicators = true,
                _ => {}
            }
        } else {
            match c {
                b':' if followed_by_whitespace => block_indicators = true,
                b'#' if preceded_by_whitespace => block_indicators = true,
                _ => {}
            }
        }
        if !is_printable(value, i) {
            special = true;
        }
        if is_space(value, i) {
            leading_space |= i == 0;
            trailing_space |= i + w == value.len();
            break_space |= previous_break;
            previous_space = true;
            previous_break = false;
        } else if is_break(value, i) {
            line_breaks = true;
            leading_break |= i == 0;
            trailing_break |= i + w == value.len();
            space_break |= previous_space;
            previous_space = false;
            previous_break = true;
        } else {
            previous_space = false;
            previous_break = false;
        }
        preceded_by_whitespace = is_blankz(value, i);
        i += w;
    }
    let mut a = Analysis {
        multiline: line_breaks,
        block_plain_allowed: true,
        single_quoted_allowed: true,
        block_allowed: true,
    };
    if leading_space || leading_break || trailing_space || trailing_break {
        a.block_plain_allowed = false;
    }
    if trailing_space {
        a.block_allowed = false;
    }
    if break_space {
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
    }
    if space_break || special {
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
        a.block_allowed = false;
    }
    if line_breaks || block_indicators {
        a.block_plain_allowed = false;
    }
    a
}

impl Emitter {
    /// Marshals one document (`yaml.Marshal`): the root node, then a final line break.
    fn document(root: &Node) -> String {
        let mut e = Emitter {
            out: Vec::new(),
            column: 0,
            whitespace: true,
            indention: true,
            indent: -1,
            indents: Vec::new(),
        };
        e.node(
            root,
            Ctx {
                mapping: false,
                simple_key: false,
            },
        );
        e.write_indent();
        String::from_utf8(e.out)
            .unwrap_or_else(|err| String::from_utf8_lossy(err.as_bytes()).into_owned())
    }

    fn node(&mut self, node: &Node, ctx: Ctx) {
        match node {
            Node::Scalar(s) => self.scalar(s, ctx),
            Node::Map(entries) if entries.is_empty() => self.empty_flow(b"{", b"}"),
            Node::Seq(items) if items.is_empty() => self.empty_flow(b"[", b"]"),
            Node::Map(entries) => {
                self.increase_indent(false, false);
                for (key, value) in entries {
                    self.write_indent();
                    let key = Scalar::plain(key);
                    self.scalar(
                        &key,
                        Ctx {
                            mapping: true,
                            simple_key: true,
                        },
                    );
                    self.write_indicator(b":", false, false, false);
                    self.node(
                        value,
                        Ctx {
                            mapping: true,
                            simple_key: false,
                        },
                    );
                }
                self.pop_indent();
            }
            Node::Seq(items) => {
                let indentless = ctx.mapping && !self.indention;
                self.increase_indent(false, indentless);
                for item in items {
                    self.write_indent();
                    self.write_indicator(b"-", true, false, true);
                    self.node(
                        item,
                        Ctx {
                            mapping: false,
                            simple_key: false,
                        },
                    );
                }
                self.pop_indent();
            }
        }
    }

    fn empty_flow(&mut self, open: &[u8], close: &[u8]) {
        self.write_indicator(open, true, true, false);
        self.write_indicator(close, false, false, false);
    }

    fn increase_indent(&mut self, flow: bool, indentless: bool) {
        self.indents.push(self.indent);
        if self.indent < 0 {
            self.indent = if flow { BEST_INDENT } else { 0 };
        } else if !indentless {
            self.indent += BEST_INDENT;
        }
    }

    fn pop_indent(&mut self) {
        self.indent = self.indents.pop().unwrap_or(-1);
    }

    fn scalar(&mut self, s: &Scalar, ctx: Ctx) {
        let a = analyze(&s.value);
        let mut style = s.style;
        if ctx.simple_key && a.multiline {
            style = Style::DoubleQuoted;
        }
        if style == Style::Plain
            && (!a.block_plain_allowed || (s.value.is_empty() && ctx.simple_key))
        {
            style = Style::SingleQuoted;
        }
        if style == Style::SingleQuoted && !a.single_quoted_allowed {
            style = Style::DoubleQuoted;
        }
        if style == Style::Literal && (!a.block_allowed || ctx.simple_key) {
            style = Style::DoubleQuoted;
        }
        if let Some(suffix) = s.tag {
            self.write_tag(suffix);
        }
        self.increase_indent(true, false);
        let allow_breaks = !ctx.simple_key;
        match style {
            Style::Plain => self.write_plain(&s.value, allow_breaks),
            Style::SingleQuoted => self.write_single_quoted(&s.value, allow_breaks),
            Style::DoubleQuoted => self.write_double_quoted(&s.value, allow_breaks),
            Style::Literal => self.write_literal(&s.value),
        }
        self.pop_indent();
    }

    /// `!!suffix` (handle `!!` from the default tag directives); suffixes here are letters.
    fn write_tag(&mut self, suffix: &str) {
        if !self.whitespace {
            self.put(b' ');
        }
        self.write_all(b"!!");
        self.write_all(suffix.as_bytes());
        self.whitespace = false;
        self.indention = false;
    }

    fn put(&mut self, c: u8) {
        self.out.push(c);
        self.column += 1;
    }

    fn put_break(&mut self) {
        self.out.push(b'\n');
        self.column = 0;
    }

    /// Copies one character and advances `i` past it.
    fn write(&mut self, value: &[u8], i: &mut usize) {
        let w = width(at(value, *i));
        let end = (*i + w).min(value.len());
        self.out
            .extend_from_slice(value.get(*i..end).unwrap_or_default());
        self.column += 1;
        *i = end.max(*i + 1);
    }

    fn write_all(&mut self, s: &[u8]) {
        let mut i = 0;
        while i < s.len() {
            self.write(s, &mut i);
        }
    }

    fn write_break(&mut self, value: &[u8], i: &mut usize) {
        if at(value, *i) == b'\n' {
            self.put_break();
            *i += 1;
        } else {
            self.write(value, i);
            self.column = 0;
        }
    }

    fn write_indent(&mut self) {
        let indent = usize::try_from(self.indent.max(0)).unwrap_or(0);
        if !self.indention || self.column > indent || (self.column == indent && !self.whitespace) {
            self.put_break();
        }
        while self.column < indent {
            self.put(b' ');
        }
        self.whitespace = true;
        self.indention = true;
    }

    fn write_indicator(&mut self, s: &[u8], need_ws: bool, is_ws: bool, is_indention: bool) {
        if need_ws && !self.whitespace {
            self.put(b' ');
        }
        self.write_all(s);
        self.whitespace = is_ws;
        self.indention = self.indention && is_indention;
    }

    fn write_plain(&mut self, value: &[u8], allow_breaks: bool) {
        if !self.whitespace {
            self.put(b' ');
        }
        let (mut spaces, mut breaks) = (false, false);
        let mut i = 0;
        while i < value.len() {
            if is_space(value, i) {
                if allow_breaks && !spaces && self.column > BEST_WIDTH && !is_space(value, i + 1) {
                    self.write_indent();
                    i += 1;
                } else {
                    self.write(value, &mut i);
                }
                spaces = true;
            } else if is_break(value, i) {
                if !breaks && at(value, i) == b'\n' {
                    self.put_break();
                }
                self.write_break(value, &mut i);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                self.write(value, &mut i);
                self.indention = false;
                spaces = false;
                breaks = false;
            }
        }
        self.whitespace = false;
        self.indention = false;
    }

    fn write_single_quoted(&mut self, value: &[u8], allow_breaks: bool) {
        self.write_indicator(b"'", true, false, false);
        let (mut spaces, mut breaks) = (false, false);
        let mut i = 0;
        while i < value.len() {
            if is_space(value, i) {
                if allow_breaks
                    && !spaces
                    && self.column > BEST_WIDTH
                    && i > 0
                    && i + 1 < value.len()
                    && !is_space(value, i + 1)
                {
                    self.write_indent();
                    i += 1;
                } else {
                    self.write(value, &mut i);
                }
                spaces = true;
            } else if is_break(value, i) {
                if !breaks && at(value, i) == b'\n' {
                    self.put_break();
                }
                self.write_break(value, &mut i);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                if at(value, i) == b'\'' {
                    self.put(b'\'');
                }
                self.write(value, &mut i);
                self.indention = false;
                spaces = false;
                breaks = false;
            }
        }
        self.write_indicator(b"'", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn write_double_quoted(&mut self, value: &[u8], allow_breaks: bool) {
        let mut spaces = false;
        self.write_indicator(b"\"", true, false, false);
        let bom = starts_with_bom(value);
        let mut i = 0;
        while i < value.len() {
            let c = at(value, i);
            if !is_printable(value, i) || bom || is_break(value, i) || c == b'"' || c == b'\\' {
                let w = width(c);
                let end = (i + w).min(value.len());
                let v = decode_char(value.get(i..end).unwrap_or_default());
                i = end.max(i + 1);
                self.put(b'\\');
                match v {
                    0x00 => self.put(b'0'),
                    0x07 => self.put(b'a'),
                    0x08 => self.put(b'b'),
                    0x09 => self.put(b't'),
                    0x0A => self.put(b'n'),
                    0x0B => self.put(b'v'),
                    0x0C => self.put(b'f'),
                    0x0D => self.put(b'r'),
                    0x1B => self.put(b'e'),
                    0x22 => self.put(b'"'),
                    0x5C => self.put(b'\\'),
                    0x85 => self.put(b'N'),
                    0xA0 => self.put(b'_'),
                    0x2028 => self.put(b'L'),
                    0x2029 => self.put(b'P'),
                    _ => {
                        let (letter, digits) = if v <= 0xFF {
                            (b'x', 2)
                        } else if v <= 0xFFFF {
                            (b'u', 4)
                        } else {
                            (b'U', 8)
                        };
                        self.put(letter);
                        for k in (0..digits).rev() {
                            let d = ((v >> (4 * k)) & 0xF) as u8;
                            self.put(if d < 10 { b'0' + d } else { b'A' + d - 10 });
                        }
                    }
                }
                spaces = false;
            } else if is_space(value, i) {
                if allow_breaks
                    && !spaces
                    && self.column > BEST_WIDTH
                    && i > 0
                    && i + 1 < value.len()
                {
                    self.write_indent();
                    if is_space(value, i + 1) {
                        self.put(b'\\');
                    }
                    i += 1;
                } else {
                    self.write(value, &mut i);
                }
                spaces = true;
            } else {
                self.write(value, &mut i);
                spaces = false;
            }
        }
        self.write_indicator(b"\"", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn write_literal(&mut self, value: &[u8]) {
        self.write_indicator(b"|", true, false, false);
        self.write_block_hints(value);
        self.put_break();
        self.indention = true;
        self.whitespace = true;
        let mut breaks = true;
        let mut i = 0;
        while i < value.len() {
            if is_break(value, i) {
                self.write_break(value, &mut i);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                self.write(value, &mut i);
                self.indention = false;
                breaks = false;
            }
        }
    }

    /// The indentation and chomping indicators after `|`.
    fn write_block_hints(&mut self, value: &[u8]) {
        if is_space(value, 0) || is_break(value, 0) {
            self.write_indicator(&[b'0' + BEST_INDENT as u8], false, false, false);
        }
        let last_char_start = |end: usize| -> Option<usize> {
            let mut k = end.checked_sub(1)?;
            while at(value, k) & 0xC0 == 0x80 {
                k = k.checked_sub(1)?;
            }
            Some(k)
        };
        let chomp = match last_char_start(value.len()) {
            None => Some(b'-'),
            Some(k) if !is_break(value, k) => Some(b'-'),
            Some(0) => Some(b'+'),
            Some(k) => match last_char_start(k) {
                Some(p) if is_break(value, p) => Some(b'+'),
                _ => None,
            },
        };
        if let Some(c) = chomp {
            self.write_indicator(&[c], false, false, false);
        }
    }
}

/// The code point of one UTF-8 sequence, decoded the way yaml.v2 does (no validation).
fn decode_char(bytes: &[u8]) -> u32 {
    let Some((&first, rest)) = bytes.split_first() else {
        return 0;
    };
    let lead = match width(first) {
        2 => u32::from(first & 0x1F),
        3 => u32::from(first & 0x0F),
        4 => u32::from(first & 0x07),
        _ => u32::from(first & 0x7F),
    };
    rest.iter()
        .fold(lead, |v, &b| (v << 6) + (u32::from(b) & 0x3F))
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
