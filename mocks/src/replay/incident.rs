//! The 2025-11-10 incident as a recording, produced from the engine running
//! `scenarios/incident/01-as-it-happened.yaml`: the token, `cluster show` (labels min 1 /
//! max 5), `nodegroup show` before and after the nodegroup update, the refused label update
//! (HTTP 400, `req-0a1e8dc8-1d3b-459f-8539-5241f0f854f9`), and on the Kubernetes side the
//! status ConfigMap (`maxSize: 5`), the Pending pod and its `NotTriggerScaleUp` event.
//!
//! `mocks/recordings/incident-2025-11-10.json` is this function's output; a test checks that
//! they agree (`MAGSIM_BLESS=1` rewrites the file).

use crate::openstack::{keystone, magnum, Credentials, Token, Urls};
use crate::recording::{Exchange, RecordedResponse, Recording, RequestMatcher, REDACTED};
use crate::Service;
use indexmap::IndexMap;
use magsim_sim::cloud::{PatchOp, PatchOperation};
use magsim_sim::engine::{ApiResponse, Engine, Operation};
use magsim_sim::kube::{PodPhase, ScheduledCondition};
use magsim_sim::time::{SimDuration, SimTime};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// The request id Jetstream2 gave the refused label update.
pub const LABELS_REQUEST_ID: &str = "req-0a1e8dc8-1d3b-459f-8539-5241f0f854f9";

/// The pending replica of the incident.
pub const PENDING_POD: &str = "high-memory-deployment-844964899f-4md88";

/// Where the shipped recording lives, relative to the `mocks` crate.
pub const FILE: &str = "recordings/incident-2025-11-10.json";

