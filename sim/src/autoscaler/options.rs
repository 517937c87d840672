//! cluster-autoscaler's command-line flags (1.30), parsed as pflag parses them, with
//! upstream's defaults and error texts.

use crate::time::SimDuration;
use std::fmt;

/// `--nodes=<min>:<max>:<name>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeGroupSpec {
    pub min: u32,
    pub max: u32,
    pub name: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExpanderName {
    Random,
    MostPods,
    LeastWaste,
    Price,
    Priority,
    LeastNodes,
    Grpc,
}

impl ExpanderName {
    fn parse(s: &str) -> Option<ExpanderName> {
        Some(match s {
            "random" => ExpanderName::Random,
            "most-pods" => ExpanderName::MostPods,
            "least-waste" => ExpanderName::LeastWaste,
            "price" => ExpanderName::Price,
            "priority" => ExpanderName::Priority,
            "least-nodes" => ExpanderName::LeastNodes,
            "grpc" => ExpanderName::Grpc,
            _ => return None,
        })
    }
}

/// The flags magsim models; every other 1.30 flag is accepted and ignored.
#[derive(Clone, Debug, PartialEq)]
pub struct AutoscalerOptions {
    pub cloud_provider: String,
    pub cluster_name: Option<String>,
    pub cloud_config: Option<String>,
    /// `--nodes` values as given; the provider parses them at start-up.
    pub nodes: Vec<String>,
    pub node_group_auto_discovery: Vec<String>,
    pub scan_interval: SimDuration,
    pub expander: Vec<ExpanderName>,
    pub max_nodes_total: u32,
    pub cores_total: (u64, u64),
    pub memory_total_gib: (u64, u64),
    pub max_node_provision_time: SimDuration,
    pub initial_node_group_backoff_duration: SimDuration,
    pub max_node_group_backoff_duration: SimDuration,
    pub node_group_backoff_reset_timeout: SimDuration,
    pub new_pod_scale_up_delay: SimDuration,
    pub max_nodes_per_scaleup: u32,
    pub balance_similar_node_groups: bool,
    pub memory_difference_ratio: f64,
    pub max_allocatable_difference_ratio: f64,
    pub max_free_difference_ratio: f64,
    pub balancing_ignore_labels: Vec<String>,
    pub max_total_unready_percentage: f64,
    pub ok_total_unready_count: u32,
    pub write_status_configmap: bool,
    pub status_config_map_name: String,
    pub namespace: String,
    pub record_duplicated_events: bool,
    pub enforce_node_group_min_size: bool,
    pub scale_up_from_zero: bool,
    pub expendable_pods_priority_cutoff: i32,
}

impl Default for AutoscalerOptions {
    /// Upstream 1.30's defaults (`main.go`, `config/const.go`).
    fn default() -> Self {
        AutoscalerOptions {
            cloud_provider: String::new(),
            cluster_name: None,
            cloud_config: None,
            nodes: Vec::new(),
            node_group_auto_discovery: Vec::new(),
            scan_interval: SimDuration::from_secs(10),
            expander: vec![ExpanderName::Random],
            max_nodes_total: 0,
            cores_total: (0, 320_000),
            memory_total_gib: (0, 6_400_000),
            max_node_provision_time: SimDuration::from_mins(15),
            initial_node_group_backoff_duration: SimDuration::from_mins(5),
            max_node_group_backoff_duration: SimDuration::from_mins(30),
            node_group_backoff_reset_timeout: SimDuration::from_mins(180),
            new_pod_scale_up_delay: SimDuration::ZERO,
            max_nodes_per_scaleup: 1000,
            balance_similar_node_groups: false,
            memory_difference_ratio: 0.015,
            max_allocatable_difference_ratio: 0.05,
            max_free_difference_ratio: 0.05,
            balancing_ignore_labels: Vec::new(),
            max_total_unready_percentage: 45.0,
            ok_total_unready_count: 3,
            write_status_configmap: true,
            status_config_map_name: "cluster-autoscaler-status".into(),
            namespace: "kube-system".into(),
            record_duplicated_events: false,
            enforce_node_group_min_size: false,
            scale_up_from_zero: true,
            expendable_pods_priority_cutoff: -10,
        }
    }
}

/// A flag that pflag or cluster-autoscaler refuses, in their words.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct OptionsError(pub String);

