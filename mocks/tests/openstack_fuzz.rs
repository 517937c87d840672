//! Malformed requests against the OpenStack mocks, from a fixed-seed generator (so a failure
//! reproduces): Keystone, Magnum, Heat and Nova get every method on paths built from their
//! real routes (mangled segments, `..`, percent escapes, very long segments, odd queries),
//! with or without a token, good and bad `OpenStack-API-Version` and `Content-Type` headers
//! (some not even text), and bodies that are broken JSON, JSON of the wrong shape or type,
//! huge numbers and strings. Every answer is the API's own: never a 5xx, a request id on
//! every answer, each error in the service's own body shape (the exceptions are the ones the
//! servers document: keystonemiddleware's `401` in front of Magnum, Heat and Nova, Magnum's
//! microversion `406`, the bare `404` of Heat's router); after a refused write the cluster,
//! its nodegroups and Heat's stacks read the same and the simulated world behind them is
//! unchanged; nothing panics; and the servers still answer a normal token request and
//! cluster show at the end. It runs on the built-in incident cluster (magnum-capi-helm: Heat
//! has no stacks) and on the built-in Heat-driver cluster, whose real stack names and ids the
//! paths use. Request heads too large for a client library go over raw TCP.

use magsim_mocks::MockCloud;
use reqwest::header::{HeaderValue, CONTENT_TYPE};
use reqwest::{Client, Method};
use serde_json::{json, Value};

/// Requests per cluster: enough to reach every handler's error paths, few enough for CI.
const CASES: usize = 1000;

#[path = "support/panics.rs"]
mod panics;

/// The engine's seeded stream: fixed seeds make every run send the same cases.
use magsim_sim::rng::SimRng as Gen;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Svc {
    Keystone,
    Magnum,
    Heat,
    Nova,
}

const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

const KEYSTONE_PATHS: &[(&str, &str)] = &[
    ("GET", "/"),
    ("GET", "/v3"),
    ("GET", "/v3/"),
    ("POST", "/v3/auth/tokens"),
    ("POST", "/v3/auth/tokens"),
    ("POST", "/v3/auth/tokens"),
    ("POST", "/v3/auth/tokens/"),
    ("GET", "/v3/auth"),
    ("GET", "/v3/auth/catalog"),
    ("GET", "/v3/users"),
    ("POST", "/v2.0/tokens"),
];

const MAGNUM_PATHS: &[(&str, &str)] = &[
    ("GET", "/"),
    ("GET", "/v1"),
    ("GET", "/v1/"),
    ("GET", "/v1/clusters"),
    ("GET", "/v1/clusters/"),
    ("GET", "/v1/clusters/detail"),
    ("GET", "/v1/clusters/k8s"),
    ("PATCH", "/v1/clusters/k8s"),
    ("PATCH", "/v1/clusters/CLUSTER_UUID"),
    ("GET", "/v1/clusters/CLUSTER_UUID"),
    ("GET", "/v1/clusters/nope"),
    ("GET", "/v1/clusters/k8s/nodegroups"),
    ("GET", "/v1/clusters/k8s/nodegroups/default-worker"),
    ("PATCH", "/v1/clusters/k8s/nodegroups/default-worker"),
    ("PATCH", "/v1/clusters/k8s/nodegroups/default-worker"),
    ("GET", "/v1/clusters/k8s/nodegroups/default-master"),
    ("GET", "/v1/clusters/k8s/nodegroups/nope"),
    ("GET", "/v1/clusters/nope/nodegroups/default-worker"),
    ("POST", "/v1/clusters/k8s/actions/resize"),
    ("POST", "/v1/clusters/CLUSTER_UUID/actions/resize"),
    ("POST", "/v1/clusters/k8s/actions/upgrade"),
    ("POST", "/v1/clusters/nope/actions/resize"),
    ("GET", "/v1/clustertemplates"),
    ("GET", "/v2/clusters/k8s"),
];

