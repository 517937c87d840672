//! The mock Kubernetes API server in live mode: a streaming HTTP/1.1 server on loopback whose
//! objects are the engine's world (nodes, pods, deployments and their ReplicaSets, events,
//! ConfigMaps, namespaces, and the Cluster API objects of a magnum-capi-helm cluster), enough
//! for `kubectl get/describe/scale/annotate/create/replace`, the Python `kubernetes` client,
//! kube-rs, and upstream's cluster-autoscaler 1.30.2 run unmodified against it (every list
//! and watch its informers start, leader election, its status and events, the clusterapi
//! provider's scale and bounds); see `reference/kube-api-surface.md`.
//!
//! - [`discovery`]: `/version`, aggregated and legacy discovery of every served group
//!   (core, `apps`, `batch`, `policy`, `storage.k8s.io`, `coordination.k8s.io`,
//!   `cluster.x-k8s.io/v1beta1`);
//! - [`objects`]: the world as API JSON, [`capi`]: Cluster, MachineDeployment, MachineSet and
//!   Machine; [`store`]: resourceVersions and change history;
//! - [`table`]: `meta.k8s.io/v1` Tables for kubectl; [`select`]: field and label selectors;
//! - [`watch`]: streaming watches; [`status`]: `Status` errors; [`server`]: routing;
//! - [`body`]: request bodies (JSON, merge patches), [`json_patch`]: RFC 6902,
//!   [`protobuf`]: client-go's protobuf bodies; `admission`: kube-apiserver's checks of a
//!   written object (kind, name and namespace against the URL, RFC 1123 names);
//! - [`auth`]: with [`KubeOptions::secure`], TLS from the server's own CA and the
//!   kubeconfig's bearer token required (`401 Unauthorized` otherwise);
//! - writes: [`scale`] (Deployments and MachineDeployments), [`events`], [`configmaps`],
//!   [`secrets`] (the engine's own), [`deployments`] (through the engine: workloads, or a
//!   simulated in-cluster cluster-autoscaler), [`writes`] (kinds kept as written, among them
//!   ServiceAccounts and the RBAC roles and bindings; MachineDeployment annotations; deletes).
//!
//! Writes, each one [`magsim_sim::engine::Engine::apply`] inside [`Live::mutate`]:
//! `PATCH`/`PUT` of `deployments/{name}/scale` (`kubectl scale`) and of
//! `machinedeployments/{name}/scale` (the clusterapi provider); `PATCH` (merge,
//! strategic-merge or JSON patch) and `PUT` of a MachineDeployment, of which its annotations
//! and `spec.replicas` are kept (`kubectl annotate ... node-group-max-size=6` changes the
//! bound the provider reads); `POST` of events (and `PATCH` of a stored one: one more
//! occurrence); `POST`/`PUT`/`DELETE` of ConfigMaps; `POST`/`PUT`/`PATCH`/`DELETE` of
//! Deployments (read as a scenario manifest is: a workload is the engine's, with its
//! ReplicaSet and pods; a cluster-autoscaler one a simulated in-cluster autoscaler) and Secrets
//! (the engine's: what a simulated autoscaler mounts); create, replace, patch and delete of
//! the kinds nothing simulated reads (Leases, Services, PVs, PVCs, DaemonSets, StatefulSets,
//! Jobs, PDBs, storage kinds, ServiceAccounts, Roles, ClusterRoles and their bindings; kept as
//! written with optimistic concurrency); `DELETE` of a pod; and a
//! `PATCH` of a node's `spec.unschedulable` (`kubectl cordon`). Every other write is
//! `405 MethodNotAllowed`. Server-side writes add nothing to the engine's trace (the client
//! logs its own actions); the controllers they set off do, as for in-memory changes. Bad input
//! (malformed JSON or protobuf, a wrong Content-Type, a body over 3 MiB, unknown paths or
//! selector fields, an unacceptable Accept) is answered with a `Status`.
//!
//! Determinism: objects are rendered from the engine only (timestamps from its virtual clock
//! and the scenario's epoch, Table ages against the virtual "now", uids of objects the engine
//! does not store derived from their names), so the same world gives the same bytes. Posted
//! events are stored at the virtual time and named by the server; a client's names and
//! timestamps are not kept. ResourceVersions come from [`Live`]'s change counter (see
//! [`store`]).
//!
//! Not served: OpenAPI schemas ([`openapi`] says only which kinds take `fieldValidation`),
//! logs/exec/port-forward, infrastructure templates
//! (OpenStackMachineTemplate: a MachineDeployment's template names no `infrastructureRef`, so
//! the clusterapi provider's scale from zero reads only its capacity annotations, as CAPO's
//! templates publish no `status.capacity` anyway), MachinePools. Lists page with `limit` and
//! `continue` as kube-apiserver does ([`paging`]). Objects of the stored kinds are not seen
//! by the engine: a PDB or DaemonSet a client creates reaches a real autoscaler but not the
//! simulated one.

