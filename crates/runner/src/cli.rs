//! What the real clients print: python-openstackclient 9.0.0 with python-magnumclient 4.8.1,
//! and kubectl 1.32, for the commands a scenario can run.

use crate::api::{Api, DROPPED};
use crate::tables::{cliff, cliff_list, columns, human_duration};
use magsim_scenario::{Command, KubectlCall, OsCall};
use magsim_sim::cloud::faults::{FaultEffect, Service};
use magsim_sim::cloud::patch::py_repr;
use magsim_sim::engine::{ApiResponse, Engine, Operation};
use magsim_sim::kube::{PodPhase, ScheduledCondition};
use serde_json::Value;

/// The result of one step, as a client user sees it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Outcome {
    pub stdout: String,
    pub stderr: String,
    pub exit_code: i32,
    /// The HTTP status of the step's (last) API call.
    pub status: Option<u16>,
    pub title: Option<String>,
    pub request_id: Option<String>,
}

impl Outcome {
    pub(crate) fn ok(stdout: String) -> Outcome {
        Outcome {
            stdout,
            ..Default::default()
        }
    }

    pub fn from_op(label: &str, r: ApiResponse) -> Outcome {
        let mut o = Outcome {
            status: Some(r.status),
            request_id: r.request_id.clone(),
            ..Default::default()
        };
        match &r.error {
            Some(e) => {
                o.title = Some(e.title().to_string());
                o.stderr = format!("{label}: {} (HTTP {})", e.message, e.status);
                o.exit_code = 1;
            }
            None => o.stdout = format!("{label}: HTTP {}", r.status),
        }
        o
    }
}

const MAGNUM: &str = magsim_sim::cloud::magnum::MAGNUM_ENDPOINT;

pub fn perform(
    api: &mut dyn Api,
    cmd: &Command,
    applied: &[magsim_scenario::Applied],
    request_id: Option<String>,
) -> Outcome {
    match cmd {
        Command::Openstack { debug, call } => openstack(api, *debug, call, request_id),
        Command::Kubectl { namespace, call } => kubectl(api, namespace.as_deref(), call, applied),
    }
}

/// Whether the model's rendering of `call` draws a Magnum request id (the lists render from
/// the world without a request of their own).
pub(crate) fn draws_request_id(call: &OsCall) -> bool {
    !matches!(
        call,
        OsCall::ClusterList | OsCall::NodegroupList { .. } | OsCall::TemplateList
    )
}

