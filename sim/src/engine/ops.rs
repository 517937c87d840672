//! Operations a scenario step performs: the Magnum API calls of `openstack coe ...`, the
//! Kubernetes changes of `kubectl ...`, and the cloud operator's own levers.

use super::Engine;
use crate::autoscaler::expander::Priorities;
use crate::cloud::{ApiError, PatchOperation};
use crate::deploy::AutoscalerSpec;
use crate::kube::{Deployment, EventType, ObjectRef, PodPhase, ScheduledCondition};
use crate::world::Secret;
use serde_json::Value;
use std::collections::BTreeMap;

#[derive(Clone, Debug, PartialEq)]
pub enum Operation {
    /// `GET /v1/clusters/{cluster}`.
    ShowCluster {
        cluster: String,
    },
    /// `GET /v1/clusters/{cluster}/nodegroups/{nodegroup}`.
    ShowNodegroup {
        cluster: String,
        nodegroup: String,
    },
    /// `GET /v1/clustertemplates/{template}`.
    ShowClusterTemplate {
        template: String,
    },
    /// `PATCH /v1/clusters/{cluster}`.
    UpdateCluster {
        cluster: String,
        patch: Vec<PatchOperation>,
    },
    /// `PATCH /v1/clusters/{cluster}/nodegroups/{nodegroup}`.
    UpdateNodegroup {
        cluster: String,
        nodegroup: String,
        patch: Vec<PatchOperation>,
    },
    /// `POST /v1/clusters/{cluster}/nodegroups` with its JSON body.
    CreateNodegroup {
        cluster: String,
        body: Value,
    },
    /// `DELETE /v1/clusters/{cluster}/nodegroups/{nodegroup}`.
    DeleteNodegroup {
        cluster: String,
        nodegroup: String,
    },
    /// `POST /v1/clusters/{cluster}/actions/resize`.
    Resize {
        cluster: String,
        node_count: i64,
        nodegroup: Option<String>,
        nodes_to_remove: Vec<String>,
    },
    /// The cloud operator edits cluster labels behind the API (what Jetstream2 staff can do)
    /// and re-renders the driver's resources; `None` removes a label.
    AdminSetClusterLabels {
        labels: BTreeMap<String, Option<String>>,
    },
    /// The cloud operator changes the managed autoscaler's flags and restarts it.
    AdminSetAutoscalerArgs {
        autoscaler: String,
        args: Vec<String>,
    },
    ScaleDeployment {
        namespace: String,
        name: String,
        replicas: u32,
    },
    ApplyDeployment(Deployment),
    DeleteDeployment {
        namespace: String,
        name: String,
    },
    DeletePod {
        namespace: String,
        name: String,
    },
    ApplySecret(Secret),
    DeleteSecret {
        namespace: String,
        name: String,
    },
    /// A cluster-autoscaler Deployment applied to the workload cluster (or the managed one).
    DeployAutoscaler(AutoscalerSpec),
    RemoveAutoscaler {
        name: String,
    },
    Cordon {
        node: String,
        unschedulable: bool,
    },
    /// A client rewrote a node's labels and configured taints (`kubectl label|taint node`):
    /// the scheduler places pending pods against them from now on.
    SetNodeLabelsAndTaints {
        node: String,
        labels: crate::kube::Labels,
        taints: Vec<crate::kube::Taint>,
    },
    SetPriorityExpander(Option<Priorities>),
    /// A write of a MachineDeployment's `scale` subresource (cluster-autoscaler's clusterapi
    /// provider over the wire): the same change as the in-memory provider's `IncreaseSize`
    /// (`md.replicas = new`), then the controllers. Not a Magnum call: no request id.
    ScaleMachineDeployment {
        namespace: String,
        name: String,
        replicas: u32,
    },
    /// An Event a client posted (client-go's recorder), recorded at the current time and
    /// aggregated exactly as the in-memory components' events are.
    RecordEvent {
        object: ObjectRef,
        event_type: EventType,
        reason: &'static str,
        message: String,
        source: &'static str,
    },
    /// A ConfigMap created or replaced by a client (an autoscaler's status over the wire).
    PutConfigMap {
        namespace: String,
        name: String,
        data: BTreeMap<String, String>,
    },
    /// A ConfigMap deleted by a client (cluster-autoscaler deletes its status on exit).
    DeleteConfigMap {
        namespace: String,
        name: String,
    },
    /// An object nothing simulated reads, created or replaced as written ([`World::stored`]).
    ///
    /// [`World::stored`]: crate::world::World::stored
    PutStored {
        key: crate::world::StoredKey,
        object: Value,
    },
    DeleteStored {
        key: crate::world::StoredKey,
    },
    /// A client set or cleared a Machine's `cluster.x-k8s.io/delete-machine` annotation.
    MarkMachine {
        name: String,
        mark: Option<String>,
    },
    /// A client set a MachineDeployment's annotations (`kubectl annotate`, a patch or an
    /// update): the bounds the clusterapi provider reads. The driver re-renders its own
    /// annotations only when Magnum changes the cluster.
    SetMachineDeploymentAnnotations {
        namespace: String,
        name: String,
        annotations: BTreeMap<String, String>,
    },
}

