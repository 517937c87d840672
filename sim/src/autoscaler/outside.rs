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

    /// A klog line of the process at `site`: its container's log, not the timeline (the
    /// running autoscaler keeps these; other worlds may drop them).
    fn klog(&mut self, _now: SimTime, _site: super::container::Site, _text: String) {}

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

/// What a request to Keystone or Magnum came back with.
#[derive(Clone, Debug, PartialEq)]
pub enum Reply {
    Answer {
        status: u16,
        body: serde_json::Value,
    },
    /// The connection closed with no answer.
    Dropped,
}

/// How the magnum provider's requests reach Keystone and Magnum: through the scenario's
/// faults to the engine in memory, as HTTP to the mock servers over the wire.
pub trait Transport {
    /// `POST /v3/auth/tokens` with the process's credentials; `Ok` when Keystone issues a
    /// token (the transport keeps it, issued at `now`).
    fn authenticate(&mut self, now: SimTime) -> Result<(), Reply>;

    /// `call` with the token issued at `issued`; when Magnum accepts it, its effect too.
    fn send(&mut self, now: SimTime, issued: SimTime, call: &MagnumCall) -> Reply;
}

/// gophercloud's provider client over `t`: authenticates at the first request (`token` is
/// when the process last did; `None`: never), re-authenticates once on a 401 and retries
/// (noted in `notes`), and words every failure as gophercloud does.
pub fn gophercloud_request(
    t: &mut dyn Transport,
    now: SimTime,
    token: &mut Option<SimTime>,
    call: &MagnumCall,
    notes: &mut Vec<String>,
) -> Result<(), String> {
    if token.is_none() {
        t.authenticate(now).map_err(|r| auth_error(&r))?;
        *token = Some(now);
    }
    let first = t.send(now, token.unwrap_or(now), call);
    let body = match first {
        Reply::Answer { status: 401, body } => body,
        other => return accepted(call, &other),
    };
    let original =
        gophercloud::unexpected(401, call.method, &call.url(), call.ok, &python_json(&body));
    if t.authenticate(now).is_err() {
        return Err(gophercloud::unable_to_reauthenticate(&original));
    }
    *token = Some(now);
    notes.push(format!(
        "Magnum answered {} {} with 401 Unauthorized; gophercloud re-authenticated with Keystone and retried",
        call.method, call.path
    ));
    let retry = t.send(now, now, call);
    accepted(call, &retry).map_err(|e| gophercloud::after_reauthentication(&e))
}

/// `Ok` for an answer `call` accepts, else gophercloud's text for it.
fn accepted(call: &MagnumCall, r: &Reply) -> Result<(), String> {
    match r {
        Reply::Answer { status, .. } if call.ok.contains(status) => Ok(()),
        Reply::Answer { status, body } => Err(gophercloud::status_error(
            *status,
            call.method,
            &call.url(),
            call.ok,
            &python_json(body),
        )),
        Reply::Dropped => Err(gophercloud::dropped(call.method, &call.url())),
    }
}

/// gophercloud's text when Keystone refuses the first authentication.
fn auth_error(r: &Reply) -> String {
    let url = "http://127.0.0.1:5000/v3/auth/tokens";
    match r {
        Reply::Answer { status, body } => {
            gophercloud::status_error(*status, "POST", url, &[201], &python_json(body))
        }
        Reply::Dropped => gophercloud::dropped("POST", url),
    }
}

/// The in-memory Keystone and Magnum behind the scenario's faults: a fault answers first,
/// then keystonemiddleware refuses a revoked token, then `apply` gives Magnum's answer.
pub fn faulted_send(
    faults: &mut Faults,
    now: SimTime,
    issued: SimTime,
    call: &MagnumCall,
    apply: impl FnOnce(&MagnumCall) -> Reply,
) -> Reply {
    match faults.hit(now, Service::ContainerInfra, call.method, &call.path) {
        Some(FaultEffect::Error(status)) => Reply::Answer {
            status,
            body: faults::magnum_error(status).body(),
        },
        Some(FaultEffect::Drop) => Reply::Dropped,
        _ if faults.token_revoked(issued, now) => Reply::Answer {
            status: 401,
            body: faults::unauthorized_body(),
        },
        _ => apply(call),
    }
}

