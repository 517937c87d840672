//! Benchmark workloads: upstream cluster-autoscaler's own benchmark shapes and RunOnce at
//! scale, each built once and run many times, each with an answer to check before anything is
//! timed. `magsim bench` and the criterion benches (`benches/engine.rs`) share them.
//!
//! ```
//! let w = magsim_bench::Workload::prepare("upstream-binpacking", &[]).unwrap();
//! assert_eq!(w.run()["nodes"], 2595);
//! ```

use magsim_sim::autoscaler::estimator::{estimate, EstimateGroup};
use magsim_sim::autoscaler::provider::Template;
use magsim_sim::cloud::{Cluster, Driver, Nodegroup};
use magsim_sim::deploy::{AutoscalerSpec, Placement};
use magsim_sim::engine::Engine;
use magsim_sim::flavor::Flavor;
use magsim_sim::kube::{Labels, Owner, Pod, PodId, PodPhase, PodSpec, ScheduledCondition};
use magsim_sim::resources::{Resources, GIB, MIB};
use magsim_sim::rng::SimRng;
use magsim_sim::scheduler::Snapshot;
use magsim_sim::time::{Epoch, SimTime};
use magsim_sim::world::World;
use serde_json::{json, Value};
use std::sync::Arc;

/// Every workload name, in the order `magsim bench` runs them.
pub const NAMES: [&str; 6] = [
    "upstream-binpacking",
    "upstream-filter",
    "run-once",
    "scheduler",
    "incident",
    "mock-http",
];

mod mock_http;

/// The sizes each workload runs at when none are given.
pub fn default_sizes(name: &str) -> Vec<Vec<u64>> {
    match name {
        "upstream-filter" => vec![
            vec![1, 30, 1000],
            vec![10, 300, 1000],
            vec![100, 3000, 1000],
            vec![200, 200, 60_000],
            vec![1000, 1000, 12_000],
        ],
        "run-once" => vec![
            vec![0, 0, 50_000],
            vec![100, 30, 1000],
            vec![1000, 30, 1000],
            vec![5000, 30, 5000],
        ],
        "scheduler" => vec![vec![100, 3000], vec![1000, 30_000]],
        "mock-http" => vec![vec![2000, 4]],
        _ => vec![vec![]],
    }
}

/// A workload built and ready to run.
pub struct Workload {
    pub name: String,
    pub params: Value,
    kind: Kind,
}

struct Binpacking {
    template: Template,
    small: PodSpec,
    big: PodSpec,
    a: Vec<PodId>,
    b: Vec<PodId>,
}

enum Kind {
    Binpacking(Box<Binpacking>),
    Filter {
        snapshot: Snapshot,
        pending: Vec<Arc<PodSpec>>,
    },
    RunOnce {
        engine: Box<Engine>,
        at: SimTime,
    },
    Scheduler {
        engine: Box<Engine>,
    },
    Incident {
        scenario: Box<magsim_scenario::Scenario>,
    },
    MockHttp(Box<mock_http::MockHttp>),
}

fn template(cpu: u64, mem: u64, pods: u64) -> Template {
    Template::of_size(Resources {
        milli_cpu: cpu,
        memory: mem,
        pods,
        gpus: 0,
        ephemeral_storage: 0,
    })
}

fn spec(cpu: u64, mem: u64) -> PodSpec {
    PodSpec::with_requests(cpu, mem)
}

impl Workload {
    /// Builds `name` at `size` (the workload's own parameters; empty = its first default).
    pub fn prepare(name: &str, size: &[u64]) -> Result<Workload, String> {
        let size: Vec<u64> = if size.is_empty() {
            default_sizes(name).first().cloned().unwrap_or_default()
        } else {
            size.to_vec()
        };
        let want = |n: usize| -> Result<(), String> {
            if size.len() == n {
                Ok(())
            } else {
                Err(format!("{name} takes {n} sizes, got {}", size.len()))
            }
        };
        let (params, kind) = match name {
            "upstream-binpacking" => (
                json!({"pods_small": 50_000, "pods_big": 1_000, "node_limit": 3000}),
                Kind::Binpacking(Box::new(Binpacking {
                    template: template(1000, 5000 * MIB, 100),
                    small: spec(50, 100),
                    big: spec(95, 190),
                    a: (0..50_000).map(PodId).collect(),
                    b: (50_000..51_000).map(PodId).collect(),
                })),
            ),
            "upstream-filter" => {
                want(3)?;
                (
                    json!({"nodes": size[0], "scheduled": size[1], "pending": size[2]}),
                    filter(size[0], size[1], size[2]),
                )
            }
            "run-once" => {
                want(3)?;
                (
                    json!({"nodes": size[0], "pods_per_node": size[1], "pending": size[2]}),
                    run_once(size[0], size[1], size[2]),
                )
            }
            "scheduler" => {
                want(2)?;
                (
                    json!({"nodes": size[0], "pods": size[1]}),
                    scheduler(size[0], size[1]),
                )
            }
            "incident" => {
                let (file, text) = magsim_scenario::builtin()[0];
                let scenario = magsim_scenario::parse(file, text).map_err(|e| e.to_string())?;
                (
                    json!({"scenario": file}),
                    Kind::Incident {
                        scenario: Box::new(scenario),
                    },
                )
            }
            "mock-http" => {
                want(2)?;
                let m = mock_http::MockHttp::prepare(size[0], size[1])?;
                (m.params(), Kind::MockHttp(Box::new(m)))
            }
            other => {
                return Err(format!(
                    "unknown workload {other:?}: expected one of {}",
                    NAMES.join(", ")
                ))
            }
        };
        Ok(Workload {
            name: name.to_string(),
            params,
            kind,
        })
    }

