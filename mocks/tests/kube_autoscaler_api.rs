//! The API surface a real cluster-autoscaler needs from the Kubernetes mock, over HTTP: every
//! list its informers start, leader election's Lease, the Cluster API objects the clusterapi
//! provider maps nodes through, bounds changed by annotating a MachineDeployment, and the
//! status ConfigMap deleted on exit.

use magsim_mocks::kube::KubeMock;
use magsim_mocks::Live;
use magsim_sim::time::SimDuration;
use reqwest::header::CONTENT_TYPE;
use serde_json::{json, Value};

const MD: &str = "k8s-wamiv264xiet-default-worker";
const NS: &str = "magnum-83bd0e70b4ba4cd092c2fb82b1ce06fb";
const CAPI: &str = "apis/cluster.x-k8s.io/v1beta1";
const MAX_SIZE: &str = "cluster.x-k8s.io/cluster-api-autoscaler-node-group-max-size";

async fn setup() -> (Live, KubeMock, reqwest::Client) {
    let (file, text) = magsim_scenario::builtin()[0];
    let scenario = magsim_scenario::parse(file, text).expect("incident scenario parses");
    let live = Live::new(&scenario, None);
    let kube = KubeMock::start(live.clone()).await.expect("server starts");
    (live, kube, reqwest::Client::new())
}

async fn get(c: &reqwest::Client, url: String) -> (u16, Value) {
    let r = c.get(url).send().await.expect("request");
    (r.status().as_u16(), r.json().await.expect("json body"))
}

fn items(v: &Value) -> &Vec<Value> {
    v["items"].as_array().expect("a list")
}

#[tokio::test]
async fn every_list_the_autoscalers_informers_start_answers() {
    let (_live, kube, c) = setup().await;
    // CA 1.30.2's listers and its scheduler framework's informers.
    for (path, kind) in [
        ("api/v1/pods", "PodList"),
        ("api/v1/nodes", "NodeList"),
        ("api/v1/namespaces", "NamespaceList"),
        ("api/v1/services", "ServiceList"),
        ("api/v1/persistentvolumes", "PersistentVolumeList"),
        ("api/v1/persistentvolumeclaims", "PersistentVolumeClaimList"),
        ("api/v1/replicationcontrollers", "ReplicationControllerList"),
        ("apis/apps/v1/daemonsets", "DaemonSetList"),
        ("apis/apps/v1/replicasets", "ReplicaSetList"),
        ("apis/apps/v1/statefulsets", "StatefulSetList"),
        ("apis/batch/v1/jobs", "JobList"),
        (
            "apis/policy/v1/poddisruptionbudgets",
            "PodDisruptionBudgetList",
        ),
        ("apis/storage.k8s.io/v1/storageclasses", "StorageClassList"),
        ("apis/storage.k8s.io/v1/csinodes", "CSINodeList"),
        ("apis/storage.k8s.io/v1/csidrivers", "CSIDriverList"),
        (
            "apis/storage.k8s.io/v1/csistoragecapacities",
            "CSIStorageCapacityList",
        ),
        ("apis/coordination.k8s.io/v1/leases", "LeaseList"),
        ("apis/cluster.x-k8s.io/v1beta1/clusters", "ClusterList"),
        (
            "apis/cluster.x-k8s.io/v1beta1/machinesets",
            "MachineSetList",
        ),
        ("apis/cluster.x-k8s.io/v1beta1/machines", "MachineList"),
    ] {
        let (s, v) = get(&c, format!("{}/{path}", kube.url)).await;
        assert_eq!((s, v["kind"].as_str()), (200, Some(kind)), "{path}: {v}");
        assert!(v["metadata"]["resourceVersion"].is_string(), "{path}");
    }
    let (_, v) = get(&c, format!("{}/apis/policy/v1", kube.url)).await;
    assert_eq!(v["resources"][0]["name"], "poddisruptionbudgets");
}

