//! Runs magsim scenarios: drives the engine through each step, performs command lines the way
//! the real clients would (printing what `openstack` and `kubectl` print), checks every
//! expectation, and reports as a readable timeline, JUnit XML or JSON.
//!
//! ```
//! let (file, text) = magsim_scenario::builtin()[0];
//! let scenario = magsim_scenario::parse(file, text).unwrap();
//! let report = magsim_runner::run(&scenario, None);
//! assert!(report.passed(), "{}", report.timeline_text());
//! ```

mod api;
mod check;
mod cli;
mod compare;
mod explain;
mod logs;
mod real;
mod report;
mod tables;
mod wire;

pub use compare::{compare, CompareError, CompareOptions, Comparison, Observed};
pub use explain::explain;
pub use real::run_real_clients;
pub use report::{json_report, junit_xml, Check, Line, ScenarioReport};
pub use wire::{run_wire, WireRunError};

use api::Api;

use magsim_scenario::{Scenario, StepAction};

/// Runs one scenario with `seed` (or its own) and checks its expectations.
pub fn run(scenario: &Scenario, seed: Option<u64>) -> ScenarioReport {
    let mut engine = scenario.engine(seed);
    drive(&mut engine, scenario, seed)
}

/// The steps, their outcomes and checks, through `api`.
fn drive(api: &mut dyn Api, scenario: &Scenario, seed: Option<u64>) -> ScenarioReport {
    let mut report = ScenarioReport::new(scenario, seed.unwrap_or(scenario.seed));
    let mut shown = 0;
    for step in &scenario.steps {
        api.run_until(step.at);
        report.absorb_trace(&api.engine().trace, &mut shown);
        report.step(step);
        let outcome = match &step.action {
            StepAction::Check => None,
            StepAction::Command {
                line,
                command,
                applied,
                manifest,
            } => Some(
                api.command(step, line, command, manifest.as_deref())
                    .unwrap_or_else(|| {
                        cli::perform(api, command, applied, step.request_id.clone())
                    }),
            ),
            StepAction::Op { label, op } => {
                let resp = api.apply((**op).clone(), step.request_id.clone());
                Some(cli::Outcome::from_op(label, resp))
            }
        };
        report.absorb_trace(&api.engine().trace, &mut shown);
        if let Some(o) = &outcome {
            report.outcome(o);
        }
        if let Some(expect) = &step.expect {
            for c in check::expect(api.engine(), scenario, step, expect, outcome.as_ref()) {
                report.check(step.at, c);
            }
        }
    }
    api.run_until(scenario.end);
    report.absorb_trace(&api.engine().trace, &mut shown);
    report
}
