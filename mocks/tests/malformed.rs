//! Issue 12: what every server does with requests real clients rarely send (a truncated or
//! invalid chunked body, an upload cut short, `CONNECT`), and that the OpenStack servers keep
//! answering while their per-request state is cleaned up. Each malformed request gets a `400`
//! in the service's own error shape, nothing panics (a panic hook counts panics in this test
//! process, where the servers run), and the next normal request is answered as usual.

use magsim_mocks::openstack::{Fault, FaultKind};
use magsim_mocks::recording::Recording;
use magsim_mocks::MockCloud;
use magsim_mocks::{replay, Service};
use serde_json::{json, Value};
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[path = "support/panics.rs"]
mod panics;

fn incident() -> magsim_scenario::Scenario {
    let (file, text) = magsim_scenario::builtin()[0];
    magsim_scenario::parse(file, text).expect("built-in scenario")
}

fn addr(url: &str) -> SocketAddr {
    url.trim_start_matches("http://")
        .parse()
        .expect("host:port")
}

/// Sends `bytes`, closes the writing half unless the request is complete (it then says
/// `Connection: close`), and reads the answer until the server closes the connection. `None`:
/// closed without a byte.
async fn raw(addr: SocketAddr, bytes: &[u8]) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(addr).await.expect("connects");
    s.write_all(bytes).await.expect("writes");
    if !bytes.ends_with(b"\r\n\r\n") {
        s.shutdown().await.expect("half-closes");
    }
    let mut out = Vec::new();
    let read = tokio::time::timeout(std::time::Duration::from_secs(30), s.read_to_end(&mut out))
        .await
        .expect("the server answers or closes");
    if read.is_err() || out.is_empty() {
        return None;
    }
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text.get(9..12).and_then(|c| c.parse().ok()).unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Some((status, body))
}

/// The malformed requests, each to `path` on a server at `host`.
fn malformed(host: SocketAddr, path: &str) -> Vec<(&'static str, Vec<u8>)> {
    let head = |framing: &str| {
        format!("POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n{framing}\r\n")
    };
    vec![
        (
            "truncated chunked body",
            format!("{}10\r\n{{\"auth\": ", head("Transfer-Encoding: chunked\r\n")).into_bytes(),
        ),
        (
            "invalid chunk size",
            format!(
                "{}zz\r\n{{}}\r\n0\r\n\r\n",
                head("Transfer-Encoding: chunked\r\n")
            )
            .into_bytes(),
        ),
        (
            "upload aborted before Content-Length",
            format!("{}{{\"auth\": ", head("Content-Length: 100\r\n")).into_bytes(),
        ),
        (
            "CONNECT host:443",
            b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\nConnection: close\r\n\r\n".to_vec(),
        ),
    ]
}

