//! Faults a test injects into the Kubernetes mock ([`super::KubeMock::inject`]): a request
//! that answers late, fails with a `Status` as client-go words a bare answer of that code, or
//! loses its connection. They count against the engine's virtual clock, as the OpenStack
//! mocks' do. (Scenario files cannot declare them yet: kubectl's and the providers' texts for
//! them are not modelled in memory.)

use super::status::KubeError;
use magsim_sim::cloud::faults::{FaultEffect, Faults, RequestFault, Service};
use std::sync::Mutex;

/// The injected faults of one server.
#[derive(Default)]
pub struct Injected(Mutex<Faults>);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KubeFaultError {
    #[error("a Kubernetes fault must be on the kubernetes service, not {0}")]
    WrongService(&'static str),
    #[error("{0} is not an error status: expected 400-599")]
    NotAnError(u16),
}

impl Injected {
    pub fn add(&self, fault: RequestFault) -> Result<(), KubeFaultError> {
        if fault.service != Service::Kubernetes {
            return Err(KubeFaultError::WrongService(fault.service.as_str()));
        }
        if let FaultEffect::Error(s) = fault.effect {
            if !(400..=599).contains(&s) {
                return Err(KubeFaultError::NotAnError(s));
            }
        }
        self.lock().requests.push(fault);
        Ok(())
    }

    /// The effect on a request, if a fault takes it (`now` is asked only when there are
    /// faults: it locks the engine).
    pub fn hit(
        &self,
        now: impl FnOnce() -> magsim_sim::time::SimTime,
        method: &str,
        path: &str,
    ) -> Option<FaultEffect> {
        let mut f = self.lock();
        if f.requests.is_empty() {
            return None;
        }
        f.hit(now(), Service::Kubernetes, method, path)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Faults> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The `Status` for an injected error code, with the reason and message client-go gives a
/// bare answer of that code (`NewGenericServerResponse`).
pub fn error(code: u16) -> KubeError {
    let (reason, message) = match code {
        400 => ("BadRequest", "the server rejected our request for an unknown reason"),
        401 => ("Unauthorized", "the server has asked for the client to provide credentials"),
        403 => ("Forbidden", "the server does not allow access to the requested resource"),
        404 => ("NotFound", "the server could not find the requested resource"),
        409 => ("Conflict", "the server reported a conflict"),
        429 => ("TooManyRequests", "the server has received too many requests and has asked us to try again later"),
        500 => ("InternalError", "an error on the server (\"unknown\") has prevented the request from succeeding"),
        503 => ("ServiceUnavailable", "the server is currently unable to handle the request"),
        504 => ("Timeout", "the server was unable to return a response in the time allotted, but may still be processing the request"),
        _ => ("", "an error on the server (\"unknown\") has prevented the request from succeeding"),
    };
    KubeError::new(code, reason, message)
}

/// What a dropped request unwinds with, out of the connection's task (see `server::handle`).
pub struct ConnectionDropped;
