//! Invariants that hold for any cluster the engine simulates.

use magsim::scenario::parse;
use magsim::sim::autoscaler::estimator::{estimate, EstimateGroup};
use magsim::sim::autoscaler::provider::Template;
use magsim::sim::cloud::capi::{MAX_SIZE_ANNOTATION, MIN_SIZE_ANNOTATION};
use magsim::sim::kube::{PodId, PodSpec};
use magsim::sim::resources::{Resources, GIB, MIB};
use magsim::sim::time::{SimDuration, SimTime};
use proptest::prelude::*;

const FLAVORS: [&str; 4] = ["m3.small", "m3.quad", "m3.medium", "g3.small"];

#[derive(Debug, Clone)]
struct Group {
    flavor: usize,
    count: u32,
    max: u32,
}

#[derive(Debug, Clone)]
struct Workload {
    replicas: u32,
    cpu_m: u64,
    mem_mi: u64,
}

fn scenario_text(
    groups: &[Group],
    workloads: &[Workload],
    max_total: u32,
    expander: &str,
) -> String {
    let mut s = String::from("name: generated\nduration: 20m\ncloud:\n  boot_delay: 90s\n  cluster:\n    name: k8s\n    stack_id: k8s-prop0000001\n");
    s.push_str("    labels: {auto_scaling_enabled: \"true\"}\n    nodegroups:\n");
    for (i, g) in groups.iter().enumerate() {
        let name = if i == 0 {
            "default-worker".to_string()
        } else {
            format!("pool{i}")
        };
        s.push_str(&format!(
            "      - {{name: {name}, flavor: {}, node_count: {}, min_node_count: 1, max_node_count: {}}}\n",
            FLAVORS[g.flavor],
            g.count,
            g.max
        ));
    }
    s.push_str(&format!("autoscalers:\n  - name: ca\n    args: [--cloud-provider=clusterapi, --max-nodes-total={max_total}, --expander={expander}]\n"));
    s.push_str("workload:\n  deployments:\n");
    for (i, w) in workloads.iter().enumerate() {
        s.push_str(&format!(
            "    - {{name: app{i}, replicas: {}, requests: {{cpu: {}m, memory: {}Mi}}}}\n",
            w.replicas, w.cpu_m, w.mem_mi
        ));
    }
    s
}

fn groups() -> impl Strategy<Value = Vec<Group>> {
    prop::collection::vec((0..FLAVORS.len(), 1u32..4, 0u32..4), 1..4).prop_map(|v| {
        v.into_iter()
            .map(|(flavor, count, extra)| Group {
                flavor,
                count,
                max: count + extra,
            })
            .collect()
    })
}

