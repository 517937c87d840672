//! How a cluster-autoscaler is deployed, and so where it reads its node-group limits.
//!
//! This is the incident's "limit chain": the same cluster gives different answers depending on
//! whether the autoscaler is Jetstream2's managed clusterapi one (MachineDeployment annotations,
//! rendered by the Magnum driver from labels or nodegroup fields) or a self-deployed magnum
//! provider (static `--nodes`, or auto-discovery from Magnum's nodegroup fields), and a
//! self-deployed one may not even start.

pub mod cloud_config;
pub mod pod;

use crate::autoscaler::options::{
    fatal_node_group_spec, parse_args, parse_node_group_spec, AutoscalerOptions, NodeGroupSpec,
};
use crate::world::World;
use std::collections::BTreeMap;

/// Where the autoscaler runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Placement {
    /// Outside the workload cluster, run by the cloud (Jetstream2's managed autoscaler).
    Managed,
    /// A Deployment in the workload cluster.
    InCluster {
        namespace: String,
        deployment: String,
    },
}

/// A secret mounted into the autoscaler pod: every key becomes `<mount_path>/<key>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecretMount {
    pub mount_path: String,
    pub secret: String,
}

/// One autoscaler deployment as a scenario or a manifest describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AutoscalerSpec {
    pub name: String,
    pub placement: Placement,
    /// Container image; its tag gives the release (`...:v1.30.2`).
    pub image: String,
    pub args: Vec<String>,
    pub mounts: Vec<SecretMount>,
    /// Files given directly (managed deployments have no Secrets in the workload cluster).
    pub files: BTreeMap<String, String>,
    /// Force the pre-1.30 text status format even on newer releases.
    pub legacy_status: bool,
    /// [`crate::autoscaler::options::AutoscalerOptions::timer_scale`]: 1 but in
    /// `magsim compare`.
    pub timer_scale: u32,
}

/// A cluster-autoscaler release, from the image tag.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct CaVersion {
    pub minor: u32,
    pub patch: u32,
}

impl CaVersion {
    /// `registry.k8s.io/autoscaling/cluster-autoscaler:v1.30.2` → 1.30.2; untagged → 1.30.2.
    pub fn from_image(image: &str) -> CaVersion {
        let tag = image.rsplit_once(':').map(|(_, t)| t).unwrap_or("");
        let mut parts = tag.trim_start_matches('v').split('.');
        let _major = parts.next();
        let minor = parts.next().and_then(|m| m.parse().ok());
        let patch = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
        match minor {
            Some(minor) => CaVersion { minor, patch },
            None => CaVersion {
                minor: 30,
                patch: 2,
            },
        }
    }

    /// 1.30 moved the status ConfigMap from text to YAML.
    pub fn writes_yaml_status(self) -> bool {
        self.minor >= 30
    }
}

impl std::fmt::Display for CaVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "1.{}.{}", self.minor, self.patch)
    }
}

/// Which Magnum manager the magnum provider uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MagnumManager {
    /// <= 1.18 (`magnum_manager_heat.go`): the whole cluster is one group, resized by a
    /// cluster PATCH of `node_count`.
    Heat { spec: NodeGroupSpec },
    /// >= 1.19: one group per Magnum nodegroup, resized with `actions/resize`.
    Nodegroups { discovery: Discovery },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Discovery {
    /// `--nodes=min:max:name`: limits from the flag, never refreshed.
    Static(Vec<NodeGroupSpec>),
    /// `--node-group-auto-discovery=magnum:role=worker`: limits from Magnum's nodegroup fields.
    Roles(Vec<String>),
}

/// Where the started autoscaler gets its node groups.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProviderKind {
    /// clusterapi: MachineDeployment annotations, re-read every loop.
    ClusterApi,
    Magnum(MagnumManager),
    /// Upstream's test cloud provider (`cloudprovider/test`), for scenarios that mirror its
    /// unit tests; only available when the scenario declares `cloud.test_provider`.
    Test,
}

/// A fatal start-up: the process exits and the pod crash-loops.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fatal {
    pub message: String,
    /// `file:line` of the klog call where it was measured upstream.
    pub location: Option<&'static str>,
    /// 255 for klog fatals; 2 when pflag refuses the command line (it prints the error and
    /// the usage, not a klog line).
    pub exit_code: i32,
}

