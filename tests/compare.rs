//! `magsim compare` with upstream's cluster-autoscaler 1.30.2, both providers, unmodified:
//! on each scenario below the real binary against the mocks and the engine must agree on
//! the autoscaler's events, its exit, the node group sizes and the status ConfigMap.
//!
//! The binaries come from `tests/support/ca.rs` (`MAGSIM_CA_CLUSTERAPI` / `MAGSIM_CA_MAGNUM`,
//! else the shipped `.gz` in `../shared/tools/`); without one a test skips locally with the
//! reason, and fails in CI. Speeds keep the set to a few minutes: the magnum provider's
//! node group refresh runs every wall-clock minute (`magnum_cloud_provider.go`, not a flag),
//! so auto-discovery runs slower.

#[path = "support/ca.rs"]
mod ca;

use magsim_runner::{compare, CompareOptions};

fn agree(file: &str, provider: &str, speed: f64) {
    let Some(binary) = ca::binary(provider) else {
        return;
    };
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
    let text = std::fs::read_to_string(&path).expect("scenario file");
    let scenario = magsim_scenario::parse(file, &text).expect("scenario parses");
    let dir = std::env::temp_dir().join(format!(
        "magsim-compare-{}-{}",
        file.replace('/', "-"),
        std::process::id()
    ));
    let options = CompareOptions {
        binary,
        extra_args: Vec::new(),
        speed,
        seed: None,
        dir: dir.clone(),
    };
    let c = compare(&scenario, &options).unwrap_or_else(|e| panic!("{file}: {e}"));
    assert_eq!(c.version, "1.30.2", "{file}: the binary's start-up line");
    assert!(c.agrees(), "{}", c.render());
    // The real autoscaler did its job: it wrote a status (or died as the engine says).
    assert!(
        c.real.fatal.is_some() || c.real.status.contains("autoscalerStatus: Running"),
        "{}",
        c.render()
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn incident_01_as_it_happened() {
    agree(
        "scenarios/incident/01-as-it-happened.yaml",
        "clusterapi",
        20.0,
    );
}

#[test]
fn incident_02_jetstream2_raises_bound() {
    agree(
        "scenarios/incident/02-jetstream2-raises-bound.yaml",
        "clusterapi",
        20.0,
    );
}

#[test]
fn incident_05_in_cluster_trust_config() {
    agree(
        "scenarios/incident/05-in-cluster-trust-config.yaml",
        "magnum",
        20.0,
    );
}

#[test]
fn limit_chain_magnum_autodiscovery() {
    agree(
        "scenarios/limit-chain/magnum-autodiscovery.yaml",
        "magnum",
        3.0,
    );
}

#[test]
fn faults_magnum_resize_503() {
    agree("scenarios/faults/magnum-resize-503.yaml", "magnum", 15.0);
}

#[test]
fn expanders_least_waste() {
    agree("scenarios/expanders/least-waste.yaml", "clusterapi", 20.0);
}

#[test]
fn limits_max_nodes_total() {
    agree("scenarios/limits/max-nodes-total.yaml", "clusterapi", 20.0);
}

#[test]
fn limits_scale_up_timeout_backoff() {
    agree(
        "scenarios/limits/scale-up-timeout-backoff.yaml",
        "clusterapi",
        25.0,
    );
}

#[test]
fn limits_scale_from_zero() {
    agree("scenarios/limits/scale-from-zero.yaml", "clusterapi", 20.0);
}

#[test]
fn faults_magnum_never_registers() {
    agree(
        "scenarios/faults/magnum-never-registers.yaml",
        "magnum",
        15.0,
    );
}

/// The nodegroup the operator creates becomes a node group the real clusterapi provider
/// discovers. Slower: the autoscaler's cloud-provider instance cache refreshes every two
/// wall-clock minutes (`CloudProviderNodeInstancesCacheRefreshInterval`), and until it does the
/// new group's first machine, seen while it had no providerID, counts as unregistered.
#[test]
fn nodegroups_add_a_nodegroup() {
    agree(
        "scenarios/nodegroups/add-a-nodegroup.yaml",
        "clusterapi",
        4.0,
    );
}
