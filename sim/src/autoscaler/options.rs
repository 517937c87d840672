//! cluster-autoscaler 1.30.2's command line, parsed as the real binary parses it.
//!
//! CA defines its flags with Go's `flag` package (`main.go`), adds klog's, the leader-election,
//! logging and feature-gate flags, and parses everything with spf13/pflag v1.0.5 after
//! `k8s.io/component-base/cli/flag.InitFlags` (which reads `_` in a flag name as `-`). So:
//!
//! * long flags are `--name=value` or `--name value`; a boolean flag given as `--name` is true and
//!   never takes the next argument (`--name false` leaves `false` as a positional argument);
//! * a single dash introduces **shorthand** letters, and CA has only one (`-v`): `-scan-interval`
//!   fails with `unknown shorthand flag: 's' in -scan-interval` (pflag does not accept Go's
//!   single-dash long flags); `--` ends the flags; other words are positional and ignored;
//! * an unknown flag is `unknown flag: --foo`; a bad value is
//!   `invalid argument "x" for "--scan-interval" flag: parse error` (Go `flag` values report only
//!   `parse error` / `value out of range`; pflag-native ones report the Go parser's text).
//!
//! After parsing, `createAutoscalingOptions` validates `--cores-total`, `--memory-total`,
//! `--gpu-total` and the drain parallelism, and the autoscaler builds the `--expander` chain
//! (`expander/factory/expander_factory.go`); [`parse_args`] runs these, in that order, and its
//! error's `Display` is the whole message the process prints. `--nodes` values are kept as
//! written: the provider parses them at start-up with [`parse_node_group_spec`], after it has
//! read the cloud-config, as upstream's magnum provider does. Upstream builds the expander chain
//! only after the cloud provider, so a start-up with both a bad cloud-config and a bad
//! `--expander` prints the expander error here where upstream prints the cloud-config one.
//!
//! `isFlagPassed` in `main.go` consults Go's `flag.Visit`, which pflag never updates, so the
//! `--max-empty-bulk-delete`/`--max-scale-down-parallelism` syncing and the
//! `--drain-priority-config` + `--max-graceful-termination-sec` fatal never happen in 1.30.2;
//! they are not modelled.
//!
//! Durations follow Go's `time.ParseDuration` (same accepted forms and error texts) but are stored
//! with [`SimDuration`] (milliseconds, unsigned): a negative duration is stored as zero and one
//! written in `ns`/`us` units is reported as a parse error here.

use crate::gostd::strconv;
use crate::gostd::{go_duration, go_quote};
use crate::time::SimDuration;
use std::fmt;

/// One static node group from `--nodes=<min>:<max>:<name>`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct NodeGroupSpec {
    pub min: u32,
    pub max: u32,
    pub name: String,
}

impl fmt::Display for NodeGroupSpec {
    /// Upstream's `String()`: `<min>:<max>:<name>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.min, self.max, self.name)
    }
}

/// An expander in the `--expander` chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ExpanderName {
    Random,
    MostPods,
    LeastWaste,
    Price,
    Priority,
    /// Registered from 1.31 only; 1.30.2 rejects it (`Expander least-nodes not supported`).
    LeastNodes,
    Grpc,
}

impl ExpanderName {
    /// The flag spelling, e.g. `most-pods`.
    pub fn name(self) -> &'static str {
        match self {
            ExpanderName::Random => "random",
            ExpanderName::MostPods => "most-pods",
            ExpanderName::LeastWaste => "least-waste",
            ExpanderName::Price => "price",
            ExpanderName::Priority => "priority",
            ExpanderName::LeastNodes => "least-nodes",
            ExpanderName::Grpc => "grpc",
        }
    }

    /// The expanders 1.30.2 registers (`RegisterDefaultExpanders`); `least-nodes` is not one.
    pub fn from_name_1_30(name: &str) -> Option<ExpanderName> {
        [
            ExpanderName::Random,
            ExpanderName::MostPods,
            ExpanderName::LeastWaste,
            ExpanderName::Price,
            ExpanderName::Priority,
            ExpanderName::Grpc,
        ]
        .into_iter()
        .find(|e| e.name() == name)
    }
}

impl fmt::Display for ExpanderName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl AutoscalerOptions {
    /// One of the process's hard-coded durations, on the world's clock ([`Self::timer_scale`]).
    pub fn timer(&self, d: SimDuration) -> SimDuration {
        d.saturating_mul(u64::from(self.timer_scale.max(1)))
    }
}

/// The options the simulated autoscaler uses; defaults are 1.30.2's flag defaults.
#[derive(Clone, Debug, PartialEq)]
pub struct AutoscalerOptions {
    /// Not a flag: how many virtual seconds pass per second of the process's own hard-coded
    /// timers (the 2 s and 30 s new-pod buffers, the 15-minute node start-up allowance, the
    /// magnum provider's 1-minute discovery refresh). 1 in the engine; `magsim compare
    /// --speed N` models a real binary whose world runs N times faster than its clock.
    pub timer_scale: u32,
    /// `--cloud-provider`; empty by default here (upstream's all-providers build defaults to `gce`).
    pub cloud_provider: String,
    /// `--cluster-name`; `None` when absent or empty (upstream treats empty as unset).
    pub cluster_name: Option<String>,
    /// `--cloud-config`; `None` when absent or empty (upstream then reads no file).
    pub cloud_config: Option<String>,
    /// Repeatable `--nodes`, as written; the provider parses them at start-up
    /// ([`parse_node_group_spec`]).
    pub nodes: Vec<String>,
    /// Repeatable `--node-group-auto-discovery`, as written.
    pub node_group_auto_discovery: Vec<String>,
    pub scan_interval: SimDuration,
    pub expander: Vec<ExpanderName>,
    /// 0 = no limit (upstream applies the cap only when > 0; negative values read as 0).
    pub max_nodes_total: u32,
    /// `--cores-total` min:max in cores.
    pub cores_total: (u64, u64),
    /// `--memory-total` min:max in GiB (upstream multiplies by GiB internally).
    pub memory_total_gib: (u64, u64),
    pub max_node_provision_time: SimDuration,
    pub initial_node_group_backoff_duration: SimDuration,
    pub max_node_group_backoff_duration: SimDuration,
    pub node_group_backoff_reset_timeout: SimDuration,
    pub new_pod_scale_up_delay: SimDuration,
    /// Negative values read as 0.
    pub max_nodes_per_scaleup: u32,
    /// `--max-nodegroup-binpacking-duration` (10s), the estimator's per-group time limit.
    pub max_node_group_binpacking_duration: SimDuration,
    pub balance_similar_node_groups: bool,
    pub memory_difference_ratio: f64,
    pub max_allocatable_difference_ratio: f64,
    pub max_free_difference_ratio: f64,
    /// Repeatable `--balancing-ignore-label`.
    pub balancing_ignore_labels: Vec<String>,
    pub max_total_unready_percentage: f64,
    /// Negative values read as 0.
    pub ok_total_unready_count: u32,
    pub write_status_configmap: bool,
    pub status_config_map_name: String,
    pub namespace: String,
    pub record_duplicated_events: bool,
    pub enforce_node_group_min_size: bool,
    pub scale_up_from_zero: bool,
    pub expendable_pods_priority_cutoff: i32,
    /// `--parallel-scale-up` (false): concurrent `IncreaseSize` calls.
    pub parallel_scale_up: bool,
    /// `--frequent-loops-enabled` (false): loops triggered by pod events, not only the interval.
    pub frequent_loops_enabled: bool,
    /// Non-flag arguments pflag left over (CA ignores them), e.g. `false` in `--flag false`.
    pub positional_args: Vec<String>,
    /// klog's `--v`: the highest `V` level the process logs.
    pub verbosity: u8,
    /// `--leader-elect` (true): the process takes a Lease before it starts its loop.
    pub leader_elect: bool,
    /// `--leader-elect-resource-name`: the Lease, in `--namespace`.
    pub leader_elect_resource_name: String,
}