fn openstack(api: &mut dyn Api, debug: bool, call: &OsCall, request_id: Option<String>) -> Outcome {
    if let OsCall::NodegroupDelete {
        cluster,
        nodegroups,
    } = call
    {
        if nodegroups.len() > 1 {
            return delete_each(api, debug, cluster, nodegroups, request_id);
        }
    }
    let (op, method, path, body) = match call {
        OsCall::ClusterShow { cluster } => (
            Operation::ShowCluster {
                cluster: cluster.clone(),
            },
            "GET",
            format!("/clusters/{cluster}"),
            None,
        ),
        OsCall::TemplateShow { template } => (
            Operation::ShowClusterTemplate {
                template: template.clone(),
            },
            "GET",
            format!("/clustertemplates/{template}"),
            None,
        ),
        OsCall::NodegroupShow { cluster, nodegroup } => (
            Operation::ShowNodegroup {
                cluster: cluster.clone(),
                nodegroup: nodegroup.clone(),
            },
            "GET",
            format!("/clusters/{cluster}/nodegroups/{nodegroup}"),
            None,
        ),
        OsCall::ClusterUpdate { cluster, patch } => (
            Operation::UpdateCluster {
                cluster: cluster.clone(),
                patch: patch.clone(),
            },
            "PATCH",
            format!("/clusters/{cluster}"),
            Some(Value::Array(patch.iter().map(|p| p.to_json()).collect())),
        ),
        OsCall::NodegroupUpdate {
            cluster,
            nodegroup,
            patch,
        } => (
            Operation::UpdateNodegroup {
                cluster: cluster.clone(),
                nodegroup: nodegroup.clone(),
                patch: patch.clone(),
            },
            "PATCH",
            format!("/clusters/{cluster}/nodegroups/{nodegroup}"),
            Some(Value::Array(patch.iter().map(|p| p.to_json()).collect())),
        ),
        OsCall::NodegroupCreate { cluster, body } => (
            Operation::CreateNodegroup {
                cluster: cluster.clone(),
                body: body.clone(),
            },
            "POST",
            format!("/clusters/{cluster}/nodegroups"),
            Some(body.clone()),
        ),
        OsCall::NodegroupDelete {
            cluster,
            nodegroups,
        } => {
            let nodegroup = nodegroups.first().cloned().unwrap_or_default();
            (
                Operation::DeleteNodegroup {
                    cluster: cluster.clone(),
                    nodegroup: nodegroup.clone(),
                },
                "DELETE",
                format!("/clusters/{cluster}/nodegroups/{nodegroup}"),
                None,
            )
        }
        OsCall::ClusterResize {
            cluster,
            node_count,
            nodegroup,
            nodes_to_remove,
        } => {
            let mut b = serde_json::Map::new();
            b.insert("node_count".into(), (*node_count).into());
            if !nodes_to_remove.is_empty() {
                b.insert("nodes_to_remove".into(), nodes_to_remove.clone().into());
            }
            if let Some(ng) = nodegroup {
                b.insert("nodegroup".into(), ng.clone().into());
            }
            (
                Operation::Resize {
                    cluster: cluster.clone(),
                    node_count: *node_count,
                    nodegroup: nodegroup.clone(),
                    nodes_to_remove: nodes_to_remove.clone(),
                },
                "POST",
                // magnumclient looks the cluster up first and resizes it by uuid.
                format!(
                    "/clusters/{}/actions/resize",
                    uuid_of(api.engine(), cluster)
                ),
                Some(Value::Object(b)),
            )
        }
        OsCall::ClusterList => {
            return faulted(api.engine(), "GET", "/clusters", request_id)
                .unwrap_or_else(|| cluster_list(api.engine()))
        }
        OsCall::NodegroupList { cluster } => {
            let path = format!("/clusters/{cluster}/nodegroups");
            return faulted(api.engine(), "GET", &path, request_id)
                .unwrap_or_else(|| nodegroup_list(api.engine(), cluster));
        }
        OsCall::TemplateList => {
            return faulted(api.engine(), "GET", "/clustertemplates", request_id)
                .unwrap_or_else(|| template_list(api.engine()))
        }
    };
    // In memory the faults are asked here; over the wire the servers ask them.
    let effect = match api.faults_here() {
        true => client_fault(api.engine(), method, &path),
        false => None,
    };
    let r = match effect {
        Some(FaultEffect::Error(status)) => api.engine().magnum_fault(status, request_id),
        Some(FaultEffect::Drop) => return connection_aborted(&path),
        Some(FaultEffect::Latency(_)) | None => api.apply(op, request_id),
    };
    if r.status == DROPPED {
        return connection_aborted(&path);
    }
    let mut o = Outcome {
        status: Some(r.status),
        request_id: r.request_id.clone(),
        ..Default::default()
    };
    if debug {
        let mut curl = format!(
            "REQ: curl -g -i -X {method} {MAGNUM}{path} -H \"Accept: application/json\" -H \"Content-Type: application/json\" -H \"OpenStack-API-Version: container-infra latest\" -H \"User-Agent: None\" -H \"X-Auth-Token: {{SHA256}}redacted\""
        );
        if let Some(b) = &body {
            curl.push_str(&format!(" -d '{}'", magsim_mocks::python_json(b)));
        }
        o.stderr.push_str(&curl);
        o.stderr.push('\n');
        let rid = r.request_id.clone().unwrap_or_default();
        let wire = magsim_mocks::magnum_response(&r);
        let headers: Vec<String> = wire
            .headers
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect();
        o.stderr
            .push_str(&format!("RESP: [{}] {}\n", wire.status, headers.join(" ")));
        o.stderr.push_str(&format!("RESP BODY: {}\n", wire.body));
        o.stderr.push_str(&format!(
            "{method} call to container-infra for {MAGNUM}{path} used request id {rid}\n"
        ));
    }
    if let Some(e) = &r.error {
        o.title = Some(e.title().to_string());
        o.stderr.push_str(&error_line(e, &r));
        o.exit_code = 1;
        return o;
    }
    o.stdout = match call {
        OsCall::ClusterShow { .. } => show_table(&r.body, CLUSTER_ROWS),
        OsCall::NodegroupShow { .. } => show_table(&r.body, NODEGROUP_ROWS),
        OsCall::TemplateShow { .. } => show_table(&template_shown(&r.body), TEMPLATE_ROWS),
        OsCall::ClusterUpdate { cluster, .. } => {
            format!("Request to update cluster {cluster} has been accepted.\n")
        }
        OsCall::NodegroupUpdate { nodegroup, .. } => {
            format!("Request to update nodegroup {nodegroup} has been accepted.\n")
        }
        OsCall::ClusterResize { cluster, .. } => {
            format!("Request to resize cluster {cluster} has been accepted.\n")
        }
        OsCall::NodegroupCreate { .. } => format!(
            "Request to create nodegroup {} accepted\n",
            r.body["uuid"].as_str().unwrap_or_default()
        ),
        OsCall::NodegroupDelete { nodegroups, .. } => format!(
            "Request to delete nodegroup {} has been accepted.\n",
            nodegroups.first().map_or("", String::as_str)
        ),
        OsCall::ClusterList | OsCall::NodegroupList { .. } | OsCall::TemplateList => String::new(),
    };
    o
}