/// The in-memory Keystone behind the scenario's faults.
pub fn faulted_authenticate(faults: &mut Faults, now: SimTime) -> Result<(), Reply> {
    match faults.hit(now, Service::Identity, "POST", "/v3/auth/tokens") {
        Some(FaultEffect::Error(status)) => Err(Reply::Answer {
            status,
            body: faults::keystone_error(status),
        }),
        Some(FaultEffect::Drop) => Err(Reply::Dropped),
        _ => Ok(()),
    }
}

/// Magnum's answer as a [`Reply`].
pub fn reply(r: &ApiResponse) -> Reply {
    Reply::Answer {
        status: r.status,
        body: r.body.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;

    /// Answers from a script; counts authentications.
    struct Script {
        auth: VecDeque<Result<(), Reply>>,
        sends: VecDeque<Reply>,
        logins: u32,
    }

    impl Transport for Script {
        fn authenticate(&mut self, _: SimTime) -> Result<(), Reply> {
            self.logins += 1;
            self.auth.pop_front().unwrap_or(Ok(()))
        }
        fn send(&mut self, _: SimTime, _: SimTime, _: &MagnumCall) -> Reply {
            self.sends.pop_front().expect("a scripted answer")
        }
    }

    fn answer(status: u16) -> Reply {
        Reply::Answer {
            status,
            body: serde_json::json!({"x": 1}),
        }
    }

    fn run(
        auth: Vec<Result<(), Reply>>,
        sends: Vec<Reply>,
    ) -> (Result<(), String>, Script, Vec<String>) {
        let mut t = Script {
            auth: auth.into(),
            sends: sends.into(),
            logins: 0,
        };
        let (mut token, mut notes) = (None, Vec::new());
        let call = MagnumCall::resize("k8s", "default-worker", 6);
        let r = gophercloud_request(&mut t, SimTime::ZERO, &mut token, &call, &mut notes);
        (r, t, notes)
    }

    const URL: &str = "http://127.0.0.1:9511/v1/clusters/k8s/actions/resize";

    #[test]
    fn a_401_reauthenticates_once_and_retries() {
        let (r, t, notes) = run(vec![], vec![answer(401), answer(202)]);
        assert_eq!(r, Ok(()));
        assert_eq!(t.logins, 2, "at the first request and after the 401");
        assert_eq!(notes.len(), 1);
        let (r, ..) = run(vec![], vec![answer(401), answer(503)]);
        assert!(r.unwrap_err().starts_with("Successfully re-authenticated, but got error executing request: The service is currently unable"));
    }

    #[test]
    fn failed_reauthentication_names_the_original_401() {
        let (r, ..) = run(vec![Ok(()), Err(answer(503))], vec![answer(401)]);
        assert_eq!(
            r.unwrap_err(),
            format!("Unable to re-authenticate: Expected HTTP response code [200 202] when accessing [POST {URL}], but got 401 instead\n{{\"x\": 1}}")
        );
    }

    #[test]
    fn first_authentication_and_drops_fail_in_gophercloud_s_words() {
        let (r, t, _) = run(vec![Err(Reply::Dropped)], vec![]);
        assert_eq!(
            r.unwrap_err(),
            "Post \"http://127.0.0.1:5000/v3/auth/tokens\": EOF"
        );
        assert!(t.sends.is_empty());
        let (r, ..) = run(vec![], vec![Reply::Dropped]);
        assert_eq!(r.unwrap_err(), format!("Post \"{URL}\": EOF"));
        let (r, ..) = run(vec![], vec![answer(400)]);
        assert_eq!(
            r.unwrap_err(),
            format!("Bad request with: [POST {URL}], error message: {{\"x\": 1}}")
        );
    }
}
