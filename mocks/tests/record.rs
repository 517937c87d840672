//! `magsim record` against a cloud we control: the live [`MockCloud`] plays the real cloud,
//! the recorder sits in front of it, and the real clients (python-openstackclient 9.0.0 from
//! `.venv`, made by `scripts/venv.sh`, and kubectl) talk to the recorder. The recording must
//! hold the exchanges, none of the credentials that went over the wire, and replay to the same
//! client output.
//!
//! Without `.venv/bin/openstack` (or kubectl) the test fails when `CI` is set and is skipped
//! otherwise.

use magsim_mocks::record::{Options, Recorder};
use magsim_mocks::recording::{self, Recording, REDACTED};
use magsim_mocks::MockCloud;
use magsim_mocks::{replay, Service};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const TRUST_ID: &str = "7c3e8f0a1b2d4e5f9a8b7c6d5e4f3a2b";
const KUBE_TOKEN: &str = "kube-bearer-token-for-the-upstream-0123456789";
const PENDING_POD: &str = "high-memory-deployment-844964899f-4md88";

/// The client at `path`, or `None` (locally) after saying why; in CI a missing client fails.
fn client(path: PathBuf, what: &str) -> Option<PathBuf> {
    let found = Command::new(&path)
        .arg("--help")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if found {
        return Some(path);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{what} ({}) is missing in CI: run `bash scripts/venv.sh` / install kubectl",
        path.display()
    );
    eprintln!(
        "skipping: {what} not found at {} (run `bash scripts/venv.sh`)",
        path.display()
    );
    None
}

/// `name` resolved on this process's PATH (the clients run with a minimal PATH).
fn on_path(name: &str) -> PathBuf {
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| PathBuf::from(name))
}

#[derive(Debug, PartialEq)]
struct Output {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs a client with only `env` (plus `HOME` and `PATH`), off the runtime's threads so the
/// servers keep serving.
async fn run(program: &Path, home: &Path, env: &[(&str, String)], args: &[String]) -> Output {
    let mut cmd = Command::new(program);
    cmd.env_clear()
        .env("HOME", home)
        .env("PATH", "/usr/bin:/bin")
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .args(args);
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .expect("join")
        .expect("client runs");
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("magsim-record-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn clouds_yaml(auth_url: &str, id: &str, secret: &str) -> String {
    format!(
        "clouds:\n  mock:\n    auth_type: v3applicationcredential\n    auth:\n      auth_url: \"{auth_url}\"\n      application_credential_id: \"{id}\"\n      application_credential_secret: \"{secret}\"\n    region_name: IU\n    interface: public\n    identity_api_version: 3\n"
    )
}

fn args(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| s.to_string()).collect()
}

/// The commands run against the recorder, then against the replay of what it wrote.
struct Session {
    openstack: PathBuf,
    kubectl: PathBuf,
    home: PathBuf,
    auth_url: String,
    kube_url: String,
    app_cred: (String, String),
    password: String,
}

impl Session {
    async fn run_all(&self) -> Vec<Output> {
        let clouds = self.home.join("clouds.yaml");
        std::fs::write(
            &clouds,
            clouds_yaml(&self.auth_url, &self.app_cred.0, &self.app_cred.1),
        )
        .expect("clouds.yaml");
        let cloud_env = [
            ("OS_CLIENT_CONFIG_FILE", clouds.display().to_string()),
            ("OS_CLOUD", "mock".to_string()),
        ];
        let mut outs = Vec::new();
        for a in [
            &["coe", "cluster", "show", "k8s"][..],
            &[
                "coe",
                "cluster",
                "update",
                "k8s",
                "replace",
                "labels/max_node_count=6",
            ],
            &[
                "coe",
                "nodegroup",
                "update",
                "k8s",
                "default-worker",
                "replace",
                "max_node_count=6",
            ],
        ] {
            outs.push(run(&self.openstack, &self.home, &cloud_env, &args(a)).await);
        }
        // A password and a trust go over the wire too.
        let password_env = [
            ("OS_AUTH_TYPE", "password".to_string()),
            ("OS_AUTH_URL", self.auth_url.clone()),
            ("OS_USERNAME", "demo".to_string()),
            ("OS_PASSWORD", self.password.clone()),
            ("OS_USER_DOMAIN_NAME", "Default".to_string()),
            ("OS_TRUST_ID", TRUST_ID.to_string()),
            ("OS_IDENTITY_API_VERSION", "3".to_string()),
            ("OS_REGION_NAME", "IU".to_string()),
        ];
        outs.push(
            run(
                &self.openstack,
                &self.home,
                &password_env,
                &args(&[
                    "coe", "cluster", "show", "k8s", "-c", "labels", "-f", "value",
                ]),
            )
            .await,
        );
        let kubeconfig = self.home.join("kubeconfig");
        std::fs::write(&kubeconfig, magsim_mocks::kube::kubeconfig(&self.kube_url))
            .expect("kubeconfig");
        let kube_env = [("KUBECONFIG", kubeconfig.display().to_string())];
        for a in [
            &[
                "-n",
                "kube-system",
                "get",
                "configmap",
                "cluster-autoscaler-status",
                "-o",
                "jsonpath={.data.status}",
            ][..],
            &["get", "pod", PENDING_POD, "-o", "jsonpath={.status.phase}"],
        ] {
            outs.push(run(&self.kubectl, &self.home, &kube_env, &args(a)).await);
        }
        outs
    }
}

fn strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
        Value::Object(o) => o.values().for_each(|x| strings(x, out)),
        _ => {}
    }
}

