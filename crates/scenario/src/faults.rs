//! The `faults:` section: request faults and token expiry, checked and turned into the
//! engine's [`Faults`].

use crate::error::LoadError;
use crate::format::{RawFaults, RawRequestFault};
use crate::model::Ctx;
use magsim_sim::cloud::faults::{FaultEffect, Faults, RequestFault, Service};
use magsim_sim::time::SimTime;

pub(crate) fn build(cx: &Ctx, raw: &RawFaults) -> Result<Faults, LoadError> {
    let mut faults = Faults::default();
    for (i, r) in raw.requests.iter().enumerate() {
        faults
            .requests
            .push(request(cx, &format!("faults.requests[{i}]"), r)?);
    }
    faults.token_expiry = raw
        .expire_tokens
        .iter()
        .map(|d| SimTime::ZERO + d.0)
        .collect();
    Ok(faults)
}

fn request(cx: &Ctx, field: &str, r: &RawRequestFault) -> Result<RequestFault, LoadError> {
    let service = match Service::parse(&r.service) {
        Some(Service::Kubernetes) => {
            return Err(cx.err(
                &format!("{field}.service"),
                "faults on the Kubernetes API are not modelled yet: expected identity, container-infra, orchestration or compute",
            ))
        }
        Some(s) => s,
        None => {
            return Err(cx.err(
                &format!("{field}.service"),
                format!(
                    "unknown service {:?}: expected identity, container-infra, orchestration or compute",
                    r.service
                ),
            ))
        }
    };
    let effect = match (r.error, r.latency, r.drop) {
        (Some(s), None, false) if (400..=599).contains(&s) => FaultEffect::Error(s),
        (Some(s), None, false) => {
            return Err(cx.err(
                &format!("{field}.error"),
                format!("{s} is not an error status: expected 400-599"),
            ))
        }
        (None, Some(d), false) => FaultEffect::Latency(d.0),
        (None, None, true) => FaultEffect::Drop,
        _ => {
            return Err(cx.err(
                field,
                "a request fault has exactly one of `error`, `latency` and `drop: true`",
            ))
        }
    };
    let mut f = RequestFault::new(service, effect);
    match (&r.method, &r.path) {
        (Some(m), Some(p)) if p.starts_with('/') => f = f.on(m, p),
        (None, None) => {}
        (Some(_), Some(p)) => {
            return Err(cx.err(
                &format!("{field}.path"),
                format!("{p:?} is not a path: expected one starting with /"),
            ))
        }
        _ => {
            return Err(cx.err(
                field,
                "`method` and `path` go together: give both, or neither for every request",
            ))
        }
    }
    if r.times == Some(0) {
        return Err(cx.err(
            &format!("{field}.times"),
            "0 requests: expected at least 1 (or leave `times` out for every request)",
        ));
    }
    f.times = r.times;
    let from = SimTime::ZERO + r.from.map(|d| d.0).unwrap_or_default();
    let until = r.until.map(|d| SimTime::ZERO + d.0);
    if until.is_some_and(|u| u <= from) {
        return Err(cx.err(
            &format!("{field}.until"),
            "the window is empty: expected `until` after `from`",
        ));
    }
    Ok(f.between(from, until))
}
