//! `WireClient` against the running mocks: every operation sent over HTTP answers with the
//! `ApiResponse` `Engine::apply` gives in memory on a fork of the same engine, leaves the same
//! world behind, and (request id pinned or not) the same random stream.

use magsim_mocks::wire::{over_the_wire, WireClient};
use magsim_mocks::MockCloud;
use magsim_mocks::Service;
use magsim_sim::cloud::magnum::{cluster_json, nodegroup_json};
use magsim_sim::cloud::{PatchOp, PatchOperation};
use magsim_sim::engine::{ApiResponse, Engine, Operation};
use serde_json::{json, Value};
use std::collections::BTreeMap;

async fn cloud(name: &str) -> MockCloud {
    let (file, text) = magsim_scenario::builtin()
        .into_iter()
        .find(|(f, _)| f.contains(name))
        .expect("builtin scenario");
    let scenario = magsim_scenario::parse(file, text).expect("scenario parses");
    MockCloud::start(&scenario, None).await.expect("mock cloud")
}

/// A pinned request id, distinct per `n`.
fn pinned(n: u64) -> Option<String> {
    Some(format!("req-00000000-0000-4000-8000-{n:012x}"))
}

/// What the operations can change, as comparable data.
fn world(e: &Engine) -> Value {
    let w = &e.world;
    let cluster = w.cluster.as_ref().map(|c| {
        let groups: Vec<Value> = c.nodegroups.iter().map(|n| nodegroup_json(c, n)).collect();
        json!([cluster_json(c), groups])
    });
    let mds: Vec<Value> = w
        .machine_deployments
        .iter()
        .map(|m| json!([m.name, m.replicas, m.annotations]))
        .collect();
    let deployments: Vec<Value> = w
        .deployments
        .iter()
        .map(|d| json!([d.namespace, d.name, d.replicas]))
        .collect();
    let nodes: Vec<Value> = w
        .nodes
        .iter()
        .map(|n| json!([&*n.name, n.unschedulable]))
        .collect();
    let pods: Vec<Value> = w
        .live_pods()
        .map(|(_, p)| json!([p.key(), format!("{:?}", p.phase)]))
        .collect();
    json!({"cluster": cluster, "machine_deployments": mds, "deployments": deployments,
           "nodes": nodes, "pods": pods, "labels": w.cluster.as_ref().map(|c| &c.labels)})
}

/// Applies `op` in memory on a fork and over the wire; both answers, worlds, traces and
/// random streams must agree. Returns the answer.
async fn same(
    cloud: &MockCloud,
    client: &mut WireClient,
    op: Operation,
    id: Option<String>,
) -> ApiResponse {
    let mut fork = cloud.live.engine().fork();
    let want = fork.apply(op.clone(), id.clone());
    let got = client.apply(op.clone(), id).await.expect("an answer");
    assert_eq!(got, want, "{op:?}");
    let live = cloud.live.engine();
    assert_eq!(world(&live), world(&fork), "{op:?}");
    assert_eq!(live.trace, fork.trace, "{op:?}");
    assert_eq!(
        live.rng().clone().uuid4(),
        fork.rng().clone().uuid4(),
        "{op:?}"
    );
    got
}

fn replace(path: &str, value: Value) -> Vec<PatchOperation> {
    vec![PatchOperation {
        op: PatchOp::Replace,
        path: path.into(),
        value: Some(value),
    }]
}

fn show_cluster(c: &str) -> Operation {
    Operation::ShowCluster { cluster: c.into() }
}

fn show_nodegroup(c: &str, ng: &str) -> Operation {
    Operation::ShowNodegroup {
        cluster: c.into(),
        nodegroup: ng.into(),
    }
}

fn update_nodegroup(c: &str, ng: &str, patch: Vec<PatchOperation>) -> Operation {
    Operation::UpdateNodegroup {
        cluster: c.into(),
        nodegroup: ng.into(),
        patch,
    }
}

fn resize(c: &str, node_count: i64, ng: Option<&str>) -> Operation {
    Operation::Resize {
        cluster: c.into(),
        node_count,
        nodegroup: ng.map(str::to_string),
        nodes_to_remove: Vec::new(),
    }
}

const UUID: &str = "c8fd0bc7-cf71-40fb-b901-c309d405d627";
const NG: &str = "default-worker";

