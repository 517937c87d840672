//! [`MagsimCloud`]: the `magsim:dev` image (`magsim serve` built `FROM scratch`, see
//! `scripts/image.sh`) as a [`testcontainers`] [`Image`], so a user's tests get a mock
//! Jetstream2 — Keystone, Magnum, Heat, Nova and a Kubernetes API server over one simulated
//! cluster and autoscaler — in a throwaway container.
//!
//! The container listens on a fixed layout, [`KEYSTONE_PORT`] to [`KUBERNETES_PORT`]
//! (9500–9504), published on random host ports; the image is ready once `magsim serve` prints
//! its `export ...` line. [`Endpoints`] gives the host-side URLs; [`kubeconfig`] and
//! [`clouds_yaml`] write client configuration for them. The Kubernetes API is `https://`
//! and admits only its bearer token ([`KUBE_TOKEN`] unless [`ServeArgs::with_kube_token`]).
//!
//! Keystone's catalog names the ports clients use only when they are known when the container
//! starts: with random host ports it advertises the container's own (`127.0.0.1:9501` for
//! Magnum), so call Magnum with [`Endpoints::magnum`] directly, or publish the ports 1:1
//! (`RunnableImage::with_mapped_port((9500, 9500))` for each) so catalog-following clients
//! (`openstack coe ...`) work too; [`ServeArgs::with_advertise`] covers other mappings.
//!
//! ```no_run
//! use magsim_testcontainers::{kubeconfig, Endpoints, MagsimCloud, ServeArgs, KUBE_TOKEN};
//! use testcontainers::clients::Cli;
//!
//! let docker = Cli::default();
//! let cloud = docker.run((MagsimCloud, ServeArgs::default().with_speed(60.0)));
//! let endpoints = Endpoints::of(&cloud);
//! let path = std::env::temp_dir().join("magsim-kubeconfig");
//! std::fs::write(&path, kubeconfig(&endpoints.kubernetes, KUBE_TOKEN)).unwrap();
//! // KUBECONFIG=$path kubectl get nodes: five Ready nodes; Magnum at endpoints.magnum.
//! ```

use testcontainers::core::WaitFor;
use testcontainers::{Container, Image, ImageArgs};

/// The image `scripts/image.sh` builds.
pub const NAME: &str = "magsim";
pub const TAG: &str = "dev";

/// Ports inside the container (`magsim serve --port 9500`).
pub const KEYSTONE_PORT: u16 = 9500;
pub const MAGNUM_PORT: u16 = 9501;
pub const HEAT_PORT: u16 = 9502;
pub const NOVA_PORT: u16 = 9503;
pub const KUBERNETES_PORT: u16 = 9504;

/// Where `magsim serve` writes `clouds.yaml`, `openrc.sh` and `kubeconfig` in the container.
pub const CLIENT_DIR: &str = "/magsim-cloud";

/// The cloud name in `clouds.yaml` and the mock Keystone's application credential.
pub const CLOUD_NAME: &str = "jetstream2";
pub const APPLICATION_CREDENTIAL_ID: &str = "423f19a4ac1e4f48bbb4180756e6eb6c";
pub const APPLICATION_CREDENTIAL_SECRET: &str = "rEaqvJka48mpv";

/// The `magsim:dev` image running `magsim serve` with [`ServeArgs`] (by default the built-in
/// incident scenario, virtual time at wall-clock speed).
///
/// testcontainers takes an image's arguments next to it, not from it: pass
/// `(MagsimCloud, ServeArgs::default().with_speed(60.0))` to `Cli::run` (a bare `MagsimCloud`
/// runs the default arguments).
#[derive(Clone, Copy, Debug, Default)]
pub struct MagsimCloud;

/// The bearer token the container's Kubernetes API requires unless
/// [`ServeArgs::with_kube_token`] says otherwise (like the application credential above: a
/// throwaway container's well-known secret).
pub const KUBE_TOKEN: &str = "magsim-container-token";

/// The `magsim serve` command line the container runs.
#[derive(Clone, Debug, PartialEq)]
pub struct ServeArgs {
    scenario: Option<String>,
    speed: Option<f64>,
    seed: Option<u64>,
    advertise: Option<String>,
    kube_token: String,
}

impl Default for ServeArgs {
    fn default() -> ServeArgs {
        ServeArgs {
            scenario: None,
            speed: None,
            seed: None,
            advertise: None,
            kube_token: KUBE_TOKEN.to_string(),
        }
    }
}

impl ServeArgs {
    /// The bearer token the Kubernetes API requires (`magsim serve --kube-token`): choose
    /// your own when the container is reachable by others.
    pub fn with_kube_token(mut self, token: impl Into<String>) -> Self {
        self.kube_token = token.into();
        self
    }

    /// The token [`kubeconfig`] must carry.
    pub fn kube_token(&self) -> &str {
        &self.kube_token
    }

    /// Serves the scenario file at `container_path` instead of the built-in incident; mount
    /// it there, e.g. `RunnableImage::with_volume((host_path, "/scenario.yaml"))`.
    pub fn with_scenario(mut self, container_path: impl Into<String>) -> Self {
        self.scenario = Some(container_path.into());
        self
    }

    /// Virtual seconds per wall-clock second (`magsim serve --speed`).
    pub fn with_speed(mut self, speed: f64) -> Self {
        self.speed = Some(speed);
        self
    }

    /// Overrides the scenario's seed.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// `HOST` or `HOST:PORT` clients reach the servers at (`magsim serve --advertise`): what
    /// Keystone's catalog and the files in [`CLIENT_DIR`] name. With `HOST:PORT`, Keystone's
    /// host port; the other servers must be published at `PORT+1` to `PORT+4`.
    pub fn with_advertise(mut self, host: impl Into<String>) -> Self {
        self.advertise = Some(host.into());
        self
    }
}