/// Each with the method its route serves. `PROJECT` and `STACK` (a real `name/id`, or a name) are filled in per cluster.
const HEAT_PATHS: &[(&str, &str)] = &[
    ("GET", "/"),
    ("GET", "/v1"),
    ("GET", "/v1/PROJECT"),
    ("GET", "/v1/PROJECT/stacks"),
    ("GET", "/v1/PROJECT/stacks/"),
    ("GET", "/v1/PROJECT/stacks//x"),
    ("GET", "/v1/PROJECT/stacks/STACK"),
    ("GET", "/v1/PROJECT/stacks/STACK/resources"),
    ("GET", "/v1/PROJECT/stacks/STACK/resources/kube_minions"),
    ("GET", "/v1/PROJECT/stacks/STACK/resources/kube-minion"),
    ("GET", "/v1/PROJECT/stacks/STACK/resources/0"),
    ("GET", "/v1/PROJECT/stacks/STACK/resources/nope"),
    ("GET", "/v1/PROJECT/stacks/STACK/events"),
    ("GET", "/v1/PROJECT/stacks/STACK/outputs"),
    ("GET", "/v1/PROJECT/stacks/nope"),
    ("GET", "/v1/PROJECT/stacks/nope/resources"),
    ("GET", "/v1/PROJECT/stacks/nope/x/resources"),
    ("GET", "/v1/0123456789abcdef0123456789abcdef/stacks"),
];

const NOVA_PATHS: &[(&str, &str)] = &[
    ("GET", "/"),
    ("GET", "/v2.1"),
    ("GET", "/v2.1/flavors"),
    ("GET", "/v2.1/flavors/m3.small"),
    ("GET", "/v2.1/flavors/g3.large"),
    ("GET", "/v2.1/flavors/nope"),
    ("GET", "/v2.1/flavors/m3.small/os-extra_specs"),
    ("GET", "/v2.1/servers"),
];

const QUERIES: &[&str] = &[
    "",
    "",
    "",
    "?limit=-1",
    "?marker=%%%",
    "?sort_key=a&sort_key=b",
    "?nocatalog",
    "?resolve_outputs=maybe",
    "?%ZZ=%00",
];

const VERSIONS: &[Option<&str>] = &[
    None,
    Some("container-infra latest"),
    Some("container-infra latest"),
    Some("container-infra 1.9"),
    Some("container-infra 1.1"),
    Some("container-infra 1.99"),
    Some("container-infra 0.9"),
    Some("container-infra one"),
    Some("container-infra 1."),
    Some("container-infra 99999999999.1"),
    Some("compute 2.1"),
    Some("container-infra"),
    Some(""),
    Some("compute 2.1, container-infra 1.10"),
];

const TYPES: &[Option<&str>] = &[
    Some("application/json"),
    Some("application/json"),
    Some("application/json; charset=UTF-8"),
    Some("application/json-patch+json"),
    Some("text/plain"),
    Some("application/x-www-form-urlencoded"),
    Some("garbage"),
    None,
];

