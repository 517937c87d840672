//! `kubectl logs` as the model prints it: an in-cluster autoscaler's container log, chosen
//! and refused as the kubelet does (what the Kubernetes mock serves real kubectl).

use super::cli::Outcome;
use magsim_scenario::LogsTarget;
use magsim_sim::autoscaler::container::Instance;
use magsim_sim::autoscaler::{Autoscaler, Phase};
use magsim_sim::deploy::pod::AutoscalerPod;
use magsim_sim::engine::Engine;

/// What `kubectl logs` asks for.
pub struct LogsCall<'a> {
    pub namespace: &'a str,
    pub target: &'a LogsTarget,
    pub container: Option<&'a str>,
    pub previous: bool,
    pub tail: Option<u64>,
    pub timestamps: bool,
}

/// kubectl 1.32's words: its own checks start `error:`, the kubelet's refusals come back as
/// the server's `BadRequest`, and a missing object is wrapped once more.
fn failed(stderr: String, status: u16) -> Outcome {
    Outcome {
        stderr,
        exit_code: 1,
        status: Some(status),
        ..Default::default()
    }
}

fn not_found(what: &str, name: &str, namespace: &str) -> Outcome {
    failed(
        format!("error: error from server (NotFound): {what} \"{name}\" not found in namespace \"{namespace}\"\n"),
        404,
    )
}

pub fn logs(engine: &Engine, call: &LogsCall<'_>) -> Outcome {
    let found = engine
        .autoscalers
        .iter()
        .filter(|a| !a.is_stopped())
        .find_map(|a| {
            let pod = AutoscalerPod::of(&a.spec, &engine.world)?;
            let hit = pod.namespace == call.namespace
                && match call.target {
                    LogsTarget::Deployment(d) => pod.deployment == *d,
                    LogsTarget::Pod(p) => pod.name == *p,
                };
            hit.then_some((a, pod))
        });
    let Some((autoscaler, pod)) = found else {
        // A workload's containers print nothing.
        return match call.target {
            LogsTarget::Deployment(d) => {
                let exists = engine
                    .world
                    .deployments
                    .iter()
                    .any(|x| x.namespace == call.namespace && x.name == *d);
                if exists {
                    Outcome::ok(String::new())
                } else {
                    not_found("deployments.apps", d, call.namespace)
                }
            }
            LogsTarget::Pod(p) => match engine.world.find_pod(call.namespace, p) {
                Some(_) => Outcome::ok(String::new()),
                None => not_found("pods", p, call.namespace),
            },
        };
    };
    let name = pod.container_name();
    if let Some(c) = call.container.filter(|c| *c != name) {
        let text = format!("error: container {c} is not valid for pod {}\n", pod.name);
        return failed(text, 400);
    }
    match instance(autoscaler, call.previous) {
        Some(i) => Outcome::ok(render(engine, i, call)),
        None => failed(
            format!(
                "Error from server (BadRequest): previous terminated container {name:?} in pod {:?} not found\n",
                pod.name
            ),
            400,
        ),
    }
}

/// The kubelet's choice: the running instance, or in back-off (and for `--previous`) the
/// last one that exited.
fn instance(a: &Autoscaler, previous: bool) -> Option<&Instance> {
    let c = &a.container;
    match (&a.phase, previous) {
        (Phase::Running(_), false) => Some(&c.current),
        _ => c.last_terminated(),
    }
}

fn render(engine: &Engine, i: &Instance, call: &LogsCall<'_>) -> String {
    let skip = call.tail.map_or(0, |n| {
        i.log
            .len()
            .saturating_sub(usize::try_from(n).unwrap_or(usize::MAX))
    });
    let mut out = String::new();
    for line in i.log.iter().skip(skip) {
        if call.timestamps {
            out.push_str(&engine.epoch.at(line.time).rfc3339_nano_fixed());
            out.push(' ');
        }
        out.push_str(&line.render(engine.epoch));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Scenario 05 at its start: its in-cluster autoscaler runs, never restarted.
    fn engine() -> Engine {
        let (file, text) = magsim_scenario::builtin()
            .into_iter()
            .find(|(f, _)| f.contains("05-in-cluster"))
            .expect("scenario 05 is built in");
        let mut e = magsim_scenario::parse(file, text).unwrap().engine(None);
        e.run_until(magsim_sim::time::SimTime::ZERO);
        e
    }

    fn call<'a>(
        target: &'a LogsTarget,
        container: Option<&'a str>,
        previous: bool,
    ) -> LogsCall<'a> {
        LogsCall {
            namespace: "kube-system",
            target,
            container,
            previous,
            tail: None,
            timestamps: false,
        }
    }

    #[test]
    fn refusals_are_kubectl_s_words() {
        let e = engine();
        let pod = e.autoscaler_pods().next().unwrap().1.name;
        let deploy = LogsTarget::Deployment("cluster-autoscaler".into());
        let o = logs(&e, &call(&deploy, None, true));
        assert_eq!(
            o.stderr,
            format!("Error from server (BadRequest): previous terminated container \"cluster-autoscaler\" in pod \"{pod}\" not found\n")
        );
        let o = logs(&e, &call(&deploy, Some("x"), false));
        assert_eq!(
            o.stderr,
            format!("error: container x is not valid for pod {pod}\n")
        );
        let nope = LogsTarget::Deployment("nope".into());
        assert_eq!(
            logs(&e, &call(&nope, None, false)).stderr,
            "error: error from server (NotFound): deployments.apps \"nope\" not found in namespace \"kube-system\"\n"
        );
        let o = logs(&e, &call(&LogsTarget::Pod(pod), None, false));
        assert_eq!(
            (o.exit_code, o.stdout.as_str()),
            (0, ""),
            "1.18.3 writes no line until it dies"
        );
    }
}
