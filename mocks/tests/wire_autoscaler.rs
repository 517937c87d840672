//! The simulated autoscaler over the wire ([`AutoscalerClient`]): its loops really talk to
//! the mock servers, as the real magnum provider does.

use magsim_mocks::wire::AutoscalerClient;
use magsim_mocks::MockCloud;
use magsim_mocks::Service;
use magsim_sim::time::{SimDuration, SimTime};
use std::path::Path;

fn scenario(path: &str) -> magsim_scenario::Scenario {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path);
    magsim_scenario::load(&p).unwrap_or_else(|e| panic!("{e}"))
}

fn at(secs: u64) -> SimTime {
    SimTime::ZERO + SimDuration::from_secs(secs)
}

#[test]
fn the_magnum_provider_logs_in_with_its_trust_reads_nodegroups_and_resizes() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let s = scenario("scenarios/faults/magnum-resize-503.yaml");
    let cloud = rt.block_on(MockCloud::start(&s, None)).unwrap();
    let mut client = AutoscalerClient::new(&cloud);
    client.run_until(&rt, at(20));
    let journal = cloud.openstack.journal.entries();
    let auth = journal
        .iter()
        .find(|e| e.service == Service::Identity)
        .expect("the provider authenticated");
    assert_eq!(auth.status, 201);
    let body = auth.body.as_ref().unwrap();
    assert_eq!(body["auth"]["identity"]["methods"][0], "password");
    assert_eq!(
        body["auth"]["identity"]["password"]["user"]["id"], "6f1e0d2c3b4a59687766a5b4c3d2e1f0",
        "the cloud-config's trustee"
    );
    assert_eq!(
        body["auth"]["scope"]["OS-TRUST:trust"]["id"],
        "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
    );
    let magnum: Vec<String> = journal
        .iter()
        .filter(|e| e.service == Service::ContainerInfra)
        .map(|e| format!("{} {} {}", e.method, e.path, e.status))
        .collect();
    assert_eq!(
        magnum,
        [
            "GET /v1/clusters/k8s/nodegroups 200",
            "GET /v1/clusters/k8s/nodegroups/5f1c2a7e-9d0b-4c3a-8e2f-0a1b2c3d4e5f 200",
            "POST /v1/clusters/k8s/actions/resize 503",
        ],
        "discovery at 10s, then the resize the scenario's fault refuses"
    );
    assert_eq!(
        cloud
            .live
            .engine()
            .world
            .cluster
            .as_ref()
            .unwrap()
            .nodegroups[0]
            .node_count,
        5
    );
    // After the 5m backoff the resize goes through.
    client.run_until(&rt, at(320));
    let last = cloud.openstack.journal.entries();
    let last = last
        .iter()
        .rfind(|e| e.service == Service::ContainerInfra)
        .unwrap();
    assert_eq!((last.method.as_str(), last.status), ("POST", 202));
    assert_eq!(
        last.body.as_ref().unwrap(),
        &serde_json::json!({"node_count": 6, "nodegroup": "default-worker"})
    );
    assert_eq!(
        cloud
            .live
            .engine()
            .world
            .cluster
            .as_ref()
            .unwrap()
            .nodegroups[0]
            .node_count,
        6
    );
}

#[test]
fn the_clusterapi_provider_scales_through_the_kubernetes_api_and_writes_there() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let s = scenario("scenarios/faults/nodes-never-ready.yaml");
    let cloud = rt.block_on(MockCloud::start(&s, None)).unwrap();
    let mut client = AutoscalerClient::new(&cloud);
    let pool_b = |e: &magsim_sim::engine::Engine| {
        let mut mds = e.world.machine_deployments.iter();
        mds.find(|m| m.nodegroup == "pool-b").map(|m| m.replicas)
    };
    assert_eq!(pool_b(&cloud.live.engine()), Some(1));
    client.run_until(&rt, at(60));
    let e = cloud.live.engine();
    assert_eq!(pool_b(&e), Some(5), "scaled through the scale subresource");
    let key = (
        "kube-system".to_string(),
        "cluster-autoscaler-status".to_string(),
    );
    let status = e.world.configmaps.get(&key).expect("a status ConfigMap");
    assert!(
        matches!(status, magsim_sim::world::ConfigMapData::Plain(_)),
        "the status arrived as a ConfigMap write, not the in-memory structure"
    );
    assert!(
        status.data()["status"].contains("maxSize: 6"),
        "{:?}",
        status.data()
    );
    let triggered = e
        .world
        .events
        .all()
        .iter()
        .filter(|ev| ev.reason == "TriggeredScaleUp" && ev.source == "cluster-autoscaler");
    assert_eq!(triggered.count(), 4, "one per pending pod, posted");
}