impl Default for AutoscalerOptions {
    fn default() -> Self {
        AutoscalerOptions {
            cloud_provider: String::new(),
            timer_scale: 1,
            cluster_name: None,
            cloud_config: None,
            nodes: Vec::new(),
            node_group_auto_discovery: Vec::new(),
            scan_interval: SimDuration::from_secs(10),
            expander: vec![ExpanderName::Random],
            max_nodes_total: 0,
            cores_total: (0, 5000 * 64),
            memory_total_gib: (0, 5000 * 64 * 20),
            max_node_provision_time: SimDuration::from_mins(15),
            initial_node_group_backoff_duration: SimDuration::from_mins(5),
            max_node_group_backoff_duration: SimDuration::from_mins(30),
            node_group_backoff_reset_timeout: SimDuration::from_mins(180),
            new_pod_scale_up_delay: SimDuration::ZERO,
            max_nodes_per_scaleup: 1000,
            max_node_group_binpacking_duration: SimDuration::from_secs(10),
            balance_similar_node_groups: false,
            memory_difference_ratio: 0.015,
            max_allocatable_difference_ratio: 0.05,
            max_free_difference_ratio: 0.05,
            balancing_ignore_labels: Vec::new(),
            max_total_unready_percentage: 45.0,
            ok_total_unready_count: 3,
            write_status_configmap: true,
            status_config_map_name: "cluster-autoscaler-status".to_string(),
            namespace: "kube-system".to_string(),
            record_duplicated_events: false,
            enforce_node_group_min_size: false,
            scale_up_from_zero: true,
            expendable_pods_priority_cutoff: -10,
            parallel_scale_up: false,
            frequent_loops_enabled: false,
            positional_args: Vec::new(),
            verbosity: 0,
            leader_elect: true,
            leader_elect_resource_name: "cluster-autoscaler".to_string(),
        }
    }
}

