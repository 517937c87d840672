//! Expectations: each becomes a [`Check`] that passes or says what was expected and found.

use crate::cli::Outcome;
use crate::report::Check;
use magsim_scenario::{Expect, ScaleUpExpect, Scenario, Step};
use magsim_sim::autoscaler::{Outcome as Decided, Phase};
use magsim_sim::engine::Engine;
use magsim_sim::kube::PodId;
use magsim_sim::kube::{PodPhase, ScheduledCondition};
use std::collections::BTreeMap;

struct Checks {
    step: usize,
    out: Vec<Check>,
}

impl Checks {
    fn eq<T: PartialEq + std::fmt::Debug>(&mut self, what: String, expected: &T, actual: &T) {
        let ok = expected == actual;
        self.out.push(Check {
            step: self.step,
            what,
            ok,
            detail: format!("expected {expected:?}, got {actual:?}"),
        });
    }

    fn truth(&mut self, what: String, ok: bool, detail: String) {
        self.out.push(Check {
            step: self.step,
            what,
            ok,
            detail,
        });
    }
}

pub fn expect(
    engine: &Engine,
    scenario: &Scenario,
    step: &Step,
    e: &Expect,
    outcome: Option<&Outcome>,
) -> Vec<Check> {
    let mut c = Checks {
        step: step.index,
        out: Vec::new(),
    };
    command(&mut c, e, outcome);
    pods(&mut c, engine, e);
    events(&mut c, engine, e);
    status(&mut c, engine, scenario, e);
    nodes(&mut c, engine, e);
    autoscalers(&mut c, engine, e);
    nodegroups(&mut c, engine, e);
    log(&mut c, engine, e);
    if let Some(x) = &e.scale_up {
        scale_up(&mut c, engine, x);
    }
    c.out
}

/// Timeline lines so far: each `log_contains` text in one of them, no `log_lacks` text in any.
fn log(c: &mut Checks, engine: &Engine, e: &Expect) {
    let lines = &engine.trace.entries;
    for s in &e.log_contains {
        c.truth(
            format!("log contains {s:?}"),
            lines.iter().any(|l| l.text.contains(s.as_str())),
            "no timeline line contains it".to_string(),
        );
    }
    for s in &e.log_lacks {
        let hit = lines.iter().find(|l| l.text.contains(s.as_str()));
        c.truth(
            format!("log lacks {s:?}"),
            hit.is_none(),
            format!("found: {}", hit.map(|l| l.to_string()).unwrap_or_default()),
        );
    }
}

/// The last decision against upstream's `ScaleTestResults`, order-insensitive as upstream.
fn scale_up(c: &mut Checks, engine: &Engine, x: &ScaleUpExpect) {
    let running = engine
        .autoscalers
        .iter()
        .filter(|a| x.autoscaler.as_ref().is_none_or(|n| &a.spec.name == n))
        .find_map(|a| a.running());
    let Some(d) = running.and_then(|r| r.last_decision.as_ref().map(|(_, d)| d)) else {
        c.truth(
            "a scale-up decision was made".into(),
            false,
            "no running autoscaler has decided yet".into(),
        );
        return;
    };
    let world = &engine.world;
    let id = |gi: usize| d.groups[gi].id.clone();
    let names = |pods: &[PodId]| -> Vec<String> {
        let mut v: Vec<String> = pods
            .iter()
            .map(|&p| world.pod(p).name.to_string())
            .collect();
        v.sort();
        v
    };
    let sorted = |v: &[String]| {
        let mut v = v.to_vec();
        v.sort();
        v
    };
    if let Some(want) = &x.options {
        let got: BTreeMap<String, u32> = d
            .options
            .iter()
            .map(|o| (id(o.group), o.node_count))
            .collect();
        c.eq("scale-up options".into(), want, &got);
    }
    if let Some(want) = &x.option_pods {
        let got: BTreeMap<String, Vec<String>> = d
            .options
            .iter()
            .map(|o| (id(o.group), names(&o.pods)))
            .collect();
        let want: BTreeMap<String, Vec<String>> =
            want.iter().map(|(k, v)| (k.clone(), sorted(v))).collect();
        c.eq("pods per option".into(), &want, &got);
    }
    if let Some(want) = &x.size_changes {
        let got: BTreeMap<String, u32> = match &d.outcome {
            Decided::ScaleUp(incs) => incs
                .iter()
                .map(|i| (id(i.group), i.new - i.current))
                .collect(),
            _ => BTreeMap::new(),
        };
        c.eq("group size changes".into(), want, &got);
    }
    if let Some(want) = &x.target_sizes {
        let got: BTreeMap<String, u32> = world
            .test_groups
            .iter()
            .filter(|g| want.contains_key(&g.name))
            .map(|g| (g.name.clone(), g.target))
            .collect();
        c.eq("group target sizes".into(), want, &got);
    }
    for (what, want, got) in [
        (
            "pods that triggered the scale-up",
            &x.triggered,
            &d.triggered,
        ),
        ("pods that remain unschedulable", &x.remaining, &d.remain),
        ("pods that await evaluation", &x.awaiting, &d.awaiting),
    ] {
        if let Some(want) = want {
            c.eq(what.into(), &sorted(want), &names(got));
        }
    }
    if let Some(want) = &x.skipped {
        let got: BTreeMap<String, String> = d
            .groups
            .iter()
            .filter_map(|g| g.skipped.clone().map(|s| (g.id.clone(), s)))
            .collect();
        c.eq("skipped node groups".into(), want, &got);
    }
    if let Some(want) = &x.rejected {
        let got: BTreeMap<String, Vec<String>> = d
            .groups
            .iter()
            .filter(|g| !g.rejected.is_empty())
            .map(|g| {
                let mut r: Vec<String> = g.rejected.values().flatten().cloned().collect();
                r.sort();
                r.dedup();
                (g.id.clone(), r)
            })
            .collect();
        let want: BTreeMap<String, Vec<String>> =
            want.iter().map(|(k, v)| (k.clone(), sorted(v))).collect();
        c.eq("rejecting node groups".into(), &want, &got);
    }
    if let Some(want) = &x.error {
        let got = match &d.outcome {
            Decided::Error(e) => e.clone(),
            _ => String::new(),
        };
        c.eq("scale-up error".into(), want, &got);
    }
}

