//! The whole mock cloud for one scenario: Keystone, Magnum, Heat, Nova and Kubernetes on
//! loopback over one live engine and one cluster CA (Magnum shows the Kubernetes mock as the
//! cluster's `api_address` and signs client certificates it admits), with the files real
//! clients need. What `magsim serve` runs
//! and what a user's test starts.
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let (file, text) = magsim_scenario::builtin()[0];
//! let scenario = magsim_scenario::parse(file, text).unwrap();
//! let cloud = magsim_mocks::MockCloud::start(&scenario, None).await.unwrap();
//! let dir = std::env::temp_dir().join("magsim-doc-cloud");
//! let files = cloud.write_client_files(&dir).unwrap();
//! assert!(std::fs::read_to_string(&files.kubeconfig).unwrap().contains(&cloud.kube.url));
//! assert!(files.exports().contains("OS_CLOUD=jetstream2"));
//! assert!(cloud.openstack.journal.entries().is_empty());
//! # });
//! ```

use crate::ca::ClusterCa;
use crate::kube::{KubeMock, KubeOptions};
use crate::listen::Listen;
use crate::openstack::{self, OpenStackMock};
use crate::Live;
use magsim_scenario::Scenario;
use std::path::{Path, PathBuf};

/// How a scenario is served to real software (`magsim serve`, `magsim compare`).
#[derive(Clone, Copy, Debug, Default)]
pub struct Serving {
    /// Leave the scenario's simulated autoscalers out: the user's autoscaler is the only one.
    pub no_autoscaler: bool,
    /// Keep the scenario's own start date instead of anchoring virtual time zero to now.
    pub scenario_clock: bool,
}

impl Serving {
    /// `scenario` as served: the timestamps real clients read (node ages, the autoscaler's
    /// 15-minute allowance for starting nodes, event times) are today's unless
    /// `scenario_clock`. The one place magsim reads the wall clock for a world.
    pub fn apply(self, mut scenario: Scenario) -> Scenario {
        if self.no_autoscaler {
            scenario.autoscalers.clear();
        }
        if !self.scenario_clock {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            scenario.epoch = magsim_sim::time::Epoch(i64::try_from(now).unwrap_or(i64::MAX));
        }
        scenario
    }
}

/// How [`MockCloud::start_with`] listens, and whom its Kubernetes API admits.
#[derive(Clone, Debug, Default)]
pub struct CloudOptions {
    /// Bind address, port layout and advertised host of every server.
    pub listen: Listen,
    /// The Kubernetes API over TLS, admitting only its kubeconfig's bearer token
    /// ([`KubeOptions::secure`]); what `magsim serve` runs unless `--insecure-kube`.
    pub secure_kube: bool,
    /// With `secure_kube`, the token to require (default: a random one).
    pub kube_token: Option<String>,
}

/// The name of the cloud in the `clouds.yaml` magsim writes.
pub const CLOUD_NAME: &str = "jetstream2";

/// All servers of one scenario.
pub struct MockCloud {
    pub live: Live,
    pub openstack: OpenStackMock,
    pub kube: KubeMock,
}

/// Where [`MockCloud::write_client_files`] put the client configuration.
#[derive(Clone, Debug)]
pub struct ClientFiles {
    pub clouds_yaml: PathBuf,
    pub openrc: PathBuf,
    pub kubeconfig: PathBuf,
    /// The `[Global]` file the cluster-autoscaler's magnum provider reads (`--cloud-config`).
    pub cloud_config: PathBuf,
}

impl ClientFiles {
    /// A line to paste into a shell so `openstack` and `kubectl` use the mock cloud.
    pub fn exports(&self) -> String {
        format!(
            "export OS_CLIENT_CONFIG_FILE={} OS_CLOUD={CLOUD_NAME} KUBECONFIG={}",
            self.clouds_yaml.display(),
            self.kubeconfig.display()
        )
    }
}

impl MockCloud {
    /// Starts every server for `scenario` at virtual time zero (its steps are not performed:
    /// the clients talking to the servers are the steps).
    pub async fn start(scenario: &Scenario, seed: Option<u64>) -> std::io::Result<MockCloud> {
        MockCloud::start_with(scenario, seed, &CloudOptions::default()).await
    }

    /// [`MockCloud::start`] as `options` say: on the addresses of `options.listen` (bind
    /// address, fixed port layout, advertised host: what `magsim serve --bind --port
    /// --advertise` runs in a container), the Kubernetes API secure or open. An impossible
    /// layout is an `InvalidInput` error.
    pub async fn start_with(
        scenario: &Scenario,
        seed: Option<u64>,
        options: &CloudOptions,
    ) -> std::io::Result<MockCloud> {
        let listen = &options.listen;
        listen.check()?;
        let live = Live::new(scenario, seed);
        // One CA for the cluster: the API server's certificate and the client certificates
        // Magnum's certificates API signs (`openstack coe cluster config`).
        let name = live.engine().world.cluster.as_ref().map(|c| c.name.clone());
        let ca = ClusterCa::generate(name.as_deref().unwrap_or("kubernetes"))
            .map_err(std::io::Error::other)?;
        let kube = KubeMock::start_with(
            live.clone(),
            KubeOptions {
                listen: listen.clone(),
                secure: options.secure_kube,
                token: options.kube_token.clone(),
                ca: Some(ca.clone()),
                ..KubeOptions::default()
            },
        )
        .await?;
        // Served to real clients (secure), the cluster's api_address is this API server; the
        // in-process runs (`--wire`) keep the engine's, so their output stays the memory run's.
        let magnum = openstack::Options {
            api_address: options.secure_kube.then(|| kube.url.clone()),
            cluster_ca: Some(ca),
            ..openstack::Options::default()
        };
        let openstack = openstack::start_on(live.clone(), magnum, listen).await?;
        Ok(MockCloud {
            live,
            openstack,
            kube,
        })
    }

    /// An `openrc.sh` like the one Jetstream2's Horizon hands out for an application
    /// credential.
    pub fn openrc(&self) -> String {
        let c = &self.openstack.credentials;
        openstack::openrc(
            &self.openstack.auth_url(),
            &c.application_credential_id,
            &c.application_credential_secret,
        )
    }

    /// Writes `clouds.yaml`, `openrc.sh`, `kubeconfig` and the autoscaler's `cloud-config`
    /// into `dir` (created if missing).
    pub fn write_client_files(&self, dir: &Path) -> std::io::Result<ClientFiles> {
        std::fs::create_dir_all(dir)?;
        let files = ClientFiles {
            clouds_yaml: dir.join("clouds.yaml"),
            openrc: dir.join("openrc.sh"),
            kubeconfig: dir.join("kubeconfig"),
            cloud_config: dir.join(crate::cloud_config::FILE_NAME),
        };
        std::fs::write(&files.clouds_yaml, self.openstack.clouds_yaml(CLOUD_NAME))?;
        std::fs::write(&files.openrc, self.openrc())?;
        self.kube.write_kubeconfig(&files.kubeconfig)?;
        std::fs::write(&files.cloud_config, crate::cloud_config::cloud_config(self))?;
        Ok(files)
    }
}
