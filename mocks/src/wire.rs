//! [`WireClient`]: an engine [`Operation`] performed as the HTTP request(s) a real client sends
//! to the running mocks, and the answer turned back into the [`ApiResponse`] that
//! [`Engine::apply`](magsim_sim::engine::Engine::apply) returns in memory for the same
//! operation and request id (what `magsim run --wire` needs to send scenario steps over the
//! wire and still compare with the in-memory run).
//!
//! - Magnum operations go to the Magnum mock as python-magnumclient sends them (token from
//!   Keystone with the application credential, `OpenStack-API-Version: container-infra latest`,
//!   JSON Patch lists and resize bodies as `openstack coe ...` builds them). A given request id
//!   travels as `X-OpenStack-Request-ID`, which the mock pins (see
//!   [`crate::openstack::magnum`]), so the engine draws no random id for it.
//! - Kubernetes operations go to the Kubernetes mock as kubectl sends them: a merge patch of
//!   the deployment's `scale` subresource, a pod `DELETE`, a strategic-merge patch of a node's
//!   `spec.unschedulable`.
//! - Every other operation has no API a client reaches in the mocks: it is applied directly
//!   through [`Live::mutate`] ([`over_the_wire`] says which ops travel as HTTP).
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use magsim_sim::engine::Operation;
//! let (file, text) = magsim_scenario::builtin()[0];
//! let scenario = magsim_scenario::parse(file, text).unwrap();
//! let cloud = magsim_mocks::MockCloud::start(&scenario, None).await.unwrap();
//! let mut client = magsim_mocks::wire::WireClient::new(&cloud).unwrap();
//! let id = "req-0a1e8dc8-1d3b-459f-8539-5241f0f854f9".to_string();
//! let op = Operation::ShowCluster { cluster: "k8s".into() };
//! let r = client.apply(op, Some(id.clone())).await.unwrap();
//! assert_eq!((r.status, r.request_id), (200, Some(id)));
//! assert_eq!(r.body["name"], "k8s");
//! # });
//! ```

mod autoscaler;

pub use autoscaler::AutoscalerClient;

use crate::{Live, MockCloud};
use magsim_sim::cloud::ApiError;
use magsim_sim::engine::{ApiResponse, Operation};
use reqwest::{Method, Response};
use serde_json::{json, Value};

/// Why an operation got no API answer to turn into an [`ApiResponse`].
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    #[error(transparent)]
    Http(#[from] reqwest::Error),
    #[error("{url} answered {status} with a body that is not JSON")]
    NotJson { url: String, status: u16 },
    #[error("Keystone answered {0} to the application credential, with no token")]
    Auth(u16),
}

/// Fields the Magnum mock adds to the engine's cluster and nodegroup bodies
/// ([`crate::openstack::magnum::cluster_body`], [`crate::openstack::magnum::nodegroup_body`]).
const SERVER_FIELDS: [&str; 4] = ["links", "user_id", "created_at", "updated_at"];

const MERGE_PATCH: &str = "application/merge-patch+json";
const STRATEGIC_MERGE_PATCH: &str = "application/strategic-merge-patch+json";

/// Whether `op` travels as HTTP ([`WireClient::apply`]); the rest go through [`Live::mutate`].
pub fn over_the_wire(op: &Operation) -> bool {
    matches!(
        op,
        Operation::ShowCluster { .. }
            | Operation::ShowNodegroup { .. }
            | Operation::UpdateCluster { .. }
            | Operation::UpdateNodegroup { .. }
            | Operation::CreateNodegroup { .. }
            | Operation::DeleteNodegroup { .. }
            | Operation::Resize { .. }
            | Operation::ScaleDeployment { .. }
            | Operation::DeletePod { .. }
            | Operation::Cordon { .. }
    )
}

/// A client of one [`MockCloud`]: its Keystone token, cached, and the engine for the
/// operations no API reaches.
pub struct WireClient {
    http: reqwest::Client,
    live: Live,
    keystone: String,
    magnum: String,
    kube: String,
    credential_id: String,
    credential_secret: String,
    token: Option<String>,
}