fn command(c: &mut Checks, e: &Expect, o: Option<&Outcome>) {
    let empty = Outcome::default();
    let o = o.unwrap_or(&empty);
    if let Some(s) = e.status {
        c.eq(format!("API status {s}"), &Some(s), &o.status);
    }
    if let Some(t) = &e.title {
        c.eq(format!("error title {t:?}"), &Some(t.clone()), &o.title);
    }
    if let Some(r) = &e.request_id {
        c.eq(format!("request id {r}"), &Some(r.clone()), &o.request_id);
    }
    if let Some(x) = e.exit_code {
        c.eq(format!("exit status {x}"), &x, &o.exit_code);
    }
    if let Some(s) = &e.stdout {
        c.eq("stdout".into(), s, &o.stdout);
    }
    if let Some(s) = &e.stderr {
        c.eq("stderr".into(), s, &o.stderr);
    }
    let all = format!("{}{}", o.stdout, o.stderr);
    for s in &e.output_contains {
        c.truth(
            format!("output contains {s:?}"),
            all.contains(s.as_str()),
            format!("output was:\n{all}"),
        );
    }
    for s in &e.output_lacks {
        c.truth(
            format!("output lacks {s:?}"),
            !all.contains(s.as_str()),
            format!("output was:\n{all}"),
        );
    }
}

fn pods(c: &mut Checks, engine: &Engine, e: &Expect) {
    for p in &e.pods {
        let matched: Vec<_> = match p.name.strip_prefix("deployment/") {
            Some(dep) => {
                let rs = engine
                    .world
                    .deployments
                    .iter()
                    .find(|d| d.name == dep && d.namespace == p.namespace)
                    .map(|d| d.replica_set_name());
                engine
                    .world
                    .live_pods()
                    .filter(|(_, x)| {
                        rs.is_some() && x.owner.as_ref().map(|o| &o.name) == rs.as_ref()
                    })
                    .map(|(_, x)| x)
                    .collect()
            }
            None => engine
                .world
                .live_pods()
                .filter(|(_, x)| *x.name == *p.name && *x.namespace == *p.namespace)
                .map(|(_, x)| x)
                .collect(),
        };
        if let Some(n) = p.count {
            c.eq(format!("{} has {n} pods", p.name), &n, &matched.len());
        }
        if matched.is_empty() {
            c.truth(
                format!("pod {} exists", p.name),
                false,
                "no such pod".into(),
            );
            continue;
        }
        for pod in matched {
            if let Some(phase) = &p.phase {
                c.eq(
                    format!("pod {} is {phase}", pod.name),
                    phase,
                    &pod.phase.to_string(),
                );
            }
            let (reason, message) = match &pod.scheduled {
                ScheduledCondition::Unschedulable { message, .. }
                    if pod.phase == PodPhase::Pending =>
                {
                    (Some("Unschedulable".to_string()), Some(message.clone()))
                }
                _ => (None, None),
            };
            if let Some(r) = &p.reason {
                c.eq(
                    format!("pod {} pending reason {r}", pod.name),
                    &Some(r.clone()),
                    &reason,
                );
            }
            if let Some(m) = &p.message {
                c.eq(
                    format!("pod {} FailedScheduling message", pod.name),
                    &Some(m.clone()),
                    &message,
                );
            }
        }
    }
}

