//! Magnum v1: version documents, microversion negotiation and headers, and the cluster and
//! nodegroup endpoints python-magnumclient, openstacksdk and the autoscaler's gophercloud use.
//! Show, update and resize go through [`Engine::apply`](magsim_sim::engine::Engine::apply), so
//! Magnum's rules (the `cannot change cluster property(ies) labels.` refusal, nodegroup count
//! checks, resize range) and request ids come from the engine. Every error is Magnum's
//! `{"errors": [...]}` body, except the `401` of keystonemiddleware, which runs before Magnum.
//!
//! Pinned request ids (magsim's own behaviour, not Magnum's): a request carrying
//! `X-OpenStack-Request-ID: req-<uuid>` (the shape oslo's request-id middleware accepts as a
//! global request id) is answered with that id in `x-openstack-request-id`, and the engine is
//! given it (`Engine::apply(op, Some(id))`), so it draws nothing from its RNG. Real Magnum
//! answers with a fresh local id; magsim pins it so a replayed or wire-driven run keeps the
//! ids and the random stream of the in-memory run. Other values of the header are ignored.

use super::{content_type, json_response, segments, unauthorized, State, Wire, MAX_BODY_BYTES};
use crate::Service;
use magsim_sim::cloud::{ApiError, Cluster, PatchOp, PatchOperation};
use magsim_sim::engine::{ApiResponse, Operation};
use magsim_sim::time::{Epoch, SimTime};
use serde_json::{json, Map, Value};
use std::sync::Arc;
use wiremock::Request;

/// The catch-all responder of the Magnum server.
pub struct Magnum(pub(crate) Arc<State>);

/// A microversion `(major, minor)`.
pub type Version = (u32, u32);

const MIN_VERSION: Version = (1, 1);

fn v(ver: Version) -> String {
    format!("{}.{}", ver.0, ver.1)
}

/// What one request gets, before it becomes bytes.
struct Reply {
    status: u16,
    body: Value,
    request_id: Option<String>,
    /// The negotiated microversion for the `OpenStack-API-*` headers (`/v1` routes only).
    version: Option<String>,
}

impl Reply {
    fn error(e: ApiError, version: Option<String>) -> Reply {
        Reply {
            status: e.status,
            body: e.body(),
            request_id: None,
            version,
        }
    }
}

/// Why a request's microversion is refused (`406`).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MicroversionError {
    #[error("Invalid service type for OpenStack-API-Version header")]
    Malformed,
    #[error("Version {requested} was requested but the minor version is not supported by this service. The supported version range is: [{min}, {max}].")]
    Unsupported {
        requested: String,
        min: String,
        max: String,
    },
}

/// Parses `OpenStack-API-Version` (`container-infra latest`, `container-infra 1.9`); absent
/// means the minimum, 1.1.
pub fn negotiate(header: Option<&str>, max: Version) -> Result<Version, MicroversionError> {
    let Some(header) = header else {
        return Ok(MIN_VERSION);
    };
    let entry = header
        .split(',')
        .map(str::trim)
        .find_map(|e| e.strip_prefix("container-infra "))
        .ok_or(MicroversionError::Malformed)?
        .trim();
    if entry.eq_ignore_ascii_case("latest") {
        return Ok(max);
    }
    let parsed = entry
        .split_once('.')
        .and_then(|(a, b)| Some((a.parse::<u32>().ok()?, b.parse::<u32>().ok()?)))
        .ok_or(MicroversionError::Malformed)?;
    if parsed < MIN_VERSION || parsed > max {
        return Err(MicroversionError::Unsupported {
            requested: entry.to_string(),
            min: v(MIN_VERSION),
            max: v(max),
        });
    }
    Ok(parsed)
}

/// Python's `datetime.isoformat()` of a UTC time: `2025-11-10T14:00:00+00:00`.
pub fn isoformat(epoch: Epoch, t: SimTime) -> String {
    epoch.at(t).rfc3339().trim_end_matches('Z').to_string() + "+00:00"
}

fn links(base: &str, rest: &str) -> Value {
    json!([
        {"href": format!("{base}/v1/{rest}"), "rel": "self"},
        {"href": format!("{base}/{rest}"), "rel": "bookmark"},
    ])
}

