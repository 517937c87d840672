//! What the kubelet reports of a simulated in-cluster autoscaler: its pod (restarts, the
//! `CrashLoopBackOff` waiting state, the last termination) and its container's log, served as
//! `GET .../pods/{name}/log` with kubectl's options (`container`, `previous`, `follow`,
//! `tailLines`, `sinceSeconds`, `timestamps`, `limitBytes`).
//!
//! Workload pods have containers that print nothing: their log is empty once they run.

use super::discovery::Resource;
use super::objects::{derived_uid, node_ip, ts, ObjKey};
use super::status::KubeError;
use crate::Live;
use axum::body::{Body, Bytes};
use axum::http::{header, StatusCode};
use axum::response::Response;
use magsim_sim::autoscaler::container::{Instance, LogLine};
use magsim_sim::autoscaler::{Autoscaler, Phase};
use magsim_sim::deploy::pod::AutoscalerPod;
use magsim_sim::engine::Engine;
use magsim_sim::time::{Epoch, SimTime};
use serde_json::{json, Map, Value};
use std::convert::Infallible;
use std::time::Duration;
use tokio::sync::{mpsc, watch};

type Result<T> = std::result::Result<T, KubeError>;

/// How often a followed log looks for new lines (loops write without changing any object).
const FOLLOW_POLL: Duration = Duration::from_millis(200);

/// An in-cluster autoscaler's pod, as its Deployment's controller and the kubelet make it.
struct Running<'e> {
    index: usize,
    autoscaler: &'e Autoscaler,
    pod: AutoscalerPod,
}

fn autoscaler_pods(engine: &Engine) -> Vec<Running<'_>> {
    engine
        .autoscaler_pods()
        .map(|(index, pod)| Running {
            index,
            autoscaler: &engine.autoscalers[index],
            pod,
        })
        .collect()
}

/// The in-cluster autoscalers' pods, keyed as the store keeps pods.
pub fn pods(engine: &Engine) -> Vec<(ObjKey, Value)> {
    autoscaler_pods(engine)
        .iter()
        .map(|p| {
            let key = ObjKey {
                resource: Resource::Pods,
                namespace: p.pod.namespace.to_string(),
                name: p.pod.name.clone(),
            };
            (key, pod_json(engine, p))
        })
        .collect()
}

fn container_id(p: &Running<'_>, instance: u32) -> String {
    let id = derived_uid(&["container", &p.pod.uid, &instance.to_string()]);
    format!("containerd://{}", id.replace('-', ""))
}