    /// One run, timed without its set-up (copying the cluster state it starts from).
    pub fn measure(&self) -> (std::time::Duration, Value) {
        match &self.kind {
            Kind::RunOnce { engine, at } => {
                let (mut e, mut task) = run_once_task(engine, *at);
                let t = std::time::Instant::now();
                task.run(&mut e);
                let elapsed = t.elapsed();
                (elapsed, run_once_answer(&engine.world, &e.world))
            }
            Kind::Scheduler { engine } => {
                let mut e = engine.fork();
                let t = std::time::Instant::now();
                e.schedule();
                let elapsed = t.elapsed();
                (
                    elapsed,
                    json!({"bound": e.world.live_pods().filter(|(_, p)| p.node.is_some()).count()}),
                )
            }
            Kind::MockHttp(m) => m.measure(),
            Kind::Filter { snapshot, pending } => {
                let mut snap = snapshot.clone();
                let t = std::time::Instant::now();
                let left = snap.filter_out_schedulable(pending.iter().map(|s| &**s).enumerate());
                (t.elapsed(), json!({"unschedulable": left.len()}))
            }
            _ => {
                let t = std::time::Instant::now();
                let v = self.run();
                (t.elapsed(), v)
            }
        }
    }

    /// One run; returns the answer (what the workload computed).
    pub fn run(&self) -> Value {
        match &self.kind {
            Kind::Binpacking(w) => {
                let groups = [
                    EstimateGroup {
                        spec: &w.small,
                        pods: &w.a,
                    },
                    EstimateGroup {
                        spec: &w.big,
                        pods: &w.b,
                    },
                ];
                let e = estimate(&groups, &w.template, Some(3000));
                json!({"nodes": e.node_count, "pods": e.pods.len()})
            }
            Kind::Filter { snapshot, pending } => {
                let mut snap = snapshot.clone();
                let left = snap.filter_out_schedulable(pending.iter().map(|s| &**s).enumerate());
                json!({"unschedulable": left.len()})
            }
            Kind::RunOnce { engine, at } => {
                let (mut e, mut task) = run_once_task(engine, *at);
                task.run(&mut e);
                run_once_answer(&engine.world, &e.world)
            }
            Kind::Scheduler { engine } => {
                let mut e = engine.fork();
                e.schedule();
                json!({"bound": e.world.live_pods().filter(|(_, p)| p.node.is_some()).count()})
            }
            Kind::Incident { scenario } => {
                let r = magsim_runner::run(scenario, None);
                json!({"passed": r.passed(), "checks": r.checks.len()})
            }
            Kind::MockHttp(m) => m.run(),
        }
    }

    /// The answer upstream (or the scenario) expects, when there is one to compare.
    pub fn expected(&self) -> Option<Value> {
        match &self.kind {
            Kind::Binpacking(_) => Some(json!({"nodes": 2595, "pods": 51_000})),
            Kind::Filter { pending, .. } => Some(json!({"unschedulable": pending.len()})),
            Kind::Incident { .. } => None,
            Kind::MockHttp(m) => Some(m.expected()),
            Kind::RunOnce { .. } if self.params["nodes"] == 0 => {
                Some(json!({"scale_up": [{"group": "stress-pool", "from": 0, "to": 1000}]}))
            }
            _ => None,
        }
    }
}