/// What the servers add to an engine body: `links` after the key `links_after` (where the API
/// class declares them), `user_id` after `project_id` when given, and the timestamps.
fn served(
    raw: &Value,
    links_after: &str,
    links: Value,
    user_id: Option<&str>,
    created: &str,
) -> Value {
    let mut out = Map::new();
    let mut links = Some(links);
    for (k, val) in raw.as_object().into_iter().flatten() {
        out.insert(k.clone(), val.clone());
        if k == links_after {
            out.insert("links".into(), links.take().unwrap_or_default());
        }
        if let (Some(user), "project_id") = (user_id, k.as_str()) {
            out.insert("user_id".into(), json!(user));
        }
    }
    out.insert("created_at".into(), json!(created));
    out.insert("updated_at".into(), json!(created));
    Value::Object(out)
}

/// The engine's cluster JSON with what the servers add: `links` (from the request's host),
/// `user_id` and the timestamps.
pub fn cluster_body(c: &Cluster, raw: &Value, base: &str, user_id: &str, created: &str) -> Value {
    let links = links(base, &format!("clusters/{}", c.uuid));
    served(raw, "create_timeout", links, Some(user_id), created)
}

/// The engine's nodegroup JSON plus `links` and timestamps.
pub fn nodegroup_body(c: &Cluster, raw: &Value, base: &str, created: &str) -> Value {
    let uuid = raw.get("uuid").and_then(Value::as_str).unwrap_or_default();
    let links = links(base, &format!("clusters/{}/nodegroups/{uuid}", c.uuid));
    served(raw, "labels", links, None, created)
}

/// The engine's template JSON plus `links`, `user_id` and the timestamps.
pub fn template_body(raw: &Value, base: &str, user_id: &str, created: &str) -> Value {
    let uuid = raw.get("uuid").and_then(Value::as_str).unwrap_or_default();
    let links = links(base, &format!("clustertemplates/{uuid}"));
    served(raw, "cluster_distro", links, Some(user_id), created)
}

/// `GET /` of the Magnum API.
pub fn root_document(base: &str, max: Version) -> Value {
    json!({
        "name": "OpenStack Magnum API",
        "description": "Magnum is an OpenStack project which aims to provide container cluster management.",
        "versions": [{"id": "v1", "links": [{"href": format!("{base}/v1/"), "rel": "self"}],
                      "status": "CURRENT", "max_version": v(max), "min_version": v(MIN_VERSION)}],
    })
}

/// `GET /v1` of the Magnum API.
pub fn v1_document(base: &str) -> Value {
    let mut doc = Map::new();
    doc.insert("id".into(), json!("v1"));
    doc.insert(
        "media_types".into(),
        json!([{"base": "application/json", "type": "application/vnd.openstack.magnum.v1+json"}]),
    );
    doc.insert(
        "links".into(),
        json!([{"href": format!("{base}/v1/"), "rel": "self"},
               {"href": "http://docs.openstack.org/developer/magnum/dev/api-spec-v1.html", "rel": "describedby", "type": "text/html"}]),
    );
    for res in [
        "clustertemplates",
        "clusters",
        "quotas",
        "certificates",
        "mservices",
        "stats",
        "federations",
    ] {
        doc.insert(
            res.into(),
            json!([{"href": format!("{base}/v1/{res}/"), "rel": "self"},
                   {"href": format!("{base}/{res}/"), "rel": "bookmark"}]),
        );
    }
    doc.insert(
        "nodegroups".into(),
        json!([{"href": format!("{base}/v1/clusters/{{cluster_id}}/nodegroups"), "rel": "self"},
               {"href": format!("{base}/clusters/{{cluster_id}}/nodegroups"), "rel": "bookmark"}]),
    );
    Value::Object(doc)
}

/// Python's `repr` of a request value, for wsme's `Value: '...'` texts.
fn shown(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => magsim_sim::cloud::patch::py_repr(other),
    }
}

fn invalid(field: &str, value: &Value, why: &str) -> ApiError {
    ApiError::new(
        400,
        format!(
            "Invalid input for field/attribute {field}. Value: '{}'. {why}",
            shown(value)
        ),
    )
}