/// `coe nodegroup delete` of several nodegroups: one DELETE each, in order, stopping at the
/// first error as magnumclient's loop does.
fn delete_each(
    api: &mut dyn Api,
    debug: bool,
    cluster: &str,
    nodegroups: &[String],
    mut request_id: Option<String>,
) -> Outcome {
    let mut all = Outcome::default();
    for ng in nodegroups {
        let one = OsCall::NodegroupDelete {
            cluster: cluster.to_string(),
            nodegroups: vec![ng.clone()],
        };
        let o = openstack(api, debug, &one, request_id.take());
        all.stdout.push_str(&o.stdout);
        all.stderr.push_str(&o.stderr);
        (all.exit_code, all.status) = (o.exit_code, o.status);
        (all.title, all.request_id) = (o.title, o.request_id);
        if o.exit_code != 0 {
            break;
        }
    }
    all
}

/// The uuid of the cluster `ident` names (name or uuid), or `ident` when there is none.
fn uuid_of(engine: &Engine, ident: &str) -> String {
    let cluster = engine.world.magnum_cluster(ident);
    cluster.map_or_else(|| ident.to_string(), |c| c.uuid.clone())
}

/// magnumclient's error line: the title, the status and the request id.
fn error_line(e: &magsim_sim::cloud::ApiError, r: &ApiResponse) -> String {
    let id = r.request_id.as_deref().unwrap_or_default();
    format!("{} (HTTP {}) (Request-ID: {id})\n", e.title(), e.status)
}

/// The scenario's fault on Magnum's `method path`, asked on the client's side.
fn client_fault(engine: &mut Engine, method: &str, path: &str) -> Option<FaultEffect> {
    let now = engine.now();
    let path = format!("/v1{path}");
    engine
        .world
        .faults
        .hit(now, Service::ContainerInfra, method, &path)
}

/// A list call's outcome when a fault takes it, else `None`.
fn faulted(
    engine: &mut Engine,
    method: &str,
    path: &str,
    request_id: Option<String>,
) -> Option<Outcome> {
    match client_fault(engine, method, path)? {
        FaultEffect::Error(status) => {
            let r = engine.magnum_fault(status, request_id);
            let e = r.error.as_ref()?;
            Some(Outcome {
                stderr: error_line(e, &r),
                exit_code: 1,
                status: Some(status),
                title: Some(e.title().to_string()),
                request_id: r.request_id.clone(),
                ..Default::default()
            })
        }
        FaultEffect::Drop => Some(connection_aborted(path)),
        FaultEffect::Latency(_) => None,
    }
}

/// keystoneauth's `ConnectFailure` when Magnum closes the connection without answering.
fn connection_aborted(path: &str) -> Outcome {
    Outcome {
        stderr: format!("Unable to establish connection to {MAGNUM}{path}: ('Connection aborted.', RemoteDisconnected('Remote end closed connection without response'))\n"),
        exit_code: 1,
        ..Default::default()
    }
}

const CLUSTER_ROWS: &[&str] = &[
    "status",
    "health_status",
    "cluster_template_id",
    "node_addresses",
    "uuid",
    "stack_id",
    "status_reason",
    "created_at",
    "updated_at",
    "coe_version",
    "labels",
    "labels_overridden",
    "labels_skipped",
    "labels_added",
    "fixed_network",
    "fixed_subnet",
    "floating_ip_enabled",
    "faults",
    "keypair",
    "api_address",
    "master_addresses",
    "master_lb_enabled",
    "create_timeout",
    "node_count",
    "discovery_url",
    "docker_volume_size",
    "master_count",
    "container_version",
    "name",
    "master_flavor_id",
    "flavor_id",
    "health_status_reason",
    "project_id",
];