mod admission;
mod apply;
pub mod auth;
pub mod body;
pub mod capi;
pub mod configmaps;
pub mod deployments;
pub mod discovery;
pub mod events;
mod eviction;
pub mod fault;
pub mod json_patch;
mod kubelet;
mod managed;
mod metadata;
mod namespaces;
mod nodes;
pub mod objects;
pub mod openapi;
pub mod paging;
pub mod protobuf;
mod protobuf_pod;
pub mod scale;
pub mod schema;
pub mod secrets;
pub mod select;
pub mod server;
pub mod status;
pub mod store;
mod strategic;
pub mod table;
pub mod watch;
pub mod writes;

use crate::ca::ClusterCa;
use crate::listen::Listen;
use crate::Live;
use crate::Service;
use magsim_sim::cloud::faults::RequestFault;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

/// A running mock API server. Dropping it stops the server and ends open watches.
pub struct KubeMock {
    /// What clients use: `http://127.0.0.1:PORT` unless [`KubeOptions::listen`] advertises
    /// another address.
    pub url: String,
    /// The address bound.
    pub addr: SocketAddr,
    shutdown: tokio::sync::watch::Sender<bool>,
    server: tokio::task::JoinHandle<()>,
    app: Arc<server::App>,
}

/// The `HOST` of a URL (`http://HOST:PORT`, `https://[::1]:PORT`).
fn url_host(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split('/').next().unwrap_or(rest);
    match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(v6).to_string(),
        None => authority
            .rsplit_once(':')
            .map_or(authority, |(h, _)| h)
            .to_string(),
    }
}

/// Server settings; [`KubeMock::start`] uses the defaults.
#[derive(Clone, Debug)]
pub struct KubeOptions {
    /// How many changes watches can replay from before answering `410 Expired`.
    pub watch_history: usize,
    /// How long a watch without `timeoutSeconds` stays open.
    pub watch_timeout: std::time::Duration,
    /// Where to listen and what URL to advertise (the [`Service::Kubernetes`] slot).
    pub listen: Listen,
    /// Serve `https://` with a certificate of the server's own CA and admit only requests
    /// bearing the kubeconfig's token ([`auth`]); off by default (plain http, anyone).
    pub secure: bool,
    /// With `secure`, the token to require (default: a random one).
    pub token: Option<String>,
    /// With `secure`, the CA that signs the server's certificate and the client certificates
    /// it admits: the one Magnum's certificates API signs with ([`crate::MockCloud`] shares
    /// it). Default: a CA of the server's own.
    pub ca: Option<ClusterCa>,
}

impl Default for KubeOptions {
    fn default() -> KubeOptions {
        KubeOptions {
            watch_history: store::HISTORY,
            watch_timeout: server::DEFAULT_WATCH_TIMEOUT,
            listen: Listen::default(),
            secure: false,
            token: None,
            ca: None,
        }
    }
}

/// The context name written to kubeconfigs (Magnum's `<user>@<cluster>` style).
pub const CONTEXT: &str = "k8s-admin@k8s";

