//! Server-side apply and field ownership: what kubectl applies, scales and labels is owned by
//! the manager that wrote it (`metadata.managedFields`), and an apply that would change what
//! another manager owns is refused in kube-apiserver's words until forced.

use super::{fails, ok, start};
use serde_json::Value;

/// The entries of `kind/name`'s `managedFields`, as (manager, operation, subresource, the
/// `fieldsV1` object).
async fn managers(env: &super::Env, args: &[&str]) -> Vec<(String, String, String, Value)> {
    let mut get = vec!["get"];
    get.extend_from_slice(args);
    get.extend_from_slice(&["-o", "json", "--show-managed-fields"]);
    let v: Value = serde_json::from_str(&ok(env, &get).await).expect("kubectl prints JSON");
    v["metadata"]["managedFields"]
        .as_array()
        .expect("managedFields")
        .iter()
        .map(|e| {
            let s = |f: &str| e[f].as_str().unwrap_or_default().to_string();
            (
                s("manager"),
                s("operation"),
                s("subresource"),
                e["fieldsV1"].clone(),
            )
        })
        .collect()
}

fn web(replicas: u32, image: &str) -> String {
    format!(
        "apiVersion: apps/v1
kind: Deployment
metadata: {{name: web, namespace: default}}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      containers:
      - {{name: nginx, image: {image}, resources: {{requests: {{cpu: 100m}}}}}}
"
    )
}

/// The CAPI book's warning, acted out: an applied `replicas` is taken by `kubectl scale`,
/// the next apply conflicts with the scaler, `--force-conflicts` takes it back; a second
/// applier shares what it applies with the same value and conflicts on the rest.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_apply_conflicts_with_the_manager_that_owns_a_field() {
    let Some((_live, _kube, env)) = start("owners").await else {
        return;
    };
    let file = |name: &str, text: &str| env.file(name, text);
    let two = file("web.yaml", &web(2, "nginx:1.27"));
    ok(&env, &["apply", "--server-side", "-f", &two]).await;
    let owners = managers(&env, &["deploy", "web"]).await;
    assert_eq!(owners.len(), 1, "{owners:?}");
    let (manager, operation, sub, fields) = &owners[0];
    assert_eq!(
        (manager.as_str(), operation.as_str(), sub.as_str()),
        ("kubectl", "Apply", "")
    );
    assert_eq!(
        fields["f:spec"]["f:template"]["f:spec"]["f:containers"]["k:{\"name\":\"nginx\"}"]
            ["f:image"],
        serde_json::json!({}),
        "{fields}"
    );
    assert_eq!(fields["f:spec"]["f:replicas"], serde_json::json!({}));
    assert!(
        fields["f:spec"].get("f:progressDeadlineSeconds").is_none(),
        "a default is no applier's: {fields}"
    );

    ok(&env, &["scale", "deploy", "web", "--replicas=5"]).await;
    let owners = managers(&env, &["deploy", "web"]).await;
    let scaler = owners
        .iter()
        .find(|(_, op, sub, _)| op == "Update" && sub == "scale")
        .unwrap_or_else(|| panic!("a scale entry: {owners:?}"));
    assert_eq!(
        scaler.0, "kubectl",
        "kubectl scale names no manager: its User-Agent's"
    );
    assert_eq!(scaler.3, serde_json::json!({"f:spec": {"f:replicas": {}}}));
    let applier = owners.iter().find(|(_, op, ..)| op == "Apply").unwrap();
    assert!(
        applier.3["f:spec"].get("f:replicas").is_none(),
        "taken by the scale: {owners:?}"
    );

    let err = fails(&env, &["apply", "--server-side", "-f", &two]).await;
    assert!(
        err.contains(
            "Apply failed with 1 conflict: conflict with \"kubectl\" with subresource \"scale\" using apps/v1: .spec.replicas"
        ),
        "{err}"
    );
    assert!(
        err.contains("--force-conflicts"),
        "kubectl's advice follows: {err}"
    );
    let replicas = ["get", "deploy", "web", "-o", "jsonpath={.spec.replicas}"];
    assert_eq!(
        ok(&env, &replicas).await,
        "5",
        "a refused apply writes nothing"
    );

    ok(
        &env,
        &["apply", "--server-side", "--force-conflicts", "-f", &two],
    )
    .await;
    assert_eq!(ok(&env, &replicas).await, "2");
    let owners = managers(&env, &["deploy", "web"]).await;
    assert!(
        owners.iter().all(|(_, _, sub, _)| sub.is_empty()),
        "the scaler owns nothing more: {owners:?}"
    );

    // A second applier: the same replicas is shared, another image and replicas conflict.
    let same = file("same.yaml", &web(2, "nginx:1.27"));
    ok(
        &env,
        &[
            "apply",
            "--server-side",
            "--field-manager=team-b",
            "-f",
            &same,
        ],
    )
    .await;
    let owners = managers(&env, &["deploy", "web"]).await;
    let appliers: Vec<&str> = owners.iter().map(|(m, ..)| m.as_str()).collect();
    assert_eq!(
        appliers,
        ["kubectl", "team-b"],
        "both own what they agree on: {owners:?}"
    );
    let other = file("other.yaml", &web(3, "nginx:1.28"));
    let err = fails(
        &env,
        &[
            "apply",
            "--server-side",
            "--field-manager=team-b",
            "-f",
            &other,
        ],
    )
    .await;
    assert!(
        err.contains(
            "Apply failed with 2 conflicts: conflicts with \"kubectl\":\n- .spec.replicas\n- .spec.template.spec.containers[name=\"nginx\"].image"
        ),
        "{err}"
    );

    // What an applier stops applying goes, unless another manager applies it too.
    let unset = file(
        "unset.yaml",
        &web(2, "nginx:1.27").replace("  replicas: 2\n", ""),
    );
    ok(&env, &["apply", "--server-side", "-f", &unset]).await;
    assert_eq!(ok(&env, &replicas).await, "2", "team-b still applies it");
    ok(
        &env,
        &[
            "apply",
            "--server-side",
            "--field-manager=team-b",
            "-f",
            &unset,
        ],
    )
    .await;
    assert_eq!(
        ok(&env, &replicas).await,
        "1",
        "no one's: taken out, so defaulted"
    );

    // An update through the main resource takes only what it changed.
    ok(&env, &["label", "deploy", "web", "tier=frontend"]).await;
    let owners = managers(&env, &["deploy", "web"]).await;
    let labeller = owners.iter().find(|(m, ..)| m == "kubectl-label").unwrap();
    assert_eq!(
        labeller.3["f:metadata"]["f:labels"]["f:tier"],
        serde_json::json!({})
    );
    assert!(labeller.3.get("f:spec").is_none(), "{owners:?}");
}