/// `coe cluster template show`'s rows (magnumclient's `CLUSTER_TEMPLATE_ATTRIBUTES`).
const TEMPLATE_ROWS: &[&str] = &[
    "insecure_registry",
    "labels",
    "updated_at",
    "floating_ip_enabled",
    "fixed_subnet",
    "master_flavor_id",
    "uuid",
    "no_proxy",
    "https_proxy",
    "tls_disabled",
    "keypair_id",
    "public",
    "http_proxy",
    "docker_volume_size",
    "server_type",
    "external_network_id",
    "cluster_distro",
    "image_id",
    "volume_driver",
    "registry_enabled",
    "docker_storage_driver",
    "apiserver_port",
    "name",
    "created_at",
    "network_driver",
    "fixed_network",
    "coe",
    "flavor_id",
    "master_lb_enabled",
    "dns_nameserver",
    "project_id",
    "hidden",
    "tags",
];

/// magnumclient shows a template's `None` fields as `-`.
fn template_shown(body: &Value) -> Value {
    let mut shown = body.clone();
    if let Some(fields) = shown.as_object_mut() {
        for v in fields.values_mut().filter(|v| v.is_null()) {
            *v = Value::String("-".into());
        }
    }
    shown
}

const NODEGROUP_ROWS: &[&str] = &[
    "uuid",
    "name",
    "cluster_id",
    "project_id",
    "docker_volume_size",
    "labels",
    "labels_overridden",
    "labels_skipped",
    "labels_added",
    "flavor_id",
    "image_id",
    "node_addresses",
    "node_count",
    "role",
    "max_node_count",
    "min_node_count",
    "is_default",
    "stack_id",
    "status",
    "status_reason",
];

/// python-openstackclient's rendering of one value: Python reprs for dicts, `None`, `True`.
fn cell(v: Option<&Value>) -> String {
    match v {
        None => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => py_repr(other),
    }
}

fn show_table(body: &Value, rows: &[&str]) -> String {
    let rows: Vec<(String, String)> = rows
        .iter()
        .map(|k| (k.to_string(), cell(body.get(*k))))
        .collect();
    cliff(&rows, ("Field", "Value"))
}

fn cluster_list(engine: &Engine) -> Outcome {
    let rows: Vec<Vec<String>> = engine
        .world
        .cluster
        .iter()
        .map(|c| {
            vec![
                c.uuid.clone(),
                c.name.clone(),
                "None".into(),
                c.node_count().to_string(),
                c.master_count().to_string(),
                c.status.clone(),
                c.health_status.clone().unwrap_or("None".into()),
            ]
        })
        .collect();
    Outcome::ok(cliff_list(
        &[
            "uuid",
            "name",
            "keypair",
            "node_count",
            "master_count",
            "status",
            "health_status",
        ],
        &rows,
    ))
}

/// `coe cluster template list`: the columns magnumclient asks for without `--fields`.
fn template_list(engine: &Engine) -> Outcome {
    let rows: Vec<Vec<String>> = engine
        .world
        .cluster
        .iter()
        .map(|c| {
            vec![
                c.cluster_template_id.clone(),
                c.cluster_template_name.clone(),
                "None".into(),
            ]
        })
        .collect();
    Outcome::ok(cliff_list(&["uuid", "name", "tags"], &rows))
}

fn nodegroup_list(engine: &Engine, cluster: &str) -> Outcome {
    let Some(c) = engine.world.magnum_cluster(cluster) else {
        return Outcome {
            stderr: format!("Cluster {cluster} could not be found (HTTP 404)\n"),
            exit_code: 1,
            status: Some(404),
            ..Default::default()
        };
    };
    let rows: Vec<Vec<String>> = c
        .nodegroups
        .iter()
        .map(|n| {
            vec![
                n.uuid.clone(),
                n.name.clone(),
                n.flavor_id.clone(),
                n.image_id.clone(),
                n.node_count.to_string(),
                n.status.clone(),
                n.role.clone(),
            ]
        })
        .collect();
    Outcome::ok(cliff_list(
        &[
            "uuid",
            "name",
            "flavor_id",
            "image_id",
            "node_count",
            "status",
            "role",
        ],
        &rows,
    ))
}

