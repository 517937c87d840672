//! The magnum-capi-helm driver's mapping from Magnum records to Cluster API
//! MachineDeployments, which is where Jetstream2's managed autoscaler reads its limits.

use super::magnum::{Cluster, Driver, Nodegroup};
use crate::kube::{Labels, Taint, TaintEffect};
use crate::resources::{parse_bytes, parse_cpu, Resources};
use crate::time::SimTime;
use std::collections::BTreeMap;

pub const MIN_SIZE_ANNOTATION: &str = "cluster.x-k8s.io/cluster-api-autoscaler-node-group-min-size";
pub const MAX_SIZE_ANNOTATION: &str = "cluster.x-k8s.io/cluster-api-autoscaler-node-group-max-size";

/// The prefix of the clusterapi provider's scale-from-zero annotations (`clusterapi_utils.go`):
/// `cpu`, `memory`, `ephemeral-disk`, `gpu-type`, `gpu-count`, `maxPods`, `labels`, `taints`.
pub const CAPACITY_PREFIX: &str = "capacity.cluster-autoscaler.kubernetes.io/";

/// `maxPods` when the annotation does not say (`clusterapi_unstructured.go`, `defaultMaxPods`).
pub const DEFAULT_MAX_PODS: u64 = 110;

/// What the clusterapi provider builds a template node from when a deployment has no node to
/// copy: its scale-from-zero annotations (`InstanceCapacity`, `Labels`, `Taints`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ZeroCapacity {
    /// Capacity, which is also the template's allocatable.
    pub capacity: Resources,
    /// From the `labels` annotation (`k1=v1,k2=v2`).
    pub labels: Labels,
    /// From the `taints` annotation (`k=v:Effect,...`; malformed entries are skipped).
    pub taints: Vec<Taint>,
}

/// A MachineDeployment in the management cluster (`magnum-<project>` namespace).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MachineDeployment {
    pub name: String,
    pub namespace: String,
    /// The Magnum nodegroup this deployment renders.
    pub nodegroup: String,
    pub replicas: u32,
    pub annotations: BTreeMap<String, String>,
    /// When the simulated autoscaler last resized it in memory (its `SetSize`, which no API
    /// request carries): the time the API server's record of who owns `replicas` gives it.
    pub autoscaled_at: Option<SimTime>,
}

impl MachineDeployment {
    /// The cluster-autoscaler's node group id: `MachineDeployment/<namespace>/<name>`.
    pub fn group_id(&self) -> String {
        format!("MachineDeployment/{}/{}", self.namespace, self.name)
    }

    /// `CanScaleFromZero` and `InstanceCapacity` (`clusterapi_unstructured.go`): the capacity
    /// annotations when they give both CPU and memory (non-zero), else `None`; a value that is
    /// not a quantity (an integer for `gpu-count` and `maxPods`) makes it `None` too, as the
    /// provider's parse error does. No infrastructure template is consulted: CAPO's
    /// OpenStackMachineTemplate publishes no `status.capacity`. Of GPU types only
    /// `nvidia.com/gpu` counts (the extended resource magsim models).
    pub fn zero_capacity(&self) -> Option<ZeroCapacity> {
        let get = |key: &str| {
            self.annotations
                .get(&format!("{CAPACITY_PREFIX}{key}"))
                .filter(|v| !v.is_empty())
        };
        let quantity = |key: &str, parse: fn(&str) -> Result<u64, _>| -> Result<u64, ()> {
            get(key).map_or(Ok(0), |v| {
                parse(v).map_err(|_: crate::resources::QuantityError| ())
            })
        };
        let integer = |key: &str| -> Result<u64, ()> {
            get(key).map_or(Ok(0), |v| v.parse::<u64>().map_err(|_| ()))
        };
        let milli_cpu = quantity("cpu", parse_cpu).ok()?;
        let memory = quantity("memory", parse_bytes).ok()?;
        let ephemeral_storage = quantity("ephemeral-disk", parse_bytes).ok()?;
        let gpu_count = integer("gpu-count").ok()?;
        let pods = integer("maxPods").ok()?;
        if milli_cpu == 0 || memory == 0 {
            return None;
        }
        let gpus = match get("gpu-type") {
            Some(t) if t == "nvidia.com/gpu" => gpu_count,
            _ => 0,
        };
        let labels = get("labels")
            .map(|v| {
                v.split(',')
                    .filter_map(|kv| kv.split_once('='))
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect()
            })
            .unwrap_or_default();
        let taints = get("taints")
            .map(|v| v.split(',').filter_map(annotation_taint).collect())
            .unwrap_or_default();
        Some(ZeroCapacity {
            capacity: Resources {
                milli_cpu,
                memory,
                pods: if pods == 0 { DEFAULT_MAX_PODS } else { pods },
                gpus,
                ephemeral_storage,
            },
            labels,
            taints,
        })
    }