/// 1.30 flags magsim accepts without modelling (logging, scale-down, leader election, ...).
const IGNORED: &[&str] = &[
    "v",
    "logtostderr",
    "alsologtostderr",
    "stderrthreshold",
    "log-dir",
    "log-file",
    "skip-headers",
    "vmodule",
    "kubeconfig",
    "kubernetes",
    "address",
    "leader-elect",
    "leader-elect-lease-duration",
    "leader-elect-renew-deadline",
    "leader-elect-retry-period",
    "leader-elect-resource-name",
    "leader-elect-resource-namespace",
    "max-inactivity",
    "max-failing-time",
    "scale-down-enabled",
    "scale-down-delay-after-add",
    "scale-down-delay-after-delete",
    "scale-down-delay-after-failure",
    "scale-down-unneeded-time",
    "scale-down-unready-time",
    "scale-down-utilization-threshold",
    "scale-down-gpu-utilization-threshold",
    "scale-down-non-empty-candidates-count",
    "scale-down-candidates-pool-ratio",
    "scale-down-candidates-pool-min-count",
    "skip-nodes-with-local-storage",
    "skip-nodes-with-system-pods",
    "skip-nodes-with-custom-controller-pods",
    "max-empty-bulk-delete",
    "max-graceful-termination-sec",
    "max-scale-down-parallelism",
    "max-drain-parallelism",
    "max-pod-eviction-time",
    "node-deletion-delay-timeout",
    "emit-per-nodegroup-metrics",
    "profiling",
    "frequent-loops-enabled",
    "parallel-scale-up",
    "max-nodegroup-binpacking-duration",
    "cordon-node-before-terminating",
    "daemonset-eviction-for-empty-nodes",
    "daemonset-eviction-for-occupied-nodes",
    "feature-gates",
    "grpc-expander-cert",
    "grpc-expander-url",
    "ignore-daemonsets-utilization",
    "ignore-mirror-pods-utilization",
    "ignore-taint",
    "startup-taint",
    "status-taint",
    "node-info-cache-expire-time",
    "unremovable-node-recheck-timeout",
    "aws-use-static-instance-list",
    "cluster-api-cloud-config-authoritative",
    "user-agent",
    "kube-api-content-type",
    "kube-client-qps",
    "kube-client-burst",
    "gpu-total",
    "max-bulk-soft-taint-count",
    "max-bulk-soft-taint-time",
    "debugging-snapshot-enabled",
    "scale-up-from-zero",
    "force-ds",
    "bypassed-scheduler-names",
    "max-node-group-binpacking-duration",
];

const BOOLS: &[&str] = &[
    "balance-similar-node-groups",
    "write-status-configmap",
    "record-duplicated-events",
    "enforce-node-group-min-size",
    "scale-up-from-zero",
    "logtostderr",
    "alsologtostderr",
    "skip-headers",
    "leader-elect",
    "scale-down-enabled",
    "skip-nodes-with-local-storage",
    "skip-nodes-with-system-pods",
    "skip-nodes-with-custom-controller-pods",
    "emit-per-nodegroup-metrics",
    "profiling",
    "frequent-loops-enabled",
    "parallel-scale-up",
    "cordon-node-before-terminating",
    "daemonset-eviction-for-empty-nodes",
    "daemonset-eviction-for-occupied-nodes",
    "ignore-daemonsets-utilization",
    "ignore-mirror-pods-utilization",
    "aws-use-static-instance-list",
    "cluster-api-cloud-config-authoritative",
    "debugging-snapshot-enabled",
    "force-ds",
];

fn invalid(value: &str, flag: &str, why: impl fmt::Display) -> OptionsError {
    OptionsError(format!(
        "invalid argument \"{value}\" for \"--{flag}\" flag: {why}"
    ))
}

fn duration(v: &str, flag: &str) -> Result<SimDuration, OptionsError> {
    SimDuration::parse(v).map_err(|_| invalid(v, flag, format!("time: invalid duration \"{v}\"")))
}

fn int<T: std::str::FromStr>(v: &str, flag: &str) -> Result<T, OptionsError> {
    v.parse().map_err(|_| {
        invalid(
            v,
            flag,
            format!("strconv.ParseInt: parsing \"{v}\": invalid syntax"),
        )
    })
}

fn float(v: &str, flag: &str) -> Result<f64, OptionsError> {
    v.parse().map_err(|_| {
        invalid(
            v,
            flag,
            format!("strconv.ParseFloat: parsing \"{v}\": invalid syntax"),
        )
    })
}