fn kubectl(
    api: &mut dyn Api,
    namespace: Option<&str>,
    call: &KubectlCall,
    applied: &[magsim_scenario::Applied],
) -> Outcome {
    let ns = namespace.unwrap_or("default").to_string();
    let not_found = |what: &str, name: &str| Outcome {
        stderr: format!("Error from server (NotFound): {what} \"{name}\" not found\n"),
        exit_code: 1,
        status: Some(404),
        ..Default::default()
    };
    match call {
        KubectlCall::Scale { name, replicas } => {
            let r = api.apply(
                Operation::ScaleDeployment {
                    namespace: ns,
                    name: name.clone(),
                    replicas: *replicas,
                },
                None,
            );
            if r.status == 404 {
                return not_found("deployments.apps", name);
            }
            if let Some(e) = r.error.as_ref().filter(|_| r.status == 422) {
                return Outcome {
                    stderr: format!("The Scale \"{name}\" is invalid: {}\n", e.message),
                    exit_code: 1,
                    status: Some(422),
                    ..Default::default()
                };
            }
            Outcome {
                stdout: format!("deployment.apps/{name} scaled\n"),
                status: Some(200),
                ..Default::default()
            }
        }
        KubectlCall::Apply | KubectlCall::DeleteManifest => {
            let mut out = Outcome {
                status: Some(200),
                ..Default::default()
            };
            for a in applied {
                let existed = existed(api.engine(), a.op.as_ref());
                let verb = match (&a.op, existed) {
                    (
                        Some(
                            Operation::RemoveAutoscaler { .. }
                            | Operation::DeleteDeployment { .. }
                            | Operation::DeleteSecret { .. },
                        ),
                        _,
                    ) => "deleted",
                    (_, true) => "configured",
                    (_, false) => "created",
                };
                if let Some(op) = &a.op {
                    let r = api.apply(op.clone(), None);
                    if r.status == 404 {
                        let (kind, name) = a.object.split_once('/').unwrap_or((&a.object, ""));
                        out.stderr.push_str(&format!(
                            "Error from server (NotFound): {kind}s \"{name}\" not found\n"
                        ));
                        out.exit_code = 1;
                        continue;
                    }
                }
                if verb == "deleted" {
                    let (kind, name) = a.object.split_once('/').unwrap_or((&a.object, ""));
                    out.stdout.push_str(&format!("{kind} \"{name}\" deleted\n"));
                } else {
                    out.stdout.push_str(&format!("{} {verb}\n", a.object));
                }
            }
            out
        }
        KubectlCall::Delete { kind, name } => {
            let op = match kind.as_str() {
                "deployment"
                    if api
                        .engine()
                        .autoscalers
                        .iter()
                        .any(|a| &a.spec.name == name && !a.is_stopped()) =>
                {
                    Operation::RemoveAutoscaler { name: name.clone() }
                }
                "deployment" => Operation::DeleteDeployment {
                    namespace: ns,
                    name: name.clone(),
                },
                "pod" => Operation::DeletePod {
                    namespace: ns,
                    name: name.clone(),
                },
                "secret" => Operation::DeleteSecret {
                    namespace: ns,
                    name: name.clone(),
                },
                other => {
                    return Outcome {
                        stderr: format!("error: magsim cannot delete {other}\n"),
                        exit_code: 1,
                        ..Default::default()
                    }
                }
            };
            let r = api.apply(op, None);
            let api = match kind.as_str() {
                "deployment" => "deployments.apps",
                "pod" => "pods",
                _ => "secrets",
            };
            if r.status == 404 {
                return not_found(api, name);
            }
            let shown = if kind == "deployment" {
                "deployment.apps"
            } else {
                kind.as_str()
            };
            Outcome {
                stdout: format!("{shown} \"{name}\" deleted\n"),
                status: Some(200),
                ..Default::default()
            }
        }
        KubectlCall::Cordon {
            node,
            unschedulable,
        } => {
            let r = api.apply(
                Operation::Cordon {
                    node: node.clone(),
                    unschedulable: *unschedulable,
                },
                None,
            );
            if r.status == 404 {
                return not_found("nodes", node);
            }
            let verb = if *unschedulable {
                "cordoned"
            } else {
                "uncordoned"
            };
            Outcome {
                stdout: format!("node/{node} {verb}\n"),
                status: Some(200),
                ..Default::default()
            }
        }
        KubectlCall::GetPods {
            all_namespaces,
            wide,
            name,
        } => get_pods(
            api.engine(),
            namespace,
            *all_namespaces,
            *wide,
            name.as_deref(),
        ),
        KubectlCall::GetNodes { wide } => get_nodes(api.engine(), *wide),
        KubectlCall::GetEvents { field_selector } => {
            get_events(api.engine(), &ns, field_selector.as_deref())
        }
        KubectlCall::GetDeployment { name } => get_deployments(api.engine(), &ns, name.as_deref()),
        KubectlCall::Logs {
            target,
            container,
            previous,
            tail,
            timestamps,
        } => super::logs::logs(
            api.engine(),
            &super::logs::LogsCall {
                namespace: &ns,
                target,
                container: container.as_deref(),
                previous: *previous,
                tail: *tail,
                timestamps: *timestamps,
            },
        ),
        KubectlCall::DescribePod { name } => match api.engine().world.find_pod(&ns, name) {
            Some(_) => Outcome::ok(describe_pod(api.engine(), &ns, name)),
            None => not_found("pods", name),
        },
        KubectlCall::GetConfigMap { name, data_key } => {
            match api
                .engine()
                .world
                .configmaps
                .get(&(ns.clone(), name.clone()))
                .map(|d| d.data())
            {
                Some(data) => match data_key {
                    Some(k) => Outcome::ok(data.get(k).cloned().unwrap_or_default()),
                    None => {
                        let mut s = String::from("apiVersion: v1\ndata:\n");
                        for (k, v) in data {
                            s.push_str(&format!("  {k}: |\n"));
                            for l in v.lines() {
                                s.push_str(&format!("    {l}\n"));
                            }
                        }
                        s.push_str(&format!(
                            "kind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: {ns}\n"
                        ));
                        Outcome::ok(s)
                    }
                },
                None => not_found("configmaps", name),
            }
        }
    }
}

