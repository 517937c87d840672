//! What the binary writes to its log: cluster-autoscaler's klog calls with their `V` level and
//! `file:line`, as upstream's 1.30.2 binaries printed them against `magsim serve` (clusterapi
//! and magnum providers, `--v=1`; `magsim compare ... -- --v=1` shows them). Releases before
//! 1.30 (their texts and lines were not measured) write only the fatal line they die on.

use super::container::{Container, Severity, Site};
use super::options::{parse_flags, AutoscalerOptions};
use crate::deploy::{AutoscalerSpec, Fatal, ProviderKind, Started};
use crate::time::SimTime;

pub const VERSION: Site = Site::info(1, "main.go:649");
pub const LEASE_ATTEMPT: Site = Site::info(0, "leaderelection.go:250");
pub const LEASE_ACQUIRED: Site = Site::info(0, "leaderelection.go:260");
pub const BUILDING_PROVIDER: Site = Site::info(1, "cloud_provider_builder.go:30");
pub const CAPI_VERSION: Site = Site::info(0, "clusterapi_controller.go:426");
pub const CAPI_RESOURCE: Site = Site::info(0, "clusterapi_controller.go:543");
pub const SIGNAL_HANDLER: Site = Site::info(1, "main.go:444");
pub const CACHE_REFRESH: Site = Site::info(0, "node_instances_cache.go:156");
pub const CACHE_REFRESHED: Site = Site::info(0, "node_instances_cache.go:168");
pub const ACCEPTABLE_RANGES: Site = Site {
    severity: Severity::Warning,
    v: 0,
    location: "clusterstate.go:477",
};
pub const UNREGISTERED_PRESENT: Site = Site::info(1, "static_autoscaler.go:432");
pub const NO_UNSCHEDULABLE_PODS: Site = Site::info(1, "static_autoscaler.go:564");
pub const PODS_VERY_NEW: Site = Site::info(1, "static_autoscaler.go:575");
pub const POD_UNSCHEDULABLE: Site = Site::info(1, "klogx.go:87");
pub const NO_EXPANSION_OPTIONS: Site = Site::info(1, "orchestrator.go:170");
pub const BEST_OPTION: Site = Site::info(1, "orchestrator.go:187");
pub const ESTIMATED_NODES: Site = Site::info(1, "orchestrator.go:191");
pub const FINAL_PLAN: Site = Site::info(1, "orchestrator.go:295");
pub const SETTING_GROUP_SIZE: Site = Site::info(0, "executor.go:162");

/// `klogx.PodsLoggingQuota()` below `--v=5`: how many unschedulable pods a loop names.
pub const PODS_LOGGING_QUOTA: usize = 20;

/// The node instances cache refreshes every `--node-instances-cache-refresh-interval` (2m).
pub const CACHE_REFRESH_INTERVAL: crate::time::SimDuration = crate::time::SimDuration::from_mins(2);

/// The discovery the clusterapi provider logs at start-up: the `cluster.x-k8s.io/v1beta1`
/// resources the Kubernetes mock serves, first for its cluster check, then for the controller.
const CAPI_RESOURCES: [&[&str]; 2] = [
    &["clusters", "clusters/status", "machinedeployments"],
    &[
        "clusters",
        "clusters/status",
        "machinedeployments",
        "machinedeployments/status",
        "machinedeployments/scale",
        "machinesets",
        "machinesets/status",
        "machinesets/scale",
        "machines",
        "machines/status",
    ],
];

/// Writes what one start of the process logs, up to its fatal line when it fails, and marks
/// the instance exited then.
pub fn start(
    c: &mut Container,
    spec: &AutoscalerSpec,
    result: &Result<Started, Fatal>,
    now: SimTime,
) {
    let flags = match parse_flags(&spec.args) {
        Ok(flags) => flags,
        Err(_) => {
            // pflag refused the command line: its error and usage, no klog header.
            if let Err(fatal) = result {
                c.write_plain(now, fatal.message.clone());
                c.exit(now, fatal.exit_code);
            }
            return;
        }
    };
    let version = crate::deploy::CaVersion::from_image(&spec.image);
    if !measured(version) {
        if let Err(fatal) = result {
            c.write(now, fatal_site(fatal), fatal.message.clone());
            c.exit(now, fatal.exit_code);
        }
        return;
    }
    c.verbosity = flags.verbosity;
    c.write(now, VERSION, format!("Cluster Autoscaler {version}"));
    lease(c, &flags, now);
    let provider = match result {
        Ok(started) => provider_name(&started.provider),
        Err(_) => flags.cloud_provider.as_str(),
    };
    if matches!(provider, "clusterapi" | "magnum") {
        c.write(
            now,
            BUILDING_PROVIDER,
            format!("Building {provider} cloud provider."),
        );
    }
    match result {
        Err(fatal) => {
            c.write(now, fatal_site(fatal), fatal.message.clone());
            c.exit(now, fatal.exit_code);
        }
        Ok(started) => {
            if matches!(started.provider, ProviderKind::ClusterApi) {
                c.write(
                    now,
                    CAPI_VERSION,
                    r#"Using version "v1beta1" for API group "cluster.x-k8s.io""#,
                );
                for resource in CAPI_RESOURCES.iter().copied().flatten() {
                    c.write(
                        now,
                        CAPI_RESOURCE,
                        format!("Resource {resource:?} available"),
                    );
                }
            }
            c.write(now, SIGNAL_HANDLER, "Registered cleanup signal handler");
            cache_refresh(c, now);
        }
    }
}