fn boolean(v: &str, flag: &str) -> Result<bool, OptionsError> {
    match v {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Ok(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Ok(false),
        _ => Err(invalid(
            v,
            flag,
            format!("strconv.ParseBool: parsing \"{v}\": invalid syntax"),
        )),
    }
}

/// `--cores-total` / `--memory-total`: `<min>:<max>` (`parseMinMaxFlag`).
fn min_max(v: &str) -> Result<(u64, u64), OptionsError> {
    let (lo, hi) = v.split_once(':').ok_or_else(|| {
        OptionsError(format!(
            "Failed to parse flags: wrong nodes configuration: {v}"
        ))
    })?;
    let lo: u64 = lo.parse().map_err(|_| {
        OptionsError(format!(
            "Failed to parse flags: failed to set min size: {lo}, expected integer"
        ))
    })?;
    let hi: u64 = hi.parse().map_err(|_| {
        OptionsError(format!(
            "Failed to parse flags: failed to set max size: {hi}, expected integer"
        ))
    })?;
    if hi < lo {
        return Err(OptionsError(
            "Failed to parse flags: max size must be greater or equal to min size".into(),
        ));
    }
    Ok((lo, hi))
}

/// The expander chain, checked as `expander/factory/expander_factory.go::Build` checks it.
fn expanders(v: &str) -> Result<Vec<ExpanderName>, OptionsError> {
    let names: Vec<&str> = v.split(',').collect();
    let mut out = Vec::new();
    for (i, name) in names.iter().enumerate() {
        if names[..i].contains(name) {
            return Err(OptionsError(format!("Expander {name} was specified multiple times, each expander must not be specified more than once")));
        }
        if i > 0 && names[i - 1] == "random" {
            return Err(OptionsError(format!(
                "Expander {name} came after an expander random that will always return only one result, this is not allowed since {name} will never be used"
            )));
        }
        out.push(
            ExpanderName::parse(name)
                .ok_or_else(|| OptionsError(format!("Expander {name} not supported")))?,
        );
    }
    Ok(out)
}

/// Parses a container's arguments: `--flag=value`, `--flag value`, bare boolean `--flag`.
pub fn parse_args(args: &[String]) -> Result<AutoscalerOptions, OptionsError> {
    let mut o = AutoscalerOptions::default();
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        i += 1;
        let Some(body) = arg
            .strip_prefix("--")
            .or_else(|| arg.strip_prefix('-').filter(|b| !b.is_empty()))
        else {
            continue; // positional arguments are ignored by the binary
        };
        let (flag, inline) = match body.split_once('=') {
            Some((f, v)) => (f, Some(v.to_string())),
            None => (body, None),
        };
        let value = match inline {
            Some(v) => v,
            None if BOOLS.contains(&flag) => "true".to_string(),
            None => {
                let known = IGNORED.contains(&flag) || is_modelled(flag);
                if !known {
                    return Err(OptionsError(format!("unknown flag: --{flag}")));
                }
                let v = args
                    .get(i)
                    .cloned()
                    .ok_or_else(|| OptionsError(format!("flag needs an argument: --{flag}")))?;
                i += 1;
                v
            }
        };
        set(&mut o, flag, &value)?;
    }
    Ok(o)
}

fn is_modelled(flag: &str) -> bool {
    matches!(
        flag,
        "cloud-provider"
            | "cluster-name"
            | "cloud-config"
            | "nodes"
            | "node-group-auto-discovery"
            | "scan-interval"
            | "expander"
            | "max-nodes-total"
            | "cores-total"
            | "memory-total"
            | "max-node-provision-time"
            | "initial-node-group-backoff-duration"
            | "max-node-group-backoff-duration"
            | "node-group-backoff-reset-timeout"
            | "new-pod-scale-up-delay"
            | "max-nodes-per-scaleup"
            | "memory-difference-ratio"
            | "max-allocatable-difference-ratio"
            | "max-free-difference-ratio"
            | "balancing-ignore-label"
            | "max-total-unready-percentage"
            | "ok-total-unready-count"
            | "status-config-map-name"
            | "namespace"
            | "expendable-pods-priority-cutoff"
    ) || BOOLS.contains(&flag)
}

