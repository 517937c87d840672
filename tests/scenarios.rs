//! Every shipped scenario file is its own test case, and runs byte-identically twice.

use rstest::rstest;
use std::path::PathBuf;

#[rstest]
fn scenario_passes(#[files("scenarios/**/*.yaml")] path: PathBuf) {
    let scenario = magsim::scenario::load(&path).unwrap_or_else(|e| panic!("{e}"));
    let report = magsim::runner::run(&scenario, None);
    assert!(report.passed(), "{}", report.timeline_text());
    assert!(
        !report.checks.is_empty(),
        "{} checks nothing",
        path.display()
    );
}

#[rstest]
fn scenario_is_deterministic(#[files("scenarios/**/*.yaml")] path: PathBuf) {
    let scenario = magsim::scenario::load(&path).unwrap();
    let a = magsim::runner::run(&scenario, Some(7)).timeline_text();
    let b = magsim::runner::run(&scenario, Some(7)).timeline_text();
    assert_eq!(a, b);
}

#[test]
fn builtin_scenarios_are_the_incident_folder() {
    let builtin: Vec<&str> = magsim::scenario::builtin()
        .iter()
        .map(|(f, _)| *f)
        .collect();
    let mut on_disk: Vec<String> = std::fs::read_dir("scenarios/incident")
        .unwrap()
        .map(|e| {
            format!(
                "scenarios/incident/{}",
                e.unwrap().file_name().to_string_lossy()
            )
        })
        .collect();
    on_disk.sort();
    assert_eq!(builtin, on_disk);
}

/// Changing an expectation to any other value must fail the scenario: the checks are real.
#[rstest]
#[case("maxSize: 5\n        minSize", "maxSize: 6\n        minSize")]
#[case(
    "1 max node group size reached\"\n  - at: 1m",
    "1 not ready for scale-up\"\n  - at: 1m"
)]
#[case("status: 400\n      title", "status: 202\n      title")]
#[case("5 Insufficient memory. preemption", "5 Insufficient cpu. preemption")]
#[case(
    "autoscaler_bounds: \"1:5\"}\n  - at: 3m",
    "autoscaler_bounds: \"1:6\"}\n  - at: 3m"
)]
fn incident_fails_when_an_expectation_is_wrong(#[case] from: &str, #[case] to: &str) {
    let text = std::fs::read_to_string("scenarios/incident/01-as-it-happened.yaml").unwrap();
    assert!(text.contains(from), "fixture text {from:?} not found");
    let broken = text.replacen(from, to, 1);
    let scenario = magsim::scenario::parse("broken.yaml", &broken).unwrap();
    assert!(!magsim::runner::run(&scenario, None).passed());
}