impl WireClient {
    pub fn new(cloud: &MockCloud) -> Result<WireClient, WireError> {
        let os = &cloud.openstack;
        Ok(WireClient {
            http: reqwest::Client::builder().build()?,
            live: cloud.live.clone(),
            keystone: os.urls.keystone.clone(),
            magnum: os.urls.magnum.clone(),
            kube: cloud.kube.url.clone(),
            credential_id: os.credentials.application_credential_id.clone(),
            credential_secret: os.credentials.application_credential_secret.clone(),
            token: None,
        })
    }

    /// Performs `op` and answers as `Engine::apply(op, request_id)` does. `Err` only when no
    /// HTTP answer came back (or Keystone gave no token); API errors are `Ok` responses with
    /// `error` set, as in memory.
    pub async fn apply(
        &mut self,
        op: Operation,
        request_id: Option<String>,
    ) -> Result<ApiResponse, WireError> {
        let magnum = |path: String| format!("/v1/clusters/{path}");
        let patch_list = |patch: &[magsim_sim::cloud::PatchOperation]| {
            Value::Array(patch.iter().map(|p| p.to_json()).collect())
        };
        let (method, path, body) = match op {
            Operation::ShowCluster { cluster } => (Method::GET, magnum(cluster), None),
            Operation::ShowNodegroup { cluster, nodegroup } => (
                Method::GET,
                magnum(format!("{cluster}/nodegroups/{nodegroup}")),
                None,
            ),
            Operation::UpdateCluster { cluster, patch } => {
                (Method::PATCH, magnum(cluster), Some(patch_list(&patch)))
            }
            Operation::UpdateNodegroup {
                cluster,
                nodegroup,
                patch,
            } => (
                Method::PATCH,
                magnum(format!("{cluster}/nodegroups/{nodegroup}")),
                Some(patch_list(&patch)),
            ),
            Operation::CreateNodegroup { cluster, body } => (
                Method::POST,
                magnum(format!("{cluster}/nodegroups")),
                Some(body),
            ),
            Operation::DeleteNodegroup { cluster, nodegroup } => (
                Method::DELETE,
                magnum(format!("{cluster}/nodegroups/{nodegroup}")),
                None,
            ),
            Operation::Resize {
                cluster,
                node_count,
                nodegroup,
                nodes_to_remove,
            } => {
                // Keys as `openstack coe cluster resize` sends them (crates/runner cli.rs).
                let mut b = serde_json::Map::new();
                b.insert("node_count".into(), node_count.into());
                if !nodes_to_remove.is_empty() {
                    b.insert("nodes_to_remove".into(), nodes_to_remove.into());
                }
                if let Some(ng) = nodegroup {
                    b.insert("nodegroup".into(), ng.into());
                }
                let path = magnum(format!("{cluster}/actions/resize"));
                (Method::POST, path, Some(Value::Object(b)))
            }
            Operation::ScaleDeployment {
                namespace,
                name,
                replicas,
            } => {
                let path = format!("/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale");
                let patch = json!({"spec": {"replicas": replicas}});
                return self
                    .kube(Method::PATCH, &path, Some((MERGE_PATCH, patch)))
                    .await;
            }
            Operation::DeletePod { namespace, name } => {
                let path = format!("/api/v1/namespaces/{namespace}/pods/{name}");
                return self.kube(Method::DELETE, &path, None).await;
            }
            Operation::Cordon {
                node,
                unschedulable,
            } => {
                // kubectl's two-way merge patch: uncordon removes the field (null).
                let patch = json!({"spec": {"unschedulable": unschedulable.then_some(true)}});
                let path = format!("/api/v1/nodes/{node}");
                return self
                    .kube(Method::PATCH, &path, Some((STRATEGIC_MERGE_PATCH, patch)))
                    .await;
            }
            // No API a client reaches in the mocks: the operator's levers, manifests kubectl
            // would create (the Kubernetes mock serves no creates), the autoscaler itself.
            op => {
                debug_assert!(!over_the_wire(&op));
                return Ok(self.live.mutate(|e| e.apply(op, request_id)));
            }
        };
        self.magnum(method, &path, body, request_id.as_deref())
            .await
    }

