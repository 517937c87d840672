//! Nova (compute) as an operator's `openstack server list|show` and `flavor list|show` and
//! the autoscaler's magnum provider (`GET /flavors/{id}`, a node template) use it:
//!
//! - `GET /` and `GET /v2.1` (no token, as Nova's version pipelines): the version document,
//!   microversions 2.1 to [`MAX_VERSION`];
//! - flavors from the engine's Jetstream2 flavors (`/flavors`, `/flavors/detail`,
//!   `/flavors/{id}`, `/flavors/{id}/os-extra_specs`); ids are the names, as the scenario's
//!   nodegroups name them;
//! - servers from the engine's machines (`/servers`, `/servers/detail`, `/servers/{id}`):
//!   `BUILD` while the machine boots, `ACTIVE` once it is a node, with the node's InternalIP
//!   on the cluster's network and the node's `providerID` id.
//!
//! Bodies are those of the microversion asked for (`OpenStack-API-Version: compute X.Y`, or
//! `X-OpenStack-Nova-API-Version`; 2.1 when absent): the flavor embedded in a server from
//! 2.47, a flavor's `description` from 2.55 and `extra_specs` from 2.61, `swap` 0 rather than
//! `""` from 2.75. Errors use Nova's `{"<name>": {"code", "message"}}` shape.
//!
//! Not modelled: a server's id before it boots is drawn from its machine, after from its node
//! (the id the node's `providerID` and Heat's `refs_map` name), so a `BUILD` server's id
//! changes once; flavors carry no extra specs (Jetstream2's are not in the references).

use super::{json_response, segments, unauthorized, State, Wire};
use crate::Service;
use magsim_sim::engine::Engine;
use magsim_sim::flavor::Flavor;
use magsim_sim::world::Machine;
use serde_json::{json, Map, Value};
use std::sync::Arc;
use wiremock::Request;

/// The highest compute microversion served (Nova 2024.1, "Caracal").
pub const MAX_VERSION: (u32, u32) = (2, 96);
const MIN_VERSION: (u32, u32) = (2, 1);

/// The catch-all responder of the Nova server.
pub struct Nova(pub(crate) Arc<State>);

fn v((major, minor): (u32, u32)) -> String {
    format!("{major}.{minor}")
}

/// Nova's error document: `{"itemNotFound": {"code": 404, "message": ...}}`.
fn fault(status: u16, message: &str) -> (u16, Value) {
    let name = match status {
        400 => "badRequest",
        404 => "itemNotFound",
        405 => "badMethod",
        _ => "computeFault",
    };
    (
        status,
        json!({ name: {"code": status, "message": message} }),
    )
}

/// The microversion a request asks for, or Nova's 406 text.
fn requested(req: &Request) -> Result<(u32, u32), String> {
    let header = |name: &str| req.headers.get(name).and_then(|v| v.to_str().ok());
    let asked = match (
        header("openstack-api-version"),
        header("x-openstack-nova-api-version"),
    ) {
        (Some(h), _) => {
            let mut parts = h.split_whitespace();
            match (parts.next(), parts.next()) {
                (Some(s), Some(ver)) if s.eq_ignore_ascii_case("compute") => ver.to_string(),
                _ => return Ok(MIN_VERSION),
            }
        }
        (None, Some(ver)) => ver.trim().to_string(),
        (None, None) => return Ok(MIN_VERSION),
    };
    if asked.eq_ignore_ascii_case("latest") {
        return Ok(MAX_VERSION);
    }
    let parsed = asked
        .split_once('.')
        .and_then(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?)));
    match parsed {
        Some(ver) if (MIN_VERSION..=MAX_VERSION).contains(&ver) => Ok(ver),
        Some(_) => Err(format!(
            "Version {asked} is not supported by the API. Minimum is {} and maximum is {}.",
            v(MIN_VERSION),
            v(MAX_VERSION)
        )),
        None => Err(format!("Invalid API version request string {asked}")),
    }
}