/// Errors building the recording.
#[derive(Debug, thiserror::Error)]
pub enum IncidentError {
    #[error(transparent)]
    Scenario(#[from] magsim_scenario::LoadError),
    #[error("the incident scenario is not built in")]
    Missing,
    #[error("the engine has no {0}")]
    NoObject(String),
}

fn placeholders() -> Urls {
    Urls {
        keystone: "{{identity}}".into(),
        magnum: "{{container-infra}}".into(),
        heat: "{{orchestration}}".into(),
        nova: "{{compute}}".into(),
    }
}

fn headers(pairs: &[(&str, &str)]) -> IndexMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn at(engine: &mut Engine, secs: u64) {
    engine.run_until(SimTime::ZERO + SimDuration::from_secs(secs));
}

/// Builds the recording from the engine.
pub fn incident_recording() -> Result<Recording, IncidentError> {
    let (file, text) = magsim_scenario::builtin()
        .into_iter()
        .find(|(f, _)| f.ends_with("01-as-it-happened.yaml"))
        .ok_or(IncidentError::Missing)?;
    let scenario = magsim_scenario::parse(file, text)?;
    let mut engine = scenario.engine(None);
    let project = engine
        .world
        .cluster
        .as_ref()
        .map(|c| c.project_id.clone())
        .ok_or_else(|| IncidentError::NoObject("cluster".into()))?;
    let creds = Credentials::for_project(&project);
    let mut exchanges = Vec::new();

    // Keystone: the application-credential token every command starts with.
    at(&mut engine, 60);
    let token = Token {
        id: REDACTED.into(),
        methods: vec!["application_credential".into()],
        issued: engine.now(),
        expires: engine.now() + SimDuration::from_secs(3600),
        application_credential: true,
        scoped: true,
        trust: None,
        revoked: false,
    };
    let catalog = keystone::catalog(&placeholders(), &project);
    exchanges.push(Exchange {
        service: Service::Identity,
        note: Some("POST /v3/auth/tokens (application credential; secret not recorded)".into()),
        request: RequestMatcher {
            method: "POST".into(),
            path: "/v3/auth/tokens".into(),
            query: None,
            body: None,
        },
        response: RecordedResponse {
            status: 201,
            headers: headers(&[
                ("Content-Type", "application/json"),
                ("Vary", "X-Auth-Token"),
                ("X-Subject-Token", &token.id),
                (
                    "x-openstack-request-id",
                    "req-3f9d2c1a-7b4e-4c8d-9a1f-2e6b5c7d8e90",
                ),
            ]),
            body: Some(keystone::token_body(
                &creds,
                &token,
                engine.epoch,
                Some(catalog),
                false,
            )),
            body_text: None,
        },
    });

    let cx = MagnumCx {
        base: "{{container-infra}}",
        created: magnum::isoformat(engine.epoch, SimTime::ZERO),
        user_id: creds.user_id.clone(),
    };
    let magnum_exchange = |engine: &mut Engine,
                           note: &str,
                           method: &str,
                           path: &str,
                           request_body: Option<Value>,
                           op: Operation,
                           request_id: Option<String>| {
        cx.exchange(engine, note, method, path, request_body, op, request_id)
    };
    let ng_patch = vec![PatchOperation::from_cli(
        PatchOp::Replace,
        "max_node_count=6",
    )];
    let label_patch = vec![PatchOperation::from_cli(
        PatchOp::Replace,
        "labels/max_node_count=6",
    )];
    let as_json = |p: &[PatchOperation]| Value::Array(p.iter().map(|o| o.to_json()).collect());

    at(&mut engine, 60);
    exchanges.push(magnum_exchange(
        &mut engine,
        "openstack coe cluster show k8s",
        "GET",
        "/v1/clusters/k8s",
        None,
        Operation::ShowCluster {
            cluster: "k8s".into(),
        },
        None,
    )?);
    at(&mut engine, 120);
    exchanges.push(magnum_exchange(
        &mut engine,
        "openstack coe nodegroup show k8s default-worker (before the update)",
        "GET",
        "/v1/clusters/k8s/nodegroups/default-worker",
        None,
        Operation::ShowNodegroup {
            cluster: "k8s".into(),
            nodegroup: "default-worker".into(),
        },
        None,
    )?);
    at(&mut engine, 300);
    exchanges.push(magnum_exchange(
        &mut engine,
        "openstack coe cluster update k8s replace labels/max_node_count=6",
        "PATCH",
        "/v1/clusters/k8s",
        Some(as_json(&label_patch)),
        Operation::UpdateCluster {
            cluster: "k8s".into(),
            patch: label_patch.clone(),
        },
        Some(LABELS_REQUEST_ID.into()),
    )?);
    at(&mut engine, 360);
    exchanges.push(magnum_exchange(
        &mut engine,
        "openstack coe nodegroup update k8s default-worker replace max_node_count=6",
        "PATCH",
        "/v1/clusters/k8s/nodegroups/default-worker",
        Some(as_json(&ng_patch)),
        Operation::UpdateNodegroup {
            cluster: "k8s".into(),
            nodegroup: "default-worker".into(),
            patch: ng_patch.clone(),
        },
        None,
    )?);
    at(&mut engine, 420);
    exchanges.push(magnum_exchange(
        &mut engine,
        "openstack coe nodegroup show k8s default-worker (after the update)",
        "GET",
        "/v1/clusters/k8s/nodegroups/default-worker",
        None,
        Operation::ShowNodegroup {
            cluster: "k8s".into(),
            nodegroup: "default-worker".into(),
        },
        None,
    )?);

    // Kubernetes, at the end of the run.
    at(&mut engine, 900);
    exchanges.extend(kubernetes(&engine)?);

    Ok(Recording {
        description: Some(
            "The 2025-11-10 Jetstream2 incident (cluster k8s, nodegroup default-worker): generated from scenarios/incident/01-as-it-happened.yaml by magsim_mocks::replay::incident; see mocks/recordings/README.md".into(),
        ),
        exchanges,
    })
}

struct MagnumCx {
    base: &'static str,
    created: String,
    user_id: String,
}

impl MagnumCx {
    /// Applies `op` to the engine and records the request and Magnum's answer.
    #[allow(clippy::too_many_arguments)]
    fn exchange(
        &self,
        engine: &mut Engine,
        note: &str,
        method: &str,
        path: &str,
        request_body: Option<Value>,
        op: Operation,
        request_id: Option<String>,
    ) -> Result<Exchange, IncidentError> {
        let kind = match &op {
            Operation::ShowCluster { .. } => 1,
            Operation::ShowNodegroup { .. } | Operation::UpdateNodegroup { .. } => 2,
            _ => 0,
        };
        let r: ApiResponse = engine.apply(op, request_id);
        let c = engine
            .world
            .cluster
            .as_ref()
            .ok_or_else(|| IncidentError::NoObject("cluster".into()))?;
        let body = match (kind, r.error.is_none()) {
            (1, true) => magnum::cluster_body(c, &r.body, self.base, &self.user_id, &self.created),
            (2, true) => magnum::nodegroup_body(c, &r.body, self.base, &self.created),
            _ => r.body.clone(),
        };
        let headers = crate::magnum_response(&r)
            .headers
            .into_iter()
            .filter(|(k, _)| k != "Content-Length")
            .collect();
        Ok(Exchange {
            service: Service::ContainerInfra,
            note: Some(note.into()),
            request: RequestMatcher {
                method: method.into(),
                path: path.into(),
                query: None,
                body: request_body,
            },
            response: RecordedResponse {
                status: r.status,
                headers,
                body: Some(body),
                body_text: None,
            },
        })
    }
}

fn kubernetes(engine: &Engine) -> Result<Vec<Exchange>, IncidentError> {
    let world = &engine.world;
    let epoch = engine.epoch;
    let ts = |t: SimTime| epoch.at(t).rfc3339();
    let k8s = |note: &str,
               path: String,
               query: Option<BTreeMap<String, String>>,
               body: Value|
     -> Exchange {
        Exchange {
            service: Service::Kubernetes,
            note: Some(note.into()),
            request: RequestMatcher {
                method: "GET".into(),
                path,
                query,
                body: None,
            },
            response: RecordedResponse {
                status: 200,
                headers: headers(&[("Content-Type", "application/json")]),
                body: Some(body),
                body_text: None,
            },
        }
    };
    let mut out = Vec::new();

    let key = (
        "kube-system".to_string(),
        "cluster-autoscaler-status".to_string(),
    );
    let data = world
        .configmaps
        .get(&key)
        .map(|d| d.data())
        .ok_or_else(|| IncidentError::NoObject("cluster-autoscaler-status ConfigMap".into()))?;
    out.push(k8s(
        "kubectl -n kube-system get configmap cluster-autoscaler-status -o jsonpath='{.data.status}'",
        "/api/v1/namespaces/kube-system/configmaps/cluster-autoscaler-status".into(),
        None,
        json!({
            "kind": "ConfigMap",
            "apiVersion": "v1",
            "metadata": {
                "name": "cluster-autoscaler-status",
                "namespace": "kube-system",
                "uid": crate::openstack::pseudo_uuid4(9001),
                "resourceVersion": "9001",
                "creationTimestamp": ts(SimTime::ZERO),
                "annotations": {"cluster-autoscaler.kubernetes.io/last-updated": epoch.at(engine.now()).go_string()},
            },
            "data": data,
        }),
    ));

    let id = world
        .find_pod("default", PENDING_POD)
        .ok_or_else(|| IncidentError::NoObject(format!("pod {PENDING_POD}")))?;
    let pod = world.pod(id);
    let (cond_status, reason, message, since) = match &pod.scheduled {
        ScheduledCondition::Unschedulable { since, message } => (
            "False",
            Some("Unschedulable"),
            Some(message.clone()),
            *since,
        ),
        _ => ("True", None, None, pod.created),
    };
    let mut condition = serde_json::Map::new();
    condition.insert("type".into(), json!("PodScheduled"));
    condition.insert("status".into(), json!(cond_status));
    condition.insert("lastProbeTime".into(), Value::Null);
    condition.insert("lastTransitionTime".into(), json!(ts(since)));
    if let Some(r) = reason {
        condition.insert("reason".into(), json!(r));
    }
    if let Some(m) = message {
        condition.insert("message".into(), json!(m));
    }
    let req = pod.spec.requests;
    let owner = pod.owner.as_ref().map(|o| {
        json!([{"apiVersion": "apps/v1", "kind": o.kind, "name": o.name,
                "uid": crate::openstack::pseudo_uuid4(9002), "controller": true, "blockOwnerDeletion": true}])
    });
    let mut meta = serde_json::Map::new();
    meta.insert("name".into(), json!(pod.name));
    meta.insert(
        "generateName".into(),
        json!(pod.owner.as_ref().map(|o| format!("{}-", o.name))),
    );
    meta.insert("namespace".into(), json!(pod.namespace));
    meta.insert("uid".into(), json!(pod.uid));
    meta.insert("resourceVersion".into(), json!("9003"));
    meta.insert("creationTimestamp".into(), json!(ts(pod.created)));
    meta.insert("labels".into(), json!(pod.labels));
    if let Some(o) = owner {
        meta.insert("ownerReferences".into(), o);
    }
    let phase = match pod.phase {
        PodPhase::Pending => "Pending",
        _ => "Running",
    };
    out.push(k8s(
        "kubectl describe pod high-memory-deployment-844964899f-4md88 (the pod)",
        format!("/api/v1/namespaces/default/pods/{PENDING_POD}"),
        None,
        json!({
            "kind": "Pod",
            "apiVersion": "v1",
            "metadata": meta,
            "spec": {
                "containers": [{
                    "name": pod.spec.container,
                    "image": pod.spec.image,
                    "resources": {"requests": {
                        "cpu": magsim_sim::resources::format_cpu(req.milli_cpu),
                        "memory": magsim_sim::resources::format_bytes(req.memory),
                    }},
                }],
                "restartPolicy": "Always",
                "schedulerName": "default-scheduler",
                "priority": pod.spec.priority,
            },
            "status": {"phase": phase, "conditions": [condition], "qosClass": "Burstable"},
        }),
    ));

    let events: Vec<Value> = world
        .events
        .for_object("Pod", PENDING_POD)
        .enumerate()
        .map(|(i, e)| {
            json!({
                "metadata": {
                    "name": format!("{PENDING_POD}.{:016x}", 0x1879_0000_0000_0000u64 + i as u64),
                    "namespace": "default",
                    "uid": crate::openstack::pseudo_uuid4(9100 + i as u64),
                    "resourceVersion": (9100 + i).to_string(),
                    "creationTimestamp": ts(e.first_seen),
                },
                "involvedObject": {"kind": "Pod", "namespace": "default", "name": PENDING_POD,
                                   "uid": pod.uid, "apiVersion": "v1"},
                "reason": e.reason,
                "message": e.message,
                "source": {"component": e.source},
                "firstTimestamp": ts(e.first_seen),
                "lastTimestamp": ts(e.last_seen),
                "count": e.count,
                "type": e.event_type.to_string(),
                "eventTime": null,
                "reportingComponent": e.source,
                "reportingInstance": "",
            })
        })
        .collect();
    let query: BTreeMap<String, String> = [
        (
            "fieldSelector".to_string(),
            format!(
                "involvedObject.uid={},involvedObject.name={PENDING_POD},involvedObject.namespace=default",
                pod.uid
            ),
        ),
        ("limit".to_string(), "500".to_string()),
    ]
    .into_iter()
    .collect();
    out.push(k8s(
        "kubectl describe pod high-memory-deployment-844964899f-4md88 (its events)",
        "/api/v1/namespaces/default/events".into(),
        Some(query),
        json!({"kind": "EventList", "apiVersion": "v1", "metadata": {"resourceVersion": "9200"}, "items": events}),
    ));
    Ok(out)
}
