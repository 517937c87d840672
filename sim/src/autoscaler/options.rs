// TEMPORARY STUB — replaced by the helper's module.
use crate::time::SimDuration;
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
#[derive(Clone, Debug, PartialEq)]
pub struct AutoscalerOptions {
    pub cloud_provider: String,
    pub cluster_name: Option<String>,
    pub cloud_config: Option<String>,
    pub node_groups: Vec<NodeGroupSpec>,
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
    fn default() -> Self {
        AutoscalerOptions {
            cloud_provider: String::new(),
            cluster_name: None,
            cloud_config: None,
            node_groups: vec![],
            node_group_auto_discovery: vec![],
            scan_interval: SimDuration::from_secs(10),
            expander: vec![ExpanderName::Random],
            max_nodes_total: 0,
            cores_total: (0, 320000),
            memory_total_gib: (0, 6400000),
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
            balancing_ignore_labels: vec![],
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
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct OptionsError(pub String);
pub fn parse_args(args: &[String]) -> Result<AutoscalerOptions, OptionsError> {
    let mut o = AutoscalerOptions::default();
    for a in args {
        let (k, v) = a.split_once('=').unwrap_or((a, "true"));
        match k {
            "--cloud-provider" => o.cloud_provider = v.into(),
            "--cluster-name" => o.cluster_name = Some(v.into()),
            "--cloud-config" => o.cloud_config = Some(v.into()),
            "--nodes" => {
                let p: Vec<&str> = v.split(':').collect();
                o.node_groups.push(NodeGroupSpec {
                    min: p[0].parse().unwrap_or(0),
                    max: p[1].parse().unwrap_or(0),
                    name: p[2].into(),
                })
            }
            "--node-group-auto-discovery" => o.node_group_auto_discovery.push(v.into()),
            "--max-nodes-total" => o.max_nodes_total = v.parse().unwrap_or(0),
            "--balance-similar-node-groups" => o.balance_similar_node_groups = v == "true",
            "--expander" => {
                o.expander = v
                    .split(',')
                    .map(|e| match e {
                        "most-pods" => ExpanderName::MostPods,
                        "least-waste" => ExpanderName::LeastWaste,
                        "priority" => ExpanderName::Priority,
                        _ => ExpanderName::Random,
                    })
                    .collect()
            }
            _ => {}
        }
    }
    Ok(o)
}