/// Every Magnum operation and the error paths the engine has: (operation, status, detail).
fn magnum_cases() -> Vec<(Operation, u16, &'static str)> {
    vec![
        (show_cluster("k8s"), 200, ""),
        (show_cluster(UUID), 200, ""),
        (show_cluster("nope"), 404, "Cluster nope could not be found."),
        (show_nodegroup("k8s", NG), 200, ""),
        (show_nodegroup("k8s", "gpu"), 404, "Nodegroup gpu could not be found."),
        (show_nodegroup("nope", NG), 404, "Cluster nope could not be found."),
        (
            Operation::UpdateCluster {
                cluster: "k8s".into(),
                patch: replace("/labels/max_node_count", json!(6)),
            },
            400,
            "cannot change cluster property(ies) labels.",
        ),
        (
            Operation::UpdateCluster {
                cluster: "k8s".into(),
                patch: replace("/labels/nope/deeper", json!(6)),
            },
            400,
            "Couldn't apply patch",
        ),
        (
            Operation::UpdateCluster {
                cluster: "k8s".into(),
                patch: replace("/uuid", json!("x")),
            },
            400,
            "'/uuid' is an internal attribute and can not be updated",
        ),
        (
            update_nodegroup("k8s", NG, replace("/max node count", json!(8))),
            400,
            "Invalid path",
        ),
        (
            Operation::UpdateCluster {
                cluster: "nope".into(),
                patch: replace("/node_count", json!(6)),
            },
            404,
            "Cluster nope could not be found.",
        ),
        (
            update_nodegroup("k8s", NG, replace("/max_node_count", json!(8))),
            202,
            "",
        ),
        (
            update_nodegroup("k8s", NG, replace("/foo", json!(1))),
            400,
            "Couldn't apply patch",
        ),
        (
            update_nodegroup("k8s", NG, replace("/max_node_count", json!("eight"))),
            400,
            "Invalid input for field/attribute max_node_count. Value: 'eight'. '<' not supported between instances of 'str' and 'int'",
        ),
        (
            update_nodegroup("k8s", NG, replace("/max_node_count", json!(2))),
            409,
            "max_node_count for default-worker is invalid",
        ),
        (
            update_nodegroup("k8s", "gpu", replace("/max_node_count", json!(8))),
            404,
            "Nodegroup gpu could not be found.",
        ),
        (resize("k8s", 7, Some(NG)), 202, ""),
        (
            Operation::Resize {
                cluster: UUID.into(),
                node_count: 6,
                nodegroup: None,
                nodes_to_remove: vec!["k8s-default-worker-0".into()],
            },
            202,
            "",
        ),
        (
            resize("k8s", 9, Some(NG)),
            400,
            "Resizing default-worker outside the allowed range: min_node_count = 1, max_node_count = 8",
        ),
        (
            resize("k8s", -1, None),
            400,
            "Value should be greater or equal to 0",
        ),
        (resize("k8s", 3, Some("gpu")), 404, "Nodegroup gpu could not be found."),
        (resize("nope", 3, None), 404, "Cluster nope could not be found."),
        (
            Operation::UpdateCluster {
                cluster: "k8s".into(),
                patch: replace("/node_count", json!(6)),
            },
            202,
            "",
        ),
        (show_nodegroup("k8s", NG), 200, ""),
    ]
}

#[tokio::test]
async fn magnum_ops_with_pinned_ids_match_memory() {
    let cloud = cloud("01-as-it-happened").await;
    let mut client = WireClient::new(&cloud).unwrap();
    for (n, (op, status, detail)) in magnum_cases().into_iter().enumerate() {
        assert!(over_the_wire(&op));
        let id = pinned(n as u64);
        let r = same(&cloud, &mut client, op.clone(), id.clone()).await;
        assert_eq!(r.status, status, "{op:?}: {r:?}");
        assert_eq!(r.request_id, id);
        match &r.error {
            Some(e) => assert!(e.message.contains(detail), "{op:?}: {}", e.message),
            None => assert!(status < 400 && r.body.is_object()),
        }
    }
    // The accepted writes reached the live world.
    let e = cloud.live.engine();
    let ng = e.world.cluster.as_ref().unwrap().nodegroup(NG).unwrap();
    assert_eq!((ng.node_count, ng.max_node_count), (6, Some(8)));
}

#[tokio::test]
async fn without_a_pinned_id_the_server_draws_as_memory_does() {
    let cloud = cloud("01-as-it-happened").await;
    let mut client = WireClient::new(&cloud).unwrap();
    let before = cloud.live.engine().rng().clone().uuid4();
    let mut ids = Vec::new();
    for (op, status, _) in magnum_cases() {
        let r = same(&cloud, &mut client, op, None).await;
        assert_eq!(r.status, status);
        ids.push(r.request_id.expect("a request id"));
    }
    // Each answer drew its own id, the first one the engine's next draw.
    assert_eq!(ids[0], format!("req-{before}"));
    ids.dedup();
    assert_eq!(ids.len(), magnum_cases().len());
}

#[tokio::test]
async fn a_malformed_request_id_is_ignored_and_the_server_draws() {
    let cloud = cloud("01-as-it-happened").await;
    let mut client = WireClient::new(&cloud).unwrap();
    for bad in ["req-not-a-uuid", "req-0A1E8DC8-1D3B-459F-8539-5241F0F854F9"] {
        let mut fork = cloud.live.engine().fork();
        let want = fork.apply(show_cluster("k8s"), None);
        let got = client
            .apply(show_cluster("k8s"), Some(bad.into()))
            .await
            .unwrap();
        assert_eq!(got, want);
    }
}

