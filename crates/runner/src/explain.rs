//! `magsim explain`: for each pending pod, why it is pending and why each autoscaler did or
//! did not scale up, node group by node group.

use magsim_scenario::Scenario;
use magsim_sim::autoscaler::{Outcome, Phase};
use magsim_sim::kube::ScheduledCondition;
use magsim_sim::time::SimTime;

/// Runs `scenario` (steps included) up to `at` and explains the pending pods there.
pub fn explain(scenario: &Scenario, seed: Option<u64>, at: SimTime) -> String {
    let mut engine = scenario.engine(seed);
    for step in scenario.steps.iter().filter(|s| s.at <= at) {
        engine.run_until(step.at);
        match &step.action {
            magsim_scenario::StepAction::Op { op, .. } => {
                engine.apply((**op).clone(), step.request_id.clone());
            }
            magsim_scenario::StepAction::Command {
                command, applied, ..
            } => {
                crate::cli::perform(&mut engine, command, applied, step.request_id.clone());
            }
            magsim_scenario::StepAction::Check => {}
        }
    }
    engine.run_until(at);
    let mut out = format!("{} at {at}\n", scenario.name);
    let pending: Vec<_> = engine
        .world
        .live_pods()
        .filter(|(_, p)| p.is_pending())
        .collect();
    if pending.is_empty() {
        out.push_str("no pending pods\n");
        return out;
    }
    let explanations: Vec<_> = engine
        .autoscalers
        .iter()
        .filter(|a| !a.is_stopped())
        .map(|a| (a, a.explain(&engine.world, at, engine.rng())))
        .collect();
    for (id, pod) in pending {
        out.push_str(&format!("\npod {}/{}\n", pod.namespace, pod.name));
        match &pod.scheduled {
            ScheduledCondition::Unschedulable { message, .. } => {
                out.push_str(&format!("  scheduler: Unschedulable: {message}\n"))
            }
            _ => out.push_str("  scheduler: not tried yet\n"),
        }
        for (a, ex) in &explanations {
            let name = &a.spec.name;
            match (&a.phase, ex) {
                (Phase::CrashLoopBackOff { fatal, .. }, _) => out.push_str(&format!(
                    "  {name}: not running (CrashLoopBackOff): {}\n",
                    fatal.message
                )),
                (_, None) => out.push_str(&format!("  {name}: not running\n")),
                (_, Some((_, Err(why)))) => {
                    out.push_str(&format!("  {name}: no decision: {why}\n"))
                }
                (_, Some((groups, Ok(d)))) => {
                    let Some(pg) = d.pod_group_of(id) else {
                        out.push_str(&format!("  {name}: the pod fits an existing or upcoming node; no scale-up needed\n"));
                        continue;
                    };
                    let verdict = match &d.outcome {
                        Outcome::ScaleUp(incs) if d.triggered.contains(&id) => format!(
                            "would trigger scale-up: {}",
                            incs.iter()
                                .map(|i| format!(
                                    "{} {}->{} (max: {})",
                                    groups[i.group].id, i.current, i.new, i.max
                                ))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                        Outcome::ScaleUp(_) => {
                            "another option was chosen; the pod waits for the next loop".into()
                        }
                        Outcome::NoOptions => {
                            format!("pod didn't trigger scale-up: {}", d.reasons_message(pg))
                        }
                        Outcome::Error(e) => format!("scale-up fails: {e}"),
                    };
                    out.push_str(&format!("  {name}: {verdict}\n"));
                    for (g, v) in groups.iter().zip(&d.groups) {
                        let why = if let Some(s) = &v.skipped {
                            format!("skipped: {s}")
                        } else if let Some(r) = v.rejected.get(&pg) {
                            format!("rejected: {}", r.join(", "))
                        } else if let Some((n, p)) = v.option {
                            format!("option: +{n} node(s) for {p} pod(s)")
                        } else {
                            "fits, but no node could be added".into()
                        };
                        out.push_str(&format!(
                            "    {} (size {}, min {}, max {}): {why}\n",
                            g.id, g.target, g.min, g.max
                        ));
                        if let Some(source) = a.limit_source(&engine.world, g) {
                            out.push_str(&format!("      limits: {source}\n"));
                        }
                    }
                }
            }
        }
    }
    out
}
