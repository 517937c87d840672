//! Heat v1 (orchestration): the version document and the calls the cluster-autoscaler's
//! magnum provider walks for a Heat-driver cluster (`magnum_manager_impl.go:97-142,224-369`),
//! answered as heat-api's router and engine answer them:
//!
//! - `GET .../stacks` lists the top-level stacks; `GET .../stacks/` matches no route (Routes
//!   has no optional trailing slash) and is webob's bare `404`;
//! - `GET .../stacks/<name or id>[/resources|events|...]` is `lookup`: `302` to
//!   `.../stacks/<name>/<id>[/...][?query]`, or `404` EntityNotFound for an unknown stack
//!   (`heat/api/openstack/v1/stacks.py:426-442`);
//! - `GET .../stacks/<name>/<id>` shows the stack (outputs resolved), `.../resources` lists its
//!   resources, `.../resources/<r>` shows one.
//!
//! The stacks are the engine's world read through `magsim_sim::cloud::heat`: each nodegroup's
//! stack (the default ones share the cluster's), its `kube_minions` nested stack whose
//! members are the nodegroup's servers (`refs_map`: member index → Nova server id, the id in
//! the node's `providerID`), and a nested stack per member. A magnum-capi-helm cluster has no
//! stacks: its `stack_id` is a Helm release name, and Heat answers `404`.
//! Errors use Heat's fault body (`explanation`, `code`, `error{message, traceback, type}`, `title`).

use super::{json_response, segments, unauthorized, State, Wire, MAX_BODY_BYTES};
use crate::Service;
use magsim_sim::cloud::heat::{self as model, Stack};
use magsim_sim::cloud::Cluster;
use magsim_sim::engine::Engine;
use magsim_sim::time::SimTime;
use serde_json::{json, Map, Value};
use std::sync::Arc;
use wiremock::Request;

/// The catch-all responder of the Heat server.
pub struct Heat(pub(crate) Arc<State>);

/// Heat's fault body.
pub fn fault_body(code: u16, title: &str, explanation: &str, message: &str, kind: &str) -> Value {
    json!({"explanation": explanation, "code": code,
           "error": {"message": message, "traceback": null, "type": kind}, "title": title})
}

fn not_found(message: &str, kind: &str) -> (u16, Value) {
    (
        404,
        fault_body(
            404,
            "Not Found",
            "The resource could not be found.",
            message,
            kind,
        ),
    )
}

/// `heat/common/exception.py:180-181` (EntityNotFound for a stack).
fn stack_not_found(name: &str) -> (u16, Value) {
    not_found(
        &format!("The Stack ({name}) could not be found."),
        "EntityNotFound",
    )
}

/// What `Router._dispatch` returns when no route matches (`heat/common/wsgi.py`:
/// `webob.exc.HTTPNotFound()`), rendered by webob for `Accept: application/json`; it never
/// reaches Heat's fault middleware, so it is not Heat's fault body.
pub fn no_route_body() -> Value {
    json!({"message": "The resource could not be found.<br /><br />\n\n\n",
           "code": "404 Not Found", "title": "Not Found"})
}

/// The stack name Magnum's Heat driver gave a cluster's stack (`None` under magnum-capi-helm).
pub fn stack_name(c: &Cluster) -> Option<String> {
    c.stack_name.clone().filter(|_| !c.driver.is_capi())
}

impl Heat {
    /// The service's answer to `req` (journaled).
    pub(crate) fn respond(&self, req: &Request) -> Wire {
        let id = self.0.request_id();
        let wire = match self.answer(req) {
            Ok((status, body, location)) => {
                let mut t = json_response(status, &body);
                if let Some(l) = location {
                    t = t.insert_header("Location", &l);
                }
                t.insert_header("x-openstack-request-id", &id)
            }
            Err(()) => unauthorized(&self.0).insert_header("x-openstack-request-id", &id),
        };
        self.0.record(Service::Orchestration, req, wire)
    }
}