/// Every string value in the recording (headers, paths, queries, bodies).
fn all_values(r: &Recording) -> Vec<String> {
    let mut out = Vec::new();
    for e in &r.exchanges {
        out.push(e.request.path.clone());
        out.extend(e.request.query.iter().flatten().map(|(_, v)| v.clone()));
        if let Some(b) = &e.request.body {
            strings(b, &mut out);
        }
        out.extend(e.response.headers.values().cloned());
        if let Some(b) = &e.response.body {
            strings(b, &mut out);
        }
        out.extend(e.response.body_text.iter().cloned());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recording_a_live_cloud_redacts_credentials_and_replays_the_same_output() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let (Some(openstack), Some(kubectl)) = (
        client(root.join(".venv/bin/openstack"), "python-openstackclient"),
        client(on_path("kubectl"), "kubectl"),
    ) else {
        return;
    };
    let (file, text) = magsim_scenario::builtin()[0];
    let scenario = magsim_scenario::parse(file, text).expect("scenario");
    let cloud = MockCloud::start(&scenario, None).await.expect("mock cloud");
    // Keystone grants a trust scope only for a trust it holds: the cloud holds one whose
    // trustee is the mock's user (as a cloud-config Secret, where the mock keeps trusts).
    {
        let c = &cloud.openstack.credentials;
        let config = format!(
            "[Global]\nusername = {}\npassword = {}\ntrust-id = {TRUST_ID}\n",
            c.user_name, c.password
        );
        cloud
            .live
            .engine()
            .world
            .secrets
            .push(magsim_sim::world::Secret {
                namespace: "kube-system".into(),
                name: "trusted-cloud-config".into(),
                data: [("cloud-config".to_string(), config)].into(),
            });
    }
    // 20 virtual seconds in, the autoscaler has run and the pod is Pending.
    cloud
        .live
        .advance(magsim_sim::time::SimDuration::from_secs(20));
    let creds = cloud.openstack.credentials.clone();
    let out = temp_dir("out");
    let mut o = Options::new(cloud.openstack.auth_url(), &out);
    o.kube_upstream = Some(cloud.kube.url.clone());
    o.kube_token = Some(KUBE_TOKEN.into());
    let recorder = Recorder::start(o).await.expect("recorder starts");
    assert!(
        recorder.auth_url().ends_with("/v3/"),
        "{}",
        recorder.auth_url()
    );

    let live = Session {
        openstack: openstack.clone(),
        kubectl: kubectl.clone(),
        home: temp_dir("live"),
        auth_url: recorder.auth_url().to_string(),
        kube_url: recorder.kube_url().expect("kube listener").to_string(),
        app_cred: (
            creds.application_credential_id.clone(),
            creds.application_credential_secret.clone(),
        ),
        password: creds.password.clone(),
    };
    let live_outs = live.run_all().await;
    assert_eq!(live_outs[0].code, 0, "{}", live_outs[0].stderr);
    assert!(
        live_outs[0].stdout.contains("'max_node_count': '5'"),
        "{}",
        live_outs[0].stdout
    );
    assert_eq!(live_outs[1].code, 1);
    assert!(
        live_outs[1]
            .stderr
            .starts_with("cannot change cluster property(ies) labels (HTTP 400) (Request-ID: req-"),
        "{}",
        live_outs[1].stderr
    );
    assert_eq!(live_outs[2].code, 0, "{}", live_outs[2].stderr);
    assert_eq!(
        live_outs[2].stdout.trim(),
        "Request to update nodegroup default-worker has been accepted."
    );
    assert_eq!(live_outs[3].code, 0, "{}", live_outs[3].stderr);
    assert!(
        live_outs[4].stdout.contains("maxSize: 5"),
        "{:?}",
        live_outs[4]
    );
    assert_eq!(live_outs[5].stdout, "Pending", "{:?}", live_outs[5]);

    // Every call went through the recorder: the cloud saw the password and the trust, and
    // each catalog origin got a listener.
    let upstream = cloud.openstack.journal.entries();
    let token_bodies: Vec<String> = upstream
        .iter()
        .filter(|e| e.path == "/v3/auth/tokens")
        .filter_map(|e| e.body.as_ref().map(Value::to_string))
        .collect();
    assert!(token_bodies
        .iter()
        .any(|b| b.contains(&creds.password) && b.contains(TRUST_ID)));
    assert!(token_bodies
        .iter()
        .any(|b| b.contains(&creds.application_credential_secret)));
    let issued: Vec<String> = upstream
        .iter()
        .filter_map(|e| e.response.as_ref()?.headers.get("X-Subject-Token").cloned())
        .collect();
    assert_eq!(issued.len(), 4, "one token per openstack command");
    let listeners = recorder.listeners();
    for u in [
        &cloud.openstack.urls.keystone,
        &cloud.openstack.urls.magnum,
        &cloud.kube.url,
    ] {
        assert!(
            listeners.iter().any(|(up, _)| up == u),
            "{u}: {listeners:?}"
        );
    }

    // Written after every exchange, before any stop.
    let before_stop = Recording::load(recorder.file()).expect("incremental file loads");
    let recording = recorder.stop().await.expect("final save");
    assert_eq!(before_stop, recording);
    let path = out.join("recording.json");
    let text = std::fs::read_to_string(&path).expect("recording written");
    let loaded = Recording::load(&path).expect("recording loads");
    assert_eq!(loaded, recording);

    // No credential of the session is in the file.
    for t in &issued {
        assert!(!text.contains(t.as_str()), "token {t} in the recording");
    }
    for secret in [&creds.application_credential_secret, TRUST_ID, KUBE_TOKEN] {
        assert!(!text.contains(secret), "{secret} in the recording");
    }
    // The password (`secret`) is also an ordinary word: no string value may hold it but
    // discovery's names of the Secret resource (`secrets`, `secret`, and its path).
    let values = all_values(&loaded);
    let discovery_name = |v: &str| {
        matches!(v, "secrets" | "secret") || v.ends_with("/secrets") || v.ends_with("/secrets/")
    };
    let leaked: Vec<&String> = values
        .iter()
        .filter(|v| v.contains(&creds.password) && !discovery_name(v))
        .collect();
    assert!(leaked.is_empty(), "password in a value: {leaked:?}");
    assert!(
        recording::find_secrets(&loaded).is_empty(),
        "{:?}",
        recording::find_secrets(&loaded)
    );
    // Upstream addresses became placeholders (the description names the upstream).
    let exchanges = serde_json::to_string(&loaded.exchanges).unwrap();
    for u in [
        &cloud.openstack.urls.magnum,
        &cloud.openstack.urls.keystone,
        &cloud.kube.url,
    ] {
        assert!(!exchanges.contains(u.as_str()), "{u} left in the recording");
    }
    assert!(exchanges.contains("{{container-infra}}/v1"));

    // The exchanges the commands made.
    let find = |service: Service, method: &str, path: &str| -> Vec<&recording::Exchange> {
        loaded
            .exchanges
            .iter()
            .filter(|e| {
                e.service == service && e.request.method == method && e.request.path == path
            })
            .collect()
    };
    let tokens = find(Service::Identity, "POST", "/v3/auth/tokens");
    assert_eq!(tokens.len(), 4);
    for t in &tokens {
        assert_eq!(t.response.headers["x-subject-token"], REDACTED);
        assert_eq!(t.request.body, None);
    }
    let trust_token = tokens
        .iter()
        .find_map(|t| {
            t.response
                .body
                .as_ref()?
                .pointer("/token/OS-TRUST:trust/id")
        })
        .expect("the trust-scoped token");
    assert_eq!(trust_token, REDACTED);
    assert_eq!(
        find(Service::ContainerInfra, "GET", "/v1/clusters/k8s").len(),
        2
    );
    let labels = find(Service::ContainerInfra, "PATCH", "/v1/clusters/k8s");
    assert_eq!(labels.len(), 1);
    assert_eq!(labels[0].response.status, 400);
    assert_eq!(
        labels[0].request.body,
        Some(serde_json::json!([{"op": "replace", "path": "/labels/max_node_count", "value": 6}]))
    );
    let ng = find(
        Service::ContainerInfra,
        "PATCH",
        "/v1/clusters/k8s/nodegroups/default-worker",
    );
    assert_eq!(ng.len(), 1);
    assert!(ng[0].response.status < 300, "{}", ng[0].response.status);
    assert!(!find(
        Service::Kubernetes,
        "GET",
        "/api/v1/namespaces/kube-system/configmaps/cluster-autoscaler-status"
    )
    .is_empty());
    assert!(recorder_skipped_nothing(&exchanges));

    // Replayed, the same commands print the same.
    let rp = replay::serve(loaded).await;
    let replayed = Session {
        home: temp_dir("replay"),
        auth_url: format!("{}/v3/", rp.url(Service::Identity).expect("identity")),
        kube_url: rp.url(Service::Kubernetes).expect("kubernetes"),
        app_cred: ("any".into(), "any".into()),
        password: "any".into(),
        ..live
    };
    let replay_outs = replayed.run_all().await;
    for (i, (a, b)) in live_outs.iter().zip(&replay_outs).enumerate() {
        assert_eq!(a, b, "command {i} differs on replay");
    }
    for d in [&out, &replayed.home, &live.home] {
        let _ = std::fs::remove_dir_all(d);
    }
}

/// Every request of the session was to a service the format knows (the mock catalog has only
/// those), so nothing was forwarded unrecorded: no upstream URL outside a placeholder.
fn recorder_skipped_nothing(text: &str) -> bool {
    !text.contains("http://127.0.0.1")
}

#[tokio::test]
async fn an_unreachable_upstream_is_a_clear_error_in_the_services_shape() {
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let out = temp_dir("unreachable");
    let mut o = Options::new(format!("http://127.0.0.1:{port}/v3/"), &out);
    o.timeout = Duration::from_secs(10);
    let recorder = Recorder::start(o)
        .await
        .expect("starts without the upstream");
    let r = reqwest::get(format!("{}auth/tokens", recorder.auth_url()))
        .await
        .expect("the recorder answers");
    assert_eq!(r.status(), 502);
    let body: Value = r.json().await.expect("JSON");
    assert_eq!(body["error"]["code"], 502);
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with(&format!(
            "magsim record: no answer from http://127.0.0.1:{port}/v3/auth/tokens"
        )),
        "{message}"
    );
    let rec = recorder.stop().await.expect("stops");
    assert!(
        rec.exchanges.is_empty(),
        "errors of our own are not recorded"
    );
    assert!(Recording::load(&out.join("recording.json")).is_ok());
    let _ = std::fs::remove_dir_all(&out);
}