/// Why the command line was rejected. For errors [`parse_args`] returns, `Display` is the full
/// message the process prints; the inner (wrapped) variants print upstream's raw error values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OptionsError {
    // --- pflag (printed with the usage text; exit status 2) ---
    /// `unknown flag: --foo` (the name as written).
    #[error("unknown flag: --{0}")]
    UnknownFlag(String),
    /// `unknown shorthand flag: 's' in -scan-interval=10s`.
    #[error("unknown shorthand flag: '{shorthand}' in -{shorthands}")]
    UnknownShorthand { shorthand: char, shorthands: String },
    /// `bad flag syntax: ---x` / `--=x`.
    #[error("bad flag syntax: {0}")]
    BadFlagSyntax(String),
    /// `flag needs an argument: --scan-interval` (the argument as written).
    #[error("flag needs an argument: {0}")]
    FlagNeedsArgument(String),
    /// `flag needs an argument: 'v' in -v`.
    #[error("flag needs an argument: '{shorthand}' in -{shorthands}")]
    ShorthandNeedsArgument { shorthand: char, shorthands: String },
    /// `invalid argument "x" for "--scan-interval" flag: parse error`.
    #[error("invalid argument {} for \"{flag}\" flag: {reason}", go_quote(.value))]
    InvalidArgument {
        value: String,
        /// `--name`, or `-v, --v` for the flag with a shorthand.
        flag: String,
        reason: String,
    },
    /// `--help` / `-h`: pflag prints the usage and the process exits 0.
    #[error("pflag: help requested")]
    HelpRequested,

    // --- createAutoscalingOptions (`klog.Fatalf("Failed to parse flags: %v", err)`) ---
    /// The wrapper printed for `--cores-total`, `--memory-total` and `--gpu-total` errors.
    #[error("Failed to parse flags: {0}")]
    FailedToParseFlags(Box<OptionsError>),
    /// parseMinMaxFlag: not `<min>:<max>` (upstream reuses the `--nodes` wording).
    #[error("wrong nodes configuration: {value}")]
    MinMaxFormat { flag: &'static str, value: String },
    /// parseMinMaxFlag: min is not an int64; `reason` is strconv's error.
    #[error("failed to set min size: {value}, expected integer, err: {reason}")]
    MinMaxMin {
        flag: &'static str,
        value: String,
        reason: String,
    },
    /// parseMinMaxFlag: max is not an int64; `reason` is strconv's error.
    #[error("failed to set max size: {value}, expected integer, err: {reason}")]
    MinMaxMax {
        flag: &'static str,
        value: String,
        reason: String,
    },
    /// validateMinMaxFlag: negative min (upstream's text has two spaces before `0`).
    #[error("min size must be greater or equal to  0")]
    MinMaxNegative { flag: &'static str },
    /// validateMinMaxFlag: max below min.
    #[error("max size must be greater or equal to min size")]
    MinMaxOrder { flag: &'static str },
    /// parseSingleGpuLimit's errors, e.g. `incorrect gpu limit specification: nvidia:1`.
    #[error("{0}")]
    GpuLimit(String),
    /// `klog.Fatalf` in createAutoscalingOptions.
    #[error("Invalid configuration, could not use --max-drain-parallelism > 1 if --parallel-drain is false")]
    DrainParallelism,

    // --- node group specs (config/dynamic/node_group_spec.go) ---
    /// Not three `:`-separated fields.
    #[error("wrong nodes configuration: {0}")]
    WrongNodesConfiguration(String),
    #[error("failed to set min size: {0}, expected integer")]
    MinSizeNotInteger(String),
    #[error("failed to set max size: {0}, expected integer")]
    MaxSizeNotInteger(String),
    /// `invalid node group spec: min size must be >= 0` and the other `Validate` failures.
    #[error("invalid node group spec: {0}")]
    InvalidNodeGroupSpec(String),

    // --- expander chain (expander/factory/expander_factory.go::Build) ---
    #[error("Expander {0} was specified multiple times, each expander must not be specified more than once")]
    ExpanderDuplicate(String),
    #[error("Expander {name} came after an expander {previous} that will always return only one result, this is not allowed since {name} will never be used")]
    ExpanderAfterStrategy { name: String, previous: String },
    #[error("Expander {0} not supported")]
    ExpanderNotSupported(String),
    /// `klog.Fatalf("Failed to create autoscaler: %v", err)` in `main.go::run`.
    #[error("Failed to create autoscaler: {0}")]
    FailedToCreateAutoscaler(Box<OptionsError>),
}

impl OptionsError {
    /// The process's exit status: 2 for pflag errors, 0 for help, 255 for klog fatals.
    pub fn exit_code(&self) -> i32 {
        match self {
            OptionsError::HelpRequested => 0,
            OptionsError::UnknownFlag(_)
            | OptionsError::UnknownShorthand { .. }
            | OptionsError::BadFlagSyntax(_)
            | OptionsError::FlagNeedsArgument(_)
            | OptionsError::ShorthandNeedsArgument { .. }
            | OptionsError::InvalidArgument { .. } => 2,
            _ => 255,
        }
    }
}

/// The magnum provider's fatal text for a `--nodes` value it cannot parse
/// (`Could not parse node group spec <spec>: <err>`).
pub fn fatal_node_group_spec(spec: &str, err: &OptionsError) -> String {
    format!("Could not parse node group spec {spec}: {err}")
}

/// The fatal text when `--expander` includes `price` on a provider without pricing (Magnum and
/// clusterapi return `Not implemented`): the factory calls `klog.Fatalf` while building.
pub fn pricing_unavailable_fatal() -> String {
    "Couldn't access cloud provider pricing for price expander: Not implemented".to_string()
}

/// Parses `<min>:<max>:<name>` as `dynamic.SpecFromString`; `min_zero_ok` is the provider's
/// `SupportScaleToZero` (true for Magnum). Sizes above `u32::MAX` saturate.
pub fn parse_node_group_spec(spec: &str, min_zero_ok: bool) -> Result<NodeGroupSpec, OptionsError> {
    let mut parts = spec.splitn(3, ':');
    let (Some(min), Some(max), Some(name)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(OptionsError::WrongNodesConfiguration(spec.to_string()));
    };
    let min_size = strconv::parse_int(min, 10, true, 64)
        .map_err(|_| OptionsError::MinSizeNotInteger(min.to_string()))?;
    let max_size = strconv::parse_int(max, 10, true, 64)
        .map_err(|_| OptionsError::MaxSizeNotInteger(max.to_string()))?;
    let invalid = |why: &str| Err(OptionsError::InvalidNodeGroupSpec(why.to_string()));
    if min_zero_ok && min_size < 0 {
        return invalid("min size must be >= 0");
    }
    if !min_zero_ok && min_size <= 0 {
        return invalid("min size must be >= 1");
    }
    if max_size < min_size {
        return invalid("max size must be greater or equal to min size");
    }
    if name.is_empty() {
        return invalid("name must not be blank");
    }
    Ok(NodeGroupSpec {
        min: u32::try_from(min_size).unwrap_or(u32::MAX),
        max: u32::try_from(max_size).unwrap_or(u32::MAX),
        name: name.to_string(),
    })
}

/// Builds the expander chain from an `--expander` value as the factory does: split on `,`
/// (no trimming), each name at most once, nothing after `random` (the only filter that is also
/// a strategy), only names 1.30.2 registers. Errors are the raw factory errors.
pub fn parse_expander_chain(value: &str) -> Result<Vec<ExpanderName>, OptionsError> {
    let names: Vec<&str> = value.split(',').collect();
    let mut chain = Vec::new();
    let mut strategy_seen = false;
    for (i, name) in names.iter().enumerate() {
        if names[..i].contains(name) {
            return Err(OptionsError::ExpanderDuplicate(name.to_string()));
        }
        if strategy_seen {
            return Err(OptionsError::ExpanderAfterStrategy {
                name: name.to_string(),
                previous: names[i - 1].to_string(),
            });
        }
        let expander = ExpanderName::from_name_1_30(name)
            .ok_or_else(|| OptionsError::ExpanderNotSupported(name.to_string()))?;
        strategy_seen = expander == ExpanderName::Random;
        chain.push(expander);
    }
    Ok(chain)
}

/// Parses a deployment's cluster-autoscaler arguments (without the program name) into options,
/// failing where CA 1.30.2 fails on its flags (see the module docs for what is left to the
/// provider and for the order).
pub fn parse_args(args: &[String]) -> Result<AutoscalerOptions, OptionsError> {
    let mut p = Parsed::new();
    p.parse_flags(args)?;
    p.finish()
}

/// The flags as pflag leaves them, before `createAutoscalingOptions` checks their values:
/// enough to know how the process logs (`--v`, leader election) even when it then exits.
pub fn parse_flags(args: &[String]) -> Result<AutoscalerOptions, OptionsError> {
    let mut p = Parsed::new();
    p.parse_flags(args)?;
    Ok(p.o)
}

impl Parsed {
    fn new() -> Parsed {
        Parsed {
            o: AutoscalerOptions::default(),
            expander: "random".to_string(),
            cores_total: "0:320000".to_string(),
            memory_total: "0:6400000".to_string(),
            gpu_total: Vec::new(),
            max_drain_parallelism: 1,
            parallel_drain: true,
        }
    }

    fn finish(self) -> Result<AutoscalerOptions, OptionsError> {
        let mut p = self;
        let flags_err = |e: OptionsError| OptionsError::FailedToParseFlags(Box::new(e));
        p.o.cores_total = parse_min_max("cores-total", &p.cores_total).map_err(flags_err)?;
        p.o.memory_total_gib = parse_min_max("memory-total", &p.memory_total).map_err(flags_err)?;
        for limit in &p.gpu_total {
            parse_gpu_limit(limit).map_err(flags_err)?;
        }
        if p.max_drain_parallelism > 1 && !p.parallel_drain {
            return Err(OptionsError::DrainParallelism);
        }

        p.o.expander = parse_expander_chain(&p.expander)
            .map_err(|e| OptionsError::FailedToCreateAutoscaler(Box::new(e)))?;
        Ok(p.o)
    }
}

// ---------------------------------------------------------------------------------------------
// Flag table

/// How a flag's value is checked, which decides pflag's error text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// Go `flag.Bool` (bad value: `parse error`); `--name` alone is true.
    GoBool,
    /// Go `flag.Int` (`strconv.ParseInt(s, 0, 64)`).
    GoInt,
    /// Go `flag.Uint64` (`strconv.ParseUint(s, 0, 64)`).
    GoUint64,
    /// Go `flag.Float64`.
    GoFloat,
    /// Go `flag.Duration`.
    GoDuration,
    /// Any string (also custom `Var`s whose own checks are not modelled).
    Str,
    /// CA's `MultiStringFlag`: every occurrence appends.
    Multi,
    /// pflag `BoolVar`: errors are `strconv.ParseBool: ...`.
    PBool,
    /// pflag `DurationVar`: errors are `time: ...`.
    PDuration,
    /// logs `-v`: `strconv.ParseUint(s, 10, 31)`.
    Verbosity,
    /// klog `--stderrthreshold`: a severity name or `strconv.ParseInt(s, 10, 32)`.
    Severity,
}

/// Every flag a 1.30.2 binary accepts (normalized `-` spelling): `main.go`, leader election,
/// logging (`logsapi.AddFlags`, JSON format registered), feature gates, klog's Go flags and the
/// legacy GCE provider's, which is linked in.
const FLAGS: &[(&str, Kind)] = &[
    ("add-dir-header", Kind::GoBool),
    ("address", Kind::Str),
    ("alsologtostderr", Kind::GoBool),
    ("aws-use-static-instance-list", Kind::GoBool),
    ("balance-similar-node-groups", Kind::GoBool),
    ("balancing-ignore-label", Kind::Multi),
    ("balancing-label", Kind::Multi),
    ("bypassed-scheduler-names", Kind::Str),
    ("cloud-config", Kind::Str),
    ("cloud-provider", Kind::Str),
    ("cloud-provider-gce-l7lb-src-cidrs", Kind::Str),
    ("cloud-provider-gce-lb-src-cidrs", Kind::Str),
    ("cluster-name", Kind::Str),
    ("clusterapi-cloud-config-authoritative", Kind::GoBool),
    ("cordon-node-before-terminating", Kind::GoBool),
    ("cores-total", Kind::Str),
    ("daemonset-eviction-for-empty-nodes", Kind::GoBool),
    ("daemonset-eviction-for-occupied-nodes", Kind::GoBool),
    ("debugging-snapshot-enabled", Kind::GoBool),
    ("drain-priority-config", Kind::Str),
    (
        "dynamic-node-delete-delay-after-taint-enabled",
        Kind::GoBool,
    ),
    ("emit-per-nodegroup-metrics", Kind::GoBool),
    ("enable-provisioning-requests", Kind::GoBool),
    ("enforce-node-group-min-size", Kind::GoBool),
    ("estimator", Kind::Str),
    ("expander", Kind::Str),
    ("expendable-pods-priority-cutoff", Kind::GoInt),
    ("feature-gates", Kind::Str),
    ("force-ds", Kind::GoBool),
    ("frequent-loops-enabled", Kind::GoBool),
    ("gce-concurrent-refreshes", Kind::GoInt),
    ("gce-expander-ephemeral-storage-support", Kind::GoBool),
    ("gce-mig-instances-min-refresh-wait-time", Kind::GoDuration),
    ("gpu-total", Kind::Multi),
    ("grpc-expander-cert", Kind::Str),
    ("grpc-expander-url", Kind::Str),
    ("ignore-daemonsets-utilization", Kind::GoBool),
    ("ignore-mirror-pods-utilization", Kind::GoBool),
    ("ignore-taint", Kind::Multi),
    ("initial-node-group-backoff-duration", Kind::GoDuration),
    ("kube-api-content-type", Kind::Str),
    ("kube-client-burst", Kind::GoInt),
    ("kube-client-qps", Kind::GoFloat),
    ("kubeconfig", Kind::Str),
    ("kubernetes", Kind::Str),
    ("leader-elect", Kind::PBool),
    ("leader-elect-lease-duration", Kind::PDuration),
    ("leader-elect-renew-deadline", Kind::PDuration),
    ("leader-elect-resource-lock", Kind::Str),
    ("leader-elect-resource-name", Kind::Str),
    ("leader-elect-resource-namespace", Kind::Str),
    ("leader-elect-retry-period", Kind::PDuration),
    ("log-backtrace-at", Kind::Str),
    ("log-dir", Kind::Str),
    ("log-file", Kind::Str),
    ("log-file-max-size", Kind::GoUint64),
    ("log-flush-frequency", Kind::PDuration),
    ("log-json-info-buffer-size", Kind::Str),
    ("log-json-split-stream", Kind::PBool),
    ("log-text-info-buffer-size", Kind::Str),
    ("log-text-split-stream", Kind::PBool),
    ("logging-format", Kind::Str),
    ("logtostderr", Kind::GoBool),
    ("max-allocatable-difference-ratio", Kind::GoFloat),
    ("max-autoprovisioned-node-group-count", Kind::GoInt),
    ("max-bulk-soft-taint-count", Kind::GoInt),
    ("max-bulk-soft-taint-time", Kind::GoDuration),
    ("max-drain-parallelism", Kind::GoInt),
    ("max-empty-bulk-delete", Kind::GoInt),
    ("max-failing-time", Kind::GoDuration),
    ("max-free-difference-ratio", Kind::GoFloat),
    ("max-graceful-termination-sec", Kind::GoInt),
    ("max-inactivity", Kind::GoDuration),
    ("max-node-group-backoff-duration", Kind::GoDuration),
    ("max-node-provision-time", Kind::GoDuration),
    ("max-nodegroup-binpacking-duration", Kind::GoDuration),
    ("max-nodes-per-scaleup", Kind::GoInt),
    ("max-nodes-total", Kind::GoInt),
    ("max-pod-eviction-time", Kind::GoDuration),
    ("max-scale-down-parallelism", Kind::GoInt),
    ("max-total-unready-percentage", Kind::GoFloat),
    ("memory-difference-ratio", Kind::GoFloat),
    ("memory-total", Kind::Str),
    ("min-replica-count", Kind::GoInt),
    ("namespace", Kind::Str),
    ("new-pod-scale-up-delay", Kind::GoDuration),
    ("node-autoprovisioning-enabled", Kind::GoBool),
    ("node-delete-delay-after-taint", Kind::GoDuration),
    ("node-deletion-batcher-interval", Kind::GoDuration),
    ("node-deletion-delay-timeout", Kind::GoDuration),
    ("node-group-auto-discovery", Kind::Multi),
    ("node-group-backoff-reset-timeout", Kind::GoDuration),
    ("node-info-cache-expire-time", Kind::GoDuration),
    ("nodes", Kind::Multi),
    ("ok-total-unready-count", Kind::GoInt),
    ("one-output", Kind::GoBool),
    ("parallel-drain", Kind::GoBool),
    ("parallel-scale-up", Kind::GoBool),
    ("profiling", Kind::GoBool),
    ("record-duplicated-events", Kind::GoBool),
    ("regional", Kind::GoBool),
    ("scale-down-candidates-pool-min-count", Kind::GoInt),
    ("scale-down-candidates-pool-ratio", Kind::GoFloat),
    ("scale-down-delay-after-add", Kind::GoDuration),
    ("scale-down-delay-after-delete", Kind::GoDuration),
    ("scale-down-delay-after-failure", Kind::GoDuration),
    ("scale-down-delay-type-local", Kind::GoBool),
    ("scale-down-enabled", Kind::GoBool),
    ("scale-down-gpu-utilization-threshold", Kind::GoFloat),
    ("scale-down-non-empty-candidates-count", Kind::GoInt),
    ("scale-down-simulation-timeout", Kind::GoDuration),
    ("scale-down-unneeded-time", Kind::GoDuration),
    ("scale-down-unready-enabled", Kind::GoBool),
    ("scale-down-unready-time", Kind::GoDuration),
    ("scale-down-utilization-threshold", Kind::GoFloat),
    ("scale-up-from-zero", Kind::GoBool),
    ("scan-interval", Kind::GoDuration),
    ("scheduler-config-file", Kind::Str),
    ("skip-headers", Kind::GoBool),
    ("skip-log-headers", Kind::GoBool),
    ("skip-nodes-with-custom-controller-pods", Kind::GoBool),
    ("skip-nodes-with-local-storage", Kind::GoBool),
    ("skip-nodes-with-system-pods", Kind::GoBool),
    ("startup-taint", Kind::Multi),
    ("status-config-map-name", Kind::Str),
    ("status-taint", Kind::Multi),
    ("stderrthreshold", Kind::Severity),
    ("unremovable-node-recheck-timeout", Kind::GoDuration),
    ("user-agent", Kind::Str),
    ("v", Kind::Verbosity),
    ("vmodule", Kind::Str),
    ("write-status-configmap", Kind::GoBool),
];

fn lookup(name: &str) -> Option<Kind> {
    FLAGS.iter().find(|(n, _)| *n == name).map(|(_, k)| *k)
}

/// A checked flag value.
enum Value {
    Bool(bool),
    Int(i128),
    Float(f64),
    Dur(SimDuration),
    Str(String),
}

/// Flag values before the post-parse checks.
struct Parsed {
    o: AutoscalerOptions,
    expander: String,
    cores_total: String,
    memory_total: String,
    gpu_total: Vec<String>,
    max_drain_parallelism: i128,
    parallel_drain: bool,
}

impl Parsed {
    /// pflag's `parseArgs` (interspersed flags and positional arguments).
    fn parse_flags(&mut self, args: &[String]) -> Result<(), OptionsError> {
        let mut i = 0;
        while let Some(arg) = args.get(i) {
            i += 1;
            if arg.len() < 2 || !arg.starts_with('-') {
                self.o.positional_args.push(arg.clone());
                continue;
            }
            let Some(long) = arg.strip_prefix("--") else {
                self.parse_shorthands(arg, args, &mut i)?;
                continue;
            };
            if long.is_empty() {
                self.o.positional_args.extend(args.iter().skip(i).cloned());
                return Ok(());
            }
            if long.starts_with('-') || long.starts_with('=') {
                return Err(OptionsError::BadFlagSyntax(arg.clone()));
            }
            let (name, inline) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (long, None),
            };
            let normalized = name.replace('_', "-");
            let Some(kind) = lookup(&normalized) else {
                if name == "help" {
                    return Err(OptionsError::HelpRequested);
                }
                return Err(OptionsError::UnknownFlag(name.to_string()));
            };
            let value = match inline {
                Some(v) => v.to_string(),
                None if matches!(kind, Kind::GoBool | Kind::PBool) => "true".to_string(),
                None => match args.get(i) {
                    Some(v) => {
                        i += 1;
                        v.clone()
                    }
                    None => return Err(OptionsError::FlagNeedsArgument(arg.clone())),
                },
            };
            self.set(&normalized, kind, &value)?;
        }
        Ok(())
    }

    /// pflag's `parseShortArg`: only `-v` exists; `-h` asks for help.
    fn parse_shorthands(
        &mut self,
        arg: &str,
        args: &[String],
        i: &mut usize,
    ) -> Result<(), OptionsError> {
        let shorthands = arg.get(1..).unwrap_or("");
        if shorthands.starts_with("test.") {
            return Ok(());
        }
        let first = shorthands.as_bytes().first().copied().unwrap_or(b'-');
        if first != b'v' {
            if first == b'h' {
                return Err(OptionsError::HelpRequested);
            }
            return Err(OptionsError::UnknownShorthand {
                shorthand: char::from(first),
                shorthands: shorthands.to_string(),
            });
        }
        let rest = shorthands.get(1..).unwrap_or("");
        let value = if let Some(v) = rest.strip_prefix('=').filter(|v| !v.is_empty()) {
            v.to_string()
        } else if !rest.is_empty() {
            rest.to_string()
        } else if let Some(v) = args.get(*i) {
            *i += 1;
            v.clone()
        } else {
            return Err(OptionsError::ShorthandNeedsArgument {
                shorthand: 'v',
                shorthands: shorthands.to_string(),
            });
        };
        self.set("v", Kind::Verbosity, &value)
    }

    /// Checks a value as the flag's Go type would, then stores the modelled ones.
    fn set(&mut self, name: &str, kind: Kind, value: &str) -> Result<(), OptionsError> {
        let invalid = |reason: String| OptionsError::InvalidArgument {
            value: value.to_string(),
            flag: if name == "v" {
                "-v, --v".to_string()
            } else {
                format!("--{name}")
            },
            reason,
        };
        let parse_error = || invalid("parse error".to_string());
        let checked = match kind {
            Kind::GoBool => Value::Bool(strconv::parse_bool(value).ok_or_else(parse_error)?),
            Kind::PBool => Value::Bool(strconv::parse_bool(value).ok_or_else(|| {
                invalid(format!(
                    "strconv.ParseBool: parsing {}: invalid syntax",
                    go_quote(value)
                ))
            })?),
            Kind::GoInt => Value::Int(
                strconv::parse_int(value, 0, true, 64).map_err(|e| invalid(e.flag_reason()))?,
            ),
            Kind::GoUint64 => Value::Int(
                strconv::parse_int(value, 0, false, 64).map_err(|e| invalid(e.flag_reason()))?,
            ),
            Kind::Verbosity => Value::Int(
                strconv::parse_int(value, 10, false, 31)
                    .map_err(|e| invalid(e.strconv("ParseUint", value)))?,
            ),
            Kind::Severity => {
                let known = ["INFO", "WARNING", "ERROR", "FATAL"];
                if !known.contains(&value.to_uppercase().as_str()) {
                    strconv::parse_int(value, 10, true, 32)
                        .map_err(|e| invalid(e.strconv("ParseInt", value)))?;
                }
                Value::Str(value.to_string())
            }
            Kind::GoFloat => {
                Value::Float(strconv::parse_float(value).map_err(|e| invalid(e.flag_reason()))?)
            }
            Kind::GoDuration => Value::Dur(go_duration(value).map_err(|_| parse_error())?),
            Kind::PDuration => Value::Dur(go_duration(value).map_err(invalid)?),
            Kind::Str | Kind::Multi => Value::Str(value.to_string()),
        };
        self.apply(name, checked);
        Ok(())
    }

    fn apply(&mut self, name: &str, value: Value) {
        let o = &mut self.o;
        match value {
            Value::Str(s) => match name {
                "cloud-provider" => o.cloud_provider = s,
                "cluster-name" => o.cluster_name = Some(s).filter(|s| !s.is_empty()),
                "cloud-config" => o.cloud_config = Some(s).filter(|s| !s.is_empty()),
                "nodes" => o.nodes.push(s),
                "node-group-auto-discovery" => o.node_group_auto_discovery.push(s),
                "balancing-ignore-label" => o.balancing_ignore_labels.push(s),
                "expander" => self.expander = s,
                "cores-total" => self.cores_total = s,
                "memory-total" => self.memory_total = s,
                "gpu-total" => self.gpu_total.push(s),
                "status-config-map-name" => o.status_config_map_name = s,
                "namespace" => o.namespace = s,
                "leader-elect-resource-name" => o.leader_elect_resource_name = s,
                _ => {}
            },
            Value::Bool(b) => match name {
                "balance-similar-node-groups" => o.balance_similar_node_groups = b,
                "write-status-configmap" => o.write_status_configmap = b,
                "record-duplicated-events" => o.record_duplicated_events = b,
                "enforce-node-group-min-size" => o.enforce_node_group_min_size = b,
                "scale-up-from-zero" => o.scale_up_from_zero = b,
                "parallel-scale-up" => o.parallel_scale_up = b,
                "frequent-loops-enabled" => o.frequent_loops_enabled = b,
                "parallel-drain" => self.parallel_drain = b,
                "leader-elect" => o.leader_elect = b,
                _ => {}
            },
            Value::Int(n) => {
                let to_u32 = |n: i128| u32::try_from(n.max(0)).unwrap_or(u32::MAX);
                match name {
                    "max-nodes-total" => o.max_nodes_total = to_u32(n),
                    "max-nodes-per-scaleup" => o.max_nodes_per_scaleup = to_u32(n),
                    "ok-total-unready-count" => o.ok_total_unready_count = to_u32(n),
                    "expendable-pods-priority-cutoff" => {
                        o.expendable_pods_priority_cutoff =
                            i32::try_from(n).unwrap_or(if n < 0 { i32::MIN } else { i32::MAX });
                    }
                    "max-drain-parallelism" => self.max_drain_parallelism = n,
                    "v" => o.verbosity = u8::try_from(n.clamp(0, 255)).unwrap_or(u8::MAX),
                    _ => {}
                }
            }
            Value::Float(x) => match name {
                "memory-difference-ratio" => o.memory_difference_ratio = x,
                "max-allocatable-difference-ratio" => o.max_allocatable_difference_ratio = x,
                "max-free-difference-ratio" => o.max_free_difference_ratio = x,
                "max-total-unready-percentage" => o.max_total_unready_percentage = x,
                _ => {}
            },
            Value::Dur(d) => match name {
                "scan-interval" => o.scan_interval = d,
                "max-node-provision-time" => o.max_node_provision_time = d,
                "initial-node-group-backoff-duration" => o.initial_node_group_backoff_duration = d,
                "max-node-group-backoff-duration" => o.max_node_group_backoff_duration = d,
                "node-group-backoff-reset-timeout" => o.node_group_backoff_reset_timeout = d,
                "new-pod-scale-up-delay" => o.new_pod_scale_up_delay = d,
                "max-nodegroup-binpacking-duration" => o.max_node_group_binpacking_duration = d,
                _ => {}
            },
        }
    }
}

