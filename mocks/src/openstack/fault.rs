//! Faults a test injects into the live OpenStack servers: an endpoint that answers slowly, or
//! fails with the API's own error body, for all or the first N matching requests. (Expired
//! tokens: [`OpenStackMock::revoke_tokens`] or a short [`super::Options::token_lifetime`].)
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use magsim_mocks::openstack::{Fault, FaultKind};
//! use magsim_mocks::replay::Service;
//! let (file, text) = magsim_scenario::builtin()[0];
//! let scenario = magsim_scenario::parse(file, text).unwrap();
//! let mock = magsim_mocks::openstack::start(magsim_mocks::Live::new(&scenario, None)).await;
//! // The next two resizes fail as an overloaded Magnum would.
//! mock.inject(Fault::new(Service::ContainerInfra, FaultKind::Error(503))
//!     .on("POST", "/v1/clusters/k8s/actions/resize")
//!     .times(2))
//!     .await
//!     .unwrap();
//! # });
//! ```

use super::{heat, keystone, magnum, nova, OpenStackMock, State};
use crate::replay::Service;
use magsim_sim::cloud::ApiError;
use std::sync::Arc;
use std::time::Duration;
use wiremock::matchers::{any, method, path};
use wiremock::{Mock, Request, Respond, ResponseTemplate};

/// What goes wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FaultKind {
    /// The real answer, this much later.
    Latency(Duration),
    /// This status with the service's own error body (Magnum's `{"errors": [...]}` with a
    /// request id, Keystone's `{"error": ...}`, Heat's fault, Nova's `computeFault`).
    Error(u16),
}

/// A fault on one service, optionally only for one method and path, optionally only N times.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fault {
    pub service: Service,
    pub kind: FaultKind,
    pub method: Option<String>,
    pub path: Option<String>,
    pub times: Option<u64>,
}

impl Fault {
    /// Every request to `service`, until the server is reset.
    pub fn new(service: Service, kind: FaultKind) -> Fault {
        Fault {
            service,
            kind,
            method: None,
            path: None,
            times: None,
        }
    }

    /// Only requests with this method and exact path.
    pub fn on(mut self, method: &str, path: &str) -> Fault {
        self.method = Some(method.to_ascii_uppercase());
        self.path = Some(path.to_string());
        self
    }

    /// Only the first `n` matching requests.
    pub fn times(mut self, n: u64) -> Fault {
        self.times = Some(n);
        self
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FaultError {
    #[error(
        "the OpenStack mock has no {0} server (faults on Kubernetes go to the Kubernetes mock)"
    )]
    NoServer(&'static str),
    #[error("{0} is not an error status: expected 400-599")]
    NotAnError(u16),
}

/// Answers as the service itself would, after a delay or with an error.
struct Faulty {
    service: Service,
    kind: FaultKind,
    state: Arc<State>,
}

impl Faulty {
    fn real(&self, req: &Request) -> ResponseTemplate {
        let st = self.state.clone();
        match self.service {
            Service::Identity => keystone::Keystone(st).respond(req),
            Service::ContainerInfra => magnum::Magnum(st).respond(req),
            Service::Orchestration => heat::Heat(st).respond(req),
            _ => nova::Nova(st).respond(req),
        }
    }

    fn error(&self, status: u16, req: &Request) -> ResponseTemplate {
        let reason = axum::http::StatusCode::from_u16(status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("Error");
        let wire = match self.service {
            Service::ContainerInfra => {
                let e = ApiError::new(status, format!("{reason}."));
                super::json_response(status, &e.body())
                    .insert_header("x-openstack-request-id", &self.state.request_id())
            }
            Service::Identity => {
                super::json_response(status, &keystone::error_body(status, reason, reason))
            }
            Service::Orchestration => super::json_response(
                status,
                &heat::fault_body(status, reason, reason, reason, "HTTPException"),
            ),
            _ => super::json_response(
                status,
                &serde_json::json!({"computeFault": {"code": status, "message": reason}}),
            ),
        };
        self.state.record(self.service, req, wire)
    }
}

impl Respond for Faulty {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        match &self.kind {
            FaultKind::Latency(d) => self.real(req).set_delay(*d),
            FaultKind::Error(status) => self.error(*status, req),
        }
    }
}

impl OpenStackMock {
    /// Mounts `fault` over the service's normal answers (ahead of them, like a test's own
    /// wiremock `Mock`). [`OpenStackMock::forget_matched_requests`] removes it.
    pub async fn inject(&self, fault: Fault) -> Result<(), FaultError> {
        let server = self
            .server(fault.service)
            .ok_or(FaultError::NoServer(fault.service.as_str()))?;
        if let FaultKind::Error(s) = fault.kind {
            if !(400..=599).contains(&s) {
                return Err(FaultError::NotAnError(s));
            }
        }
        let mut m = Mock::given(any());
        if let Some(x) = &fault.method {
            m = m.and(method(x.as_str()));
        }
        if let Some(p) = &fault.path {
            m = m.and(path(p.as_str()));
        }
        let mut m = m.respond_with(Faulty {
            service: fault.service,
            kind: fault.kind,
            state: self.state.clone(),
        });
        if let Some(n) = fault.times {
            m = m.up_to_n_times(n);
        }
        m.mount(server).await;
        Ok(())
    }
}
