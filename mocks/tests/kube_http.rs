//! The mock Kubernetes API server over HTTP, against the incident scenario's world: each
//! endpoint, selectors, Tables, streaming watches and every error path.

use magsim_mocks::kube::{KubeMock, KubeOptions};
use magsim_mocks::Live;
use magsim_sim::time::SimDuration;
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use serde_json::{json, Value};
use std::time::Duration;

const PENDING: &str = "high-memory-deployment-844964899f-4md88";
const TABLE: &str = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";
const DISCOVERY: &str = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";

fn incident() -> Live {
    let (file, text) = magsim_scenario::builtin()[0];
    let scenario = magsim_scenario::parse(file, text).expect("incident scenario parses");
    Live::new(&scenario, None)
}

/// The incident ten minutes in: the pending pod has its NotTriggerScaleUp events.
async fn setup() -> (Live, KubeMock, reqwest::Client) {
    let live = incident();
    live.advance(SimDuration::from_mins(10));
    let kube = KubeMock::start(live.clone()).await.expect("server starts");
    (live, kube, reqwest::Client::new())
}

async fn get_json(c: &reqwest::Client, url: String) -> (u16, Value) {
    let r = c.get(url).send().await.expect("request");
    let status = r.status().as_u16();
    (status, r.json().await.expect("json body"))
}

