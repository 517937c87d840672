//! Faults a scenario declares on the cloud's APIs: a request that fails with the API's own
//! error, answers late or loses its connection, and tokens that expire mid-run.
//!
//! One [`Faults`] lives in the [`crate::world::World`]; every caller of a cloud API asks it
//! first: the simulated autoscaler's provider, the runner's `openstack` steps, and the live
//! mock servers. So a fault means the same thing in `magsim run` and `magsim serve`.
//!
//! ```
//! use magsim_sim::cloud::faults::{FaultEffect, Faults, RequestFault, Service};
//! use magsim_sim::time::SimTime;
//! let mut faults = Faults::default();
//! faults.requests.push(
//!     RequestFault::new(Service::ContainerInfra, FaultEffect::Error(503))
//!         .on("POST", "/v1/clusters/*/actions/resize")
//!         .times(1),
//! );
//! let resize = (Service::ContainerInfra, "POST", "/v1/clusters/k8s/actions/resize");
//! assert_eq!(faults.hit(SimTime::ZERO, resize.0, resize.1, resize.2), Some(FaultEffect::Error(503)));
//! assert_eq!(faults.hit(SimTime::ZERO, resize.0, resize.1, resize.2), None);
//! ```

use crate::time::{SimDuration, SimTime};
use serde::{Deserialize, Serialize};

/// Which API a request belongs to (the Keystone catalog's service types, plus Kubernetes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Service {
    Identity,
    ContainerInfra,
    Orchestration,
    Compute,
    Kubernetes,
}

impl Service {
    pub const ALL: [Service; 5] = [
        Service::Identity,
        Service::ContainerInfra,
        Service::Orchestration,
        Service::Compute,
        Service::Kubernetes,
    ];

    /// The catalog name (`container-infra`), as recordings and scenario files write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Service::Identity => "identity",
            Service::ContainerInfra => "container-infra",
            Service::Orchestration => "orchestration",
            Service::Compute => "compute",
            Service::Kubernetes => "kubernetes",
        }
    }

    pub fn parse(s: &str) -> Option<Service> {
        Service::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// What happens to a matching request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultEffect {
    /// This status with the service's own error body.
    Error(u16),
    /// The real answer, this much later.
    Latency(SimDuration),
    /// The server closes the connection without answering.
    Drop,
}

/// A fault on one service's requests: optionally one method, a path pattern, a window of
/// virtual time and a number of requests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestFault {
    pub service: Service,
    pub effect: FaultEffect,
    pub method: Option<String>,
    /// Segments separated by `/`; a `*` segment matches any one segment.
    pub path: Option<String>,
    pub times: Option<u32>,
    pub from: SimTime,
    pub until: Option<SimTime>,
    used: u32,
}

impl RequestFault {
    /// Every request to `service`, for the whole run.
    pub fn new(service: Service, effect: FaultEffect) -> RequestFault {
        RequestFault {
            service,
            effect,
            method: None,
            path: None,
            times: None,
            from: SimTime::ZERO,
            until: None,
            used: 0,
        }
    }

    /// Only requests with this method and a path matching `pattern`.
    pub fn on(mut self, method: &str, pattern: &str) -> RequestFault {
        self.method = Some(method.to_ascii_uppercase());
        self.path = Some(pattern.to_string());
        self
    }

    /// Only the first `n` matching requests.
    pub fn times(mut self, n: u32) -> RequestFault {
        self.times = Some(n);
        self
    }

    /// Only requests made in `[from, until)`.
    pub fn between(mut self, from: SimTime, until: Option<SimTime>) -> RequestFault {
        self.from = from;
        self.until = until;
        self
    }

    /// How many requests this fault has hit so far.
    pub fn used(&self) -> u32 {
        self.used
    }

    fn matches(&self, now: SimTime, service: Service, method: &str, path: &str) -> bool {
        service == self.service
            && now >= self.from
            && self.until.is_none_or(|u| now < u)
            && self.times.is_none_or(|n| self.used < n)
            && self
                .method
                .as_deref()
                .is_none_or(|m| m.eq_ignore_ascii_case(method))
            && self.path.as_deref().is_none_or(|p| path_matches(p, path))
    }
}

/// `pattern` against `path`, ignoring the query and a trailing slash.
pub fn path_matches(pattern: &str, path: &str) -> bool {
    let path = path.split('?').next().unwrap_or(path);
    let segments = |s: &str| -> Vec<String> {
        s.trim_end_matches('/')
            .split('/')
            .map(str::to_string)
            .collect()
    };
    let (p, s) = (segments(pattern), segments(path));
    p.len() == s.len() && p.iter().zip(&s).all(|(a, b)| a == "*" || a == b)
}

/// Every fault of a run, and how far each has been used.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Faults {
    /// In declaration order: the first active match wins.
    pub requests: Vec<RequestFault>,
    /// Instants at which Keystone revokes every token issued before them.
    pub token_expiry: Vec<SimTime>,
}