impl ImageArgs for ServeArgs {
    fn into_iterator(self) -> Box<dyn Iterator<Item = String>> {
        let mut a: Vec<String> = vec!["serve".into()];
        a.extend(self.scenario);
        a.extend(["--bind".into(), "0.0.0.0".into(), "--port".into()]);
        a.push(KEYSTONE_PORT.to_string());
        a.extend(["--dir".into(), CLIENT_DIR.into()]);
        if let Some(s) = self.speed {
            a.extend(["--speed".into(), s.to_string()]);
        }
        if let Some(s) = self.seed {
            a.extend(["--seed".into(), s.to_string()]);
        }
        if let Some(h) = self.advertise {
            a.extend(["--advertise".into(), h]);
        }
        a.extend(["--kube-token".into(), self.kube_token]);
        Box::new(a.into_iter())
    }
}

impl Image for MagsimCloud {
    type Args = ServeArgs;

    fn name(&self) -> String {
        NAME.into()
    }

    fn tag(&self) -> String {
        TAG.into()
    }

    /// `magsim serve` prints `export OS_CLIENT_CONFIG_FILE=...` once every server accepts
    /// connections and the client files are written.
    fn ready_conditions(&self) -> Vec<WaitFor> {
        vec![WaitFor::message_on_stdout("export ")]
    }

    fn expose_ports(&self) -> Vec<u16> {
        vec![
            KEYSTONE_PORT,
            MAGNUM_PORT,
            HEAT_PORT,
            NOVA_PORT,
            KUBERNETES_PORT,
        ]
    }
}

/// Host-side base URLs (no trailing slash) of a running [`MagsimCloud`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoints {
    pub keystone: String,
    pub magnum: String,
    pub heat: String,
    pub nova: String,
    pub kubernetes: String,
}

impl Endpoints {
    /// The published ports of `container` on `127.0.0.1`.
    pub fn of(container: &Container<'_, MagsimCloud>) -> Endpoints {
        let url = |scheme, port| {
            format!(
                "{scheme}://127.0.0.1:{}",
                container.get_host_port_ipv4(port)
            )
        };
        Endpoints {
            keystone: url("http", KEYSTONE_PORT),
            magnum: url("http", MAGNUM_PORT),
            heat: url("http", HEAT_PORT),
            nova: url("http", NOVA_PORT),
            kubernetes: url("https", KUBERNETES_PORT),
        }
    }

    /// `OS_AUTH_URL`: Keystone's `/v3/`.
    pub fn auth_url(&self) -> String {
        format!("{}/v3/", self.keystone)
    }
}

/// A kubeconfig for the mock API server at `server` (an `https://` URL) with `token` (as
/// `magsim serve` writes: context `k8s-admin@k8s`, namespace `default`). The server's CA is
/// made inside the container, so the certificate is not verified: the token is what the
/// server checks.
pub fn kubeconfig(server: &str, token: &str) -> String {
    format!(
        "apiVersion: v1
kind: Config
clusters:
- name: k8s
  cluster:
    server: {server}
    insecure-skip-tls-verify: true
contexts:
- name: k8s-admin@k8s
  context:
    cluster: k8s
    user: k8s-admin
    namespace: default
current-context: k8s-admin@k8s
preferences: {{}}
users:
- name: k8s-admin
  user:
    token: {token}
"
    )
}

/// A `clouds.yaml` with cloud [`CLOUD_NAME`] authenticating at `auth_url` (Keystone's
/// `/v3/`) with the mock's application credential, region `IU`.
pub fn clouds_yaml(auth_url: &str) -> String {
    format!(
        "clouds:\n  {CLOUD_NAME}:\n    auth_type: v3applicationcredential\n    auth:\n      auth_url: \"{auth_url}\"\n      application_credential_id: \"{APPLICATION_CREDENTIAL_ID}\"\n      application_credential_secret: \"{APPLICATION_CREDENTIAL_SECRET}\"\n    region_name: IU\n    interface: public\n    identity_api_version: 3\n"
    )
}

/// The body of `POST /v3/auth/tokens` with the mock's application credential.
pub fn token_request() -> String {
    format!(
        r#"{{"auth": {{"identity": {{"methods": ["application_credential"], "application_credential": {{"id": "{APPLICATION_CREDENTIAL_ID}", "secret": "{APPLICATION_CREDENTIAL_SECRET}"}}}}}}}}"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_args_are_the_images_serve_command() {
        let args: Vec<String> = ServeArgs::default().into_iterator().collect();
        assert_eq!(
            args,
            [
                "serve",
                "--bind",
                "0.0.0.0",
                "--port",
                "9500",
                "--dir",
                "/magsim-cloud",
                "--kube-token",
                KUBE_TOKEN,
            ]
        );
    }

    #[test]
    fn options_become_serve_flags() {
        let args = ServeArgs::default()
            .with_scenario("/scenario.yaml")
            .with_speed(60.0)
            .with_seed(7)
            .with_advertise("localhost:19500")
            .with_kube_token("mine");
        assert_eq!(args.kube_token(), "mine");
        let args: Vec<String> = args.into_iterator().collect();
        assert_eq!(args[..2], ["serve", "/scenario.yaml"]);
        let joined = args.join(" ");
        for flag in [
            "--bind 0.0.0.0 --port 9500",
            "--speed 60",
            "--seed 7",
            "--advertise localhost:19500",
            "--kube-token mine",
        ] {
            assert!(joined.contains(flag), "{joined}");
        }
        let image = MagsimCloud;
        assert_eq!(image.expose_ports(), [9500, 9501, 9502, 9503, 9504]);
        assert_eq!((image.name(), image.tag()), ("magsim".into(), "dev".into()));
    }
}