impl KubeMock {
    /// Serves `live` on `127.0.0.1` at a free port. Must be called inside a tokio runtime.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// use magsim_mocks::{kube::KubeMock, Live};
    /// let (file, text) = magsim_scenario::builtin()[0];
    /// let scenario = magsim_scenario::parse(file, text).expect("built-in scenario");
    /// let live = Live::new(&scenario, None);
    /// let kube = KubeMock::start(live).await?;
    /// assert!(kube.url.starts_with("http://127.0.0.1:"));
    /// let kubeconfig = std::env::temp_dir().join(format!("magsim-doc-{}.yaml", kube.addr.port()));
    /// kube.write_kubeconfig(&kubeconfig)?;
    /// assert!(std::fs::read_to_string(&kubeconfig)?.contains("k8s-admin@k8s"));
    /// # std::fs::remove_file(&kubeconfig)?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn start(live: Live) -> std::io::Result<KubeMock> {
        KubeMock::start_with(live, KubeOptions::default()).await
    }

    /// [`KubeMock::start`] with explicit settings.
    pub async fn start_with(live: Live, options: KubeOptions) -> std::io::Result<KubeMock> {
        let listener = options.listen.bind(Service::Kubernetes)?;
        listener.set_nonblocking(true)?;
        let listener = tokio::net::TcpListener::from_std(listener)?;
        let addr = listener.local_addr()?;
        let mut url = options.listen.url(Service::Kubernetes, addr);
        let auth = match options.secure {
            true => {
                url = url.replacen("http://", "https://", 1);
                let ca = match &options.ca {
                    Some(ca) => ca.clone(),
                    None => ClusterCa::generate("kubernetes").map_err(std::io::Error::other)?,
                };
                let auth = auth::KubeAuth::new(&ca, &[url_host(&url)], options.token.clone())
                    .map_err(std::io::Error::other)?;
                Some(auth)
            }
            false => None,
        };
        let (shutdown, shutdown_rx) = tokio::sync::watch::channel(false);
        let app = Arc::new(server::App {
            live,
            store: store::Store::with_history(options.watch_history),
            watch_timeout: options.watch_timeout,
            shutdown: shutdown_rx.clone(),
            address: url.split_once("://").map_or(&*url, |(_, a)| a).to_string(),
            auth,
            faults: fault::Injected::default(),
            two_writers: Default::default(),
        });
        // Render the world before the first request, so no client's first LIST pays for it.
        drop(app.store.sync(&app.live));
        let router = axum::Router::new()
            .fallback(server::handle)
            .with_state(app.clone());
        let mut stop = shutdown_rx;
        if let Some(a) = &app.auth {
            let serving = auth::serve_tls(listener, router, a.acceptor.clone(), stop);
            return Ok(KubeMock {
                url,
                addr,
                shutdown,
                server: tokio::spawn(serving),
                app,
            });
        }
        let server = tokio::spawn(async move {
            let graceful = async move {
                while !*stop.borrow() {
                    if stop.changed().await.is_err() {
                        break;
                    }
                }
            };
            use axum::serve::ListenerExt;
            // Watch events are small writes: send each at once.
            let listener = listener.tap_io(|tcp| {
                let _ = tcp.set_nodelay(true);
            });
            if let Err(e) = axum::serve(listener, router)
                .with_graceful_shutdown(graceful)
                .await
            {
                tracing::warn!("kube mock server stopped: {e}");
            }
        });
        Ok(KubeMock {
            url,
            addr,
            shutdown,
            server,
            app,
        })
    }

    /// The kubeconfig for this server: cluster `k8s`, a token user, context [`CONTEXT`],
    /// namespace `default`; when secure, the server's CA and its token.
    pub fn kubeconfig(&self) -> String {
        match &self.app.auth {
            Some(a) => secure_kubeconfig(&self.url, &a.ca_pem, &a.token),
            None => kubeconfig(&self.url),
        }
    }

    /// The CA and token of a secure server ([`KubeOptions::secure`]).
    pub fn auth(&self) -> Option<&auth::KubeAuth> {
        self.app.auth.as_ref()
    }

    /// Writes [`KubeMock::kubeconfig`] to `path`.
    pub fn write_kubeconfig(&self, path: &Path) -> std::io::Result<()> {
        std::fs::write(path, self.kubeconfig())
    }

    /// Makes matching requests answer late, fail with a `Status` (client-go's reason and
    /// message for the code), or lose their connection, on the virtual clock's window and
    /// for the first N if the fault says so. A fault on another service is refused.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use magsim_sim::cloud::faults::{FaultEffect, RequestFault, Service};
    /// let (file, text) = magsim_scenario::builtin()[0];
    /// let scenario = magsim_scenario::parse(file, text).unwrap();
    /// let kube = magsim_mocks::kube::KubeMock::start(magsim_mocks::Live::new(&scenario, None))
    ///     .await
    ///     .unwrap();
    /// let pods = "/api/v1/namespaces/default/pods";
    /// kube.inject(RequestFault::new(Service::Kubernetes, FaultEffect::Error(503)).on("GET", pods).times(1))
    ///     .unwrap();
    /// # }
    /// ```
    pub fn inject(&self, fault: RequestFault) -> Result<(), fault::KubeFaultError> {
        self.app.faults.add(fault)
    }

    /// Stops accepting requests and ends open watches.
    pub fn stop(&self) {
        let _ = self.shutdown.send(true);
    }
}

impl Drop for KubeMock {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
        self.server.abort();
    }
}

/// A kubeconfig pointing at a secure server: its `https://` URL, the CA that signed its
/// certificate (PEM) and the bearer token it requires.
pub fn secure_kubeconfig(server: &str, ca_pem: &str, token: &str) -> String {
    use base64::Engine as _;
    let ca = base64::engine::general_purpose::STANDARD.encode(ca_pem);
    kubeconfig(server)
        .replacen(
            &format!("    server: {server}\n"),
            &format!("    server: {server}\n    certificate-authority-data: {ca}\n"),
            1,
        )
        .replacen(
            "    token: magsim-token\n",
            &format!("    token: {token}\n"),
            1,
        )
}

/// A kubeconfig pointing at `server`, an `http://` URL of a server that admits anyone
/// (kubectl sends no token over plain http; the placeholder token is never checked).
pub fn kubeconfig(server: &str) -> String {
    format!(
        "apiVersion: v1
kind: Config
clusters:
- name: k8s
  cluster:
    server: {server}
contexts:
- name: {CONTEXT}
  context:
    cluster: k8s
    user: k8s-admin
    namespace: default
current-context: {CONTEXT}
preferences: {{}}
users:
- name: k8s-admin
  user:
    token: magsim-token
"
    )
}
