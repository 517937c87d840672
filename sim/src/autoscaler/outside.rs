//! The autoscaler's outside world: everything its process reads or changes beyond its own
//! memory. In memory the engine plays it while a loop runs ([`crate::engine::Engine`]);
//! over the wire (`magsim run --wire`) the mock APIs do, so the same loop code makes real
//! Keystone, Magnum and Kubernetes requests.

use super::gophercloud;
use crate::cloud::faults::{self, FaultEffect, Faults, Service};
use crate::cloud::magnum::MAGNUM_ENDPOINT;
use crate::cloud::python_json;
use crate::engine::{ApiResponse, Operation};
use crate::kube::{EventType, ObjectRef};
use crate::time::SimTime;
use crate::world::{ConfigMapData, World};
use std::sync::Arc;

/// What a running autoscaler does beyond its own memory.
pub trait Outside {
    /// The cluster and cloud as the process's informers and caches see them this loop.
    fn world(&self) -> &World;

    /// A line of the process's log, on the timeline.
    fn log(&mut self, now: SimTime, actor: &str, text: String);

    /// One gophercloud request to Magnum, with its effect when Magnum accepts it: `Ok`, or
    /// the text gophercloud returns. `token` is when the process last authenticated (`None`:
    /// not yet); a 401 makes gophercloud re-authenticate once and retry, noted in `notes`.
    fn magnum(
        &mut self,
        now: SimTime,
        token: &mut Option<SimTime>,
        call: &MagnumCall,
        notes: &mut Vec<String>,
    ) -> Result<(), String>;

    /// The clusterapi provider's write: `spec.replicas` of a MachineDeployment.
    fn scale_machine_deployment(&mut self, index: usize, replicas: u32) -> Result<(), String>;

    /// Upstream's test provider: only the target moves (no API behind it).
    fn set_test_group_target(&mut self, name: &str, target: u32) -> Result<(), String>;

    /// `removeOldUnregisteredNodes`: deletes a server that never registered; the group's new
    /// target, if it has one.
    fn remove_unregistered(&mut self, machine: &str) -> Option<u32>;

    /// An event through client-go's recorder (after the spam filter).
    fn record_event(
        &mut self,
        now: SimTime,
        obj: ObjectRef,
        t: EventType,
        reason: &'static str,
        message: Arc<str>,
    );

    /// Writes a ConfigMap (the status ConfigMap).
    fn write_config_map(&mut self, namespace: &str, name: &str, data: ConfigMapData);
}

/// One request the magnum provider makes.
#[derive(Clone, Debug, PartialEq)]
pub struct MagnumCall {
    pub method: &'static str,
    /// From `/v1`, as the catalog's endpoint ends.
    pub path: String,
    /// The codes gophercloud accepts for it.
    pub ok: &'static [u16],
    /// What it changes when Magnum accepts it (`None` for reads).
    pub op: Option<Operation>,
    /// Its JSON body, as gophercloud sends it.
    pub body: Option<serde_json::Value>,
}

impl MagnumCall {
    pub fn get(path: String) -> MagnumCall {
        MagnumCall {
            method: "GET",
            path,
            ok: &[200],
            op: None,
            body: None,
        }
    }

    /// `clusters.Resize` for one nodegroup (magnum provider >= 1.19).
    pub fn resize(cluster: &str, nodegroup: &str, node_count: u32) -> MagnumCall {
        MagnumCall {
            method: "POST",
            path: format!("/v1/clusters/{cluster}/actions/resize"),
            ok: &[200, 202],
            op: Some(Operation::Resize {
                cluster: cluster.to_string(),
                node_count: node_count.into(),
                nodegroup: Some(nodegroup.to_string()),
                nodes_to_remove: Vec::new(),
            }),
            body: Some(serde_json::json!({"node_count": node_count, "nodegroup": nodegroup})),
        }
    }

    /// `clusters.Update` replacing `/node_count` (the Heat manager, <= 1.18).
    pub fn update_node_count(cluster: &str, node_count: u32) -> MagnumCall {
        let patch = crate::cloud::PatchOperation::from_cli(
            crate::cloud::PatchOp::Replace,
            &format!("node_count={node_count}"),
        );
        MagnumCall {
            method: "PATCH",
            path: format!("/v1/clusters/{cluster}"),
            ok: &[200, 202],
            body: Some(serde_json::json!([
                {"op": "replace", "path": "/node_count", "value": node_count}
            ])),
            op: Some(Operation::UpdateCluster {
                cluster: cluster.to_string(),
                patch: vec![patch],
            }),
        }
    }

