//! Malformed requests against the Kubernetes mock, from a fixed-seed generator (so a failure
//! reproduces): odd methods, mangled paths and queries, bodies of the wrong shape, type or
//! encoding. Every answer must be the API's own: no 5xx, a `Status` body on every error, the
//! world unchanged after a refused write, and the server still answering afterwards.

use magsim_mocks::kube::KubeMock;
use magsim_mocks::Live;
use reqwest::header::CONTENT_TYPE;
use serde_json::{json, Value};

/// Requests per run: enough to reach every handler's error paths, few enough for CI.
const CASES: usize = 1000;

/// The engine's seeded stream: fixed seeds make every run send the same cases.
use magsim_sim::rng::SimRng as Gen;

const PATHS: &[&str] = &[
    "/api/v1/pods",
    "/api/v1/namespaces/default/pods",
    "/api/v1/namespaces/default/pods/high-memory-deployment-844964899f-4md88",
    "/api/v1/namespaces/default/pods/high-memory-deployment-844964899f-4md88/eviction",
    "/api/v1/nodes",
    "/api/v1/nodes/k8s-wamiv264xiet-default-worker-jjxbk-p9rdb",
    "/api/v1/namespaces/default/events",
    "/api/v1/namespaces/kube-system/configmaps",
    "/api/v1/namespaces/kube-system/configmaps/cluster-autoscaler-status",
    "/api/v1/namespaces",
    "/apis/apps/v1/namespaces/default/deployments/high-memory-deployment",
    "/apis/apps/v1/namespaces/default/deployments/high-memory-deployment/scale",
    "/apis/apps/v1/replicasets",
    "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases",
    "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/cluster-autoscaler",
    "/apis/cluster.x-k8s.io/v1beta1/machinedeployments",
    "/apis/cluster.x-k8s.io/v1beta1/namespaces/magnum-83bd0e70b4ba4cd092c2fb82b1ce06fb/machinedeployments/k8s-wamiv264xiet-default-worker",
    "/apis/policy/v1/poddisruptionbudgets",
    "/api",
    "/apis",
    "/version",
];

const QUERIES: &[&str] = &[
    "",
    "?limit=-1",
    "?limit=abc",
    "?limit=2&continue=%%%",
    "?continue=eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6OTk5OTk5LCJzdGFydCI6ImEvYlx1MDAwMCJ9",
    "?fieldSelector=spec.nodeName%3D%3D%3D",
    "?fieldSelector=nope%3Dx",
    "?labelSelector=(((",
    "?labelSelector=a%20in%20(b",
    "?watch=maybe",
    "?watch=true&timeoutSeconds=18446744073709551615&resourceVersion=abc",
    "?resourceVersion=-5",
    "?dryRun=All",
    "?includeObject=Everything",
    "?propagationPolicy=Sideways",
];

const METHODS: &[&str] = &[
    "GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD", "TRACE",
];

const TYPES: &[&str] = &[
    "application/json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
    "application/json-patch+json",
    "application/apply-patch+yaml",
    "application/vnd.kubernetes.protobuf",
    "text/plain",
];

/// A body: mostly near-valid objects with one thing wrong, some plain garbage.
fn body(g: &mut Gen) -> Vec<u8> {
    let valid = [
        json!({"spec": {"replicas": 3}}),
        json!({"metadata": {"name": "x", "namespace": "default"}, "data": {"a": "b"}}),
        json!({"kind": "Scale", "apiVersion": "autoscaling/v1", "metadata": {"name": "high-memory-deployment"}, "spec": {"replicas": 2}}),
        json!([{"op": "replace", "path": "/spec/replicas", "value": 1}]),
        json!({"metadata": {"generateName": "e.", "namespace": "default"}, "involvedObject": {"kind": "Pod", "name": "p"}, "reason": "R", "message": "m", "type": "Normal"}),
    ];
    let wrong = [
        json!({"spec": {"replicas": "three"}}),
        json!({"spec": {"replicas": -1}}),
        json!({"spec": {"replicas": 1e300}}),
        json!({"spec": {"replicas": 2147483648u64}}),
        json!({"metadata": {"name": "Bad_Name!"}}),
        json!({"metadata": {"name": 7}}),
        json!({"metadata": "nope"}),
        json!({"kind": "Secret", "metadata": {"name": "cluster-autoscaler-status"}}),
        json!([{"op": "explode", "path": "/spec"}]),
        json!([{"op": "replace", "path": "spec/replicas"}]),
        json!(null),
        json!("string"),
    ];
    match g.next_u64() % 6 {
        0 => g.pick(&valid).to_string().into_bytes(),
        1 | 2 => g.pick(&wrong).to_string().into_bytes(),
        3 => {
            let mut b = g.pick(&valid).to_string().into_bytes();
            let cut = (g.next_u64() as usize) % b.len().max(1);
            b.truncate(cut);
            b
        }
        4 => {
            let depth = 1 + (g.next_u64() % 3000) as usize;
            let mut b = "[".repeat(depth).into_bytes();
            b.extend("]".repeat(depth / 2).into_bytes());
            b
        }
        _ => (0..(g.next_u64() % 200))
            .map(|_| g.next_u64() as u8)
            .collect(),
    }
}

