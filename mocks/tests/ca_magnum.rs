//! Upstream's cluster-autoscaler 1.30.2 (magnum provider) against `magsim serve`'s mocks:
//! on the incident's magnum-capi-helm cluster it must start without a panic and fail every
//! loop with upstream's own text; on a Heat-driver cluster it must walk the Heat stacks, map
//! nodes to the nodegroup and scale up through `POST .../actions/resize`.
//!
//! The binary comes from `tests/support/ca.rs` (`MAGSIM_CA_MAGNUM`, or the shipped `.gz`);
//! without one the tests skip, except under `CI`.

#[path = "../../tests/support/ca.rs"]
mod ca;

use magsim_mocks::MockCloud;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn scenario(name: &str) -> magsim_scenario::Scenario {
    let (file, text) = magsim_scenario::builtin()
        .into_iter()
        .find(|(f, _)| f.contains(name))
        .expect("builtin scenario");
    magsim_scenario::parse(file, text).expect("scenario parses")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// The real autoscaler as a child process; killed (by its own pid) when dropped.
struct Autoscaler {
    child: Child,
    log: PathBuf,
}

impl Autoscaler {
    fn start(bin: &Path, cloud: &MockCloud, dir: &Path, nodes: &str) -> Autoscaler {
        let files = cloud.write_client_files(dir).expect("client files");
        let config = dir.join(magsim_mocks::cloud_config::FILE_NAME);
        std::fs::write(&config, magsim_mocks::cloud_config::cloud_config(cloud)).unwrap();
        let log = dir.join("cluster-autoscaler.log");
        let out = std::fs::File::create(&log).unwrap();
        let child = Command::new(bin)
            .args([
                "--cloud-provider=magnum",
                "--cluster-name=k8s",
                &format!("--nodes={nodes}"),
                "--leader-elect=false",
                "--namespace=kube-system",
                &format!("--address=127.0.0.1:{}", free_port()),
                "--scan-interval=10s",
                "--v=4",
                &format!("--kubeconfig={}", files.kubeconfig.display()),
                &format!("--cloud-config={}", config.display()),
            ])
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .expect("cluster-autoscaler starts");
        Autoscaler { child, log }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until `done` holds (checked every 250ms), the process exits, or `limit` passes.
    async fn wait_for(&mut self, limit: Duration, mut done: impl FnMut(&str) -> bool) -> bool {
        let start = Instant::now();
        while start.elapsed() < limit {
            if done(&self.log()) {
                return true;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                eprintln!("cluster-autoscaler exited: {status}");
                return done(&self.log());
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        false
    }
}

impl Drop for Autoscaler {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("magsim-ca-magnum-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn heat_requests(cloud: &MockCloud) -> Vec<String> {
    cloud
        .openstack
        .journal
        .entries()
        .iter()
        .filter(|e| e.service == magsim_mocks::Service::Orchestration)
        .map(|e| format!("{} {} -> {}", e.method, e.path, e.status))
        .collect()
}

fn tail(log: &str) -> String {
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(60)..].join("\n")
}

/// `static_autoscaler.go:380`, `magnum_cloud_provider.go:134`, `magnum_manager_impl.go:461`
/// and `:113` at tag cluster-autoscaler-1.30.2.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn capi_helm_cluster_fails_every_loop_without_a_panic() {
    let Some(bin) = ca::binary("magnum") else {
        return;
    };
    let cloud = MockCloud::start(&scenario("01-as-it-happened"), None)
        .await
        .unwrap();
    let (ng_uuid, release) = {
        let e = cloud.live.engine();
        let c = e.world.cluster.as_ref().unwrap();
        (c.default_worker().unwrap().uuid.clone(), c.stack_id.clone())
    };
    let d = dir("capi");
    let mut ca = Autoscaler::start(&bin, &cloud, &d, "1:6:default-worker");
    let wanted = format!(
        ": could not fetch stack IDs for node group {ng_uuid}: could not find node group stack: Resource not found"
    );
    let failed = ca
        .wait_for(Duration::from_secs(120), |l| {
            l.contains("Failed to get node infos for groups: error finding node group UUID for node openstack:///")
                && l.contains(&wanted)
        })
        .await;
    let log = ca.log();
    let heat = heat_requests(&cloud);
    eprintln!("Heat requests:\n{}", heat.join("\n"));
    assert!(!log.contains("panic"), "{}", tail(&log));
    assert!(!log.contains("nil pointer dereference"), "{}", tail(&log));
    assert!(failed, "no node-infos failure in the log:\n{}", tail(&log));
    // The lookup went to the release name and got Heat's 404, never a stack list.
    assert!(
        heat.iter()
            .any(|r| r.contains(&format!("/stacks/{release}")) && r.ends_with("404")),
        "{heat:?}"
    );
    assert!(!heat.iter().any(|r| r.ends_with("200")), "{heat:?}");
    let e = cloud.live.engine();
    let ng = e.world.cluster.as_ref().unwrap().default_worker().unwrap();
    assert_eq!(ng.node_count, 5, "it never scales");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heat_driver_cluster_scales_up_through_magnum() {
    let Some(bin) = ca::binary("magnum") else {
        return;
    };
    let cloud = MockCloud::start(&scenario("05-in-cluster-trust-config"), None)
        .await
        .unwrap();
    let pending = {
        let e = cloud.live.engine();
        e.pending_pods().len()
    };
    assert_eq!(pending, 1, "one pod waits for a sixth node");
    let d = dir("heat");
    let mut ca = Autoscaler::start(&bin, &cloud, &d, "1:6:default-worker");
    let live = cloud.live.clone();
    let grown = ca
        .wait_for(Duration::from_secs(150), |_| {
            let e = live.engine();
            e.world
                .cluster
                .as_ref()
                .and_then(|c| c.default_worker())
                .is_some_and(|ng| ng.node_count > 5)
        })
        .await;
    let log = ca.log();
    let heat = heat_requests(&cloud);
    eprintln!("Heat requests:\n{}", heat.join("\n"));
    assert!(!log.contains("panic"), "{}", tail(&log));
    assert!(grown, "no resize reached the engine:\n{}", tail(&log));
    assert!(
        log.contains("Final scale-up plan: [{default-worker-") && log.contains(" 5->6 (max: 6)}]"),
        "{}",
        tail(&log)
    );
    let resized = cloud
        .openstack
        .journal
        .entries()
        .iter()
        .any(|e| e.method == "POST" && e.path.ends_with("/actions/resize") && e.status == 202);
    assert!(resized, "the resize was a POST actions/resize");
    assert!(
        heat.iter()
            .any(|r| r.contains("/resources/kube_minions") && r.ends_with("200")),
        "{heat:?}"
    );
    let e = cloud.live.engine();
    let ng = e.world.cluster.as_ref().unwrap().default_worker().unwrap();
    assert_eq!(ng.node_count, 6, "one node for the one pending pod (max 6)");
}
