//! The YAML schema, as serde structs. Unknown fields are errors, so typos never pass silently.

use crate::error::{LoadError, Located};
use crate::values::{Bytes, CommandLine, Cpu, Duration, Text};
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub seed: u64,
    /// UTC start of the virtual clock, `2025-11-10T14:00:00Z`.
    pub start: Option<String>,
    /// How long to run; defaults to one minute past the last step.
    pub duration: Option<Duration>,
    /// Mirror one of upstream's scale-up unit tests (see `magsim_sim::autoscaler::harness`).
    pub harness: Option<RawHarness>,
    pub cloud: RawCloud,
    /// Faults on the cloud's APIs (see `magsim_sim::cloud::faults`).
    #[serde(default)]
    pub faults: RawFaults,
    #[serde(default)]
    pub autoscalers: Vec<RawAutoscaler>,
    #[serde(default)]
    pub workload: RawWorkload,
    #[serde(default)]
    pub steps: Vec<RawStep>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFaults {
    /// Requests that fail with the API's own error, answer late, or lose their connection.
    #[serde(default)]
    pub requests: Vec<RawRequestFault>,
    /// When Keystone revokes every token issued so far (from the start of the run).
    #[serde(default)]
    pub expire_tokens: Vec<Duration>,
}

/// One request fault: exactly one of `error`, `latency` and `drop`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRequestFault {
    /// `identity`, `container-infra`, `orchestration` or `compute`.
    pub service: String,
    pub method: Option<String>,
    /// The request path; a `*` segment matches any one segment.
    pub path: Option<String>,
    /// Answer with this status and the service's own error body.
    pub error: Option<u16>,
    /// Answer this much later.
    pub latency: Option<Duration>,
    /// Close the connection without answering.
    #[serde(default)]
    pub drop: bool,
    /// Only the first N matching requests.
    pub times: Option<u32>,
    /// Active from this time (default: the start).
    pub from: Option<Duration>,
    /// Active until this time (default: the end).
    pub until: Option<Duration>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCloud {
    #[serde(default = "default_project")]
    pub project_id: String,
    /// Server create until the node registers.
    pub boot_delay: Option<Duration>,
    /// Registration until Ready.
    pub node_ready_delay: Option<Duration>,
    /// Flavors beyond Jetstream2's.
    #[serde(default)]
    pub flavors: Vec<RawFlavor>,
    /// The Magnum cluster; a scenario has this or `test_provider`.
    pub cluster: Option<RawCluster>,
    /// Upstream's test cloud provider: plain node groups and nodes, no Magnum.
    pub test_provider: Option<RawTestProvider>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHarness {
    /// `ExpansionOptionToChoose`: the option the mock expander picks.
    pub choose: Option<RawOptionChoice>,
    /// Run the production estimator thresholds (default: off, as upstream's tests).
    #[serde(default)]
    pub estimator_limits: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOptionChoice {
    pub group: String,
    pub nodes: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTestProvider {
    /// Groups with explicit bounds; groups named only by nodes get min 1, max 10.
    #[serde(default)]
    pub groups: Vec<RawTestGroup>,
    #[serde(default)]
    pub nodes: Vec<RawTestNode>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTestGroup {
    pub name: String,
    #[serde(default = "one")]
    pub min: u32,
    #[serde(default = "ten")]
    pub max: u32,
    /// Target size; defaults to the number of its nodes.
    pub size: Option<u32>,
    /// The node the group would add, for a group with no Ready node.
    pub template: Option<RawTestNodeShape>,
}

fn one() -> u32 {
    1
}

fn ten() -> u32 {
    10
}

/// A node as upstream's `BuildTestNode(name, millicpu, mem)` builds it: capacity equals
/// allocatable, 100 pods, no labels; `gpu` as `AddGpusToNode` (capacity, the
/// `nvidia.com/gpu=present:NoSchedule` taint and the test GPU label).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTestNodeShape {
    pub cpu: Cpu,
    pub memory: Bytes,
    #[serde(default)]
    pub gpu: u64,
    #[serde(default = "hundred")]
    pub pods: u64,
    #[serde(default)]
    pub labels: BTreeMap<String, Text>,
}

fn hundred() -> u64 {
    100
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTestNode {
    pub name: String,
    pub cpu: Cpu,
    pub memory: Bytes,
    #[serde(default)]
    pub gpu: u64,
    #[serde(default = "hundred")]
    pub pods: u64,
    #[serde(default)]
    pub labels: BTreeMap<String, Text>,
    #[serde(default = "yes")]
    pub ready: bool,
    /// The node's group; none for a node no group owns.
    pub group: Option<String>,
}

fn default_project() -> String {
    "83bd0e70b4ba4cd092c2fb82b1ce06fb".into()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFlavor {
    pub name: String,
    pub vcpus: u64,
    pub ram_gib: u64,
    #[serde(default)]
    pub disk_gb: u64,
    #[serde(default)]
    pub gpus: u64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCluster {
    pub name: String,
    pub uuid: Option<String>,
    /// Helm release name (CAPI) or stack id (Heat).
    pub stack_id: Option<String>,
    #[serde(default = "default_driver")]
    pub driver: String,
    pub driver_version: Option<String>,
    /// Kept in file order: python-openstackclient prints them in the order Magnum stores them.
    #[serde(default)]
    pub labels: indexmap::IndexMap<String, Text>,
    #[serde(default = "default_coe_version")]
    pub coe_version: String,
    /// The cluster template's name; Jetstream2's for `coe_version` by default
    /// (`kubernetes-1-30-jammy`).
    pub template: Option<String>,
    pub nodegroups: Vec<RawNodegroup>,
}

fn default_driver() -> String {
    "magnum-capi-helm".into()
}

fn default_coe_version() -> String {
    "v1.30.4".into()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNodegroup {
    pub name: String,
    pub flavor: String,
    pub node_count: u32,
    #[serde(default)]
    pub role: Option<String>,
    pub min_node_count: Option<u32>,
    pub max_node_count: Option<u32>,
    /// Defaults to true for `default-worker` and `default-master`.
    pub is_default: Option<bool>,
    pub uuid: Option<String>,
    /// Extra labels on this group's nodes.
    #[serde(default)]
    pub node_labels: BTreeMap<String, Text>,
    /// Taints on this group's nodes, `key=value:Effect`.
    #[serde(default)]
    pub node_taints: Vec<String>,
    /// An injected fault: `never-ready` (new servers never register as nodes) or `not-ready`
    /// (their nodes register but never become Ready).
    pub fault: Option<String>,
    /// magnum-capi-helm: annotations an operator put on this nodegroup's MachineDeployment in
    /// the management cluster before the scenario starts (the clusterapi provider's
    /// `...-min-size`/`-max-size` and `capacity.cluster-autoscaler.kubernetes.io/*`
    /// scale-from-zero keys), kept over what the driver renders.
    #[serde(default)]
    pub machine_deployment_annotations: BTreeMap<String, Text>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAutoscaler {
    pub name: String,
    /// `managed` (run by the cloud, outside the cluster) or `in-cluster`.
    #[serde(default = "default_placement")]
    pub placement: String,
    #[serde(default = "default_namespace_ks")]
    pub namespace: String,
    #[serde(default = "default_image")]
    pub image: String,
    #[serde(default)]
    pub args: Vec<String>,
    /// Files in the container by path (a managed autoscaler's cloud-config).
    #[serde(default)]
    pub files: BTreeMap<String, String>,
    #[serde(default)]
    pub mounts: Vec<RawMount>,
    /// `yaml` (1.30+) or `legacy` (the text format of 1.29 and earlier).
    pub status_format: Option<String>,
}

fn default_placement() -> String {
    "managed".into()
}

fn default_namespace_ks() -> String {
    "kube-system".into()
}

fn default_image() -> String {
    "registry.k8s.io/autoscaling/cluster-autoscaler:v1.30.2".into()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMount {
    pub mount_path: String,
    pub secret: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWorkload {
    #[serde(default)]
    pub deployments: Vec<RawDeployment>,
    #[serde(default)]
    pub secrets: Vec<RawSecret>,
    /// Bare pods with no controller (upstream's `BuildTestPod`): each is its own
    /// equivalence group.
    #[serde(default)]
    pub pods: Vec<RawPod>,
    /// The priority expander's ConfigMap `priorities`: priority → group-id regexes.
    pub priority_expander: Option<BTreeMap<i64, Vec<String>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDeployment {
    pub name: String,
    #[serde(default = "default_namespace")]
    pub namespace: String,
    pub replicas: u32,
    #[serde(default)]
    pub labels: BTreeMap<String, Text>,
    /// Names for the first pods, e.g. `high-memory-deployment-844964899f-4md88`.
    #[serde(default)]
    pub pod_names: Vec<String>,
    pub template_hash: Option<String>,
    #[serde(default)]
    pub requests: RawRequests,
    #[serde(default)]
    pub node_selector: BTreeMap<String, Text>,
    /// Required node affinity: a list of terms, each a list of `{key, operator, values}`.
    #[serde(default)]
    pub node_affinity: Vec<Vec<RawRequirement>>,
    #[serde(default)]
    pub tolerations: Vec<RawToleration>,
    #[serde(default)]
    pub host_ports: Vec<u16>,
    #[serde(default)]
    pub priority: i32,
    pub node_name: Option<String>,
    pub image: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPod {
    pub name: String,
    #[serde(default = "default_namespace")]
    pub namespace: String,
    pub cpu: Option<Cpu>,
    pub memory: Option<Bytes>,
    #[serde(default)]
    pub gpu: u64,
    /// Bound to this node from the start.
    pub node: Option<String>,
    /// `TolerateGpuForPod`: tolerates `nvidia.com/gpu` (operator Exists).
    #[serde(default)]
    pub tolerates_gpu: bool,
    #[serde(default)]
    pub host_ports: Vec<u16>,
    #[serde(default)]
    pub labels: BTreeMap<String, Text>,
    /// `topologySpreadConstraints` with `whenUnsatisfiable: DoNotSchedule`.
    #[serde(default)]
    pub topology_spread: Vec<RawTopologySpread>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTopologySpread {
    pub max_skew: u32,
    /// `kubernetes.io/hostname` or `topology.kubernetes.io/zone`.
    pub topology_key: String,
    /// Pods counted: those with all these labels (`matchLabels`).
    pub match_labels: BTreeMap<String, Text>,
}

pub fn default_namespace() -> String {
    "default".into()
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRequests {
    pub cpu: Option<Cpu>,
    pub memory: Option<Bytes>,
    #[serde(default, rename = "nvidia.com/gpu", alias = "gpu")]
    pub gpu: u64,
    #[serde(rename = "ephemeral-storage")]
    pub ephemeral_storage: Option<Bytes>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRequirement {
    pub key: String,
    pub operator: String,
    #[serde(default)]
    pub values: Vec<Text>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawToleration {
    #[serde(default)]
    pub key: String,
    #[serde(default = "default_tol_op")]
    pub operator: String,
    #[serde(default)]
    pub value: String,
    pub effect: Option<String>,
}

fn default_tol_op() -> String {
    "Equal".into()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSecret {
    pub name: String,
    #[serde(default = "default_namespace_ks")]
    pub namespace: String,
    pub data: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStep {
    pub at: Duration,
    /// A short label for the timeline.
    pub note: Option<String>,
    /// A command line exactly as typed.
    pub run: Option<CommandLine>,
    /// The manifest `kubectl apply -f -` reads.
    pub manifest: Option<String>,
    /// A structured operation instead of a command line.
    #[serde(rename = "do")]
    pub action: Option<RawAction>,
    /// Answer Magnum calls with this `x-openstack-request-id` (a recorded one).
    pub request_id: Option<String>,
    #[serde(default)]
    pub expect: Option<Expect>,
}

/// Structured operations: exactly one key per step.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAction {
    /// Cloud operator: set (string) or remove (null) cluster labels behind the API.
    pub admin_set_cluster_labels: Option<indexmap::IndexMap<String, Option<Text>>>,
    /// Cloud operator: restart a managed autoscaler with new flags.
    pub admin_set_autoscaler_args: Option<RawAutoscalerArgs>,
    pub scale: Option<RawScale>,
    pub update_nodegroup: Option<RawNodegroupUpdate>,
    pub resize: Option<RawResize>,
    pub cordon: Option<String>,
    pub uncordon: Option<String>,
    pub deploy_autoscaler: Option<RawAutoscaler>,
    pub remove_autoscaler: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAutoscalerArgs {
    pub autoscaler: String,
    pub args: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScale {
    pub deployment: String,
    #[serde(default = "default_namespace")]
    pub namespace: String,
    pub replicas: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNodegroupUpdate {
    pub nodegroup: String,
    pub min_node_count: Option<u32>,
    pub max_node_count: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawResize {
    pub nodegroup: Option<String>,
    pub node_count: i64,
}

/// What must hold after a step.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// HTTP status of the step's API call.
    pub status: Option<u16>,
    /// Magnum's error title.
    pub title: Option<String>,
    pub request_id: Option<String>,
    /// The client's exit status.
    pub exit_code: Option<i32>,
    /// Exact stdout / stderr of the command, or substrings with `output_contains`.
    pub stdout: Option<String>,
    pub stderr: Option<String>,
    #[serde(default)]
    pub output_contains: Vec<String>,
    #[serde(default)]
    pub output_lacks: Vec<String>,
    /// Substrings that some timeline line so far must contain (the autoscaler's log, the
    /// cloud, kubelet), or that none may contain.
    #[serde(default)]
    pub log_contains: Vec<String>,
    #[serde(default)]
    pub log_lacks: Vec<String>,
    #[serde(default)]
    pub pods: Vec<PodExpect>,
    #[serde(default)]
    pub events: Vec<EventExpect>,
    pub status_configmap: Option<StatusExpect>,
    #[serde(default)]
    pub nodes: Vec<NodeExpect>,
    #[serde(default)]
    pub autoscalers: Vec<AutoscalerExpect>,
    #[serde(default)]
    pub nodegroups: Vec<NodegroupExpect>,
    /// The autoscaler's last scale-up decision, as upstream's tests assert it.
    pub scale_up: Option<ScaleUpExpect>,
}

/// Upstream's `ScaleTestResults`: each field given is compared exactly (lists and maps
/// ignore order, as upstream's assertions do).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScaleUpExpect {
    /// Which autoscaler (default: the first).
    pub autoscaler: Option<String>,
    /// `ExpansionOptions`: group → node count of every option the estimator produced.
    pub options: Option<BTreeMap<String, u32>>,
    /// `GroupSizeChange`s made (after capping and balancing); `{}` for none.
    pub size_changes: Option<BTreeMap<String, u32>>,
    /// `GroupTargetSizes` after the decision.
    pub target_sizes: Option<BTreeMap<String, u32>>,
    /// `PodsTriggeredScaleUp`, `PodsRemainUnschedulable`, `PodsAwaitEvaluation`.
    pub triggered: Option<Vec<String>>,
    pub remaining: Option<Vec<String>>,
    pub awaiting: Option<Vec<String>>,
    /// Skipped groups and why; `{}` for none.
    pub skipped: Option<BTreeMap<String, String>>,
    /// Groups whose template rejected some pod, with the reasons (over all pods).
    pub rejected: Option<BTreeMap<String, Vec<String>>>,
    /// Pods each option would hold (`option.Pods`), by group.
    pub option_pods: Option<BTreeMap<String, Vec<String>>>,
    /// The decision's error, when it failed.
    pub error: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PodExpect {
    /// A pod name, or `deployment/<name>` for all its pods.
    pub name: String,
    #[serde(default = "default_namespace")]
    pub namespace: String,
    /// `Running` or `Pending`.
    pub phase: Option<String>,
    /// `Unschedulable` when the scheduler has tried and failed.
    pub reason: Option<String>,
    /// The exact FailedScheduling message.
    pub message: Option<String>,
    /// How many pods match (for `deployment/<name>`).
    pub count: Option<usize>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventExpect {
    /// `pod/<name>` or `configmap/<name>`.
    pub object: String,
    pub reason: String,
    /// Exact message; `message_contains` for a substring.
    pub message: Option<String>,
    pub message_contains: Option<String>,
    #[serde(rename = "type")]
    pub event_type: Option<String>,
    /// `false` asserts there is no such event.
    #[serde(default = "yes")]
    pub present: bool,
}

fn yes() -> bool {
    true
}

/// Fields of `kube-system/cluster-autoscaler-status`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusExpect {
    /// Which autoscaler's status (default: the first).
    pub autoscaler: Option<String>,
    /// A substring of the node group's name.
    pub node_group: Option<String>,
    #[serde(rename = "maxSize")]
    pub max_size: Option<u32>,
    #[serde(rename = "minSize")]
    pub min_size: Option<u32>,
    #[serde(rename = "cloudProviderTarget")]
    pub target: Option<u32>,
    pub health: Option<String>,
    #[serde(rename = "scaleUp")]
    pub scale_up: Option<String>,
    pub ready: Option<u32>,
    /// Substrings of the ConfigMap's `status` text.
    #[serde(default)]
    pub contains: Vec<String>,
    /// `false` asserts no status was written.
    #[serde(default = "yes")]
    pub present: bool,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeExpect {
    /// Count only this nodegroup's nodes (default: all).
    pub nodegroup: Option<String>,
    pub ready: Option<usize>,
    pub total: Option<usize>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AutoscalerExpect {
    pub name: String,
    /// `Running` or `CrashLoopBackOff`.
    pub state: String,
    pub message: Option<String>,
    pub message_contains: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodegroupExpect {
    pub name: String,
    pub node_count: Option<u32>,
    pub min_node_count: Option<u32>,
    pub max_node_count: Option<u32>,
    /// The MachineDeployment's autoscaler annotations, `min:max`, or `none`.
    pub autoscaler_bounds: Option<String>,
    /// Magnum's `status` (`CREATE_COMPLETE`, `CREATE_FAILED`, ...).
    pub status: Option<String>,
    /// `status_reason`, exactly.
    pub status_reason: Option<String>,
    /// `false`: the nodegroup does not exist (deleted, or never created).
    pub present: Option<bool>,
}

/// Parses YAML into the raw schema, turning serde's errors into `file:line:col: field: message`.
pub fn from_yaml(file: &str, text: &str) -> Result<RawScenario, LoadError> {
    let de = serde_yaml_ng::Deserializer::from_str(text);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let field = e.path().to_string();
        let inner = e.into_inner();
        let loc = inner.location();
        let mut message = inner.to_string();
        if let Some(i) = message.find(" at line ") {
            message.truncate(i);
        }
        // serde_yaml_ng prefixes its own (partial) path; the full one is printed already.
        if let Some((head, rest)) = message.split_once(": ") {
            if !head.contains(' ') && field.starts_with(head) {
                message = rest.to_string();
            }
        }
        // serde_yaml_ng places errors raised inside a value's own Deserialize at the enclosing
        // mapping; the text walk finds the value itself.
        let (mut line, mut column) = (
            loc.as_ref().map(|l| l.line()),
            loc.as_ref().map(|l| l.column()),
        );
        let (l2, c2) = crate::error::locate(text, &field);
        let key_error =
            message.starts_with("unknown field") || message.starts_with("missing field");
        if l2.is_some() && (line.is_none() || l2 > line || (l2 == line && !key_error)) {
            (line, column) = (l2, c2);
        }
        LoadError::At(Located {
            file: file.to_string(),
            line,
            column,
            field,
            message,
        })
    })
}
