//! scenarios/faults/: API faults and never-ready nodes, and the reactions upstream's
//! autoscaler and clients have to them. Each file passes, and fails once its faults are
//! taken away: its expectations are about the faults.

use rstest::rstest;
use std::path::PathBuf;

#[rstest]
fn fault_scenario_passes(#[files("scenarios/faults/*.yaml")] path: PathBuf) {
    let scenario = magsim::scenario::load(&path).unwrap_or_else(|e| panic!("{e}"));
    let report = magsim::runner::run(&scenario, None);
    assert!(report.passed(), "{}", report.timeline_text());
}

#[rstest]
fn fault_scenario_fails_without_its_faults(#[files("scenarios/faults/*.yaml")] path: PathBuf) {
    let mut scenario = magsim::scenario::load(&path).unwrap_or_else(|e| panic!("{e}"));
    let w = &mut scenario.world;
    assert!(
        !w.faults.is_empty() || !w.never_ready.is_empty() || !w.not_ready.is_empty(),
        "{} declares no fault",
        path.display()
    );
    w.faults = Default::default();
    w.never_ready.clear();
    w.not_ready.clear();
    let report = magsim::runner::run(&scenario, None);
    assert!(
        !report.passed(),
        "{} still passes without its faults:\n{}",
        path.display(),
        report.timeline_text()
    );
}