impl Operation {
    /// A Magnum API call (answered with a request id).
    pub fn is_magnum(&self) -> bool {
        matches!(
            self,
            Operation::ShowCluster { .. }
                | Operation::ShowNodegroup { .. }
                | Operation::ShowClusterTemplate { .. }
                | Operation::UpdateCluster { .. }
                | Operation::UpdateNodegroup { .. }
                | Operation::CreateNodegroup { .. }
                | Operation::DeleteNodegroup { .. }
                | Operation::Resize { .. }
        )
    }
}

/// The answer to an API operation.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiResponse {
    pub status: u16,
    /// `x-openstack-request-id` for Magnum calls.
    pub request_id: Option<String>,
    pub body: Value,
    pub error: Option<ApiError>,
}

impl ApiResponse {
    pub(super) fn ok(status: u16, body: Value) -> ApiResponse {
        ApiResponse {
            status,
            request_id: None,
            body,
            error: None,
        }
    }

    pub(super) fn err(e: ApiError) -> ApiResponse {
        ApiResponse {
            status: e.status,
            request_id: None,
            body: e.body(),
            error: Some(e),
        }
    }

    fn not_found(kind: &str, name: &str) -> ApiResponse {
        ApiResponse::err(ApiError::new(404, format!("{kind} \"{name}\" not found")))
    }
}

impl Engine {
    /// Magnum's answer to a request an injected fault fails with `status`: nothing changes.
    pub fn magnum_fault(&mut self, status: u16, request_id: Option<String>) -> ApiResponse {
        let mut r = ApiResponse::err(crate::cloud::faults::magnum_error(status));
        r.request_id = Some(request_id.unwrap_or_else(|| self.next_request_id()));
        r
    }

    /// A fresh `req-<uuid4>` for a Magnum answer, from the scenario's RNG.
    pub fn next_request_id(&mut self) -> String {
        format!("req-{}", self.rng.uuid4())
    }

    /// Applies `op` at the current time; Magnum calls answer with `request_id` when given
    /// (to replay a recorded one) or a fresh `req-<uuid4>`.
    pub fn apply(&mut self, op: Operation, request_id: Option<String>) -> ApiResponse {
        let read_only = matches!(
            op,
            Operation::ShowCluster { .. }
                | Operation::ShowNodegroup { .. }
                | Operation::ShowClusterTemplate { .. }
        );
        let is_magnum = op.is_magnum();
        // No controller watches events or ConfigMaps.
        let unwatched = matches!(
            op,
            Operation::RecordEvent { .. }
                | Operation::PutConfigMap { .. }
                | Operation::DeleteConfigMap { .. }
                | Operation::PutStored { .. }
                | Operation::DeleteStored { .. }
                | Operation::MarkMachine { .. }
        );
        let mut resp = self.apply_inner(op);
        if is_magnum {
            resp.request_id = Some(request_id.unwrap_or_else(|| self.next_request_id()));
        }
        // A read changes nothing, so the controllers have nothing to react to; during a
        // loop run outside, they react when it ends.
        if !read_only && !unwatched && !self.loop_out {
            self.settle();
        }
        resp
    }

