//! Scenarios that mirror upstream's unit tests: the test cloud provider's groups and nodes,
//! bare pods as `BuildTestPod` makes them, and the harness (`ExpansionOptionToChoose`).

use crate::format::{RawHarness, RawPod, RawTestNodeShape, RawTestProvider};
use crate::model::Ctx;
use magsim_sim::autoscaler::{Harness, TestGroup};
use magsim_sim::kube::{
    Labels, Node, Pod, PodPhase, PodSpec, ScheduledCondition, Taint, TaintEffect, Toleration,
    TolerationOp, TopologySpread,
};
use magsim_sim::resources::Resources;
use magsim_sim::time::SimTime;
use magsim_sim::world::{NodeShape, World};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Upstream's `test.GPULabel` and `test.DefaultGPUType` (`utils/test/test_utils.go`).
const GPU_LABEL: &str = "TestGPULabel/accelerator";
const DEFAULT_GPU_TYPE: &str = "nvidia-tesla-k80";
const GPU_RESOURCE: &str = "nvidia.com/gpu";

pub(crate) fn harness(raw: &RawHarness) -> Harness {
    Harness {
        choose: raw.choose.as_ref().map(|c| (c.group.clone(), c.nodes)),
        estimator_limits: raw.estimator_limits,
    }
}

/// `BuildTestNode` (+ `AddGpusToNode`): capacity = allocatable.
fn shape(s: &RawTestNodeShape) -> NodeShape {
    node_shape(s.cpu.0, s.memory.0, s.gpu, s.pods, &s.labels)
}

fn node_shape(
    milli_cpu: u64,
    memory: u64,
    gpus: u64,
    pods: u64,
    labels: &BTreeMap<String, crate::values::Text>,
) -> NodeShape {
    let r = Resources {
        milli_cpu,
        memory,
        pods,
        gpus,
        ..Resources::ZERO
    };
    let mut labels: Labels = labels
        .iter()
        .map(|(k, v)| (k.clone(), v.0.clone()))
        .collect();
    let mut taints = Vec::new();
    if gpus > 0 {
        taints.push(Taint::new(GPU_RESOURCE, "present", TaintEffect::NoSchedule));
        labels.insert(GPU_LABEL.into(), DEFAULT_GPU_TYPE.into());
    }
    NodeShape {
        flavor: "test".into(),
        capacity: r,
        allocatable: r,
        labels,
        taints,
    }
}

/// The test provider's groups and nodes. Groups named only by nodes get min 1, max 10 and
/// their node count as size, as `ScaleUpTestConfig` does.
pub(crate) fn build(
    cx: &Ctx,
    raw: &RawTestProvider,
    world: &mut World,
) -> Result<(), crate::LoadError> {
    for (i, g) in raw.groups.iter().enumerate() {
        if raw.groups[..i].iter().any(|o| o.name == g.name) {
            return Err(cx.err(
                &format!("cloud.test_provider.groups[{i}].name"),
                format!("duplicate group name {:?}", g.name),
            ));
        }
        if g.min > g.max {
            return Err(cx.err(
                &format!("cloud.test_provider.groups[{i}].min"),
                format!("min {} is above max {}", g.min, g.max),
            ));
        }
        let nodes = raw
            .nodes
            .iter()
            .filter(|n| n.group.as_ref() == Some(&g.name));
        world.test_groups.push(TestGroup {
            name: g.name.clone(),
            min: g.min,
            max: g.max,
            target: g.size.unwrap_or(nodes.count() as u32),
            template: g.template.as_ref().map(shape),
        });
    }
    for (i, n) in raw.nodes.iter().enumerate() {
        let field = format!("cloud.test_provider.nodes[{i}]");
        if raw.nodes[..i].iter().any(|o| o.name == n.name) {
            return Err(cx.err(
                &format!("{field}.name"),
                format!("duplicate node name {:?}", n.name),
            ));
        }
        if let Some(g) = &n.group {
            if !world.test_groups.iter().any(|t| &t.name == g) {
                let count = raw
                    .nodes
                    .iter()
                    .filter(|o| o.group.as_ref() == Some(g))
                    .count();
                world.test_groups.push(TestGroup {
                    name: g.clone(),
                    min: 1,
                    max: 10,
                    target: count as u32,
                    template: None,
                });
            }
        }
        let s = node_shape(n.cpu.0, n.memory.0, n.gpu, n.pods, &n.labels);
        let mut labels = s.labels;
        labels.insert("kubernetes.io/hostname".into(), n.name.clone());
        world.add_node(Node {
            name: n.name.as_str().into(),
            nodegroup: n.group.clone(),
            capacity: s.capacity,
            allocatable: s.allocatable,
            labels: Arc::new(labels),
            taints: s.taints,
            ready: n.ready,
            unschedulable: false,
            created: SimTime::ZERO,
            deleted: false,
            flavor: s.flavor,
            class: None,
        });
    }
    Ok(())
}

/// Bare pods (`BuildTestPod`): namespace `default`, no owner; bound ones run on their node.
pub(crate) fn pods(cx: &Ctx, raw: &[RawPod], world: &mut World) -> Result<(), crate::LoadError> {
    for (i, p) in raw.iter().enumerate() {
        let field = format!("workload.pods[{i}]");
        if raw[..i]
            .iter()
            .any(|o| o.name == p.name && o.namespace == p.namespace)
        {
            return Err(cx.err(
                &format!("{field}.name"),
                format!("duplicate pod name {:?}", p.name),
            ));
        }
        let node = match &p.node {
            None => None,
            Some(name) => Some(world.find_node(name).ok_or_else(|| {
                cx.err(
                    &format!("{field}.node"),
                    format!("unknown node {name:?}: expected one of cloud.test_provider.nodes"),
                )
            })?),
        };
        let mut spec =
            PodSpec::with_requests(p.cpu.map_or(0, |c| c.0), p.memory.map_or(0, |m| m.0));
        spec.requests.gpus = p.gpu;
        spec.host_ports = p.host_ports.clone();
        if p.tolerates_gpu {
            spec.tolerations.push(Toleration {
                key: GPU_RESOURCE.into(),
                op: TolerationOp::Exists,
                value: String::new(),
                effect: None,
            });
        }
        for (j, t) in p.topology_spread.iter().enumerate() {
            if t.max_skew == 0 {
                return Err(cx.err(
                    &format!("{field}.topology_spread[{j}].max_skew"),
                    "max_skew must be at least 1",
                ));
            }
            spec.topology_spread.push(TopologySpread {
                max_skew: t.max_skew,
                key: t.topology_key.clone(),
                selector: t
                    .match_labels
                    .iter()
                    .map(|(k, v)| (k.clone(), v.0.clone()))
                    .collect(),
            });
        }
        world.add_pod(Pod {
            name: p.name.as_str().into(),
            namespace: p.namespace.as_str().into(),
            uid: p.name.clone(),
            owner: None,
            labels: p
                .labels
                .iter()
                .map(|(k, v)| (k.clone(), v.0.clone()))
                .collect(),
            spec: Arc::new(spec),
            created: SimTime::ZERO,
            node,
            phase: if node.is_some() {
                PodPhase::Running
            } else {
                PodPhase::Pending
            },
            scheduled: match node {
                Some(_) => ScheduledCondition::Scheduled { at: SimTime::ZERO },
                None => ScheduledCondition::Unknown,
            },
            deleted: false,
        });
    }
    Ok(())
}