fn pod_json(engine: &Engine, p: &Running<'_>) -> Value {
    let c = &p.autoscaler.container;
    let created = ts(engine, c.created);
    let mut labels: Map<String, Value> = p.pod.template["metadata"]["labels"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    labels.insert("pod-template-hash".into(), p.pod.hash.clone().into());
    let mut spec = p.pod.template["spec"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    spec.entry("restartPolicy").or_insert("Always".into());
    spec.entry("serviceAccountName").or_insert("default".into());
    let node = p.pod.node(&engine.world);
    if let Some(id) = node {
        spec.insert(
            "nodeName".into(),
            engine.world.node(id).name.to_string().into(),
        );
    }
    let container = p.pod.container();
    let cname = container["name"].as_str().unwrap_or("cluster-autoscaler");
    let image = container["image"]
        .as_str()
        .unwrap_or(&p.autoscaler.spec.image);
    let running = matches!(p.autoscaler.phase, Phase::Running(_));
    let state = match &p.autoscaler.phase {
        Phase::CrashLoopBackOff { next_start, .. } => {
            let exited = c.current.exited.map_or(c.current.started, |(t, _)| t);
            json!({"waiting": {
                "reason": "CrashLoopBackOff",
                "message": format!(
                    "back-off {} restarting failed container={cname} pod={}_{}({})",
                    next_start.since(exited), p.pod.name, p.pod.namespace, p.pod.uid
                ),
            }})
        }
        _ => json!({"running": {"startedAt": ts(engine, c.current.started)}}),
    };
    let last_state = match c.last_terminated() {
        Some(i) => {
            let (finished, code) = i.exited.unwrap_or((i.started, 0));
            let n = if i.started == c.current.started {
                c.restarts
            } else {
                c.restarts.saturating_sub(1)
            };
            json!({"terminated": {
                "exitCode": code,
                "reason": "Error",
                "startedAt": ts(engine, i.started),
                "finishedAt": ts(engine, finished),
                "containerID": container_id(p, n),
            }})
        }
        None => json!({}),
    };
    let mut status = json!({
        "containerID": container_id(p, c.restarts),
        "name": cname,
        "state": state,
        "lastState": last_state,
        "ready": running,
        "restartCount": c.restarts,
        "image": image,
        "imageID": format!("{image}@sha256:{}", derived_uid(&["image", image]).replace('-', "")),
        "started": running,
    });
    if !running {
        status
            .as_object_mut()
            .map(|m| m.shift_remove("containerID"));
    }
    let ready = if running { "True" } else { "False" };
    let unready = |t: &str| {
        let mut cond = json!({"type": t, "status": ready, "lastProbeTime": null, "lastTransitionTime": created});
        if !running {
            cond["reason"] = "ContainersNotReady".into();
            cond["message"] = format!("containers with unready status: [{cname}]").into();
        }
        cond
    };
    let ok = |t: &str| json!({"type": t, "status": "True", "lastProbeTime": null, "lastTransitionTime": created});
    let mut pod_status = json!({
        "phase": "Running",
        "conditions": [ok("PodReadyToStartContainers"), ok("Initialized"), unready("Ready"), unready("ContainersReady"), ok("PodScheduled")],
        "startTime": created,
        "containerStatuses": [status],
        "qosClass": "BestEffort",
    });
    if let Some(id) = node {
        let ip = node_ip(id);
        pod_status["hostIP"] = ip.clone().into();
        pod_status["hostIPs"] = json!([{"ip": ip}]);
        // The pod's own address: beside the node's, in the pod range.
        let pod_ip = p.pod.ip(p.index);
        pod_status["podIP"] = pod_ip.clone().into();
        pod_status["podIPs"] = json!([{"ip": pod_ip}]);
    }
    json!({
        "kind": "Pod",
        "apiVersion": "v1",
        "metadata": {
            "name": p.pod.name,
            "generateName": format!("{}-{}-", p.pod.deployment, p.pod.hash),
            "namespace": p.pod.namespace,
            "uid": p.pod.uid,
            "resourceVersion": "",
            "creationTimestamp": created,
            "labels": labels,
            "ownerReferences": [{
                "apiVersion": "apps/v1",
                "kind": "ReplicaSet",
                "name": format!("{}-{}", p.pod.deployment, p.pod.hash),
                "uid": derived_uid(&["ReplicaSet", &p.pod.namespace, &format!("{}-{}", p.pod.deployment, p.pod.hash)]),
                "controller": true,
                "blockOwnerDeletion": true,
            }],
        },
        "spec": spec,
        "status": pod_status,
    })
}

/// `GET .../pods/{name}/log` options, as the kubelet reads them.
#[derive(Clone, Debug, Default)]
pub struct LogOptions {
    pub container: Option<String>,
    pub previous: bool,
    pub follow: bool,
    pub tail_lines: Option<u64>,
    pub since_seconds: Option<u64>,
    pub timestamps: bool,
    pub limit_bytes: Option<u64>,
}

/// Which instance of the container a log request reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Which {
    Running,
    LastTerminated,
}

/// The pod log endpoint: the kubelet's checks on `pod` (as served), then the lines.
pub fn log(
    live: &Live,
    pod: &Value,
    opts: &LogOptions,
    shutdown: watch::Receiver<bool>,
) -> Result<Response> {
    let name = pod["metadata"]["name"].as_str().unwrap_or_default();
    let names: Vec<&str> = pod["spec"]["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["name"].as_str())
        .collect();
    let container = match &opts.container {
        None if names.len() == 1 => names[0].to_string(),
        None => {
            return Err(KubeError::bad_request(format!(
                "a container name must be specified for pod {name}, choose one of: [{}]",
                names.join(" ")
            )))
        }
        Some(c) if names.contains(&c.as_str()) => c.clone(),
        Some(c) => {
            return Err(KubeError::bad_request(format!(
                "container {c} is not valid for pod {name}"
            )))
        }
    };
    if pod["spec"]["nodeName"]
        .as_str()
        .unwrap_or_default()
        .is_empty()
    {
        // No host yet: kube-apiserver has no kubelet to ask and streams nothing.
        return Ok(text(Body::empty()));
    }
    let status = pod["status"]["containerStatuses"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|s| s["name"] == container.as_str());
    let which = which(status, &container, name, opts.previous)?;
    let engine = live.engine();
    let namespace = pod["metadata"]["namespace"].as_str().unwrap_or_default();
    let found = autoscaler_pods(&engine)
        .into_iter()
        .find(|p| p.pod.namespace == namespace && p.pod.name == name)
        .map(|p| p.index);
    let Some(index) = found else {
        // A workload's container: it prints nothing.
        return Ok(text(Body::empty()));
    };
    let c = &engine.autoscalers[index].container;
    let instance = match which {
        Which::Running => &c.current,
        Which::LastTerminated => c.last_terminated().unwrap_or(&c.current),
    };
    let now = engine.now();
    let epoch = engine.epoch;
    let first = render(instance, opts, now, epoch);
    let follow = opts.follow && which == Which::Running && instance.exited.is_none();
    if !follow {
        return Ok(text(Body::from(first)));
    }
    let cursor = instance.written;
    let started = instance.started;
    drop(engine);
    Ok(text(follow_body(
        live.clone(),
        index,
        started,
        cursor,
        first,
        opts.timestamps,
        shutdown,
    )))
}

/// The kubelet's choice of instance (`validateContainerLogStatus`), or its refusal.
fn which(status: Option<&Value>, container: &str, pod: &str, previous: bool) -> Result<Which> {
    let last = status.is_some_and(|s| s["lastState"]["terminated"].is_object());
    let state = status.map(|s| &s["state"]);
    if previous {
        return if last {
            Ok(Which::LastTerminated)
        } else {
            Err(KubeError::bad_request(format!(
                "previous terminated container {container:?} in pod {pod:?} not found"
            )))
        };
    }
    match state {
        Some(s) if s["running"].is_object() => Ok(Which::Running),
        Some(s) if s["terminated"].is_object() => Ok(Which::LastTerminated),
        _ if last => Ok(Which::LastTerminated),
        Some(s) if s["waiting"].is_object() => {
            let reason = s["waiting"]["reason"].as_str().unwrap_or_default();
            Err(KubeError::bad_request(format!(
                "container {container:?} in pod {pod:?} is waiting to start: {reason}"
            )))
        }
        _ => Err(KubeError::bad_request(format!(
            "container {container:?} in pod {pod:?} is waiting to start - no logs yet"
        ))),
    }
}

/// One line as the kubelet streams it (with `timestamps`, the CRI time first).
fn line_text(line: &LogLine, epoch: Epoch, timestamps: bool) -> String {
    let mut s = String::new();
    if timestamps {
        s.push_str(&epoch.at(line.time).rfc3339_nano_fixed());
        s.push(' ');
    }
    s.push_str(&line.render(epoch));
    s.push('\n');
    s
}

fn render(instance: &Instance, opts: &LogOptions, now: SimTime, epoch: Epoch) -> Vec<u8> {
    let since = opts
        .since_seconds
        .map(|s| SimTime(now.0.saturating_sub(s.saturating_mul(1000))));
    let lines: Vec<&LogLine> = instance
        .log
        .iter()
        .filter(|l| since.is_none_or(|t| l.time >= t))
        .collect();
    let skip = opts.tail_lines.map_or(0, |n| {
        lines
            .len()
            .saturating_sub(usize::try_from(n).unwrap_or(usize::MAX))
    });
    let mut out: Vec<u8> = lines[skip..]
        .iter()
        .flat_map(|l| line_text(l, epoch, opts.timestamps).into_bytes())
        .collect();
    if let Some(limit) = opts.limit_bytes {
        out.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    }
    out
}

/// `follow=true`: the lines so far, then each new one, until the process exits, its pod
/// goes, the client leaves or the server stops.
fn follow_body(
    live: Live,
    index: usize,
    started: SimTime,
    mut cursor: u64,
    first: Vec<u8>,
    timestamps: bool,
    mut shutdown: watch::Receiver<bool>,
) -> Body {
    let (tx, mut rx) = mpsc::channel::<Bytes>(64);
    tokio::spawn(async move {
        if tx.send(Bytes::from(first)).await.is_err() {
            return;
        }
        loop {
            tokio::select! {
                _ = tx.closed() => return,
                r = shutdown.changed() => {
                    if r.is_err() || *shutdown.borrow() {
                        return;
                    }
                }
                _ = tokio::time::sleep(FOLLOW_POLL) => {}
            }
            let (chunk, done) = {
                let engine = live.engine();
                let Some(a) = engine.autoscalers.get(index) else {
                    return;
                };
                let i = &a.container.current;
                if a.is_stopped() || i.started != started {
                    (Vec::new(), true)
                } else {
                    let epoch = engine.epoch;
                    let new = i.since(cursor);
                    cursor = i.written;
                    let chunk: Vec<u8> = new
                        .flat_map(|l| line_text(l, epoch, timestamps).into_bytes())
                        .collect();
                    (chunk, i.exited.is_some())
                }
            };
            if !chunk.is_empty() && tx.send(Bytes::from(chunk)).await.is_err() {
                return;
            }
            if done {
                return;
            }
        }
    });
    let stream = futures_util::stream::poll_fn(move |cx| {
        rx.poll_recv(cx).map(|o| o.map(Ok::<Bytes, Infallible>))
    });
    Body::from_stream(stream)
}

fn text(body: Body) -> Response {
    let mut r = Response::new(body);
    *r.status_mut() = StatusCode::OK;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/plain"),
    );
    r
}

/// kube-controller-manager's `--deployment-controller` default progress deadline.
const PROGRESS_DEADLINE_SECONDS: u64 = 600;

/// The status the Deployment controller writes for an in-cluster autoscaler's Deployment
/// (one replica: the process), so `rollout status` and `wait --for=condition=Available`
/// read it as with a real cluster. `None` when no running autoscaler stands behind it.
pub fn deployment_status(
    engine: &Engine,
    namespace: &str,
    name: &str,
    deployment: &Value,
) -> Option<Value> {
    let r = autoscaler_pods(engine)
        .into_iter()
        .find(|p| p.pod.namespace == namespace && p.pod.deployment == name)?;
    let c = &r.autoscaler.container;
    let available = matches!(r.autoscaler.phase, Phase::Running(_));
    let rs = format!("{}-{}", r.pod.deployment, r.pod.hash);
    let since = ts(engine, c.created);
    let deadline = deployment["spec"]["progressDeadlineSeconds"]
        .as_u64()
        .unwrap_or(PROGRESS_DEADLINE_SECONDS);
    let timed_out = !available && engine.now().since(c.created).0 > deadline.saturating_mul(1000);
    // The controller marks the timeout when the deadline passes.
    let expired_at = ts(
        engine,
        c.created + magsim_sim::time::SimDuration::from_secs(deadline),
    );
    let cond = |t: &str, status: bool, reason: &str, message: String, at: &str| json!({"type": t, "status": if status { "True" } else { "False" }, "lastUpdateTime": at, "lastTransitionTime": at, "reason": reason, "message": message});
    let availability = if available {
        cond(
            "Available",
            true,
            "MinimumReplicasAvailable",
            "Deployment has minimum availability.".into(),
            &since,
        )
    } else {
        cond(
            "Available",
            false,
            "MinimumReplicasUnavailable",
            "Deployment does not have minimum availability.".into(),
            &since,
        )
    };
    let progressing = if available {
        cond(
            "Progressing",
            true,
            "NewReplicaSetAvailable",
            format!("ReplicaSet {rs:?} has successfully progressed."),
            &since,
        )
    } else if timed_out {
        cond(
            "Progressing",
            false,
            "ProgressDeadlineExceeded",
            format!("ReplicaSet {rs:?} has timed out progressing."),
            &expired_at,
        )
    } else {
        cond(
            "Progressing",
            true,
            "ReplicaSetUpdated",
            format!("ReplicaSet {rs:?} is progressing."),
            &since,
        )
    };
    let generation = deployment["metadata"]["generation"].as_u64().unwrap_or(1);
    let mut status = json!({
        "observedGeneration": generation,
        "replicas": 1,
        "updatedReplicas": 1,
        "conditions": [availability, progressing],
    });
    if available {
        status["readyReplicas"] = 1.into();
        status["availableReplicas"] = 1.into();
    } else {
        status["unavailableReplicas"] = 1.into();
    }
    Some(status)
}

/// The uid of the autoscaler's Deployment: as stored when it was applied, else derived.
fn deployment_uid(engine: &Engine, p: &AutoscalerPod) -> String {
    engine
        .world
        .stored
        .get(&(
            Resource::Deployments.stored_name(),
            p.namespace.clone(),
            p.deployment.clone(),
        ))
        .and_then(|d| d["metadata"]["uid"].as_str().map(str::to_string))
        .unwrap_or_else(|| derived_uid(&["Deployment", &p.namespace, &p.deployment]))
}

/// The ReplicaSet each in-cluster autoscaler's Deployment controls (one pod).
pub fn replica_sets(engine: &Engine) -> Vec<(ObjKey, Value)> {
    autoscaler_pods(engine)
        .iter()
        .map(|r| {
            let p = &r.pod;
            let name = format!("{}-{}", p.deployment, p.hash);
            let mut labels: Map<String, Value> = p.template["metadata"]["labels"]
                .as_object()
                .cloned()
                .unwrap_or_default();
            labels.insert("pod-template-hash".into(), p.hash.clone().into());
            let ready = usize::from(matches!(r.autoscaler.phase, Phase::Running(_)));
            let mut status =
                json!({"replicas": 1, "fullyLabeledReplicas": 1, "observedGeneration": 1});
            if ready == 1 {
                status["readyReplicas"] = 1.into();
                status["availableReplicas"] = 1.into();
            }
            let mut template = p.template.clone();
            template["metadata"]["labels"] = Value::Object(labels.clone());
            let rs = json!({
                "kind": "ReplicaSet",
                "apiVersion": "apps/v1",
                "metadata": {
                    "name": name,
                    "namespace": p.namespace,
                    "uid": derived_uid(&["ReplicaSet", &p.namespace, &name]),
                    "resourceVersion": "",
                    "generation": 1,
                    "creationTimestamp": ts(engine, r.autoscaler.container.created),
                    "labels": labels,
                    "annotations": {
                        "deployment.kubernetes.io/desired-replicas": "1",
                        "deployment.kubernetes.io/max-replicas": "2",
                        "deployment.kubernetes.io/revision": "1",
                    },
                    "ownerReferences": [{
                        "apiVersion": "apps/v1",
                        "kind": "Deployment",
                        "name": p.deployment,
                        "uid": deployment_uid(engine, p),
                        "controller": true,
                        "blockOwnerDeletion": true,
                    }],
                },
                "spec": {
                    "replicas": 1,
                    "selector": {"matchLabels": template["metadata"]["labels"].clone()},
                    "template": template,
                },
                "status": status,
            });
            let key = ObjKey {
                resource: Resource::ReplicaSets,
                namespace: p.namespace.clone(),
                name,
            };
            (key, rs)
        })
        .collect()
}

/// The Deployments of the in-cluster autoscalers a scenario declares (an applied one is kept
/// as written), with their controller's status.
pub fn declared_deployments(engine: &Engine) -> Vec<(ObjKey, Value)> {
    autoscaler_pods(engine)
        .iter()
        .filter(|p| p.pod.declared)
        .map(|p| {
            let key = ObjKey {
                resource: Resource::Deployments,
                namespace: p.pod.namespace.to_string(),
                name: p.pod.deployment.to_string(),
            };
            let mut d = json!({
                "kind": "Deployment",
                "apiVersion": "apps/v1",
                "metadata": {
                    "name": p.pod.deployment,
                    "namespace": p.pod.namespace,
                    "uid": deployment_uid(engine, &p.pod),
                    "resourceVersion": "",
                    "generation": 1,
                    "creationTimestamp": ts(engine, p.autoscaler.container.created),
                    "labels": {"app": p.pod.deployment},
                },
                "spec": {
                    "replicas": 1,
                    "selector": {"matchLabels": {"app": p.pod.deployment}},
                    "template": p.pod.template,
                    "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}},
                    "revisionHistoryLimit": 10,
                    "progressDeadlineSeconds": PROGRESS_DEADLINE_SECONDS,
                },
            });
            if let Some(status) = deployment_status(engine, &p.pod.namespace, &p.pod.deployment, &d) {
                d["status"] = status;
            }
            (key, d)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_engine_finds_applied_deployments_where_the_store_keeps_them() {
        assert_eq!(
            Resource::Deployments.stored_name(),
            magsim_sim::deploy::pod::STORED_DEPLOYMENTS
        );
    }
}