/// What must not change when a write is refused.
async fn state(c: &reqwest::Client, url: &str) -> Vec<Value> {
    let mut out = Vec::new();
    for path in [
        "/api/v1/pods",
        "/apis/apps/v1/deployments",
        "/api/v1/configmaps",
        "/api/v1/nodes",
        "/apis/cluster.x-k8s.io/v1beta1/machinedeployments",
        "/apis/coordination.k8s.io/v1/leases",
    ] {
        let v: Value = c
            .get(format!("{url}{path}"))
            .send()
            .await
            .expect("server answers")
            .json()
            .await
            .expect("a list");
        out.push(v["items"].clone());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_requests_get_the_apis_errors_and_change_nothing() {
    let (file, text) = magsim_scenario::builtin()[0];
    let scenario = magsim_scenario::parse(file, text).expect("incident scenario parses");
    let live = Live::new(&scenario, None);
    let kube = KubeMock::start(live.clone()).await.expect("server starts");
    let c = reqwest::Client::new();
    let mut g = Gen::new(0x9E37_79B9_7F4A_7C15);
    let mut refused_writes = 0;
    for case in 0..CASES {
        let method = *g.pick(METHODS);
        let mut path = g.pick(PATHS).to_string();
        if g.next_u64().is_multiple_of(5) {
            // A mangled segment: too long, odd characters, or empty.
            let long = "a".repeat(300);
            let junk = *g.pick(&["%00", "..", long.as_str(), "", "%ZZ", "Ünï"]);
            path.push('/');
            path.push_str(junk);
        }
        let query = *g.pick(QUERIES);
        let writes = !matches!(method, "GET" | "HEAD" | "OPTIONS" | "TRACE");
        let before = if writes {
            Some(state(&c, &kube.url).await)
        } else {
            None
        };
        let url = format!("{}{path}{query}", kube.url);
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = c.request(m, &url);
        if writes {
            req = req.header(CONTENT_TYPE, *g.pick(TYPES)).body(body(&mut g));
        }
        let what = format!("case {case}: {method} {path}{query}");
        let r = req
            .send()
            .await
            .unwrap_or_else(|e| panic!("{what}: no answer: {e}"));
        let status = r.status().as_u16();
        let text = r.text().await.unwrap_or_default();
        assert!(status < 500, "{what}: {status} {text}");
        if status >= 400 && method != "HEAD" && !path.starts_with("/version") {
            let v: Value = serde_json::from_str(&text).unwrap_or_else(|_| {
                panic!("{what}: {status} with a body that is not JSON: {text}")
            });
            assert_eq!(v["kind"], "Status", "{what}: {text}");
            assert_eq!(v["code"], status, "{what}: {text}");
        }
        if let Some(before) = before {
            if status >= 400 {
                refused_writes += 1;
                assert_eq!(
                    state(&c, &kube.url).await,
                    before,
                    "{what}: a refused write changed the world"
                );
            }
        }
    }
    assert!(
        refused_writes > 100,
        "the generator reaches the refusals ({refused_writes})"
    );
    let (s, _) = (
        c.get(format!("{}/api/v1/pods", kube.url))
            .send()
            .await
            .expect("still serving")
            .status(),
        (),
    );
    assert_eq!(s, 200);
}