/// `kubectl apply --server-side`: an applied configuration creates the object, and a later
/// one takes away what it stopped setting (a mount, a key) while what another writer set (a
/// label) stays; a cluster-autoscaler Deployment so applied is the engine's autoscaler.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_side_apply_creates_and_takes_away_what_it_stopped_setting() {
    let Some((live, _kube, env)) = start("ssa").await else {
        return;
    };
    let write = |name: &str, text: &str| env.file(name, text);
    let deployment = |mount: &str| {
        format!(
            "apiVersion: v1
kind: Secret
metadata: {{name: cluster-autoscaler-cloud-config, namespace: kube-system}}
stringData:
  cloud-config: |
    [Global]
    use-clouds=true
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: cluster-autoscaler, namespace: kube-system}}
spec:
  selector: {{matchLabels: {{app: cluster-autoscaler}}}}
  template:
    metadata: {{labels: {{app: cluster-autoscaler}}}}
    spec:
      containers:
      - name: cluster-autoscaler
        image: registry.k8s.io/autoscaling/cluster-autoscaler:v1.18.3
        command: [./cluster-autoscaler, --cloud-provider=magnum, --cluster-name=k8s, --cloud-config=/config/cloud-config, --nodes=1:6:DefaultNodeGroup]
        volumeMounts:
        - {{name: cloud-config, mountPath: {mount}}}
      volumes:
      - name: cloud-config
        secret: {{secretName: cluster-autoscaler-cloud-config}}