/// `GET /v2.1`: the version document.
pub fn version_document(base: &str) -> Value {
    json!({"version": {
        "id": "v2.1",
        "status": "CURRENT",
        "version": v(MAX_VERSION),
        "min_version": v(MIN_VERSION),
        "updated": "2013-07-23T11:33:21Z",
        "links": [{"rel": "self", "href": format!("{base}/v2.1/")},
                  {"rel": "describedby", "type": "text/html", "href": "http://docs.openstack.org/"}],
        "media-types": [{"base": "application/json", "type": "application/vnd.openstack.compute+json;version=2.1"}],
    }})
}

impl Nova {
    /// The service's answer to `req` (journaled).
    pub(crate) fn respond(&self, req: &Request) -> Wire {
        let id = self.0.request_id();
        let base = self.0.urls.nova.clone();
        let path = req.url.path();
        if req.method.as_str() == "GET" && matches!(path, "/" | "/v2.1") {
            let body = match path {
                "/" => json!({"versions": [version_document(&base)["version"]]}),
                _ => version_document(&base),
            };
            let wire = json_response(200, &body).insert_header("x-openstack-request-id", &id);
            return self.0.record(Service::Compute, req, wire);
        }
        if self.0.check_token(super::auth_token(req)).is_err() {
            let wire = unauthorized(&self.0).insert_header("x-openstack-request-id", &id);
            return self.0.record(Service::Compute, req, wire);
        }
        let (status, body, version) = match requested(req) {
            Ok(ver) => {
                let (s, b) = self.answer(req, &base, ver);
                (s, b, ver)
            }
            Err(why) => {
                let (s, b) = fault(406, &why);
                (s, b, MIN_VERSION)
            }
        };
        let wire = json_response(status, &body)
            .insert_header("x-openstack-request-id", &id)
            .insert_header("OpenStack-API-Version", &format!("compute {}", v(version)))
            .insert_header("X-OpenStack-Nova-API-Version", &v(version))
            .insert_header(
                "Vary",
                "OpenStack-API-Version, X-OpenStack-Nova-API-Version",
            );
        self.0.record(Service::Compute, req, wire)
    }

    fn answer(&self, req: &Request, base: &str, ver: (u32, u32)) -> (u16, Value) {
        let e = self.0.live.engine();
        let project = self.0.credentials.project_id.as_str();
        let who = (project, self.0.credentials.user_id.as_str());
        match (req.method.as_str(), segments(req.url.path()).as_slice()) {
            ("GET", ["v2.1"]) => (200, version_document(base)),
            ("GET", ["v2.1", "flavors"]) => {
                let list: Vec<Value> = e
                    .world
                    .flavors
                    .values()
                    .map(|f| json!({"id": f.name, "name": f.name, "links": flavor_links(base, f)}))
                    .collect();
                (200, json!({ "flavors": list }))
            }
            ("GET", ["v2.1", "flavors", "detail"]) => {
                let list: Vec<Value> = e
                    .world
                    .flavors
                    .values()
                    .map(|f| flavor(base, f, ver))
                    .collect();
                (200, json!({ "flavors": list }))
            }
            ("GET", ["v2.1", "flavors", name]) => match e.world.flavors.get(*name) {
                Some(f) => (200, json!({"flavor": flavor(base, f, ver)})),
                None => fault(404, &format!("Flavor {name} could not be found.")),
            },
            ("GET", ["v2.1", "flavors", name, "os-extra_specs"]) => {
                match e.world.flavors.get(*name) {
                    Some(_) => (200, json!({"extra_specs": {}})),
                    None => fault(404, &format!("Flavor {name} could not be found.")),
                }
            }
            ("GET", ["v2.1", "servers"]) => {
                let list: Vec<Value> = servers(&e, req)
                    .map(|m| {
                        let id = server_id(&e, m);
                        json!({"id": id, "links": server_links(base, project, &id), "name": m.name})
                    })
                    .collect();
                (200, json!({"servers": list}))
            }
            ("GET", ["v2.1", "servers", "detail"]) => {
                let list: Vec<Value> = servers(&e, req)
                    .map(|m| server(&e, base, who, m, ver))
                    .collect();
                (200, json!({"servers": list}))
            }
            ("GET", ["v2.1", "servers", id]) => {
                match live_machines(&e).find(|m| server_id(&e, m) == *id) {
                    Some(m) => (200, json!({"server": server(&e, base, who, m, ver)})),
                    None => fault(404, &format!("Instance {id} could not be found.")),
                }
            }
            _ => fault(404, "The resource could not be found."),
        }
    }
}