    pub(super) fn cluster_for(&self, ident: &str) -> Result<&crate::cloud::Cluster, ApiError> {
        self.world
            .magnum_cluster(ident)
            .ok_or_else(|| ApiError::new(404, format!("Cluster {ident} could not be found.")))
    }

    pub(super) fn apply_inner(&mut self, op: Operation) -> ApiResponse {
        match op {
            Operation::ShowCluster { cluster } => match self.cluster_for(&cluster) {
                Ok(c) => ApiResponse::ok(200, crate::cloud::magnum::cluster_json(c)),
                Err(e) => ApiResponse::err(e),
            },
            Operation::ShowClusterTemplate { template } => {
                match self.world.cluster.as_ref().filter(|c| c.template_matches(&template)) {
                    Some(c) => ApiResponse::ok(200, crate::cloud::magnum::cluster_template_json(c)),
                    None => ApiResponse::err(ApiError::new(
                        404,
                        format!("ClusterTemplate {template} could not be found."),
                    )),
                }
            }
            Operation::ShowNodegroup { cluster, nodegroup } => {
                match self
                    .cluster_for(&cluster)
                    .and_then(|c| c.nodegroup(&nodegroup).map(|n| (c, n)))
                {
                    Ok((c, n)) => ApiResponse::ok(200, crate::cloud::magnum::nodegroup_json(c, n)),
                    Err(e) => ApiResponse::err(e),
                }
            }
            Operation::UpdateCluster { cluster, patch } => {
                if let Err(e) = self.cluster_for(&cluster) {
                    return ApiResponse::err(e);
                }
                let c = self.world.cluster.as_mut().expect("checked above");
                match c.patch(&patch) {
                    Ok(count) => {
                        let uuid = c.uuid.clone();
                        let ng = c.default_worker().map(|n| n.name.clone());
                        self.trace.push(
                            self.now,
                            "magnum",
                            format!("cluster {cluster} update accepted"),
                        );
                        if let Some(ng) = ng {
                            self.conductor_resize(&ng, count);
                        }
                        ApiResponse::ok(202, serde_json::json!({"uuid": uuid}))
                    }
                    Err(e) => ApiResponse::err(e),
                }
            }
            Operation::UpdateNodegroup {
                cluster,
                nodegroup,
                patch,
            } => {
                if let Err(e) = self.cluster_for(&cluster) {
                    return ApiResponse::err(e);
                }
                let c = self.world.cluster.as_mut().expect("checked above");
                let result = c.patch_nodegroup(&nodegroup, &patch).cloned();
                match result {
                    Ok(ng) => {
                        let body = crate::cloud::magnum::nodegroup_json(
                            self.world.cluster.as_ref().expect("exists"),
                            &ng,
                        );
                        self.trace.push(
                            self.now,
                            "magnum",
                            format!(
                                "nodegroup {} now min_node_count={} max_node_count={}",
                                ng.name,
                                ng.min_node_count,
                                ng.max_node_count.map_or("None".into(), |m| m.to_string())
                            ),
                        );
                        self.driver_rerender(None);
                        ApiResponse::ok(202, body)
                    }
                    Err(e) => ApiResponse::err(e),
                }
            }
            Operation::CreateNodegroup { cluster, body } => self.create_nodegroup(&cluster, &body),
            Operation::DeleteNodegroup { cluster, nodegroup } => {
                self.delete_nodegroup(&cluster, &nodegroup)
            }
            Operation::Resize {
                cluster,
                node_count,
                nodegroup,
                nodes_to_remove,
            } => {
                let checked = self.cluster_for(&cluster).and_then(|c| {
                    c.check_resize(node_count, nodegroup.as_deref())
                        .map(|ng| (c.uuid.clone(), ng, c.driver))
                });
                match checked {
                    Ok((uuid, ng, driver)) => {
                        if !nodes_to_remove.is_empty() && driver.is_capi() {
                            self.trace.push(
                                self.now,
                                "magnum",
                                "nodes_to_remove is ignored by the magnum-capi-helm driver",
                            );
                        } else if !nodes_to_remove.is_empty() {
                            self.heat_remove_members(&ng, &nodes_to_remove);
                        }
                        self.conductor_resize(&ng, node_count as u32);
                        ApiResponse::ok(202, serde_json::json!({"uuid": uuid}))
                    }
                    Err(e) => ApiResponse::err(e),
                }
            }
            Operation::AdminSetClusterLabels { labels } => {
                let Some(c) = self.world.cluster.as_mut() else {
                    return ApiResponse::not_found("cluster", "");
                };
                for (k, v) in &labels {
                    match v {
                        Some(v) => c.labels.insert(k.clone(), v.clone()),
                        None => c.labels.shift_remove(k),
                    };
                }
                self.trace.push(
                    self.now,
                    "cloud-operator",
                    format!(
                        "cluster labels now {}",
                        crate::cloud::Cluster::labels_repr(&c.labels)
                    ),
                );
                self.driver_rerender(None);
                ApiResponse::ok(200, Value::Null)
            }
            Operation::AdminSetAutoscalerArgs { autoscaler, args } => {
                let Some(i) = self
                    .autoscalers
                    .iter()
                    .position(|a| a.spec.name == autoscaler)
                else {
                    return ApiResponse::not_found("autoscaler", &autoscaler);
                };
                let mut spec = self.autoscalers[i].spec.clone();
                spec.args = args;
                self.trace.push(
                    self.now,
                    "cloud-operator",
                    format!("restarting {autoscaler} with {}", spec.args.join(" ")),
                );
                self.autoscalers[i].phase = crate::autoscaler::Phase::Stopped;
                self.deploy_autoscaler(spec);
                ApiResponse::ok(200, Value::Null)
            }
            Operation::ScaleDeployment {
                namespace,
                name,
                replicas,
            } => {
                if let Some(e) = self.pods_over_cap(&namespace, &name, replicas) {
                    return ApiResponse::err(e);
                }
                match self
                    .world
                    .deployments
                    .iter_mut()
                    .find(|d| d.name == name && d.namespace == namespace)
                {
                    Some(d) => {
                        d.replicas = replicas;
                        self.trace.push(
                            self.now,
                            "apiserver",
                            format!("deployment.apps/{name} scaled to {replicas}"),
                        );
                        ApiResponse::ok(200, Value::Null)
                    }
                    None => ApiResponse::not_found("deployments.apps", &name),
                }
            }
            Operation::ApplyDeployment(d) => {
                if let Some(e) = self.pods_over_cap(&d.namespace, &d.name, d.replicas) {
                    return ApiResponse::err(e);
                }
                let name = d.name.clone();
                let existing = self
                    .world
                    .deployments
                    .iter()
                    .position(|x| x.name == d.name && x.namespace == d.namespace);
                let verb = match existing {
                    Some(i) if self.world.deployments[i].spec == d.spec => {
                        self.world.deployments[i].replicas = d.replicas;
                        "configured"
                    }
                    Some(i) => {
                        let old = self.world.deployments[i].replica_set_name();
                        self.world.deployments[i] = d;
                        self.world.delete_owned_by(&old);
                        "configured"
                    }
                    None => {
                        self.world.deployments.push(d);
                        "created"
                    }
                };
                self.trace.push(
                    self.now,
                    "apiserver",
                    format!("deployment.apps/{name} {verb}"),
                );
                ApiResponse::ok(200, Value::Null)
            }
            Operation::DeleteDeployment { namespace, name } => {
                let Some(i) = self
                    .world
                    .deployments
                    .iter()
                    .position(|d| d.name == name && d.namespace == namespace)
                else {
                    return ApiResponse::not_found("deployments.apps", &name);
                };
                let d = self.world.deployments.remove(i);
                let rs = d.replica_set_name();
                self.world.delete_owned_by(&rs);
                self.trace.push(
                    self.now,
                    "apiserver",
                    format!("deployment.apps \"{name}\" deleted"),
                );
                self.dirty = true;
                ApiResponse::ok(200, Value::Null)
            }
            Operation::DeletePod { namespace, name } => {
                match self.world.find_pod(&namespace, &name) {
                    Some(id) => {
                        self.world.delete_pod(id);
                        self.trace
                            .push(self.now, "apiserver", format!("pod \"{name}\" deleted"));
                        self.dirty = true;
                        ApiResponse::ok(200, Value::Null)
                    }
                    None => ApiResponse::not_found("pods", &name),
                }
            }
            Operation::ApplySecret(s) => {
                let name = s.name.clone();
                self.world
                    .secrets
                    .retain(|x| !(x.name == s.name && x.namespace == s.namespace));
                self.world.secrets.push(s);
                self.trace
                    .push(self.now, "apiserver", format!("secret {name} stored"));
                ApiResponse::ok(200, Value::Null)
            }
            Operation::DeleteSecret { namespace, name } => {
                let before = self.world.secrets.len();
                self.world
                    .secrets
                    .retain(|x| !(x.name == name && x.namespace == namespace));
                if before == self.world.secrets.len() {
                    return ApiResponse::not_found("secrets", &name);
                }
                self.trace
                    .push(self.now, "apiserver", format!("secret \"{name}\" deleted"));
                ApiResponse::ok(200, Value::Null)
            }
            Operation::DeployAutoscaler(spec) => {
                if let Some(i) = self
                    .autoscalers
                    .iter()
                    .position(|a| a.spec.name == spec.name && !a.is_stopped())
                {
                    self.autoscalers[i].phase = crate::autoscaler::Phase::Stopped;
                }
                self.trace.push(
                    self.now,
                    "apiserver",
                    format!("deployment.apps/{} created", spec.name),
                );
                self.deploy_autoscaler(spec);
                ApiResponse::ok(201, Value::Null)
            }
            Operation::RemoveAutoscaler { name } => match self
                .autoscalers
                .iter()
                .position(|a| a.spec.name == name && !a.is_stopped())
            {
                Some(i) => {
                    self.autoscalers[i].phase = crate::autoscaler::Phase::Stopped;
                    self.trace.push(
                        self.now,
                        "apiserver",
                        format!("deployment.apps \"{name}\" deleted"),
                    );
                    ApiResponse::ok(200, Value::Null)
                }
                None => ApiResponse::not_found("deployments.apps", &name),
            },
            Operation::Cordon {
                node,
                unschedulable,
            } => match self.world.find_node(&node) {
                Some(id) => {
                    self.world.nodes[id.0 as usize].unschedulable = unschedulable;
                    let verb = if unschedulable {
                        "cordoned"
                    } else {
                        "uncordoned"
                    };
                    self.trace
                        .push(self.now, "apiserver", format!("node/{node} {verb}"));
                    self.dirty = true;
                    ApiResponse::ok(200, Value::Null)
                }
                None => ApiResponse::not_found("nodes", &node),
            },
            Operation::SetNodeLabelsAndTaints {
                node,
                labels,
                taints,
            } => match self.world.find_node(&node) {
                Some(id) => {
                    self.world.relabel_node(id, labels, taints);
                    self.dirty = true;
                    ApiResponse::ok(200, Value::Null)
                }
                None => ApiResponse::not_found("nodes", &node),
            },
            Operation::SetPriorityExpander(p) => {
                self.world.priority_expander = p;
                ApiResponse::ok(200, Value::Null)
            }
            // Server-side writes leave the trace alone: the trace is the client's log.
            Operation::ScaleMachineDeployment {
                namespace,
                name,
                replicas,
            } => match self.world.machine_deployment_mut(&namespace, &name) {
                Some(_) if replicas > crate::limits::MAX_NODES => ApiResponse::err(ApiError::new(
                    422,
                    format!(
                        "spec.replicas: Invalid value: {replicas}: must be less than or equal to {} (magsim's limit on nodes per nodegroup)",
                        crate::limits::MAX_NODES
                    ),
                )),
                Some(md) => {
                    md.replicas = replicas;
                    ApiResponse::ok(
                        200,
                        serde_json::json!({"namespace": namespace, "name": name, "replicas": replicas}),
                    )
                }
                None => ApiResponse::not_found("machinedeployments.cluster.x-k8s.io", &name),
            },
            Operation::RecordEvent {
                object,
                event_type,
                reason,
                message,
                source,
            } => {
                let new = self.world.events.record(
                    self.now,
                    object.clone(),
                    event_type,
                    reason,
                    message.as_str(),
                    source,
                );
                let index = self
                    .world
                    .events
                    .find(&object, reason, &message, source)
                    .expect("just recorded");
                let e = &self.world.events.all()[index];
                ApiResponse::ok(
                    if new { 201 } else { 200 },
                    serde_json::json!({"index": index, "id": e.id, "count": e.count}),
                )
            }
            Operation::PutConfigMap {
                namespace,
                name,
                data,
            } => {
                let old = self
                    .world
                    .configmaps
                    .insert((namespace, name), crate::world::ConfigMapData::Plain(data));
                ApiResponse::ok(if old.is_some() { 200 } else { 201 }, Value::Null)
            }
            Operation::DeleteConfigMap { namespace, name } => {
                match self.world.configmaps.remove(&(namespace, name.clone())) {
                    Some(_) => ApiResponse::ok(200, Value::Null),
                    None => ApiResponse::not_found("configmaps", &name),
                }
            }
            Operation::PutStored { key, object } => {
                let old = self.world.stored.insert(key, object);
                ApiResponse::ok(if old.is_some() { 200 } else { 201 }, Value::Null)
            }
            Operation::DeleteStored { key } => match self.world.stored.remove(&key) {
                Some(_) => ApiResponse::ok(200, Value::Null),
                None => ApiResponse::not_found(&key.0, &key.2),
            },
            Operation::MarkMachine { name, mark } => {
                match self.world.machines.iter_mut().find(|m| m.name == name) {
                    Some(m) => {
                        m.delete_mark = mark;
                        ApiResponse::ok(200, Value::Null)
                    }
                    None => ApiResponse::not_found("machines.cluster.x-k8s.io", &name),
                }
            }
            Operation::SetMachineDeploymentAnnotations {
                namespace,
                name,
                annotations,
            } => match self.world.machine_deployment_mut(&namespace, &name) {
                Some(md) => {
                    md.annotations = annotations.into_iter().collect();
                    self.log_bounds();
                    ApiResponse::ok(200, Value::Null)
                }
                None => ApiResponse::not_found("machinedeployments.cluster.x-k8s.io", &name),
            },
        }
    }