type Answer = Result<(u16, Value, Option<String>), ()>;

/// What a stack is in the walk.
#[derive(Clone, Debug)]
enum Kind {
    /// A nodegroup's stack (the cluster's for the default nodegroups): holds `kube_minions`.
    /// One the driver made for a nodegroup created later is born with its first server and
    /// is `CREATE_IN_PROGRESS` while Magnum's nodegroup is.
    Group {
        minions: Stack,
        creating: bool,
        born: SimTime,
        /// The node count of the one nodegroup the stack is for; `None` for the cluster's.
        own: Option<u32>,
    },
    /// The `kube_minions` ResourceGroup of `parent`.
    Minions { parent: Stack, members: Vec<Member> },
    /// One member of a `kube_minions` group.
    Member { parent: Stack, member: Member },
}

#[derive(Clone, Debug)]
struct Member {
    index: u32,
    stack: Stack,
    /// The Nova server id once the server has booted into a node.
    server: Option<String>,
    created: SimTime,
}

impl Member {
    /// The member's `OS::stack_id` output: the index, then "kube-minion", then the server
    /// id (`magnum_manager_impl.go:247-253`); magsim shows "kube-minion" while it boots.
    fn reference(&self) -> String {
        self.server.clone().unwrap_or_else(|| "kube-minion".into())
    }

    fn status(&self) -> &'static str {
        if self.server.is_some() {
            "CREATE_COMPLETE"
        } else {
            "CREATE_IN_PROGRESS"
        }
    }
}

#[derive(Clone, Debug)]
struct Entry {
    stack: Stack,
    kind: Kind,
}

/// Every stack of the cluster, top-level first.
fn stacks(e: &Engine) -> Vec<Entry> {
    let Some(c) = e.world.cluster.as_ref() else {
        return Vec::new();
    };
    let mut out: Vec<Entry> = Vec::new();
    let mut nested = Vec::new();
    for ng in c.nodegroups.iter().filter(|n| !n.is_master()) {
        let Some(group) = model::nodegroup_stack(c, ng) else {
            continue;
        };
        if out.iter().any(|x| x.stack.id == group.id) {
            continue;
        }
        let minions = model::minions_stack(&group);
        let mut machines: Vec<_> = e
            .world
            .machines
            .iter()
            .filter(|m| m.nodegroup == ng.name)
            .collect();
        machines.sort_by_key(|m| m.index);
        let members: Vec<Member> = machines
            .iter()
            .map(|m| Member {
                index: m.index,
                stack: model::member_stack(&minions, m.index),
                server: m
                    .node
                    .map(|id| e.world.node(id))
                    .filter(|n| !n.deleted)
                    .map(model::server_id),
                created: m.created,
            })
            .collect();
        for member in &members {
            nested.push(Entry {
                stack: member.stack.clone(),
                kind: Kind::Member {
                    parent: minions.clone(),
                    member: member.clone(),
                },
            });
        }
        nested.insert(
            0,
            Entry {
                stack: minions.clone(),
                kind: Kind::Minions {
                    parent: group.clone(),
                    members,
                },
            },
        );
        let own = (group.id != c.stack_id).then_some(ng.node_count);
        out.push(Entry {
            stack: group,
            kind: Kind::Group {
                minions,
                creating: ng.status == "CREATE_IN_PROGRESS",
                born: match ng.is_default {
                    true => SimTime::ZERO,
                    false => machines.iter().map(|m| m.created).min().unwrap_or(e.now()),
                },
                own,
            },
        });
    }
    out.extend(nested);
    out
}

fn find<'a>(all: &'a [Entry], ident: &str) -> Option<&'a Entry> {
    all.iter()
        .find(|x| x.stack.id == ident)
        .or_else(|| all.iter().find(|x| x.stack.name == ident))
}

/// The lookup paths Heat redirects (`heat/api/openstack/v1/__init__.py`, `stack_lookup`).
const LOOKUP_PATHS: [&str; 6] = [
    "resources",
    "events",
    "template",
    "actions",
    "environment",
    "files",
];