    /// The autoscaler bounds from the annotations; `None` when the deployment is not autoscaled
    /// (clusterapi provider: missing annotations, or max 0).
    pub fn bounds(&self) -> Result<Option<(u32, u32)>, String> {
        let read = |key: &str, what: &str| -> Result<Option<u32>, String> {
            match self.annotations.get(key) {
                None => Ok(None),
                Some(v) => v.parse::<u32>().map(Some).map_err(|_| {
                    format!("error validating min/max annotations: invalid {what} annotation")
                }),
            }
        };
        let min = read(MIN_SIZE_ANNOTATION, "min")?.unwrap_or(0);
        let Some(max) = read(MAX_SIZE_ANNOTATION, "max")? else {
            return Ok(None);
        };
        if max < min {
            return Err("error validating min/max annotations: invalid max annotation".into());
        }
        Ok((max > 0).then_some((min, max)))
    }
}

/// One entry of the `taints` annotation, `key=value:Effect`, as 1.30's `Taints` splits it.
fn annotation_taint(entry: &str) -> Option<Taint> {
    let (kv, effect) = entry.split_once(':')?;
    let (key, value) = kv.split_once('=')?;
    if value.contains('=') {
        return None;
    }
    Some(Taint::new(key, value, TaintEffect::parse(effect)?))
}

/// The driver's answer for one nodegroup: autoscaled between bounds, or a fixed count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scaling {
    Autoscaled { min: u32, max: u32 },
    Fixed(u32),
}

fn label_u32(labels: &indexmap::IndexMap<String, String>, key: &str) -> Option<u32> {
    labels.get(key).and_then(|v| v.trim().parse().ok())
}

/// `_get_node_counts`: where the autoscaler's bounds come from for one nodegroup.
///
/// From 1.1.0: min = max = node_count, then the nodegroup's fields, then for the *default
/// worker* the cluster labels `min_node_count`/`max_node_count` override both (a nodegroup
/// `min_node_count` of 1 counts as unset there). In 1.0.0 the nodegroup's `max_node_count`
/// wins and labels are only a fallback.
pub fn node_counts(cluster: &Cluster, ng: &Nodegroup) -> (u32, u32) {
    let Driver::CapiHelm { major, minor, .. } = cluster.driver else {
        return (
            ng.min_node_count,
            ng.max_node_count.unwrap_or(ng.node_count),
        );
    };
    let labels = &cluster.labels;
    if (major, minor) >= (1, 1) {
        let mut min = ng.node_count;
        let mut max = ng.max_node_count.unwrap_or(ng.node_count);
        // Magnum stores 0 when no minimum was given (`min_node_count` is never None), so a
        // nodegroup created later always brings its own, 0 included; magsim reads 0 on a
        // default group as unset, as the scenarios written before nodegroup create do.
        if !ng.is_default || ng.min_node_count > 1 {
            min = ng.min_node_count;
        }
        if ng.is_default {
            min = label_u32(labels, "min_node_count").unwrap_or(min);
            max = label_u32(labels, "max_node_count").unwrap_or(max);
        }
        (min, max)
    } else {
        let min = if ng.min_node_count > 0 {
            ng.min_node_count
        } else {
            label_u32(labels, "min_node_count").unwrap_or(ng.node_count)
        };
        let max = ng
            .max_node_count
            .or_else(|| label_u32(labels, "max_node_count"))
            .unwrap_or(ng.node_count);
        (min, max)
    }
}