/// The body of a JSON Patch request, checked as wsme checks `[JsonPatchType]`.
pub fn parse_patch(body: &Value) -> Result<Vec<PatchOperation>, ApiError> {
    let Some(items) = body.as_array() else {
        return Err(invalid("patch", body, "Value should be a list"));
    };
    items
        .iter()
        .map(|item| {
            let Some(o) = item.as_object() else {
                return Err(invalid("patch", item, "Value should be a dict"));
            };
            let op_value = o.get("op").unwrap_or(&Value::Null);
            let op = op_value.as_str().and_then(PatchOp::parse).ok_or_else(|| {
                invalid(
                    "op",
                    op_value,
                    "Value should be one of: add, remove, replace",
                )
            })?;
            let path = match o.get("path") {
                Some(Value::String(p)) => p.clone(),
                Some(other) => return Err(invalid("path", other, "Value should be a string")),
                None => return Err(invalid("path", &Value::Null, "Mandatory field missing.")),
            };
            Ok(PatchOperation {
                op,
                path,
                value: o.get("value").cloned(),
            })
        })
        .collect()
}

/// The body of `POST .../actions/resize`.
fn parse_resize(body: &Value) -> Result<(i64, Option<String>, Vec<String>), ApiError> {
    let Some(o) = body.as_object() else {
        return Err(invalid("resize", body, "Value should be a dict"));
    };
    let node_count = match o.get("node_count") {
        Some(Value::Number(n)) if n.is_i64() => n.as_i64().unwrap_or_default(),
        Some(other) => {
            return Err(invalid(
                "node_count",
                other,
                "Wrong type. Expected '<class 'int'>'",
            ))
        }
        None => {
            return Err(invalid(
                "node_count",
                &Value::Null,
                "Mandatory field missing.",
            ))
        }
    };
    let nodegroup = match o.get("nodegroup") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => return Err(invalid("nodegroup", other, "Value should be a string")),
    };
    let nodes_to_remove = match o.get("nodes_to_remove") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) if a.iter().all(Value::is_string) => a
            .iter()
            .filter_map(|s| s.as_str().map(str::to_string))
            .collect(),
        Some(other) => {
            return Err(invalid(
                "nodes_to_remove",
                other,
                "Value should be a list of strings",
            ))
        }
    };
    Ok((node_count, nodegroup, nodes_to_remove))
}

