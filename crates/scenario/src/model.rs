//! Validated scenarios: the raw schema checked field by field and turned into engine inputs.

use crate::command::{Command, KubectlCall};
use crate::error::LoadError;
use crate::format::*;
use crate::manifest::{self, Applied};
use crate::testprovider;
use magsim_sim::cloud::{Cluster, Driver, Nodegroup};
use magsim_sim::deploy::{AutoscalerSpec, Placement, SecretMount};
use magsim_sim::engine::{Engine, Operation};
use magsim_sim::flavor::Flavor;
use magsim_sim::kube::{
    Deployment, Labels, NodeAffinity, NodeSelectorRequirement, NodeSelectorTerm, PodSpec,
    SelectorOp, Taint, TaintEffect, Toleration, TolerationOp,
};
use magsim_sim::resources::Resources;
use magsim_sim::time::{Epoch, SimDuration, SimTime};
use magsim_sim::world::{CloudTiming, NodeTemplateExtras, Secret, World};
use std::collections::BTreeMap;

/// A scenario ready to run.
#[derive(Clone, Debug)]
pub struct Scenario {
    pub file: String,
    pub name: String,
    pub description: String,
    pub seed: u64,
    pub epoch: Epoch,
    /// The run ends here.
    pub end: SimTime,
    pub world: World,
    pub autoscalers: Vec<AutoscalerSpec>,
    pub steps: Vec<Step>,
}

#[derive(Clone, Debug)]
pub struct Step {
    /// Position in the file's `steps` list.
    pub index: usize,
    pub at: SimTime,
    pub note: Option<String>,
    pub action: StepAction,
    pub request_id: Option<String>,
    pub expect: Option<Expect>,
}

#[derive(Clone, Debug)]
pub enum StepAction {
    /// Only expectations.
    Check,
    /// A command line; `applied` holds a manifest's objects for `kubectl apply|delete -f`.
    Command {
        line: String,
        command: Command,
        applied: Vec<Applied>,
        /// The step's `manifest` as written (a real client reads it on stdin).
        manifest: Option<String>,
    },
    /// A structured operation, with a label for the timeline.
    Op { label: String, op: Box<Operation> },
}

impl Scenario {
    /// A fresh engine for this scenario, with `seed` (or the file's).
    pub fn engine(&self, seed: Option<u64>) -> Engine {
        Engine::new(
            self.world.clone(),
            self.autoscalers.clone(),
            seed.unwrap_or(self.seed),
            self.epoch,
        )
    }
}

/// FNV-1a, to derive stable ids from names.
fn fnv(text: &str) -> u64 {
    magsim_sim::ids::fnv1a(text.as_bytes())
}

fn stable_uuid(seed: &str) -> String {
    let (a, b) = (fnv(seed), fnv(&format!("{seed}#")));
    let h = format!("{a:016x}{b:016x}");
    format!(
        "{}-{}-4{}-8{}-{}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..32]
    )
}

/// `8-4-4-4-12` hex digits, as Heat's stack ids are.
fn uuid_shaped(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5
        && parts
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(p, n)| p.len() == n && p.chars().all(|c| c.is_ascii_hexdigit()))
}

/// A pod-template-hash like Kubernetes' (10 chars of its safe alphabet).
fn stable_hash(seed: &str) -> String {
    const A: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut h = fnv(seed);
    (0..10)
        .map(|_| {
            let c = A[(h % A.len() as u64) as usize] as char;
            h /= A.len() as u64;
            c
        })
        .collect()
}

pub(crate) struct Ctx<'a> {
    file: &'a str,
    text: &'a str,
}

impl Ctx<'_> {
    pub(crate) fn err(&self, field: &str, message: impl Into<String>) -> LoadError {
        LoadError::at(self.file, self.text, field, message)
    }
}