/// Where the driver took a nodegroup's autoscaler bounds from, in words, for `explain`.
pub fn bounds_source(cluster: &Cluster, ng: &Nodegroup) -> String {
    let (min, max) = node_counts(cluster, ng);
    let field = ng
        .max_node_count
        .map_or("None".to_string(), |m| m.to_string());
    let label = cluster.labels.get("max_node_count");
    let Driver::CapiHelm {
        major,
        minor,
        patch,
    } = cluster.driver
    else {
        return format!(
            "{min}..{max} from nodegroup {} (min_node_count={}, max_node_count={field})",
            ng.name, ng.min_node_count
        );
    };
    let driver = format!("magnum-capi-helm {major}.{minor}.{patch}");
    match (label, (major, minor) >= (1, 1) && ng.is_default) {
        (Some(l), true) => format!(
            "{min}..{max} rendered by {driver} from cluster label max_node_count={l}; the label overrides the default worker's nodegroup max_node_count={field}"
        ),
        (Some(l), false) if ng.max_node_count.is_none() => {
            format!("{min}..{max} rendered by {driver} from cluster label max_node_count={l} (nodegroup max_node_count is None)")
        }
        _ => format!("{min}..{max} rendered by {driver} from nodegroup {} max_node_count={field}", ng.name),
    }
}

/// How the Helm values come out for one nodegroup, with the driver's conductor-side checks
/// (`_validate_allowed_node_counts`), whose failures become `UPDATE_FAILED` + `status_reason`.
pub fn scaling(cluster: &Cluster, ng: &Nodegroup) -> Result<Scaling, String> {
    let enabled = cluster
        .labels
        .get("auto_scaling_enabled")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let (min, max) = node_counts(cluster, ng);
    // `_get_autoscale_values` validates before it asks whether to autoscale.
    if min < 1 {
        return Err(
            "Min node count must be greater than or equal to 1 for all node groups.".into(),
        );
    }
    if min > ng.node_count {
        return Err("Min node count must be less than or equal to current node count".into());
    }
    if max < min {
        return Err("Max node count must be greater than or equal to min node count".into());
    }
    if !enabled || min == max {
        return Ok(Scaling::Fixed(ng.node_count));
    }
    Ok(Scaling::Autoscaled { min, max })
}

/// The release of a cluster that already exists when the scenario starts: every worker
/// nodegroup has its MachineDeployment at `node_count` replicas, then the driver's render
/// annotates the ones it accepts. A nodegroup today's driver would refuse (the scenario says
/// it exists all the same) keeps a deployment without bounds; the error is returned.
pub fn bootstrap(cluster: &Cluster, mds: &mut Vec<MachineDeployment>) -> Result<(), String> {
    for ng in cluster.nodegroups.iter().filter(|n| !n.is_master()) {
        if !mds.iter().any(|m| m.nodegroup == ng.name) {
            mds.push(deployment_of(cluster, ng));
        }
    }
    render(cluster, mds, None)
}

/// A nodegroup's MachineDeployment as the chart first makes it: `<stack_id>-<name>` in the
/// project's `magnum-<project id>` namespace, at `node_count` replicas, no annotations yet.
fn deployment_of(cluster: &Cluster, ng: &Nodegroup) -> MachineDeployment {
    let project: String = cluster
        .project_id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    MachineDeployment {
        name: format!("{}-{}", cluster.stack_id, ng.name),
        namespace: format!("magnum-{}", project.to_lowercase()),
        nodegroup: ng.name.clone(),
        replicas: ng.node_count,
        annotations: BTreeMap::new(),
        autoscaled_at: None,
    }
}

