//! The mock Jetstream2 cloud: Keystone, Magnum, Heat, Nova and Kubernetes API servers on
//! loopback that real clients (`openstack`, `kubectl`, the Python clients) accept.
//!
//! - [`MockCloud`]: every server for one scenario over one [`Live`] engine, and the
//!   `clouds.yaml` / `openrc.sh` / `kubeconfig` clients need (what `magsim serve` runs).
//! - [`kube`]: the Kubernetes API (discovery, Tables for kubectl, selectors, streaming
//!   watches, the scale subresource) answering from the engine's world.
//! - [`openstack`]: live Keystone v3, Magnum v1, Heat v1 (and Nova flavors) on loopback,
//!   answering from the shared [`Live`] engine; start them with [`openstack::start`].
//! - [`http`]: the OpenStack servers' own HTTP server (nothing kept per request, `400` for
//!   unreadable bodies and `CONNECT`).
//! - [`ca`]: the cluster's CA, shared by Magnum's certificates API and the Kubernetes API's
//!   TLS, so `openstack coe cluster config` writes a kubeconfig the mock admits.
//! - [`listen`]: bind address, fixed port layout and advertised URLs (for containers).
//! - [`record`]: the recording proxy (`magsim record`): forwards clients to a real cloud and
//!   writes what it answered, redacted, as a recording.
//! - [`recording`]: the recording format and its redaction; [`replay`]: recordings
//!   (`mocks/recordings/`) served exactly; [`journal`]: the requests every server received.
//! - [`request_log`]: one log line per answered request, on every server.
//! - [`wire`]: [`wire::WireClient`] performs an engine operation as the HTTP request(s) a real
//!   client sends to the mocks and answers with the `ApiResponse` the engine gives in memory.
//! - [`magnum_response`] / [`python_json`]: Magnum's answers as bytes on the wire, shared with
//!   the scenario runner's `--debug` output.
//!
//! ```
//! use magsim_mocks::magnum_response;
//! use magsim_sim::cloud::ApiError;
//! use magsim_sim::engine::ApiResponse;
//!
//! let e = ApiError::new(400, "cannot change cluster property(ies) labels.");
//! let r = ApiResponse { status: 400, request_id: Some("req-0a1e8dc8-1d3b-459f-8539-5241f0f854f9".into()), body: e.body(), error: Some(e) };
//! let wire = magnum_response(&r);
//! assert_eq!(wire.body.len(), 190);
//! assert!(wire.headers.contains(&("x-openstack-request-id".into(), "req-0a1e8dc8-1d3b-459f-8539-5241f0f854f9".into())));
//! ```

pub mod ca;
pub mod cloud;
pub mod cloud_config;
pub(crate) mod error_shape;
pub mod http;
pub mod journal;
pub mod kube;
pub mod listen;
pub mod live;
pub mod openstack;
pub mod record;
pub mod recording;
pub mod replay;
pub mod request_log;
mod secret;
pub mod wire;

pub use ca::ClusterCa;
pub use cloud::{ClientFiles, CloudOptions, MockCloud, Serving};
pub use kube::KubeMock;
pub use listen::Listen;
pub use live::Live;
/// The services a mock cloud serves (Keystone's catalog types, and Kubernetes).
pub use magsim_sim::cloud::faults::Service;

use magsim_sim::engine::ApiResponse;

/// Magnum's microversion range (2023.2 – 2025.1 releases, what Jetstream2 answers).
pub const MAGNUM_MIN_VERSION: &str = "1.1";
pub const MAGNUM_MAX_VERSION: &str = "1.11";

/// An HTTP response as bytes on the wire.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WireResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

/// Magnum's response: JSON serialized as Python's `json.dumps` does, microversion headers and
/// the request id header.
pub fn magnum_response(r: &ApiResponse) -> WireResponse {
    let body = python_json(&r.body);
    let mut headers = vec![
        ("Content-Length".to_string(), body.len().to_string()),
        ("Content-Type".to_string(), "application/json".to_string()),
        (
            "OpenStack-API-Maximum-Version".to_string(),
            format!("container-infra {MAGNUM_MAX_VERSION}"),
        ),
        (
            "OpenStack-API-Minimum-Version".to_string(),
            format!("container-infra {MAGNUM_MIN_VERSION}"),
        ),
        (
            "OpenStack-API-Version".to_string(),
            format!("container-infra {MAGNUM_MAX_VERSION}"),
        ),
        ("Vary".to_string(), "OpenStack-API-Version".to_string()),
    ];
    if let Some(id) = &r.request_id {
        headers.push(("x-openstack-request-id".to_string(), id.clone()));
    }
    WireResponse {
        status: r.status,
        headers,
        body,
    }
}

pub use magsim_sim::cloud::python_json;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_error_is_the_measured_190_bytes() {
        let e =
            magsim_sim::cloud::ApiError::new(400, "cannot change cluster property(ies) labels.");
        let r = ApiResponse {
            status: 400,
            request_id: None,
            body: e.body(),
            error: Some(e),
        };
        let w = magnum_response(&r);
        assert_eq!(
            w.body,
            r#"{"errors": [{"request_id": "", "code": "client", "status": 400, "title": "cannot change cluster property(ies) labels", "detail": "cannot change cluster property(ies) labels.", "links": []}]}"#
        );
        assert_eq!(w.body.len(), 190);
    }
}