impl Fatal {
    fn at(location: &'static str, message: String) -> Fatal {
        Fatal {
            message,
            location: Some(location),
            exit_code: 255,
        }
    }
    fn plain(message: impl Into<String>) -> Fatal {
        Fatal {
            message: message.into(),
            location: None,
            exit_code: 255,
        }
    }
}

/// A started autoscaler's configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct Started {
    pub options: AutoscalerOptions,
    pub provider: ProviderKind,
    pub version: CaVersion,
}

impl AutoscalerSpec {
    /// The files the container sees: directly given ones plus mounted Secret keys.
    pub fn files(&self, world: &World) -> BTreeMap<String, String> {
        let mut files = self.files.clone();
        let namespace = match &self.placement {
            Placement::InCluster { namespace, .. } => namespace.as_str(),
            Placement::Managed => "kube-system",
        };
        for m in &self.mounts {
            if let Some(s) = world
                .secrets
                .iter()
                .find(|s| s.name == m.secret && s.namespace == namespace)
            {
                for (k, v) in &s.data {
                    files.insert(
                        format!("{}/{k}", m.mount_path.trim_end_matches('/')),
                        v.clone(),
                    );
                }
            }
        }
        files
    }

    /// Starts the process: parses flags and, for the magnum provider, reads the cloud-config and
    /// resolves node groups, failing exactly where cluster-autoscaler fails.
    pub fn start(&self, world: &World) -> Result<Started, Fatal> {
        let mut options = parse_args(&self.args).map_err(|e| Fatal {
            message: e.to_string(),
            location: None,
            exit_code: e.exit_code(),
        })?;
        options.timer_scale = self.timer_scale.max(1);
        if options
            .expander
            .contains(&crate::autoscaler::options::ExpanderName::Price)
        {
            // Neither the clusterapi nor the magnum provider implements Pricing().
            return Err(Fatal::plain(
                crate::autoscaler::options::pricing_unavailable_fatal(),
            ));
        }
        let version = CaVersion::from_image(&self.image);
        let provider = match options.cloud_provider.as_str() {
            "clusterapi" => ProviderKind::ClusterApi,
            "magnum" => ProviderKind::Magnum(self.start_magnum(&options, version, world)?),
            "test" if !world.test_groups.is_empty() => ProviderKind::Test,
            other => return Err(Fatal::plain(format!("Unknown cloud provider: {other}"))),
        };
        Ok(Started {
            options,
            provider,
            version,
        })
    }

    fn start_magnum(
        &self,
        options: &AutoscalerOptions,
        version: CaVersion,
        world: &World,
    ) -> Result<MagnumManager, Fatal> {
        if let Some(path) = &options.cloud_config {
            let files = self.files(world);
            let text = files.get(path).ok_or_else(|| {
                Fatal::at(
                    "magnum_cloud_provider.go:326",
                    cloud_config::open_error(path),
                )
            })?;
            let config = cloud_config::parse_cloud_config(text).map_err(|e| {
                Fatal::at(
                    "magnum_cloud_provider.go:341",
                    cloud_config::manager_error(&e),
                )
            })?;
            if let cloud_config::AuthMode::Missing(what) = config.auth_mode() {
                return Err(Fatal::at(
                    "magnum_cloud_provider.go:341",
                    format!(
                        "Failed to create magnum manager: could not authenticate client: {what}"
                    ),
                ));
            }
        }
        let manager_err = |m: String| {
            Fatal::at(
                "magnum_cloud_provider.go:341",
                format!("Failed to create magnum manager: {m}"),
            )
        };
        let cluster_name = options.cluster_name.clone().unwrap_or_default();
        if cluster_name.is_empty() {
            return Err(manager_err("the cluster-name parameter must be set".into()));
        }
        let cluster = world
            .magnum_cluster(&cluster_name)
            .ok_or_else(|| manager_err(format!("could not check cluster UUID: unable to access cluster \"{cluster_name}\": Resource not found")))?;
        let mut specs = Vec::new();
        for raw in &options.nodes {
            // Magnum scales to zero from 1.22.
            let spec = parse_node_group_spec(raw, version.minor >= 22)
                .map_err(|e| Fatal::plain(fatal_node_group_spec(raw, &e)))?;
            specs.push(spec);
        }
        let has_static = !specs.is_empty();
        let has_auto = !options.node_group_auto_discovery.is_empty();
        if has_static && has_auto {
            return Err(Fatal::plain(
                "can not use both static node group discovery and node group auto discovery",
            ));
        }
        if !has_static && !has_auto {
            return Err(Fatal::plain("no node group discovery options specified"));
        }
        if version.minor <= 18 {
            let spec = specs
                .first()
                .cloned()
                .ok_or_else(|| Fatal::plain("no node group discovery options specified"))?;
            return Ok(MagnumManager::Heat { spec });
        }
        if has_auto {
            let mut roles = Vec::new();
            for spec in &options.node_group_auto_discovery {
                let r = spec
                    .strip_prefix("magnum:role=")
                    .ok_or_else(|| Fatal::plain(format!("Initial node group discovery failed: invalid node group auto discovery spec {spec:?}")))?;
                roles.extend(r.split(',').map(str::to_string));
            }
            return Ok(MagnumManager::Nodegroups {
                discovery: Discovery::Roles(roles),
            });
        }
        for spec in &specs {
            if cluster.nodegroup(&spec.name).is_err() {
                // magnum_cloud_provider.go:374 (1.30.2), wrapping `uniqueNameAndIDForNodeGroup`'s
                // "could not get node group: %v" around gophercloud's 404 text.
                return Err(Fatal {
                    location: Some("magnum_cloud_provider.go:374"),
                    ..Fatal::plain(format!(
                        "could not get unique name and UUID for node group {}: could not get node group: Resource not found",
                        spec.name
                    ))
                });
            }
        }
        Ok(MagnumManager::Nodegroups {
            discovery: Discovery::Static(specs),
        })
    }
}