impl Heat {
    fn answer(&self, req: &Request) -> Answer {
        if req.body.len() > MAX_BODY_BYTES {
            return Ok((
                413,
                fault_body(
                    413,
                    "Request Entity Too Large",
                    "Request is too large.",
                    "Request is too large.",
                    "RequestLimitExceeded",
                ),
                None,
            ));
        }
        let base = &self.0.urls.heat;
        let path = req.url.path();
        let segs = segments(path);
        if segs.is_empty() {
            let body = json!({"versions": [{"status": "CURRENT", "id": "v1.0",
                "links": [{"href": format!("{base}/v1/"), "rel": "self"}]}]});
            return Ok((300, body, None));
        }
        if self.0.check_token(super::auth_token(req)).is_err() {
            return Err(());
        }
        let project = self.0.credentials.project_id.as_str();
        let prefix = format!("/v1/{project}/");
        let Some(rest) = path.strip_prefix(&prefix) else {
            return Ok(with_none(not_found(
                "The resource could not be found.",
                "HTTPNotFound",
            )));
        };
        // Routes match whole segments with no optional trailing slash: an empty segment
        // (`stacks/`, `stacks//x`) matches no route.
        let parts: Vec<&str> = rest.split('/').collect();
        if parts.iter().any(|p| p.is_empty()) {
            return Ok((404, no_route_body(), None));
        }
        if req.method.as_str() != "GET" {
            return Ok(with_none(not_found(
                "The resource could not be found.",
                "HTTPNotFound",
            )));
        }
        let e = self.0.live.engine();
        let all = stacks(&e);
        let created = |t: SimTime| e.epoch.at(t).rfc3339();
        let stacks_url = format!("{base}/v1/{project}/stacks");
        let (status, body) = match parts.as_slice() {
            ["stacks"] => (200, self.list(&e, &all, &stacks_url)),
            ["stacks", ident] => return Ok(self.lookup(&all, ident, "", req, &stacks_url)),
            ["stacks", ident, p, ..] if LOOKUP_PATHS.contains(p) => {
                let suffix = format!("/{}", parts[2..].join("/"));
                return Ok(self.lookup(&all, ident, &suffix, req, &stacks_url));
            }
            ["stacks", name, id] => match named(&all, name, id) {
                Some(x) => (
                    200,
                    json!({ "stack": self.stack_body(&e, x, &stacks_url, &created, true) }),
                ),
                None => stack_not_found(name),
            },
            ["stacks", name, id, "resources"] => match (named(&all, name, id), nested_depth(req)) {
                (_, Err(bad)) => bad,
                (Some(x), Ok(depth)) => {
                    let items = resource_tree(&all, x, &stacks_url, &created, depth);
                    (200, json!({ "resources": items }))
                }
                (None, _) => stack_not_found(name),
            },
            ["stacks", name, id, "resources", res] => match named(&all, name, id) {
                Some(x) => match resources(&all, x, &stacks_url, &created, Some(res))
                    .into_iter()
                    .next()
                {
                    Some(r) => (200, json!({ "resource": r })),
                    // `heat/common/exception.py`, ResourceNotFound
                    None => not_found(
                        &format!(
                            "The Resource ({res}) could not be found in Stack {}.",
                            x.stack.name
                        ),
                        "ResourceNotFound",
                    ),
                },
                None => stack_not_found(name),
            },
            _ => (404, no_route_body()),
        };
        Ok((status, body, None))
    }

    /// `StackController.lookup`: `302` to the canonical `<name>/<id>` URL, keeping the rest
    /// of the path and the query (`heat/api/openstack/v1/util.py:91-99`).
    fn lookup(
        &self,
        all: &[Entry],
        ident: &str,
        suffix: &str,
        req: &Request,
        stacks_url: &str,
    ) -> (u16, Value, Option<String>) {
        match find(all, ident) {
            Some(x) => {
                let query = req.url.query().map(|q| format!("?{q}")).unwrap_or_default();
                let location = format!(
                    "{stacks_url}/{}/{}{suffix}{query}",
                    x.stack.name, x.stack.id
                );
                (302, json!({}), Some(location))
            }
            None => with_none(stack_not_found(ident)),
        }
    }