#[tokio::test]
async fn an_unwritable_output_directory_fails_at_start() {
    let dir = temp_dir("unwritable");
    let file = dir.join("a-file");
    std::fs::write(&file, "").unwrap();
    let e = Recorder::start(Options::new("http://127.0.0.1:1/", file.join("sub")))
        .await
        .err()
        .expect("a file is not a directory");
    assert!(e.to_string().contains("a-file"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A devstack-style cloud: Keystone and Nova share one origin under different paths, and the
/// catalog has a service the replay format does not know (forwarded, counted, not recorded).
#[tokio::test]
async fn a_shared_origin_is_split_by_catalog_path_and_unknown_services_pass_unrecorded() {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let cloud = MockServer::start().await;
    let network = MockServer::start().await;
    let (a, b) = (cloud.uri(), network.uri());
    let fernet = "gAAAAABnZXJuZXQtdG9rZW4tZm9yLXRoZS1zaGFyZWQtb3JpZ2luLXRlc3Qtb25seQ";
    let client_only = "client-only-token-never-in-an-answer-header";
    let token = serde_json::json!({"token": {"methods": ["password"], "catalog": [
        {"type": "identity", "endpoints": [{"interface": "public", "url": format!("{a}/identity/v3")}]},
        {"type": "compute", "endpoints": [{"interface": "public", "url": format!("{a}/compute/v2.1")}]},
        {"type": "network", "endpoints": [{"interface": "public", "url": b.clone()}]},
    ]}});
    Mock::given(method("POST"))
        .and(path("/identity/v3/auth/tokens"))
        .respond_with(
            ResponseTemplate::new(201)
                .insert_header("X-Subject-Token", fernet)
                .set_body_json(&token),
        )
        .mount(&cloud)
        .await;
    let flavor = serde_json::json!({"flavor": {"name": "m3.small",
        "description": format!("echo {client_only}"),
        "links": [{"rel": "self", "href": format!("{a}/compute/v2.1/flavors/m3.small")}]}});
    Mock::given(method("GET"))
        .and(path("/compute/v2.1/flavors/m3.small"))
        .respond_with(ResponseTemplate::new(200).set_body_json(&flavor))
        .mount(&cloud)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2.0/networks"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"networks": []})))
        .mount(&network)
        .await;

    let out = temp_dir("shared");
    let recorder = Recorder::start(Options::new(format!("{a}/identity/v3"), &out))
        .await
        .expect("starts");
    let http = reqwest::Client::new();
    let r = http
        .post(format!("{}/auth/tokens", recorder.auth_url()))
        .json(
            &serde_json::json!({"auth": {"identity": {"methods": ["password"],
            "password": {"user": {"name": "demo", "password": "a-long-password"}}}}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    assert_eq!(
        r.headers()["x-subject-token"],
        fernet,
        "the client gets the real token"
    );
    let body: Value = r.json().await.unwrap();
    let url = |kind: &str| -> String {
        body["token"]["catalog"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["type"] == kind)
            .unwrap()["endpoints"][0]["url"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (compute, net) = (url("compute"), url("network"));
    assert!(compute.starts_with("http://127.0.0.1:") && compute.ends_with("/compute/v2.1"));
    assert!(
        !compute.starts_with(&a) && !net.starts_with(&b),
        "{compute} {net}"
    );
    assert_eq!(
        url("identity"),
        format!("{}/identity/v3", recorder.listeners()[0].1),
        "one listener for the shared origin"
    );

    let f: Value = http
        .get(format!("{compute}/flavors/m3.small"))
        .header("X-Auth-Token", client_only)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        f["flavor"]["links"][0]["href"],
        format!("{compute}/flavors/m3.small"),
        "links point at the recorder"
    );
    let n = http
        .get(format!("{net}/v2.0/networks"))
        .send()
        .await
        .unwrap();
    assert_eq!(n.status(), 200);

    assert_eq!(recorder.skipped().get("network"), Some(&1));
    let rec = recorder.stop().await.unwrap();
    let text = std::fs::read_to_string(out.join("recording.json")).unwrap();
    assert!(
        !text.contains(fernet) && !text.contains(client_only) && !text.contains("a-long-password")
    );
    let services: Vec<(Service, &str)> = rec
        .exchanges
        .iter()
        .map(|e| (e.service, e.request.path.as_str()))
        .collect();
    assert_eq!(
        services,
        [
            (Service::Identity, "/identity/v3/auth/tokens"),
            (Service::Compute, "/compute/v2.1/flavors/m3.small")
        ]
    );
    // wiremock writes compact JSON, not Python's: the body is kept byte for byte as text.
    let kept: Value =
        serde_json::from_str(rec.exchanges[1].response.body_text.as_deref().unwrap()).unwrap();
    assert_eq!(
        kept["flavor"]["links"][0]["href"],
        "{{compute}}/compute/v2.1/flavors/m3.small"
    );
    assert!(text.contains(&b), "unknown services keep their URL");

    // Replayed, the catalog sends the client to the replay's compute server.
    let rp = replay::serve(rec).await;
    let t: Value = http
        .post(format!(
            "{}/identity/v3/auth/tokens",
            rp.url(Service::Identity).unwrap()
        ))
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let replay_compute = format!("{}/compute/v2.1", rp.url(Service::Compute).unwrap());
    assert_eq!(
        t["token"]["catalog"][1]["endpoints"][0]["url"],
        replay_compute
    );
    let f: Value = http
        .get(format!("{replay_compute}/flavors/m3.small"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(f["flavor"]["description"], "echo REDACTED");
    let _ = std::fs::remove_dir_all(&out);
}

/// A Kubernetes API whose ConfigMaps, pods, events and logs hold credentials in every
/// placement the redaction knows: none reaches the file, and each is flagged unredacted.
#[tokio::test]
async fn credentials_in_config_maps_env_args_events_and_logs_never_reach_disk() {
    use serde_json::json;
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let kube = MockServer::start().await;
    let keystone = MockServer::start().await;
    let cm = |name: &str, data: Value| {
        json!({"kind": "ConfigMap", "apiVersion": "v1",
            "metadata": {"name": name, "namespace": "kube-system"}, "data": data})
    };
    // (placement, path, answer, the secrets in it); every secret is distinct.
    let json_placements: Vec<(&str, String, Value, Vec<&str>)> = vec![
        (
            "upper-case ConfigMap keys",
            "/api/v1/namespaces/kube-system/configmaps/keys".into(),
            cm(
                "keys",
                json!({"OS_PASSWORD": "pw-upper-key-0001",
                "OS_APPLICATION_CREDENTIAL_SECRET": "acs-upper-key-0002",
                "TOKEN": "tok-upper-key-0003", "OS_AUTH_URL": "https://keystone.example:5000/v3",
                "OS_REGION_NAME": "IU", "node_count": "3"}),
            ),
            vec![
                "pw-upper-key-0001",
                "acs-upper-key-0002",
                "tok-upper-key-0003",
            ],
        ),
        (
            "export lines",
            "/api/v1/namespaces/kube-system/configmaps/openrc".into(),
            cm(
                "openrc",
                json!({"openrc.sh": "export OS_AUTH_URL=https://keystone.example:5000/v3\nexport OS_PASSWORD=pw-export-0004\nexport OS_REGION_NAME=IU\n"}),
            ),
            vec!["pw-export-0004"],
        ),
        (
            "key: value and key = value",
            "/api/v1/namespaces/kube-system/configmaps/conf".into(),
            cm(
                "conf",
                json!({"cloud.conf": "[Global]\nauth-url=https://keystone.example:5000/v3\npassword = pw-ini-0005\n",
                "notes": "application_credential_secret: acs-yaml-0006"}),
            ),
            vec!["pw-ini-0005", "acs-yaml-0006"],
        ),
        (
            "--flag=value and --flag value",
            "/api/v1/namespaces/kube-system/configmaps/script".into(),
            cm(
                "script",
                json!({"run.sh": "openstack --os-password=pw-flag-eq-0007 coe cluster list\nopenstack --os-token tok-flag-sp-0008 coe cluster show k8s\n"}),
            ),
            vec!["pw-flag-eq-0007", "tok-flag-sp-0008"],
        ),
        (
            "env-style pairs and argument lists",
            "/api/v1/namespaces/kube-system/pods/ca".into(),
            json!({"kind": "Pod", "apiVersion": "v1", "metadata": {"name": "ca"},
                "spec": {"containers": [{"name": "ca",
                    "args": ["--cloud-provider=magnum", "--os-password", "pw-args-0009"],
                    "env": [{"name": "OS_PASSWORD", "value": "pw-env-0010"},
                        {"name": "OS_REGION_NAME", "value": "IU"},
                        {"name": "OS_APPLICATION_CREDENTIAL_SECRET",
                         "valueFrom": {"secretKeyRef": {"name": "creds", "key": "secret"}}}]}]}}),
            vec!["pw-args-0009", "pw-env-0010"],
        ),
        (
            "env-style pairs inside text",
            "/api/v1/namespaces/kube-system/configmaps/manifest".into(),
            cm(
                "manifest",
                json!({"pod.yaml": "env:\n- name: OS_PASSWORD\n  value: pw-env-yaml-0011\n- name: OS_REGION_NAME\n  value: IU\n"}),
            ),
            vec!["pw-env-yaml-0011"],
        ),
        (
            "key=value in an event message",
            "/api/v1/namespaces/kube-system/events".into(),
            json!({"kind": "EventList", "apiVersion": "v1", "metadata": {}, "items": [{
                "metadata": {"name": "ca.1"}, "reason": "FailedAuth", "type": "Warning",
                "message": "keystone refused user demo password=pw-event-0012 (HTTP 401)"}]}),
            vec!["pw-event-0012"],
        ),
        (
            "JSON inside an annotation",
            "/api/v1/namespaces/kube-system/configmaps/applied".into(),
            json!({"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"name": "applied",
                "annotations": {"kubectl.kubernetes.io/last-applied-configuration":
                    "{\"apiVersion\":\"v1\",\"data\":{\"OS_PASSWORD\":\"pw-applied-0013\"},\"kind\":\"ConfigMap\"}\n"}},
                "data": {}}),
            vec!["pw-applied-0013"],
        ),
    ];
    let log = "I1110 16:40:05 starting\nOS_APPLICATION_CREDENTIAL_SECRET=acs-log-0014\n";
    let log_path = "/api/v1/namespaces/kube-system/pods/ca/log";
    for (_, p, body, _) in &json_placements {
        Mock::given(method("GET"))
            .and(path(p.as_str()))
            .respond_with(ResponseTemplate::new(200).set_body_json(body))
            .mount(&kube)
            .await;
    }
    Mock::given(method("GET"))
        .and(path(log_path))
        .respond_with(ResponseTemplate::new(200).set_body_string(log))
        .mount(&kube)
        .await;

    let out = temp_dir("placements");
    let mut o = Options::new(format!("{}/v3/", keystone.uri()), &out);
    o.kube_upstream = Some(kube.uri());
    let recorder = Recorder::start(o).await.expect("starts");
    let kube_url = recorder.kube_url().expect("kube listener").to_string();
    let http = reqwest::Client::new();
    for (what, p, body, _) in &json_placements {
        let got: Value = http
            .get(format!("{kube_url}{p}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(&got, body, "{what}: the client gets the real answer");
    }
    let got = http
        .get(format!("{kube_url}{log_path}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(got, log);
    let rec = recorder.stop().await.expect("final save");

    let bytes = std::fs::read(out.join("recording.json")).expect("recording written");
    let text = String::from_utf8(bytes).expect("UTF-8");
    let secrets = json_placements
        .iter()
        .flat_map(|(what, _, _, s)| s.iter().map(move |s| (*what, *s)))
        .chain([("a plain-text log", "acs-log-0014")]);
    for (what, secret) in secrets {
        assert!(!text.contains(secret), "{what}: {secret} reached disk");
    }
    // What recordings need stays.
    for kept in [
        "\"OS_AUTH_URL\": \"https://keystone.example:5000/v3\"",
        "export OS_AUTH_URL=https://keystone.example:5000/v3\\nexport OS_PASSWORD=REDACTED",
        "\"OS_REGION_NAME\": \"IU\"",
        "\"node_count\": \"3\"",
        "--cloud-provider=magnum",
        "keystone refused user demo password=REDACTED (HTTP 401)",
    ] {
        assert!(text.contains(kept), "{kept} missing from {text}");
    }
    let loaded = Recording::load(&out.join("recording.json")).expect("loads");
    assert_eq!(loaded, rec);
    assert!(recording::find_secrets(&loaded).is_empty());
    let env = &loaded.exchanges[4].response.body.as_ref().unwrap()["spec"]["containers"][0]["env"];
    assert_eq!(
        env[2]["valueFrom"],
        json!({"secretKeyRef": {"name": "creds", "key": "secret"}}),
        "a reference stays"
    );

    // Unredacted, every placement is flagged.
    assert_eq!(loaded.exchanges.len(), json_placements.len() + 1);
    let mut raw = loaded.clone();
    for (e, (_, p, body, _)) in raw.exchanges.iter_mut().zip(&json_placements) {
        assert_eq!(&e.request.path, p);
        e.response.body = Some(body.clone());
        e.response.body_text = None;
    }
    let last = raw.exchanges.last_mut().unwrap();
    assert_eq!(last.request.path, log_path);
    last.response.body = None;
    last.response.body_text = Some(log.into());
    let problems = recording::find_secrets(&raw);
    let placements = json_placements
        .iter()
        .map(|(what, p, _, _)| (*what, p.as_str()))
        .chain([("a plain-text log", log_path)]);
    for (i, (what, p)) in placements.enumerate() {
        let this = format!("exchange {i} (GET {p})");
        assert!(
            problems.iter().any(|m| m.starts_with(&this)),
            "{what} not flagged: {problems:?}"
        );
    }

    // The redacted recording replays.
    let rp = replay::serve(loaded).await;
    let cm: Value = http
        .get(format!(
            "{}/api/v1/namespaces/kube-system/configmaps/keys",
            rp.url(Service::Kubernetes).unwrap()
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(cm["data"]["OS_PASSWORD"], REDACTED);
    assert_eq!(cm["data"]["OS_REGION_NAME"], "IU");
    let _ = std::fs::remove_dir_all(&out);
}
