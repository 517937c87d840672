//! The real kubectl (1.32, via the gcloud dispatcher at /usr/bin/kubectl) against the mock
//! API server serving the incident scenario: the commands of the incident's Key Commands
//! Reference and the brief, asserted on what kubectl prints.
//!
//! Server-side apply and field ownership are in `ownership`.
//!
//! Without kubectl the tests print why and pass, unless `CI` is set: then they fail.

mod ownership;

use magsim_mocks::kube::KubeMock;
use magsim_mocks::Live;
use magsim_sim::time::SimDuration;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const KUBECTL: &str = "/usr/bin/kubectl";
const PENDING: &str = "high-memory-deployment-844964899f-4md88";

fn kubectl_available() -> bool {
    let found = Path::new(KUBECTL).exists();
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "{KUBECTL} is missing and CI is set: the real-client tests must run in CI"
        );
        eprintln!("skipping: {KUBECTL} not found (set up kubectl 1.32 to run these tests)");
    }
    found
}

/// The incident ten minutes in: one replica Pending with its NotTriggerScaleUp events.
fn incident() -> Live {
    let (file, text) = magsim_scenario::builtin()[0];
    let scenario = magsim_scenario::parse(file, text).expect("incident scenario parses");
    let live = Live::new(&scenario, None);
    live.advance(SimDuration::from_mins(10));
    live
}

/// A kubeconfig and an empty HOME (kubectl's discovery cache) per server.
struct Env {
    dir: PathBuf,
    kubeconfig: PathBuf,
}