    fn stack_body(
        &self,
        e: &Engine,
        x: &Entry,
        stacks_url: &str,
        created: &dyn Fn(SimTime) -> String,
        outputs: bool,
    ) -> Value {
        let c = e
            .world
            .cluster
            .as_ref()
            .expect("stacks exist only with a cluster");
        let project = &self.0.credentials.project_id;
        let (parent, description, status, born, outs, params) = match &x.kind {
            Kind::Group {
                minions,
                creating,
                born,
                own,
            } => {
                let booting = booting(e, minions);
                let mut p = Map::new();
                let minions_count = own.unwrap_or_else(|| c.node_count());
                p.insert("number_of_minions".into(), minions_count.to_string().into());
                p.insert(
                    "number_of_masters".into(),
                    c.master_count().to_string().into(),
                );
                let outs = if x.stack.id == c.stack_id {
                    json!([{"output_key": "api_address", "output_value": "https://192.0.2.10:6443",
                            "description": "This is the API endpoint of the Kubernetes cluster. Use this to access the Kubernetes API."}])
                } else {
                    json!([])
                };
                (
                    Value::Null,
                    "This template will boot a Kubernetes cluster with one or more minions (as specified by the number_of_minions parameter, which defaults to 1).",
                    match (creating, own, booting) {
                        (true, ..) => "CREATE_IN_PROGRESS",
                        // Magnum updates a nodegroup's own stack only when that nodegroup
                        // changes: while its new servers boot.
                        (false, Some(_), true) => "UPDATE_IN_PROGRESS",
                        (false, Some(_), false) => "CREATE_COMPLETE",
                        (false, None, _) => group_status(c, booting),
                    },
                    *born,
                    outs,
                    p,
                )
            }
            Kind::Minions { parent, members } => {
                let refs: Vec<Value> = members.iter().map(|m| m.reference().into()).collect();
                let refs_map: Map<String, Value> = members
                    .iter()
                    .map(|m| (m.index.to_string(), m.reference().into()))
                    .collect();
                let booting = members.iter().any(|m| m.server.is_none());
                (
                    Value::String(parent.id.clone()),
                    "No description",
                    group_status(c, booting),
                    SimTime::ZERO,
                    json!([
                        {"output_key": "refs_map", "output_value": refs_map, "description": "No description given"},
                        {"output_key": "refs", "output_value": refs, "description": "No description given"},
                    ]),
                    Map::new(),
                )
            }
            Kind::Member { parent, member } => (
                Value::String(parent.id.clone()),
                "This is a nested stack that defines a single Kubernetes minion, This stack is included by an AutoScalingGroup resource in the parent template (kubecluster.yaml).",
                member.status(),
                member.created,
                json!([{"output_key": "OS::stack_id", "output_value": member.reference(), "description": "No description given"}]),
                Map::new(),
            ),
        };
        let mut parameters = params;
        // Heat adds these to every stack and shows every parameter as a string
        // (`heat/engine/api.py:214`).
        parameters.insert("OS::project_id".into(), project.clone().into());
        parameters.insert("OS::stack_id".into(), x.stack.id.clone().into());
        parameters.insert("OS::stack_name".into(), x.stack.name.clone().into());
        let mut s = json!({
            "parent": parent,
            "disable_rollback": true,
            "description": description,
            "parameters": parameters,
            "deletion_time": null,
            "stack_name": x.stack.name,
            "stack_user_project_id": project,
            "stack_status_reason": status_reason(status),
            "creation_time": created(born),
            "links": [{"href": format!("{stacks_url}/{}/{}", x.stack.name, x.stack.id), "rel": "self"}],
            "capabilities": [],
            "notification_topics": [],
            "tags": null,
            "timeout_mins": c.create_timeout,
            "stack_status": status,
            "stack_owner": self.0.credentials.user_name,
            "updated_time": null,
            "id": x.stack.id,
            "template_description": description,
        });
        if outputs {
            s["outputs"] = outs;
        }
        s
    }