fn existed(engine: &Engine, op: Option<&Operation>) -> bool {
    match op {
        Some(Operation::ApplyDeployment(d)) => engine
            .world
            .deployments
            .iter()
            .any(|x| x.name == d.name && x.namespace == d.namespace),
        Some(Operation::ApplySecret(s)) => engine
            .world
            .secrets
            .iter()
            .any(|x| x.name == s.name && x.namespace == s.namespace),
        Some(Operation::DeployAutoscaler(s)) => engine
            .autoscalers
            .iter()
            .any(|a| a.spec.name == s.name && !a.is_stopped()),
        _ => false,
    }
}

fn age(engine: &Engine, t: magsim_sim::time::SimTime) -> String {
    human_duration(engine.now().since(t).as_millis())
}

fn get_pods(
    engine: &Engine,
    namespace: Option<&str>,
    all: bool,
    wide: bool,
    name: Option<&str>,
) -> Outcome {
    let ns = namespace.unwrap_or("default");
    let mut rows = vec![];
    let mut header: Vec<String> = Vec::new();
    if all {
        header.push("NAMESPACE".into());
    }
    header.extend(["NAME", "READY", "STATUS", "RESTARTS", "AGE"].map(String::from));
    if wide {
        header.extend(["IP", "NODE", "NOMINATED NODE", "READINESS GATES"].map(String::from));
    }
    rows.push(header);
    let mut any = false;
    for (_, p) in engine.world.live_pods() {
        if (!all && &*p.namespace != ns) || name.is_some_and(|n| n != &*p.name) {
            continue;
        }
        any = true;
        let running = p.phase == PodPhase::Running;
        let mut r = Vec::new();
        if all {
            r.push(p.namespace.to_string());
        }
        r.extend([
            p.name.to_string(),
            if running { "1/1" } else { "0/1" }.into(),
            p.phase.to_string(),
            "0".into(),
            age(engine, p.created),
        ]);
        if wide {
            let node = p.node.map(|n| engine.world.node(n).name.to_string());
            let ip = node.as_ref().map_or("<none>".to_string(), |_| {
                format!("10.100.0.{}", 10 + p.uid.len() % 200)
            });
            r.extend([
                ip,
                node.unwrap_or("<none>".into()),
                "<none>".into(),
                "<none>".into(),
            ]);
        }
        rows.push(r);
    }
    for (i, pod) in engine.autoscaler_pods() {
        if (!all && pod.namespace != ns) || name.is_some_and(|n| n != pod.name) {
            continue;
        }
        any = true;
        rows.push(autoscaler_pod_row(engine, i, &pod, all, wide));
    }
    if !any {
        return match name {
            Some(n) => Outcome {
                stderr: format!("Error from server (NotFound): pods \"{n}\" not found\n"),
                exit_code: 1,
                ..Default::default()
            },
            None => Outcome {
                stderr: format!("No resources found in {ns} namespace.\n"),
                ..Default::default()
            },
        };
    }
    Outcome::ok(columns(&rows, 3))
}