fn names(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| {
            i["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect()
}

#[tokio::test]
async fn version_and_health() {
    let (_live, kube, c) = setup().await;
    let (s, v) = get_json(&c, format!("{}/version?timeout=5s", kube.url)).await;
    assert_eq!(s, 200);
    assert_eq!(
        (v["major"].as_str(), v["minor"].as_str()),
        (Some("1"), Some("32"))
    );
    let r = c.get(format!("{}/healthz", kube.url)).send().await.unwrap();
    assert_eq!(r.text().await.unwrap(), "ok");
}

#[tokio::test]
async fn aggregated_discovery_has_its_content_type() {
    let (_live, kube, c) = setup().await;
    for (path, first) in [("/api", "pods"), ("/apis", "deployments")] {
        let r = c
            .get(format!("{}{path}?timeout=32s", kube.url))
            .header(ACCEPT, DISCOVERY)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(
            r.headers()[CONTENT_TYPE],
            "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
        );
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["kind"], "APIGroupDiscoveryList");
        let res = &v["items"][0]["versions"][0]["resources"];
        assert_eq!(res[0]["resource"], first);
        assert!(res[0]["shortNames"]
            .as_array()
            .is_some_and(|s| !s.is_empty()));
    }
}

#[tokio::test]
async fn legacy_discovery() {
    let (_live, kube, c) = setup().await;
    let (_, v) = get_json(&c, format!("{}/api", kube.url)).await;
    assert_eq!(v["kind"], "APIVersions");
    assert_eq!(
        v["serverAddressByClientCIDRs"][0]["serverAddress"],
        kube.addr.to_string()
    );
    let (_, v) = get_json(&c, format!("{}/apis", kube.url)).await;
    assert_eq!(
        v["groups"][0]["preferredVersion"]["groupVersion"],
        "apps/v1"
    );
    let (_, v) = get_json(&c, format!("{}/api/v1", kube.url)).await;
    let res: Vec<&str> = v["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["name"].as_str())
        .collect();
    for want in [
        "pods",
        "nodes",
        "events",
        "configmaps",
        "namespaces",
        "pods/status",
    ] {
        assert!(res.contains(&want), "{want} in {res:?}");
    }
    let (_, v) = get_json(&c, format!("{}/apis/apps/v1", kube.url)).await;
    assert!(v["resources"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["name"] == "deployments/scale" && r["group"] == "autoscaling"));
}

#[tokio::test]
async fn lists_and_gets() {
    let (live, kube, c) = setup().await;
    let (s, pods) = get_json(
        &c,
        format!("{}/api/v1/namespaces/default/pods?limit=500", kube.url),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(pods["kind"], "PodList");
    assert!(pods["metadata"]["resourceVersion"]
        .as_str()
        .is_some_and(|r| !r.is_empty() && r != "0"));
    assert_eq!(names(&pods).len(), 6);
    assert!(
        pods["items"][0].get("kind").is_none(),
        "list items omit kind"
    );

    let (s, pod) = get_json(
        &c,
        format!("{}/api/v1/namespaces/default/pods/{PENDING}", kube.url),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(
        (pod["kind"].as_str(), pod["apiVersion"].as_str()),
        (Some("Pod"), Some("v1"))
    );
    assert_eq!(pod["status"]["phase"], "Pending");
    let cond = &pod["status"]["conditions"][0];
    assert_eq!(cond["reason"], "Unschedulable");
    assert_eq!(
        cond["message"],
        "0/5 nodes are available: 5 Insufficient memory. preemption: 0/5 nodes are available: 5 No preemption victims found for incoming pod."
    );
    assert_eq!(
        pod["metadata"]["ownerReferences"][0]["name"],
        "high-memory-deployment-844964899f"
    );
    assert_eq!(
        pod["spec"]["containers"][0]["resources"]["requests"]["memory"],
        "4Gi"
    );
    let engine_uid = {
        let e = live.engine();
        let id = e.world.find_pod("default", PENDING).unwrap();
        e.world.pod(id).uid.clone()
    };
    assert_eq!(pod["metadata"]["uid"], engine_uid.as_str());

    let (_, all) = get_json(&c, format!("{}/api/v1/pods", kube.url)).await;
    assert_eq!(names(&all).len(), 6);

    let (_, nodes) = get_json(&c, format!("{}/api/v1/nodes", kube.url)).await;
    assert_eq!(nodes["kind"], "NodeList");
    assert_eq!(names(&nodes).len(), 5);
    let node = &nodes["items"][0];
    let ready = node["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "Ready")
        .unwrap();
    assert_eq!(ready["status"], "True");
    assert_eq!(node["status"]["nodeInfo"].as_object().unwrap().len(), 10);
    let (s, st) = get_json(
        &c,
        format!(
            "{}/api/v1/namespaces/default/pods/{PENDING}/status",
            kube.url
        ),
    )
    .await;
    assert_eq!((s, st["status"]["phase"].as_str()), (200, Some("Pending")));
    let (s, one) = get_json(
        &c,
        format!("{}/api/v1/nodes/{}", kube.url, names(&nodes)[0]),
    )
    .await;
    assert_eq!((s, one["kind"].as_str()), (200, Some("Node")));

    let (_, cm) = get_json(
        &c,
        format!(
            "{}/api/v1/namespaces/kube-system/configmaps/cluster-autoscaler-status",
            kube.url
        ),
    )
    .await;
    assert_eq!(cm["kind"], "ConfigMap");
    assert!(cm["data"]["status"]
        .as_str()
        .unwrap()
        .contains("maxSize: 5"));

    let (s, ns) = get_json(&c, format!("{}/api/v1/namespaces/kube-system", kube.url)).await;
    assert_eq!((s, ns["status"]["phase"].as_str()), (200, Some("Active")));
    let (_, nss) = get_json(&c, format!("{}/api/v1/namespaces", kube.url)).await;
    assert!(names(&nss).contains(&"default".to_string()));

    let (_, d) = get_json(
        &c,
        format!(
            "{}/apis/apps/v1/namespaces/default/deployments/high-memory-deployment",
            kube.url
        ),
    )
    .await;
    assert_eq!(
        (d["kind"].as_str(), d["apiVersion"].as_str()),
        (Some("Deployment"), Some("apps/v1"))
    );
    assert_eq!(
        (
            d["spec"]["replicas"].as_u64(),
            d["status"]["readyReplicas"].as_u64()
        ),
        (Some(6), Some(5))
    );
    let (_, rs) = get_json(
        &c,
        format!("{}/apis/apps/v1/namespaces/default/replicasets?labelSelector=app%3Dhigh-memory&limit=500", kube.url),
    )
    .await;
    assert_eq!(names(&rs), vec!["high-memory-deployment-844964899f"]);
    let (_, sc) = get_json(
        &c,
        format!(
            "{}/apis/apps/v1/namespaces/default/deployments/high-memory-deployment/scale",
            kube.url
        ),
    )
    .await;
    assert_eq!(sc["kind"], "Scale");
    assert_eq!(sc["apiVersion"], "autoscaling/v1");
    assert_eq!(
        (
            sc["spec"]["replicas"].as_u64(),
            sc["status"]["replicas"].as_u64()
        ),
        (Some(6), Some(6))
    );
    assert_eq!(sc["status"]["selector"], "app=high-memory");
}

#[tokio::test]
async fn events_carry_the_pods_uid_and_filter_by_fields() {
    let (_live, kube, c) = setup().await;
    let (_, pod) = get_json(
        &c,
        format!("{}/api/v1/namespaces/default/pods/{PENDING}", kube.url),
    )
    .await;
    let uid = pod["metadata"]["uid"].as_str().unwrap().to_string();
    // What `kubectl describe pod` asks for.
    let url = format!(
        "{}/api/v1/namespaces/default/events?fieldSelector=involvedObject.uid%3D{uid}%2CinvolvedObject.name%3D{PENDING}%2CinvolvedObject.namespace%3Ddefault&limit=500",
        kube.url
    );
    let (s, evs) = get_json(&c, url).await;
    assert_eq!(s, 200);
    let items = evs["items"].as_array().unwrap();
    let reasons: Vec<&str> = items.iter().filter_map(|e| e["reason"].as_str()).collect();
    assert!(reasons.contains(&"FailedScheduling"), "{reasons:?}");
    assert!(reasons.contains(&"NotTriggerScaleUp"), "{reasons:?}");
    let url = format!(
        "{}/api/v1/namespaces/default/events?fieldSelector=involvedObject.name%3D{PENDING}%2Creason%3DNotTriggerScaleUp",
        kube.url
    );
    let (_, evs) = get_json(&c, url).await;
    let items = evs["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    let e = &items[0];
    assert_eq!(
        e["message"],
        "pod didn't trigger scale-up: 1 max node group size reached"
    );
    assert_eq!(e["source"]["component"], "cluster-autoscaler");
    assert!(e["count"].as_u64().unwrap() > 1);
    assert_eq!(e["involvedObject"]["uid"], uid.as_str());
    // A uid that is not the pod's selects nothing.
    let url = format!(
        "{}/api/v1/namespaces/default/events?fieldSelector=involvedObject.uid%3Dstale",
        kube.url
    );
    let (_, none) = get_json(&c, url).await;
    assert_eq!(none["items"], json!([]));
    // source= matches source.component; != negates.
    let (_, ca) = get_json(
        &c,
        format!("{}/api/v1/events?fieldSelector=source%3Dcluster-autoscaler%2Creason!%3DNotTriggerScaleUp", kube.url),
    )
    .await;
    assert!(ca["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["reason"] != "NotTriggerScaleUp"
            && e["source"]["component"] == "cluster-autoscaler"));
}

#[tokio::test]
async fn pod_field_and_label_selectors() {
    let (_live, kube, c) = setup().await;
    let sel = |q: &str| format!("{}/api/v1/pods?{q}", kube.url);
    let (_, p) = get_json(&c, sel("fieldSelector=status.phase%3DPending&limit=500")).await;
    assert_eq!(names(&p), vec![PENDING]);
    let (_, p) = get_json(&c, sel("fieldSelector=status.phase!%3DPending")).await;
    assert_eq!(names(&p).len(), 5);
    let (_, p) = get_json(&c, sel("fieldSelector=spec.nodeName%3D")).await;
    assert_eq!(names(&p), vec![PENDING]);
    let (_, p) = get_json(&c, sel("labelSelector=app%3Dhigh-memory")).await;
    assert_eq!(names(&p).len(), 6);
    let (_, p) = get_json(&c, sel("labelSelector=app+notin+(high-memory)")).await;
    assert_eq!(p["items"], json!([]));
    let (_, p) = get_json(&c, sel("labelSelector=app%2C!missing")).await;
    assert_eq!(names(&p).len(), 6);
    let (_, p) = get_json(&c, format!("{}/api/v1/namespaces/empty/pods", kube.url)).await;
    assert_eq!(p["items"], json!([]));
    assert!(p["metadata"]["resourceVersion"].is_string());
}

#[tokio::test]
async fn tables_for_kubectl() {
    let (_live, kube, c) = setup().await;
    let r = c
        .get(format!(
            "{}/api/v1/namespaces/default/pods?limit=500",
            kube.url
        ))
        .header(ACCEPT, TABLE)
        .send()
        .await
        .unwrap();
    let t: Value = r.json().await.unwrap();
    assert_eq!(t["kind"], "Table");
    assert_eq!(t["apiVersion"], "meta.k8s.io/v1");
    assert!(t["metadata"]["resourceVersion"].is_string());
    let cols: Vec<(&str, u64)> = t["columnDefinitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["name"].as_str().unwrap(), c["priority"].as_u64().unwrap()))
        .collect();
    assert_eq!(
        cols,
        vec![
            ("Name", 0),
            ("Ready", 0),
            ("Status", 0),
            ("Restarts", 0),
            ("Age", 0),
            ("IP", 1),
            ("Node", 1),
            ("Nominated Node", 1),
            ("Readiness Gates", 1)
        ]
    );
    let row = t["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["cells"][0] == PENDING)
        .unwrap();
    assert_eq!(
        row["cells"],
        json!([PENDING, "0/1", "Pending", "0", "10m", "<none>", "<none>", "<none>", "<none>"])
    );
    assert_eq!(row["object"]["kind"], "PartialObjectMetadata");
    assert_eq!(row["object"]["metadata"]["namespace"], "default");
    let running = t["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["cells"][2] == "Running")
        .unwrap();
    assert_eq!(running["cells"][1], "1/1");
    assert!(running["cells"][5].as_str().unwrap().starts_with("10.100."));

    // includeObject=Object (kubectl --sort-by) embeds the full object; None omits it.
    let r = c
        .get(format!("{}/api/v1/nodes?includeObject=Object", kube.url))
        .header(ACCEPT, TABLE)
        .send()
        .await
        .unwrap();
    let t: Value = r.json().await.unwrap();
    assert_eq!(t["rows"][0]["object"]["kind"], "Node");
    assert_eq!(t["rows"][0]["cells"][1], "Ready");
    assert_eq!(t["rows"][0]["cells"][2], "<none>");
    assert_eq!(t["rows"][0]["cells"][4], "v1.30.4");
    let r = c
        .get(format!("{}/api/v1/nodes?includeObject=None", kube.url))
        .header(ACCEPT, TABLE)
        .send()
        .await
        .unwrap();
    let t: Value = r.json().await.unwrap();
    assert!(t["rows"][0].get("object").is_none());

    // A single GET is a one-row Table.
    let r = c
        .get(format!(
            "{}/apis/apps/v1/namespaces/default/deployments/high-memory-deployment",
            kube.url
        ))
        .header(ACCEPT, TABLE)
        .send()
        .await
        .unwrap();
    let t: Value = r.json().await.unwrap();
    assert_eq!(t["rows"].as_array().unwrap().len(), 1);
    assert_eq!(
        t["rows"][0]["cells"],
        json!([
            "high-memory-deployment",
            "5/6",
            6,
            5,
            "10m",
            "app",
            "nginx:1.27",
            "app=high-memory"
        ])
    );

    // Events: LAST SEEN, TYPE, REASON, OBJECT, SUBOBJECT, SOURCE, MESSAGE, FIRST SEEN, COUNT, NAME.
    let r = c
        .get(format!(
            "{}/api/v1/namespaces/default/events?fieldSelector=reason%3DNotTriggerScaleUp",
            kube.url
        ))
        .header(ACCEPT, TABLE)
        .send()
        .await
        .unwrap();
    let t: Value = r.json().await.unwrap();
    let cells = &t["rows"][0]["cells"];
    assert_eq!(cells[2], "NotTriggerScaleUp");
    assert_eq!(cells[3], format!("pod/{PENDING}"));
    assert_eq!(cells[5], "cluster-autoscaler");
    assert_eq!(
        cells[6],
        "pod didn't trigger scale-up: 1 max node group size reached"
    );
    assert!(cells[8].as_u64().unwrap() > 1);

    // Protobuf-first Accept (kubectl describe) gets JSON.
    let r = c
        .get(format!(
            "{}/api/v1/namespaces/default/pods/{PENDING}",
            kube.url
        ))
        .header(
            ACCEPT,
            "application/vnd.kubernetes.protobuf,application/json",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()[CONTENT_TYPE], "application/json");
    let pod: Value = r.json().await.unwrap();
    assert_eq!(pod["kind"], "Pod");
}

#[tokio::test]
async fn scale_patch_put_and_conflict() {
    let (live, kube, c) = setup().await;
    let url = format!(
        "{}/apis/apps/v1/namespaces/default/deployments/high-memory-deployment/scale",
        kube.url
    );
    let r = c
        .patch(&url)
        .header(CONTENT_TYPE, "application/merge-patch+json")
        .body(r#"{"spec":{"replicas":7}}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let s: Value = r.json().await.unwrap();
    assert_eq!(
        (s["kind"].as_str(), s["spec"]["replicas"].as_u64()),
        (Some("Scale"), Some(7))
    );
    assert_eq!(s["status"]["replicas"], 7, "the deployment controller ran");
    {
        let e = live.engine();
        assert_eq!(e.world.deployments[0].replicas, 7);
        assert_eq!(e.world.live_pods().count(), 7);
    }
    // Python's client sends a strategic merge patch.
    let r = c
        .patch(&url)
        .header(CONTENT_TYPE, "application/strategic-merge-patch+json")
        .body(r#"{"spec": {"replicas": 2}}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(live.engine().world.live_pods().count(), 2);

    // kubectl scale --current-replicas: GET, then PUT of the whole Scale, no Content-Type.
    let (_, mut cur) = get_json(&c, url.clone()).await;
    cur["spec"]["replicas"] = 3.into();
    let r = c.put(&url).body(cur.to_string()).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(live.engine().world.deployments[0].replicas, 3);
    // The same resourceVersion again is stale now.
    cur["spec"]["replicas"] = 4.into();
    let r = c.put(&url).body(cur.to_string()).send().await.unwrap();
    assert_eq!(r.status(), 409);
    let st: Value = r.json().await.unwrap();
    assert_eq!(st["reason"], "Conflict");
    assert_eq!(
        st["message"],
        "Operation cannot be fulfilled on deployments.apps \"high-memory-deployment\": the object has been modified; please apply your changes to the latest version and try again"
    );
    assert_eq!(live.engine().world.deployments[0].replicas, 3);

    let r = c
        .patch(&url)
        .header(CONTENT_TYPE, "application/merge-patch+json")
        .body(r#"{"spec":{"replicas":-1}}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let st: Value = r.json().await.unwrap();
    assert_eq!(st["reason"], "Invalid");

    let r = c
        .patch(format!(
            "{}/apis/apps/v1/namespaces/default/deployments/nope/scale",
            kube.url
        ))
        .header(CONTENT_TYPE, "application/merge-patch+json")
        .body(r#"{"spec":{"replicas":2}}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let st: Value = r.json().await.unwrap();
    assert_eq!(st["message"], "deployments.apps \"nope\" not found");
    assert_eq!(st["details"]["group"], "apps");
}

#[tokio::test]
async fn pod_delete_and_cordon() {
    let (live, kube, c) = setup().await;
    let r = c
        .delete(format!(
            "{}/api/v1/namespaces/default/pods/{PENDING}",
            kube.url
        ))
        .header(CONTENT_TYPE, "application/json")
        .body(r#"{"propagationPolicy":"Background"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["metadata"]["name"], PENDING);
    {
        let e = live.engine();
        assert!(e.world.find_pod("default", PENDING).is_none());
        assert_eq!(e.world.live_pods().count(), 6, "the ReplicaSet replaced it");
    }
    let r = c
        .delete(format!(
            "{}/api/v1/namespaces/default/pods/{PENDING}",
            kube.url
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);

    let node = live.engine().world.nodes[0].name.clone();
    let r = c
        .patch(format!("{}/api/v1/nodes/{node}", kube.url))
        .header(CONTENT_TYPE, "application/strategic-merge-patch+json")
        .body(r#"{"spec":{"unschedulable":true}}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let n: Value = r.json().await.unwrap();
    assert_eq!(n["spec"]["unschedulable"], true);
    assert!(live.engine().world.nodes[0].unschedulable);
    let r = c
        .get(format!("{}/api/v1/nodes/{node}", kube.url))
        .header(ACCEPT, TABLE)
        .send()
        .await
        .unwrap();
    let t: Value = r.json().await.unwrap();
    assert_eq!(t["rows"][0]["cells"][1], "Ready,SchedulingDisabled");
    // Any other node patch is not supported.
    let r = c
        .patch(format!("{}/api/v1/nodes/{node}", kube.url))
        .header(CONTENT_TYPE, "application/merge-patch+json")
        .body(r#"{"metadata":{"labels":{"a":"b"}}}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
}

async fn status_of(r: reqwest::Response) -> (u16, Value) {
    let code = r.status().as_u16();
    assert_eq!(r.headers()[CONTENT_TYPE], "application/json");
    let v: Value = r.json().await.expect("a Status body");
    assert_eq!(v["kind"], "Status");
    assert_eq!(v["status"], "Failure");
    assert_eq!(v["code"], code);
    (code, v)
}

#[tokio::test]
async fn bad_input_gets_a_status() {
    let (live, kube, c) = setup().await;
    let scale = format!(
        "{}/apis/apps/v1/namespaces/default/deployments/high-memory-deployment/scale",
        kube.url
    );

    let (code, v) = status_of(
        c.get(format!("{}/api/v1/namespaces/default/pods/nope", kube.url))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((code, v["reason"].as_str()), (404, Some("NotFound")));
    assert_eq!(v["message"], "pods \"nope\" not found");
    let (_, v) = status_of(
        c.get(format!("{}/api/v1/namespaces/nonexist", kube.url))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(v["message"], "namespaces \"nonexist\" not found");
    let (_, v) = status_of(
        c.get(format!(
            "{}/api/v1/namespaces/kube-system/configmaps/nope",
            kube.url
        ))
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(v["message"], "configmaps \"nope\" not found");

    let (code, v) = status_of(
        c.get(format!("{}/api/v1/foos", kube.url))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (code, v["message"].as_str()),
        (
            404,
            Some("the server could not find the requested resource")
        )
    );
    let (code, _) = status_of(
        c.get(format!(
            "{}/api/v1/namespaces/default/pods/{PENDING}/log",
            kube.url
        ))
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(code, 404);
    let (code, _) = status_of(
        c.patch(format!(
            "{}/api/v1/namespaces/default/pods/{PENDING}/status",
            kube.url
        ))
        .header(CONTENT_TYPE, "application/merge-patch+json")
        .body("{}")
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(code, 405);
    let (code, _) = status_of(
        c.get(format!("{}/apis/batch/v1/jobs", kube.url))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(code, 404);

    let (code, v) = status_of(
        c.post(format!("{}/api/v1/namespaces/default/pods", kube.url))
            .body("{}")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (code, v["reason"].as_str()),
        (405, Some("MethodNotAllowed"))
    );
    assert_eq!(
        v["message"],
        "the server does not allow this method on the requested resource"
    );
    let (code, _) = status_of(
        c.delete(format!(
            "{}/apis/apps/v1/namespaces/default/deployments/high-memory-deployment",
            kube.url
        ))
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(code, 405);
    let (code, _) = status_of(
        c.put(format!(
            "{}/api/v1/namespaces/default/pods/{PENDING}",
            kube.url
        ))
        .body("{}")
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(code, 405);

    let (code, v) = status_of(
        c.patch(&scale)
            .header(CONTENT_TYPE, "text/plain")
            .body(r#"{"spec":{"replicas":1}}"#)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (code, v["reason"].as_str()),
        (415, Some("UnsupportedMediaType"))
    );
    let (code, _) = status_of(
        c.patch(&scale)
            .header(CONTENT_TYPE, "application/json-patch+json")
            .body("[]")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(code, 415);
    let (code, _) = status_of(
        c.put(&scale)
            .header(CONTENT_TYPE, "application/yaml")
            .body("spec: {}")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(code, 415);

    let (code, v) = status_of(
        c.patch(&scale)
            .header(CONTENT_TYPE, "application/merge-patch+json")
            .body(r#"{"spec":{"replicas":"#)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((code, v["reason"].as_str()), (400, Some("BadRequest")));
    assert!(v["message"]
        .as_str()
        .unwrap()
        .starts_with("error decoding patch: "));
    let (code, _) = status_of(
        c.patch(&scale)
            .header(CONTENT_TYPE, "application/merge-patch+json")
            .body("[1]")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(code, 400);
    let (code, _) = status_of(
        c.patch(&scale)
            .header(CONTENT_TYPE, "application/merge-patch+json")
            .body(r#"{"spec":{"replicas":"seven"}}"#)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(code, 400);
    let (code, _) = status_of(c.put(&scale).body("not json").send().await.unwrap()).await;
    assert_eq!(code, 400);
    let (code, _) = status_of(c.put(&scale).body("[]").send().await.unwrap()).await;
    assert_eq!(code, 400);
    let node = live.engine().world.nodes[0].name.clone();
    let (code, _) = status_of(
        c.patch(format!("{}/api/v1/nodes/{node}", kube.url))
            .header(CONTENT_TYPE, "application/merge-patch+json")
            .body("{}")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(code, 405);

    let big = format!(
        r#"{{"spec":{{"replicas":1}},"pad":"{}"}}"#,
        "x".repeat(4 * 1024 * 1024)
    );
    let (code, v) = status_of(
        c.patch(&scale)
            .header(CONTENT_TYPE, "application/merge-patch+json")
            .body(big)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (code, v["reason"].as_str()),
        (413, Some("RequestEntityTooLarge"))
    );
    assert_eq!(v["message"], "Request entity too large: limit is 3145728");

    let (code, v) = status_of(
        c.get(format!(
            "{}/api/v1/namespaces/default/events?fieldSelector=foo%3Dbar",
            kube.url
        ))
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(
        (code, v["message"].as_str()),
        (400, Some("field label not supported: foo"))
    );
    let (code, _) = status_of(
        c.get(format!("{}/api/v1/pods?labelSelector=a+in+b", kube.url))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(code, 400);
    let (code, _) = status_of(
        c.get(format!("{}/api/v1/pods?watch=maybe", kube.url))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(code, 400);
    let (code, _) = status_of(
        c.get(format!("{}/api/v1/pods?includeObject=Everything", kube.url))
            .header(ACCEPT, TABLE)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(code, 400);
    let (code, v) = status_of(
        c.get(format!("{}/api/v1/pods", kube.url))
            .header(ACCEPT, "application/yaml")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((code, v["reason"].as_str()), (406, Some("NotAcceptable")));

    // None of it changed the world.
    assert_eq!(live.engine().world.deployments[0].replicas, 6);
}

/// Reads newline-delimited JSON from a streaming response.
struct Lines {
    resp: reqwest::Response,
    buf: Vec<u8>,
}

impl Lines {
    /// The next event, `None` when the stream ended.
    async fn next(&mut self) -> Option<Value> {
        loop {
            if let Some(i) = self.buf.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = self.buf.drain(..=i).collect();
                return Some(serde_json::from_slice(&line).expect("one JSON event per line"));
            }
            match self.resp.chunk().await.expect("stream") {
                Some(chunk) => self.buf.extend_from_slice(&chunk),
                None => return None,
            }
        }
    }

    async fn next_within(&mut self, secs: u64) -> Option<Value> {
        tokio::time::timeout(Duration::from_secs(secs), self.next())
            .await
            .expect("an event in time")
    }
}

async fn watch(c: &reqwest::Client, url: String, accept: Option<&str>) -> Lines {
    let mut req = c.get(url);
    if let Some(a) = accept {
        req = req.header(ACCEPT, a);
    }
    let resp = req.send().await.expect("watch starts");
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()[CONTENT_TYPE], "application/json");
    Lines {
        resp,
        buf: Vec::new(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_streams_initial_state_then_changes() {
    let (live, kube, c) = setup().await;
    let mut w = watch(
        &c,
        format!("{}/api/v1/namespaces/default/pods?watch=true", kube.url),
        None,
    )
    .await;
    for _ in 0..6 {
        let ev = w.next_within(5).await.expect("initial ADDED");
        assert_eq!(ev["type"], "ADDED");
        assert_eq!(ev["object"]["kind"], "Pod");
    }
    // Nothing more arrives until the world changes; then the new replica streams in.
    assert!(
        tokio::time::timeout(Duration::from_millis(300), w.next())
            .await
            .is_err(),
        "held open"
    );
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
    let ev = w.next_within(5).await.expect("the new pod");
    assert_eq!(ev["type"], "ADDED");
    assert_eq!(ev["object"]["status"]["phase"], "Pending");
    let name = ev["object"]["metadata"]["name"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(name.starts_with("high-memory-deployment-844964899f-"));
    // Deleting it is a DELETED event (and its replacement an ADDED one).
    live.mutate(|e| {
        e.apply(
            magsim_sim::engine::Operation::DeletePod {
                namespace: "default".into(),
                name: name.clone(),
            },
            None,
        )
    });
    let mut seen = Vec::new();
    for _ in 0..2 {
        let ev = w.next_within(5).await.expect("delete and replacement");
        seen.push((
            ev["type"].as_str().unwrap().to_string(),
            ev["object"]["metadata"]["name"]
                .as_str()
                .unwrap()
                .to_string(),
        ));
    }
    assert!(seen.contains(&("DELETED".to_string(), name)), "{seen:?}");
    assert!(seen.iter().any(|(t, _)| t == "ADDED"), "{seen:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_from_a_list_resource_version_with_tables_and_selectors() {
    let (live, kube, c) = setup().await;
    let r = c
        .get(format!(
            "{}/api/v1/namespaces/default/pods?limit=500",
            kube.url
        ))
        .header(ACCEPT, TABLE)
        .send()
        .await
        .unwrap();
    let t: Value = r.json().await.unwrap();
    let rv = t["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string();
    // What kubectl get pods -w sends after its list.
    let mut w = watch(
        &c,
        format!(
            "{}/api/v1/namespaces/default/pods?resourceVersion={rv}&watch=true",
            kube.url
        ),
        Some(TABLE),
    )
    .await;
    let mut pending = watch(
        &c,
        format!(
            "{}/api/v1/pods?fieldSelector=status.phase%3DPending&watch=1",
            kube.url
        ),
        None,
    )
    .await;
    let first = pending.next_within(5).await.unwrap();
    assert_eq!(
        (
            first["type"].as_str(),
            first["object"]["metadata"]["name"].as_str()
        ),
        (Some("ADDED"), Some(PENDING))
    );
    assert!(
        tokio::time::timeout(Duration::from_millis(300), w.next())
            .await
            .is_err(),
        "no replay from the list's RV"
    );
    // Raising the MachineDeployment lets the pending pod schedule once the node is Ready.
    live.mutate(|e| {
        e.apply(
            magsim_sim::engine::Operation::Resize {
                cluster: "k8s".into(),
                node_count: 6,
                nodegroup: Some("default-worker".into()),
                nodes_to_remove: vec![],
            },
            None,
        )
    });
    live.advance(SimDuration::from_mins(5));
    let ev = w.next_within(5).await.expect("a Table event");
    assert_eq!(ev["type"], "MODIFIED");
    assert_eq!(ev["object"]["kind"], "Table");
    let cells = &ev["object"]["rows"][0]["cells"];
    assert_eq!(cells[0], PENDING);
    assert_eq!(cells[2], "Running");
    // The pod left the status.phase=Pending selection: DELETED for that watch.
    let ev = pending.next_within(5).await.unwrap();
    assert_eq!(
        (
            ev["type"].as_str(),
            ev["object"]["metadata"]["name"].as_str()
        ),
        (Some("DELETED"), Some(PENDING))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_ends_at_timeout_and_bookmarks_initial_events() {
    let (_live, kube, c) = setup().await;
    let mut w = watch(
        &c,
        format!(
            "{}/api/v1/nodes?watch=true&timeoutSeconds=1&allowWatchBookmarks=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&resourceVersion=0",
            kube.url
        ),
        None,
    )
    .await;
    for _ in 0..5 {
        assert_eq!(w.next_within(5).await.unwrap()["type"], "ADDED");
    }
    let b = w.next_within(5).await.unwrap();
    assert_eq!(b["type"], "BOOKMARK");
    assert_eq!(
        b["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"],
        "true"
    );
    assert_eq!(b["object"]["kind"], "Node");
    // sendInitialEvents with a resourceVersion (NotOlderThan) still sends the state first.
    let (_, list) = get_json(&c, format!("{}/api/v1/nodes", kube.url)).await;
    let rv = list["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string();
    let mut w2 = watch(
        &c,
        format!(
            "{}/api/v1/nodes?watch=true&timeoutSeconds=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&resourceVersion={rv}",
            kube.url
        ),
        None,
    )
    .await;
    for _ in 0..5 {
        assert_eq!(w2.next_within(5).await.unwrap()["type"], "ADDED");
    }
    assert_eq!(w2.next_within(5).await.unwrap()["type"], "BOOKMARK");
    // timeoutSeconds=1: the server ends the stream.
    let end = tokio::time::timeout(Duration::from_secs(5), w.next()).await;
    assert!(matches!(end, Ok(None)), "stream closed by the server");
}

#[tokio::test]
async fn same_world_same_bytes() {
    let mut bodies = Vec::new();
    for _ in 0..2 {
        let (_live, kube, c) = setup().await;
        let mut all = String::new();
        for path in [
            "/api/v1/pods",
            "/api/v1/nodes",
            "/api/v1/events",
            "/api/v1/namespaces",
            "/apis/apps/v1/deployments",
            "/apis/apps/v1/replicasets",
            "/api/v1/configmaps",
        ] {
            for accept in ["application/json", TABLE] {
                let r = c
                    .get(format!("{}{path}", kube.url))
                    .header(ACCEPT, accept)
                    .send()
                    .await
                    .unwrap();
                all.push_str(&r.text().await.unwrap());
            }
        }
        bodies.push(all);
    }
    assert!(bodies[0].len() > 10_000);
    assert_eq!(bodies[0], bodies[1]);
}

#[tokio::test]
async fn resource_versions_move_with_changes_only() {
    let (live, kube, c) = setup().await;
    let rv = |v: &Value| {
        v["metadata"]["resourceVersion"]
            .as_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
    };
    let (_, a) = get_json(&c, format!("{}/api/v1/nodes", kube.url)).await;
    let (_, b) = get_json(&c, format!("{}/api/v1/nodes", kube.url)).await;
    assert_eq!(rv(&a), rv(&b));
    let node_rv = rv(&a["items"][0]);
    live.advance(SimDuration::from_secs(30));
    let (_, d) = get_json(
        &c,
        format!(
            "{}/apis/apps/v1/namespaces/default/deployments/high-memory-deployment",
            kube.url
        ),
    )
    .await;
    let (_, after) = get_json(&c, format!("{}/api/v1/nodes", kube.url)).await;
    assert!(rv(&after) > rv(&a));
    assert_eq!(
        rv(&after["items"][0]),
        node_rv,
        "an unchanged node keeps its resourceVersion"
    );
    assert!(rv(&d) <= rv(&after));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_from_an_expired_resource_version_is_410() {
    let live = incident();
    let options = KubeOptions {
        watch_history: 3,
        watch_timeout: Duration::from_secs(2),
        ..KubeOptions::default()
    };
    let kube = KubeMock::start_with(live.clone(), options).await.unwrap();
    let c = reqwest::Client::new();
    let (_, list) = get_json(&c, format!("{}/api/v1/pods", kube.url)).await;
    let old = list["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string();
    // Two rounds of changes: the history (3 entries) keeps only the last round.
    live.advance(SimDuration::from_mins(5));
    get_json(&c, format!("{}/api/v1/pods", kube.url)).await;
    live.advance(SimDuration::from_mins(5));
    let (_, list) = get_json(&c, format!("{}/api/v1/pods", kube.url)).await;
    let new = list["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(old, new);
    let mut w = watch(
        &c,
        format!("{}/api/v1/pods?watch=true&resourceVersion={old}", kube.url),
        None,
    )
    .await;
    let ev = w.next_within(5).await.expect("an ERROR event");
    assert_eq!(ev["type"], "ERROR");
    assert_eq!(ev["object"]["kind"], "Status");
    assert_eq!(ev["object"]["code"], 410);
    assert_eq!(ev["object"]["reason"], "Expired");
    assert!(ev["object"]["message"]
        .as_str()
        .unwrap()
        .starts_with(&format!("too old resource version: {old} (")));
    assert!(
        w.next_within(5).await.is_none(),
        "the watch ends after ERROR"
    );
    // From the current version the watch is accepted and, with no timeoutSeconds, closes at
    // the configured default.
    let mut w = watch(
        &c,
        format!("{}/api/v1/pods?watch=true&resourceVersion={new}", kube.url),
        None,
    )
    .await;
    assert!(w.next_within(5).await.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_reads_writes_and_watches_do_not_block() {
    let (live, kube, c) = setup().await;
    let mut w = watch(&c, format!("{}/api/v1/pods?watch=true", kube.url), None).await;
    let mut tasks = Vec::new();
    for i in 0..40u32 {
        let c = c.clone();
        let url = kube.url.clone();
        let live = live.clone();
        tasks.push(tokio::spawn(async move {
            if i % 4 == 0 {
                let live2 = live.clone();
                tokio::task::spawn_blocking(move || live2.advance(SimDuration::from_secs(10)))
                    .await
                    .unwrap();
                let r = c
                    .patch(format!("{url}/apis/apps/v1/namespaces/default/deployments/high-memory-deployment/scale"))
                    .header(CONTENT_TYPE, "application/merge-patch+json")
                    .body(format!(r#"{{"spec":{{"replicas":{}}}}}"#, 6 + i % 3))
                    .send()
                    .await
                    .unwrap();
                r.status().as_u16()
            } else {
                let r = c
                    .get(format!("{url}/api/v1/pods"))
                    .header(ACCEPT, TABLE)
                    .send()
                    .await
                    .unwrap();
                r.status().as_u16()
            }
        }));
    }
    let all = tokio::time::timeout(
        Duration::from_secs(30),
        futures_util::future::join_all(tasks),
    )
    .await
    .expect("no deadlock");
    assert!(all.into_iter().all(|r| r.unwrap() == 200));
    // The watch is still streaming after all that: scaling down to 2 shows as DELETED events.
    let r = c
        .patch(format!(
            "{}/apis/apps/v1/namespaces/default/deployments/high-memory-deployment/scale",
            kube.url
        ))
        .header(CONTENT_TYPE, "application/merge-patch+json")
        .body(r#"{"spec":{"replicas":2}}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let mut types = std::collections::BTreeSet::new();
    while let Ok(Some(ev)) = tokio::time::timeout(Duration::from_millis(500), w.next()).await {
        types.insert(ev["type"].as_str().unwrap().to_string());
    }
    assert!(
        types.contains("ADDED") && types.contains("DELETED"),
        "{types:?}"
    );
}
