//! A bad scenario file is refused with file, line, column, field and what was expected.

use magsim_scenario::{parse, LoadError};

const GOOD: &str = "name: x
cloud:
  cluster:
    name: k8s
    nodegroups:
      - {name: default-worker, flavor: m3.small, node_count: 1}
steps:
  - at: 1m
    run: openstack coe cluster show k8s
  - at: 2m
    expect:
      status: 200
";

fn err(text: &str) -> String {
    match parse("s.yaml", text) {
        Err(LoadError::At(l)) => l.to_string(),
        Err(other) => panic!("unexpected error kind: {other}"),
        Ok(_) => panic!("accepted:\n{text}"),
    }
}

#[test]
fn the_good_file_loads() {
    let s = parse("s.yaml", GOOD).unwrap();
    assert_eq!(s.steps.len(), 2);
}

#[test]
fn wrong_type_points_at_the_value() {
    assert_eq!(
        err(&GOOD.replace("status: 200", "status: ok")),
        "s.yaml:12:15: steps[1].expect.status: invalid type: string \"ok\", expected u16"
    );
}

#[test]
fn unknown_field_lists_the_expected_ones() {
    let e = err(&GOOD.replace("status: 200", "statsu: 200"));
    assert!(
        e.starts_with(
            "s.yaml:12:7: steps[1].expect.statsu: unknown field `statsu`, expected one of `status`"
        ),
        "{e}"
    );
}

#[test]
fn bad_command_line_says_what_is_supported() {
    let e = err(&GOOD.replace(
        "openstack coe cluster show k8s",
        "openstack coe cluster update k8s set labels/x=1",
    ));
    assert_eq!(e, "s.yaml:9:10: steps[0].run: argument <op>: invalid choice: 'set' (choose from 'add', 'replace', 'remove')");
}

#[test]
fn semantic_errors_are_located_too() {
    let e = err(&GOOD.replace("flavor: m3.small", "flavor: m9.huge"));
    assert!(e.starts_with("s.yaml:6:40: cloud.cluster.nodegroups[0].flavor: unknown flavor \"m9.huge\": expected one of m3.tiny"), "{e}");
    let e = err(&GOOD.replace("at: 2m", "at: 30s"));
    assert_eq!(e, "s.yaml:10:9: steps[1].at: 30s is earlier than the previous step (1m0s): steps run in time order");
    let e = err(&GOOD.replace("at: 1m", "at: 1 minute"));
    assert!(
        e.starts_with("s.yaml:8:9: steps[0].at: invalid duration \"1 minute\""),
        "{e}"
    );
    let e = err(&GOOD.replace("name: default-worker", "name: gpu"));
    assert!(
        e.contains("cloud.cluster.nodegroups: no default worker nodegroup"),
        "{e}"
    );
}

#[test]
fn missing_required_field() {
    let e = err(&GOOD.replace("    name: k8s\n", ""));
    assert!(
        e.starts_with("s.yaml:") && e.contains("cloud.cluster: missing field `name`"),
        "{e}"
    );
}

#[test]
fn manifests_are_checked_at_load() {
    let text = GOOD.replace(
        "    run: openstack coe cluster show k8s\n",
        "    run: kubectl apply -f -\n    manifest: |\n      kind: Gizmo\n      metadata: {name: g}\n",
    );
    let e = err(&text);
    assert!(
        e.contains("steps[0].manifest: manifest document 1: unsupported kind Gizmo"),
        "{e}"
    );
}

#[test]
fn faults_say_which_field_is_wrong_and_what_was_expected() {
    let with = |fault: &str| {
        GOOD.replace(
            "steps:\n",
            &format!("faults:\n  requests:\n    - {fault}\nsteps:\n"),
        )
    };
    let e = err(&with("{service: magnum, error: 503}"));
    assert_eq!(e, "s.yaml:9:17: faults.requests[0].service: unknown service \"magnum\": expected identity, container-infra, orchestration or compute");
    let e = err(&with("{service: kubernetes, error: 503}"));
    assert!(
        e.contains("faults.requests[0].service: faults on the Kubernetes API are not modelled yet"),
        "{e}"
    );
    let e = err(&with("{service: identity, error: 200}"));
    assert!(
        e.ends_with("faults.requests[0].error: 200 is not an error status: expected 400-599"),
        "{e}"
    );
    let e = err(&with("{service: identity, error: 503, drop: true}"));
    assert!(e.ends_with("faults.requests[0]: a request fault has exactly one of `error`, `latency` and `drop: true`"), "{e}");
    let e = err(&with(
        "{service: identity, error: 503, path: /v3/auth/tokens}",
    ));
    assert!(
        e.ends_with("`method` and `path` go together: give both, or neither for every request"),
        "{e}"
    );
    let e = err(&with("{service: identity, error: 503, times: 0}"));
    assert!(e.contains("faults.requests[0].times: 0 requests"), "{e}");
    let e = err(&with(
        "{service: identity, error: 503, from: 2m, until: 1m}",
    ));
    assert!(
        e.contains("faults.requests[0].until: the window is empty"),
        "{e}"
    );
    let e = err(&with("{service: identity, eror: 503}"));
    assert!(e.contains("unknown field `eror`"), "{e}");
    let e = err(&GOOD.replace("node_count: 1}", "node_count: 1, fault: flaky}"));
    assert!(
        e.contains("unknown fault \"flaky\": expected never-ready or not-ready"),
        "{e}"
    );
}

#[test]
fn a_heat_stack_id_must_be_a_uuid() {
    let heat = GOOD.replace("    name: k8s\n", "    name: k8s\n    driver: heat\n");
    let e = err(&heat.replace("driver: heat\n", "driver: heat\n    stack_id: k8s-abc\n"));
    assert!(
        e.contains("cloud.cluster.stack_id: \"k8s-abc\" is not a uuid"),
        "{e}"
    );
    let s = parse("s.yaml", &heat).unwrap();
    let e = s.engine(None);
    let c = e.world.cluster.as_ref().unwrap();
    assert_eq!(c.stack_id.len(), 36, "{}", c.stack_id);
    let ng = c.default_worker().unwrap();
    assert_eq!(ng.stack_id.as_deref(), Some(c.stack_id.as_str()));
    let name = c.stack_name.as_deref().unwrap();
    assert!(name.starts_with("k8s-") && name.len() == 16, "{name}");
    // Its nodes carry the stack name, as the Heat driver's servers do.
    let node = e.world.live_nodes().next().unwrap().1;
    assert!(
        node.name.starts_with(&format!("{name}-node-")),
        "{}",
        node.name
    );
}