fn run_once_answer(before: &World, after: &World) -> Value {
    let scaled: Vec<Value> = after
        .machine_deployments
        .iter()
        .zip(&before.machine_deployments)
        .filter(|(now, before)| now.replicas != before.replicas)
        .map(
            |(now, before)| json!({"group": now.name, "from": before.replicas, "to": now.replicas}),
        )
        .collect();
    json!({"scale_up": scaled, "events": after.events.all().len()})
}

/// `BenchmarkFilterOutSchedulable`: nodes of 2000m / 200,000 B / 100 pods, scheduled pods of
/// 1000m / 200,000 B round-robin, pending pods of 1000m / 2,000,000 B that fit nowhere.
fn filter(nodes: u64, scheduled: u64, pending: u64) -> Kind {
    let mut snapshot = Snapshot::default();
    for i in 0..nodes {
        let mut n = template(2000, 200_000, 100).node;
        n.name = format!("n-{i:05}").into();
        snapshot.nodes.push(n);
    }
    let running = spec(1000, 200_000);
    for i in 0..scheduled {
        let n = (i % nodes.max(1)) as usize;
        if let Some(node) = snapshot.nodes.get_mut(n) {
            node.place(&running);
        }
    }
    // Pending pods of one controller share their spec, as they do in a cluster.
    let one = Arc::new(spec(1000, 2_000_000));
    Kind::Filter {
        snapshot,
        pending: (0..pending).map(|_| one.clone()).collect(),
    }
}

fn world_with(groups: &[(&str, &str, u32, u32, u32)], extra_flavors: &[Flavor]) -> World {
    let mut world = World::default();
    for name in Flavor::jetstream2_names() {
        world
            .flavors
            .insert(name.to_string(), Flavor::jetstream2(name).expect("listed"));
    }
    for f in extra_flavors {
        world.flavors.insert(f.name.clone(), f.clone());
    }
    world.cluster = Some(Cluster {
        uuid: "00000000-0000-4000-8000-000000000000".into(),
        name: "bench".into(),
        project_id: "bench".into(),
        stack_id: "bench".into(),
        stack_name: None,
        cluster_template_id: "t".into(),
        cluster_template_name: "bench".into(),
        status: "CREATE_COMPLETE".into(),
        status_reason: None,
        labels: [("auto_scaling_enabled".to_string(), "true".to_string())]
            .into_iter()
            .collect(),
        keypair: None,
        docker_volume_size: None,
        create_timeout: 60,
        coe_version: "v1.30.4".into(),
        health_status: None,
        driver: Driver::CapiHelm {
            major: 1,
            minor: 1,
            patch: 0,
        },
        nodegroups: groups
            .iter()
            .enumerate()
            .map(|(i, &(name, flavor, count, min, max))| Nodegroup {
                id: i as u32,
                uuid: format!("{i:08}-0000-4000-8000-000000000000"),
                name: name.into(),
                role: "worker".into(),
                flavor_id: flavor.into(),
                image_id: "i".into(),
                node_count: count,
                min_node_count: min,
                max_node_count: Some(max),
                labels: Default::default(),
                is_default: i == 0,
                status: "CREATE_COMPLETE".into(),
                status_reason: None,
                stack_id: (i == 0).then(|| "bench".into()),
            })
            .collect(),
    });
    world
}

fn managed() -> AutoscalerSpec {
    AutoscalerSpec {
        name: "ca".into(),
        placement: Placement::Managed,
        image: "registry.k8s.io/autoscaling/cluster-autoscaler:v1.30.2".into(),
        args: vec![
            "--cloud-provider=clusterapi".into(),
            "--expander=least-waste".into(),
        ],
        mounts: vec![],
        files: Default::default(),
        legacy_status: false,
        timer_scale: 1,
    }
}

fn pod(name: String, owner: Option<&str>, spec: Arc<PodSpec>) -> Pod {
    Pod {
        uid: name.clone(),
        name: name.into(),
        namespace: "default".into(),
        owner: owner.map(|o| Owner {
            kind: "ReplicaSet".into(),
            name: o.into(),
        }),
        labels: Labels::new(),
        spec,
        created: SimTime::ZERO,
        node: None,
        phase: PodPhase::Pending,
        scheduled: ScheduledCondition::Unknown,
        deleted: false,
    }
}

