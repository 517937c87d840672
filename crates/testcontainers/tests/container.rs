//! The `magsim:dev` image (built by scripts/image.sh, never here) started through
//! [`MagsimCloud`] and driven through its published ports: kubectl lists the incident's five
//! Ready nodes, Magnum shows the cluster to a token from Keystone, and with the ports published
//! 1:1 and advertised, python-openstackclient follows the catalog. In CI (`CI` set) a
//! missing Docker, image or kubectl fails the test; locally it says why and passes.

use magsim_testcontainers::{
    clouds_yaml, kubeconfig, token_request, Endpoints, MagsimCloud, ServeArgs, CLOUD_NAME,
    HEAT_PORT, KEYSTONE_PORT, KUBERNETES_PORT, KUBE_TOKEN, MAGNUM_PORT, NAME, NOVA_PORT, TAG,
};
use serde_json::Value;
use std::process::{Command, Stdio};
use testcontainers::clients::Cli;
use testcontainers::RunnableImage;

#[path = "../../../tests/support/kubectl.rs"]
mod kubectl;
#[path = "../../../tests/support/ports.rs"]
mod ports;

/// `true` when `program args` runs and succeeds.
fn works(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Whether the prerequisites are there; in CI their absence is a failure.
fn prerequisites() -> bool {
    let image = format!("{NAME}:{TAG}");
    let missing = if !works("docker", &["version"]) {
        Some("docker (with a running engine)".to_string())
    } else if !works("docker", &["image", "inspect", &image]) {
        Some(format!(
            "the image {image} (bash scripts/image.sh builds it)"
        ))
    } else if !works("kubectl", &["version", "--client"]) {
        Some("kubectl".to_string())
    } else {
        None
    };
    let Some(missing) = missing else {
        return true;
    };
    assert!(
        std::env::var_os("CI").is_none(),
        "{missing} is missing in CI: scripts/test.sh builds the image before cargo test"
    );
    eprintln!("skipping the container test: {missing} is missing");
    false
}

#[test]
fn the_image_serves_kubectl_and_magnum_through_published_ports() {
    if !prerequisites() {
        return;
    }
    let docker = Cli::default();
    let cloud = docker.run(MagsimCloud);
    let endpoints = Endpoints::of(&cloud);
    assert_ne!(
        endpoints.kubernetes, "https://127.0.0.1:9504",
        "published on a random host port"
    );

    let path = std::env::temp_dir().join(format!("magsim-container-{}.kubeconfig", cloud.id()));
    let kubectl = |config: &str| {
        std::fs::write(&path, config).unwrap();
        let out = Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(&path)
            .args(["get", "nodes"])
            .env_remove("KUBECONFIG")
            .output()
            .expect("kubectl runs");
        let _ = std::fs::remove_file(&path);
        out
    };
    let refused = kubectl(&kubeconfig(&endpoints.kubernetes, "guessed"));
    kubectl::assert_unauthorized(&String::from_utf8_lossy(&refused.stderr));
    let nodes = kubectl(&kubeconfig(&endpoints.kubernetes, KUBE_TOKEN));
    let stdout = String::from_utf8_lossy(&nodes.stdout);
    assert!(
        nodes.status.success(),
        "{}",
        String::from_utf8_lossy(&nodes.stderr)
    );
    assert_eq!(stdout.matches(" Ready ").count(), 5, "{stdout}");

    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let c = reqwest::Client::new();
        let r = c
            .post(format!("{}/v3/auth/tokens", endpoints.keystone))
            .header("Content-Type", "application/json")
            .body(token_request())
            .send()
            .await
            .expect("Keystone answers");
        assert_eq!(r.status(), 201);
        let token = r.headers()["x-subject-token"].to_str().unwrap().to_string();
        let cluster = c
            .get(format!("{}/v1/clusters/k8s", endpoints.magnum))
            .header("X-Auth-Token", &token)
            .header("OpenStack-API-Version", "container-infra latest")
            .send()
            .await
            .expect("Magnum answers");
        assert_eq!(cluster.status(), 200);
        let cluster: Value = cluster.json().await.unwrap();
        assert_eq!(cluster["name"], "k8s");
        assert_eq!(cluster["node_count"], 5, "{cluster}");
        assert_eq!(cluster["labels"]["max_node_count"], "5", "{cluster}");
    });
}

/// Published at five consecutive host ports and told so with `--advertise`, the catalog
/// works through the mapping: the pinned python-openstackclient follows it to Magnum.
#[test]
fn the_catalog_follows_an_advertised_mapping_for_the_openstack_cli() {
    if !prerequisites() {
        return;
    }
    let os = concat!(env!("CARGO_MANIFEST_DIR"), "/../../.venv/bin/openstack");
    if !works(os, &["--version"]) {
        assert!(
            std::env::var_os("CI").is_none(),
            "{os} is missing in CI: scripts/test.sh runs scripts/venv.sh"
        );
        eprintln!("skipping: {os} is missing (bash scripts/venv.sh)");
        return;
    }
    let ports = ports::claim(20_000, 2_000);
    let base = ports.base;
    let args = ServeArgs::default().with_advertise(format!("127.0.0.1:{base}"));
    let image = [
        KEYSTONE_PORT,
        MAGNUM_PORT,
        HEAT_PORT,
        NOVA_PORT,
        KUBERNETES_PORT,
    ]
    .into_iter()
    .zip(base..)
    .fold(
        RunnableImage::from((MagsimCloud, args)),
        |image, (port, host)| image.with_mapped_port((host, port)),
    );
    let docker = Cli::default();
    let cloud = docker.run(image);
    assert_eq!(cloud.get_host_port_ipv4(MAGNUM_PORT), base + 1);

    let path = std::env::temp_dir().join(format!("magsim-container-{}.clouds.yaml", cloud.id()));
    std::fs::write(&path, clouds_yaml(&format!("http://127.0.0.1:{base}/v3/"))).unwrap();
    let show = Command::new(os)
        .args([
            "coe",
            "cluster",
            "show",
            "k8s",
            "-c",
            "node_count",
            "-f",
            "value",
        ])
        .env("OS_CLIENT_CONFIG_FILE", &path)
        .env("OS_CLOUD", CLOUD_NAME)
        .output()
        .expect("openstack runs");
    let _ = std::fs::remove_file(&path);
    assert_eq!(
        String::from_utf8_lossy(&show.stdout).trim(),
        "5",
        "{}",
        String::from_utf8_lossy(&show.stderr)
    );
}