fn events(c: &mut Checks, engine: &Engine, e: &Expect) {
    for x in &e.events {
        let (kind, name) = x.object.split_once('/').unwrap_or(("pod", &x.object));
        let found: Vec<_> = engine
            .world
            .events
            .all()
            .iter()
            .filter(|ev| {
                ev.object.kind.eq_ignore_ascii_case(kind)
                    && &*ev.object.name == name
                    && ev.reason == x.reason
            })
            .filter(|ev| {
                x.event_type
                    .as_ref()
                    .is_none_or(|t| &ev.event_type.to_string() == t)
            })
            .collect();
        let matching: Vec<_> = found
            .iter()
            .filter(|ev| x.message.as_ref().is_none_or(|m| *ev.message == **m))
            .filter(|ev| {
                x.message_contains
                    .as_ref()
                    .is_none_or(|m| ev.message.contains(m.as_str()))
            })
            .collect();
        let want = x
            .message
            .as_deref()
            .or(x.message_contains.as_deref())
            .unwrap_or("");
        let seen: Vec<&str> = found.iter().map(|ev| &*ev.message).collect();
        if x.present {
            c.truth(
                format!("event {} {} {want:?}", x.object, x.reason),
                !matching.is_empty(),
                format!("{} events with that reason: {seen:?}", found.len()),
            );
        } else {
            c.truth(
                format!("no event {} {} {want:?}", x.object, x.reason),
                matching.is_empty(),
                format!("found {seen:?}"),
            );
        }
    }
}

fn status(c: &mut Checks, engine: &Engine, scenario: &Scenario, e: &Expect) {
    let Some(s) = &e.status_configmap else { return };
    let name = s
        .autoscaler
        .clone()
        .or_else(|| scenario.autoscalers.first().map(|a| a.name.clone()))
        .unwrap_or_default();
    let running = engine
        .autoscalers
        .iter()
        .rev()
        .find(|a| a.spec.name == name)
        .and_then(|a| a.running())
        .and_then(|r| r.status.clone());
    if !s.present {
        c.truth(
            format!("{name} wrote no status"),
            running.is_none(),
            "a status was written".into(),
        );
        return;
    }
    let Some(st) = running else {
        c.truth(
            format!("{name} wrote a status ConfigMap"),
            false,
            "no status: the autoscaler is not running or never completed a loop".into(),
        );
        return;
    };
    let text = engine
        .world
        .configmaps
        .get(&(
            "kube-system".to_string(),
            "cluster-autoscaler-status".to_string(),
        ))
        .and_then(|d| d.data().get("status").cloned())
        .unwrap_or_default();
    for want in &s.contains {
        c.truth(
            format!("status text contains {want:?}"),
            text.contains(want.as_str()),
            format!("status was:\n{text}"),
        );
    }
    let want_group = s.max_size.is_some()
        || s.min_size.is_some()
        || s.target.is_some()
        || s.health.is_some()
        || s.scale_up.is_some()
        || s.ready.is_some();
    if !want_group {
        return;
    }
    let pattern = s.node_group.clone().unwrap_or_default();
    let Some(g) = st
        .node_groups
        .iter()
        .find(|g| g.name.contains(pattern.as_str()))
    else {
        let names: Vec<&str> = st.node_groups.iter().map(|g| g.name.as_str()).collect();
        c.truth(
            format!("status has node group {pattern:?}"),
            false,
            format!("groups: {names:?}"),
        );
        return;
    };
    if let Some(m) = s.max_size {
        c.eq(format!("status maxSize: {m}"), &m, &g.health.max_size);
    }
    if let Some(m) = s.min_size {
        c.eq(format!("status minSize: {m}"), &m, &g.health.min_size);
    }
    if let Some(t) = s.target {
        c.eq(
            format!("status cloudProviderTarget: {t}"),
            &t,
            &g.health.cloud_provider_target,
        );
    }
    if let Some(h) = &s.health {
        c.eq(
            format!("status health {h}"),
            h,
            &g.health.status.to_string(),
        );
    }
    if let Some(u) = &s.scale_up {
        c.eq(
            format!("status scaleUp {u}"),
            u,
            &g.scale_up.status.to_string(),
        );
    }
    if let Some(r) = s.ready {
        c.eq(
            format!("status ready nodes {r}"),
            &r,
            &g.health.node_counts.registered.ready,
        );
    }
}