fn flavor_links(base: &str, f: &Flavor) -> Value {
    json!([{"rel": "self", "href": format!("{base}/v2.1/flavors/{}", f.name)},
           {"rel": "bookmark", "href": format!("{base}/flavors/{}", f.name)}])
}

/// A flavor as microversion `ver` shows it.
fn flavor(base: &str, f: &Flavor, ver: (u32, u32)) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), json!(f.name));
    m.insert("name".into(), json!(f.name));
    m.insert("ram".into(), json!(f.ram_gib * 1024));
    m.insert("disk".into(), json!(f.disk_gb));
    m.insert(
        "swap".into(),
        if ver >= (2, 75) { json!(0) } else { json!("") },
    );
    m.insert("OS-FLV-EXT-DATA:ephemeral".into(), json!(0));
    m.insert("OS-FLV-DISABLED:disabled".into(), json!(false));
    m.insert("vcpus".into(), json!(f.vcpus));
    m.insert("os-flavor-access:is_public".into(), json!(true));
    m.insert("rxtx_factor".into(), json!(1.0));
    m.insert("links".into(), flavor_links(base, f));
    if ver >= (2, 55) {
        m.insert("description".into(), Value::Null);
    }
    if ver >= (2, 61) {
        m.insert("extra_specs".into(), json!({}));
    }
    Value::Object(m)
}

/// Machines whose server exists: every machine the world holds (a deleted node's machine is
/// gone with it).
fn live_machines<'a>(e: &'a Engine) -> impl Iterator<Item = &'a Machine> + 'a {
    e.world
        .machines
        .iter()
        .filter(move |m| m.node.is_none_or(|id| !e.world.node(id).deleted))
}

/// The servers a list shows: newest first (Nova's `created_at` then `id`, descending),
/// `?name=` as a substring of the name (Nova matches a regular expression).
fn servers<'a>(e: &'a Engine, req: &Request) -> impl Iterator<Item = &'a Machine> + 'a {
    let name = req
        .url
        .query_pairs()
        .find(|(k, _)| k == "name")
        .map(|(_, v)| v.into_owned());
    let mut list: Vec<&Machine> = live_machines(e)
        .filter(|m| name.as_deref().is_none_or(|n| m.name.contains(n)))
        .collect();
    // The key hashes the id: computed once per server, not once per comparison.
    list.sort_by_cached_key(|m| std::cmp::Reverse((m.created, server_id(e, m))));
    list.into_iter()
}

/// The server id: the node's (its `providerID`) once booted, else drawn from the machine.
fn server_id(e: &Engine, m: &Machine) -> String {
    match m.node {
        Some(id) => magsim_sim::cloud::heat::server_id(e.world.node(id)),
        None => magsim_sim::ids::derived_uid(&["server", &m.name, &m.created.0.to_string()]),
    }
}

fn server_links(base: &str, project: &str, id: &str) -> Value {
    json!([{"rel": "self", "href": format!("{base}/v2.1/{project}/servers/{id}")},
           {"rel": "bookmark", "href": format!("{base}/{project}/servers/{id}")}])
}