    /// `GET .../stacks`: the top-level stacks (nested ones are hidden by default), without
    /// outputs or parameters.
    fn list(&self, e: &Engine, all: &[Entry], stacks_url: &str) -> Value {
        let created = |t: SimTime| e.epoch.at(t).rfc3339();
        let items: Vec<Value> = all
            .iter()
            .filter(|x| matches!(x.kind, Kind::Group { .. }))
            .map(|x| {
                let full = self.stack_body(e, x, stacks_url, &created, false);
                let mut m = Map::new();
                for k in [
                    "creation_time",
                    "deletion_time",
                    "description",
                    "id",
                    "links",
                    "parent",
                    "stack_name",
                    "stack_owner",
                    "stack_status",
                    "stack_status_reason",
                    "stack_user_project_id",
                    "tags",
                    "updated_time",
                ] {
                    if let Some(v) = full.get(k) {
                        m.insert(k.into(), v.clone());
                    }
                }
                Value::Object(m)
            })
            .collect();
        json!({ "stacks": items })
    }
}

/// The stack `id` if it is also called `name` (Heat's `_get_stack` checks both,
/// `heat/engine/service.py:560-582`).
fn named<'a>(all: &'a [Entry], name: &str, id: &str) -> Option<&'a Entry> {
    all.iter()
        .find(|x| x.stack.id == id && x.stack.name == name)
}

fn booting(e: &Engine, minions: &Stack) -> bool {
    stacks(e).iter().any(|x| match &x.kind {
        Kind::Member { parent, member } => parent.id == minions.id && member.server.is_none(),
        _ => false,
    })
}

fn group_status(c: &Cluster, booting: bool) -> &'static str {
    if booting {
        "UPDATE_IN_PROGRESS"
    } else if c.status.starts_with("UPDATE") {
        "UPDATE_COMPLETE"
    } else {
        "CREATE_COMPLETE"
    }
}

/// Heat's reason texts: `Stack CREATE completed successfully`, `Stack UPDATE started`.
fn status_reason(status: &str) -> String {
    let (action, state) = status.split_once('_').unwrap_or((status, ""));
    match state {
        "IN_PROGRESS" => format!("Stack {action} started"),
        _ => format!("Stack {action} completed successfully"),
    }
}