/// Refuses node and pod counts past [`magsim_sim::limits`], at the field that crosses them.
fn check_counts(cx: &Ctx, raw: &RawScenario) -> Result<(), LoadError> {
    use magsim_sim::limits::{MAX_NODES, MAX_PODS};
    let nodes_over = |field: String, what: &str, n: u64| {
        cx.err(
            &field,
            format!("{what} {n}: expected at most {MAX_NODES} (magsim's limit on nodes per nodegroup and per scenario)"),
        )
    };
    if let Some(c) = &raw.cloud.cluster {
        let mut total = 0u64;
        for (i, ng) in c.nodegroups.iter().enumerate() {
            let field = format!("cloud.cluster.nodegroups[{i}]");
            for (key, v) in [
                ("node_count", Some(ng.node_count)),
                ("min_node_count", ng.min_node_count),
                ("max_node_count", ng.max_node_count),
            ] {
                if let Some(v) = v.filter(|&v| v > MAX_NODES) {
                    return Err(nodes_over(format!("{field}.{key}"), key, v.into()));
                }
            }
            total += u64::from(ng.node_count);
            if total > u64::from(MAX_NODES) {
                return Err(nodes_over(
                    format!("{field}.node_count"),
                    "nodes in all nodegroups",
                    total,
                ));
            }
        }
    }
    if let Some(t) = &raw.cloud.test_provider {
        if t.nodes.len() > MAX_NODES as usize {
            return Err(nodes_over(
                format!("cloud.test_provider.nodes[{MAX_NODES}]"),
                "nodes",
                t.nodes.len() as u64,
            ));
        }
        for (i, g) in t.groups.iter().enumerate() {
            for (key, v) in [("max", Some(g.max)), ("size", g.size)] {
                if let Some(v) = v.filter(|&v| v > MAX_NODES) {
                    return Err(nodes_over(
                        format!("cloud.test_provider.groups[{i}].{key}"),
                        key,
                        v.into(),
                    ));
                }
            }
        }
    }
    let pods_over = |field: String, what: &str, n: u64| {
        cx.err(
            &field,
            format!(
                "{what} {n}: expected at most {MAX_PODS} (magsim's limit on pods per scenario)"
            ),
        )
    };
    let bare = raw.workload.pods.len() as u64;
    if bare > u64::from(MAX_PODS) {
        return Err(pods_over(
            format!("workload.pods[{MAX_PODS}]"),
            "bare pods",
            bare,
        ));
    }
    let mut total = bare;
    for (i, d) in raw.workload.deployments.iter().enumerate() {
        let field = format!("workload.deployments[{i}].replicas");
        if d.replicas > MAX_PODS {
            return Err(pods_over(field, "replicas", d.replicas.into()));
        }
        total += u64::from(d.replicas);
        if total > u64::from(MAX_PODS) {
            return Err(pods_over(
                field,
                "pods in all deployments and bare pods",
                total,
            ));
        }
    }
    for (i, step) in raw.steps.iter().enumerate() {
        if let Some(x) = step.action.as_ref().and_then(|a| a.scale.as_ref()) {
            if x.replicas > MAX_PODS {
                return Err(pods_over(
                    format!("steps[{i}].do.scale.replicas"),
                    "replicas",
                    x.replicas.into(),
                ));
            }
        }
    }
    Ok(())
}

/// Refuses a `--scan-interval` below [`magsim_sim::limits::MIN_SCAN_INTERVAL`], at the flag.
fn check_scan_interval(cx: &Ctx, field: &str, args: &[String]) -> Result<(), LoadError> {
    let min = magsim_sim::limits::MIN_SCAN_INTERVAL;
    let Ok(o) = magsim_sim::autoscaler::options::parse_args(args) else {
        return Ok(());
    };
    if o.scan_interval >= min {
        return Ok(());
    }
    let at = args
        .iter()
        .rposition(|a| a.contains("scan-interval") || a.contains("scan_interval"))
        .map_or(field.to_string(), |j| format!("{field}[{j}]"));
    Err(cx.err(
        &at,
        format!(
            "--scan-interval={}: expected at least {min} (magsim's limit: shorter loops never let the virtual clock move on)",
            o.scan_interval
        ),
    ))
}

