//! The `magsim` binary as users call it.

use std::process::Command;

fn magsim(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_magsim"))
        .args(args)
        .output()
        .expect("magsim runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

fn temp(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("magsim-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

#[test]
fn run_without_paths_replays_the_incident() {
    let (code, out, _) = magsim(&["run"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("pod didn't trigger scale-up: 1 max node group size reached"));
    assert!(out.contains("cannot change cluster property(ies) labels (HTTP 400) (Request-ID: req-0a1e8dc8-1d3b-459f-8539-5241f0f854f9)"));
    assert!(out.ends_with("6 passed, 0 failed\n"), "{out}");
}

#[test]
fn stdout_is_identical_between_runs_and_seed_changes_names() {
    let (_, a, _) = magsim(&["run", "scenarios/incident/02-jetstream2-raises-bound.yaml"]);
    let (_, b, _) = magsim(&["run", "scenarios/incident/02-jetstream2-raises-bound.yaml"]);
    assert_eq!(a, b);
    let (code, c, _) = magsim(&[
        "run",
        "--seed",
        "99",
        "scenarios/incident/02-jetstream2-raises-bound.yaml",
    ]);
    assert_eq!(code, 0);
    assert_ne!(a, c, "another seed names new nodes differently");
    assert!(c.contains("seed 99"));
}

#[test]
fn junit_and_json_have_one_case_per_scenario() {
    let (junit, json) = (temp("out.xml"), temp("out.json"));
    let (code, out, _) = magsim(&[
        "run",
        "scenarios/",
        "--junit",
        junit.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(code, 0, "{out}");
    let files = walk("scenarios");
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert_eq!(xml.matches("<testcase ").count(), files);
    assert!(xml.contains(&format!("tests=\"{files}\" failures=\"0\"")));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(v["scenarios"].as_array().unwrap().len(), files);
    assert_eq!(v["failed"], 0);
}

fn walk(dir: &str) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| {
            if p.is_dir() {
                walk(p.to_str().unwrap())
            } else {
                usize::from(p.extension().is_some_and(|x| x == "yaml"))
            }
        })
        .sum()
}

#[test]
fn a_failed_expectation_exits_1_and_is_reported() {
    let text = std::fs::read_to_string("scenarios/limits/pod-too-big.yaml")
        .unwrap()
        .replace("total: 3", "total: 4");
    let path = temp("failing.yaml");
    std::fs::write(&path, text).unwrap();
    let junit = temp("failing.xml");
    let (code, out, _) = magsim(&[
        "run",
        path.to_str().unwrap(),
        "--junit",
        junit.to_str().unwrap(),
    ]);
    assert_eq!(code, 1);
    assert!(
        out.contains("FAIL cluster has 4 nodes -- expected 4, got 3"),
        "{out}"
    );
    assert!(out.ends_with("0 passed, 1 failed\n"));
    assert!(std::fs::read_to_string(junit)
        .unwrap()
        .contains("<failure message=\"1 of"));
}

#[test]
fn a_broken_file_names_file_line_column_and_field() {
    let text = std::fs::read_to_string("scenarios/limits/pod-too-big.yaml")
        .unwrap()
        .replace("cpu: \"200\"", "cpu: lots");
    let path = temp("broken.yaml");
    std::fs::write(&path, text).unwrap();
    let (code, _, err) = magsim(&["run", path.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(
        err.contains("broken.yaml:25:23: ")
            && err.contains("workload.deployments[0].requests.cpu: invalid quantity \"lots\""),
        "{err}"
    );
}

#[test]
fn explain_lists_every_node_group_with_its_reason() {
    let (code, out, _) = magsim(&["explain", "scenarios/limits/pod-too-big.yaml", "--at", "2m"]);
    assert_eq!(code, 0);
    assert!(out.contains("scheduler: Unschedulable: 0/3 nodes are available: 3 Insufficient cpu, 3 Insufficient memory."), "{out}");
    assert!(
        out.contains(
            "managed: pod didn't trigger scale-up: 2 Insufficient cpu, 2 Insufficient memory"
        ),
        "{out}"
    );
    assert!(out.contains("k8s-toobig00001-default-worker (size 2, min 2, max 5): rejected: Insufficient cpu, Insufficient memory") || out.contains("k8s-toobig00001-default-worker (size 2, min 1, max 5): rejected: Insufficient cpu, Insufficient memory"), "{out}");
    let (_, incident, _) = magsim(&[
        "explain",
        "scenarios/incident/01-as-it-happened.yaml",
        "--at",
        "5m",
    ]);
    assert!(
        incident.contains("(size 5, min 1, max 5): skipped: max node group size reached"),
        "{incident}"
    );
    assert!(
        incident.contains("limits: clusterapi reads the MachineDeployment annotations (1..5), 1..5 rendered by magnum-capi-helm 1.1.0 from cluster label max_node_count=5; the label overrides the default worker's nodegroup max_node_count=6"),
        "{incident}"
    );
    let (_, old_driver, _) = magsim(&[
        "explain",
        "scenarios/incident/06-driver-1.0.0.yaml",
        "--at",
        "7m",
    ]);
    assert!(
        old_driver.contains(
            "rendered by magnum-capi-helm 1.0.0 from nodegroup default-worker max_node_count=6"
        ),
        "{old_driver}"
    );
}

#[test]
fn a_short_soak_answers_every_request_of_the_mix() {
    let json = temp("soak.json");
    let (code, out, err) = magsim(&[
        "bench",
        "soak",
        "--seconds",
        "3",
        "--rate",
        "200",
        "--interval",
        "1",
        "--json",
        json.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let rows: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert!(rows.len() >= 2, "{out}");
    for r in &rows {
        assert_eq!(
            r["errors"], 0,
            "every request answered as a healthy server does: {out}"
        );
        assert!(r["requests"].as_u64().unwrap() > 0, "{out}");
        assert!(r["rss_mb"].as_f64().unwrap() > 0.0, "{out}");
    }
    let (code, _, err) = magsim(&["bench", "soak", "--seconds", "0"]);
    assert_eq!(code, 2, "a refused option is a usage error");
    assert!(err.contains("--seconds 0: expected 1 to 86400"), "{err}");
}

/// Inputs past magsim's limits are load errors (exit 2) naming file, line and field, not a
/// wrapped clock or a run that never ends.
#[test]
fn run_refuses_inputs_past_the_limits() {
    let base = "name: limits\ncloud:\n  cluster:\n    name: k8s\n    nodegroups:\n      - {name: default-worker, flavor: m3.small, node_count: 1}\n";
    for (name, tail, want) in [
        (
            "late.yaml",
            "steps:\n  - at: 18446744073709552\n",
            ":8:9: steps[0].at: 18446744073709552 is longer than 168h0m0s",
        ),
        (
            "forever.yaml",
            "autoscalers:\n  - name: ca\n    args: [--cloud-provider=magnum, --scan-interval=0s]\n",
            ":9:11: autoscalers[0].args[1]: --scan-interval=0s: expected at least 100ms",
        ),
        (
            "years.yaml",
            "duration: 99999999h\n",
            ":7:11: duration: 99999999h is longer than 168h0m0s",
        ),
        (
            "million.yaml",
            "workload:\n  deployments:\n    - {name: web, replicas: 1000000}\n",
            ":9:",
        ),
    ] {
        let path = temp(name);
        std::fs::write(&path, format!("{base}{tail}")).unwrap();
        let (code, out, err) = magsim(&["run", path.to_str().unwrap()]);
        assert_eq!(code, 2, "{name}: {out}{err}");
        let file = path.display().to_string();
        assert!(err.contains(&format!("{file}{want}")), "{name}: {err}");
    }
}