impl Env {
    fn new(kube: &KubeMock, name: &str) -> Env {
        let dir = std::env::temp_dir().join(format!(
            "magsim-kubectl-{name}-{}-{}",
            std::process::id(),
            kube.addr.port()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        let kubeconfig = dir.join("kubeconfig");
        kube.write_kubeconfig(&kubeconfig).expect("kubeconfig");
        Env { dir, kubeconfig }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(KUBECTL);
        c.args(args)
            .env("KUBECONFIG", &self.kubeconfig)
            .env("HOME", &self.dir)
            .env_remove("KUBECTL_EXTERNAL_DIFF");
        c
    }

    /// Writes `text` to `name` in the test's directory; its path, for `-f`.
    fn file(&self, name: &str, text: &str) -> String {
        let p = self.dir.join(name);
        std::fs::write(&p, text).expect("write a manifest");
        p.display().to_string()
    }

    /// Runs kubectl off the runtime's threads so the server keeps serving.
    async fn run(&self, args: &[&str]) -> Output {
        let mut cmd = self.command(args);
        tokio::task::spawn_blocking(move || cmd.output().expect("kubectl runs"))
            .await
            .expect("kubectl task")
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

async fn start(name: &str) -> Option<(Live, KubeMock, Env)> {
    if !kubectl_available() {
        return None;
    }
    let live = incident();
    let kube = KubeMock::start(live.clone()).await.expect("server starts");
    let env = Env::new(&kube, name);
    Some((live, kube, env))
}

/// Runs `args` and returns stdout, asserting exit status 0.
async fn ok(env: &Env, args: &[&str]) -> String {
    let o = env.run(args).await;
    let (out, err) = text(&o);
    assert!(o.status.success(), "kubectl {args:?} failed: {out}{err}");
    out
}

/// Runs `args` and returns stderr, asserting exit status 1.
async fn fails(env: &Env, args: &[&str]) -> String {
    let o = env.run(args).await;
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "kubectl {args:?}: {out}{err}");
    err
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_nodes_and_pods() {
    let Some((_live, _kube, env)) = start("get").await else {
        return;
    };
    let v = ok(&env, &["version"]).await;
    assert!(v.contains("Server Version: v1.32.0"), "{v}");
    assert_eq!(
        ok(&env, &["get", "nodes"]).await,
        "\
NAME                                          STATUS   ROLES    AGE   VERSION
k8s-wamiv264xiet-default-worker-sn9dh-7zrqz   Ready    <none>   10m   v1.30.4
k8s-wamiv264xiet-default-worker-sn9dh-br8t5   Ready    <none>   10m   v1.30.4
k8s-wamiv264xiet-default-worker-sn9dh-d9kqq   Ready    <none>   10m   v1.30.4
k8s-wamiv264xiet-default-worker-sn9dh-gc6gz   Ready    <none>   10m   v1.30.4
k8s-wamiv264xiet-default-worker-sn9dh-vnh5k   Ready    <none>   10m   v1.30.4
"
    );
    assert_eq!(
        ok(&env, &["get", "pods", "-A", "-o", "wide"]).await,
        "\
NAMESPACE   NAME                                      READY   STATUS    RESTARTS   AGE   IP           NODE                                          NOMINATED NODE   READINESS GATES
default     high-memory-deployment-844964899f-2x7kq   1/1     Running   0          10m   10.100.0.2   k8s-wamiv264xiet-default-worker-sn9dh-vnh5k   <none>           <none>
default     high-memory-deployment-844964899f-4md88   0/1     Pending   0          10m   <none>       <none>                                        <none>           <none>
default     high-memory-deployment-844964899f-9bzt4   1/1     Running   0          10m   10.100.0.3   k8s-wamiv264xiet-default-worker-sn9dh-7zrqz   <none>           <none>
default     high-memory-deployment-844964899f-hm5vr   1/1     Running   0          10m   10.100.0.4   k8s-wamiv264xiet-default-worker-sn9dh-gc6gz   <none>           <none>
default     high-memory-deployment-844964899f-lq8wd   1/1     Running   0          10m   10.100.0.5   k8s-wamiv264xiet-default-worker-sn9dh-br8t5   <none>           <none>
default     high-memory-deployment-844964899f-x4n2p   1/1     Running   0          10m   10.100.0.6   k8s-wamiv264xiet-default-worker-sn9dh-d9kqq   <none>           <none>
"
    );
    assert_eq!(
        ok(
            &env,
            &[
                "get",
                "pods",
                "-A",
                "--field-selector",
                "status.phase=Pending"
            ]
        )
        .await,
        "\
NAMESPACE   NAME                                      READY   STATUS    RESTARTS   AGE
default     high-memory-deployment-844964899f-4md88   0/1     Pending   0          10m
"
    );
    let labelled = ok(
        &env,
        &["get", "pods", "-l", "app=high-memory", "--no-headers"],
    )
    .await;
    assert_eq!(labelled.lines().count(), 6);
    let ns = ok(&env, &["get", "ns"]).await;
    // The MachineDeployments' namespace (the management cluster's side) is listed too.
    assert_eq!(
        ns,
        "\
NAME                                      STATUS   AGE
default                                   Active   10m
kube-node-lease                           Active   10m
kube-public                               Active   10m
kube-system                               Active   10m
magnum-83bd0e70b4ba4cd092c2fb82b1ce06fb   Active   10m
"
    );
    let o = env.run(&["get", "pods", "-n", "empty"]).await;
    assert_eq!(text(&o).1, "No resources found in empty namespace.\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_status_configmap_and_describe() {
    let Some((_live, _kube, env)) = start("describe").await else {
        return;
    };
    let by_pod = format!("involvedObject.name={PENDING}");
    assert_eq!(
        ok(&env, &["get", "events", "--field-selector", &by_pod]).await,
        "\
LAST SEEN   TYPE      REASON              OBJECT                                        MESSAGE
0s          Warning   FailedScheduling    pod/high-memory-deployment-844964899f-4md88   0/5 nodes are available: 5 Insufficient memory. preemption: 0/5 nodes are available: 5 No preemption victims found for incoming pod.
4m50s       Normal    NotTriggerScaleUp   pod/high-memory-deployment-844964899f-4md88   pod didn't trigger scale-up: 1 max node group size reached
"
    );
    let reason = format!("{by_pod},reason=NotTriggerScaleUp");
    let wide = ok(
        &env,
        &["get", "events", "--field-selector", &reason, "-o", "wide"],
    )
    .await;
    let lines: Vec<&str> = wide.lines().collect();
    assert_eq!(lines.len(), 2, "{wide}");
    assert_eq!(
        lines[0],
        "LAST SEEN   TYPE     REASON              OBJECT                                        SUBOBJECT   SOURCE               MESSAGE                                                      FIRST SEEN   COUNT   NAME"
    );
    assert!(lines[1].starts_with("4m50s       Normal   NotTriggerScaleUp   pod/high-memory-deployment-844964899f-4md88               cluster-autoscaler   pod didn't trigger scale-up: 1 max node group size reached   9m50s        2       high-memory-deployment-844964899f-4md88."), "{wide}");

    let status = ok(
        &env,
        &[
            "-n",
            "kube-system",
            "get",
            "configmap",
            "cluster-autoscaler-status",
            "-o",
            "jsonpath={.data.status}",
        ],
    )
    .await;
    assert!(status.contains("    maxSize: 5\n"), "{status}");
    assert!(status.contains("autoscalerStatus: Running"), "{status}");

    let d = ok(&env, &["describe", "pod", PENDING]).await;
    for want in [
        "Name:             high-memory-deployment-844964899f-4md88\n",
        "Status:           Pending\n",
        "Controlled By:    ReplicaSet/high-memory-deployment-844964899f\n",
        "      memory:     4Gi\n",
        "  PodScheduled   False \n",
        "QoS Class:       Burstable\n",
        "Tolerations:     node.kubernetes.io/not-ready:NoExecute op=Exists for 300s\n",
    ] {
        assert!(d.contains(want), "{want:?} in\n{d}");
    }
    let event = d
        .lines()
        .find(|l| l.contains("NotTriggerScaleUp"))
        .unwrap_or_else(|| panic!("no NotTriggerScaleUp event in\n{d}"));
    assert!(
        event.starts_with("  Normal   NotTriggerScaleUp  "),
        "{event}"
    );
    assert!(
        event.ends_with(
            "  cluster-autoscaler  pod didn't trigger scale-up: 1 max node group size reached"
        ),
        "{event}"
    );
    assert!(event.contains("(x2 over "), "{event}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scale_delete_and_cordon_change_the_world() {
    let Some((live, _kube, env)) = start("scale").await else {
        return;
    };
    assert_eq!(
        ok(
            &env,
            &["scale", "deploy/high-memory-deployment", "--replicas=7"]
        )
        .await,
        "deployment.apps/high-memory-deployment scaled\n"
    );
    assert_eq!(live.engine().world.deployments[0].replicas, 7);
    assert_eq!(
        ok(&env, &["get", "deploy", "high-memory-deployment"]).await,
        "\
NAME                     READY   UP-TO-DATE   AVAILABLE   AGE
high-memory-deployment   5/7     7            5           10m
"
    );
    // --current-replicas: checked from GET …/scale, then a PUT of the Scale.
    assert_eq!(
        fails(
            &env,
            &[
                "scale",
                "deploy/high-memory-deployment",
                "--current-replicas=1",
                "--replicas=3"
            ]
        )
        .await,
        "error: Expected replicas to be 1, was 7\n"
    );
    ok(
        &env,
        &[
            "scale",
            "deploy/high-memory-deployment",
            "--current-replicas=7",
            "--replicas=6",
            "--timeout=10s",
        ],
    )
    .await;
    assert_eq!(live.engine().world.deployments[0].replicas, 6);
    assert_eq!(
        fails(&env, &["scale", "deploy", "nope", "--replicas=2"]).await,
        "error: no objects passed to scale deployments.apps \"nope\" not found\n"
    );

    let victim = "high-memory-deployment-844964899f-2x7kq";
    assert_eq!(
        ok(&env, &["delete", "pod", victim]).await,
        format!("pod \"{victim}\" deleted\n")
    );
    assert!(live.engine().world.find_pod("default", victim).is_none());

    let node = "k8s-wamiv264xiet-default-worker-sn9dh-vnh5k";
    assert_eq!(
        ok(&env, &["cordon", node]).await,
        format!("node/{node} cordoned\n")
    );
    let nodes = ok(&env, &["get", "nodes"]).await;
    assert!(
        nodes.contains(&format!("{node}   Ready,SchedulingDisabled")),
        "{nodes}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_read_like_a_real_server() {
    let Some((_live, _kube, env)) = start("errors").await else {
        return;
    };
    assert_eq!(
        fails(&env, &["get", "pod", "nope"]).await,
        "Error from server (NotFound): pods \"nope\" not found\n"
    );
    assert_eq!(
        fails(&env, &["get", "deploy", "nope"]).await,
        "Error from server (NotFound): deployments.apps \"nope\" not found\n"
    );
    assert_eq!(
        fails(
            &env,
            &[
                "-n",
                "kube-system",
                "get",
                "configmap",
                "nope",
                "-o",
                "jsonpath={.data.status}"
            ]
        )
        .await,
        "Error from server (NotFound): configmaps \"nope\" not found\n"
    );
    assert_eq!(
        fails(&env, &["-n", "nonexist", "get", "pod", "nope"]).await,
        "Error from server (NotFound): namespaces \"nonexist\" not found\n"
    );
    assert_eq!(
        fails(&env, &["describe", "pod", "nope"]).await,
        "Error from server (NotFound): pods \"nope\" not found\n"
    );
    assert_eq!(
        fails(&env, &["get", "events", "--field-selector", "foo=bar"]).await,
        "Error from server (BadRequest): Unable to find \"/v1, Resource=events\" that match label selector \"\", field selector \"foo=bar\": field label not supported: foo\n"
    );
    assert_eq!(
        fails(&env, &["get", "foos"]).await,
        "error: the server doesn't have a resource type \"foos\"\n"
    );
}

async fn next(rx: &mut tokio::sync::mpsc::UnboundedReceiver<String>) -> String {
    tokio::time::timeout(std::time::Duration::from_secs(20), rx.recv())
        .await
        .expect("kubectl printed a line in time")
        .expect("kubectl still running")
}

/// Kills the child when the test ends, however it ends.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_pods_watch_streams_a_new_pod() {
    use std::io::BufRead;
    let Some((live, _kube, env)) = start("watch").await else {
        return;
    };
    let mut cmd = env.command(&["get", "pods", "-w"]);
    cmd.stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null());
    let mut child = Child(cmd.spawn().expect("kubectl get pods -w starts"));
    let stdout = child.0.stdout.take().expect("stdout");
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let header = next(&mut rx).await;
    assert_eq!(
        header,
        "NAME                                      READY   STATUS    RESTARTS   AGE"
    );
    let mut initial = Vec::new();
    for _ in 0..6 {
        initial.push(next(&mut rx).await);
    }
    assert!(
        initial.contains(
            &"high-memory-deployment-844964899f-4md88   0/1     Pending   0          10m"
                .to_string()
        ),
        "{initial:?}"
    );
    // Give kubectl time to open its watch, then scale up: the new replica streams in.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    live.mutate(|e| {
        e.apply(
            magsim_sim::engine::Operation::ScaleDeployment {
                namespace: "default".into(),
                name: "high-memory-deployment".into(),
                replicas: 7,
            },
            None,
        )
    });
    let row = next(&mut rx).await;
    let new_pod = live
        .engine()
        .world
        .live_pods()
        .map(|(_, p)| p.name.clone())
        .last()
        .expect("pods");
    assert_eq!(row, format!("{new_pod}   0/1     Pending   0          0s"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn machine_deployments_scale_and_writes_of_configmaps_and_events() {
    let Some((live, _kube, env)) = start("capi").await else {
        return;
    };
    let ns = "magnum-83bd0e70b4ba4cd092c2fb82b1ce06fb";
    let md = "k8s-wamiv264xiet-default-worker";
    // Discovery finds the CRD's group; the Table carries its printer columns.
    assert_eq!(
        ok(&env, &["get", "machinedeployments", "-A"]).await,
        "\
NAMESPACE                                 NAME                              CLUSTER            REPLICAS   READY   UPDATED   UNAVAILABLE   PHASE     AGE   VERSION
magnum-83bd0e70b4ba4cd092c2fb82b1ce06fb   k8s-wamiv264xiet-default-worker   k8s-wamiv264xiet   5          5       5         0             Running   10m   v1.30.4
"
    );
    assert_eq!(
        ok(
            &env,
            &[
                "get",
                "md",
                "-n",
                ns,
                md,
                "-o",
                "jsonpath={.metadata.annotations}"
            ]
        )
        .await,
        r#"{"cluster.x-k8s.io/cluster-api-autoscaler-node-group-max-size":"5","cluster.x-k8s.io/cluster-api-autoscaler-node-group-min-size":"1"}"#
    );
    assert_eq!(
        ok(
            &env,
            &["scale", "-n", ns, "machinedeployment", md, "--replicas=6"]
        )
        .await,
        format!("machinedeployment.cluster.x-k8s.io/{md} scaled\n")
    );
    assert_eq!(live.engine().world.machine_deployments[0].replicas, 6);
    assert_eq!(
        ok(&env, &["get", "md", "-A", "-o", "wide"]).await,
        "\
NAMESPACE                                 NAME                              CLUSTER            DESIRED   REPLICAS   READY   UPDATED   UNAVAILABLE   PHASE       AGE   VERSION
magnum-83bd0e70b4ba4cd092c2fb82b1ce06fb   k8s-wamiv264xiet-default-worker   k8s-wamiv264xiet   6         6          5       6         1             ScalingUp   10m   v1.30.4
"
    );

    // kubectl create sends protobuf; replace sends JSON (a PUT).
    assert_eq!(
        ok(
            &env,
            &[
                "create",
                "configmap",
                "magsim-kubectl",
                "--from-literal=status=first"
            ]
        )
        .await,
        "configmap/magsim-kubectl created\n"
    );
    let yaml = ok(&env, &["get", "configmap", "magsim-kubectl", "-o", "yaml"]).await;
    assert!(
        yaml.starts_with("apiVersion: v1\ndata:\n  status: first\nkind: ConfigMap\n"),
        "{yaml}"
    );
    let file = env.dir.join("cm.yaml");
    std::fs::write(&file, yaml.replace("status: first", "status: second")).unwrap();
    let path = file.to_str().unwrap();
    assert_eq!(
        ok(&env, &["replace", "-f", path]).await,
        "configmap/magsim-kubectl replaced\n"
    );
    assert_eq!(
        ok(
            &env,
            &[
                "get",
                "cm",
                "magsim-kubectl",
                "-o",
                "jsonpath={.data.status}"
            ]
        )
        .await,
        "second"
    );
    // The same file again carries a stale resourceVersion.
    assert!(fails(&env, &["replace", "-f", path])
        .await
        .contains("the object has been modified"),);

    // Two identical events are one event with count 2.
    let event = env.dir.join("event.yaml");
    std::fs::write(
        &event,
        "\
apiVersion: v1
kind: Event
metadata: {name: magsim-status.1, namespace: kube-system}
involvedObject: {kind: ConfigMap, namespace: kube-system, name: magsim-status}
reason: ScaledUpGroup
message: setting group size to 6
type: Normal
source: {component: cluster-autoscaler}
",
    )
    .unwrap();
    let event = event.to_str().unwrap();
    for _ in 0..2 {
        ok(&env, &["create", "-f", event]).await;
    }
    let wide = ok(
        &env,
        &[
            "get",
            "events",
            "-n",
            "kube-system",
            "--field-selector",
            "involvedObject.name=magsim-status",
            "-o",
            "custom-columns=REASON:.reason,COUNT:.count,SOURCE:.source.component",
        ],
    )
    .await;
    assert_eq!(
        wide,
        "REASON          COUNT   SOURCE\nScaledUpGroup   2       cluster-autoscaler\n"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_injected_fault_is_what_kubectl_prints() {
    use magsim_sim::cloud::faults::{FaultEffect, RequestFault, Service};
    let Some((_live, kube, env)) = start("fault").await else {
        return;
    };
    let pods = "/api/v1/namespaces/default/pods";
    kube.inject(
        RequestFault::new(Service::Kubernetes, FaultEffect::Error(503))
            .on("GET", pods)
            .times(1),
    )
    .unwrap();
    let err = fails(&env, &["get", "pods"]).await;
    assert_eq!(
        err,
        "Error from server (ServiceUnavailable): the server is currently unable to handle the request\n"
    );
    ok(&env, &["get", "pods"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_writes_are_refused_in_the_servers_words_and_change_nothing() {
    let Some((_live, _kube, env)) = start("admission").await else {
        return;
    };
    let deploy = ["get", "deploy", "high-memory-deployment", "-o", "json"];
    let status = [
        "-n",
        "kube-system",
        "get",
        "configmap",
        "cluster-autoscaler-status",
        "-o",
        "json",
    ];
    let before = (ok(&env, &deploy).await, ok(&env, &status).await);

    let err = fails(
        &env,
        &["create", "configmap", "Bad_Name!", "--from-literal=a=b"],
    )
    .await;
    assert!(
        err.contains(r#"ConfigMap "Bad_Name!" is invalid: metadata.name: Invalid value: "Bad_Name!": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character"#),
        "{err}"
    );
    assert_eq!(
        fails(&env, &["get", "configmap", "Bad_Name!"]).await,
        "Error from server (NotFound): configmaps \"Bad_Name!\" not found\n"
    );

    // A Scale whose name is not the URL's, and a Secret sent to a ConfigMap's URL.
    let scale = env.dir.join("scale.json");
    std::fs::write(
        &scale,
        r#"{"kind": "Scale", "apiVersion": "autoscaling/v1", "metadata": {"name": "other", "namespace": "default"}, "spec": {"replicas": 1}}"#,
    )
    .unwrap();
    let url = "/apis/apps/v1/namespaces/default/deployments/high-memory-deployment/scale";
    let err = fails(
        &env,
        &["replace", "--raw", url, "-f", &scale.display().to_string()],
    )
    .await;
    assert!(
        err.contains("the name of the object (other) does not match the name on the URL (high-memory-deployment)"),
        "{err}"
    );
    let secret = env.dir.join("secret.json");
    std::fs::write(
        &secret,
        r#"{"kind": "Secret", "apiVersion": "v1", "metadata": {"name": "cluster-autoscaler-status", "namespace": "kube-system"}, "data": {"status": "eA=="}}"#,
    )
    .unwrap();
    let url = "/api/v1/namespaces/kube-system/configmaps/cluster-autoscaler-status";
    let err = fails(
        &env,
        &["replace", "--raw", url, "-f", &secret.display().to_string()],
    )
    .await;
    assert_eq!(
        err,
        "Error from server (BadRequest): Secret in version \"v1\" cannot be handled as a ConfigMap: converting (v1.Secret) to (core.ConfigMap): unknown conversion\n"
    );
    let typed = env.dir.join("typed.yaml");
    std::fs::write(
        &typed,
        "apiVersion: apps/v1
kind: Deployment
metadata: {name: typed, namespace: default}
spec:
  replicas: two
  selector: {matchLabels: {app: typed}}
  template:
    metadata: {labels: {app: typed}}
    spec: {containers: [{name: app, image: nginx}]}
",
    )
    .unwrap();
    let err = fails(&env, &["create", "-f", &typed.display().to_string()]).await;
    assert!(
        err.contains("Error from server (BadRequest): error when creating \"")
            && err.ends_with(": Deployment in version \"v1\" cannot be handled as a Deployment: json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32\n"),
        "{err}"
    );
    assert_eq!(
        (ok(&env, &deploy).await, ok(&env, &status).await),
        before,
        "refused writes leave the objects as they were"
    );
    let gone = fails(&env, &["get", "deploy", "typed"]).await;
    assert!(gone.contains("not found"), "{gone}");
    let patch = r#"{"spec":{"replicas":"two"}}"#;
    let err = fails(
        &env,
        &["patch", "deploy", "high-memory-deployment", "-p", patch],
    )
    .await;
    assert_eq!(
        err,
        "The request is invalid: patch: Invalid value: \"map[spec:map[replicas:two]]\": unrecognized type: int32\n"
    );
    assert_eq!(
        ok(&env, &deploy).await,
        before.0,
        "the refused patch wrote nothing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_service_accounts_and_rbac_as_a_manifest_installs_them() {
    let Some((live, _kube, env)) = start("rbac").await else {
        return;
    };
    // The report's step 4: the cloud-config Secret, which is the engine's own.
    assert_eq!(
        ok(
            &env,
            &[
                "-n",
                "kube-system",
                "create",
                "secret",
                "generic",
                "cluster-autoscaler-cloud-config",
                "--from-literal=cloud-config=[Global]\nauth-url=https://js2.jetstream-cloud.org:5000/v3/\n",
            ]
        )
        .await,
        "secret/cluster-autoscaler-cloud-config created\n"
    );
    {
        let e = live.engine();
        let s = e
            .world
            .secrets
            .iter()
            .find(|s| s.name == "cluster-autoscaler-cloud-config")
            .expect("the engine holds it");
        assert_eq!(
            s.data["cloud-config"],
            "[Global]\nauth-url=https://js2.jetstream-cloud.org:5000/v3/\n"
        );
    }
    let err = fails(
        &env,
        &[
            "-n",
            "nowhere",
            "create",
            "secret",
            "generic",
            "x",
            "--from-literal=a=b",
        ],
    )
    .await;
    assert!(err.contains("namespaces \"nowhere\" not found"), "{err}");
    let table = ok(&env, &["-n", "kube-system", "get", "secrets"]).await;
    assert!(table.starts_with("NAME "), "{table}");
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("cluster-autoscaler-cloud-config")
                && l.split_whitespace().nth(1) == Some("Opaque")
                && l.split_whitespace().nth(2) == Some("1")),
        "{table}"
    );

    // Step 5: the ServiceAccount and RBAC, applied from a manifest (kubectl validates through
    // the server: the OpenAPI v3 documents say every kind takes `fieldValidation`).
    let manifest = env.dir.join("rbac.yaml");
    std::fs::write(
        &manifest,
        "apiVersion: v1
kind: ServiceAccount
metadata: {name: cluster-autoscaler, namespace: kube-system}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: cluster-autoscaler}
rules:
- apiGroups: [\"\"]
  resources: [pods, nodes]
  verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: cluster-autoscaler}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-autoscaler}
subjects:
- {kind: ServiceAccount, name: cluster-autoscaler, namespace: kube-system}
",
    )
    .unwrap();
    let path = manifest.display().to_string();
    assert_eq!(
        ok(&env, &["apply", "-f", &path]).await,
        "serviceaccount/cluster-autoscaler created
clusterrole.rbac.authorization.k8s.io/cluster-autoscaler created
clusterrolebinding.rbac.authorization.k8s.io/cluster-autoscaler created
"
    );
    assert_eq!(
        ok(&env, &["apply", "-f", &path]).await,
        "serviceaccount/cluster-autoscaler unchanged
clusterrole.rbac.authorization.k8s.io/cluster-autoscaler unchanged
clusterrolebinding.rbac.authorization.k8s.io/cluster-autoscaler unchanged
",
        "the last-applied annotation is kept"
    );
    let binding = ok(
        &env,
        &[
            "get",
            "clusterrolebinding",
            "cluster-autoscaler",
            "-o",
            "wide",
        ],
    )
    .await;
    let row: Vec<&str> = binding
        .lines()
        .nth(1)
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    assert_eq!(
        (row.first(), row.get(1), row.last()),
        (
            Some(&"cluster-autoscaler"),
            Some(&"ClusterRole/cluster-autoscaler"),
            Some(&"kube-system/cluster-autoscaler")
        ),
        "{binding}"
    );
    assert_eq!(
        ok(
            &env,
            &[
                "get",
                "clusterrole",
                "cluster-autoscaler",
                "-o",
                "jsonpath={.rules[0].verbs}"
            ]
        )
        .await,
        r#"["get","list","watch"]"#
    );
    assert_eq!(
        ok(
            &env,
            &[
                "-n",
                "kube-system",
                "get",
                "sa",
                "cluster-autoscaler",
                "-o",
                "name"
            ]
        )
        .await,
        "serviceaccount/cluster-autoscaler\n"
    );

    // Deleting the Secret takes it out of the engine.
    assert_eq!(
        ok(
            &env,
            &[
                "-n",
                "kube-system",
                "delete",
                "secret",
                "cluster-autoscaler-cloud-config"
            ]
        )
        .await,
        "secret \"cluster-autoscaler-cloud-config\" deleted\n"
    );
    assert!(!live
        .engine()
        .world
        .secrets
        .iter()
        .any(|s| s.name == "cluster-autoscaler-cloud-config"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deployments_applied_with_kubectl_run_in_the_engine() {
    let Some((live, _kube, env)) = start("deployments").await else {
        return;
    };
    let write = |name: &str, text: &str| {
        let p = env.dir.join(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    };
    // A workload: its ReplicaSet and pods are the engine's, pending where nothing fits.
    let stress = write(
        "stress.yaml",
        "apiVersion: apps/v1
kind: Deployment
metadata: {name: stress}
spec:
  replicas: 3
  selector: {matchLabels: {app: stress}}
  template:
    metadata: {labels: {app: stress}}
    spec:
      containers:
      - {name: stress, image: polinux/stress, resources: {requests: {cpu: 500m, memory: 4Gi}}}
",
    );
    assert_eq!(
        ok(&env, &["apply", "-f", &stress]).await,
        "deployment.apps/stress created\n"
    );
    let pods = |e: &magsim_sim::engine::Engine| {
        e.world
            .pods()
            .iter()
            .filter(|p| !p.deleted && p.name.starts_with("stress-"))
            .count()
    };
    assert_eq!(pods(&live.engine()), 3, "the engine runs its pods");
    let listed = ok(&env, &["get", "pods", "-l", "app=stress", "--no-headers"]).await;
    assert_eq!(listed.lines().count(), 3, "{listed}");
    assert_eq!(
        ok(&env, &["scale", "deploy", "stress", "--replicas=4"]).await,
        "deployment.apps/stress scaled\n"
    );
    assert_eq!(pods(&live.engine()), 4);
    assert_eq!(
        ok(&env, &["delete", "-f", &stress]).await,
        "deployment.apps \"stress\" deleted\n"
    );
    assert_eq!(pods(&live.engine()), 0, "its pods go with it");

    // A cluster-autoscaler Deployment: the simulated in-cluster autoscaler, failing to start
    // on this cloud-config exactly as the binary does, and read back as written.
    let manifest = write(
        "ca.yaml",
        "apiVersion: v1
kind: Secret
metadata: {name: cluster-autoscaler-cloud-config, namespace: kube-system}
stringData:
  cloud-config: |
    [Global]
    auth-url=https://js2.jetstream-cloud.org:5000/v3/
    application_credential_id=0f3c1d2e4b5a69788796a5b4c3d2e1f0
    application_credential_secret=not-a-real-secret
    region=IU
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: cluster-autoscaler, namespace: kube-system}
spec:
  replicas: 1
  selector: {matchLabels: {app: cluster-autoscaler}}
  template:
    metadata: {labels: {app: cluster-autoscaler}}
    spec:
      containers:
      - name: cluster-autoscaler
        image: registry.k8s.io/autoscaling/cluster-autoscaler:v1.18.3
        command: [./cluster-autoscaler, --cloud-provider=magnum, --cluster-name=k8s, --cloud-config=/config/cloud-config, --nodes=1:6:DefaultNodeGroup]
        volumeMounts:
        - {name: cloud-config, mountPath: /config, readOnly: true}
      volumes:
      - name: cloud-config
        secret: {secretName: cluster-autoscaler-cloud-config}
",
    );
    assert_eq!(
        ok(&env, &["apply", "-f", &manifest]).await,
        "secret/cluster-autoscaler-cloud-config created\ndeployment.apps/cluster-autoscaler created\n"
    );
    let phase = |e: &magsim_sim::engine::Engine| {
        e.autoscalers
            .iter()
            .find(|a| a.spec.name == "cluster-autoscaler" && !a.is_stopped())
            .map(|a| match &a.phase {
                magsim_sim::autoscaler::Phase::CrashLoopBackOff { fatal, .. } => {
                    fatal.message.clone()
                }
                other => format!("{other:?}"),
            })
    };
    assert_eq!(
        phase(&live.engine()).as_deref(),
        Some("Failed to create magnum manager: couldn't read cloud config: 3:12: illegal character U+005F '_'"),
        "scenario 04's first attempt, as the real binary fails"
    );
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
                "name"
            ]
        )
        .await,
        "deployment.apps/cluster-autoscaler\n"
    );
    assert_eq!(
        ok(
            &env,
            &[
                "-n",
                "kube-system",
                "delete",
                "deploy",
                "cluster-autoscaler"
            ]
        )
        .await,
        "deployment.apps \"cluster-autoscaler\" deleted\n"
    );
    assert_eq!(
        phase(&live.engine()),
        None,
        "deleting it stops the autoscaler"
    );
}

/// The incident's step 5 and 6 as the operator lived them: the applied autoscaler's pod
/// crash-loops, and `kubectl logs` shows the fatal line that named the cause.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_crash_looping_autoscaler_s_pod_and_logs_are_the_kubelet_s() {
    let Some((live, _kube, env)) = start("ca-logs").await else {
        return;
    };
    let manifest = env.dir.join("ca.yaml");
    std::fs::write(
        &manifest,
        "apiVersion: v1
kind: Secret
metadata: {name: cluster-autoscaler-cloud-config, namespace: kube-system}
stringData:
  cloud-config: |
    [Global]
    auth-url=https://js2.jetstream-cloud.org:5000/v3/
    application_credential_id=0f3c1d2e4b5a69788796a5b4c3d2e1f0
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: cluster-autoscaler, namespace: kube-system}
spec:
  replicas: 1
  selector: {matchLabels: {app: cluster-autoscaler}}
  template:
    metadata: {labels: {app: cluster-autoscaler}}
    spec:
      containers:
      - name: cluster-autoscaler
        image: registry.k8s.io/autoscaling/cluster-autoscaler:v1.30.2
        command: [./cluster-autoscaler, --cloud-provider=magnum, --cluster-name=k8s, --cloud-config=/config/cloud-config, --nodes=1:6:default-worker, --v=1]
        volumeMounts:
        - {name: cloud-config, mountPath: /config, readOnly: true}
      volumes:
      - name: cloud-config
        secret: {secretName: cluster-autoscaler-cloud-config}
",
    )
    .unwrap();
    let manifest = manifest.display().to_string();
    ok(&env, &["apply", "-f", &manifest]).await;
    let ns = ["-n", "kube-system"];
    let args =
        |rest: &[&'static str]| -> Vec<&'static str> { ns.iter().chain(rest).copied().collect() };
    let state = "jsonpath={.items[0].status.containerStatuses[0].state.waiting.reason} {.items[0].status.containerStatuses[0].restartCount} {.items[0].status.containerStatuses[0].lastState.terminated.exitCode}";
    assert_eq!(
        ok(
            &env,
            &args(&["get", "pods", "-l", "app=cluster-autoscaler", "-o", state])
        )
        .await,
        "CrashLoopBackOff 0 255",
        "the first crash: waiting in back-off, not yet restarted, klog's exit status"
    );
    // 14:10 is the incident's ten minutes in; the process is pid 1 in its container.
    let crash = |time: &str| {
        format!(
            "I1110 {time}.000000       1 main.go:649] Cluster Autoscaler 1.30.2\n\
             I1110 {time}.000000       1 leaderelection.go:250] attempting to acquire leader lease kube-system/cluster-autoscaler...\n\
             I1110 {time}.000000       1 leaderelection.go:260] successfully acquired lease kube-system/cluster-autoscaler\n\
             I1110 {time}.000000       1 cloud_provider_builder.go:30] Building magnum cloud provider.\n\
             F1110 {time}.000000       1 magnum_cloud_provider.go:341] Failed to create magnum manager: couldn't read cloud config: 3:12: illegal character U+005F '_'\n"
        )
    };
    assert_eq!(
        ok(&env, &args(&["logs", "deploy/cluster-autoscaler"])).await,
        crash("14:10:00"),
        "a container in back-off shows the log of the run that crashed"
    );
    assert_eq!(
        ok(&env, &args(&["logs", "deploy/cluster-autoscaler", "--tail=1", "--timestamps"])).await,
        "2025-11-10T14:10:00.000000000Z F1110 14:10:00.000000       1 magnum_cloud_provider.go:341] Failed to create magnum manager: couldn't read cloud config: 3:12: illegal character U+005F '_'\n"
    );

    // The kubelet's back-off: 10 s, then the third run crashes.
    live.advance(SimDuration::from_secs(10));
    assert_eq!(
        ok(
            &env,
            &args(&["get", "pods", "-l", "app=cluster-autoscaler", "-o", state])
        )
        .await,
        "CrashLoopBackOff 2 255"
    );
    let table = ok(
        &env,
        &args(&["get", "pods", "-l", "app=cluster-autoscaler"]),
    )
    .await;
    let row: Vec<&str> = table
        .lines()
        .nth(1)
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    assert_eq!(
        row.get(1..5),
        Some(&["0/1", "CrashLoopBackOff", "2", "(0s"][..]),
        "{table}"
    );
    assert_eq!(
        ok(&env, &args(&["logs", "deploy/cluster-autoscaler"])).await,
        crash("14:10:10")
    );
    assert_eq!(
        ok(
            &env,
            &args(&["logs", "deploy/cluster-autoscaler", "--previous"])
        )
        .await,
        crash("14:10:10"),
        "in back-off, --previous is the same last termination (validateContainerLogStatus)"
    );
    let describe = ok(
        &env,
        &args(&["describe", "pods", "-l", "app=cluster-autoscaler"]),
    )
    .await;
    for line in [
        "Restart Count:  2",
        "Exit Code:    255",
        "Started container cluster-autoscaler",
        "Back-off restarting failed container cluster-autoscaler in pod cluster-autoscaler-",
    ] {
        assert!(describe.contains(line), "{line:?} not in\n{describe}");
    }
    let err = fails(
        &env,
        &args(&["logs", "deploy/cluster-autoscaler", "-c", "sidecar"]),
    )
    .await;
    assert!(
        err.contains("container sidecar is not valid for pod cluster-autoscaler-"),
        "{err}"
    );
    // The Deployment never becomes available: `rollout status` waits, then (past the
    // controller's 600 s progress deadline) gives up.
    let o = env
        .run(&args(&[
            "rollout",
            "status",
            "deploy/cluster-autoscaler",
            "--timeout=1s",
        ]))
        .await;
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}{err}");
    assert!(
        out.contains("Waiting for deployment \"cluster-autoscaler\" rollout to finish: 0 of 1 updated replicas are available..."),
        "{out}{err}"
    );
    live.advance(SimDuration::from_mins(10));
    assert_eq!(
        fails(
            &env,
            &args(&["rollout", "status", "deploy/cluster-autoscaler"])
        )
        .await,
        "error: deployment \"cluster-autoscaler\" exceeded its progress deadline\n"
    );
    // Deleting the Deployment takes its pod.
    ok(&env, &args(&["delete", "deploy/cluster-autoscaler"])).await;
    assert_eq!(
        ok(&env, &args(&["get", "pods", "-o", "name"])).await,
        "",
        "the autoscaler's pod went with its Deployment"
    );
}

/// Scenario 05's in-cluster autoscaler runs: its pod is Ready, `--previous` has nothing to
/// show, and `logs -f` streams the scale-up line as the loop writes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_autoscaler_s_log_follows_its_loop() {
    if !kubectl_available() {
        return;
    }
    // Its autoscaler as a 1.30.2 binary (whose log lines were measured), on the nodegroup.
    let text = include_str!("../../../scenarios/incident/05-in-cluster-trust-config.yaml")
        .replace("cluster-autoscaler:v1.18.3", "cluster-autoscaler:v1.30.2")
        .replace("--nodes=1:6:DefaultNodeGroup", "--nodes=1:6:default-worker");
    let scenario = magsim_scenario::parse("05-in-cluster-trust-config.yaml", &text)
        .expect("scenario 05 parses");
    let live = Live::new(&scenario, None);
    let kube = KubeMock::start(live.clone()).await.expect("server starts");
    let env = Env::new(&kube, "ca-follow");
    let pod = ok(&env, &["-n", "kube-system", "get", "pods", "-o", "name"]).await;
    let pod = pod.trim().to_string();
    assert!(pod.starts_with("pod/cluster-autoscaler-"), "{pod}");
    assert_eq!(
        ok(
            &env,
            &[
                "-n",
                "kube-system",
                "get",
                &pod,
                "-o",
                "jsonpath={.status.containerStatuses[0].ready} {.status.containerStatuses[0].restartCount}"
            ]
        )
        .await,
        "true 0"
    );
    assert_eq!(
        ok(
            &env,
            &[
                "-n",
                "kube-system",
                "rollout",
                "status",
                "deploy/cluster-autoscaler"
            ]
        )
        .await,
        "deployment \"cluster-autoscaler\" successfully rolled out\n"
    );
    let describe = ok(
        &env,
        &[
            "-n",
            "kube-system",
            "describe",
            "deploy",
            "cluster-autoscaler",
        ],
    )
    .await;
    let rs = pod
        .trim_start_matches("pod/")
        .rsplit_once('-')
        .map(|(rs, _)| rs)
        .unwrap_or_default();
    assert!(
        describe.contains(&format!("NewReplicaSet:   {rs} (1/1 replicas created)")),
        "its ReplicaSet is the pod's owner and the Deployment's: {describe}"
    );
    assert_eq!(
        ok(
            &env,
            &[
                "-n",
                "kube-system",
                "wait",
                "--for=condition=Available",
                "deploy/cluster-autoscaler",
                "--timeout=5s"
            ]
        )
        .await,
        "deployment.apps/cluster-autoscaler condition met\n"
    );
    assert_eq!(
        ok(
            &env,
            &[
                "-n",
                "kube-system",
                "wait",
                "--for=condition=Ready",
                &pod,
                "--timeout=5s"
            ]
        )
        .await,
        format!("{pod} condition met\n")
    );
    let err = fails(&env, &["-n", "kube-system", "logs", &pod, "--previous"]).await;
    let name = pod.trim_start_matches("pod/");
    assert!(
        err.contains(&format!(
            "previous terminated container \"cluster-autoscaler\" in pod \"{name}\" not found"
        )),
        "{err}"
    );

    let mut follow = env.command(&["-n", "kube-system", "logs", "-f", &pod]);
    follow.stdout(std::process::Stdio::piped());
    let mut child = Child(follow.spawn().expect("kubectl logs -f starts"));
    let stdout = child.0.stdout.take().expect("stdout");
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    assert_eq!(
        next(&mut rx).await,
        "I1110 14:00:00.000000       1 leaderelection.go:250] attempting to acquire leader lease kube-system/cluster-autoscaler...",
        "the log so far comes first"
    );
    // The first loop, 10 s in, scales the one group (klog V(0), executor.go).
    live.advance(SimDuration::from_secs(10));
    let mut seen = Vec::new();
    loop {
        let line = next(&mut rx).await;
        if line.contains("Scale-up: setting group") {
            assert!(
                line.starts_with("I1110 14:00:10.000000       1 executor.go:162] Scale-up: setting group default-worker")
                    && line.ends_with(" size to 6"),
                "{line}"
            );
            break;
        }
        seen.push(line);
        assert!(seen.len() < 20, "no scale-up line in {seen:#?}");
    }
    drop(child);
}

/// `label`, `annotate` and `patch` of the kinds the engine renders keep what they wrote, and
/// a deleted object takes its labels with it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn labels_and_annotations_written_are_read_back() {
    let Some((live, _kube, env)) = start("metadata").await else {
        return;
    };
    let jsonpath = |p: &str| format!("jsonpath={p}");
    let deploy = "high-memory-deployment";
    assert_eq!(
        ok(&env, &["label", "deploy", deploy, "team=data"]).await,
        format!("deployment.apps/{deploy} labeled\n")
    );
    assert_eq!(
        ok(
            &env,
            &[
                "get",
                "deploy",
                deploy,
                "-o",
                &jsonpath("{.metadata.labels}")
            ]
        )
        .await,
        r#"{"app":"high-memory","team":"data"}"#
    );
    ok(&env, &["create", "configmap", "c1", "--from-literal=a=b"]).await;
    assert_eq!(
        ok(&env, &["label", "cm", "c1", "x=y"]).await,
        "configmap/c1 labeled\n"
    );
    ok(&env, &["annotate", "cm", "c1", "note=hi"]).await;
    assert_eq!(
        ok(&env, &["patch", "cm", "c1", "-p", r#"{"data":{"a":"z"}}"#]).await,
        "configmap/c1 patched\n"
    );
    assert_eq!(
        ok(
            &env,
            &[
                "get",
                "cm",
                "c1",
                "-o",
                &jsonpath("{.metadata.labels} {.metadata.annotations} {.data}")
            ]
        )
        .await,
        r#"{"x":"y"} {"note":"hi"} {"a":"z"}"#
    );
    assert_eq!(
        live.engine().world.configmaps[&("default".to_string(), "c1".to_string())]
            .data()
            .get("a")
            .map(String::as_str),
        Some("z"),
        "the patch reached the engine"
    );
    ok(
        &env,
        &["create", "secret", "generic", "s1", "--from-literal=k=v"],
    )
    .await;
    ok(&env, &["label", "secret", "s1", "tier=db"]).await;
    assert_eq!(
        ok(
            &env,
            &["get", "secret", "s1", "-o", &jsonpath("{.metadata.labels}")]
        )
        .await,
        r#"{"tier":"db"}"#
    );
    ok(&env, &["delete", "cm", "c1"]).await;
    ok(&env, &["create", "configmap", "c1", "--from-literal=a=b"]).await;
    assert_eq!(
        ok(
            &env,
            &["get", "cm", "c1", "-o", &jsonpath("{.metadata.labels}")]
        )
        .await,
        "",
        "a new ConfigMap of the same name starts without the old one's labels"
    );
}

/// `kubectl drain` evicts through the `eviction` subresource: a PodDisruptionBudget with no
/// disruption left holds the pod (429, retried until the timeout), and without it the pod
/// goes and its ReplicaSet's replacement is scheduled elsewhere or pends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drain_evicts_and_honours_a_disruption_budget() {
    let Some((live, _kube, env)) = start("drain").await else {
        return;
    };
    let (node, pod) = {
        let e = live.engine();
        let (_, p) = e
            .world
            .live_pods()
            .find(|(_, p)| p.node.is_some())
            .expect("a running pod");
        let node = e.world.node(p.node.unwrap()).name.to_string();
        (node, p.name.to_string())
    };
    let pdb = env.dir.join("pdb.yaml");
    std::fs::write(
        &pdb,
        "apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: hm}
spec:
  minAvailable: 5
  selector: {matchLabels: {app: high-memory}}
",
    )
    .unwrap();
    ok(&env, &["apply", "-f", &pdb.display().to_string()]).await;
    let o = env
        .run(&[
            "drain",
            &node,
            "--ignore-daemonsets",
            "--force",
            "--timeout=3s",
        ])
        .await;
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}{err}");
    assert!(
        err.contains(&format!(
            "error when evicting pods/\"{pod}\" -n \"default\" (will retry after 5s): Cannot evict pod as it would violate the pod's disruption budget."
        )),
        "{out}{err}"
    );
    assert!(
        live.engine().world.find_pod("default", &pod).is_some(),
        "the budget kept the pod"
    );
    ok(&env, &["delete", "pdb", "hm"]).await;
    let out = ok(
        &env,
        &[
            "drain",
            &node,
            "--ignore-daemonsets",
            "--force",
            "--timeout=20s",
        ],
    )
    .await;
    assert_eq!(
        out,
        format!("node/{node} already cordoned\nevicting pod default/{pod}\npod/{pod} evicted\nnode/{node} drained\n")
    );
    let e = live.engine();
    assert!(e.world.find_pod("default", &pod).is_none(), "evicted");
    assert_eq!(
        e.world
            .live_pods()
            .filter(|(_, p)| p.name.starts_with("high-memory-deployment-"))
            .count(),
        6,
        "the ReplicaSet replaced it"
    );
    assert!(
        e.world.live_pods().all(|(_, p)| p
            .node
            .is_none_or(|n| e.world.node(n).name.as_ref() as &str != node)),
        "nothing runs on the drained node"
    );
}

/// `create namespace`, `label ns` and `delete namespace` as with a real cluster: a deleted
/// namespace takes what lives in it, and the built-in ones may not be deleted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn namespaces_are_created_labelled_and_deleted_with_their_contents() {
    let Some((live, _kube, env)) = start("namespaces").await else {
        return;
    };
    assert_eq!(
        ok(&env, &["create", "namespace", "demo"]).await,
        "namespace/demo created\n"
    );
    assert_eq!(
        ok(&env, &["label", "ns", "demo", "team=a"]).await,
        "namespace/demo labeled\n"
    );
    assert_eq!(
        ok(
            &env,
            &[
                "get",
                "ns",
                "demo",
                "-o",
                "jsonpath={.metadata.labels} {.status.phase}"
            ]
        )
        .await,
        r#"{"kubernetes.io/metadata.name":"demo","team":"a"} Active"#
    );
    assert_eq!(
        fails(&env, &["create", "namespace", "demo"]).await,
        "Error from server (AlreadyExists): namespaces \"demo\" already exists\n"
    );
    let err = fails(&env, &["create", "namespace", "Bad_Name"]).await;
    assert!(
        err.starts_with(r#"The Namespace "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 label must consist of"#),
        "{err}"
    );
    ok(
        &env,
        &[
            "create",
            "configmap",
            "c",
            "-n",
            "demo",
            "--from-literal=a=b",
        ],
    )
    .await;
    ok(
        &env,
        &[
            "create",
            "secret",
            "generic",
            "s",
            "-n",
            "demo",
            "--from-literal=a=b",
        ],
    )
    .await;
    assert_eq!(
        ok(&env, &["delete", "namespace", "demo"]).await,
        "namespace \"demo\" deleted\n"
    );
    {
        let e = live.engine();
        assert!(!e.world.configmaps.keys().any(|(ns, _)| ns == "demo"));
        assert!(!e.world.secrets.iter().any(|s| s.namespace == "demo"));
    }
    assert_eq!(
        fails(&env, &["get", "ns", "demo"]).await,
        "Error from server (NotFound): namespaces \"demo\" not found\n"
    );
    assert_eq!(
        fails(&env, &["delete", "namespace", "kube-system"]).await,
        "Error from server (Forbidden): namespaces \"kube-system\" is forbidden: this namespace may not be deleted\n"
    );
}

/// `kubectl label node` and `taint node` reach the engine's scheduler: a pod selecting the
/// new label runs there; a taint it does not tolerate keeps the next one pending.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_labels_and_taints_steer_the_scheduler() {
    let Some((live, _kube, env)) = start("node-labels").await else {
        return;
    };
    let node = live.engine().world.nodes[0].name.to_string();
    assert_eq!(
        ok(&env, &["label", "node", &node, "disk=ssd"]).await,
        format!("node/{node} labeled\n")
    );
    let manifest = |name: &str, selector: &str| {
        format!(
            "apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}}}
spec:
  replicas: 1
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      nodeSelector: {{{selector}}}
      containers:
      - {{name: c, image: nginx, resources: {{requests: {{cpu: 10m, memory: 16Mi}}}}}}
"
        )
    };
    let file = env.dir.join("ssd.yaml");
    std::fs::write(&file, manifest("ssd", "disk: ssd")).unwrap();
    ok(&env, &["apply", "-f", &file.display().to_string()]).await;
    let on = |prefix: &str| {
        let e = live.engine();
        let found = e
            .world
            .live_pods()
            .find(|(_, p)| p.name.starts_with(prefix))
            .map(|(_, p)| p.node.map(|n| e.world.node(n).name.to_string()));
        found
    };
    assert_eq!(
        on("ssd-"),
        Some(Some(node.clone())),
        "it runs on the labelled node"
    );

    assert_eq!(
        ok(&env, &["taint", "node", &node, "dedicated=x:NoSchedule"]).await,
        format!("node/{node} tainted\n")
    );
    let file = env.dir.join("pinned.yaml");
    std::fs::write(
        &file,
        manifest("pinned", &format!("kubernetes.io/hostname: {node}")),
    )
    .unwrap();
    ok(&env, &["apply", "-f", &file.display().to_string()]).await;
    assert_eq!(on("pinned-"), Some(None), "the taint keeps it off the node");
    let events = ok(
        &env,
        &[
            "get",
            "events",
            "--field-selector",
            "reason=FailedScheduling",
        ],
    )
    .await;
    assert!(
        events.contains("untolerated taint {dedicated: x}"),
        "{events}"
    );
    ok(&env, &["taint", "node", &node, "dedicated-"]).await;
    assert_eq!(on("pinned-"), Some(Some(node)), "untainted, it runs");
}

/// `kubectl create deployment` sends a protobuf Deployment: a workload's pods are the
/// engine's, and a cluster-autoscaler image with its command is the engine's autoscaler.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_deployment_s_protobuf_body_runs_in_the_engine() {
    let Some((live, _kube, env)) = start("create-deploy").await else {
        return;
    };
    assert_eq!(
        ok(
            &env,
            &[
                "create",
                "deployment",
                "web",
                "--image=nginx",
                "--replicas=2"
            ]
        )
        .await,
        "deployment.apps/web created\n"
    );
    assert_eq!(
        live.engine()
            .world
            .live_pods()
            .filter(|(_, p)| p.name.starts_with("web-")
                && p.labels.get("app").map(String::as_str) == Some("web"))
            .count(),
        2
    );
    ok(
        &env,
        &[
            "create",
            "deployment",
            "ca",
            "-n",
            "kube-system",
            "--image=registry.k8s.io/autoscaling/cluster-autoscaler:v1.30.2",
            "--",
            "./cluster-autoscaler",
            "--cloud-provider=clusterapi",
            "--leader-elect=false",
        ],
    )
    .await;
    let spec = live
        .engine()
        .autoscalers
        .iter()
        .find(|a| a.spec.name == "ca" && !a.is_stopped())
        .map(|a| a.spec.args.clone());
    assert_eq!(
        spec,
        Some(vec![
            "--cloud-provider=clusterapi".to_string(),
            "--leader-elect=false".to_string()
        ])
    );
    assert_eq!(
        ok(
            &env,
            &[
                "-n",
                "kube-system",
                "get",
                "deploy",
                "ca",
                "-o",
                "jsonpath={.kind} {.spec.template.spec.containers[0].name}"
            ]
        )
        .await,
        "Deployment cluster-autoscaler"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_fields_are_refused_warned_or_ignored_as_kubectl_asks() {
    let Some((live, _kube, env)) = start("fieldvalidation").await else {
        return;
    };
    let manifest = |name: &str| {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\nspec:\n  replica: 2\n  selector:\n    matchLabels: {{app: {name}}}\n  template:\n    metadata:\n      labels: {{app: {name}}}\n    spec:\n      containers:\n      - name: web\n        image: nginx\n        imagePullPolcy: Always\n        resources:\n          requests: {{cpu: 100m}}\n"
        )
    };
    let file = |name: &str| {
        let path = env.dir.join(format!("{name}.yaml"));
        std::fs::write(&path, manifest(name)).expect("manifest");
        path.display().to_string()
    };
    let exists = |name: &str| {
        let e = live.engine();
        e.world.deployments.iter().any(|d| d.name == name)
    };

    // kubectl's default, --validate=strict: the server refuses, naming every unknown field.
    let typo = file("typo");
    let err = fails(&env, &["apply", "-f", &typo]).await;
    assert_eq!(
        err,
        format!("Error from server (BadRequest): error when creating \"{typo}\": Deployment in version \"v1\" cannot be handled as a Deployment: strict decoding error: unknown field \"spec.replica\", unknown field \"spec.template.spec.containers[0].imagePullPolcy\"\n")
    );
    assert!(!exists("typo"), "a refused create writes nothing");

    // --validate=warn: created, with the server's warnings printed.
    let warned = file("warned");
    let o = env.run(&["apply", "--validate=warn", "-f", &warned]).await;
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
    assert_eq!(out, "deployment.apps/warned created\n");
    assert!(
        err.contains("Warning: unknown field \"spec.replica\"")
            && err.contains(
                "Warning: unknown field \"spec.template.spec.containers[0].imagePullPolcy\""
            ),
        "{err}"
    );
    assert!(exists("warned"));

    // --validate=false: the unknown fields are dropped without a word.
    let quiet = file("quiet");
    let o = env.run(&["apply", "--validate=false", "-f", &quiet]).await;
    let (out, err) = text(&o);
    assert!(o.status.success() && err.is_empty(), "{out}{err}");
    assert!(exists("quiet"));

    // Applied again with kubectl's default, the patch carries the fields the object lacks:
    // refused in the strict decoder's words, without the kind.
    let err = fails(&env, &["apply", "-f", &quiet]).await;
    assert!(
        err.contains(&format!("for: \"{quiet}\": error when patching \"{quiet}\": strict decoding error: unknown field \"spec.replica\"")),
        "{err}"
    );
    // `kubectl patch` sends no directive: the server's default warns.
    let o = env
        .run(&[
            "patch",
            "deploy",
            "quiet",
            "-p",
            r#"{"spec":{"replicaz":3}}"#,
        ])
        .await;
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
    assert_eq!(err, "Warning: unknown field \"spec.replicaz\"\n");
    // A JSON patch is checked as the object it makes: only what its operations write.
    let add = r#"[{"op":"add","path":"/spec/template/spec/containers/0/imag","value":"x"}]"#;
    let o = env
        .run(&["patch", "deploy", "quiet", "--type=json", "-p", add])
        .await;
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
    assert_eq!(
        err,
        "Warning: unknown field \"spec.template.spec.containers[0].imag\"\n"
    );
    ok(
        &env,
        &[
            "patch",
            "deploy",
            "quiet",
            "-p",
            r#"{"spec":{"replicas":2}}"#,
        ],
    )
    .await;
    let replicas = live
        .engine()
        .world
        .deployments
        .iter()
        .find(|d| d.name == "quiet")
        .map(|d| d.replicas);
    assert_eq!(replicas, Some(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explain_reads_the_published_schemas() {
    let Some((_live, _kube, env)) = start("explain").await else {
        return;
    };
    let out = ok(&env, &["explain", "deployment.spec.replicas"]).await;
    assert!(
        out.starts_with("GROUP:      apps\nKIND:       Deployment\nVERSION:    v1\n\nFIELD: replicas <integer>\n"),
        "{out}"
    );
    assert!(out.contains("Number of desired pods."), "{out}");
    let out = ok(&env, &["explain", "configmap"]).await;
    assert!(
        out.contains("KIND:       ConfigMap") && out.contains("data\t<map[string]string>"),
        "{out}"
    );
    let err = fails(&env, &["explain", "deployment.spec.replica"]).await;
    assert!(err.contains("field \"replica\" does not exist"), "{err}");
}
