//! Inputs past magsim's limits are refused at load, with the file, line and field.

use magsim_sim::limits::{MAX_NODES, MAX_PODS};

const CLOUD: &str = "name: big
cloud:
  cluster:
    name: k8s
    nodegroups:
      - {name: default-worker, flavor: m3.small, node_count: 1}
";

fn error(text: &str) -> String {
    magsim_scenario::parse("big.yaml", text)
        .expect_err("refused")
        .to_string()
}

#[test]
fn a_step_time_past_the_clock_is_an_error_not_a_wrap() {
    let text = format!("{CLOUD}steps:\n  - at: 18446744073709552\n    note: late\n");
    let e = error(&text);
    assert!(e.starts_with("big.yaml:8:"), "{e}");
    assert!(
        e.contains("steps[0].at: 18446744073709552 is longer than 168h0m0s"),
        "{e}"
    );
}

#[test]
fn run_length_is_capped() {
    let e = error(&format!("{CLOUD}duration: 99999999h\n"));
    assert!(e.starts_with("big.yaml:7:"), "{e}");
    assert!(
        e.contains("duration: 99999999h is longer than 168h0m0s"),
        "{e}"
    );
    let ok = magsim_scenario::parse("big.yaml", &format!("{CLOUD}duration: 168h\n")).unwrap();
    assert_eq!(ok.end.as_millis(), 7 * 24 * 3_600_000);
}

#[test]
fn scan_interval_below_the_minimum_is_refused() {
    for flag in [
        "--scan-interval=0s",
        "--scan-interval=1ms",
        "--scan-interval=99ms",
    ] {
        let text = format!(
            "{CLOUD}autoscalers:\n  - name: ca\n    args: [--cloud-provider=magnum, {flag}]\n"
        );
        let e = error(&text);
        assert!(e.starts_with("big.yaml:9:"), "{flag}: {e}");
        assert!(e.contains("autoscalers[0].args[1]"), "{flag}: {e}");
        assert!(e.contains("expected at least 100ms"), "{flag}: {e}");
    }
    let step = format!(
        "{CLOUD}steps:\n  - at: 1m\n    do:\n      admin_set_autoscaler_args:\n        autoscaler: ca\n        args: [--scan-interval=0s]\n"
    );
    let e = error(&step);
    assert!(
        e.contains("steps[0].do.admin_set_autoscaler_args.args[0]"),
        "{e}"
    );
    let ok = format!("{CLOUD}autoscalers:\n  - name: ca\n    args: [--cloud-provider=magnum, --scan-interval=100ms]\n");
    assert!(magsim_scenario::parse("ok.yaml", &ok).is_ok());
}

#[test]
fn replicas_past_the_pod_cap_are_refused() {
    for n in [1_000_000u64, 1_000_000_000] {
        let text =
            format!("{CLOUD}workload:\n  deployments:\n    - name: web\n      replicas: {n}\n");
        let e = error(&text);
        assert!(e.starts_with("big.yaml:10:"), "{e}");
        assert!(
            e.contains(&format!(
                "workload.deployments[0].replicas: replicas {n}: expected at most {MAX_PODS}"
            )),
            "{e}"
        );
    }
    let two = format!(
        "{CLOUD}workload:\n  deployments:\n    - {{name: a, replicas: 150000}}\n    - {{name: b, replicas: 150000}}\n"
    );
    let e = error(&two);
    assert!(
        e.contains("workload.deployments[1].replicas: pods in all deployments"),
        "{e}"
    );
}

#[test]
fn steps_that_scale_past_the_cap_are_refused() {
    let run = format!(
        "{CLOUD}steps:\n  - at: 1m\n    run: kubectl scale deployment web --replicas=1000000\n"
    );
    let e = error(&run);
    assert!(e.starts_with("big.yaml:9:"), "{e}");
    assert!(e.contains("steps[0].run"), "{e}");
    assert!(e.contains("expected at most 200000"), "{e}");
    let op = format!(
        "{CLOUD}steps:\n  - at: 1m\n    do:\n      scale: {{deployment: web, replicas: 1000000}}\n"
    );
    assert!(error(&op).contains("steps[0].do.scale.replicas"));
    let manifest = format!(
        "{CLOUD}steps:\n  - at: 1m\n    run: kubectl apply -f -\n    manifest: |\n      apiVersion: apps/v1\n      kind: Deployment\n      metadata: {{name: web}}\n      spec:\n        replicas: 4294967301\n        template:\n          spec:\n            containers: [{{name: app, image: nginx}}]\n"
    );
    let e = error(&manifest);
    assert!(e.contains("steps[0].manifest"), "{e}");
    assert!(
        e.contains("spec.replicas: 4294967301: expected at most 200000"),
        "{e}"
    );
}

#[test]
fn node_counts_past_the_cap_are_refused() {
    let text = CLOUD.replace("node_count: 1}", "node_count: 1, max_node_count: 20000}");
    let e = error(&text);
    assert!(e.starts_with("big.yaml:6:"), "{e}");
    assert!(
        e.contains(&format!("cloud.cluster.nodegroups[0].max_node_count: max_node_count 20000: expected at most {MAX_NODES}")),
        "{e}"
    );
    let two = CLOUD.replace(
        "node_count: 1}\n",
        "node_count: 6000}\n      - {name: other, flavor: m3.small, node_count: 6000}\n",
    );
    let e = error(&two);
    assert!(
        e.contains("cloud.cluster.nodegroups[1].node_count: nodes in all nodegroups 12000"),
        "{e}"
    );
}

#[test]
fn deep_or_huge_files_are_refused_before_parsing() {
    let deep = format!(
        "{CLOUD}description: {}{}\n",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let e = error(&deep);
    assert!(e.starts_with("big.yaml:7:"), "{e}");
    assert!(e.contains("nested deeper than 64 levels"), "{e}");
    let dir = std::env::temp_dir().join(format!("magsim-limits-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("huge.yaml");
    std::fs::write(&path, format!("{CLOUD}#{}\n", "x".repeat(5 << 20))).unwrap();
    let e = magsim_scenario::load(&path).unwrap_err().to_string();
    assert!(e.contains("expected at most 4194304 bytes"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}
