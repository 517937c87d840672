//! Criterion benchmarks: the same workloads as `magsim bench` (magsim-bench), each checking its
//! answer before it is timed. Rerun: `cargo bench --bench engine`.

use criterion::{criterion_group, criterion_main, Criterion};
use magsim_bench::{default_sizes, Workload, NAMES};
use std::time::Duration;

fn workloads(c: &mut Criterion) {
    for name in NAMES {
        for size in default_sizes(name) {
            let w = Workload::prepare(name, &size).expect("workload builds");
            let answer = w.run();
            if let Some(expected) = w.expected() {
                for (k, v) in expected.as_object().expect("object") {
                    assert_eq!(answer.get(k), Some(v), "{name} {}: {k}", w.params);
                }
            }
            let mut group = c.benchmark_group(name);
            group
                .sample_size(10)
                .measurement_time(Duration::from_secs(3));
            group.bench_function(w.params.to_string(), |b| {
                b.iter_custom(|iters| (0..iters).map(|_| w.measure().0).sum())
            });
            group.finish();
        }
    }
}

criterion_group!(benches, workloads);
criterion_main!(benches);
