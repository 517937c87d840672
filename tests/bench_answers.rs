//! The benchmark workloads compute upstream's answers (no timing here: see BENCHMARKS.md).

use magsim_bench::Workload;
use serde_json::json;

#[test]
fn binpacking_matches_upstream() {
    let w = Workload::prepare("upstream-binpacking", &[]).unwrap();
    assert_eq!(w.run(), json!({"nodes": 2595, "pods": 51_000}));
}

#[test]
fn filter_out_schedulable_keeps_pods_that_fit_nowhere() {
    let w = Workload::prepare("upstream-filter", &[10, 300, 1000]).unwrap();
    assert_eq!(w.run(), json!({"unschedulable": 1000}));
}

#[test]
fn run_once_scales_one_group() {
    let w = Workload::prepare("run-once", &[100, 30, 1000]).unwrap();
    let answer = w.run();
    let scaled = answer["scale_up"].as_array().unwrap();
    assert_eq!(scaled.len(), 1, "{answer}");
    assert!(scaled[0]["to"].as_u64() > scaled[0]["from"].as_u64());
    assert_eq!(
        w.run(),
        answer,
        "RunOnce from the same state decides the same"
    );
}

#[test]
fn unknown_workloads_and_sizes_are_refused() {
    assert!(Workload::prepare("nope", &[])
        .err()
        .unwrap()
        .contains("expected one of upstream-binpacking"));
    assert_eq!(
        Workload::prepare("run-once", &[1]).err().unwrap(),
        "run-once takes 3 sizes, got 1"
    );
}