    /// The URL gophercloud names in its errors.
    pub fn url(&self) -> String {
        format!(
            "{MAGNUM_ENDPOINT}{}",
            self.path.strip_prefix("/v1").unwrap_or(&self.path)
        )
    }
}

/// What gophercloud returns for an answer of `status` with `body` to `call`.
pub fn status_error(call: &MagnumCall, status: u16, body: &serde_json::Value) -> String {
    gophercloud::status_error(
        status,
        call.method,
        &call.url(),
        call.ok,
        &python_json(body),
    )
}

/// The fault layer in front of Magnum, in memory: the effect the scenario's faults give a
/// request (after keystonemiddleware's check of the token), with gophercloud's handling of
/// a 401. `apply` performs the call when it gets through.
pub fn through_faults(
    faults: &mut Faults,
    now: SimTime,
    token: &mut Option<SimTime>,
    call: &MagnumCall,
    notes: &mut Vec<String>,
    mut apply: impl FnMut(&MagnumCall) -> Result<(), String>,
) -> Result<(), String> {
    if token.is_none() {
        // magsim authenticates at the provider's first request.
        if let Some(e) = auth_error(faults, now) {
            return Err(e);
        }
        *token = Some(now);
    }
    let issued = token.unwrap_or(now);
    let mut answer = faults.hit(now, Service::ContainerInfra, call.method, &call.path);
    if matches!(answer, None | Some(FaultEffect::Latency(_))) && faults.token_revoked(issued, now) {
        answer = Some(FaultEffect::Error(401));
    }
    if answer != Some(FaultEffect::Error(401)) {
        return match fault_text(answer, call) {
            Some(e) => Err(e),
            None => apply(call),
        };
    }
    let original = gophercloud::unexpected(
        401,
        call.method,
        &call.url(),
        call.ok,
        &python_json(&faults::unauthorized_body()),
    );
    if auth_error(faults, now).is_some() {
        return Err(gophercloud::unable_to_reauthenticate(&original));
    }
    *token = Some(now);
    notes.push(reauthenticated(call));
    let retry = faults.hit(now, Service::ContainerInfra, call.method, &call.path);
    match fault_text(retry, call) {
        Some(e) => Err(gophercloud::after_reauthentication(&e)),
        None => apply(call).map_err(|e| gophercloud::after_reauthentication(&e)),
    }
}

/// The log line for a transparent re-authentication.
pub fn reauthenticated(call: &MagnumCall) -> String {
    format!(
        "Magnum answered {} {} with 401 Unauthorized; gophercloud re-authenticated with Keystone and retried",
        call.method, call.path
    )
}

/// gophercloud's text when Keystone refuses `POST /v3/auth/tokens`, if a fault makes it.
fn auth_error(faults: &mut Faults, now: SimTime) -> Option<String> {
    let url = "http://127.0.0.1:5000/v3/auth/tokens";
    match faults.hit(now, Service::Identity, "POST", "/v3/auth/tokens")? {
        FaultEffect::Latency(_) => None,
        FaultEffect::Drop => Some(gophercloud::dropped("POST", url)),
        FaultEffect::Error(s) => Some(gophercloud::status_error(
            s,
            "POST",
            url,
            &[201],
            &python_json(&crate::cloud::faults::keystone_error(s)),
        )),
    }
}

/// What gophercloud returns for a faulted answer; `None` when Magnum answers (late or not).
fn fault_text(answer: Option<FaultEffect>, call: &MagnumCall) -> Option<String> {
    match answer? {
        FaultEffect::Latency(_) => None,
        FaultEffect::Drop => Some(gophercloud::dropped(call.method, &call.url())),
        FaultEffect::Error(s) => Some(status_error(call, s, &faults::magnum_error(s).body())),
    }
}

/// Magnum's answer to an accepted call, as gophercloud sees it.
pub fn answer_error(call: &MagnumCall, r: &ApiResponse) -> Result<(), String> {
    if call.ok.contains(&r.status) {
        Ok(())
    } else {
        Err(status_error(call, r.status, &r.body))
    }
}