    /// The API server's refusal of `replicas` for Deployment `namespace/name` when every
    /// Deployment's replicas together would pass [`crate::limits::MAX_PODS`].
    fn pods_over_cap(&self, namespace: &str, name: &str, replicas: u32) -> Option<ApiError> {
        let max = u64::from(crate::limits::MAX_PODS);
        let others: u64 = self
            .world
            .deployments
            .iter()
            .filter(|d| !(d.name == name && d.namespace == namespace))
            .map(|d| u64::from(d.replicas))
            .sum();
        let allowed = max.saturating_sub(others);
        (u64::from(replicas) > allowed).then(|| {
            ApiError::new(
                422,
                format!(
                    "spec.replicas: Invalid value: {replicas}: must be less than or equal to {allowed} (magsim's limit of {max} pods per scenario)"
                ),
            )
        })
    }

    /// The Magnum conductor applies an accepted resize and the driver re-renders.
    fn conductor_resize(&mut self, nodegroup: &str, count: u32) {
        if let Err(e) = self.world.magnum_resize(nodegroup, count) {
            self.trace.push(
                self.now,
                "magnum",
                format!("nodegroup {nodegroup} UPDATE_FAILED: {e}"),
            );
        } else {
            self.trace.push(
                self.now,
                "magnum",
                format!("nodegroup {nodegroup} node_count set to {count}"),
            );
            self.log_bounds();
        }
    }