impl Faults {
    pub fn is_empty(&self) -> bool {
        self.requests.is_empty() && self.token_expiry.is_empty()
    }

    /// The effect on a request made now, counting it against the fault that takes it.
    pub fn hit(
        &mut self,
        now: SimTime,
        service: Service,
        method: &str,
        path: &str,
    ) -> Option<FaultEffect> {
        let f = self
            .requests
            .iter_mut()
            .find(|f| f.matches(now, service, method, path))?;
        f.used += 1;
        Some(f.effect)
    }

    /// Whether a token issued at `issued` has been revoked by `now`.
    pub fn token_revoked(&self, issued: SimTime, now: SimTime) -> bool {
        self.token_expiry.iter().any(|&t| issued < t && t <= now)
    }
}

/// keystonemiddleware's `401` body: what Magnum and Heat answer to a missing, unknown or
/// revoked token.
pub fn unauthorized_body() -> serde_json::Value {
    serde_json::json!({"error": {
        "code": 401,
        "title": "Unauthorized",
        "message": "The request you have made requires authentication.",
    }})
}

/// The body a service answers an injected error status with: Magnum's `{"errors": [...]}`
/// (its detail is the reason phrase with a full stop).
pub fn magnum_error(status: u16) -> super::ApiError {
    super::ApiError::new(status, format!("{}.", reason_phrase(status)))
}

/// Keystone's body for an injected error status (title and message: the reason phrase).
pub fn keystone_error(status: u16) -> serde_json::Value {
    let reason = reason_phrase(status);
    serde_json::json!({"error": {"code": status, "title": reason, "message": reason}})
}

/// The HTTP reason phrase (the error titles OpenStack services derive from it).
pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        413 => "Payload Too Large",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: u64) -> SimTime {
        SimTime::ZERO + SimDuration::from_secs(s)
    }

    #[test]
    fn patterns_match_whole_segments() {
        assert!(path_matches(
            "/v1/clusters/*/actions/resize",
            "/v1/clusters/0b2a/actions/resize"
        ));
        assert!(path_matches(
            "/v3/auth/tokens",
            "/v3/auth/tokens/?nocatalog"
        ));
        assert!(!path_matches("/v1/clusters/*", "/v1/clusters/a/nodegroups"));
        assert!(!path_matches("/v1/clusters/k8s", "/v1/clusters/k8s2"));
    }

    #[test]
    fn a_fault_counts_its_requests_and_keeps_its_window() {
        let mut f = Faults::default();
        f.requests.push(
            RequestFault::new(Service::ContainerInfra, FaultEffect::Drop)
                .on("post", "/v1/clusters/*/actions/resize")
                .times(2)
                .between(at(60), Some(at(120))),
        );
        let resize = |f: &mut Faults, t| {
            f.hit(
                at(t),
                Service::ContainerInfra,
                "POST",
                "/v1/clusters/k8s/actions/resize",
            )
        };
        assert_eq!(resize(&mut f, 59), None);
        assert_eq!(
            f.hit(at(60), Service::ContainerInfra, "GET", "/v1/clusters/k8s"),
            None
        );
        assert_eq!(
            f.hit(
                at(60),
                Service::Identity,
                "POST",
                "/v1/clusters/k8s/actions/resize"
            ),
            None
        );
        assert_eq!(resize(&mut f, 60), Some(FaultEffect::Drop));
        assert_eq!(resize(&mut f, 119), Some(FaultEffect::Drop));
        assert_eq!(resize(&mut f, 119), None, "used up");
        assert_eq!(f.requests[0].used(), 2);
    }

    #[test]
    fn the_first_active_fault_wins() {
        let mut f = Faults::default();
        f.requests
            .push(RequestFault::new(Service::Identity, FaultEffect::Error(503)).times(1));
        f.requests.push(RequestFault::new(
            Service::Identity,
            FaultEffect::Error(500),
        ));
        let auth = |f: &mut Faults| f.hit(at(0), Service::Identity, "POST", "/v3/auth/tokens");
        assert_eq!(auth(&mut f), Some(FaultEffect::Error(503)));
        assert_eq!(auth(&mut f), Some(FaultEffect::Error(500)));
    }

    #[test]
    fn tokens_issued_before_an_expiry_are_revoked_from_then_on() {
        let f = Faults {
            token_expiry: vec![at(600)],
            ..Faults::default()
        };
        assert!(!f.token_revoked(at(0), at(599)));
        assert!(f.token_revoked(at(0), at(600)));
        assert!(!f.token_revoked(at(600), at(900)), "issued at the expiry");
        assert_eq!(
            Service::parse("container-infra"),
            Some(Service::ContainerInfra)
        );
        assert_eq!(reason_phrase(503), "Service Unavailable");
    }
}