fn nodes(c: &mut Checks, engine: &Engine, e: &Expect) {
    for n in &e.nodes {
        let of = |ready_only: bool| {
            engine
                .world
                .live_nodes()
                .filter(|(_, x)| {
                    n.nodegroup
                        .as_ref()
                        .is_none_or(|g| x.nodegroup.as_ref() == Some(g))
                })
                .filter(|(_, x)| !ready_only || x.ready)
                .count()
        };
        let scope = n.nodegroup.as_deref().unwrap_or("cluster");
        if let Some(r) = n.ready {
            c.eq(format!("{scope} has {r} Ready nodes"), &r, &of(true));
        }
        if let Some(t) = n.total {
            c.eq(format!("{scope} has {t} nodes"), &t, &of(false));
        }
    }
}

fn autoscalers(c: &mut Checks, engine: &Engine, e: &Expect) {
    for a in &e.autoscalers {
        let Some(x) = engine
            .autoscalers
            .iter()
            .rev()
            .find(|x| x.spec.name == a.name)
        else {
            c.truth(
                format!("autoscaler {} exists", a.name),
                false,
                "not deployed".into(),
            );
            continue;
        };
        let (state, message) = match &x.phase {
            Phase::Running(_) => ("Running", String::new()),
            Phase::CrashLoopBackOff { fatal, .. } => ("CrashLoopBackOff", fatal.message.clone()),
            Phase::Stopped => ("Stopped", String::new()),
        };
        c.eq(
            format!("autoscaler {} is {}", a.name, a.state),
            &a.state.as_str(),
            &state,
        );
        if let Some(m) = &a.message {
            c.eq(format!("autoscaler {} fatal message", a.name), m, &message);
        }
        if let Some(m) = &a.message_contains {
            c.truth(
                format!("autoscaler {} fatal message contains {m:?}", a.name),
                message.contains(m.as_str()),
                format!("message was {message:?}"),
            );
        }
    }
}

fn nodegroups(c: &mut Checks, engine: &Engine, e: &Expect) {
    for n in &e.nodegroups {
        let found = engine
            .world
            .cluster
            .as_ref()
            .and_then(|cl| cl.nodegroup(&n.name).ok());
        if n.present == Some(false) {
            let status = found.map_or("absent".to_string(), |ng| ng.status.clone());
            c.truth(format!("no nodegroup {}", n.name), found.is_none(), status);
            continue;
        }
        let Some(ng) = found else {
            c.truth(
                format!("nodegroup {} exists", n.name),
                false,
                "no such nodegroup".into(),
            );
            continue;
        };
        if let Some(v) = n.node_count {
            c.eq(
                format!("nodegroup {} node_count {v}", n.name),
                &v,
                &ng.node_count,
            );
        }
        if let Some(v) = n.min_node_count {
            c.eq(
                format!("nodegroup {} min_node_count {v}", n.name),
                &v,
                &ng.min_node_count,
            );
        }
        if let Some(v) = n.max_node_count {
            c.eq(
                format!("nodegroup {} max_node_count {v}", n.name),
                &Some(v),
                &ng.max_node_count,
            );
        }
        if let Some(v) = &n.status {
            c.eq(format!("nodegroup {} status {v}", n.name), v, &ng.status);
        }
        if let Some(v) = &n.status_reason {
            c.eq(
                format!("nodegroup {} status_reason", n.name),
                &Some(v.clone()),
                &ng.status_reason,
            );
        }
        if let Some(b) = &n.autoscaler_bounds {
            let actual = engine
                .world
                .machine_deployments
                .iter()
                .find(|m| m.nodegroup == n.name)
                .map(|m| match m.bounds() {
                    Ok(Some((lo, hi))) => format!("{lo}:{hi}"),
                    Ok(None) => "none".into(),
                    Err(e) => e,
                })
                .unwrap_or_else(|| "no MachineDeployment".into());
            c.eq(
                format!("MachineDeployment autoscaler bounds {b}"),
                b,
                &actual,
            );
        }
    }
}
