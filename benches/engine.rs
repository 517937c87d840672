//! Criterion benchmarks of the engine: the incident end to end and upstream's binpacking
//! workload. Each checks its answer before timing it. Rerun: `cargo bench --bench engine`.

use criterion::{criterion_group, criterion_main, Criterion};

fn incident(c: &mut Criterion) {
    let scenarios = magsim::collect(&[]).expect("built-in scenarios load");
    let first = &scenarios[0];
    assert!(magsim::runner::run(first, None).passed());
    c.bench_function("incident scenario end to end", |b| {
        b.iter(|| magsim::runner::run(first, None))
    });
}

/// Upstream's `BenchmarkBinpackingEstimate`: 50,000 pods of 50m/100B and 1,000 of 95m/190B on
/// a 1000m / 5000MiB / 100-pod template, limit 3000 nodes → 2,595 nodes, 51,000 pods.
fn upstream_binpacking(c: &mut Criterion) {
    use magsim::sim::autoscaler::estimator::{estimate, EstimateGroup};
    use magsim::sim::autoscaler::provider::Template;
    use magsim::sim::kube::{PodId, PodSpec};
    use magsim::sim::resources::{Resources, MIB};
    use magsim::sim::scheduler::SnapNode;
    let alloc = Resources {
        milli_cpu: 1000,
        memory: 5000 * MIB,
        pods: 100,
        gpus: 0,
        ephemeral_storage: 0,
    };
    let template = Template {
        node: SnapNode {
            name: "t".into(),
            id: None,
            allocatable: alloc,
            labels: Default::default(),
            taints: vec![],
            unschedulable: false,
            requested: Resources::ZERO,
            host_ports: vec![],
        },
        capacity: alloc,
    };
    let spec = |cpu, mem| PodSpec {
        requests: Resources {
            milli_cpu: cpu,
            memory: mem,
            pods: 1,
            ..Resources::ZERO
        },
        ..Default::default()
    };
    let (small, big) = (spec(50, 100), spec(95, 190));
    let a: Vec<PodId> = (0..50_000).map(PodId).collect();
    let b: Vec<PodId> = (50_000..51_000).map(PodId).collect();
    let groups = [
        EstimateGroup {
            spec: &small,
            pods: &a,
        },
        EstimateGroup {
            spec: &big,
            pods: &b,
        },
    ];
    let e = estimate(&groups, &template, Some(3000));
    assert_eq!((e.node_count, e.pods.len()), (2595, 51_000));
    c.bench_function("upstream BinpackingEstimate", |bench| {
        bench.iter(|| estimate(&groups, &template, Some(3000)))
    });
}

criterion_group!(benches, incident, upstream_binpacking);
criterion_main!(benches);
