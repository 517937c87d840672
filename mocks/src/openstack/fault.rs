//! Faults a test injects into the live OpenStack servers: an endpoint that answers slowly,
//! fails with the API's own error body, or drops the request, for all or the first N
//! matching requests. The faults a scenario declares (`faults:`) are served by the same
//! responder. (Expired
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
use magsim_sim::cloud::faults::{keystone_error, magnum_error, reason_phrase, FaultEffect};
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
    /// No answer: the connection closes.
    Drop,
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

/// What a dropped request unwinds with.
struct ConnectionDropped;

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
        let reason = reason_phrase(status);
        let wire = match self.service {
            Service::ContainerInfra => super::json_response(status, &magnum_error(status).body())
                .insert_header(
                    "x-openstack-request-id",
                    &magnum::pinned_request_id(req).unwrap_or_else(|| self.state.request_id()),
                ),
            Service::Identity => super::json_response(status, &keystone_error(status)),
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

/// A service's catch-all: first the faults the scenario declares (`faults.requests`, kept in
/// the engine's world so `magsim run` and `magsim serve` count the same requests), then the
/// real answer.
pub(crate) struct Declared {
    pub service: Service,
    pub state: Arc<State>,
    /// Whether the scenario declares any request fault (else the engine is not asked).
    pub any: bool,
}

impl Respond for Declared {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let start = std::time::Instant::now();
        let answer = self.answer(req);
        crate::request_log::answered(
            self.service.as_str(),
            req.method.as_str(),
            req.url.path(),
            status_of(&answer),
            start.elapsed(),
        );
        answer
    }
}

/// The status of a template: wiremock keeps it private, and its `Debug` form is the only
/// reading it offers (`status_code: 200`).
fn status_of(t: &ResponseTemplate) -> u16 {
    let text = format!("{t:?}");
    text.split_once("status_code: ")
        .and_then(|(_, rest)| rest.get(..3))
        .and_then(|code| code.parse().ok())
        .unwrap_or(0)
}

impl Declared {
    fn answer(&self, req: &Request) -> ResponseTemplate {
        let effect = self
            .any
            .then(|| {
                self.state.live.mutate(|e| {
                    let now = e.now();
                    e.world
                        .faults
                        .hit(now, self.service, req.method.as_str(), req.url.path())
                })
            })
            .flatten();
        let kind = match effect {
            Some(FaultEffect::Error(s)) => FaultKind::Error(s),
            Some(FaultEffect::Latency(d)) => {
                FaultKind::Latency(Duration::from_millis(d.as_millis()))
            }
            Some(FaultEffect::Drop) => FaultKind::Drop,
            None => FaultKind::Latency(Duration::ZERO),
        };
        Faulty {
            service: self.service,
            kind,
            state: self.state.clone(),
        }
        .respond(req)
    }
}

impl Respond for Faulty {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        match &self.kind {
            FaultKind::Latency(d) if d.is_zero() => self.real(req),
            FaultKind::Latency(d) => self.real(req).set_delay(*d),
            FaultKind::Error(status) => self.error(*status, req),
            // wiremock cannot close a connection unanswered, but unwinding out of the
            // responder ends the connection's task, and the socket closes without a byte
            // written. `resume_unwind` skips the panic hook: nothing is printed.
            FaultKind::Drop => std::panic::resume_unwind(Box::new(ConnectionDropped)),
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

#[cfg(test)]
mod tests {
    #[test]
    fn the_request_log_reads_a_templates_status() {
        for code in [200, 302, 404, 503] {
            assert_eq!(
                super::status_of(&wiremock::ResponseTemplate::new(code)),
                code
            );
        }
    }
}