#[tokio::test]
async fn machines_link_nodes_to_their_deployment() {
    let (live, kube, c) = setup().await;
    let (_, nodes) = get(&c, format!("{}/api/v1/nodes", kube.url)).await;
    let (_, sets) = get(
        &c,
        format!("{}/{CAPI}/namespaces/{NS}/machinesets", kube.url),
    )
    .await;
    let (_, machines) = get(&c, format!("{}/{CAPI}/machines", kube.url)).await;
    let (_, md) = get(
        &c,
        format!(
            "{}/{CAPI}/namespaces/{NS}/machinedeployments/{MD}",
            kube.url
        ),
    )
    .await;
    let set = &items(&sets)[0];
    assert_eq!(items(&sets).len(), 1);
    assert_eq!(
        set["metadata"]["ownerReferences"][0]["kind"],
        "MachineDeployment"
    );
    assert_eq!(
        set["metadata"]["ownerReferences"][0]["uid"],
        md["metadata"]["uid"]
    );
    assert_eq!(set["spec"]["replicas"], 5);
    assert_eq!(items(&machines).len(), 5);
    for (m, n) in items(&machines).iter().zip(items(&nodes)) {
        assert_eq!(
            m["metadata"]["ownerReferences"][0]["name"],
            set["metadata"]["name"]
        );
        assert_eq!(
            m["metadata"]["ownerReferences"][0]["uid"],
            set["metadata"]["uid"]
        );
        // The selector of the deployment picks its machines.
        for (k, v) in md["spec"]["selector"]["matchLabels"].as_object().unwrap() {
            assert_eq!(&m["metadata"]["labels"][k], v);
        }
        assert_eq!(m["status"]["phase"], "Running");
        assert_eq!(m["status"]["nodeRef"]["name"], n["metadata"]["name"]);
        assert_eq!(m["spec"]["providerID"], n["spec"]["providerID"]);
    }
    let (_, cluster) = get(
        &c,
        format!(
            "{}/{CAPI}/namespaces/{NS}/clusters/k8s-wamiv264xiet",
            kube.url
        ),
    )
    .await;
    assert_eq!(cluster["status"]["phase"], "Provisioned");

    // A scale-up: a Machine appears at once, Provisioning without a provider id until its
    // server's node registers (boot delay 3m), then Running.
    let r = c
        .patch(format!(
            "{}/{CAPI}/namespaces/{NS}/machinedeployments/{MD}/scale",
            kube.url
        ))
        .header(CONTENT_TYPE, "application/merge-patch+json")
        .body(r#"{"spec":{"replicas":6}}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let before: Vec<Value> = items(&machines)
        .iter()
        .map(|m| m["metadata"]["name"].clone())
        .collect();
    let new_machine = |machines: &Value| {
        items(machines)
            .iter()
            .find(|m| !before.contains(&m["metadata"]["name"]))
            .cloned()
            .expect("a new machine")
    };
    let (_, machines) = get(&c, format!("{}/{CAPI}/machines", kube.url)).await;
    let m = new_machine(&machines);
    assert_eq!(m["status"]["phase"], "Provisioning");
    assert!(m["spec"].get("providerID").is_none(), "{m}");
    assert!(m["status"].get("nodeRef").is_none(), "{m}");
    live.advance(SimDuration::from_mins(4));
    let (_, machines) = get(&c, format!("{}/{CAPI}/machines", kube.url)).await;
    let m = new_machine(&machines);
    assert_eq!(m["status"]["phase"], "Running");
    let (s, node) = get(
        &c,
        format!(
            "{}/api/v1/nodes/{}",
            kube.url,
            m["status"]["nodeRef"]["name"].as_str().unwrap()
        ),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(node["spec"]["providerID"], m["spec"]["providerID"]);
}

async fn annotate(
    c: &reqwest::Client,
    kube: &KubeMock,
    content_type: &str,
    body: String,
) -> (u16, Value) {
    let r = c
        .patch(format!(
            "{}/{CAPI}/namespaces/{NS}/machinedeployments/{MD}",
            kube.url
        ))
        .header(CONTENT_TYPE, content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

fn max_size(live: &Live) -> Option<(u32, u32)> {
    live.engine().world.machine_deployments[0].bounds().unwrap()
}

#[tokio::test]
async fn annotating_a_machine_deployment_changes_the_bounds_the_provider_reads() {
    let (live, kube, c) = setup().await;
    assert_eq!(max_size(&live), Some((1, 5)));
    let (s, md) = annotate(
        &c,
        &kube,
        "application/merge-patch+json",
        json!({"metadata": {"annotations": {MAX_SIZE: "6"}}}).to_string(),
    )
    .await;
    assert_eq!(s, 200, "{md}");
    assert_eq!(md["metadata"]["annotations"][MAX_SIZE], "6");
    assert_eq!(max_size(&live), Some((1, 6)));
    // A JSON patch (kubectl patch --type json), `/` escaped as `~1`.
    let path = format!("/metadata/annotations/{}", MAX_SIZE.replace('/', "~1"));
    let (s, _) = annotate(
        &c,
        &kube,
        "application/json-patch+json",
        json!([{"op": "replace", "path": path, "value": "7"}]).to_string(),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(max_size(&live), Some((1, 7)));
    // A failing JSON patch is a Status and changes nothing.
    let (s, v) = annotate(
        &c,
        &kube,
        "application/json-patch+json",
        json!([{"op": "remove", "path": "/metadata/annotations/nope"}]).to_string(),
    )
    .await;
    assert_eq!((s, v["kind"].as_str()), (400, Some("Status")), "{v}");
    assert_eq!(max_size(&live), Some((1, 7)));
    // An annotation that is not a string is refused.
    let (s, _) = annotate(
        &c,
        &kube,
        "application/merge-patch+json",
        json!({"metadata": {"annotations": {MAX_SIZE: 8}}}).to_string(),
    )
    .await;
    assert_eq!(s, 400);
    assert_eq!(max_size(&live), Some((1, 7)));
}

fn lease(holder: &str, rv: Option<&str>, renewed: &str) -> Value {
    let mut v = json!({
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {"name": "cluster-autoscaler", "namespace": "kube-system"},
        "spec": {"holderIdentity": holder, "leaseDurationSeconds": 15,
                 "acquireTime": "2026-12-01T10:00:00.000000Z", "renewTime": renewed},
    });
    if let Some(rv) = rv {
        v["metadata"]["resourceVersion"] = rv.into();
    }
    v
}

#[tokio::test]
async fn leader_election_creates_renews_and_conflicts_on_its_lease() {
    let (_live, kube, c) = setup().await;
    let url = format!(
        "{}/apis/coordination.k8s.io/v1/namespaces/kube-system/leases",
        kube.url
    );
    let one = format!("{url}/cluster-autoscaler");
    assert_eq!(get(&c, one.clone()).await.0, 404);
    let r = c
        .post(&url)
        .json(&lease("a", None, "2026-12-01T10:00:00.000000Z"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let created: Value = r.json().await.unwrap();
    assert!(created["metadata"]["uid"].is_string());
    let rv = created["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string();
    // A second create is AlreadyExists.
    let r = c
        .post(&url)
        .json(&lease("b", None, "2026-12-01T10:00:00.000000Z"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    // Renewal from the current resourceVersion succeeds; from the old one, Conflict.
    let r = c
        .put(&one)
        .json(&lease("a", Some(&rv), "2026-12-01T10:00:02.000000Z"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let renewed: Value = r.json().await.unwrap();
    assert_eq!(renewed["metadata"]["uid"], created["metadata"]["uid"]);
    let r = c
        .put(&one)
        .json(&lease("b", Some(&rv), "2026-12-01T10:00:04.000000Z"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    let (_, now) = get(&c, one.clone()).await;
    assert_eq!(now["spec"]["holderIdentity"], "a");
    // A name that disagrees with the URL is refused.
    let mut other = lease("a", None, "2026-12-01T10:00:00.000000Z");
    other["metadata"]["name"] = "other".into();
    let r = c.put(&one).json(&other).send().await.unwrap();
    assert_eq!(r.status(), 400);
    let r = c.delete(&one).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(get(&c, one).await.0, 404);
}

#[tokio::test]
async fn the_status_configmap_can_be_deleted() {
    let (live, kube, c) = setup().await;
    live.advance(SimDuration::from_secs(30));
    let url = format!(
        "{}/api/v1/namespaces/kube-system/configmaps/cluster-autoscaler-status",
        kube.url
    );
    assert_eq!(get(&c, url.clone()).await.0, 200);
    assert_eq!(c.delete(&url).send().await.unwrap().status(), 200);
    assert_eq!(c.delete(&url).send().await.unwrap().status(), 404);
}