/// An in-cluster autoscaler's pod as the printer shows it: the kubelet's state and the
/// restarts since its last termination (`1 (20s ago)`).
fn autoscaler_pod_row(
    engine: &Engine,
    index: usize,
    pod: &magsim_sim::deploy::pod::AutoscalerPod,
    all: bool,
    wide: bool,
) -> Vec<String> {
    let a = &engine.autoscalers[index];
    let running = matches!(a.phase, magsim_sim::autoscaler::Phase::Running(_));
    let c = &a.container;
    let restarts = match c.last_terminated().and_then(|i| i.exited) {
        Some((t, _)) if c.restarts > 0 => format!("{} ({} ago)", c.restarts, age(engine, t)),
        _ => c.restarts.to_string(),
    };
    let mut r = Vec::new();
    if all {
        r.push(pod.namespace.clone());
    }
    r.extend([
        pod.name.clone(),
        if running { "1/1" } else { "0/1" }.into(),
        if running {
            "Running"
        } else {
            "CrashLoopBackOff"
        }
        .into(),
        restarts,
        age(engine, c.created),
    ]);
    if wide {
        let node = pod.node(&engine.world);
        r.extend([
            node.map_or("<none>".into(), |_| pod.ip(index)),
            node.map_or("<none>".into(), |n| engine.world.node(n).name.to_string()),
            "<none>".into(),
            "<none>".into(),
        ]);
    }
    r
}

fn get_nodes(engine: &Engine, wide: bool) -> Outcome {
    let version = engine
        .world
        .cluster
        .as_ref()
        .map_or("v1.30.4".to_string(), |c| c.coe_version.clone());
    let mut rows = vec![["NAME", "STATUS", "ROLES", "AGE", "VERSION"]
        .iter()
        .map(|s| s.to_string())
        .collect::<Vec<_>>()];
    if wide {
        rows[0].extend(
            [
                "INTERNAL-IP",
                "EXTERNAL-IP",
                "OS-IMAGE",
                "KERNEL-VERSION",
                "CONTAINER-RUNTIME",
            ]
            .map(String::from),
        );
    }
    let mut nodes: Vec<_> = engine.world.live_nodes().collect();
    nodes.sort_by(|a, b| a.1.name.cmp(&b.1.name));
    for (i, (_, n)) in nodes.iter().enumerate() {
        let mut status = if n.ready {
            "Ready".to_string()
        } else {
            "NotReady".to_string()
        };
        if n.unschedulable {
            status.push_str(",SchedulingDisabled");
        }
        let roles = if n.is_control_plane() {
            "control-plane"
        } else {
            "<none>"
        };
        let mut r = vec![
            n.name.to_string(),
            status,
            roles.into(),
            age(engine, n.created),
            version.clone(),
        ];
        if wide {
            r.extend([
                format!("10.0.0.{}", 10 + i),
                "<none>".into(),
                "Ubuntu 22.04.5 LTS".into(),
                "5.15.0-126-generic".into(),
                "containerd://1.7.24".into(),
            ]);
        }
        rows.push(r);
    }
    Outcome::ok(columns(&rows, 3))
}