/// RunOnce at scale. `nodes == 0` is upstream's `BenchmarkRunOnceScaleUp` stress shape: one
/// group at 0 of max 1,000 (4000m / 16 GiB / 110 pods), `pending` pods of 600m / 1000 B with
/// no owner (each its own equivalence group).
fn run_once(nodes: u64, per_node: u64, pending: u64) -> Kind {
    let at = SimTime(60_000);
    let mut engine = if nodes == 0 {
        let stress = Flavor {
            name: "stress".into(),
            vcpus: 4,
            ram_gib: 16,
            disk_gb: 0,
            gpus: 0,
            gpu_fraction: "",
        };
        let mut world = world_with(&[("stress-pool", "stress", 0, 0, 1000)], &[stress]);
        // Scale from zero needs min 0, which magnum-capi-helm refuses; annotate directly.
        world
            .machine_deployments
            .push(magsim_sim::cloud::MachineDeployment {
                name: "stress-pool".into(),
                namespace: "bench".into(),
                nodegroup: "stress-pool".into(),
                replicas: 0,
                annotations: [
                    (
                        magsim_sim::cloud::capi::MIN_SIZE_ANNOTATION.to_string(),
                        "0".to_string(),
                    ),
                    (
                        magsim_sim::cloud::capi::MAX_SIZE_ANNOTATION.to_string(),
                        "1000".to_string(),
                    ),
                ]
                .into_iter()
                .collect(),
                autoscaled_at: None,
            });
        Engine::new(world, vec![managed()], 1, Epoch::default())
    } else {
        let per_group = (nodes / 4).max(1) as u32;
        let groups = [
            ("default-worker", "m3.large", per_group, 1, per_group + 500),
            ("pool-quad", "m3.quad", per_group, 1, per_group + 500),
            ("pool-medium", "m3.medium", per_group, 1, per_group + 500),
            ("pool-xl", "m3.xl", per_group, 1, per_group + 500),
        ];
        Engine::new(
            world_with(&groups, &[]),
            vec![managed()],
            1,
            Epoch::default(),
        )
    };
    let node_list: Vec<_> = engine
        .world
        .live_nodes()
        .map(|(id, n)| (id, n.allocatable))
        .collect();
    for (i, &(n, alloc)) in node_list.iter().enumerate() {
        // Running pods fill 99% of each node, so pending pods do not fit existing nodes.
        let running = Arc::new(spec(
            alloc.milli_cpu * 99 / 100 / per_node.max(1),
            alloc.memory / 100 * 99 / per_node.max(1),
        ));
        for j in 0..per_node {
            let mut p = pod(
                format!("run-{i}-{j}"),
                Some(&format!("rs-{}", j % 10)),
                running.clone(),
            );
            p.node = Some(n);
            p.phase = PodPhase::Running;
            p.scheduled = ScheduledCondition::Scheduled { at: SimTime::ZERO };
            engine.world.add_pod(p);
        }
    }
    let specs: Vec<Arc<PodSpec>> = (0..10u64)
        .map(|g| {
            let mut s = spec(500 + 500 * (g % 4), (2 + g % 5) * GIB);
            if g == 9 {
                s.node_selector.insert(
                    "magnum.openstack.org/nodegroup".into(),
                    "pool-medium".into(),
                );
            }
            Arc::new(s)
        })
        .collect();
    let stress = Arc::new(spec(600, 1000));
    for k in 0..pending {
        let (owner, s) = if nodes == 0 {
            (None, stress.clone())
        } else {
            let g = (k % 10) as usize;
            (Some(format!("pending-{g}")), specs[g].clone())
        };
        let mut p = pod(format!("pending-{k}"), owner.as_deref(), s);
        p.scheduled = ScheduledCondition::Unschedulable {
            since: SimTime::ZERO,
            message: String::new(),
        };
        engine.world.add_pod(p);
    }
    Kind::RunOnce {
        engine: Box::new(engine),
        at,
    }
}

/// kube-scheduler alone: `pods` pending pods of 100m / 256 MiB bound onto `nodes` m3.large nodes.
fn scheduler(nodes: u64, pods: u64) -> Kind {
    let world = world_with(
        &[(
            "default-worker",
            "m3.large",
            nodes as u32,
            1,
            nodes as u32 + 1,
        )],
        &[],
    );
    let mut engine = Engine::new(world, vec![], 1, Epoch::default());
    let small = Arc::new(spec(100, 256 * MIB));
    for k in 0..pods {
        engine
            .world
            .add_pod(pod(format!("p-{k}"), Some("rs"), small.clone()));
    }
    Kind::Scheduler {
        engine: Box::new(engine),
    }
}

/// A copy of the engine with its first autoscaler's loop at `at` taken out, seeded alike on
/// every run.
fn run_once_task(engine: &Engine, at: SimTime) -> (Engine, magsim_sim::engine::LoopTask) {
    let mut e = engine.fork();
    let mut task = e.take_loop(0);
    task.now = at;
    task.rng = SimRng::new(1);
    (e, task)
}