/// `main.go::parseMinMaxFlag` for `--cores-total` / `--memory-total`.
fn parse_min_max(flag: &'static str, value: &str) -> Result<(u64, u64), OptionsError> {
    let Some((min, max)) = value.split_once(':') else {
        return Err(OptionsError::MinMaxFormat {
            flag,
            value: value.to_string(),
        });
    };
    let min_v = strconv::parse_int(min, 10, true, 64).map_err(|e| OptionsError::MinMaxMin {
        flag,
        value: min.to_string(),
        reason: e.strconv("ParseInt", min),
    })?;
    let max_v = strconv::parse_int(max, 10, true, 64).map_err(|e| OptionsError::MinMaxMax {
        flag,
        value: max.to_string(),
        reason: e.strconv("ParseInt", max),
    })?;
    if min_v < 0 {
        return Err(OptionsError::MinMaxNegative { flag });
    }
    if max_v < min_v {
        return Err(OptionsError::MinMaxOrder { flag });
    }
    let to_u64 = |n: i128| u64::try_from(n).unwrap_or(u64::MAX);
    Ok((to_u64(min_v), to_u64(max_v)))
}

/// `main.go::parseSingleGpuLimit` (`<type>:<min>:<max>`), validation only.
fn parse_gpu_limit(limit: &str) -> Result<(), OptionsError> {
    let err = |what: &str| Err(OptionsError::GpuLimit(format!("{what}{limit}")));
    let parts: Vec<&str> = limit.split(':').collect();
    let [_, min, max] = parts.as_slice() else {
        return err("incorrect gpu limit specification: ");
    };
    let Ok(min) = strconv::parse_int(min, 10, true, 64) else {
        return err("incorrect gpu limit - min is not integer: ");
    };
    let Ok(max) = strconv::parse_int(max, 10, true, 64) else {
        return err("incorrect gpu limit - max is not integer: ");
    };
    if min < 0 {
        return err("incorrect gpu limit - min is less than 0; ");
    }
    if max < 0 {
        return err("incorrect gpu limit - max is less than 0; ");
    }
    if min > max {
        return err("incorrect gpu limit - min is greater than max; ");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    fn err(a: &[&str]) -> String {
        match parse_args(&args(a)) {
            Ok(o) => panic!("expected an error for {a:?}, got {o:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn defaults_are_upstream_defaults() {
        let o = parse_args(&[]).unwrap();
        assert_eq!(o, AutoscalerOptions::default());
        assert_eq!(o.cloud_provider, "");
        assert_eq!(o.scan_interval, SimDuration::from_secs(10));
        assert_eq!(o.expander, vec![ExpanderName::Random]);
        assert_eq!(o.max_nodes_total, 0);
        assert_eq!(o.cores_total, (0, 320_000));
        assert_eq!(o.memory_total_gib, (0, 6_400_000));
        assert_eq!(o.max_node_provision_time.to_string(), "15m0s");
        assert_eq!(o.initial_node_group_backoff_duration.to_string(), "5m0s");
        assert_eq!(o.max_node_group_backoff_duration.to_string(), "30m0s");
        assert_eq!(o.node_group_backoff_reset_timeout.to_string(), "3h0m0s");
        assert_eq!(o.new_pod_scale_up_delay, SimDuration::ZERO);
        assert_eq!(o.max_nodes_per_scaleup, 1000);
        assert_eq!(
            o.max_node_group_binpacking_duration,
            SimDuration::from_secs(10)
        );
        assert!(!o.balance_similar_node_groups);
        assert_eq!(o.memory_difference_ratio, 0.015);
        assert_eq!(o.max_allocatable_difference_ratio, 0.05);
        assert_eq!(o.max_free_difference_ratio, 0.05);
        assert_eq!(o.max_total_unready_percentage, 45.0);
        assert_eq!(o.ok_total_unready_count, 3);
        assert!(o.write_status_configmap);
        assert_eq!(o.status_config_map_name, "cluster-autoscaler-status");
        assert_eq!(o.namespace, "kube-system");
        assert!(!o.record_duplicated_events);
        assert!(!o.enforce_node_group_min_size);
        assert!(o.scale_up_from_zero);
        assert_eq!(o.expendable_pods_priority_cutoff, -10);
    }

    #[test]
    fn incident_flags() {
        let o = parse_args(&args(&[
            "--cloud-provider=magnum",
            "--cluster-name=k8s",
            "--cloud-config=/config/cloud-config",
            "--nodes=1:6:DefaultNodeGroup",
        ]))
        .unwrap();
        assert_eq!(o.cloud_provider, "magnum");
        assert_eq!(o.cluster_name.as_deref(), Some("k8s"));
        assert_eq!(o.cloud_config.as_deref(), Some("/config/cloud-config"));
        assert_eq!(o.nodes, vec!["1:6:DefaultNodeGroup"]);
        let spec = parse_node_group_spec(&o.nodes[0], true).unwrap();
        assert_eq!(
            spec,
            NodeGroupSpec {
                min: 1,
                max: 6,
                name: "DefaultNodeGroup".into()
            }
        );
        assert_eq!(spec.to_string(), "1:6:DefaultNodeGroup");
    }

    #[test]
    fn both_flag_forms_booleans_and_repeats() {
        let o = parse_args(&args(&[
            "--scan-interval",
            "1m30s",
            "--max-nodes-total=12",
            "--balance-similar-node-groups",
            "--write-status-configmap=false",
            "--scale-up-from-zero",
            "false",
            "--nodes",
            "0:3:a",
            "--nodes=2:5:b:c",
            "--node-group-auto-discovery=magnum:role=worker",
            "--balancing-ignore-label=x",
            "--balancing-ignore-label",
            "y",
            "--expander=least-waste,priority,random",
            "--cores-total=4:64",
            "--memory-total",
            "8:256",
            "--max-total-unready-percentage=12.5",
            "--expendable-pods-priority-cutoff=-99",
            "--max_nodes_per_scaleup=0x10",
            "--new-pod-scale-up-delay=500ms",
            "--v=4",
            "-v",
            "5",
            "-v=2",
            "-v3",
            "--logtostderr",
            "--leader-elect=false",
            "--stderrthreshold=info",
            "--",
            "--not-a-flag",
        ]))
        .unwrap();
        assert_eq!(o.scan_interval, SimDuration::from_secs(90));
        assert_eq!(o.max_nodes_total, 12);
        assert!(o.balance_similar_node_groups);
        assert!(!o.write_status_configmap);
        assert!(
            o.scale_up_from_zero,
            "a bool flag never takes the next argument"
        );
        assert_eq!(o.positional_args, vec!["false", "--not-a-flag"]);
        assert_eq!(o.nodes, vec!["0:3:a", "2:5:b:c"]);
        assert_eq!(o.node_group_auto_discovery, vec!["magnum:role=worker"]);
        assert_eq!(o.balancing_ignore_labels, vec!["x", "y"]);
        assert_eq!(
            o.expander,
            vec![
                ExpanderName::LeastWaste,
                ExpanderName::Priority,
                ExpanderName::Random
            ]
        );
        assert_eq!(o.cores_total, (4, 64));
        assert_eq!(o.memory_total_gib, (8, 256));
        assert_eq!(o.max_total_unready_percentage, 12.5);
        assert_eq!(o.expendable_pods_priority_cutoff, -99);
        assert_eq!(o.max_nodes_per_scaleup, 16);
        assert_eq!(o.new_pod_scale_up_delay, SimDuration::from_millis(500));
        // Empty values mean "unset", as upstream compares with "".
        let o = parse_args(&args(&["--cluster-name=", "--cloud-config="])).unwrap();
        assert_eq!((o.cluster_name, o.cloud_config), (None, None));
        // Negative Go ints read as 0 for the unsigned limits.
        let o = parse_args(&args(&[
            "--max-nodes-total=-1",
            "--ok-total-unready-count=-3",
        ]))
        .unwrap();
        assert_eq!((o.max_nodes_total, o.ok_total_unready_count), (0, 0));
    }

    #[test]
    fn pflag_errors() {
        assert_eq!(err(&["--foo=1"]), "unknown flag: --foo");
        assert_eq!(
            err(&["--cloud_provider_x"]),
            "unknown flag: --cloud_provider_x"
        );
        assert_eq!(
            err(&["-scan-interval=10s"]),
            "unknown shorthand flag: 's' in -scan-interval=10s"
        );
        assert_eq!(err(&["---x"]), "bad flag syntax: ---x");
        assert_eq!(err(&["--=x"]), "bad flag syntax: --=x");
        assert_eq!(
            err(&["--scan-interval"]),
            "flag needs an argument: --scan-interval"
        );
        assert_eq!(err(&["-v"]), "flag needs an argument: 'v' in -v");
        assert_eq!(err(&["--help"]), "pflag: help requested");
        assert_eq!(err(&["-h"]), "pflag: help requested");
        assert_eq!(parse_args(&args(&["--foo"])).unwrap_err().exit_code(), 2);
        assert_eq!(parse_args(&args(&["-h"])).unwrap_err().exit_code(), 0);
        assert_eq!(
            err(&["--scan-interval=10"]),
            "invalid argument \"10\" for \"--scan-interval\" flag: parse error"
        );
        assert_eq!(
            err(&["--scan-interval", "soon"]),
            "invalid argument \"soon\" for \"--scan-interval\" flag: parse error"
        );
        assert_eq!(
            err(&["--max-nodes-total=ten"]),
            "invalid argument \"ten\" for \"--max-nodes-total\" flag: parse error"
        );
        assert_eq!(
            err(&["--max-nodes-total=99999999999999999999"]),
            "invalid argument \"99999999999999999999\" for \"--max-nodes-total\" flag: value out of range"
        );
        assert_eq!(
            err(&["--balance-similar-node-groups=yes"]),
            "invalid argument \"yes\" for \"--balance-similar-node-groups\" flag: parse error"
        );
        assert_eq!(
            err(&["--max-total-unready-percentage=lots"]),
            "invalid argument \"lots\" for \"--max-total-unready-percentage\" flag: parse error"
        );
        assert_eq!(
            err(&["--memory-difference-ratio=1e999"]),
            "invalid argument \"1e999\" for \"--memory-difference-ratio\" flag: value out of range"
        );
        assert_eq!(
            err(&["--v=x"]),
            "invalid argument \"x\" for \"-v, --v\" flag: strconv.ParseUint: parsing \"x\": invalid syntax"
        );
        assert_eq!(
            err(&["--leader-elect=maybe"]),
            "invalid argument \"maybe\" for \"--leader-elect\" flag: strconv.ParseBool: parsing \"maybe\": invalid syntax"
        );
        assert_eq!(
            err(&["--leader-elect-lease-duration=15"]),
            "invalid argument \"15\" for \"--leader-elect-lease-duration\" flag: time: missing unit in duration \"15\""
        );
        assert_eq!(
            err(&["--stderrthreshold=loud"]),
            "invalid argument \"loud\" for \"--stderrthreshold\" flag: strconv.ParseInt: parsing \"loud\": invalid syntax"
        );
        // The flag is named by its normalized spelling in value errors.
        assert_eq!(
            err(&["--scan_interval=x"]),
            "invalid argument \"x\" for \"--scan-interval\" flag: parse error"
        );
    }

    #[test]
    fn node_group_spec_errors() {
        let e = |s: &str, zero: bool| parse_node_group_spec(s, zero).unwrap_err().to_string();
        assert_eq!(e("1:6", true), "wrong nodes configuration: 1:6");
        assert_eq!(
            e("a:6:ng", true),
            "failed to set min size: a, expected integer"
        );
        assert_eq!(
            e("1:b:ng", true),
            "failed to set max size: b, expected integer"
        );
        assert_eq!(
            e(" 1:6:ng", true),
            "failed to set min size:  1, expected integer"
        );
        assert_eq!(
            e("-1:6:ng", true),
            "invalid node group spec: min size must be >= 0"
        );
        assert_eq!(
            e("0:6:ng", false),
            "invalid node group spec: min size must be >= 1"
        );
        assert_eq!(
            e("5:2:ng", true),
            "invalid node group spec: max size must be greater or equal to min size"
        );
        assert_eq!(
            e("1:6:", true),
            "invalid node group spec: name must not be blank"
        );
        assert_eq!(
            parse_node_group_spec("0:6:ng", true),
            Ok(NodeGroupSpec {
                min: 0,
                max: 6,
                name: "ng".into()
            })
        );
        assert_eq!(
            parse_node_group_spec("+1:9999999999:ng", false).map(|s| (s.min, s.max)),
            Ok((1, u32::MAX))
        );
        let inner = parse_node_group_spec("1:6", true).unwrap_err();
        assert_eq!(
            fatal_node_group_spec("1:6", &inner),
            "Could not parse node group spec 1:6: wrong nodes configuration: 1:6"
        );
        // The provider, not the flag parser, rejects a bad spec.
        assert_eq!(parse_args(&args(&["--nodes=x"])).unwrap().nodes, vec!["x"]);
    }

    #[test]
    fn expander_chain_errors() {
        let e = |v: &str| parse_expander_chain(v).unwrap_err().to_string();
        assert_eq!(
            e("most-pods,most-pods"),
            "Expander most-pods was specified multiple times, each expander must not be specified more than once"
        );
        assert_eq!(e("fastest"), "Expander fastest not supported");
        assert_eq!(e("least-nodes"), "Expander least-nodes not supported");
        assert_eq!(e("most-pods,"), "Expander  not supported");
        assert_eq!(
            e("random,most-pods"),
            "Expander most-pods came after an expander random that will always return only one result, this is not allowed since most-pods will never be used"
        );
        // The duplicate check comes first, then "after random", then "not supported".
        assert_eq!(
            e("random,random"),
            "Expander random was specified multiple times, each expander must not be specified more than once"
        );
        assert_eq!(
            e("random,bogus"),
            "Expander bogus came after an expander random that will always return only one result, this is not allowed since bogus will never be used"
        );
        assert_eq!(
            parse_expander_chain("priority,least-waste,price,grpc"),
            Ok(vec![
                ExpanderName::Priority,
                ExpanderName::LeastWaste,
                ExpanderName::Price,
                ExpanderName::Grpc
            ])
        );
        assert_eq!(
            err(&["--expander=random, most-pods"]),
            "Failed to create autoscaler: Expander  most-pods came after an expander random that will always return only one result, this is not allowed since  most-pods will never be used"
        );
        assert_eq!(ExpanderName::MostPods.to_string(), "most-pods");
        assert_eq!(
            pricing_unavailable_fatal(),
            "Couldn't access cloud provider pricing for price expander: Not implemented"
        );
    }

    #[test]
    fn min_max_and_other_option_errors() {
        assert_eq!(
            err(&["--cores-total=64"]),
            "Failed to parse flags: wrong nodes configuration: 64"
        );
        assert_eq!(
            err(&["--cores-total=a:64"]),
            "Failed to parse flags: failed to set min size: a, expected integer, err: strconv.ParseInt: parsing \"a\": invalid syntax"
        );
        assert_eq!(
            err(&["--memory-total=0:99999999999999999999"]),
            "Failed to parse flags: failed to set max size: 99999999999999999999, expected integer, err: strconv.ParseInt: parsing \"99999999999999999999\": value out of range"
        );
        assert_eq!(
            err(&["--cores-total=-1:5"]),
            "Failed to parse flags: min size must be greater or equal to  0"
        );
        assert_eq!(
            err(&["--memory-total=9:5"]),
            "Failed to parse flags: max size must be greater or equal to min size"
        );
        assert_eq!(
            err(&["--gpu-total=nvidia:1"]),
            "Failed to parse flags: incorrect gpu limit specification: nvidia:1"
        );
        assert_eq!(
            err(&["--gpu-total=nvidia:x:1"]),
            "Failed to parse flags: incorrect gpu limit - min is not integer: nvidia:x:1"
        );
        assert_eq!(
            err(&["--gpu-total=nvidia:1:x"]),
            "Failed to parse flags: incorrect gpu limit - max is not integer: nvidia:1:x"
        );
        assert_eq!(
            err(&["--gpu-total=nvidia:-1:1"]),
            "Failed to parse flags: incorrect gpu limit - min is less than 0; nvidia:-1:1"
        );
        assert_eq!(
            err(&["--gpu-total=nvidia:0:-1"]),
            "Failed to parse flags: incorrect gpu limit - max is less than 0; nvidia:0:-1"
        );
        assert_eq!(
            err(&["--gpu-total=nvidia:3:1"]),
            "Failed to parse flags: incorrect gpu limit - min is greater than max; nvidia:3:1"
        );
        assert_eq!(
            err(&["--max-drain-parallelism=2", "--parallel-drain=false"]),
            "Invalid configuration, could not use --max-drain-parallelism > 1 if --parallel-drain is false"
        );
        // Upstream's order: flag values, then min/max limits, then the expander chain.
        assert_eq!(
            err(&["--expander=x", "--cores-total=x", "--scan-interval=x"]),
            "invalid argument \"x\" for \"--scan-interval\" flag: parse error"
        );
        assert_eq!(
            err(&["--expander=x", "--cores-total=x"]),
            "Failed to parse flags: wrong nodes configuration: x"
        );
        assert_eq!(
            parse_args(&args(&["--expander=x"]))
                .unwrap_err()
                .exit_code(),
            255
        );
        match parse_args(&args(&["--cores-total=1"])) {
            Err(OptionsError::FailedToParseFlags(inner)) => assert_eq!(
                *inner,
                OptionsError::MinMaxFormat {
                    flag: "cores-total",
                    value: "1".into()
                }
            ),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn known_but_unmodelled_flags_are_accepted() {
        let o = parse_args(&args(&[
            "--skip-nodes-with-local-storage=false",
            "--skip-nodes-with-system-pods=false",
            "--scale-down-enabled=true",
            "--scale-down-delay-after-add=10m",
            "--scale-down-unneeded-time=5m",
            "--scale-down-utilization-threshold=0.5",
            "--leader-elect",
            "--kubeconfig=/etc/kubernetes/admin.conf",
            "--max-inactivity=10m",
            "--max-failing-time=15m",
            "--log_file_max_size=100",
            "--stderrthreshold=2",
            "--feature-gates=Foo=true",
            "--logging-format=json",
            "--ignore-taint=a",
            "--status-taint=b",
            "--max-node-provision-time=20m",
        ]))
        .unwrap();
        assert_eq!(o.max_node_provision_time, SimDuration::from_mins(20));
        assert!(o.positional_args.is_empty());
    }

    #[test]
    fn never_panics_on_odd_input() {
        for a in [
            "-",
            "--",
            "-é",
            "--é",
            "-vé",
            "-v=",
            "--v=",
            "--nodes=::",
            "--nodes=é:é:é",
            "--expander=",
            "--cores-total=:",
            "--gpu-total=::",
            "--scan-interval=é",
            "--max-nodes-total=0x",
            "--memory-difference-ratio=.",
            "--stderrthreshold=",
            "-test.v",
        ] {
            let _ = parse_args(&args(&[a]));
        }
    }
}