pub fn build(file: &str, text: &str, raw: RawScenario) -> Result<Scenario, LoadError> {
    let cx = Ctx { file, text };
    check_counts(&cx, &raw)?;
    let epoch = match &raw.start {
        Some(s) => Epoch::parse_rfc3339(s).ok_or_else(|| {
            cx.err(
                "start",
                format!("invalid start {s:?}: expected a UTC time like 2025-11-10T14:00:00Z"),
            )
        })?,
        None => Epoch::default(),
    };
    let mut world = World::default();
    for name in Flavor::jetstream2_names() {
        if let Some(f) = Flavor::jetstream2(name) {
            world.flavors.insert(name.to_string(), f);
        }
    }
    for f in &raw.cloud.flavors {
        world.flavors.insert(
            f.name.clone(),
            Flavor {
                name: f.name.clone(),
                vcpus: f.vcpus,
                ram_gib: f.ram_gib,
                disk_gb: f.disk_gb,
                gpus: f.gpus,
                gpu_fraction: "",
            },
        );
    }
    world.timing = CloudTiming {
        boot_delay: raw
            .cloud
            .boot_delay
            .map_or(CloudTiming::default().boot_delay, |d| d.0),
        ready_delay: raw
            .cloud
            .node_ready_delay
            .map_or(CloudTiming::default().ready_delay, |d| d.0),
    };
    match (&raw.cloud.cluster, &raw.cloud.test_provider) {
        (Some(c), None) => world.cluster = Some(cluster(&cx, &raw.cloud, c, &mut world)?),
        (None, Some(t)) => testprovider::build(&cx, t, &mut world)?,
        (Some(_), Some(_)) => {
            return Err(cx.err(
                "cloud",
                "a cloud has either `cluster` (Magnum) or `test_provider`, not both",
            ))
        }
        (None, None) => {
            return Err(cx.err(
                "cloud",
                "missing field `cluster`: expected a Magnum cluster (or `test_provider`)",
            ))
        }
    }
    world.faults = crate::faults::build(&cx, &raw.faults)?;
    testprovider::pods(&cx, &raw.workload.pods, &mut world)?;
    world.harness = raw.harness.as_ref().map(testprovider::harness);
    for (i, d) in raw.workload.deployments.iter().enumerate() {
        world
            .deployments
            .push(deployment(&cx, &format!("workload.deployments[{i}]"), d)?);
    }
    for s in &raw.workload.secrets {
        world.secrets.push(Secret {
            namespace: s.namespace.clone(),
            name: s.name.clone(),
            data: s.data.clone(),
        });
    }
    world.priority_expander = raw.workload.priority_expander.clone();
    let autoscalers = raw
        .autoscalers
        .iter()
        .enumerate()
        .map(|(i, a)| autoscaler(&cx, &format!("autoscalers[{i}]"), a))
        .collect::<Result<Vec<_>, _>>()?;
    let cluster_name = raw.cloud.cluster.as_ref().map_or("", |c| c.name.as_str());
    let steps = steps(&cx, &raw.steps, cluster_name)?;
    // Every duration is at most MAX_DURATION (checked as it is read), so none of these sums
    // can overflow.
    let end = raw
        .duration
        .map(|d| SimTime::ZERO + d.0)
        .unwrap_or_else(|| {
            steps.last().map_or(SimTime::ZERO, |s| s.at) + SimDuration::from_mins(1)
        });
    Ok(Scenario {
        file: file.to_string(),
        name: raw.name,
        description: raw.description.trim().to_string(),
        seed: raw.seed,
        epoch,
        end,
        world,
        autoscalers,
        steps,
    })
}