/// Whether this release's log lines were measured (1.30 and later are written as 1.30.2's).
pub fn measured(version: crate::deploy::CaVersion) -> bool {
    version.minor >= 30
}

fn fatal_site(fatal: &Fatal) -> Site {
    Site {
        severity: Severity::Fatal,
        v: 0,
        location: fatal.location.unwrap_or("main.go"),
    }
}

fn lease(c: &mut Container, flags: &AutoscalerOptions, now: SimTime) {
    if !flags.leader_elect {
        return;
    }
    let lease = format!("{}/{}", flags.namespace, flags.leader_elect_resource_name);
    c.write(
        now,
        LEASE_ATTEMPT,
        format!("attempting to acquire leader lease {lease}..."),
    );
    c.write(
        now,
        LEASE_ACQUIRED,
        format!("successfully acquired lease {lease}"),
    );
}

/// The node instances cache's refresh: the simulated provider answers at once, so it took 0s.
pub fn cache_refresh(c: &mut Container, now: SimTime) {
    c.write(
        now,
        CACHE_REFRESH,
        "Start refreshing cloud provider node instances cache",
    );
    c.write(
        now,
        CACHE_REFRESHED,
        "Refresh cloud provider node instances cache finished, refresh took 0s",
    );
}

fn provider_name(p: &ProviderKind) -> &'static str {
    match p {
        ProviderKind::ClusterApi => "clusterapi",
        ProviderKind::Magnum(_) => "magnum",
        ProviderKind::Test => "test",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Epoch;
    use crate::world::World;

    fn spec(args: &[&str]) -> AutoscalerSpec {
        crate::deploy::test_spec(
            "registry.k8s.io/autoscaling/cluster-autoscaler:v1.30.2",
            args,
        )
    }

    fn log(args: &[&str]) -> (Vec<String>, Option<(SimTime, i32)>) {
        let s = spec(args);
        let mut c = Container::new(SimTime::ZERO);
        start(&mut c, &s, &s.start(&World::default()), SimTime::ZERO);
        let epoch = Epoch::parse_rfc3339("2025-11-10T14:00:00Z").unwrap();
        let lines = c.current.log.iter().map(|l| l.render(epoch)).collect();
        (lines, c.current.exited)
    }

    #[test]
    fn a_magnum_start_that_fails_logs_as_the_binary_did() {
        let (lines, exited) = log(&["--cloud-provider=magnum", "--v=1"]);
        assert_eq!(
            lines,
            [
                "I1110 14:00:00.000000       1 main.go:649] Cluster Autoscaler 1.30.2",
                "I1110 14:00:00.000000       1 leaderelection.go:250] attempting to acquire leader lease kube-system/cluster-autoscaler...",
                "I1110 14:00:00.000000       1 leaderelection.go:260] successfully acquired lease kube-system/cluster-autoscaler",
                "I1110 14:00:00.000000       1 cloud_provider_builder.go:30] Building magnum cloud provider.",
                "F1110 14:00:00.000000       1 magnum_cloud_provider.go:341] Failed to create magnum manager: the cluster-name parameter must be set",
            ]
        );
        assert_eq!(exited, Some((SimTime::ZERO, 255)));
    }

    #[test]
    fn verbosity_zero_and_no_leader_election_leave_the_warnings_and_v0_lines() {
        let (lines, exited) = log(&["--cloud-provider=clusterapi", "--leader-elect=false"]);
        assert_eq!(exited, None);
        assert!(lines[0].ends_with(r#"Using version "v1beta1" for API group "cluster.x-k8s.io""#));
        assert!(!lines
            .iter()
            .any(|l| l.contains("lease") || l.contains("main.go")));
        assert!(lines
            .last()
            .unwrap()
            .ends_with("Refresh cloud provider node instances cache finished, refresh took 0s"));
    }

    #[test]
    fn an_older_release_writes_its_fatal_line_alone() {
        let mut s = spec(&["--cloud-provider=magnum", "--v=4"]);
        s.image = "registry.k8s.io/autoscaling/cluster-autoscaler:v1.18.3".into();
        let mut c = Container::new(SimTime::ZERO);
        start(&mut c, &s, &s.start(&World::default()), SimTime::ZERO);
        let texts: Vec<&str> = c.current.log.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(
            texts,
            ["Failed to create magnum manager: the cluster-name parameter must be set"]
        );
    }

    #[test]
    fn a_refused_command_line_is_pflag_s_text_alone() {
        let (lines, exited) = log(&["--bogus"]);
        assert_eq!(lines, ["unknown flag: --bogus"]);
        assert_eq!(exited, Some((SimTime::ZERO, 2)));
    }
}