    /// A Magnum request as python-magnumclient sends it, re-authenticating once on `401`
    /// (an expired or revoked token), as keystoneauth does.
    async fn magnum(
        &mut self,
        method: Method,
        path: &str,
        body: Option<Value>,
        request_id: Option<&str>,
    ) -> Result<ApiResponse, WireError> {
        let url = format!("{}{path}", self.magnum);
        let mut fresh_token = false;
        let resp = loop {
            fresh_token |= self.token.is_none();
            let token = self.token().await?;
            let mut rb = self
                .http
                .request(method.clone(), &url)
                .header("Accept", "application/json")
                .header("OpenStack-API-Version", "container-infra latest")
                .header("X-Auth-Token", token);
            if let Some(id) = request_id {
                rb = rb.header("X-OpenStack-Request-ID", id);
            }
            if let Some(b) = &body {
                rb = rb
                    .header("Content-Type", "application/json")
                    .body(crate::python_json(b));
            }
            let resp = rb.send().await?;
            if resp.status() != 401 || fresh_token {
                break resp;
            }
            self.token = None;
        };
        let status = resp.status().as_u16();
        let request_id = resp
            .headers()
            .get("x-openstack-request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let mut body = json_body(resp).await?;
        let error = (status >= 400).then(|| {
            let detail = body["errors"][0]["detail"]
                .as_str()
                // keystonemiddleware's 401 has Keystone's body.
                .or_else(|| body["error"]["message"].as_str())
                .unwrap_or_default();
            ApiError::new(status, detail)
        });
        if let (None, Some(o)) = (&error, body.as_object_mut()) {
            for k in SERVER_FIELDS {
                o.shift_remove(k);
            }
        }
        Ok(ApiResponse {
            status,
            request_id,
            body,
            error,
        })
    }

    /// A Kubernetes request as kubectl sends it. The engine's answers to these operations
    /// carry no object (the server renders it from the world) and its errors are an
    /// [`ApiError`] with the `Status` message, so only the status and message come back.
    async fn kube(
        &self,
        method: Method,
        path: &str,
        patch: Option<(&str, Value)>,
    ) -> Result<ApiResponse, WireError> {
        let mut rb = self
            .http
            .request(method, format!("{}{path}", self.kube))
            .header("Accept", "application/json");
        if let Some((content_type, p)) = patch {
            rb = rb.header("Content-Type", content_type).body(p.to_string());
        }
        let resp = rb.send().await?;
        let status = resp.status().as_u16();
        if resp.status().is_success() {
            return Ok(ApiResponse {
                status,
                request_id: None,
                body: Value::Null,
                error: None,
            });
        }
        let status_body = json_body(resp).await?;
        let e = ApiError::new(status, status_body["message"].as_str().unwrap_or_default());
        Ok(ApiResponse {
            status,
            request_id: None,
            body: e.body(),
            error: Some(e),
        })
    }

    /// The cached token, or a new one for the application credential (what
    /// python-openstackclient's `v3applicationcredential` auth sends).
    async fn token(&mut self) -> Result<String, WireError> {
        if let Some(t) = &self.token {
            return Ok(t.clone());
        }
        let auth = json!({"auth": {"identity": {
            "methods": ["application_credential"],
            "application_credential": {"id": self.credential_id, "secret": self.credential_secret},
        }}});
        let resp = self
            .http
            .post(format!("{}/v3/auth/tokens", self.keystone))
            .header("Content-Type", "application/json")
            .body(auth.to_string())
            .send()
            .await?;
        let token = resp
            .headers()
            .get("X-Subject-Token")
            .and_then(|v| v.to_str().ok())
            .filter(|_| resp.status() == 201)
            .ok_or(WireError::Auth(resp.status().as_u16()))?
            .to_string();
        self.token = Some(token.clone());
        Ok(token)
    }
}

async fn json_body(resp: Response) -> Result<Value, WireError> {
    let (url, status) = (resp.url().to_string(), resp.status().as_u16());
    let bytes = resp.bytes().await?;
    if status == 204 && bytes.is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_slice(&bytes).map_err(|_| WireError::NotJson { url, status })
}