/// A body for `svc` at `path`: near-valid requests with one thing wrong (and a few right), JSON of the
/// wrong shape, and garbage.
fn body(g: &mut Gen, svc: Svc, path: &str, clean: bool, cloud: &MockCloud) -> Vec<u8> {
    let c = &cloud.openstack.credentials;
    let shaped = match svc {
        Svc::Keystone => vec![
            json!({"auth": {"identity": {"methods": ["application_credential"],
                "application_credential": {"id": c.application_credential_id, "secret": c.application_credential_secret}}}}),
            json!({"auth": {"identity": {"methods": ["application_credential"],
                "application_credential": {"id": c.application_credential_id, "secret": 7}}}}),
            json!({"auth": {"identity": {"methods": ["password"],
                "password": {"user": {"id": c.user_id, "password": c.password}}},
                "scope": {"project": {"id": c.project_id}}}}),
            json!({"auth": {"identity": {"methods": ["password"],
                "password": {"user": {"name": c.user_name, "password": c.password}}},
                "scope": {"project": {"name": c.project_name, "domain": 5}}}}),
            json!({"auth": {"identity": {"methods": ["password"],
                "password": {"user": {"id": "6f1e0d2c3b4a59687766a5b4c3d2e1f0", "password": "trustee-password"}}},
                "scope": {"OS-TRUST:trust": {"id": "0a1b2c3d4e5f60718293a4b5c6d7e8f9"}}}}),
            json!({"auth": {"identity": {"methods": ["password"],
                "password": {"user": {"id": c.user_id, "password": c.password}}},
                "scope": {"OS-TRUST:trust": {"id": ["x"]}}}}),
            json!({"auth": {"identity": {"methods": ["password"],
                "password": {"user": {"id": c.user_id, "password": c.password}}},
                "scope": {"OS-TRUST:trust": {"id": "0a1b2c3d4e5f60718293a4b5c6d7e8f9"}}}}),
            json!({"auth": {"identity": {"methods": ["token"], "token": {"id": 7}}}}),
            json!({"auth": {"identity": {"methods": ["token"], "token": {"id": "gAAAAABnope"}}}}),
            json!({"auth": {"identity": {"methods": "password"}}}),
            json!({"auth": {"identity": {"methods": []}}}),
            json!({"auth": {"identity": {"methods": [1, 2]}}}),
            json!({"auth": {"identity": {"methods": ["kerberos"]}}}),
            json!({"auth": {"identity": []}}),
            json!({"auth": []}),
            json!({"auth": {"identity": {"methods": ["application_credential"],
                "application_credential": {"id": c.application_credential_id, "secret": c.application_credential_secret}}},
                "scope": "system"}),
            json!({"auth": {"identity": {"methods": ["password"],
                "password": {"user": {"id": c.user_id, "password": c.password}}},
                "scope": []}}),
        ],
        Svc::Magnum if path.contains("/actions/") => vec![
            json!({"node_count": 3}),
            json!({"node_count": 6, "nodegroup": "default-worker"}),
            json!({"node_count": 4, "nodegroup": "default-worker", "nodes_to_remove": []}),
            json!({"node_count": 4}),
            json!({"node_count": 5, "nodegroup": "default-worker"}),
            json!({"node_count": -1}),
            json!({"node_count": 0}),
            json!({"node_count": 1e300}),
            json!({"node_count": 3.5}),
            json!({"node_count": "4"}),
            json!({"node_count": 9223372036854775807i64}),
            json!({"node_count": -9223372036854775807i64}),
            json!({"node_count": 18446744073709551615u64}),
            json!({"node_count": 2, "nodegroup": 5}),
            json!({"node_count": 2, "nodegroup": "nope"}),
            json!({"node_count": 2, "nodegroup": "default-master"}),
            json!({"node_count": 2, "nodes_to_remove": ["nope"]}),
            json!({"node_count": 2, "nodes_to_remove": "nope"}),
            json!({"node_count": 2, "nodes_to_remove": [1]}),
            json!({"nodegroup": "default-worker"}),
        ],
        Svc::Magnum => vec![
            json!([{"op": "replace", "path": "/max_node_count", "value": 8}]),
            json!([{"op": "replace", "path": "/min_node_count", "value": 0}]),
            json!([{"op": "replace", "path": "/node_count", "value": 4}]),
            json!([{"op": "replace", "path": "/max_node_count", "value": 6}]),
            json!([{"op": "replace", "path": "/node_count", "value": 3}]),
            json!([{"op": "replace", "path": "/node_count", "value": -1}]),
            json!([{"op": "replace", "path": "/node_count", "value": 18446744073709551615u64}]),
            json!([{"op": "replace", "path": "/node_count", "value": 1e308}]),
            json!([{"op": "replace", "path": "/node_count", "value": "3"}]),
            json!([{"op": "replace", "path": "/node_count", "value": 10001}]),
            json!([{"op": "replace", "path": "/node_count"}]),
            json!([{"op": "replace", "path": "/min_node_count", "value": 9}]),
            json!([{"op": "replace", "path": "/max_node_count", "value": null}]),
            json!([{"op": "remove", "path": "/max_node_count"}]),
            json!([{"op": "add", "path": "/labels/max_node_count", "value": "10"}]),
            json!([{"op": "replace", "path": "/labels", "value": {"a": 1}}]),
            json!([{"op": "replace", "path": "/name", "value": "x"}]),
            json!([{"op": "replace", "path": "/uuid", "value": "x"}]),
            json!([{"op": "replace", "path": "/", "value": {}}]),
            json!([{"op": "replace", "path": "", "value": 1}]),
            json!([{"op": "replace", "path": "/node_count/x", "value": 1}]),
            json!([{"op": "replace", "path": "node_count", "value": 1}]),
            json!([{"op": "move", "from": "/a", "path": "/b"}]),
            json!([{"op": "replace", "path": 5, "value": 1}]),
            json!([{"path": "/node_count", "value": 1}]),
            json!([[], 1, "x"]),
            json!([]),
            json!({"node_count": 4}),
        ],
        Svc::Heat | Svc::Nova => vec![
            json!({"stack_name": "x", "template": {}}),
            json!({"flavor": {"name": "m3.huge", "ram": -1}}),
            json!({"server": {"name": 7}}),
        ],
    };
    let wrong = [
        json!(null),
        json!("string"),
        json!(7),
        json!(1e308),
        json!([1, 2, 3]),
        json!({}),
        json!({"auth": null}),
        json!({"node_count": {"a": [1]}}),
    ];
    match if clean { 0 } else { g.below(11) } {
        0..=4 => g.pick(&shaped).to_string().into_bytes(),
        5 => g.pick(&wrong).to_string().into_bytes(),
        6 => {
            // Cut short.
            let mut b = g.pick(&shaped).to_string().into_bytes();
            let cut = g.below(b.len());
            b.truncate(cut);
            b
        }
        7 => {
            let depth = 1 + g.below(5000);
            let mut b = "[".repeat(depth).into_bytes();
            b.extend("]".repeat(g.below(depth + 1)).into_bytes());
            b
        }
        8 => {
            // A huge string: near the body limit, or past it.
            let n = *g.pick(&[10_000, 114_000, 120_000]);
            json!({"auth": "x".repeat(n), "node_count": "9".repeat(n / 10)})
                .to_string()
                .into_bytes()
        }
        9 => Vec::new(),
        _ => (0..g.below(200)).map(|_| g.next_u64() as u8).collect(),
    }
}

