//! kube-rs (the Rust Kubernetes client) against the mock API server: typed reads, the scale
//! subresource, and a `watcher` stream that sees a change the engine makes, without the
//! reconnect loop a canned (non-streaming) watch answer would cause.

use futures_util::StreamExt;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Event, Node, Pod};
use kube::api::{Api, ListParams, Patch, PatchParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::runtime::watcher;
use kube::{Client, Config};
use magsim_mocks::kube::KubeMock;
use magsim_mocks::Live;
use magsim_sim::time::SimDuration;
use std::time::Duration;

const PENDING_POD: &str = "high-memory-deployment-844964899f-4md88";

async fn incident() -> (Live, KubeMock, Client) {
    let (file, text) = magsim_scenario::builtin()[0];
    let live = Live::new(&magsim_scenario::parse(file, text).unwrap(), None);
    live.advance(SimDuration::from_mins(2));
    let kube = KubeMock::start(live.clone()).await.unwrap();
    let kubeconfig = Kubeconfig::from_yaml(&kube.kubeconfig()).unwrap();
    let config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .unwrap();
    let client = Client::try_from(config).unwrap();
    (live, kube, client)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_reads_match_the_incident() {
    let (_live, _kube, client) = incident().await;
    let nodes = Api::<Node>::all(client.clone())
        .list(&ListParams::default())
        .await
        .unwrap();
    assert_eq!(nodes.items.len(), 5);
    assert!(nodes.metadata.resource_version.is_some());

    let pod = Api::<Pod>::namespaced(client.clone(), "default")
        .get(PENDING_POD)
        .await
        .unwrap();
    let status = pod.status.unwrap();
    assert_eq!(status.phase.as_deref(), Some("Pending"));
    let cond = &status.conditions.unwrap()[0];
    assert_eq!(cond.reason.as_deref(), Some("Unschedulable"));

    let cm = Api::<ConfigMap>::namespaced(client.clone(), "kube-system")
        .get("cluster-autoscaler-status")
        .await
        .unwrap();
    assert!(cm.data.unwrap()["status"].contains("maxSize: 5"));

    let events = Api::<Event>::namespaced(client.clone(), "default")
        .list(&ListParams::default().fields(&format!(
            "involvedObject.name={PENDING_POD},reason=NotTriggerScaleUp"
        )))
        .await
        .unwrap();
    assert_eq!(events.items.len(), 1);
    assert_eq!(
        events.items[0].message.as_deref(),
        Some("pod didn't trigger scale-up: 1 max node group size reached")
    );

    let missing = Api::<Pod>::namespaced(client, "default").get("nope").await;
    match missing {
        Err(kube::Error::Api(s)) => assert_eq!(s.code, 404),
        other => panic!("expected a 404 Status, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scale_through_the_subresource_and_watch_the_new_pod() {
    let (live, _kube, client) = incident().await;
    let pods = Api::<Pod>::namespaced(client.clone(), "default");
    let mut stream = watcher(pods, watcher::Config::default()).boxed();
    // The initial list arrives first, then the stream stays open.
    let mut seen_init_done = false;
    while !seen_init_done {
        let ev = tokio::time::timeout(Duration::from_secs(10), stream.next())
            .await
            .expect("initial list")
            .expect("stream open")
            .expect("no watch error");
        seen_init_done = matches!(ev, watcher::Event::InitDone);
    }
    let deployments = Api::<Deployment>::namespaced(client, "default");
    let scale = deployments
        .patch_scale(
            "high-memory-deployment",
            &PatchParams::default(),
            &Patch::Merge(serde_json::json!({"spec": {"replicas": 7}})),
        )
        .await
        .unwrap();
    assert_eq!(scale.spec.unwrap().replicas, Some(7));
    assert_eq!(live.engine().world.deployments[0].replicas, 7);
    let new_pod = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match stream.next().await {
                Some(Ok(watcher::Event::Apply(p))) => return p,
                Some(Ok(_)) => continue,
                other => panic!("watch ended: {other:?}"),
            }
        }
    })
    .await
    .expect("the new pod is streamed");
    let name = new_pod.metadata.name.unwrap();
    assert!(
        name.starts_with("high-memory-deployment-844964899f-"),
        "{name}"
    );
    assert_ne!(name, PENDING_POD);
}