/// `req-` and a lower-case hex uuid: oslo.middleware's `ID_FORMAT` for inbound request ids.
pub fn is_request_id(id: &str) -> bool {
    let Some(uuid) = id.strip_prefix("req-") else {
        return false;
    };
    let groups: Vec<&str> = uuid.split('-').collect();
    groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
        && groups
            .iter()
            .all(|g| g.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
}

/// The request id a request pins (see the module doc), if its header has the right shape.
pub fn pinned_request_id(req: &Request) -> Option<String> {
    let id = req.headers.get("x-openstack-request-id")?.to_str().ok()?;
    is_request_id(id).then(|| id.to_string())
}

/// The id Magnum answers `req` with, when it is not drawn: the request's own, else the one
/// the runner pinned for a real client's command ([`crate::Live::pin_request_id`]).
pub fn fixed_request_id(live: &crate::Live, req: &Request) -> Option<String> {
    pinned_request_id(req).or_else(|| live.pinned_request_id())
}

impl Magnum {
    /// The service's answer to `req` (journaled).
    pub(crate) fn respond(&self, req: &Request) -> Wire {
        let pinned = fixed_request_id(&self.0.live, req);
        let mut reply = self.answer(req);
        reply.request_id = reply.request_id.or_else(|| pinned.clone());
        let wire = if reply.status == 401 {
            // keystonemiddleware answers before Magnum: its body, no microversion headers.
            let id = pinned.unwrap_or_else(|| self.0.request_id());
            unauthorized(&self.0).insert_header("x-openstack-request-id", &id)
        } else {
            self.render(reply)
        };
        self.0.record(Service::ContainerInfra, req, wire)
    }
}

impl Magnum {
    fn max(&self) -> Version {
        self.0.options.magnum_max_version
    }

    fn render(&self, r: Reply) -> Wire {
        // pecan's 204 has no body.
        let mut t = match r.status {
            204 => Wire::empty(204),
            status => json_response(status, &r.body),
        };
        if let Some(ver) = &r.version {
            t = t
                .insert_header(
                    "OpenStack-API-Minimum-Version",
                    &format!("container-infra {}", v(MIN_VERSION)),
                )
                .insert_header(
                    "OpenStack-API-Maximum-Version",
                    &format!("container-infra {}", v(self.max())),
                )
                .insert_header("OpenStack-API-Version", &format!("container-infra {ver}"))
                .insert_header("Vary", "OpenStack-API-Version");
        }
        let id = r.request_id.unwrap_or_else(|| self.0.request_id());
        t.insert_header("x-openstack-request-id", &id)
    }

    fn answer(&self, req: &Request) -> Reply {
        let base = self.0.urls.magnum.clone();
        if req.body.len() > MAX_BODY_BYTES {
            return Reply::error(ApiError::new(413, "Request is too large."), None);
        }
        let segs = segments(req.url.path());
        let (versioned, rest) = match segs.split_first() {
            Some((&"v1", rest)) => (true, rest),
            _ => (false, segs.as_slice()),
        };
        if rest.is_empty() {
            // Version documents are public.
            if req.method.as_str() != "GET" {
                return Reply::error(method_not_allowed(), None);
            }
            let body = if versioned {
                v1_document(&base)
            } else {
                root_document(&base, self.max())
            };
            return Reply {
                status: 200,
                body,
                request_id: None,
                version: versioned.then(|| v(self.max())),
            };
        }
        if self.0.check_token(super::auth_token(req)).is_err() {
            return Reply {
                status: 401,
                body: Value::Null,
                request_id: None,
                version: None,
            };
        }
        let header = req
            .headers
            .get("openstack-api-version")
            .map(|h| h.to_str().unwrap_or("\u{fffd}"));
        let version = match negotiate(header, self.max()) {
            Ok(ver) => ver,
            Err(e) => return self.not_acceptable(e),
        };
        let shown_version = Some(v(version));
        match self.route(req, rest, version, &base) {
            Ok(mut r) => {
                r.version = shown_version;
                r
            }
            Err(e) => Reply::error(e, shown_version),
        }
    }

    fn not_acceptable(&self, e: MicroversionError) -> Reply {
        let body = match &e {
            MicroversionError::Malformed => ApiError::new(406, "").body(),
            MicroversionError::Unsupported { .. } => json!({"errors": [{
                "message": e.to_string(),
                "code": "magnum.microversion-unsupported",
                "title": "Requested microversion is unsupported",
                "max_version": v(self.max()),
                "min_version": v(MIN_VERSION),
                "links": [{"rel": "help", "href": "http://docs.openstack.org/api-guide/compute/microversions.html"}],
            }]}),
        };
        Reply {
            status: 406,
            body,
            request_id: None,
            version: Some(v(MIN_VERSION)),
        }
    }

    fn json_body(&self, req: &Request) -> Result<Value, ApiError> {
        match content_type(req).as_deref() {
            Some("application/json") | None => {}
            Some(other) => return Err(ApiError::new(415, format!("Unknown mimetype: {other}"))),
        }
        serde_json::from_slice(&req.body)
            .map_err(|_| ApiError::new(400, "Request is not in valid JSON format"))
    }

    fn apply(&self, req: &Request, op: Operation, mutates: bool) -> ApiResponse {
        let id = fixed_request_id(&self.0.live, req);
        if mutates {
            self.0.live.mutate(|e| e.apply(op, id))
        } else {
            self.0.live.engine().apply(op, id)
        }
    }

    /// An engine answer, with links added to cluster and nodegroup bodies.
    fn engine_reply(&self, r: ApiResponse, base: &str, kind: Kind) -> Reply {
        let body = if r.error.is_none() && r.body.is_object() {
            let e = self.0.live.engine();
            let created = isoformat(e.epoch, SimTime::ZERO);
            match (&e.world.cluster, kind) {
                (Some(c), Kind::Cluster) => self.shown_cluster(c, &r.body, base, &created),
                (Some(c), Kind::Nodegroup) => nodegroup_body(c, &r.body, base, &created),
                (Some(_), Kind::Template) => {
                    template_body(&r.body, base, &self.0.credentials.user_id, &created)
                }
                _ => r.body,
            }
        } else {
            r.body
        };
        Reply {
            status: r.status,
            body,
            request_id: r.request_id,
            version: None,
        }
    }

    fn route(
        &self,
        req: &Request,
        rest: &[&str],
        version: Version,
        base: &str,
    ) -> Result<Reply, ApiError> {
        let method = req.method.as_str();
        let ok = |status: u16, body: Value| Reply {
            status,
            body,
            request_id: None,
            version: None,
        };
        let need = |min: Version, what: &str| {
            if version < min {
                Err(ApiError::new(
                    406,
                    format!(
                        "Version {} was requested but the requested API {what} is not supported for this version.",
                        v(version)
                    ),
                ))
            } else {
                Ok(())
            }
        };
        match (method, rest) {
            ("GET", ["clusters"]) => Ok(ok(200, self.cluster_list(base, false))),
            ("GET", ["clusters", "detail"]) => Ok(ok(200, self.cluster_list(base, true))),
            ("GET", ["clusters", ident]) => Ok(self.engine_reply(
                self.apply(
                    req,
                    Operation::ShowCluster {
                        cluster: ident.to_string(),
                    },
                    false,
                ),
                base,
                Kind::Cluster,
            )),
            ("PATCH", ["clusters", ident]) => {
                let patch = parse_patch(&self.json_body(req)?)?;
                for op in patch.iter().filter(|o| o.path == "/node_count") {
                    if let Some(value) = &op.value {
                        self.check_count(value)?;
                    }
                }
                Ok(self.engine_reply(
                    self.apply(
                        req,
                        Operation::UpdateCluster {
                            cluster: ident.to_string(),
                            patch,
                        },
                        true,
                    ),
                    base,
                    Kind::Other,
                ))
            }
            ("POST", ["clusters", ident, "actions", "resize"]) => {
                need((1, 7), "resize")?;
                let (node_count, nodegroup, nodes_to_remove) = parse_resize(&self.json_body(req)?)?;
                self.check_count(&json!(node_count))?;
                Ok(self.engine_reply(
                    self.apply(
                        req,
                        Operation::Resize {
                            cluster: ident.to_string(),
                            node_count,
                            nodegroup,
                            nodes_to_remove,
                        },
                        true,
                    ),
                    base,
                    Kind::Other,
                ))
            }
            ("GET", ["clusters", ident, "nodegroups"]) => {
                need((1, 9), "nodegroups")?;
                self.nodegroup_list(ident).map(|b| ok(200, b))
            }
            ("GET", ["clusters", ident, "nodegroups", ng]) => {
                need((1, 9), "nodegroups")?;
                Ok(self.engine_reply(
                    self.apply(
                        req,
                        Operation::ShowNodegroup {
                            cluster: ident.to_string(),
                            nodegroup: ng.to_string(),
                        },
                        false,
                    ),
                    base,
                    Kind::Nodegroup,
                ))
            }
            ("POST", ["clusters", ident, "nodegroups"]) => {
                need((1, 9), "nodegroups")?;
                let body = self.json_body(req)?;
                for field in ["node_count", "min_node_count", "max_node_count"] {
                    if let Some(value) = body.get(field) {
                        self.check_count(value)?;
                    }
                }
                Ok(self.engine_reply(
                    self.apply(
                        req,
                        Operation::CreateNodegroup {
                            cluster: ident.to_string(),
                            body,
                        },
                        true,
                    ),
                    base,
                    Kind::Nodegroup,
                ))
            }
            ("DELETE", ["clusters", ident, "nodegroups", ng]) => {
                need((1, 9), "nodegroups")?;
                Ok(self.engine_reply(
                    self.apply(
                        req,
                        Operation::DeleteNodegroup {
                            cluster: ident.to_string(),
                            nodegroup: ng.to_string(),
                        },
                        true,
                    ),
                    base,
                    Kind::Other,
                ))
            }
            ("PATCH", ["clusters", ident, "nodegroups", ng]) => {
                need((1, 9), "nodegroups")?;
                let patch = parse_patch(&self.json_body(req)?)?;
                Ok(self.engine_reply(
                    self.apply(
                        req,
                        Operation::UpdateNodegroup {
                            cluster: ident.to_string(),
                            nodegroup: ng.to_string(),
                            patch,
                        },
                        true,
                    ),
                    base,
                    Kind::Nodegroup,
                ))
            }
            ("GET", ["clustertemplates"] | ["clustertemplates", "detail"]) => {
                Ok(ok(200, self.template_list(base)))
            }
            ("GET", ["clustertemplates", ident]) => Ok(self.engine_reply(
                self.apply(
                    req,
                    Operation::ShowClusterTemplate {
                        template: ident.to_string(),
                    },
                    false,
                ),
                base,
                Kind::Template,
            )),
            ("GET", ["certificates", ident]) => {
                self.ca_certificate(ident, base).map(|b| ok(200, b))
            }
            ("POST", ["certificates"]) => {
                let body = self.json_body(req)?;
                self.sign_certificate(&body, base).map(|b| ok(201, b))
            }
            (
                _,
                ["clusters"]
                | ["clusters", _]
                | ["clusters", _, "actions", "resize"]
                | ["clusters", _, "nodegroups"]
                | ["clusters", _, "nodegroups", _],
            ) => Err(method_not_allowed()),
            _ => Err(ApiError::new(404, "The resource could not be found.")),
        }
    }

    /// The mock's guard against node counts no cloud would grant
    /// ([`super::Options::max_node_count`]).
    fn check_count(&self, value: &Value) -> Result<(), ApiError> {
        let max = self.0.options.max_node_count;
        match value.as_u64() {
            Some(n) if n > u64::from(max) => Err(invalid(
                "node_count",
                value,
                &format!("Value should be lower or equal to {max}"),
            )),
            _ => Ok(()),
        }
    }

    fn cluster_list(&self, base: &str, detail: bool) -> Value {
        const KEYS: [&str; 15] = [
            "uuid",
            "name",
            "cluster_template_id",
            "keypair",
            "docker_volume_size",
            "labels",
            "node_count",
            "status",
            "master_flavor_id",
            "flavor_id",
            "create_timeout",
            "master_count",
            "stack_id",
            "health_status",
            "links",
        ];
        let e = self.0.live.engine();
        let created = isoformat(e.epoch, SimTime::ZERO);
        let items: Vec<Value> = e
            .world
            .cluster
            .iter()
            .map(|c| {
                let raw = magsim_sim::cloud::magnum::cluster_json(c);
                let full = self.shown_cluster(c, &raw, base, &created);
                if detail {
                    return full;
                }
                let mut m = Map::new();
                for k in KEYS {
                    if let Some(val) = full.get(k) {
                        m.insert(k.into(), val.clone());
                    }
                }
                m.insert("merge_labels".into(), json!(false));
                Value::Object(m)
            })
            .collect();
        json!({ "clusters": items })
    }

    /// A cluster as served: [`cluster_body`], its `api_address` the Kubernetes mock's URL when
    /// one runs beside ([`super::Options::api_address`]).
    fn shown_cluster(&self, c: &Cluster, raw: &Value, base: &str, created: &str) -> Value {
        let mut body = cluster_body(c, raw, base, &self.0.credentials.user_id, created);
        if let (Some(url), Some(fields)) = (&self.0.options.api_address, body.as_object_mut()) {
            fields.insert("api_address".into(), json!(url));
        }
        body
    }

    /// `GET /v1/clustertemplates[/detail]`: every item in full (the collection keeps all
    /// fields, unlike clusters').
    fn template_list(&self, base: &str) -> Value {
        let e = self.0.live.engine();
        let created = isoformat(e.epoch, SimTime::ZERO);
        let items: Vec<Value> = e
            .world
            .cluster
            .iter()
            .map(|c| {
                let raw = magsim_sim::cloud::magnum::cluster_template_json(c);
                template_body(&raw, base, &self.0.credentials.user_id, &created)
            })
            .collect();
        json!({ "clustertemplates": items })
    }

    /// `GET /v1/certificates/{cluster}`: the cluster's CA certificate.
    fn ca_certificate(&self, ident: &str, base: &str) -> Result<Value, ApiError> {
        let uuid = self.cluster_uuid(ident, 404)?;
        Ok(json!({
            "cluster_uuid": uuid,
            "links": links(base, &format!("certificates/{uuid}")),
            "pem": self.0.ca.pem().trim_end(),
            "ca_cert_type": null,
        }))
    }

    /// `POST /v1/certificates` `{"cluster_uuid", "csr"}`: the CSR signed by the cluster's CA
    /// (`201`). An unknown cluster is `400` (the controller turns the lookup's 404 into a
    /// BadRequest), an unreadable CSR Magnum's `InvalidCsr`.
    fn sign_certificate(&self, body: &Value, base: &str) -> Result<Value, ApiError> {
        let text = |field: &str| match body.get(field) {
            Some(Value::String(s)) => Ok(s.clone()),
            Some(other) => Err(invalid(field, other, "Value should be a string")),
            None => Err(invalid(field, &Value::Null, "Mandatory field missing.")),
        };
        let ident = text("cluster_uuid")?;
        let csr = text("csr")?;
        let uuid = self.cluster_uuid(&ident, 400)?;
        let pem = self
            .0
            .ca
            .sign_client(&csr)
            .map_err(|_| ApiError::new(400, format!("Received invalid csr {csr}.")))?;
        Ok(json!({
            "cluster_uuid": uuid,
            "links": links(base, &format!("certificates/{uuid}")),
            "csr": csr,
            "pem": pem,
            "ca_cert_type": null,
        }))
    }

    /// The uuid of the cluster `ident` names, or Magnum's not-found with `status`.
    fn cluster_uuid(&self, ident: &str, status: u16) -> Result<String, ApiError> {
        let e = self.0.live.engine();
        e.world
            .magnum_cluster(ident)
            .map(|c| c.uuid.clone())
            .ok_or_else(|| ApiError::new(status, format!("Cluster {ident} could not be found.")))
    }

    fn nodegroup_list(&self, ident: &str) -> Result<Value, ApiError> {
        let e = self.0.live.engine();
        let c = e
            .world
            .magnum_cluster(ident)
            .ok_or_else(|| ApiError::new(404, format!("Cluster {ident} could not be found.")))?;
        let items: Vec<Value> = c
            .nodegroups
            .iter()
            .map(|n| {
                // wsme brings declared defaults back for unset fields: min 0, max null.
                json!({"uuid": n.uuid, "name": n.name, "flavor_id": n.flavor_id, "image_id": n.image_id,
                       "node_count": n.node_count, "role": n.role, "min_node_count": 0, "max_node_count": null,
                       "is_default": n.is_default, "stack_id": n.stack_id, "status": n.status, "merge_labels": false})
            })
            .collect();
        Ok(json!({ "nodegroups": items }))
    }
}

#[derive(Clone, Copy)]
enum Kind {
    Cluster,
    Nodegroup,
    Template,
    Other,
}

fn method_not_allowed() -> ApiError {
    ApiError::new(
        405,
        "The method specified is not allowed for this resource.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn microversions() {
        assert_eq!(negotiate(None, (1, 11)), Ok((1, 1)));
        assert_eq!(
            negotiate(Some("container-infra latest"), (1, 11)),
            Ok((1, 11))
        );
        assert_eq!(negotiate(Some("container-infra 1.9"), (1, 11)), Ok((1, 9)));
        assert_eq!(
            negotiate(Some("compute 2.1, container-infra 1.10"), (1, 11)),
            Ok((1, 10))
        );
        assert_eq!(
            negotiate(Some("container-infra 1.12"), (1, 11))
                .unwrap_err()
                .to_string(),
            "Version 1.12 was requested but the minor version is not supported by this service. The supported version range is: [1.1, 1.11]."
        );
        assert_eq!(
            negotiate(Some("compute 2.1"), (1, 11)),
            Err(MicroversionError::Malformed)
        );
        assert_eq!(
            negotiate(Some("container-infra one"), (1, 11)),
            Err(MicroversionError::Malformed)
        );
    }

    #[test]
    fn patch_bodies_are_checked() {
        let ok = parse_patch(&json!([{"op": "replace", "path": "/max_node_count", "value": 6}]))
            .unwrap();
        assert_eq!(ok[0].op, PatchOp::Replace);
        assert_eq!(ok[0].value, Some(json!(6)));
        assert_eq!(
            parse_patch(&json!([{"op": "move", "path": "/x"}]))
                .unwrap_err()
                .message,
            "Invalid input for field/attribute op. Value: 'move'. Value should be one of: add, remove, replace"
        );
        assert_eq!(parse_patch(&json!({"op": "add"})).unwrap_err().status, 400);
    }

    #[test]
    fn request_ids_have_oslos_shape() {
        assert!(is_request_id("req-0a1e8dc8-1d3b-459f-8539-5241f0f854f9"));
        for bad in [
            "0a1e8dc8-1d3b-459f-8539-5241f0f854f9",
            "req-0A1E8DC8-1D3B-459F-8539-5241F0F854F9",
            "req-0a1e8dc8-1d3b-459f-8539-5241f0f854f",
            "req-0a1e8dc8-1d3b-459f-8539-5241f0f854f9-00",
            "req-0a1e8dc81d3b459f85395241f0f854f9",
            "req-0a1e8dc8-1d3b-459f-8539-5241f0f854fg",
        ] {
            assert!(!is_request_id(bad), "{bad}");
        }
    }

    #[test]
    fn isoformat_is_pythons() {
        let epoch = Epoch::parse_rfc3339("2025-11-10T15:02:10Z").unwrap();
        assert_eq!(isoformat(epoch, SimTime::ZERO), "2025-11-10T15:02:10+00:00");
    }
}