fn workloads() -> impl Strategy<Value = Vec<Workload>> {
    prop::collection::vec((0u32..8, 100u64..6000, 128u64..20_000), 1..4).prop_map(|v| {
        v.into_iter()
            .map(|(replicas, cpu_m, mem_mi)| Workload {
                replicas,
                cpu_m,
                mem_mi,
            })
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// No node group leaves [min, max]; no node holds more than it can; the autoscaler adds
    /// at most one node per pod that was ever unschedulable; the same seed replays the same
    /// timeline.
    #[test]
    fn engine_invariants(groups in groups(), workloads in workloads(), max_total in 0u32..12, seed in 0u64..1000, expander in prop::sample::select(vec!["random", "most-pods", "least-waste"])) {
        let text = scenario_text(&groups, &workloads, max_total, expander);
        let scenario = parse("generated.yaml", &text).unwrap();
        let mut engine = scenario.engine(Some(seed));
        let initial: u32 = groups.iter().map(|g| g.count).sum();
        let mut ever_unschedulable = std::collections::BTreeSet::new();
        for minute in 0..=20u64 {
            engine.run_until(SimTime::ZERO + SimDuration::from_mins(minute));
            for md in &engine.world.machine_deployments {
                match md.bounds().unwrap() {
                    Some((min, max)) => prop_assert!(md.replicas >= min && md.replicas <= max, "{} replicas {} outside {min}..{max}", md.name, md.replicas),
                    None => prop_assert!(!md.annotations.contains_key(MAX_SIZE_ANNOTATION) && !md.annotations.contains_key(MIN_SIZE_ANNOTATION)),
                }
            }
            let mut used = vec![Resources::ZERO; engine.world.nodes.len()];
            for (_, p) in engine.world.live_pods() {
                if p.is_unschedulable() {
                    ever_unschedulable.insert(p.uid.clone());
                }
                if let Some(n) = p.node {
                    prop_assert!(engine.world.node(n).ready, "pod bound to a NotReady node");
                    used[n.0 as usize] = used[n.0 as usize].plus(p.spec.requests);
                }
            }
            for (id, n) in engine.world.live_nodes() {
                prop_assert!(used[id.0 as usize].fits_in(&n.allocatable), "node {} over-committed: {:?} > {:?}", n.name, used[id.0 as usize], n.allocatable);
            }
        }
        let added = engine.world.machines.len() as u32 - initial;
        prop_assert!(added as usize <= ever_unschedulable.len(), "added {added} nodes for {} pending pods", ever_unschedulable.len());
        if max_total > 0 && initial < max_total {
            prop_assert!(engine.world.machines.len() as u32 <= max_total.max(initial));
        }
        let again = magsim::runner::run(&scenario, Some(seed)).timeline_text();
        prop_assert_eq!(magsim::runner::run(&scenario, Some(seed)).timeline_text(), again);
    }

    /// The estimator never opens a node it does not fill, never overfills one, and needs at
    /// least as many nodes as the resources demand.
    #[test]
    fn estimate_is_a_valid_packing(pods in prop::collection::vec((1u64..2000, 1u64..4000), 1..120), limit in prop::option::of(1u32..40)) {
        let alloc = Resources { milli_cpu: 2000, memory: 4 * GIB, pods: 110, gpus: 0, ephemeral_storage: 0 };
        let template = Template::of_size(alloc);
        let specs: Vec<PodSpec> = pods.iter().map(|&(c, m)| PodSpec::with_requests(c, m * MIB)).collect();
        let ids: Vec<Vec<PodId>> = (0..specs.len()).map(|i| vec![PodId(i as u32)]).collect();
        let groups: Vec<EstimateGroup> = specs.iter().zip(&ids).map(|(spec, pods)| EstimateGroup { spec, pods }).collect();
        let e = estimate(&groups, &template, limit);
        prop_assert!(e.node_count as usize <= e.pods.len());
        if let Some(l) = limit {
            prop_assert!(e.node_count <= l);
        } else {
            prop_assert_eq!(e.pods.len(), pods.len(), "without a limit every pod that fits a node is placed");
        }
        let cpu: u64 = e.pods.iter().map(|p| pods[p.0 as usize].0).sum();
        let mem: u64 = e.pods.iter().map(|p| pods[p.0 as usize].1 * MIB).sum();
        let lower = cpu.div_ceil(alloc.milli_cpu).max(mem.div_ceil(alloc.memory));
        prop_assert!(e.node_count as u64 >= lower, "{} nodes cannot hold {cpu}m/{mem}B", e.node_count);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// A damaged scenario file is refused with a located message or runs; it never panics.
    #[test]
    fn damaged_scenarios_never_panic(cut in 0usize..4000, junk in "[ -~\n]{0,12}", seed in 0u64..50) {
        let text = std::fs::read_to_string("scenarios/incident/04-in-cluster-autoscaler-crashloops.yaml").unwrap();
        let cut = cut.min(text.len());
        let cut = (0..=cut).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0);
        let damaged = format!("{}{junk}{}", &text[..cut], &text[cut..]);
        match parse("damaged.yaml", &damaged) {
            Ok(s) => {
                let _ = magsim::runner::run(&s, Some(seed));
            }
            Err(e) => prop_assert!(e.to_string().starts_with("damaged.yaml"), "{e}"),
        }
    }
}