"
        )
    };
    let first = write("ca1.yaml", &deployment("/config"));
    assert_eq!(
        ok(&env, &["apply", "--server-side", "-f", &first]).await,
        "secret/cluster-autoscaler-cloud-config serverside-applied\ndeployment.apps/cluster-autoscaler serverside-applied\n"
    );
    let fatal = |e: &magsim_sim::engine::Engine| {
        e.autoscalers
            .iter()
            .find(|a| a.spec.name == "cluster-autoscaler" && !a.is_stopped())
            .and_then(|a| match &a.phase {
                magsim_sim::autoscaler::Phase::CrashLoopBackOff { fatal, .. } => {
                    Some(fatal.message.clone())
                }
                _ => None,
            })
    };
    assert!(
        fatal(&live.engine()).is_some_and(|m| m.contains("use-clouds")),
        "the applied Deployment is the engine's autoscaler, reading the applied Secret"
    );
    let second = write("ca2.yaml", &deployment("/etc/config"));
    ok(&env, &["apply", "--server-side", "-f", &second]).await;
    assert_eq!(
        ok(
            &env,
            &[
                "-n",
                "kube-system",
                "get",
                "deploy",
                "cluster-autoscaler",
                "-o",
                "jsonpath={.spec.template.spec.containers[0].volumeMounts[*].mountPath}"
            ]
        )
        .await,
        "/etc/config",
        "the mount it no longer applies is gone"
    );
    assert_eq!(
        fatal(&live.engine()).as_deref(),
        Some("Couldn't open cloud provider configuration from /config/cloud-config: &fs.PathError{Op:\"open\", Path:\"/config/cloud-config\", Err:0x2}")
    );

    let cm = |data: &str| {
        format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: x}}\ndata: {{{data}}}\n")
    };
    ok(
        &env,
        &[
            "apply",
            "--server-side",
            "-f",
            &write("cm1.yaml", &cm("a: b")),
        ],
    )
    .await;
    ok(&env, &["label", "cm", "x", "keep=me"]).await;
    ok(
        &env,
        &[
            "apply",
            "--server-side",
            "-f",
            &write("cm2.yaml", &cm("c: d")),
        ],
    )
    .await;
    assert_eq!(
        ok(
            &env,
            &[
                "get",
                "cm",
                "x",
                "-o",
                "jsonpath={.data} {.metadata.labels}"
            ]
        )
        .await,
        r#"{"c":"d"} {"keep":"me"}"#
    );
}

/// What the CAPI book warns of, with the simulated autoscaler: an operator applies a
/// MachineDeployment's `replicas` below what its pods need, the autoscaler scales it back up
/// (through `scale`, as the real clusterapi provider does), and the operator's next apply of
/// the lower count is refused as a conflict with `cluster-autoscaler`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_applied_replicas_count_conflicts_with_the_autoscaler_that_changed_it() {
    let Some((live, _kube, env)) = start("md-owners").await else {
        return;
    };
    let list = ok(&env, &["get", "machinedeployments", "-A", "-o", "json"]).await;
    let list: Value = serde_json::from_str(&list).unwrap();
    let md = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| {
            m["metadata"]["name"]
                .as_str()
                .unwrap()
                .ends_with("default-worker")
        })
        .expect("the default-worker MachineDeployment");
    let (ns, name) = (
        md["metadata"]["namespace"].as_str().unwrap().to_string(),
        md["metadata"]["name"].as_str().unwrap().to_string(),
    );
    let replicas = md["spec"]["replicas"].as_u64().unwrap();
    let config = |n: u64| {
        let p = env.dir.join(format!("md-{n}.yaml"));
        std::fs::write(
            &p,
            format!(
                "apiVersion: cluster.x-k8s.io/v1beta1
kind: MachineDeployment
metadata: {{name: {name}, namespace: {ns}}}
spec: {{replicas: {n}}}
"
            ),
        )
        .unwrap();
        p.display().to_string()
    };
    let fewer = config(replicas - 1);
    ok(&env, &["apply", "--server-side", "-f", &fewer]).await;
    let get = [
        "-n",
        &ns,
        "get",
        "machinedeployment",
        &name,
        "-o",
        "jsonpath={.spec.replicas}",
    ];
    assert_eq!(ok(&env, &get).await, (replicas - 1).to_string());
    live.advance(magsim_sim::time::SimDuration::from_mins(10));
    assert_eq!(
        ok(&env, &get).await,
        replicas.to_string(),
        "the autoscaler scaled it back"
    );
    let owners = managers(&env, &["-n", &ns, "machinedeployment", &name]).await;
    let expect = |m: &str, op: &str, sub: &str| (m.to_string(), op.to_string(), sub.to_string());
    let who: Vec<_> = owners
        .iter()
        .map(|(m, op, sub, _)| expect(m, op, sub))
        .collect();
    assert_eq!(
        who,
        [expect("cluster-autoscaler", "Update", "scale")],
        "the resize is the autoscaler's, the applier's only field gone with it: {owners:?}"
    );
    let err = fails(&env, &["apply", "--server-side", "-f", &fewer]).await;
    assert!(
        err.contains("Apply failed with 1 conflict: conflict with \"cluster-autoscaler\" with subresource \"scale\" using cluster.x-k8s.io/v1beta1: .spec.replicas"),
        "{err}"
    );
    assert_eq!(
        ok(&env, &get).await,
        replicas.to_string(),
        "nothing written"
    );
}

