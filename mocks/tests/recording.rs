//! The shipped incident recording is what the engine says happened, and it holds the
//! incident's facts. `MAGSIM_BLESS=1 cargo test -p magsim-mocks --test recording` rewrites it.

use magsim_mocks::recording::Recording;
use magsim_mocks::replay::incident::{incident_recording, FILE, LABELS_REQUEST_ID};
use magsim_mocks::Service;
use std::path::Path;

fn shipped_path() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(FILE)
}

#[test]
fn shipped_recording_matches_the_engine() {
    let generated = incident_recording().expect("incident scenario builds");
    let path = shipped_path();
    if std::env::var_os("MAGSIM_BLESS").is_some() {
        std::fs::write(&path, generated.to_json()).expect("write recording");
    }
    let text = std::fs::read_to_string(&path).expect("recording is shipped");
    assert_eq!(
        text,
        generated.to_json(),
        "{} differs from what the engine produces; rerun with MAGSIM_BLESS=1",
        path.display()
    );
    let loaded = Recording::load(&path).expect("recording parses");
    assert_eq!(loaded, generated);
}

#[test]
fn recording_holds_the_incident_facts() {
    let r = Recording::load(&shipped_path()).expect("recording parses");
    let find = |method: &str, path: &str| -> Vec<&magsim_mocks::recording::Exchange> {
        r.exchanges
            .iter()
            .filter(|e| e.request.method == method && e.request.path == path)
            .collect()
    };
    let cluster = find("GET", "/v1/clusters/k8s");
    assert_eq!(cluster.len(), 1);
    let labels = &cluster[0].response.body.as_ref().unwrap()["labels"];
    assert_eq!(labels["min_node_count"], "1");
    assert_eq!(labels["max_node_count"], "5");

    let ng = find("GET", "/v1/clusters/k8s/nodegroups/default-worker");
    assert_eq!(ng.len(), 2, "nodegroup show before and after");
    assert_ne!(
        ng[0].response.headers["x-openstack-request-id"],
        ng[1].response.headers["x-openstack-request-id"]
    );

    let patch = find("PATCH", "/v1/clusters/k8s");
    assert_eq!(patch[0].response.status, 400);
    assert_eq!(
        patch[0].response.headers["x-openstack-request-id"],
        LABELS_REQUEST_ID
    );
    assert_eq!(
        magsim_mocks::python_json(patch[0].response.body.as_ref().unwrap()),
        r#"{"errors": [{"request_id": "", "code": "client", "status": 400, "title": "cannot change cluster property(ies) labels", "detail": "cannot change cluster property(ies) labels.", "links": []}]}"#
    );

    let cm = find(
        "GET",
        "/api/v1/namespaces/kube-system/configmaps/cluster-autoscaler-status",
    );
    assert_eq!(cm[0].service, Service::Kubernetes);
    let status = cm[0].response.body.as_ref().unwrap()["data"]["status"]
        .as_str()
        .unwrap();
    assert!(status.contains("maxSize: 5"), "{status}");

    let pod = find(
        "GET",
        "/api/v1/namespaces/default/pods/high-memory-deployment-844964899f-4md88",
    );
    assert_eq!(
        pod[0].response.body.as_ref().unwrap()["status"]["phase"],
        "Pending"
    );
    let events = find("GET", "/api/v1/namespaces/default/events");
    let items = events[0].response.body.as_ref().unwrap()["items"]
        .as_array()
        .unwrap();
    assert!(items.iter().any(|e| e["reason"] == "NotTriggerScaleUp"
        && e["message"] == "pod didn't trigger scale-up: 1 max node group size reached"));
}