fn get_events(engine: &Engine, ns: &str, selector: Option<&str>) -> Outcome {
    let mut filters: Vec<(String, String)> = Vec::new();
    for part in selector.unwrap_or("").split(',').filter(|p| !p.is_empty()) {
        if let Some((k, v)) = part.split_once('=') {
            filters.push((k.trim_end_matches('=').to_string(), v.to_string()));
        }
    }
    let mut events: Vec<_> = engine
        .world
        .events
        .all()
        .iter()
        .filter(|e| &*e.object.namespace == ns)
        .filter(|e| {
            filters.iter().all(|(k, v)| match k.as_str() {
                "involvedObject.name" => *e.object.name == **v,
                "involvedObject.kind" => e.object.kind == v,
                "reason" => e.reason == v,
                "type" => &e.event_type.to_string() == v,
                _ => false,
            })
        })
        .collect();
    events.sort_by_key(|e| e.last_seen);
    if events.is_empty() {
        return Outcome {
            stderr: format!("No resources found in {ns} namespace.\n"),
            ..Default::default()
        };
    }
    let mut rows = vec![["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
        .iter()
        .map(|s| s.to_string())
        .collect::<Vec<_>>()];
    for e in events {
        rows.push(vec![
            age(engine, e.last_seen),
            e.event_type.to_string(),
            e.reason.to_string(),
            e.object.to_string(),
            e.message.to_string(),
        ]);
    }
    Outcome::ok(columns(&rows, 3))
}

fn get_deployments(engine: &Engine, ns: &str, name: Option<&str>) -> Outcome {
    let mut rows = vec![["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
        .iter()
        .map(|s| s.to_string())
        .collect::<Vec<_>>()];
    for d in engine
        .world
        .deployments
        .iter()
        .filter(|d| d.namespace == ns && name.is_none_or(|n| n == d.name))
    {
        let rs = d.replica_set_name();
        let pods: Vec<_> = engine
            .world
            .live_pods()
            .filter(|(_, p)| p.owner.as_ref().is_some_and(|o| o.name == rs))
            .collect();
        let ready = pods
            .iter()
            .filter(|(_, p)| p.phase == PodPhase::Running)
            .count();
        rows.push(vec![
            d.name.clone(),
            format!("{ready}/{}", d.replicas),
            pods.len().to_string(),
            ready.to_string(),
            age(engine, magsim_sim::time::SimTime::ZERO),
        ]);
    }
    if rows.len() == 1 {
        return match name {
            Some(n) => Outcome {
                stderr: format!(
                    "Error from server (NotFound): deployments.apps \"{n}\" not found\n"
                ),
                exit_code: 1,
                ..Default::default()
            },
            None => Outcome {
                stderr: format!("No resources found in {ns} namespace.\n"),
                ..Default::default()
            },
        };
    }
    Outcome::ok(columns(&rows, 3))
}

/// `kubectl describe pod`, in kubectl 1.32's layout.
pub fn describe_pod(engine: &Engine, ns: &str, name: &str) -> String {
    let Some(id) = engine.world.find_pod(ns, name) else {
        return String::new();
    };
    let p = engine.world.pod(id);
    let node = p.node.map_or("<none>".to_string(), |n| {
        engine.world.node(n).name.to_string()
    });
    let mut s = String::new();
    let kv =
        |s: &mut String, k: &str, v: &str| s.push_str(&format!("{:<18}{v}\n", format!("{k}:")));
    kv(&mut s, "Name", &p.name);
    kv(&mut s, "Namespace", &p.namespace);
    kv(&mut s, "Priority", &p.spec.priority.to_string());
    kv(&mut s, "Service Account", "default");
    kv(&mut s, "Node", &node);
    let labels: Vec<String> = p.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
    s.push_str(&format!(
        "{:<18}{}\n",
        "Labels:",
        labels.first().cloned().unwrap_or("<none>".into())
    ));
    for l in labels.iter().skip(1) {
        s.push_str(&format!("{:<18}{l}\n", ""));
    }
    kv(&mut s, "Annotations", "<none>");
    kv(&mut s, "Status", &p.phase.to_string());
    if let Some(o) = &p.owner {
        kv(&mut s, "Controlled By", &format!("{}/{}", o.kind, o.name));
    }
    s.push_str("Containers:\n");
    s.push_str(&format!(
        "  {}:\n    Image:      {}\n    Requests:\n",
        p.spec.container, p.spec.image
    ));
    s.push_str(&format!(
        "      cpu:        {}\n",
        magsim_sim::resources::format_cpu(p.spec.requests.milli_cpu)
    ));
    s.push_str(&format!(
        "      memory:     {}\n",
        magsim_sim::resources::format_bytes(p.spec.requests.memory)
    ));
    if p.spec.requests.gpus > 0 {
        s.push_str(&format!("      nvidia.com/gpu: {}\n", p.spec.requests.gpus));
    }
    s.push_str("Conditions:\n  Type           Status\n");
    let scheduled = match &p.scheduled {
        ScheduledCondition::Scheduled { .. } => "True ",
        _ => "False ",
    };
    s.push_str(&format!("  PodScheduled   {scheduled}\n"));
    let sel: Vec<String> = p
        .spec
        .node_selector
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    kv(
        &mut s,
        "Node-Selectors",
        &if sel.is_empty() {
            "<none>".to_string()
        } else {
            sel.join(",")
        },
    );
    s.push_str("Events:\n");
    let events: Vec<_> = engine
        .world
        .events
        .for_object("Pod", name)
        .filter(|e| &*e.object.namespace == ns)
        .collect();
    if events.is_empty() {
        s.push_str("  <none>\n");
        return s;
    }
    let mut rows = vec![
        ["Type", "Reason", "Age", "From", "Message"]
            .iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>(),
        ["----", "------", "----", "----", "-------"]
            .iter()
            .map(|s| s.to_string())
            .collect(),
    ];
    for e in events {
        let last = age(engine, e.last_seen);
        let a = if e.count > 1 {
            format!("{last} (x{} over {})", e.count, age(engine, e.first_seen))
        } else {
            last
        };
        rows.push(vec![
            e.event_type.to_string(),
            e.reason.to_string(),
            a,
            e.source.to_string(),
            e.message.to_string(),
        ]);
    }
    for l in columns(&rows, 2).lines() {
        s.push_str(&format!("  {l}\n"));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_print_like_python() {
        assert_eq!(
            cell(Some(&serde_json::json!({"max_node_count": "5"}))),
            "{'max_node_count': '5'}"
        );
        assert_eq!(cell(Some(&Value::Null)), "None");
        assert_eq!(cell(None), "");
        assert_eq!(cell(Some(&serde_json::json!(true))), "True");
    }
}