fn cluster(
    cx: &Ctx,
    cloud: &RawCloud,
    c: &RawCluster,
    world: &mut World,
) -> Result<Cluster, LoadError> {
    let driver = Driver::parse(&c.driver, c.driver_version.as_deref()).ok_or_else(|| {
        cx.err("cloud.cluster.driver", format!("unknown driver {:?} (version {:?}): expected magnum-capi-helm with a version like 1.1.0, or heat", c.driver, c.driver_version))
    })?;
    // Heat: the stack's uuid (`magnum/drivers/heat/driver.py:123-129`); magnum-capi-helm: the
    // Helm release name (`magnum_capi_helm/driver.py`, `_generate_release_name`).
    let stack_id = match (&c.stack_id, driver) {
        (Some(id), Driver::Heat) if !uuid_shaped(id) => {
            return Err(cx.err(
                "cloud.cluster.stack_id",
                format!("{id:?} is not a uuid: under the Heat driver stack_id is the Heat stack's uuid (its name is derived)"),
            ))
        }
        (Some(id), _) => id.clone(),
        (None, Driver::Heat) => stable_uuid(&format!("{}/stack", c.name)),
        (None, _) => format!(
            "{}-{}",
            c.name,
            &stable_hash(&c.name)[..10]
                .to_lowercase()
                .replace(|ch: char| ch.is_ascii_digit(), "x")
        ),
    };
    let mut nodegroups = Vec::new();
    for (i, ng) in c.nodegroups.iter().enumerate() {
        let field = format!("cloud.cluster.nodegroups[{i}]");
        if !world.flavors.contains_key(&ng.flavor) {
            return Err(cx.err(
                &format!("{field}.flavor"),
                format!(
                    "unknown flavor {:?}: expected one of {} or a flavor under cloud.flavors",
                    ng.flavor,
                    Flavor::jetstream2_names().join(", ")
                ),
            ));
        }
        if c.nodegroups[..i].iter().any(|o| o.name == ng.name) {
            return Err(cx.err(
                &format!("{field}.name"),
                format!("duplicate nodegroup name {:?}", ng.name),
            ));
        }
        let role = ng.role.clone().unwrap_or_else(|| {
            if ng.name.contains("master") {
                "master".into()
            } else {
                "worker".into()
            }
        });
        let mut extras = NodeTemplateExtras {
            labels: text_map(&ng.node_labels),
            taints: Vec::new(),
        };
        for (j, t) in ng.node_taints.iter().enumerate() {
            extras.taints.push(Taint::parse(t).ok_or_else(|| cx.err(&format!("{field}.node_taints[{j}]"), format!("invalid taint {t:?}: expected key=value:Effect with Effect NoSchedule, PreferNoSchedule or NoExecute")))?);
        }
        world.node_extras.insert(ng.name.clone(), extras);
        if !ng.machine_deployment_annotations.is_empty() {
            if !driver.is_capi() {
                return Err(cx.err(
                    &format!("{field}.machine_deployment_annotations"),
                    "only a magnum-capi-helm cluster has MachineDeployments",
                ));
            }
            world.operator_annotations.insert(
                ng.name.clone(),
                text_map(&ng.machine_deployment_annotations),
            );
        }
        match ng.fault.as_deref() {
            None => {}
            Some("never-ready") => {
                world.never_ready.insert(ng.name.clone());
            }
            Some("not-ready") => {
                world.not_ready.insert(ng.name.clone());
            }
            Some(f) => {
                return Err(cx.err(
                    &format!("{field}.fault"),
                    format!("unknown fault {f:?}: expected never-ready or not-ready"),
                ))
            }
        }
        let is_default = ng
            .is_default
            .unwrap_or(ng.name == "default-worker" || ng.name == "default-master");
        nodegroups.push(Nodegroup {
            id: i as u32 + 1,
            uuid: ng
                .uuid
                .clone()
                .unwrap_or_else(|| stable_uuid(&format!("{}/{}", c.name, ng.name))),
            name: ng.name.clone(),
            role,
            flavor_id: ng.flavor.clone(),
            image_id: stable_uuid("image"),
            node_count: ng.node_count,
            min_node_count: ng.min_node_count.unwrap_or(0),
            max_node_count: ng.max_node_count,
            labels: c
                .labels
                .iter()
                .map(|(k, v)| (k.clone(), v.0.clone()))
                .collect(),
            is_default,
            status: "CREATE_COMPLETE".into(),
            status_reason: None,
            // The conductor copies the cluster's stack_id into the nodegroups that exist at
            // create time (`cluster_conductor.py:79-81`); later ones get their own Heat stack
            // (`magnum/drivers/heat/driver.py:135-139`) or, under magnum-capi-helm, none.
            stack_id: match (is_default, driver) {
                (true, _) => Some(stack_id.clone()),
                (false, Driver::Heat) => {
                    Some(stable_uuid(&format!("{}/{}/stack", c.name, ng.name)))
                }
                (false, _) => None,
            },
        });
    }
    if !nodegroups
        .iter()
        .any(|n| n.is_default && n.role != "master")
    {
        return Err(cx.err("cloud.cluster.nodegroups", "no default worker nodegroup: name one `default-worker` or set is_default: true on a worker group"));
    }
    Ok(Cluster {
        uuid: c.uuid.clone().unwrap_or_else(|| stable_uuid(&c.name)),
        name: c.name.clone(),
        project_id: cloud.project_id.clone(),
        stack_id,
        stack_name: None,
        cluster_template_id: stable_uuid("template"),
        cluster_template_name: c
            .template
            .clone()
            .unwrap_or_else(|| magsim_sim::cloud::magnum::jetstream2_template_name(&c.coe_version)),
        status: "CREATE_COMPLETE".into(),
        status_reason: None,
        labels: c
            .labels
            .iter()
            .map(|(k, v)| (k.clone(), v.0.clone()))
            .collect(),
        keypair: None,
        docker_volume_size: None,
        create_timeout: 60,
        coe_version: c.coe_version.clone(),
        health_status: Some("HEALTHY".into()),
        driver,
        nodegroups,
    })
}