/// A well-formed request each server answers `200`/`201` to.
async fn normal(cloud: &MockCloud, service: Service) -> u16 {
    let os = &cloud.openstack;
    let c = reqwest::Client::new();
    let token = os.issue_token().id;
    let rb = match service {
        Service::Identity => {
            let creds = &os.credentials;
            c.post(format!("{}/v3/auth/tokens", os.urls.keystone)).json(
                &json!({"auth": {"identity": {"methods": ["application_credential"],
                    "application_credential": {"id": creds.application_credential_id,
                        "secret": creds.application_credential_secret}}}}),
            )
        }
        Service::ContainerInfra => c
            .get(format!("{}/v1/clusters/k8s", os.urls.magnum))
            .header("X-Auth-Token", &token),
        Service::Orchestration => c.get(format!("{}/", os.urls.heat)),
        Service::Compute => c
            .get(format!("{}/v2.1/flavors/m3.small", os.urls.nova))
            .header("X-Auth-Token", &token),
        Service::Kubernetes => c.get(format!("{}/api/v1/nodes", cloud.kube.url)),
    };
    let r = rb.send().await.expect("answered");
    let status = r.status().as_u16();
    assert!(!r.bytes().await.unwrap().is_empty(), "{service:?}: a body");
    status
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_requests_get_400_on_every_server_and_nothing_panics() {
    panics::count();
    let cloud = MockCloud::start(&incident(), None).await.expect("starts");
    let os = &cloud.openstack;
    let servers = [
        (
            Service::Identity,
            os.urls.keystone.clone(),
            "/v3/auth/tokens",
        ),
        (
            Service::ContainerInfra,
            os.urls.magnum.clone(),
            "/v1/clusters/k8s/actions/resize",
        ),
        (Service::Orchestration, os.urls.heat.clone(), "/v1/stacks"),
        (Service::Compute, os.urls.nova.clone(), "/v2.1/servers"),
        (
            Service::Kubernetes,
            cloud.kube.url.clone(),
            "/api/v1/namespaces/default/configmaps",
        ),
    ];
    let before = panics::seen();
    for (service, url, path) in &servers {
        let baseline = normal(&cloud, *service).await;
        for (what, bytes) in malformed(addr(url), path) {
            let answer = raw(addr(url), &bytes).await;
            let (status, body) =
                answer.unwrap_or_else(|| panic!("{service:?} {what}: closed unanswered"));
            assert_eq!(status, 400, "{service:?} {what}: {body}");
            let body: Value = serde_json::from_str(&body)
                .unwrap_or_else(|e| panic!("{service:?} {what}: {e}: {body}"));
            assert!(
                shaped(*service, &body),
                "{service:?} {what}: the service's own error shape: {body}"
            );
            assert_eq!(
                normal(&cloud, *service).await,
                baseline,
                "{service:?} after {what}"
            );
        }
    }
    assert_eq!(panics::seen(), before, "no server panicked");
}

/// The error shape of `service`'s `400`, live or replayed.
fn shaped(service: Service, body: &Value) -> bool {
    match service {
        Service::ContainerInfra => body["errors"][0]["status"] == 400,
        Service::Identity => body["error"]["code"] == 400,
        Service::Orchestration => body["code"] == 400,
        Service::Compute => body["computeFault"]["code"] == 400,
        Service::Kubernetes => body["kind"] == "Status" && body["code"] == 400,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_requests_get_400_from_the_replay_servers_too() {
    panics::count();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(replay::incident::FILE);
    let rp = replay::serve(Recording::load(&path).expect("recording")).await;
    let before = panics::seen();
    let c = reqwest::Client::new();
    let normal = || async {
        let keystone = rp.url(Service::Identity).unwrap();
        let magnum = rp.url(Service::ContainerInfra).unwrap();
        let t = c
            .post(format!("{keystone}/v3/auth/tokens"))
            .json(&json!({"auth": {}}))
            .send()
            .await
            .unwrap();
        let m = c
            .get(format!("{magnum}/v1/clusters/k8s"))
            .send()
            .await
            .unwrap();
        (t.status().as_u16(), m.status().as_u16())
    };
    let baseline = normal().await;
    assert_eq!(baseline, (201, 200));
    for service in [
        Service::Identity,
        Service::ContainerInfra,
        Service::Kubernetes,
    ] {
        let url = rp.url(service).unwrap();
        for (what, bytes) in malformed(addr(&url), "/v1/clusters/k8s") {
            let (status, body) = raw(addr(&url), &bytes)
                .await
                .unwrap_or_else(|| panic!("replay {service:?} {what}: closed unanswered"));
            assert_eq!(status, 400, "replay {service:?} {what}: {body}");
            let body: Value = serde_json::from_str(&body).unwrap();
            assert!(shaped(service, &body), "replay {service:?} {what}: {body}");
            assert_eq!(normal().await, baseline, "replay after {service:?} {what}");
        }
    }
    assert_eq!(panics::seen(), before, "no server panicked");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_sent_while_faults_are_cleared_are_all_answered() {
    panics::count();
    let cloud = MockCloud::start(&incident(), None).await.expect("starts");
    let os = &cloud.openstack;
    // Per-request state is dropped as it goes (there is no forget point any more); the one
    // clean-up left, clearing injected faults, runs over and over while requests flow.
    let cleaner = async {
        for _ in 0..200 {
            os.inject(Fault::new(Service::Compute, FaultKind::Error(503)))
                .await
                .unwrap();
            os.clear_faults();
            tokio::task::yield_now().await;
        }
    };
    let c = reqwest::Client::new();
    let token = os.issue_token().id;
    let creds = &os.credentials;
    let auth = json!({"auth": {"identity": {"methods": ["application_credential"],
        "application_credential": {"id": creds.application_credential_id,
            "secret": creds.application_credential_secret}}}});
    let traffic = async {
        let mut answered = Vec::new();
        for _ in 0..150 {
            let t = c
                .post(format!("{}/v3/auth/tokens", os.urls.keystone))
                .json(&auth)
                .send();
            let m = c
                .get(format!("{}/v1/clusters/k8s", os.urls.magnum))
                .header("X-Auth-Token", &token)
                .send();
            let (t, m) = tokio::join!(t, m);
            for r in [t.expect("keystone answers"), m.expect("magnum answers")] {
                let status = r.status().as_u16();
                let body = r.bytes().await.unwrap();
                answered.push((status, body.len()));
            }
        }
        answered
    };
    let ((), answered) = tokio::join!(cleaner, traffic);
    assert_eq!(answered.len(), 300);
    let wrong: Vec<_> = answered
        .iter()
        .enumerate()
        .filter(|(i, (status, len))| *status != [201, 200][i % 2] || *len == 0)
        .collect();
    assert!(wrong.is_empty(), "answered wrongly: {wrong:?}");
}