/// A stack's resources as `GET .../resources` lists them (or the one named `only`).
fn resources(
    all: &[Entry],
    x: &Entry,
    stacks_url: &str,
    created: &dyn Fn(SimTime) -> String,
    only: Option<&str>,
) -> Vec<Value> {
    let me = format!("{stacks_url}/{}/{}", x.stack.name, x.stack.id);
    let resource = |name: &str,
                    kind: &str,
                    physical: &str,
                    status: &str,
                    born: SimTime,
                    nested: Option<&Stack>| {
        let mut links = vec![
            json!({"href": format!("{me}/resources/{name}"), "rel": "self"}),
            json!({"href": me, "rel": "stack"}),
        ];
        if let Some(n) = nested {
            links.push(
                json!({"href": format!("{stacks_url}/{}/{}", n.name, n.id), "rel": "nested"}),
            );
        }
        json!({
            "resource_name": name,
            "links": links,
            "logical_resource_id": name,
            "creation_time": created(born),
            "resource_status_reason": "state changed",
            "updated_time": created(born),
            "required_by": [],
            "resource_status": status,
            "physical_resource_id": physical,
            "resource_type": kind,
        })
    };
    let list: Vec<(String, Value)> = match &x.kind {
        Kind::Group { minions, .. } => {
            let members = all.iter().find_map(|y| match &y.kind {
                Kind::Minions { members, .. } if y.stack.id == minions.id => Some(members),
                _ => None,
            });
            let booting = members.is_some_and(|m| m.iter().any(|m| m.server.is_none()));
            let status = if booting {
                "UPDATE_IN_PROGRESS"
            } else {
                "CREATE_COMPLETE"
            };
            vec![(
                "kube_minions".into(),
                resource(
                    "kube_minions",
                    "OS::Heat::ResourceGroup",
                    &minions.id,
                    status,
                    SimTime::ZERO,
                    Some(minions),
                ),
            )]
        }
        Kind::Minions { members, .. } => members
            .iter()
            .map(|m| {
                let name = m.index.to_string();
                let r = resource(
                    &name,
                    "file:///usr/lib/python3/dist-packages/magnum/drivers/k8s_fedora_coreos_v1/templates/kubeminion.yaml",
                    &m.stack.id,
                    m.status(),
                    m.created,
                    Some(&m.stack),
                );
                (name, r)
            })
            .collect(),
        // The two resources `getNodes` reads for a member (`magnum_manager_impl.go:307-337`;
        // `kubeminion.yaml` L530, L555).
        Kind::Member { member, .. } => vec![
            (
                "node_config_deployment".into(),
                resource(
                    "node_config_deployment",
                    "OS::Heat::SoftwareDeployment",
                    &model::derived_uid(&["deployment", &member.stack.id]),
                    member.status(),
                    member.created,
                    None,
                ),
            ),
            (
                "kube-minion".into(),
                resource(
                    "kube-minion",
                    "OS::Nova::Server",
                    member.server.as_deref().unwrap_or(""),
                    member.status(),
                    member.created,
                    None,
                ),
            ),
        ],
    };
    list.into_iter()
        .filter(|(n, _)| only.is_none_or(|o| o == n))
        .map(|(_, v)| v)
        .collect()
}

/// `?nested_depth=N` (`heat/api/openstack/v1/resources.py`, `extract_int`), at most
/// `max_nested_stack_depth` (5).
fn nested_depth(req: &Request) -> Result<u32, (u16, Value)> {
    let Some((_, v)) = req.url.query_pairs().find(|(k, _)| k == "nested_depth") else {
        return Ok(0);
    };
    match v.parse::<i64>() {
        Ok(n) if n >= 0 => Ok(n.min(5) as u32),
        Ok(_) => Err(bad_request("Value must be >= 0 for field 'nested_depth'.")),
        Err(_) => Err(bad_request("Only integer is acceptable by 'nested_depth'.")),
    }
}

fn bad_request(message: &str) -> (u16, Value) {
    (
        400,
        fault_body(400, "Bad Request", "The server could not comply with the request since it is either malformed or otherwise incorrect.", message, "HTTPBadRequest"),
    )
}

/// A stack's resources and, `depth` levels down, those of the stacks they own, each nested
/// one naming its owner in `parent_resource` (Heat's `resource-list --nested-depth`).
fn resource_tree(
    all: &[Entry],
    x: &Entry,
    stacks_url: &str,
    created: &dyn Fn(SimTime) -> String,
    depth: u32,
) -> Vec<Value> {
    let mine = resources(all, x, stacks_url, created, None);
    let mut out = mine.clone();
    if depth == 0 {
        return out;
    }
    for r in &mine {
        let owns = r["links"]
            .as_array()
            .is_some_and(|l| l.iter().any(|l| l["rel"] == "nested"));
        let child = r["physical_resource_id"]
            .as_str()
            .and_then(|id| find(all, id));
        let (true, Some(child)) = (owns, child) else {
            continue;
        };
        for mut nested in resource_tree(all, child, stacks_url, created, depth - 1) {
            if let Some(o) = nested.as_object_mut() {
                o.entry("parent_resource")
                    .or_insert_with(|| r["resource_name"].clone());
            }
            out.push(nested);
        }
    }
    out
}

fn with_none((status, body): (u16, Value)) -> (u16, Value, Option<String>) {
    (status, body, None)
}