/// A running mock cloud and what the paths need from it.
struct Target {
    cloud: MockCloud,
    token: String,
    /// Real stacks as `name/id` and bare names (empty for a magnum-capi-helm cluster).
    stacks: Vec<String>,
}

impl Target {
    fn base(&self, svc: Svc) -> &str {
        let u = &self.cloud.openstack.urls;
        match svc {
            Svc::Keystone => &u.keystone,
            Svc::Magnum => &u.magnum,
            Svc::Heat => &u.heat,
            Svc::Nova => &u.nova,
        }
    }

    fn cluster_uuid(&self) -> String {
        let e = self.cloud.live.engine();
        e.world
            .cluster
            .as_ref()
            .map(|c| c.uuid.clone())
            .unwrap_or_default()
    }
}

fn client() -> Client {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// What a refused write must leave as it was: the cluster, its nodegroups and Heat's stacks
/// as the APIs show them, and the whole simulated world behind them (machines, nodes, pods,
/// events: a refused call must not reach the engine's side effects either).
async fn state(c: &Client, t: &Target) -> (Vec<(u16, Value)>, String) {
    let project = &t.cloud.openstack.credentials.project_id;
    let mut out = Vec::new();
    for (svc, path) in [
        (Svc::Magnum, "/v1/clusters/k8s".to_string()),
        (
            Svc::Magnum,
            "/v1/clusters/k8s/nodegroups/default-worker".to_string(),
        ),
        (Svc::Magnum, "/v1/clusters/k8s/nodegroups".to_string()),
        (Svc::Magnum, "/v1/clusters".to_string()),
        (Svc::Heat, format!("/v1/{project}/stacks")),
    ] {
        let r = c
            .get(format!("{}{path}", t.base(svc)))
            .header("X-Auth-Token", &t.token)
            .header("OpenStack-API-Version", "container-infra latest")
            .send()
            .await
            .expect("the server answers");
        let status = r.status().as_u16();
        let body: Value = r.json().await.expect("a JSON body");
        out.push((status, body));
    }
    let world = format!("{:?}", t.cloud.live.engine().world);
    (out, world)
}

/// A Heat GET's JSON body (the walk of real stack names must succeed).
async fn heat_json(c: &Client, url: &str, token: &str) -> Value {
    c.get(url)
        .header("X-Auth-Token", token)
        .send()
        .await
        .expect("heat answers")
        .json()
        .await
        .expect("a JSON body")
}

/// Real stack names and ids: the top-level stacks, and the nested stacks their resources
/// link to.
async fn stacks(c: &Client, cloud: &MockCloud, token: &str) -> Vec<String> {
    let heat = cloud.openstack.heat_url();
    let list = heat_json(c, &format!("{heat}/stacks"), token).await;
    let mut out = Vec::new();
    for s in list["stacks"].as_array().into_iter().flatten() {
        let (name, id) = (s["stack_name"].as_str(), s["id"].as_str());
        let (Some(name), Some(id)) = (name, id) else {
            continue;
        };
        out.push(format!("{name}/{id}"));
        out.push(name.to_string());
        out.push(id.to_string());
        let res = heat_json(c, &format!("{heat}/stacks/{name}/{id}/resources"), token).await;
        for r in res["resources"].as_array().into_iter().flatten() {
            for l in r["links"].as_array().into_iter().flatten() {
                if l["rel"] == "nested" {
                    if let Some(href) = l["href"].as_str() {
                        let tail = href.rsplitn(3, '/').collect::<Vec<_>>();
                        if let [id, name, ..] = tail.as_slice() {
                            out.push(format!("{name}/{id}"));
                        }
                    }
                }
            }
        }
    }
    out
}

/// Whether `body` is `svc`'s own error shape for `status` (or a documented exception).
fn shaped(svc: Svc, status: u16, body: &Value) -> bool {
    // keystonemiddleware's 401 runs in front of Magnum, Heat and Nova: Keystone's shape.
    let keystone = |b: &Value| {
        b["error"]["code"] == status
            && b["error"]["title"].is_string()
            && b["error"]["message"].is_string()
    };
    match svc {
        Svc::Keystone => keystone(body),
        _ if status == 401 => keystone(body),
        Svc::Magnum => {
            let errors = body["errors"].as_array();
            errors.is_some_and(|e| {
                !e.is_empty()
                    && e.iter().all(|x| {
                        let api = x["status"] == status && x["detail"].is_string();
                        // HTTPNotAcceptableAPIVersion's own keys (magnum/api/http_error.py).
                        let microversion = status == 406
                            && x["code"] == "magnum.microversion-unsupported"
                            && x["message"].is_string()
                            && x["max_version"].is_string()
                            && x["min_version"].is_string();
                        x["title"].is_string() && (api || microversion)
                    })
            })
        }
        Svc::Heat => {
            let fault = body["code"] == status
                && body["title"].is_string()
                && body["explanation"].is_string()
                && body["error"]["message"].is_string()
                && body["error"]["type"].is_string();
            // The router's bare 404 (webob's, documented in heat.rs).
            fault || (status == 404 && *body == magsim_mocks::openstack::heat::no_route_body())
        }
        Svc::Nova => body.as_object().is_some_and(|o| {
            o.len() == 1
                && o.values()
                    .all(|f| f["code"] == status && f["message"].is_string())
        }),
    }
}

/// Counts of what the run reached, so a generator that stopped reaching the refusals fails.
#[derive(Default, Debug)]
struct Reached {
    refused_writes: usize,
    accepted_writes: usize,
    by_status: std::collections::BTreeMap<u16, usize>,
}

async fn fuzz(t: &Target, seed: u64) -> Reached {
    let c = client();
    let mut g = Gen::new(seed);
    let mut reached = Reached::default();
    let project = t.cloud.openstack.credentials.project_id.clone();
    let uuid = t.cluster_uuid();
    let long = "a".repeat(300);
    let longer = "b".repeat(6000);
    let huge = "c".repeat(60_000);
    let mut before = state(&c, t).await;
    for case in 0..CASES {
        let svc = *g.pick(&[
            Svc::Keystone,
            Svc::Magnum,
            Svc::Magnum,
            Svc::Heat,
            Svc::Nova,
        ]);
        let paths = match svc {
            Svc::Keystone => KEYSTONE_PATHS,
            Svc::Magnum => MAGNUM_PATHS,
            Svc::Heat => HEAT_PATHS,
            Svc::Nova => NOVA_PATHS,
        };
        let stack = if t.stacks.is_empty() {
            "k8s-wamiv264xiet".to_string()
        } else {
            g.pick(&t.stacks).clone()
        };
        // One case in four is well-formed but for its body, so writes get through too and
        // the state a refusal must keep moves on.
        let clean = g.one_in(4);
        let (natural, path) = *g.pick(paths);
        let method = if !clean && g.one_in(3) {
            *g.pick(METHODS)
        } else {
            natural
        };
        let mut path = path
            .replace("PROJECT", &project)
            .replace("STACK", &stack)
            .replace("CLUSTER_UUID", &uuid);
        if !clean && g.one_in(5) {
            // A mangled segment: appended, or in place of one.
            let junk = *g.pick(&[
                "%00",
                "..",
                "../..",
                "%2e%2e",
                ".",
                long.as_str(),
                longer.as_str(),
                huge.as_str(),
                "",
                "%ZZ",
                "%2F",
                "%20",
                "Ünï",
                ";x=1",
                "k8s%00",
                "*",
            ]);
            if g.one_in(2) {
                path.push('/');
                path.push_str(junk);
            } else {
                let mut segs: Vec<String> = path.split('/').map(str::to_string).collect();
                let i = g.below(segs.len());
                segs[i] = junk.to_string();
                path = segs.join("/");
                if !path.starts_with('/') {
                    path.insert(0, '/');
                }
            }
        }
        let query = *g.pick(QUERIES);
        let writes = matches!(method, "POST" | "PUT" | "PATCH" | "DELETE");
        let mut req = c.request(
            Method::from_bytes(method.as_bytes()).expect("a method"),
            format!("{}{path}{query}", t.base(svc)),
        );
        let token = match if clean { 9 } else { g.below(16) } {
            0 => None,
            1 => Some("gAAAAABnot-a-token"),
            2 => Some(""),
            _ => Some(t.token.as_str()),
        };
        if let Some(tok) = token {
            req = req.header("X-Auth-Token", tok);
        }
        let version = if clean || g.one_in(2) {
            Some("container-infra latest")
        } else {
            *g.pick(VERSIONS)
        };
        if let Some(v) = version {
            req = req.header("OpenStack-API-Version", v);
        }
        if !clean && g.one_in(20) {
            // Header values that are not text (obs-text bytes): a token, a microversion.
            let name = *g.pick(&["X-Auth-Token", "OpenStack-API-Version", "Content-Type"]);
            let value = HeaderValue::from_bytes(b"container-infra \xff1.\xe9")
                .expect("obs-text is a valid header value");
            req = req.header(name, value);
        }
        if !clean && g.one_in(8) {
            let id = *g.pick(&[
                "req-0a1e8dc8-1d3b-459f-8539-5241f0f854f9",
                "req-NOT-AN-ID",
                "",
            ]);
            req = req.header("X-OpenStack-Request-ID", id);
        }
        if writes || g.one_in(6) {
            let ty = if clean || g.one_in(2) {
                Some("application/json")
            } else {
                *g.pick(TYPES)
            };
            if let Some(ty) = ty {
                req = req.header(CONTENT_TYPE, ty);
            }
            req = req.body(body(&mut g, svc, &path, clean, &t.cloud));
        }
        let what = format!("seed {seed:#x} case {case}: {svc:?} {method} {path}{query}");
        let r = req
            .send()
            .await
            .unwrap_or_else(|e| panic!("{what}: no answer: {e}"));
        let status = r.status().as_u16();
        let has_id = r.headers().contains_key("x-openstack-request-id");
        let text = r.text().await.unwrap_or_default();
        *reached.by_status.entry(status).or_default() += 1;
        assert!(status < 500, "{what}: {status} {text}");
        assert!(has_id, "{what}: {status} without a request id");
        if status >= 400 && method != "HEAD" {
            let v: Value = serde_json::from_str(&text).unwrap_or_else(|_| {
                panic!("{what}: {status} with a body that is not JSON: {text}")
            });
            assert!(
                shaped(svc, status, &v),
                "{what}: {status} is not {svc:?}'s error shape: {text}"
            );
        }
        if writes {
            let after = state(&c, t).await;
            if status >= 400 {
                reached.refused_writes += 1;
                assert_eq!(
                    after.0, before.0,
                    "{what}: a refused write changed the cluster"
                );
                assert!(
                    after.1 == before.1,
                    "{what}: a refused write changed the world: {}",
                    first_difference(&before.1, &after.1)
                );
            } else {
                reached.accepted_writes += 1;
            }
            before = after;
        }
    }
    reached
}

/// Where two renderings of the world first differ, with some context.
fn first_difference(before: &str, after: &str) -> String {
    let i = before
        .bytes()
        .zip(after.bytes())
        .position(|(a, b)| a != b)
        .unwrap_or(before.len().min(after.len()));
    let around = |s: &str| {
        let from = (i.saturating_sub(200)..=i)
            .find(|&j| s.is_char_boundary(j))
            .unwrap_or(0);
        let to = (i + 200).min(s.len());
        let to = (to..=s.len())
            .find(|&j| s.is_char_boundary(j))
            .unwrap_or(s.len());
        s[from..to].to_string()
    };
    format!(
        "at byte {i}: before …{}… after …{}…",
        around(before),
        around(after)
    )
}

/// A normal token request and cluster show still get `201` and `200`.
async fn still_answers(t: &Target) {
    let c = client();
    let os = &t.cloud.openstack;
    let creds = &os.credentials;
    let r = c
        .post(format!("{}/v3/auth/tokens", os.urls.keystone))
        .json(
            &json!({"auth": {"identity": {"methods": ["application_credential"],
            "application_credential": {"id": creds.application_credential_id,
                "secret": creds.application_credential_secret}}}}),
        )
        .send()
        .await
        .expect("keystone answers");
    assert_eq!(r.status(), 201);
    let token = r.headers()["X-Subject-Token"].to_str().unwrap().to_string();
    let r = c
        .get(format!("{}/v1/clusters/k8s", os.urls.magnum))
        .header("X-Auth-Token", &token)
        .header("OpenStack-API-Version", "container-infra latest")
        .send()
        .await
        .expect("magnum answers");
    assert_eq!(r.status(), 200);
    let cluster: Value = r.json().await.unwrap();
    assert_eq!(cluster["name"], "k8s");
}

async fn target(builtin: &str) -> Target {
    let (file, text) = magsim_scenario::builtin()
        .into_iter()
        .find(|(f, _)| f.contains(builtin))
        .expect("a built-in scenario");
    let scenario = magsim_scenario::parse(file, text).expect("built-in scenario parses");
    let cloud = MockCloud::start(&scenario, None).await.expect("starts");
    let token = cloud.openstack.issue_token().id;
    let stacks = stacks(&client(), &cloud, &token).await;
    Target {
        cloud,
        token,
        stacks,
    }
}

async fn run(builtin: &str, seed: u64, heat_stacks: bool) {
    panics::count();
    let t = target(builtin).await;
    assert_eq!(
        !t.stacks.is_empty(),
        heat_stacks,
        "{builtin}: {:?}",
        t.stacks
    );
    let before = panics::seen();
    let reached = fuzz(&t, seed).await;
    assert_eq!(panics::seen(), before, "no server panicked");
    still_answers(&t).await;
    assert!(
        reached.refused_writes > CASES / 4,
        "the generator reaches the refusals: {reached:?}"
    );
    assert!(reached.accepted_writes > 0, "and some writes: {reached:?}");
    for status in [200, 201, 302, 400, 401, 404, 405, 406, 413, 415] {
        if status == 302 && !heat_stacks {
            continue;
        }
        assert!(
            reached.by_status.contains_key(&status),
            "{builtin}: no {status} reached: {reached:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_requests_on_the_incident_cluster_get_the_apis_errors() {
    run("01-as-it-happened", 0x9E37_79B9_7F4A_7C15, false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_requests_on_a_heat_driver_cluster_get_the_apis_errors() {
    run("05-in-cluster-trust-config", 0xD1B5_4A32_D192_ED03, true).await;
}

/// Found by the fuzz above (seed `0x9e3779b97f4a7c15`, case 400: a refused cluster PATCH after
/// an accepted resize to 3): the engine's controllers did not settle after a resize that
/// deleted machines with running pods, so the ReplicaSet's replacements appeared only at the
/// next API call, and a refused write created them. The replacements now exist as soon as the
/// resize is answered, and the next refused write changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resize_down_replaces_the_lost_pods_before_the_next_request() {
    let t = target("01-as-it-happened").await;
    let c = client();
    let magnum = &t.cloud.openstack.urls.magnum;
    let pods = || async {
        let list: Value = c
            .get(format!(
                "{}/api/v1/namespaces/default/pods?labelSelector=app%3Dhigh-memory",
                t.cloud.kube.url
            ))
            .send()
            .await
            .expect("kube answers")
            .json()
            .await
            .expect("a pod list");
        list["items"].as_array().map_or(0, Vec::len)
    };
    assert_eq!(pods().await, 6);
    let r = c
        .post(format!("{magnum}/v1/clusters/k8s/actions/resize"))
        .header("X-Auth-Token", &t.token)
        .header("OpenStack-API-Version", "container-infra latest")
        .json(&json!({"node_count": 3, "nodegroup": "default-worker"}))
        .send()
        .await
        .expect("magnum answers");
    assert_eq!(r.status(), 202);
    assert_eq!(
        pods().await,
        6,
        "the ReplicaSet replaced the deleted nodes' pods"
    );
    let before = state(&c, &t).await;
    let r = c
        .patch(format!("{magnum}/v1/clusters/k8s"))
        .header("X-Auth-Token", &t.token)
        .header("OpenStack-API-Version", "container-infra latest")
        .json(&json!([{"op": "replace", "path": "/name", "value": "x"}]))
        .send()
        .await
        .expect("magnum answers");
    assert_eq!(r.status(), 400);
    let after = state(&c, &t).await;
    assert_eq!(after.0, before.0);
    assert!(
        after.1 == before.1,
        "{}",
        first_difference(&before.1, &after.1)
    );
}

/// Sends `head` (a request head that ends the request) on a new connection and reads the
/// status line of the answer; `None`: closed without one.
async fn raw_status(base: &str, head: &[u8]) -> Option<u16> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr: std::net::SocketAddr = base.trim_start_matches("http://").parse().ok()?;
    let mut s = tokio::net::TcpStream::connect(addr).await.ok()?;
    // The server may answer and close before it has read everything.
    let _ = s.write_all(head).await;
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out).await;
    std::str::from_utf8(out.get(9..12)?).ok()?.parse().ok()
}

/// Request heads too large for any client library to send (a 100 KB path, a 500 KB header):
/// the HTTP layer refuses them with a 4xx of its own (as eventlet's and Apache's do in front
/// of the real services) or closes the connection, never a 5xx, and every server answers
/// normally afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_request_heads_are_refused_and_the_servers_keep_answering() {
    panics::count();
    let t = target("01-as-it-happened").await;
    let before = panics::seen();
    let long = "a".repeat(100_000);
    let longer = "b".repeat(500_000);
    for svc in [Svc::Keystone, Svc::Magnum, Svc::Heat, Svc::Nova] {
        let base = t.base(svc).to_string();
        for head in [
            format!("GET /v1/{long} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
            format!(
                "GET / HTTP/1.1\r\nHost: x\r\nX-Auth-Token: {longer}\r\nConnection: close\r\n\r\n"
            ),
        ] {
            // A server that stops reading may close while the client still writes; the
            // reset can then discard its 4xx before it is read. Closing is a refusal too;
            // any status that arrives must be a 4xx.
            let status = raw_status(&base, head.as_bytes()).await;
            assert!(
                status.is_none_or(|s| (400..500).contains(&s)),
                "{svc:?} {}: {status:?}",
                &head[..20]
            );
        }
    }
    assert_eq!(panics::seen(), before, "no server panicked");
    still_answers(&t).await;
}
