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
    // Past magsim's pod cap: the engine refuses, the API answers 422 and nothing is built.
    let r = c
        .patch(&url)
        .header(CONTENT_TYPE, "application/merge-patch+json")
        .body(r#"{"spec":{"replicas":1000000000}}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let st: Value = r.json().await.unwrap();
    assert_eq!(st["reason"], "Invalid");
    assert!(
        st["message"]
            .as_str()
            .is_some_and(|m| m.contains("must be less than or equal to 200000")),
        "{st}"
    );
    assert_eq!(live.engine().world.deployments[0].replicas, 3);
    assert_eq!(live.engine().world.live_pods().count(), 3);

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
    // A label reaches the engine's node (its scheduler reads it).
    let r = c
        .patch(format!("{}/api/v1/nodes/{node}", kube.url))
        .header(CONTENT_TYPE, "application/merge-patch+json")
        .body(r#"{"metadata":{"labels":{"a":"b"}}}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        live.engine().world.nodes[0]
            .labels
            .get("a")
            .map(String::as_str),
        Some("b")
    );
    // A taint effect the API does not know is refused, and changes nothing.
    let r = c
        .patch(format!("{}/api/v1/nodes/{node}", kube.url))
        .header(CONTENT_TYPE, "application/merge-patch+json")
        .body(r#"{"spec":{"taints":[{"key":"k","effect":"Sometimes"}]}}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(live.engine().world.nodes[0].taints.is_empty());
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
    // A pod with no node has no kubelet to ask: an empty log, as kube-apiserver streams it.
    let r = c
        .get(format!(
            "{}/api/v1/namespaces/default/pods/{PENDING}/log",
            kube.url
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()[CONTENT_TYPE], "text/plain");
    assert_eq!(r.text().await.unwrap(), "");
    let (code, v) = status_of(
        c.get(format!(
            "{}/api/v1/namespaces/default/pods/nope/log",
            kube.url
        ))
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(
        (code, v["message"].as_str()),
        (404, Some("pods \"nope\" not found"))
    );
    let (code, v) = status_of(
        c.get(format!(
            "{}/api/v1/namespaces/default/pods/{PENDING}/log?container=sidecar",
            kube.url
        ))
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(
        (code, v["message"].as_str()),
        (
            400,
            Some(format!("container sidecar is not valid for pod {PENDING}").as_str())
        )
    );
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
        c.get(format!("{}/apis/batch/v2/jobs", kube.url))
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
            "{}/apis/apps/v1/namespaces/default/replicasets/high-memory-deployment-844964899f",
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
    let (code, v) = status_of(
        c.patch(format!("{}/api/v1/nodes/{node}", kube.url))
            .header(CONTENT_TYPE, "application/merge-patch+json")
            .body(r#"{"spec":{"unschedulable":"yes"}}"#)
            .send()
            .await
            .unwrap(),
    )
    .await;
    // The patched object is decoded as kube-apiserver decodes it, and quoted whole.
    let message = v["message"].as_str().unwrap();
    assert_eq!(code, 422, "{v}");
    assert!(
        message.starts_with(" \"\" is invalid: patch: Invalid value: \"{\\\"kind\\\":\\\"Node\\\"")
            && message.ends_with("\": json: cannot unmarshal string into Go struct field NodeSpec.spec.unschedulable of type bool"),
        "{message}"
    );
    assert_eq!(v["details"]["causes"][0]["field"], "patch");

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
            "/apis/cluster.x-k8s.io/v1beta1/machinedeployments",
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

const MD: &str = "k8s-wamiv264xiet-default-worker";
const MD_NS: &str = "magnum-83bd0e70b4ba4cd092c2fb82b1ce06fb";
const MIN_SIZE: &str = "cluster.x-k8s.io/cluster-api-autoscaler-node-group-min-size";
const MAX_SIZE: &str = "cluster.x-k8s.io/cluster-api-autoscaler-node-group-max-size";

fn md_url(kube: &KubeMock, rest: &str) -> String {
    format!(
        "{}/apis/cluster.x-k8s.io/v1beta1/namespaces/{MD_NS}/machinedeployments{rest}",
        kube.url
    )
}

#[tokio::test]
async fn machine_deployments_list_get_and_discovery() {
    let (live, kube, c) = setup().await;
    let (s, all) = get_json(
        &c,
        format!(
            "{}/apis/cluster.x-k8s.io/v1beta1/machinedeployments",
            kube.url
        ),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(
        (all["kind"].as_str(), all["apiVersion"].as_str()),
        (
            Some("MachineDeploymentList"),
            Some("cluster.x-k8s.io/v1beta1")
        )
    );
    assert_eq!(names(&all), [MD]);
    let (_, in_ns) = get_json(&c, md_url(&kube, "")).await;
    assert_eq!(names(&in_ns), [MD]);
    let (_, elsewhere) = get_json(
        &c,
        format!(
            "{}/apis/cluster.x-k8s.io/v1beta1/namespaces/default/machinedeployments",
            kube.url
        ),
    )
    .await;
    assert_eq!(names(&elsewhere), Vec::<String>::new());

    let (s, md) = get_json(&c, md_url(&kube, &format!("/{MD}"))).await;
    assert_eq!(s, 200);
    assert_eq!(md["kind"], "MachineDeployment");
    assert_eq!(md["metadata"]["namespace"], MD_NS);
    // The annotations the clusterapi provider reads, exactly as the driver rendered them.
    assert_eq!(
        md["metadata"]["annotations"],
        json!({MIN_SIZE: "1", MAX_SIZE: "5"})
    );
    {
        let e = live.engine();
        let world_md = &e.world.machine_deployments[0];
        let rendered: std::collections::BTreeMap<String, String> =
            serde_json::from_value(md["metadata"]["annotations"].clone()).unwrap();
        assert_eq!(rendered, world_md.annotations);
    }
    assert_eq!(md["spec"]["replicas"], 5);
    assert_eq!(md["spec"]["clusterName"], "k8s-wamiv264xiet");
    assert_eq!(
        (
            md["status"]["replicas"].as_u64(),
            md["status"]["readyReplicas"].as_u64()
        ),
        (Some(5), Some(5))
    );
    assert_eq!(md["status"]["phase"], "Running");
    assert_eq!(all["items"][0]["spec"], md["spec"]);

    let (code, st) = status_of(c.get(md_url(&kube, "/nope")).send().await.unwrap()).await;
    assert_eq!(code, 404);
    assert_eq!(
        st["message"],
        "machinedeployments.cluster.x-k8s.io \"nope\" not found"
    );
    assert_eq!(st["details"]["group"], "cluster.x-k8s.io");
    // Writes to the object itself are not served; its scale subresource is.
    let (code, _) = status_of(
        c.delete(md_url(&kube, &format!("/{MD}")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(code, 405);

    // Discovery: aggregated, legacy group list, group and resource list.
    let r = c
        .get(format!("{}/apis", kube.url))
        .header(ACCEPT, DISCOVERY)
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    let capi = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["metadata"]["name"] == "cluster.x-k8s.io")
        .expect("cluster.x-k8s.io announced");
    let res = &capi["versions"][0]["resources"][1];
    assert_eq!(capi["versions"][0]["version"], "v1beta1");
    assert_eq!(res["resource"], "machinedeployments");
    assert_eq!(res["scope"], "Namespaced");
    assert_eq!(res["subresources"][1]["subresource"], "scale");
    assert_eq!(
        res["subresources"][1]["responseKind"]["group"],
        "autoscaling"
    );
    let (_, v) = get_json(&c, format!("{}/apis", kube.url)).await;
    assert_eq!(
        v["groups"][6]["preferredVersion"]["groupVersion"],
        "cluster.x-k8s.io/v1beta1"
    );
    let (s, v) = get_json(&c, format!("{}/apis/cluster.x-k8s.io", kube.url)).await;
    assert_eq!((s, v["kind"].as_str()), (200, Some("APIGroup")));
    let (_, v) = get_json(&c, format!("{}/apis/cluster.x-k8s.io/v1beta1", kube.url)).await;
    let scale = v["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "machinedeployments/scale")
        .expect("the scale subresource");
    assert_eq!(
        (scale["group"].as_str(), scale["kind"].as_str()),
        (Some("autoscaling"), Some("Scale"))
    );

    // kubectl's Table: the CRD's printer columns.
    let r = c
        .get(format!(
            "{}/apis/cluster.x-k8s.io/v1beta1/machinedeployments",
            kube.url
        ))
        .header(ACCEPT, TABLE)
        .send()
        .await
        .unwrap();
    let t: Value = r.json().await.unwrap();
    let cols: Vec<&str> = t["columnDefinitions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(
        cols,
        [
            "Name",
            "Cluster",
            "Desired",
            "Replicas",
            "Ready",
            "Updated",
            "Unavailable",
            "Phase",
            "Age",
            "Version"
        ]
    );
    assert_eq!(
        t["rows"][0]["cells"],
        json!([
            MD,
            "k8s-wamiv264xiet",
            5,
            5,
            5,
            5,
            0,
            "Running",
            "10m",
            "v1.30.4"
        ])
    );
    let (_, ns) = get_json(&c, format!("{}/api/v1/namespaces/{MD_NS}", kube.url)).await;
    assert_eq!(ns["status"]["phase"], "Active");
}

#[tokio::test]
async fn machine_deployment_scale_patch_and_put_grow_the_nodegroup() {
    let (live, kube, c) = setup().await;
    let url = md_url(&kube, &format!("/{MD}/scale"));
    let (s, scale) = get_json(&c, url.clone()).await;
    assert_eq!(s, 200);
    assert_eq!(
        (scale["kind"].as_str(), scale["apiVersion"].as_str()),
        (Some("Scale"), Some("autoscaling/v1"))
    );
    assert_eq!(
        (
            scale["spec"]["replicas"].as_u64(),
            scale["status"]["replicas"].as_u64()
        ),
        (Some(5), Some(5))
    );
    assert_eq!(
        scale["status"]["selector"],
        format!(
            "cluster.x-k8s.io/cluster-name=k8s-wamiv264xiet,cluster.x-k8s.io/deployment-name={MD}"
        )
    );
    let traced = live.engine().trace.len();

    // The clusterapi provider's SetSize: a merge patch of spec.replicas.
    let r = c
        .patch(&url)
        .header(CONTENT_TYPE, "application/merge-patch+json")
        .body(r#"{"spec":{"replicas":6}}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let s: Value = r.json().await.unwrap();
    assert_eq!(s["kind"], "Scale");
    assert_eq!(s["spec"]["replicas"], 6);
    assert_eq!(s["status"]["replicas"], 6, "the server is building");
    {
        let e = live.engine();
        assert_eq!(e.world.machine_deployments[0].replicas, 6);
        assert_eq!(e.world.machines.len(), 6);
        // Only the cloud's own line: the write is the client's to log.
        let added = &e.trace.entries[traced..];
        assert_eq!(added.len(), 1, "{added:?}");
        assert_eq!(added[0].actor, "cloud");
        assert!(added[0].text.starts_with(&format!("server {MD}-")));
    }
    let (_, md) = get_json(&c, md_url(&kube, &format!("/{MD}"))).await;
    assert_eq!(md["status"]["phase"], "ScalingUp");
    assert_eq!(md["status"]["readyReplicas"], 5);

    // After the boot and ready delays the new node is Ready and the pending pod runs there.
    live.advance(SimDuration::from_secs(3 * 60 + 20));
    {
        let e = live.engine();
        assert_eq!(e.world.live_nodes().filter(|(_, n)| n.ready).count(), 6);
        let p = e
            .world
            .find_pod("default", PENDING)
            .expect("the pending pod");
        assert!(e.world.pod(p).node.is_some(), "scheduled on the new node");
    }
    let (_, md) = get_json(&c, md_url(&kube, &format!("/{MD}"))).await;
    assert_eq!(
        (
            md["status"]["readyReplicas"].as_u64(),
            md["status"]["phase"].as_str()
        ),
        (Some(6), Some("Running"))
    );

    // PUT of the whole Scale, with optimistic concurrency.
    let (_, mut cur) = get_json(&c, url.clone()).await;
    cur["spec"]["replicas"] = 7.into();
    let r = c.put(&url).body(cur.to_string()).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(live.engine().world.machine_deployments[0].replicas, 7);
    cur["spec"]["replicas"] = 8.into();
    let (code, st) = status_of(c.put(&url).body(cur.to_string()).send().await.unwrap()).await;
    assert_eq!(code, 409);
    assert_eq!(
        st["message"],
        format!("Operation cannot be fulfilled on machinedeployments.cluster.x-k8s.io \"{MD}\": the object has been modified; please apply your changes to the latest version and try again")
    );
    assert_eq!(live.engine().world.machine_deployments[0].replicas, 7);

    let (code, st) = status_of(
        c.patch(md_url(&kube, "/nope/scale"))
            .header(CONTENT_TYPE, "application/merge-patch+json")
            .body(r#"{"spec":{"replicas":2}}"#)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(code, 404);
    assert_eq!(
        st["message"],
        "machinedeployments.cluster.x-k8s.io \"nope\" not found"
    );
    let (code, _) = status_of(
        c.patch(&url)
            .header(CONTENT_TYPE, "application/merge-patch+json")
            .body(r#"{"spec":{"replicas":-1}}"#)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(code, 422);
    let (code, _) = status_of(c.put(&url).body("{not json").send().await.unwrap()).await;
    assert_eq!(code, 400);
    assert_eq!(live.engine().world.machine_deployments[0].replicas, 7);
}

/// An Event as client-go's recorder posts it (wall-clock timestamps the server ignores).
fn recorder_event(message: &str) -> Value {
    json!({
        "kind": "Event",
        "apiVersion": "v1",
        "metadata": {"name": "cluster-autoscaler-status.1876a0f3c2d4e5f6", "namespace": "kube-system"},
        "involvedObject": {"kind": "ConfigMap", "namespace": "kube-system", "name": "cluster-autoscaler-status", "apiVersion": "v1"},
        "reason": "ScaledUpGroup",
        "message": message,
        "source": {"component": "cluster-autoscaler"},
        "firstTimestamp": "2031-01-01T00:00:00Z",
        "lastTimestamp": "2031-01-01T00:00:00Z",
        "count": 1,
        "type": "Normal",
        "eventTime": null,
        "reportingComponent": "",
        "reportingInstance": "",
    })
}

#[tokio::test]
async fn posted_events_aggregate_server_side() {
    let (live, kube, c) = setup().await;
    let url = format!("{}/api/v1/namespaces/kube-system/events", kube.url);
    let message = format!(
        "Scale-up: setting group MachineDeployment/{MD_NS}/{MD} size to 6 instead of 5 (max: 5)"
    );
    let post = |body: Value| {
        c.post(&url)
            .header(CONTENT_TYPE, "application/json")
            .body(body.to_string())
            .send()
    };
    let traced = live.engine().trace.len();
    let r = post(recorder_event(&message)).await.unwrap();
    assert_eq!(r.status(), 201);
    let first: Value = r.json().await.unwrap();
    assert_eq!(first["kind"], "Event");
    assert_eq!(first["count"], 1);
    // Stored at the engine's virtual time, named by the server.
    assert_eq!(first["firstTimestamp"], "2025-11-10T14:10:00Z");
    let name = first["metadata"]["name"].as_str().unwrap().to_string();
    assert!(name.starts_with("cluster-autoscaler-status."), "{name}");
    assert_eq!(
        live.engine().trace.len(),
        traced,
        "no trace line for a posted event"
    );

    live.advance(SimDuration::from_secs(30));
    let traced = live.engine().trace.len();
    let r = post(recorder_event(&message)).await.unwrap();
    assert_eq!(r.status(), 201);
    let second: Value = r.json().await.unwrap();
    assert_eq!(second["metadata"]["name"], name.as_str());
    assert_eq!(second["count"], 2);
    assert_eq!(second["lastTimestamp"], "2025-11-10T14:10:30Z");
    assert_eq!(live.engine().trace.len(), traced);

    let (s, got) = get_json(&c, format!("{url}/{name}")).await;
    assert_eq!(s, 200);
    assert_eq!(got["count"], 2);
    assert_eq!(got, second);
    let (_, list) = get_json(
        &c,
        format!("{url}?fieldSelector=involvedObject.name%3Dcluster-autoscaler-status"),
    )
    .await;
    let mine: Vec<&Value> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["message"] == message.as_str())
        .collect();
    assert_eq!(mine.len(), 1);
    {
        let e = live.engine();
        let ev: Vec<_> = e
            .world
            .events
            .all()
            .iter()
            .filter(|ev| *ev.message == *message)
            .collect();
        assert_eq!(ev.len(), 1);
        assert_eq!(
            (ev[0].count, ev[0].reason, ev[0].source),
            (2, "ScaledUpGroup", "cluster-autoscaler")
        );
    }

    // The recorder's aggregation patch on the name the server answered with.
    let r = c
        .patch(format!("{url}/{name}"))
        .header(CONTENT_TYPE, "application/strategic-merge-patch+json")
        .body(r#"{"count":3,"lastTimestamp":"2031-01-01T00:00:09Z"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let patched: Value = r.json().await.unwrap();
    assert_eq!(
        (
            patched["count"].as_u64(),
            patched["metadata"]["name"].as_str()
        ),
        (Some(3), Some(name.as_str()))
    );

    // Errors: malformed JSON, a namespace that disagrees, an unknown namespace or event.
    let r = c
        .post(&url)
        .header(CONTENT_TYPE, "application/json")
        .body("{\"kind\":")
        .send()
        .await
        .unwrap();
    let (code, st) = status_of(r).await;
    assert_eq!((code, st["reason"].as_str()), (400, Some("BadRequest")));
    assert!(st["message"]
        .as_str()
        .unwrap()
        .starts_with("error decoding request body: "));
    let mut wrong = recorder_event("m");
    wrong["involvedObject"]["namespace"] = "default".into();
    let (code, st) = status_of(post(wrong).await.unwrap()).await;
    assert_eq!((code, st["reason"].as_str()), (422, Some("Invalid")));
    assert_eq!(
        st["message"],
        "Event \"cluster-autoscaler-status.1876a0f3c2d4e5f6\" is invalid: involvedObject.namespace: Invalid value: \"default\": does not match event.namespace"
    );
    let mut elsewhere = recorder_event("m");
    elsewhere["metadata"]["namespace"] = "nope".into();
    elsewhere["involvedObject"]["namespace"] = "nope".into();
    let (code, st) = status_of(
        c.post(format!("{}/api/v1/namespaces/nope/events", kube.url))
            .body(elsewhere.to_string())
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (code, st["message"].as_str()),
        (404, Some("namespaces \"nope\" not found"))
    );
    let (code, _) = status_of(
        c.patch(format!("{url}/nope.1"))
            .header(CONTENT_TYPE, "application/merge-patch+json")
            .body("{}")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(code, 404);
    let (code, _) = status_of(
        c.post(format!("{}/api/v1/events", kube.url))
            .body(recorder_event("m").to_string())
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(code, 405);
    let e = live.engine();
    assert_eq!(
        e.world
            .events
            .all()
            .iter()
            .filter(|ev| &*ev.message == "m")
            .count(),
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configmap_create_replace_get_and_watch() {
    let (live, kube, c) = setup().await;
    let coll = format!("{}/api/v1/namespaces/default/configmaps", kube.url);
    let url = format!("{coll}/magsim-written");
    let traced = live.engine().trace.len();
    let body = json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "magsim-written", "namespace": "default"},
        "data": {"status": "line one\nline two\n", "key.name": "v"},
    });
    let r = c
        .post(&coll)
        .header(CONTENT_TYPE, "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let created: Value = r.json().await.unwrap();
    assert_eq!(created["data"], body["data"]);
    let (code, st) = status_of(c.post(&coll).body(body.to_string()).send().await.unwrap()).await;
    assert_eq!((code, st["reason"].as_str()), (409, Some("AlreadyExists")));
    assert_eq!(
        st["message"],
        "configmaps \"magsim-written\" already exists"
    );

    let (s, got) = get_json(&c, url.clone()).await;
    assert_eq!(s, 200);
    assert_eq!(got, created);
    let rv = got["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string();

    let mut w = watch(&c, format!("{coll}?watch=true&resourceVersion={rv}"), None).await;
    let mut replaced = got.clone();
    replaced["data"] = json!({"status": "replaced"});
    let r = c.put(&url).body(replaced.to_string()).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let put: Value = r.json().await.unwrap();
    assert_eq!(put["data"], json!({"status": "replaced"}));
    assert_ne!(put["metadata"]["resourceVersion"], rv.as_str());
    let ev = w.next_within(5).await.expect("the change streams");
    assert_eq!(ev["type"], "MODIFIED");
    assert_eq!(ev["object"]["data"], json!({"status": "replaced"}));
    let (_, got) = get_json(&c, url.clone()).await;
    assert_eq!(got["data"], json!({"status": "replaced"}));
    {
        let e = live.engine();
        let stored = &e.world.configmaps[&("default".to_string(), "magsim-written".to_string())];
        assert_eq!(
            stored,
            &magsim_sim::world::ConfigMapData::Plain(
                [("status".to_string(), "replaced".to_string())]
                    .into_iter()
                    .collect()
            )
        );
        assert_eq!(e.trace.len(), traced, "no trace line for a ConfigMap write");
    }

    // The stale resourceVersion conflicts; names must agree; updates do not create.
    let (code, _) = status_of(c.put(&url).body(replaced.to_string()).send().await.unwrap()).await;
    assert_eq!(code, 409);
    let (code, st) = status_of(
        c.put(format!("{coll}/other"))
            .body(replaced.to_string())
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (code, st["message"].as_str()),
        (400, Some("the name of the object (magsim-written) does not match the name on the URL (other)"))
    );
    let mut missing = replaced.clone();
    missing["metadata"] = json!({"name": "missing"});
    let (code, _) = status_of(
        c.put(format!("{coll}/missing"))
            .body(missing.to_string())
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(code, 404);
    let (code, st) = status_of(c.put(&url).body("{\"data\": ").send().await.unwrap()).await;
    assert_eq!((code, st["reason"].as_str()), (400, Some("BadRequest")));
    let (code, _) = status_of(
        c.post(&coll)
            .body(json!({"metadata": {"name": "bad"}, "data": {"a": 1}}).to_string())
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(code, 400);
    let (code, _) = status_of(
        c.post(&coll)
            .body(json!({"metadata": {"name": "bad"}, "data": {"a b": "1"}}).to_string())
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(code, 422);
    let (_, got) = get_json(&c, url).await;
    assert_eq!(got["data"], json!({"status": "replaced"}));
}

#[tokio::test]
async fn injected_faults_answer_with_a_status_or_drop_the_connection() {
    use magsim_sim::cloud::faults::{FaultEffect, RequestFault, Service};
    let (_live, kube, c) = setup().await;
    let pods = "/api/v1/namespaces/default/pods";
    let fault = |effect| RequestFault::new(Service::Kubernetes, effect).on("GET", pods);
    kube.inject(fault(FaultEffect::Error(503)).times(1))
        .unwrap();
    let (status, body) = get_json(&c, format!("{}{pods}", kube.url)).await;
    assert_eq!(status, 503);
    assert_eq!(body["kind"], "Status");
    assert_eq!(body["reason"], "ServiceUnavailable");
    assert_eq!(
        body["message"],
        "the server is currently unable to handle the request"
    );
    assert_eq!(body["code"], 503);
    kube.inject(fault(FaultEffect::Drop).times(1)).unwrap();
    let dropped = c.get(format!("{}{pods}", kube.url)).send().await;
    assert!(dropped.is_err(), "no answer: {dropped:?}");
    let (status, _) = get_json(&c, format!("{}{pods}", kube.url)).await;
    assert_eq!(status, 200, "both faults used up; the server still serves");
    let wrong = RequestFault::new(Service::ContainerInfra, FaultEffect::Error(503));
    assert!(kube.inject(wrong).is_err());
    let not_an_error = RequestFault::new(Service::Kubernetes, FaultEffect::Error(200));
    assert!(kube.inject(not_an_error).is_err());
}

#[tokio::test]
async fn lists_page_with_limit_and_continue() {
    let (_live, kube, c) = setup().await;
    let (_, whole) = get_json(&c, format!("{}/api/v1/events", kube.url)).await;
    let all = names(&whole);
    assert!(all.len() > 2, "{all:?}");
    let mut seen = Vec::new();
    let mut url = format!("{}/api/v1/events?limit=2", kube.url);
    let mut pages = 0;
    loop {
        let (s, page) = get_json(&c, url).await;
        assert_eq!(s, 200);
        pages += 1;
        let got = names(&page);
        assert!(got.len() <= 2);
        seen.extend(got);
        let Some(token) = page["metadata"]["continue"].as_str() else {
            assert!(page["metadata"].get("remainingItemCount").is_none());
            break;
        };
        assert_eq!(
            page["metadata"]["remainingItemCount"].as_u64(),
            Some((all.len() - seen.len()) as u64)
        );
        assert_eq!(
            page["metadata"]["resourceVersion"],
            whole["metadata"]["resourceVersion"]
        );
        url = format!("{}/api/v1/events?limit=2&continue={token}", kube.url);
    }
    assert_eq!(seen, all);
    assert_eq!(pages, all.len().div_ceil(2));
    // The watch cache (resourceVersion=0) does not page, as in kube-apiserver 1.30.
    let (_, cached) = get_json(
        &c,
        format!("{}/api/v1/events?limit=2&resourceVersion=0", kube.url),
    )
    .await;
    assert_eq!(names(&cached), all);
    assert!(cached["metadata"].get("continue").is_none());
    let (s, bad) = get_json(
        &c,
        format!("{}/api/v1/events?limit=2&continue=%21%21", kube.url),
    )
    .await;
    assert_eq!(
        (s, bad["kind"].as_str(), bad["reason"].as_str()),
        (400, Some("Status"), Some("BadRequest"))
    );
    assert!(
        bad["message"]
            .as_str()
            .unwrap()
            .starts_with("continue key is not valid"),
        "{bad}"
    );
    let (_, first) = get_json(&c, format!("{}/api/v1/events?limit=1", kube.url)).await;
    let token = first["metadata"]["continue"].as_str().unwrap();
    let (s, both) = get_json(
        &c,
        format!(
            "{}/api/v1/events?limit=1&continue={token}&resourceVersion=3",
            kube.url
        ),
    )
    .await;
    assert_eq!(s, 400, "{both}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_huge_watch_timeout_is_clamped_not_a_panic() {
    let (_live, kube, c) = setup().await;
    let mut lines = watch(
        &c,
        format!(
            "{}/api/v1/nodes?watch=true&timeoutSeconds=18446744073709551615",
            kube.url
        ),
        None,
    )
    .await;
    let first = lines.next().await.expect("an event");
    assert_eq!(first["type"], "ADDED", "{first}");
    let (s, _) = get_json(&c, format!("{}/api/v1/nodes", kube.url)).await;
    assert_eq!(s, 200, "the server still answers");
}

/// Leader election's renewal: each PUT carries the resourceVersion the last answer gave, and
/// must not be refused because recording who wrote it changed the Lease first. Each write's
/// answer is what a read then shows, its managers included.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lease_renewed_with_the_answered_version_is_never_a_conflict() {
    let (_live, kube, c) = setup().await;
    let url = format!(
        "{}/apis/coordination.k8s.io/v1/namespaces/kube-system/leases",
        kube.url
    );
    let lease = json!({
        "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
        "metadata": {"name": "cluster-autoscaler", "namespace": "kube-system"},
        "spec": {"holderIdentity": "ca-1", "leaseDurationSeconds": 15},
    });
    let agent = "cluster-autoscaler/v1.30.2 (linux/amd64) kubernetes/$Format/leader-election";
    let r = c
        .post(&url)
        .header("user-agent", agent)
        .json(&lease)
        .send()
        .await
        .unwrap();
    let answer = |r: reqwest::Response| async move {
        let code = r.status().as_u16();
        (code, r.json::<Value>().await.expect("a JSON answer"))
    };
    let (code, mut held) = answer(r).await;
    assert_eq!(code, 201, "{held}");
    for renewal in 0..5 {
        held["spec"]["renewTime"] = format!("2025-11-10T14:10:0{renewal}.000000Z").into();
        let r = c
            .put(format!("{url}/cluster-autoscaler"))
            .header("user-agent", agent)
            .json(&held)
            .send()
            .await
            .unwrap();
        let (code, renewed) = answer(r).await;
        assert_eq!(code, 200, "renewal {renewal}: {renewed}");
        let (_, read) = get_json(&c, format!("{url}/cluster-autoscaler")).await;
        assert_eq!(read, renewed, "the answer is the object as stored");
        held = renewed;
    }
    let managers = held["metadata"]["managedFields"].as_array().unwrap();
    assert_eq!(managers.len(), 1, "{managers:?}");
    assert_eq!(managers[0]["manager"], "cluster-autoscaler");
    assert_eq!(managers[0]["operation"], "Update");
    assert_eq!(
        managers[0]["fieldsV1"]["f:spec"],
        json!({"f:holderIdentity": {}, "f:leaseDurationSeconds": {}, "f:renewTime": {}})
    );
}