fn set(o: &mut AutoscalerOptions, flag: &str, v: &str) -> Result<(), OptionsError> {
    match flag {
        "cloud-provider" => o.cloud_provider = v.to_string(),
        "cluster-name" => o.cluster_name = Some(v.to_string()),
        "cloud-config" => o.cloud_config = Some(v.to_string()),
        "nodes" => o.nodes.push(v.to_string()),
        "node-group-auto-discovery" => o.node_group_auto_discovery.push(v.to_string()),
        "scan-interval" => o.scan_interval = duration(v, flag)?,
        "expander" => o.expander = expanders(v)?,
        "max-nodes-total" => o.max_nodes_total = int(v, flag)?,
        "cores-total" => o.cores_total = min_max(v)?,
        "memory-total" => o.memory_total_gib = min_max(v)?,
        "max-node-provision-time" => o.max_node_provision_time = duration(v, flag)?,
        "initial-node-group-backoff-duration" => {
            o.initial_node_group_backoff_duration = duration(v, flag)?
        }
        "max-node-group-backoff-duration" => o.max_node_group_backoff_duration = duration(v, flag)?,
        "node-group-backoff-reset-timeout" => {
            o.node_group_backoff_reset_timeout = duration(v, flag)?
        }
        "new-pod-scale-up-delay" => o.new_pod_scale_up_delay = duration(v, flag)?,
        "max-nodes-per-scaleup" => o.max_nodes_per_scaleup = int(v, flag)?,
        "balance-similar-node-groups" => o.balance_similar_node_groups = boolean(v, flag)?,
        "memory-difference-ratio" => o.memory_difference_ratio = float(v, flag)?,
        "max-allocatable-difference-ratio" => o.max_allocatable_difference_ratio = float(v, flag)?,
        "max-free-difference-ratio" => o.max_free_difference_ratio = float(v, flag)?,
        "balancing-ignore-label" => o.balancing_ignore_labels.push(v.to_string()),
        "max-total-unready-percentage" => o.max_total_unready_percentage = float(v, flag)?,
        "ok-total-unready-count" => o.ok_total_unready_count = int(v, flag)?,
        "write-status-configmap" => o.write_status_configmap = boolean(v, flag)?,
        "status-config-map-name" => o.status_config_map_name = v.to_string(),
        "namespace" => o.namespace = v.to_string(),
        "record-duplicated-events" => o.record_duplicated_events = boolean(v, flag)?,
        "enforce-node-group-min-size" => o.enforce_node_group_min_size = boolean(v, flag)?,
        "scale-up-from-zero" => o.scale_up_from_zero = boolean(v, flag)?,
        "expendable-pods-priority-cutoff" => o.expendable_pods_priority_cutoff = int(v, flag)?,
        f if BOOLS.contains(&f) => {
            boolean(v, f)?;
        }
        f if IGNORED.contains(&f) => {}
        f => return Err(OptionsError(format!("unknown flag: --{f}"))),
    }
    Ok(())
}

/// `config/dynamic/node_group_spec.go::SpecFromString`; `zero_ok` when the provider can scale
/// to zero (magnum since 1.22).
pub fn parse_node_group_spec(spec: &str, zero_ok: bool) -> Result<NodeGroupSpec, OptionsError> {
    let tokens: Vec<&str> = spec.splitn(3, ':').collect();
    let [min, max, name] = tokens.as_slice() else {
        return Err(OptionsError(format!("wrong nodes configuration: {spec}")));
    };
    let min: i64 = min
        .parse()
        .map_err(|_| OptionsError(format!("failed to set min size: {min}, expected integer")))?;
    let max: i64 = max
        .parse()
        .map_err(|_| OptionsError(format!("failed to set max size: {max}, expected integer")))?;
    let invalid = |why: &str| Err(OptionsError(format!("invalid node group spec: {why}")));
    if zero_ok && min < 0 {
        return invalid("min size must be >= 0");
    }
    if !zero_ok && min <= 0 {
        return invalid("min size must be >= 1");
    }
    if max < min {
        return invalid("max size must be greater or equal to min size");
    }
    if name.is_empty() {
        return invalid("name must not be blank");
    }
    let (Ok(min), Ok(max)) = (u32::try_from(min), u32::try_from(max)) else {
        return Err(OptionsError(format!("wrong nodes configuration: {spec}")));
    };
    Ok(NodeGroupSpec {
        min,
        max,
        name: name.to_string(),
    })
}