/// Re-renders the Helm release: updates `mds` in place (creating missing ones) and returns the
/// driver error for the first nodegroup that fails validation, if any.
///
/// With autoscaling the chart omits `replicas`, so the autoscaler's count is kept; a Magnum
/// resize still sets it (`resize` is true), which is how `coe cluster resize` adds a node.
pub fn render(
    cluster: &Cluster,
    mds: &mut Vec<MachineDeployment>,
    resized: Option<&str>,
) -> Result<(), String> {
    for ng in cluster.nodegroups.iter().filter(|n| !n.is_master()) {
        let scaling = scaling(cluster, ng)?;
        let idx = match mds.iter().position(|m| m.nodegroup == ng.name) {
            Some(i) => i,
            None => {
                mds.push(deployment_of(cluster, ng));
                mds.len() - 1
            }
        };
        let md = &mut mds[idx];
        match scaling {
            Scaling::Autoscaled { min, max } => {
                md.annotations
                    .insert(MIN_SIZE_ANNOTATION.into(), min.to_string());
                md.annotations
                    .insert(MAX_SIZE_ANNOTATION.into(), max.to_string());
                if resized == Some(ng.name.as_str()) {
                    md.replicas = ng.node_count;
                }
            }
            Scaling::Fixed(n) => {
                md.annotations.remove(MIN_SIZE_ANNOTATION);
                md.annotations.remove(MAX_SIZE_ANNOTATION);
                md.replicas = n;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::magnum::tests::incident_cluster;

    #[test]
    fn labels_win_for_the_default_worker_from_1_1_0() {
        let c = incident_cluster();
        assert_eq!(node_counts(&c, &c.nodegroups[0]), (1, 5));
        let mut mds = Vec::new();
        render(&c, &mut mds, None).unwrap();
        assert_eq!(mds[0].group_id(), "MachineDeployment/magnum-0123456789abcdef0123456789abcdef/k8s-wamiv264xiet-default-worker");
        assert_eq!(mds[0].bounds(), Ok(Some((1, 5))));
        assert_eq!(mds[0].replicas, 5);
    }

    #[test]
    fn nodegroup_field_wins_in_1_0_0() {
        let mut c = incident_cluster();
        c.driver = Driver::CapiHelm {
            major: 1,
            minor: 0,
            patch: 0,
        };
        assert_eq!(node_counts(&c, &c.nodegroups[0]), (1, 6));
    }

    #[test]
    fn no_label_means_the_nodegroup_field() {
        let mut c = incident_cluster();
        c.labels.shift_remove("max_node_count");
        assert_eq!(node_counts(&c, &c.nodegroups[0]), (1, 6));
    }

    #[test]
    fn disabled_autoscaling_fixes_replicas_and_drops_annotations() {
        let mut c = incident_cluster();
        let mut mds = Vec::new();
        render(&c, &mut mds, None).unwrap();
        c.labels
            .insert("auto_scaling_enabled".into(), "false".into());
        render(&c, &mut mds, None).unwrap();
        assert_eq!(mds[0].bounds(), Ok(None));
    }

    #[test]
    fn scale_from_zero_needs_cpu_and_memory_annotations() {
        let mut md = MachineDeployment {
            name: "gpu".into(),
            namespace: "n".into(),
            nodegroup: "gpu".into(),
            replicas: 0,
            annotations: BTreeMap::new(),
            autoscaled_at: None,
        };
        let mut set = |k: &str, v: &str| {
            md.annotations
                .insert(format!("{CAPACITY_PREFIX}{k}"), v.into());
        };
        set("cpu", "8");
        set("gpu-type", "nvidia.com/gpu");
        set("gpu-count", "1");
        set("labels", "nvidia.com/gpu.present=true,broken");
        set("taints", "gpu=yes:NoSchedule,bad:NoSchedule");
        assert_eq!(md.zero_capacity(), None, "memory is missing");
        md.annotations
            .insert(format!("{CAPACITY_PREFIX}memory"), "30Gi".into());
        let z = md.zero_capacity().expect("cpu and memory given");
        assert_eq!(z.capacity.milli_cpu, 8000);
        assert_eq!(z.capacity.memory, 30 << 30);
        assert_eq!(z.capacity.pods, DEFAULT_MAX_PODS);
        assert_eq!(z.capacity.gpus, 1);
        assert_eq!(z.labels.len(), 1);
        assert_eq!(
            z.taints,
            vec![Taint::new("gpu", "yes", TaintEffect::NoSchedule)]
        );
        md.annotations
            .insert(format!("{CAPACITY_PREFIX}maxPods"), "many".into());
        assert_eq!(md.zero_capacity(), None, "a parse error is no capacity");
    }

    #[test]
    fn bad_annotations_are_reported_like_the_clusterapi_provider() {
        let mut md = MachineDeployment {
            name: "x".into(),
            namespace: "n".into(),
            nodegroup: "g".into(),
            replicas: 1,
            annotations: BTreeMap::new(),
            autoscaled_at: None,
        };
        md.annotations
            .insert(MAX_SIZE_ANNOTATION.into(), "six".into());
        assert_eq!(
            md.bounds(),
            Err("error validating min/max annotations: invalid max annotation".into())
        );
    }
}