/// The klog line a fatal start-up prints: `F1110 14:03:21.120000       1 file:line] message`.
pub fn klog_fatal(ts: crate::time::Timestamp, fatal: &Fatal) -> String {
    if fatal.exit_code == 2 {
        return fatal.message.clone();
    }
    let loc = fatal.location.unwrap_or("main.go");
    crate::autoscaler::container::klog_line(
        ts,
        crate::autoscaler::container::Severity::Fatal,
        loc,
        &fatal.message,
    )
}

/// A managed autoscaler named `ca` running `image` with `args`, for tests.
#[cfg(test)]
pub(crate) fn test_spec(image: &str, args: &[&str]) -> AutoscalerSpec {
    AutoscalerSpec {
        name: "ca".into(),
        placement: Placement::Managed,
        image: image.into(),
        args: args.iter().map(|s| s.to_string()).collect(),
        mounts: vec![],
        files: BTreeMap::new(),
        legacy_status: false,
        timer_scale: 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(args: &[&str]) -> AutoscalerSpec {
        test_spec("x:v1.30.2", args)
    }

    #[test]
    fn start_up_failures_speak_like_the_binary() {
        let w = World::default();
        let f = spec(&["--cloud-provider=clusterapi", "--bogus"])
            .start(&w)
            .unwrap_err();
        assert_eq!(
            (f.message.as_str(), f.exit_code),
            ("unknown flag: --bogus", 2)
        );
        assert_eq!(
            klog_fatal(
                crate::time::Epoch::default().at(crate::time::SimTime(0)),
                &f
            ),
            "unknown flag: --bogus"
        );
        let f = spec(&["--cloud-provider=clusterapi", "--expander=price"])
            .start(&w)
            .unwrap_err();
        assert_eq!(
            f.message,
            "Couldn't access cloud provider pricing for price expander: Not implemented"
        );
        let f = spec(&[
            "--cloud-provider=magnum",
            "--cloud-config=/config/cloud-config",
            "--nodes=1:6:x",
        ])
        .start(&w)
        .unwrap_err();
        assert_eq!(
            klog_fatal(crate::time::Epoch::default().at(crate::time::SimTime(0)), &f),
            "F1110 14:00:00.000000       1 magnum_cloud_provider.go:326] Couldn't open cloud provider configuration from /config/cloud-config: &fs.PathError{Op:\"open\", Path:\"/config/cloud-config\", Err:0x2}"
        );
        assert!(spec(&["--cloud-provider=clusterapi"]).start(&w).is_ok());
    }

    #[test]
    fn versions_come_from_image_tags() {
        assert_eq!(
            CaVersion::from_image("registry.k8s.io/autoscaling/cluster-autoscaler:v1.18.3"),
            CaVersion {
                minor: 18,
                patch: 3
            }
        );
        assert!(!CaVersion::from_image("x:v1.29.5").writes_yaml_status());
        assert!(CaVersion::from_image("x").writes_yaml_status());
    }
}