/// The fatal start-up line for a bad `--nodes` value.
pub fn fatal_node_group_spec(spec: &str, err: &OptionsError) -> String {
    format!("Could not parse node group spec {spec}: {err}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn incident_flags_and_defaults() {
        let o = parse_args(&args(&[
            "--cloud-provider=magnum",
            "--cluster-name=k8s",
            "--cloud-config=/config/cloud-config",
            "--nodes=1:6:DefaultNodeGroup",
            "--v=4",
            "--logtostderr",
        ]))
        .unwrap();
        assert_eq!(o.cloud_provider, "magnum");
        assert_eq!(o.nodes, ["1:6:DefaultNodeGroup"]);
        assert_eq!(o.scan_interval, SimDuration::from_secs(10));
        assert_eq!(o.expander, [ExpanderName::Random]);
        assert_eq!(o.max_node_provision_time, SimDuration::from_mins(15));
        assert_eq!(o.cores_total, (0, 320_000));
        assert_eq!(
            parse_node_group_spec("1:6:DefaultNodeGroup", true),
            Ok(NodeGroupSpec {
                min: 1,
                max: 6,
                name: "DefaultNodeGroup".into()
            })
        );
    }

    #[test]
    fn both_flag_forms_and_booleans() {
        let o = parse_args(&args(&[
            "--scan-interval",
            "30s",
            "--balance-similar-node-groups",
            "--write-status-configmap=false",
            "--max-nodes-total",
            "7",
        ]))
        .unwrap();
        assert_eq!(o.scan_interval, SimDuration::from_secs(30));
        assert!(o.balance_similar_node_groups);
        assert!(!o.write_status_configmap);
        assert_eq!(o.max_nodes_total, 7);
    }

    #[test]
    fn pflag_errors() {
        let e = |a: &[&str]| parse_args(&args(a)).unwrap_err().to_string();
        assert_eq!(e(&["--foo=1"]), "unknown flag: --foo");
        assert_eq!(
            e(&["--scan-interval=10x"]),
            "invalid argument \"10x\" for \"--scan-interval\" flag: time: invalid duration \"10x\""
        );
        assert_eq!(e(&["--max-nodes-total=many"]), "invalid argument \"many\" for \"--max-nodes-total\" flag: strconv.ParseInt: parsing \"many\": invalid syntax");
        assert_eq!(
            e(&["--scan-interval"]),
            "flag needs an argument: --scan-interval"
        );
        assert_eq!(
            e(&["--cores-total=8:4"]),
            "Failed to parse flags: max size must be greater or equal to min size"
        );
    }

    #[test]
    fn expander_chain_rules() {
        let e = |v: &str| {
            parse_args(&args(&[&format!("--expander={v}")]))
                .map(|o| o.expander)
                .map_err(|e| e.to_string())
        };
        assert_eq!(
            e("least-waste,priority"),
            Ok(vec![ExpanderName::LeastWaste, ExpanderName::Priority])
        );
        assert_eq!(e("bogus"), Err("Expander bogus not supported".into()));
        assert_eq!(e("priority,priority"), Err("Expander priority was specified multiple times, each expander must not be specified more than once".into()));
        assert_eq!(
            e("random,most-pods"),
            Err("Expander most-pods came after an expander random that will always return only one result, this is not allowed since most-pods will never be used".into())
        );
    }

    #[test]
    fn node_group_spec_errors() {
        let e = |s: &str, z: bool| parse_node_group_spec(s, z).unwrap_err().to_string();
        assert_eq!(e("1:6", true), "wrong nodes configuration: 1:6");
        assert_eq!(
            e("x:6:g", true),
            "failed to set min size: x, expected integer"
        );
        assert_eq!(
            e("1:y:g", true),
            "failed to set max size: y, expected integer"
        );
        assert_eq!(
            e("-1:6:g", true),
            "invalid node group spec: min size must be >= 0"
        );
        assert_eq!(
            e("0:6:g", false),
            "invalid node group spec: min size must be >= 1"
        );
        assert_eq!(
            e("3:2:g", true),
            "invalid node group spec: max size must be greater or equal to min size"
        );
        assert_eq!(
            e("1:2:", true),
            "invalid node group spec: name must not be blank"
        );
        assert_eq!(
            fatal_node_group_spec("1:2:", &parse_node_group_spec("1:2:", true).unwrap_err()),
            "Could not parse node group spec 1:2:: invalid node group spec: name must not be blank"
        );
    }
}
