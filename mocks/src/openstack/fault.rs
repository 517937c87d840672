//! Faults a test injects into the live OpenStack servers: an endpoint that answers slowly,
//! fails with the API's own error body, or drops the request, for all or the first N
//! matching requests. The faults a scenario declares (`faults:`) are served by the same
//! responder. (Expired
//! tokens: [`OpenStackMock::revoke_tokens`] or a short [`super::Options::token_lifetime`].)
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use magsim_mocks::openstack::{Fault, FaultKind};
//! use magsim_mocks::Service;
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

use super::{heat, keystone, magnum, nova, OpenStackMock, State, Wire};
use crate::http::{Handler, Reply};
use crate::Service;
use magsim_sim::cloud::faults::{keystone_error, magnum_error, reason_phrase, FaultEffect};
use std::sync::Arc;
use std::time::Duration;
use wiremock::Request;

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
    /// Every request to `service`, until [`OpenStackMock::clear_faults`].
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

/// An injected fault and how many more requests it answers (`None`: every one).
#[derive(Clone, Debug)]
pub(crate) struct Injected {
    fault: Fault,
    left: Option<u64>,
}

impl Injected {
    fn matches(&self, service: Service, req: &Request) -> bool {
        let f = &self.fault;
        f.service == service
            && f.method.as_deref().is_none_or(|m| m == req.method.as_str())
            && f.path.as_deref().is_none_or(|p| p == req.url.path())
            && self.left != Some(0)
    }
}

/// Answers as the service itself would, after a delay or with an error.
struct Faulty {
    service: Service,
    kind: FaultKind,
    state: Arc<State>,
}

impl Faulty {
    fn real(&self, req: &Request) -> Wire {
        let st = self.state.clone();
        match self.service {
            Service::Identity => keystone::Keystone(st).respond(req),
            Service::ContainerInfra => magnum::Magnum(st).respond(req),
            Service::Orchestration => heat::Heat(st).respond(req),
            _ => nova::Nova(st).respond(req),
        }
    }

    fn respond(&self, req: &Request) -> Reply {
        match &self.kind {
            FaultKind::Latency(delay) => Reply::Send {
                wire: self.real(req),
                delay: *delay,
            },
            FaultKind::Error(status) => error(&self.state, self.service, *status, req).into(),
            FaultKind::Drop => Reply::Drop,
        }
    }
}

/// `status` with `service`'s own error body (journaled).
fn error(state: &State, service: Service, status: u16, req: &Request) -> Wire {
    let reason = reason_phrase(status);
    let wire = match service {
        Service::ContainerInfra => super::json_response(status, &magnum_error(status).body())
            .insert_header(
                "x-openstack-request-id",
                &magnum::fixed_request_id(&state.live, req).unwrap_or_else(|| state.request_id()),
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
    state.record(service, req, wire)
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

impl Handler for Declared {
    fn service(&self) -> Service {
        self.service
    }

    fn answer(&self, req: &Request) -> Reply {
        self.answer(req)
    }

    fn bad_request(&self, req: &Request, _why: &str) -> Wire {
        error(&self.state, self.service, 400, req)
    }
}

impl Declared {
    fn answer(&self, req: &Request) -> Reply {
        if let Some(kind) = self.injected(req) {
            return self.faulty(kind).respond(req);
        }
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
        self.faulty(kind).respond(req)
    }

    fn faulty(&self, kind: FaultKind) -> Faulty {
        Faulty {
            service: self.service,
            kind,
            state: self.state.clone(),
        }
    }

    /// The first injected fault (in injection order) that matches and has answers left,
    /// counted.
    fn injected(&self, req: &Request) -> Option<FaultKind> {
        let mut injected = self.state.injected();
        let hit = injected.iter_mut().find(|i| i.matches(self.service, req))?;
        if let Some(n) = &mut hit.left {
            *n -= 1;
        }
        let kind = hit.fault.kind.clone();
        injected.retain(|i| i.left != Some(0));
        Some(kind)
    }
}

impl OpenStackMock {
    /// Puts `fault` ahead of the service's normal answers (and of the scenario's faults);
    /// faults injected earlier are asked first. [`OpenStackMock::clear_faults`] removes it.
    pub async fn inject(&self, fault: Fault) -> Result<(), FaultError> {
        self.server(fault.service)
            .ok_or(FaultError::NoServer(fault.service.as_str()))?;
        if let FaultKind::Error(s) = fault.kind {
            if !(400..=599).contains(&s) {
                return Err(FaultError::NotAnError(s));
            }
        }
        let left = fault.times;
        self.state.injected().push(Injected { fault, left });
        Ok(())
    }
}
