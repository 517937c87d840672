//! The Python `kubernetes` client (37.x: pydantic models that validate responses strictly)
//! against the mock API server serving the incident scenario.
//!
//! Uses `$MAGSIM_PYTHON`, default the workspace's `.venv/bin/python` (scripts/venv.sh installs
//! the pinned client there). In CI a Python that cannot import `kubernetes` fails the test;
//! locally it is skipped with the reason printed.

use magsim_mocks::kube::KubeMock;
use magsim_mocks::Live;
use magsim_sim::time::SimDuration;
use std::process::Command;

const SCRIPT: &str = r#"
import sys
from kubernetes import client, config, watch
config.load_kube_config(config_file=sys.argv[1])
v1 = client.CoreV1Api()
apps = client.AppsV1Api()
pods = v1.list_namespaced_pod("default")
print("pods", sorted(p.status.phase for p in pods.items), bool(pods.metadata.resource_version))
print("all pods", len(v1.list_pod_for_all_namespaces().items))
nodes = v1.list_node()
print("nodes", len(nodes.items), nodes.items[0].status.node_info.kubelet_version)
cm = v1.read_namespaced_config_map("cluster-autoscaler-status", "kube-system")
print("maxSize 5", "maxSize: 5" in cm.data["status"])
evs = v1.list_namespaced_event(
    "default",
    field_selector="involvedObject.name=high-memory-deployment-844964899f-4md88,reason=NotTriggerScaleUp",
)
print("events", [(e.reason, e.source.component, e.message) for e in evs.items])
print("deployment", apps.read_namespaced_deployment("high-memory-deployment", "default").spec.replicas)
s = apps.patch_namespaced_deployment_scale("high-memory-deployment", "default", {"spec": {"replicas": 7}})
print("patched scale", s.spec.replicas, s.status.replicas)
rs = apps.list_namespaced_replica_set("default", label_selector="app=high-memory")
print("replicasets", [(r.metadata.name, r.spec.replicas) for r in rs.items])
print("namespace", v1.read_namespace("kube-system").status.phase)
try:
    v1.read_namespaced_pod("nope", "default")
except client.ApiException as e:
    print("read nope", e.status, e.reason)
p = v1.read_namespaced_pod("high-memory-deployment-844964899f-4md88", "default")
print("pending", p.status.conditions[0].reason, p.spec.containers[0].resources.requests["memory"])
n = 0
for ev in watch.Watch().stream(v1.list_namespaced_pod, "default", timeout_seconds=1):
    n += 1
print("watch events", n)
"#;

const EXPECTED: &str = "\
pods ['Pending', 'Running', 'Running', 'Running', 'Running', 'Running'] True
all pods 6
nodes 5 v1.30.4
maxSize 5 True
events [('NotTriggerScaleUp', 'cluster-autoscaler', \"pod didn't trigger scale-up: 1 max node group size reached\")]
deployment 6
patched scale 7 7
replicasets [('high-memory-deployment-844964899f', 7)]
namespace Active
read nope 404 Not Found
pending Unschedulable 4Gi
watch events 7
";

fn python() -> Option<String> {
    let venv = concat!(env!("CARGO_MANIFEST_DIR"), "/../.venv/bin/python");
    let py = std::env::var("MAGSIM_PYTHON").unwrap_or_else(|_| venv.into());
    let ok = Command::new(&py)
        .args(["-c", "import kubernetes"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "{py} cannot import kubernetes in CI: scripts/venv.sh installs it"
        );
        eprintln!(
            "skipping: {py} cannot import kubernetes (run scripts/venv.sh or set MAGSIM_PYTHON)"
        );
    }
    ok.then_some(py)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_client_reads_scales_and_watches() {
    let Some(py) = python() else {
        return;
    };
    let (file, text) = magsim_scenario::builtin()[0];
    let live = Live::new(&magsim_scenario::parse(file, text).unwrap(), None);
    live.advance(SimDuration::from_mins(10));
    let kube = KubeMock::start(live.clone()).await.unwrap();
    let dir = std::env::temp_dir().join(format!(
        "magsim-python-{}-{}",
        std::process::id(),
        kube.addr.port()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let kubeconfig = dir.join("kubeconfig");
    kube.write_kubeconfig(&kubeconfig).unwrap();
    let script = dir.join("check.py");
    std::fs::write(&script, SCRIPT).unwrap();
    let out =
        tokio::task::spawn_blocking(move || Command::new(py).arg(script).arg(kubeconfig).output())
            .await
            .unwrap()
            .expect("python runs");
    let _ = std::fs::remove_dir_all(&dir);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stdout}{stderr}");
    assert_eq!(stdout, EXPECTED, "{stderr}");
    assert_eq!(live.engine().world.deployments[0].replicas, 7);
}
