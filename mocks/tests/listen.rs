//! `MockCloud::start_on` and `replay::serve_on`: every server on a bind address and fixed port
//! layout, advertising the address clients use (as in a container behind mapped ports) in
//! Keystone's catalog, the client files, the Kubernetes discovery document and the
//! `WWW-Authenticate` header.

use magsim_mocks::listen::{Advertise, Listen};
use magsim_mocks::recording::Recording;
use magsim_mocks::{replay, Service};
use magsim_mocks::{CloudOptions, MockCloud};
use serde_json::{json, Value};
use std::net::TcpListener;

#[path = "../../tests/support/ports.rs"]
mod ports;

fn incident() -> magsim_scenario::Scenario {
    let (file, text) = magsim_scenario::builtin()[0];
    magsim_scenario::parse(file, text).expect("built-in scenario")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fixed_layout_on_every_interface_advertises_the_mapped_address() {
    let ports = ports::claim(20_000, 2_000);
    let base = ports.base;
    let listen = Listen {
        bind: "0.0.0.0".parse().unwrap(),
        port: base,
        advertise: Some("localhost:19500".parse::<Advertise>().unwrap()),
    };
    // As `magsim serve` runs it: the Kubernetes API over TLS with a token.
    let options = CloudOptions {
        listen,
        secure_kube: true,
        kube_token: None,
    };
    let cloud = MockCloud::start_with(&incident(), None, &options)
        .await
        .expect("servers start");
    let os = &cloud.openstack;
    assert_eq!(
        [&os.keystone, &os.magnum, &os.heat, &os.nova].map(|s| *s.address()),
        [0, 1, 2, 3].map(|i| format!("0.0.0.0:{}", base + i).parse().unwrap())
    );
    assert_eq!(cloud.kube.addr.port(), base + 4);
    assert_eq!(os.auth_url(), "http://localhost:19500/v3/");
    assert_eq!(os.magnum_url(), "http://localhost:19501/v1");
    assert_eq!(os.urls.nova, "http://localhost:19503");
    assert_eq!(cloud.kube.url, "https://localhost:19504");

    // Reached through the bound port (the "mapping"), Keystone's catalog names the advertised
    // URLs, and the other servers answer on their layout ports.
    let c = reqwest::Client::new();
    let creds = &os.credentials;
    let r = c
        .post(format!("http://127.0.0.1:{base}/v3/auth/tokens"))
        .json(&json!({"auth": {"identity": {"methods": ["application_credential"],
            "application_credential": {"id": creds.application_credential_id, "secret": creds.application_credential_secret}}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let token = r.headers()["x-subject-token"].to_str().unwrap().to_string();
    let body: Value = r.json().await.unwrap();
    let magnum = body["token"]["catalog"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["type"] == "container-infra")
        .expect("magnum in the catalog");
    assert_eq!(
        magnum["endpoints"][0]["url"], "http://localhost:19501/v1",
        "{magnum}"
    );
    let clusters = c
        .get(format!("http://127.0.0.1:{}/v1/clusters", base + 1))
        .header("X-Auth-Token", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(clusters.status(), 200);
    let clusters: Value = clusters.json().await.unwrap();
    assert_eq!(clusters["clusters"][0]["name"], "k8s");
    let unauthorized = c
        .get(format!("http://127.0.0.1:{}/v1/clusters", base + 1))
        .send()
        .await
        .unwrap();
    assert_eq!(
        unauthorized.headers()["www-authenticate"],
        "Keystone uri=\"http://localhost:19500\""
    );
    let auth = cloud.kube.auth().expect("a secure API server");
    let ca = reqwest::Certificate::from_pem(auth.ca_pem.as_bytes()).expect("a PEM CA");
    let kc = reqwest::Client::builder()
        .add_root_certificate(ca)
        .build()
        .unwrap();
    let api_url = format!("https://127.0.0.1:{}/api", base + 4);
    let api: Value = kc
        .get(&api_url)
        .bearer_auth(&auth.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // No token, a wrong one, or plain http: no answer but kube-apiserver's 401.
    for r in [
        kc.get(&api_url).send().await.unwrap(),
        kc.get(&api_url).bearer_auth("guess").send().await.unwrap(),
    ] {
        assert_eq!(r.status(), 401);
        assert_eq!(
            r.json::<Value>().await.unwrap(),
            json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                   "message": "Unauthorized", "reason": "Unauthorized", "code": 401})
        );
    }
    let plain = c
        .get(format!("http://127.0.0.1:{}/api", base + 4))
        .send()
        .await;
    assert!(
        plain.map_or(true, |r| !r.status().is_success()),
        "plain http is not served"
    );
    assert_eq!(
        api["serverAddressByClientCIDRs"][0]["serverAddress"],
        "localhost:19504"
    );

    let dir = std::env::temp_dir().join(format!("magsim-listen-{}", std::process::id()));
    let files = cloud.write_client_files(&dir).unwrap();
    let clouds = std::fs::read_to_string(&files.clouds_yaml).unwrap();
    assert!(
        clouds.contains("auth_url: \"http://localhost:19500/v3/\""),
        "{clouds}"
    );
    let kubeconfig = std::fs::read_to_string(&files.kubeconfig).unwrap();
    assert!(
        kubeconfig.contains("server: https://localhost:19504\n    certificate-authority-data: "),
        "{kubeconfig}"
    );
    assert!(
        kubeconfig.contains(&format!("    token: {}\n", auth.token)),
        "{kubeconfig}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_taken_port_or_an_impossible_layout_is_an_error() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    // Keystone's slot (the base, bound first) is the taken port, so no other process's
    // ephemeral ports can change which bind fails.
    let listen = Listen {
        port,
        ..Listen::default()
    };
    let e = match MockCloud::start_with(
        &incident(),
        None,
        &CloudOptions {
            listen,
            ..Default::default()
        },
    )
    .await
    {
        Ok(_) => panic!("port {port} is taken"),
        Err(e) => e,
    };
    assert_eq!(e.kind(), std::io::ErrorKind::AddrInUse, "{e}");
    assert!(
        e.to_string()
            .starts_with(&format!("binding identity on 127.0.0.1:{port}")),
        "{e}"
    );

    let bad = Listen {
        port: 65535,
        ..Listen::default()
    };
    let e = match MockCloud::start_with(
        &incident(),
        None,
        &CloudOptions {
            listen: bad,
            ..Default::default()
        },
    )
    .await
    {
        Ok(_) => panic!("65535+4 is no port"),
        Err(e) => e,
    };
    assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput);
    assert!(e.to_string().contains("pass 65535"), "{e}");
}

fn incident_recording() -> Recording {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("recordings/incident-2025-11-10.json");
    Recording::load(&path).expect("recording")
}

/// The endpoint URL of catalog entry `kind` in a Keystone token body.
fn catalog_url(token: &Value, kind: &str) -> String {
    let entry = token["token"]["catalog"]
        .as_array()
        .expect("a catalog")
        .iter()
        .find(|s| s["type"] == kind)
        .unwrap_or_else(|| panic!("{kind} in the catalog"));
    entry["endpoints"][0]["url"]
        .as_str()
        .expect("a URL")
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_binds_the_layout_and_its_catalog_names_the_mapped_address() {
    let ports = ports::claim(20_000, 2_000);
    let base = ports.base;
    let listen = Listen {
        bind: "0.0.0.0".parse().unwrap(),
        port: base,
        advertise: Some("localhost:19500".parse::<Advertise>().unwrap()),
    };
    let rp = replay::serve_on(incident_recording(), &listen)
        .await
        .expect("servers start");
    // The recording has Keystone, Magnum and Kubernetes: they take their slots of the layout.
    let bound: Vec<_> = rp.servers.iter().map(|(s, m)| (*s, *m.address())).collect();
    assert_eq!(
        bound,
        [
            (Service::Identity, 0),
            (Service::ContainerInfra, 1),
            (Service::Kubernetes, 4)
        ]
        .map(|(s, i)| (s, format!("0.0.0.0:{}", base + i).parse().unwrap()))
    );
    assert_eq!(
        [
            Service::Identity,
            Service::ContainerInfra,
            Service::Kubernetes
        ]
        .map(|s| rp.url(s)),
        [
            "http://localhost:19500",
            "http://localhost:19501",
            "http://localhost:19504"
        ]
        .map(|u| Some(u.to_string()))
    );

    // Reached through the bound port, the recorded catalog's placeholders are the advertised
    // URLs, and Magnum answers on its layout port.
    let c = reqwest::Client::new();
    let r = c
        .post(format!("http://127.0.0.1:{base}/v3/auth/tokens"))
        .json(
            &json!({"auth": {"identity": {"methods": ["application_credential"],
            "application_credential": {"id": "x", "secret": "y"}}}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let token: Value = r.json().await.unwrap();
    assert_eq!(
        catalog_url(&token, "identity"),
        "http://localhost:19500/v3/"
    );
    assert_eq!(
        catalog_url(&token, "container-infra"),
        "http://localhost:19501/v1"
    );
    let cluster = c
        .get(format!("http://127.0.0.1:{}/v1/clusters/k8s", base + 1))
        .send()
        .await
        .unwrap();
    assert_eq!(cluster.status(), 200);
}

#[tokio::test]
async fn replay_on_a_taken_port_or_an_impossible_layout_is_an_error() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let listen = Listen {
        port,
        ..Listen::default()
    };
    let e = match replay::serve_on(incident_recording(), &listen).await {
        Ok(_) => panic!("port {port} is taken"),
        Err(e) => e,
    };
    assert_eq!(e.kind(), std::io::ErrorKind::AddrInUse, "{e}");
    assert!(
        e.to_string()
            .starts_with(&format!("binding identity on 127.0.0.1:{port}")),
        "{e}"
    );

    let unmappable = Listen {
        advertise: Some("localhost:19500".parse().unwrap()),
        ..Listen::default()
    };
    let e = match replay::serve_on(incident_recording(), &unmappable).await {
        Ok(_) => panic!("a mapped port needs a fixed layout"),
        Err(e) => e,
    };
    assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput);
    assert!(e.to_string().contains("needs a fixed port layout"), "{e}");
}