/// A server as microversion `ver` shows it.
fn server(e: &Engine, base: &str, who: (&str, &str), m: &Machine, ver: (u32, u32)) -> Value {
    let (project, user_id) = who;
    let id = server_id(e, m);
    let cluster = e.world.cluster.as_ref();
    let ng = cluster.and_then(|c| c.nodegroups.iter().find(|n| n.name == m.nodegroup));
    let flavor_name = ng.map_or("", |n| n.flavor_id.as_str());
    let active = m.node.is_some();
    let created = e.epoch.at(m.created).rfc3339();
    let addresses = match m.node {
        Some(node) => {
            json!({"private": [{"version": 4, "addr": crate::kube::objects::node_ip(node),
            "OS-EXT-IPS:type": "fixed", "OS-EXT-IPS-MAC:mac_addr": mac(&id)}]})
        }
        None => json!({}),
    };
    let flavor = match e.world.flavors.get(flavor_name) {
        Some(f) if ver >= (2, 47) => json!({"vcpus": f.vcpus, "ram": f.ram_gib * 1024,
            "disk": f.disk_gb, "ephemeral": 0, "swap": 0, "original_name": f.name,
            "extra_specs": {}}),
        _ => json!({"id": flavor_name, "links": [{"rel": "bookmark",
            "href": format!("{base}/flavors/{flavor_name}")}]}),
    };
    // No image id is Nova's "" (a server booted from a volume).
    let image = match ng.map(|n| n.image_id.as_str()) {
        None | Some("") => Value::String(String::new()),
        Some(image) => json!({"id": image, "links": [{"rel": "bookmark",
            "href": format!("{base}/images/{image}")}]}),
    };
    let mut s = Map::new();
    s.insert("id".into(), json!(id));
    s.insert("name".into(), json!(m.name));
    s.insert(
        "status".into(),
        json!(if active { "ACTIVE" } else { "BUILD" }),
    );
    s.insert("tenant_id".into(), json!(project));
    s.insert("user_id".into(), json!(user_id));
    s.insert("metadata".into(), json!({}));
    s.insert("hostId".into(), json!(""));
    s.insert("image".into(), image);
    s.insert("flavor".into(), flavor);
    s.insert("created".into(), json!(created));
    s.insert("updated".into(), json!(created));
    s.insert("addresses".into(), addresses);
    s.insert("accessIPv4".into(), json!(""));
    s.insert("accessIPv6".into(), json!(""));
    s.insert("links".into(), server_links(base, project, &id));
    s.insert("OS-DCF:diskConfig".into(), json!("MANUAL"));
    if !active {
        s.insert("progress".into(), json!(0));
    }
    s.insert("OS-EXT-AZ:availability_zone".into(), json!("nova"));
    s.insert("config_drive".into(), json!(""));
    s.insert(
        "key_name".into(),
        json!(cluster.and_then(|c| c.keypair.as_deref())),
    );
    s.insert(
        "OS-SRV-USG:launched_at".into(),
        if active { json!(created) } else { Value::Null },
    );
    s.insert("OS-SRV-USG:terminated_at".into(), Value::Null);
    s.insert("security_groups".into(), json!([{"name": "default"}]));
    s.insert(
        "OS-EXT-STS:task_state".into(),
        if active {
            Value::Null
        } else {
            json!("spawning")
        },
    );
    s.insert(
        "OS-EXT-STS:vm_state".into(),
        json!(if active { "active" } else { "building" }),
    );
    s.insert(
        "OS-EXT-STS:power_state".into(),
        json!(if active { 1 } else { 0 }),
    );
    s.insert("os-extended-volumes:volumes_attached".into(), json!([]));
    if ver >= (2, 9) {
        s.insert("locked".into(), json!(false));
    }
    if ver >= (2, 19) {
        s.insert("description".into(), Value::Null);
    }
    if ver >= (2, 26) {
        s.insert("tags".into(), json!([]));
    }
    if ver >= (2, 63) {
        s.insert("trusted_image_certificates".into(), Value::Null);
    }
    if ver >= (2, 73) {
        s.insert("locked_reason".into(), Value::Null);
    }
    if ver >= (2, 96) {
        s.insert("pinned_availability_zone".into(), Value::Null);
    }
    Value::Object(s)
}

/// A locally administered MAC address from the server id (`fa:16:3e:..`, Neutron's prefix).
fn mac(id: &str) -> String {
    let hex: String = id.chars().filter(char::is_ascii_hexdigit).take(6).collect();
    let b = |i: usize| hex.get(i..i + 2).unwrap_or("00");
    format!("fa:16:3e:{}:{}:{}", b(0), b(2), b(4))
}