    /// The Heat driver passes `nodes_to_remove` to the kube_minions ResourceGroup's removal
    /// policy (`minions_to_remove`): members named by server id, member index or server name
    /// go first, and their indices are never reused. Unknown entries are ignored.
    fn heat_remove_members(&mut self, nodegroup: &str, nodes_to_remove: &[String]) {
        let victims: Vec<usize> = self
            .world
            .machines
            .iter()
            .enumerate()
            .filter(|(_, m)| m.nodegroup == nodegroup)
            .filter(|(_, m)| {
                let server = m
                    .node
                    .map(|id| crate::cloud::heat::server_id(self.world.node(id)));
                nodes_to_remove.iter().any(|r| {
                    *r == m.name || *r == m.index.to_string() || server.as_deref() == Some(r)
                })
            })
            .map(|(i, _)| i)
            .collect();
        let mut removed: Vec<_> = victims
            .into_iter()
            .rev()
            .map(|i| self.world.remove_machine(i))
            .collect();
        removed.reverse();
        for m in removed {
            self.world
                .heat_removed
                .entry(m.nodegroup.clone())
                .or_default()
                .insert(m.index);
            self.server_deleted(&m);
        }
    }

    pub(super) fn driver_rerender(&mut self, resized: Option<&str>) {
        match self.world.rerender(resized) {
            Ok(()) => self.log_bounds(),
            Err(e) => self
                .trace
                .push(self.now, "magnum", format!("cluster UPDATE_FAILED: {e}")),
        }
    }

    /// Shows what the driver rendered for the autoscaler, the point of the limit chain.
    pub(super) fn log_bounds(&mut self) {
        let lines: Vec<String> = self
            .world
            .machine_deployments
            .iter()
            .map(|md| match md.bounds() {
                Ok(Some((min, max))) => format!(
                    "{} annotations min-size={min} max-size={max}, replicas={}",
                    md.group_id(),
                    md.replicas
                ),
                Ok(None) => format!("{} not autoscaled, replicas={}", md.group_id(), md.replicas),
                Err(e) => format!("{}: {e}", md.group_id()),
            })
            .collect();
        for l in lines {
            self.trace.push(self.now, "capi-helm", l);
        }
    }

    /// Pods still Pending, with the scheduler's message when it has tried.
    pub fn pending_pods(&self) -> Vec<(String, Option<String>)> {
        self.world
            .live_pods()
            .filter(|(_, p)| p.phase == PodPhase::Pending)
            .map(|(_, p)| {
                let msg = match &p.scheduled {
                    ScheduledCondition::Unschedulable { message, .. } => Some(message.clone()),
                    _ => None,
                };
                (p.key(), msg)
            })
            .collect()
    }
}