fn text_map(m: &BTreeMap<String, crate::values::Text>) -> Labels {
    m.iter().map(|(k, v)| (k.clone(), v.0.clone())).collect()
}

fn deployment(cx: &Ctx, field: &str, d: &RawDeployment) -> Result<Deployment, LoadError> {
    let mut requests = Resources {
        pods: 1,
        ..Resources::ZERO
    };
    requests.milli_cpu = d.requests.cpu.map_or(0, |c| c.0);
    requests.memory = d.requests.memory.map_or(0, |m| m.0);
    requests.gpus = d.requests.gpu;
    requests.ephemeral_storage = d.requests.ephemeral_storage.map_or(0, |e| e.0);
    let mut tolerations = Vec::new();
    for (i, t) in d.tolerations.iter().enumerate() {
        let f = format!("{field}.tolerations[{i}]");
        let op = match t.operator.as_str() {
            "Equal" => TolerationOp::Equal,
            "Exists" => TolerationOp::Exists,
            o => {
                return Err(cx.err(
                    &format!("{f}.operator"),
                    format!("invalid operator {o:?}: expected Equal or Exists"),
                ))
            }
        };
        let effect = match &t.effect {
            None => None,
            Some(e) => Some(TaintEffect::parse(e).ok_or_else(|| {
                cx.err(
                    &format!("{f}.effect"),
                    format!(
                        "invalid effect {e:?}: expected NoSchedule, PreferNoSchedule or NoExecute"
                    ),
                )
            })?),
        };
        tolerations.push(Toleration {
            key: t.key.clone(),
            op,
            value: t.value.clone(),
            effect,
        });
    }
    let mut affinity = NodeAffinity::default();
    for (i, term) in d.node_affinity.iter().enumerate() {
        let mut t = NodeSelectorTerm::default();
        for (j, r) in term.iter().enumerate() {
            let op = SelectorOp::parse(&r.operator).ok_or_else(|| {
                cx.err(
                    &format!("{field}.node_affinity[{i}][{j}].operator"),
                    format!(
                        "invalid operator {:?}: expected In, NotIn, Exists, DoesNotExist, Gt or Lt",
                        r.operator
                    ),
                )
            })?;
            t.match_expressions.push(NodeSelectorRequirement {
                key: r.key.clone(),
                op,
                values: r.values.iter().map(|v| v.0.clone()).collect(),
            });
        }
        affinity.required_terms.push(t);
    }
    let template_hash = d
        .template_hash
        .clone()
        .or_else(|| {
            d.pod_names
                .first()
                .and_then(|p| Deployment::hash_from_pod_name(&d.name, p))
        })
        .unwrap_or_else(|| stable_hash(&format!("{}/{}", d.namespace, d.name)));
    for (i, p) in d.pod_names.iter().enumerate() {
        if Deployment::hash_from_pod_name(&d.name, p).as_deref() != Some(template_hash.as_str()) {
            return Err(cx.err(
                &format!("{field}.pod_names[{i}]"),
                format!(
                    "pod name {p:?} does not have the form {}-{template_hash}-<suffix>",
                    d.name
                ),
            ));
        }
    }
    let mut labels = text_map(&d.labels);
    if labels.is_empty() {
        labels.insert("app".into(), d.name.clone());
    }
    Ok(Deployment {
        name: d.name.clone(),
        namespace: d.namespace.clone(),
        replicas: d.replicas,
        labels,
        spec: std::sync::Arc::new(PodSpec {
            requests,
            node_selector: text_map(&d.node_selector),
            affinity,
            tolerations,
            node_name: d.node_name.clone(),
            host_ports: d.host_ports.clone(),
            topology_spread: Vec::new(),
            priority: d.priority,
            container: "app".into(),
            image: d.image.clone().unwrap_or_else(|| "nginx:1.27".into()),
        }),
        template_hash,
        pinned_pod_names: d.pod_names.clone(),
    })
}