/// An applied configuration is made a typed object first: a field the kind does not declare,
/// two containers of one name, a count that is not a number refuse it in
/// structured-merge-diff's words, and nothing is created.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_apply_of_undeclared_fields_or_duplicate_keys_is_refused_whole() {
    let Some((_live, _kube, env)) = start("typed").await else {
        return;
    };
    let p = env.dir.join("bad.yaml");
    std::fs::write(
        &p,
        "apiVersion: apps/v1
kind: Deployment
metadata: {name: bad, namespace: default}
spec:
  replica: 2
  selector: {matchLabels: {app: bad}}
  template:
    metadata: {labels: {app: bad}}
    spec:
      containers:
      - {name: app, image: nginx}
      - {name: app, image: nginx:1.28}
",
    )
    .unwrap();
    let err = fails(
        &env,
        &["apply", "--server-side", "-f", &p.display().to_string()],
    )
    .await;
    assert!(
        err.contains(
            "failed to create typed patch object (default/bad; apps/v1, Kind=Deployment): errors:\n  .spec.replica: field not declared in schema\n  .spec.template.spec.containers: duplicate entries for key [name=\"app\"]"
        ),
        "{err}"
    );
    let gone = fails(&env, &["get", "deploy", "bad"]).await;
    assert!(
        gone.contains("deployments.apps \"bad\" not found"),
        "{gone}"
    );
    let text = std::fs::read_to_string(&p).unwrap();
    let text = text
        .replace("replica: 2", "replicas: two")
        .replace("      - {name: app, image: nginx:1.28}\n", "");
    std::fs::write(&p, text).unwrap();
    let err = fails(
        &env,
        &["apply", "--server-side", "-f", &p.display().to_string()],
    )
    .await;
    assert!(
        err.contains("failed to create typed patch object (default/bad; apps/v1, Kind=Deployment): .spec.replicas: expected numeric (int or float), got string"),
        "{err}"
    );
}

/// Moving from client-side to server-side apply, as kubectl does it: a server-side apply
/// that changes a field the client-side applier set conflicts with it; one that agrees
/// succeeds, and kubectl then rewrites `managedFields` with a JSON patch (the client-side
/// applier's fields become the server-side applier's), which the server takes as given, so
/// the next change applies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_side_applied_object_moves_to_server_side_apply() {
    let Some((_live, _kube, env)) = start("csa-upgrade").await else {
        return;
    };
    let file = |name: &str, text: &str| env.file(name, text);
    let two = file("two.yaml", &web(2, "nginx:1.27"));
    ok(&env, &["apply", "-f", &two]).await;
    let owners = managers(&env, &["deploy", "web"]).await;
    assert_eq!(owners[0].0, "kubectl-client-side-apply", "{owners:?}");
    let three = file("three.yaml", &web(3, "nginx:1.27"));
    let err = fails(&env, &["apply", "--server-side", "-f", &three]).await;
    assert!(
        err.contains("Apply failed with 1 conflict: conflict with \"kubectl-client-side-apply\" using apps/v1: .spec.replicas"),
        "{err}"
    );
    ok(&env, &["apply", "--server-side", "-f", &two]).await;
    let owners = managers(&env, &["deploy", "web"]).await;
    assert!(
        owners
            .iter()
            .all(|(m, ..)| m != "kubectl-client-side-apply"),
        "kubectl moved the client-side applier's fields: {owners:?}"
    );
    ok(&env, &["apply", "--server-side", "-f", &three]).await;
    let replicas = ["get", "deploy", "web", "-o", "jsonpath={.spec.replicas}"];
    assert_eq!(ok(&env, &replicas).await, "3");
}