#[tokio::test]
async fn an_expired_token_is_renewed_once() {
    let cloud = cloud("01-as-it-happened").await;
    let mut client = WireClient::new(&cloud).unwrap();
    same(&cloud, &mut client, show_cluster("k8s"), pinned(1)).await;
    same(&cloud, &mut client, show_cluster("k8s"), pinned(2)).await;
    cloud.openstack.revoke_tokens();
    same(&cloud, &mut client, resize("k8s", 6, None), pinned(3)).await;
    let calls = cloud.openstack.journal.calls(Service::Identity);
    assert_eq!(calls, ["POST /v3/auth/tokens", "POST /v3/auth/tokens"]);
    let magnum = cloud.openstack.journal.calls(Service::ContainerInfra);
    assert_eq!(magnum.len(), 4, "{magnum:?}");
}

#[tokio::test]
async fn kubernetes_ops_match_memory() {
    let cloud = cloud("01-as-it-happened").await;
    let mut client = WireClient::new(&cloud).unwrap();
    let (pod, node) = {
        let e = cloud.live.engine();
        let (_, p) = e.world.live_pods().next().expect("a pod");
        (p.name.to_string(), e.world.nodes[0].name.to_string())
    };
    let deployment = "high-memory-deployment";
    // Deleting a pod first: its ReplicaSet replaces it with a name drawn from the RNG.
    let cases = [
        (
            Operation::DeletePod {
                namespace: "default".into(),
                name: pod.clone(),
            },
            200,
        ),
        (
            Operation::DeletePod {
                namespace: "default".into(),
                name: pod.clone(),
            },
            404,
        ),
        (
            Operation::ScaleDeployment {
                namespace: "default".into(),
                name: deployment.into(),
                replicas: 3,
            },
            200,
        ),
        (
            Operation::ScaleDeployment {
                namespace: "default".into(),
                name: "nope".into(),
                replicas: 3,
            },
            404,
        ),
        (
            Operation::Cordon {
                node: node.clone(),
                unschedulable: true,
            },
            200,
        ),
        (
            Operation::Cordon {
                node: "nope".into(),
                unschedulable: true,
            },
            404,
        ),
    ];
    for (n, (op, status)) in cases.into_iter().enumerate() {
        assert!(over_the_wire(&op));
        let r = same(&cloud, &mut client, op.clone(), pinned(n as u64)).await;
        assert_eq!(r.status, status, "{op:?}: {r:?}");
        assert_eq!(r.request_id, None);
    }
    {
        let e = cloud.live.engine();
        let d = e.world.deployments.iter().find(|d| d.name == deployment);
        assert_eq!(d.map(|d| d.replicas), Some(3));
        assert!(e.world.find_pod("default", &pod).is_none());
        assert!(e.world.nodes[0].unschedulable);
    }
    let uncordon = Operation::Cordon {
        node,
        unschedulable: false,
    };
    same(&cloud, &mut client, uncordon, None).await;
    assert!(!cloud.live.engine().world.nodes[0].unschedulable);
}

#[tokio::test]
async fn ops_no_api_reaches_go_through_the_engine() {
    let cloud = cloud("01-as-it-happened").await;
    let mut client = WireClient::new(&cloud).unwrap();
    let ops = [
        Operation::AdminSetClusterLabels {
            labels: BTreeMap::from([("max_node_count".to_string(), Some("6".to_string()))]),
        },
        Operation::SetPriorityExpander(None),
        Operation::DeleteSecret {
            namespace: "default".into(),
            name: "nope".into(),
        },
    ];
    for op in ops {
        assert!(!over_the_wire(&op));
        same(&cloud, &mut client, op, pinned(7)).await;
    }
    assert_eq!(
        cloud.live.engine().world.cluster.as_ref().unwrap().labels["max_node_count"],
        "6"
    );
    assert!(cloud.openstack.journal.entries().is_empty());
}

#[tokio::test]
async fn an_injected_magnum_error_keeps_the_pinned_id() {
    use magsim_mocks::openstack::{Fault, FaultKind};
    let cloud = cloud("01-as-it-happened").await;
    let mut client = WireClient::new(&cloud).unwrap();
    let fault = Fault::new(Service::ContainerInfra, FaultKind::Error(503)).times(1);
    cloud.openstack.inject(fault).await.unwrap();
    let mut fork = cloud.live.engine().fork();
    let want = fork.magnum_fault(503, pinned(1));
    let got = client.apply(resize("k8s", 6, None), pinned(1)).await;
    assert_eq!(got.unwrap(), want);
    let live = cloud.live.engine();
    assert_eq!(world(&live), world(&fork));
    assert_eq!(live.rng().clone().uuid4(), fork.rng().clone().uuid4());
}