fn autoscaler(cx: &Ctx, field: &str, a: &RawAutoscaler) -> Result<AutoscalerSpec, LoadError> {
    let placement = match a.placement.as_str() {
        "managed" => Placement::Managed,
        "in-cluster" => Placement::InCluster {
            namespace: a.namespace.clone(),
            deployment: a.name.clone(),
        },
        p => {
            return Err(cx.err(
                &format!("{field}.placement"),
                format!("invalid placement {p:?}: expected managed or in-cluster"),
            ))
        }
    };
    let legacy_status = match a.status_format.as_deref() {
        None | Some("yaml") => false,
        Some("legacy") => true,
        Some(f) => {
            return Err(cx.err(
                &format!("{field}.status_format"),
                format!("invalid status_format {f:?}: expected yaml or legacy"),
            ))
        }
    };
    check_scan_interval(cx, &format!("{field}.args"), &a.args)?;
    if let Err(e) = magsim_sim::autoscaler::options::parse_args(&a.args) {
        // A bad flag is the autoscaler's own start-up failure, not a scenario error; but a
        // managed autoscaler with bad flags is almost surely a typo in the file.
        if placement == Placement::Managed {
            return Err(cx.err(&format!("{field}.args"), e.to_string()));
        }
    }
    Ok(AutoscalerSpec {
        name: a.name.clone(),
        placement,
        image: a.image.clone(),
        args: a.args.clone(),
        mounts: a
            .mounts
            .iter()
            .map(|m| SecretMount {
                mount_path: m.mount_path.clone(),
                secret: m.secret.clone(),
            })
            .collect(),
        files: a.files.clone(),
        legacy_status,
        timer_scale: 1,
    })
}

fn steps(cx: &Ctx, raw: &[RawStep], cluster: &str) -> Result<Vec<Step>, LoadError> {
    let mut out: Vec<Step> = Vec::new();
    for (i, s) in raw.iter().enumerate() {
        let field = format!("steps[{i}]");
        let at = SimTime::ZERO + s.at.0;
        if let Some(prev) = out.last() {
            if at < prev.at {
                return Err(cx.err(
                    &format!("{field}.at"),
                    format!(
                        "{} is earlier than the previous step ({}): steps run in time order",
                        s.at.0,
                        prev.at.since(SimTime::ZERO)
                    ),
                ));
            }
        }
        let action = match (&s.run, &s.action) {
            (Some(_), Some(_)) => {
                return Err(cx.err(&field, "a step has either `run` or `do`, not both"))
            }
            (Some(cmd), None) => {
                let applied =
                    match (&cmd.1, &s.manifest) {
                        (
                            Command::Kubectl {
                                call: KubectlCall::Apply | KubectlCall::DeleteManifest,
                                ..
                            },
                            Some(m),
                        ) => {
                            let delete = matches!(
                                cmd.1,
                                Command::Kubectl {
                                    call: KubectlCall::DeleteManifest,
                                    ..
                                }
                            );
                            let mut n = 0;
                            manifest::parse(m, delete, &mut || {
                                n += 1;
                                stable_hash(&format!("{i}/{n}"))
                            })
                            .map_err(|e| cx.err(&format!("{field}.manifest"), e))?
                        }
                        (
                            Command::Kubectl {
                                call: KubectlCall::Apply | KubectlCall::DeleteManifest,
                                ..
                            },
                            None,
                        ) => {
                            return Err(cx.err(
                                &format!("{field}.run"),
                                "`kubectl apply|delete -f` needs the step's `manifest`",
                            ))
                        }
                        (_, Some(_)) => return Err(cx.err(
                            &format!("{field}.manifest"),
                            "`manifest` is only read by `kubectl apply -f` and `kubectl delete -f`",
                        )),
                        _ => Vec::new(),
                    };
                StepAction::Command {
                    line: cmd.0.clone(),
                    command: cmd.1.clone(),
                    applied,
                    manifest: s.manifest.clone(),
                }
            }
            (None, Some(a)) => action(cx, &field, a, cluster)?,
            (None, None) => StepAction::Check,
        };
        out.push(Step {
            index: i,
            at,
            note: s.note.clone(),
            action,
            request_id: s.request_id.clone(),
            expect: s.expect.clone(),
        });
    }
    Ok(out)
}

fn action(
    cx: &Ctx,
    field: &str,
    a: &RawAction,
    cluster_name: &str,
) -> Result<StepAction, LoadError> {
    let cluster = || cluster_name.to_string();
    let mut found: Vec<(String, Operation)> = Vec::new();
    if let Some(labels) = &a.admin_set_cluster_labels {
        found.push((
            format!(
                "cloud operator sets cluster labels {}",
                labels
                    .iter()
                    .map(|(k, v)| format!(
                        "{k}={}",
                        v.as_ref().map_or("<removed>", |v| v.0.as_str())
                    ))
                    .collect::<Vec<_>>()
                    .join(",")
            ),
            Operation::AdminSetClusterLabels {
                labels: labels
                    .iter()
                    .map(|(k, v)| (k.clone(), v.as_ref().map(|v| v.0.clone())))
                    .collect(),
            },
        ));
    }
    if let Some(x) = &a.admin_set_autoscaler_args {
        check_scan_interval(
            cx,
            &format!("{field}.do.admin_set_autoscaler_args.args"),
            &x.args,
        )?;
        found.push((
            format!(
                "cloud operator restarts {} with {}",
                x.autoscaler,
                x.args.join(" ")
            ),
            Operation::AdminSetAutoscalerArgs {
                autoscaler: x.autoscaler.clone(),
                args: x.args.clone(),
            },
        ));
    }
    if let Some(x) = &a.scale {
        found.push((
            format!("scale deployment {} to {}", x.deployment, x.replicas),
            Operation::ScaleDeployment {
                namespace: x.namespace.clone(),
                name: x.deployment.clone(),
                replicas: x.replicas,
            },
        ));
    }
    if let Some(x) = &a.update_nodegroup {
        let mut patch = Vec::new();
        for (k, v) in [
            ("min_node_count", x.min_node_count),
            ("max_node_count", x.max_node_count),
        ] {
            if let Some(v) = v {
                patch.push(magsim_sim::cloud::PatchOperation::from_cli(
                    magsim_sim::cloud::PatchOp::Replace,
                    &format!("{k}={v}"),
                ));
            }
        }
        if patch.is_empty() {
            return Err(cx.err(
                &format!("{field}.do.update_nodegroup"),
                "needs min_node_count or max_node_count",
            ));
        }
        found.push((
            format!("update nodegroup {}", x.nodegroup),
            Operation::UpdateNodegroup {
                cluster: cluster(),
                nodegroup: x.nodegroup.clone(),
                patch,
            },
        ));
    }
    if let Some(x) = &a.resize {
        found.push((
            format!(
                "resize {} to {}",
                x.nodegroup.as_deref().unwrap_or("default-worker"),
                x.node_count
            ),
            Operation::Resize {
                cluster: cluster(),
                node_count: x.node_count,
                nodegroup: x.nodegroup.clone(),
                nodes_to_remove: Vec::new(),
            },
        ));
    }
    if let Some(node) = &a.cordon {
        found.push((
            format!("cordon {node}"),
            Operation::Cordon {
                node: node.clone(),
                unschedulable: true,
            },
        ));
    }
    if let Some(node) = &a.uncordon {
        found.push((
            format!("uncordon {node}"),
            Operation::Cordon {
                node: node.clone(),
                unschedulable: false,
            },
        ));
    }
    if let Some(x) = &a.deploy_autoscaler {
        found.push((
            format!("deploy autoscaler {}", x.name),
            Operation::DeployAutoscaler(autoscaler(
                cx,
                &format!("{field}.do.deploy_autoscaler"),
                x,
            )?),
        ));
    }
    if let Some(name) = &a.remove_autoscaler {
        found.push((
            format!("remove autoscaler {name}"),
            Operation::RemoveAutoscaler { name: name.clone() },
        ));
    }
    if found.len() != 1 {
        return Err(cx.err(
            &format!("{field}.do"),
            format!(
                "expected exactly one operation (admin_set_cluster_labels, admin_set_autoscaler_args, scale, update_nodegroup, resize, cordon, uncordon, deploy_autoscaler, remove_autoscaler), found {}",
                found.len()
            ),
        ));
    }
    let (label, op) = found.remove(0);
    Ok(StepAction::Op {
        label,
        op: Box::new(op),
    })
}
