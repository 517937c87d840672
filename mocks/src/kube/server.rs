//! Request routing: paths, methods, content negotiation, and the writes mapped onto engine
//! operations: the `scale` subresource ([`super::scale`]), event and ConfigMap writes
//! ([`super::events`], [`super::configmaps`]), pod deletion and node cordon.

use super::body::{read_any_patch, read_body, read_json, read_object, read_patch};
use super::discovery::{self, Resource, AGGREGATED_CONTENT_TYPE};
use super::managed;
use super::paging;
use super::scale::{self, ScaleWrite};
use super::schema::{FieldValidation, Write};
use super::select::{FieldSelector, Filter, LabelSelector};
use super::status::KubeError;
use super::store::{self, Doc, Store};
use super::table::{self, Clock, IncludeObject};
use super::watch::{self, WatchRequest};
use super::writes;
use crate::Live;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use magsim_sim::cloud::faults::FaultEffect;
use magsim_sim::engine::Operation;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch as tokio_watch;

pub use super::body::MAX_BODY_BYTES;

/// The longest watch served: a larger `timeoutSeconds` is cut to this (a deadline past
/// what the clock can hold would otherwise overflow; clients re-watch when a watch ends).
pub const MAX_WATCH_TIMEOUT_SECONDS: u64 = 24 * 3600;

/// How long a watch without `timeoutSeconds` stays open (kube-apiserver's
/// `--min-request-timeout` default).
pub const DEFAULT_WATCH_TIMEOUT: Duration = Duration::from_secs(1800);

/// What every handler shares.
pub struct App {
    pub live: Live,
    pub store: Store,
    pub shutdown: tokio_watch::Receiver<bool>,
    /// For watches without `timeoutSeconds`.
    pub watch_timeout: Duration,
    /// The advertised `HOST:PORT`, for legacy discovery's `serverAddressByClientCIDRs`.
    pub address: String,
    /// Faults a test injected ([`super::KubeMock::inject`]).
    pub faults: super::fault::Injected,
    /// A client wrote a status ConfigMap a simulated autoscaler writes (warned once).
    pub two_writers: std::sync::atomic::AtomicBool,
    /// The TLS identity and token a secure server requires ([`super::auth`]).
    pub auth: Option<super::auth::KubeAuth>,
}

type Result<T> = std::result::Result<T, KubeError>;

fn json_with(status: StatusCode, v: &Value, content_type: &'static str) -> Response {
    let mut r = (status, v.to_string()).into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

fn json_ok(v: &Value) -> Response {
    json_with(StatusCode::OK, v, "application/json")
}

fn created(v: &Value) -> Response {
    json_with(StatusCode::CREATED, v, "application/json")
}

/// A stored object answered as its bytes.
fn doc_ok(d: &Doc) -> Response {
    bytes_ok(d.json().to_vec())
}

fn bytes_ok(body: Vec<u8>) -> Response {
    let mut r = (StatusCode::OK, body).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

/// Percent-decodes a query component (`+` is a space).
fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                let hex = std::str::from_utf8(&b[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(v) => {
                        out.push(v);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Query parameters (the last value wins; empty pairs, as kube-rs sends, are skipped).
struct Query(Vec<(String, String)>);

impl Query {
    fn parse(q: Option<&str>) -> Query {
        Query(
            q.unwrap_or("")
                .split('&')
                .filter(|p| !p.is_empty())
                .map(|p| {
                    let (k, v) = p.split_once('=').unwrap_or((p, ""));
                    (decode(k), decode(v))
                })
                .collect(),
        )
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Go's `strconv.ParseBool`.
    fn flag(&self, key: &str) -> Result<bool> {
        match self.get(key) {
            None | Some("") => Ok(false),
            Some("1" | "t" | "T" | "TRUE" | "true" | "True") => Ok(true),
            Some("0" | "f" | "F" | "FALSE" | "false" | "False") => Ok(false),
            Some(other) => Err(KubeError::bad_request(format!(
                "{key}: Invalid value: \"{other}\": strconv.ParseBool: parsing \"{other}\": invalid syntax"
            ))),
        }
    }

    fn uint(&self, key: &str) -> Result<Option<u64>> {
        match self.get(key) {
            None | Some("") => Ok(None),
            Some(v) => v.parse().map(Some).map_err(|_| {
                KubeError::bad_request(format!(
                    "{key}: Invalid value: \"{v}\": strconv.ParseInt: parsing \"{v}\": invalid syntax"
                ))
            }),
        }
    }
}

/// What the client accepts: a Table, aggregated discovery, or plain JSON.
struct Accept {
    table: bool,
    aggregated: bool,
}

fn accept(headers: &HeaderMap) -> Result<Accept> {
    let Some(a) = headers.get(header::ACCEPT) else {
        return Ok(Accept {
            table: false,
            aggregated: false,
        });
    };
    let a = a.to_str().unwrap_or("");
    let media: Vec<&str> = a
        .split(',')
        .map(|p| p.split(';').next().unwrap_or("").trim())
        .collect();
    let json_ok = a.trim().is_empty()
        || media
            .iter()
            .any(|m| matches!(*m, "application/json" | "application/*" | "*/*" | ""));
    if !json_ok {
        return Err(KubeError::not_acceptable());
    }
    Ok(Accept {
        table: table::wants_table(a),
        aggregated: a.contains("as=APIGroupDiscoveryList"),
    })
}

/// The parsed URL path of a resource request.
#[derive(Debug, PartialEq, Eq)]
struct Target {
    resource: Resource,
    namespace: Option<String>,
    name: Option<String>,
    subresource: Option<String>,
}

/// A path segment as the API server reads it: percent-decoded (`Bad_Name%21` names
/// `Bad_Name!`, which validation then refuses or a lookup does not find).
fn decoded(segment: &str) -> String {
    percent_encoding::percent_decode_str(segment)
        .decode_utf8_lossy()
        .into_owned()
}

fn parse_target(path: &str) -> Option<Target> {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let (group, rest) = match segs.as_slice() {
        ["api", "v1", rest @ ..] => ("", rest),
        ["apis", group, version, rest @ ..]
            if discovery::is_group(group) && *version == discovery::version_of(group) =>
        {
            (*group, rest)
        }
        _ => return None,
    };
    let t = |r: &str, ns: Option<&str>, name: Option<&str>, sub: Option<&str>| {
        let resource = Resource::from_path(group, r)?;
        if resource.namespaced() != ns.is_some() && !(ns.is_none() && name.is_none()) {
            return None;
        }
        if sub.is_some() && name.is_none() {
            return None;
        }
        Some(Target {
            resource,
            namespace: ns.map(decoded),
            name: name.map(decoded),
            subresource: sub.map(str::to_string),
        })
    };
    match rest {
        [r] => t(r, None, None, None),
        ["namespaces", ns, r] => t(r, Some(ns), None, None),
        ["namespaces", ns, r, name] => t(r, Some(ns), Some(name), None),
        ["namespaces", ns, r, name, sub] => t(r, Some(ns), Some(name), Some(sub)),
        [r, name] => t(r, None, Some(name), None),
        [r, name, sub] => t(r, None, Some(name), Some(sub)),
        _ => None,
    }
    .filter(|t| !t.namespace.as_deref().is_some_and(str::is_empty))
}

/// The single entry point: every request lands here, and is logged when answered
/// ([`crate::request_log`]).
pub async fn handle(State(app): State<Arc<App>>, req: Request) -> Response {
    let (method, path) = (req.method().clone(), req.uri().path().to_string());
    let start = std::time::Instant::now();
    let r = answer(&app, req).await;
    crate::request_log::answered(
        "kubernetes",
        method.as_str(),
        &path,
        r.status().as_u16(),
        start.elapsed(),
    );
    r
}

/// A bug that panics answers `500 InternalError` instead of dropping the connection.
async fn answer(app: &Arc<App>, req: Request) -> Response {
    use futures_util::FutureExt;
    if let Some(auth) = &app.auth {
        let sent = req
            .headers()
            .get(header::AUTHORIZATION)
            .map(|v| v.as_bytes());
        let certified = req
            .extensions()
            .get::<super::auth::ClientCertificate>()
            .is_some();
        if !certified && !auth.admits(sent) {
            return KubeError::new(401, "Unauthorized", "Unauthorized").into_response();
        }
    }
    let now = || app.live.engine().now();
    match app.faults.hit(now, req.method().as_str(), req.uri().path()) {
        Some(FaultEffect::Error(code)) => return super::fault::error(code).into_response(),
        Some(FaultEffect::Latency(d)) => {
            tokio::time::sleep(Duration::from_millis(d.as_millis())).await
        }
        // Unwinding out of the connection's task closes it without a byte; outside the
        // catch below, and without the panic hook.
        Some(FaultEffect::Drop) => {
            std::panic::resume_unwind(Box::new(super::fault::ConnectionDropped))
        }
        None => {}
    }
    let e = match std::panic::AssertUnwindSafe(route(app, req))
        .catch_unwind()
        .await
    {
        Ok(Ok(r)) => return r,
        Ok(Err(e)) => e,
        Err(_) => KubeError::internal("an internal error occurred while serving the request"),
    };
    crate::request_log::error_body("kubernetes", e.code, e.to_json().to_string().as_bytes());
    e.into_response()
}

async fn route(app: &Arc<App>, req: Request) -> Result<Response> {
    if req.method() == axum::http::Method::CONNECT {
        // A proxy request (authority-form target): no resource to route to.
        return Err(KubeError::bad_request("CONNECT is not supported"));
    }
    let (parts, body) = req.into_parts();
    tracing::debug!(method = %parts.method, uri = %parts.uri, "kube mock request");
    let path = parts.uri.path().to_string();
    let method = parts.method.clone();
    let headers = parts.headers;
    if let Some(answer) = discovery_path(app, &method, &path, &headers)? {
        return Ok(answer);
    }
    let target = parse_target(&path).ok_or_else(KubeError::unknown_path)?;
    let call = Call {
        acc: accept(&headers)?,
        query: Query::parse(parts.uri.query()),
        target,
        method,
        headers,
        body,
    };
    match (call.target.name.clone(), call.target.subresource.clone()) {
        (None, _) => collection(app, call).await,
        (Some(name), None) => object(app, call, &name).await,
        (Some(name), Some(sub)) => subresource(app, call, &name, &sub).await,
    }
}

/// A resource request, taken apart.
struct Call {
    target: Target,
    method: Method,
    headers: HeaderMap,
    query: Query,
    acc: Accept,
    body: axum::body::Body,
}

/// Health, version, discovery and OpenAPI: the paths that name no resource.
fn discovery_path(
    app: &Arc<App>,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
) -> Result<Option<Response>> {
    let get_only = |v: Value, ct: &'static str| {
        if *method == Method::GET {
            Ok(Some(json_with(StatusCode::OK, &v, ct)))
        } else {
            Err(KubeError::method_not_allowed())
        }
    };
    match path.trim_end_matches('/') {
        "/version" => return get_only(discovery::version(), "application/json"),
        "/healthz" | "/livez" | "/readyz" => {
            return if *method == Method::GET {
                Ok(Some((StatusCode::OK, "ok").into_response()))
            } else {
                Err(KubeError::method_not_allowed())
            }
        }
        "/api" | "/apis" => {
            let core = path.trim_end_matches('/') == "/api";
            let acc = accept(headers)?;
            return if acc.aggregated {
                get_only(discovery::aggregated(core), AGGREGATED_CONTENT_TYPE)
            } else if core {
                get_only(discovery::api_versions(&app.address), "application/json")
            } else {
                get_only(discovery::api_group_list(), "application/json")
            };
        }
        "/api/v1" => return get_only(discovery::api_resource_list(""), "application/json"),
        "/openapi/v3" => return get_only(super::openapi::index(), "application/json"),
        p if p.starts_with("/openapi/v3/") => {
            let text = super::openapi::group_version_text(&p["/openapi/v3/".len()..])
                .ok_or_else(KubeError::unknown_path)?;
            return if *method == Method::GET {
                Ok(Some(bytes_ok(text.as_bytes().to_vec())))
            } else {
                Err(KubeError::method_not_allowed())
            };
        }
        p => {
            let named = p
                .strip_prefix("/apis/")
                .map(|g| g.split_once('/').unwrap_or((g, "")));
            match named {
                Some((group, "")) if discovery::is_group(group) => {
                    return get_only(discovery::api_group(group), "application/json");
                }
                Some((group, version))
                    if discovery::is_group(group) && version == discovery::version_of(group) =>
                {
                    return get_only(discovery::api_resource_list(group), "application/json");
                }
                _ => {}
            }
        }
    }
    Ok(None)
}

/// A collection: list, or create.
async fn collection(app: &Arc<App>, c: Call) -> Result<Response> {
    let Call {
        target,
        method,
        headers,
        query,
        acc,
        body,
    } = c;
    match (method, target.resource, target.namespace.as_deref()) {
        (Method::GET, ..) => list(app, &target, &query, &acc),
        (Method::POST, r, ns) => {
            let v = read_object(&headers, body, r.kind()).await?;
            let warnings = validate(&query, r, &v, Write::Create)?;
            let writer = writer(&query, &headers, Write::Create)?;
            let name = v["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            let ns = ns.map(str::to_string);
            let create = |v: Value| match (r, ns.as_deref()) {
                (Resource::Events, Some(ns)) => super::events::create(app, ns, v),
                (Resource::ConfigMaps, Some(ns)) => super::configmaps::create(app, ns, v),
                (Resource::Deployments, Some(ns)) => super::deployments::create(app, ns, v),
                (Resource::Secrets, Some(ns)) => super::secrets::create(app, ns, v),
                (Resource::Namespaces, None) => super::namespaces::create(app, v),
                (r, ns) if r.is_stored() => writes::create(app, r, ns.unwrap_or_default(), v),
                _ => Err(KubeError::method_not_allowed()),
            };
            let made = if name.is_empty() {
                create(v) // generateName: the name is made by the write
            } else {
                let at = (r, ns.as_deref().unwrap_or_default(), name.as_str());
                let write = managed::Change::Update {
                    writer: &writer,
                    before: None,
                    after: &v,
                };
                managed::track(app, at, write, || create(v.clone()))
            };
            Ok(warned(created(&made?), &warnings))
        }
        _ => Err(KubeError::method_not_allowed()),
    }
}

/// One object: read, replace, patch or delete.
async fn object(app: &Arc<App>, c: Call, name: &str) -> Result<Response> {
    let Call {
        target,
        method,
        headers,
        query,
        acc,
        body,
    } = c;
    let ns = target.namespace.clone().unwrap_or_default();
    let r = target.resource;
    match method {
        Method::GET => get(app, &target, name, &query, &acc),
        Method::PATCH if super::body::content_type(&headers) == super::apply::APPLY_PATCH => {
            let writer = applier(&query, &headers)?;
            let force = managed::force(query.get("force"), true)?;
            let bytes = read_body(&headers, body).await?;
            let config = super::body::parse_json(&bytes, "applied configuration")?;
            let applied = super::apply::apply(app, (r, &ns, name), config, &writer, force)?;
            Ok(json_ok(&applied))
        }
        Method::PUT => {
            let v = read_object(&headers, body, r.kind()).await?;
            let warnings = validate(&query, r, &v, Write::Update)?;
            let writer = writer(&query, &headers, Write::Update)?;
            let before = writes::current(app, r, &ns, name)?;
            let write = managed::Change::Update {
                writer: &writer,
                before: before.as_ref(),
                after: &v,
            };
            let replaced = managed::track(app, (r, &ns, name), write, || {
                replace(app, r, &ns, name, v.clone())
            })?;
            Ok(warned(json_ok(&replaced), &warnings))
        }
        Method::PATCH if r == Resource::Events => {
            let patch = read_patch(&headers, body).await?;
            let warnings = validate(&query, r, &patch, Write::Patch)?;
            let patched = super::events::patch(app, &ns, name, &patch)?;
            Ok(warned(json_ok(&patched), &warnings))
        }
        Method::PATCH => {
            let p = read_any_patch(&headers, body).await?;
            let warnings = match &p {
                writes::Patch::Merge(v) | writes::Patch::Strategic(v) => {
                    validate(&query, r, v, Write::Patch)?
                }
                writes::Patch::Json(ops) => validate_json_patch(app, &query, r, &ns, name, ops)?,
                writes::Patch::Apply { .. } => Vec::new(),
            };
            managed::force(query.get("force"), false)?;
            let writer = writer(&query, &headers, Write::Patch)?;
            let patched = patch_tracked(app, (r, &ns, name), &p, &writer)?;
            Ok(warned(json_ok(&patched), &warnings))
        }
        Method::DELETE => {
            read_body(&headers, body).await?;
            match r {
                Resource::Pods => delete_pod(app, &target, name),
                Resource::Namespaces => Ok(json_ok(&super::namespaces::delete(app, name)?)),
                Resource::Deployments => Ok(json_ok(&super::deployments::delete(app, &ns, name)?)),
                Resource::Secrets => Ok(json_ok(&super::secrets::delete(app, &ns, name)?)),
                r if r.is_stored() || r == Resource::ConfigMaps => {
                    Ok(json_ok(&writes::delete(app, r, &ns, name)?))
                }
                _ => Err(KubeError::method_not_allowed()),
            }
        }
        _ => Err(KubeError::method_not_allowed()),
    }
}

/// `PUT` of one object, by kind.
fn replace(app: &Arc<App>, r: Resource, ns: &str, name: &str, v: Value) -> Result<Value> {
    match r {
        Resource::ConfigMaps => super::configmaps::replace(app, ns, name, v),
        Resource::Deployments => super::deployments::replace(app, ns, name, v),
        Resource::Secrets => super::secrets::replace(app, ns, name, v),
        r if r.is_stored() || r.is_capi_writable() => writes::replace(app, r, ns, name, v),
        _ => Err(KubeError::method_not_allowed()),
    }
}

/// A merge, strategic-merge or JSON `PATCH` of one object, by kind.
fn patch(app: &Arc<App>, r: Resource, ns: &str, name: &str, p: &writes::Patch) -> Result<Value> {
    match r {
        Resource::Namespaces => super::namespaces::patch(app, name, p),
        Resource::Nodes => super::nodes::patch(app, name, p),
        Resource::ConfigMaps => super::configmaps::patch(app, ns, name, p),
        Resource::Deployments => super::deployments::patch(app, ns, name, p),
        Resource::Secrets => super::secrets::patch(app, ns, name, p),
        r if r.is_stored() || r.is_capi_writable() => writes::patch(app, r, ns, name, p),
        _ => Err(KubeError::method_not_allowed()),
    }
}

/// A patch, its managers recorded: the object it makes is known before the write.
fn patch_tracked(
    app: &Arc<App>,
    (r, ns, name): (Resource, &str, &str),
    p: &writes::Patch,
    writer: &managed::Writer,
) -> Result<Value> {
    let Some(before) = writes::current(app, r, ns, name)? else {
        return patch(app, r, ns, name, p); // the kind's handler answers the missing object
    };
    let mut after = before.clone();
    if p.apply(&mut after).is_err() {
        return patch(app, r, ns, name, p); // and the patch that does not apply
    }
    match p {
        writes::Patch::Strategic(body) => super::schema::check_patched_types(r, body, &after)?,
        writes::Patch::Merge(_) | writes::Patch::Json(_) => {
            super::schema::check_merged_types(r, &after)?;
        }
        writes::Patch::Apply { .. } => {}
    }
    let write = managed::Change::Update {
        writer,
        before: Some(&before),
        after: &after,
    };
    managed::track(app, (r, ns, name), write, || patch(app, r, ns, name, p))
}

/// The manager a write names (`fieldManager`, else the User-Agent's product).
fn writer(query: &Query, headers: &HeaderMap, write: Write) -> Result<managed::Writer> {
    let agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok());
    managed::Writer::of_request(query.get("fieldManager"), agent, write, false)
}

/// The manager a server-side apply names (it must name one).
fn applier(query: &Query, headers: &HeaderMap) -> Result<managed::Writer> {
    let agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok());
    managed::Writer::of_request(query.get("fieldManager"), agent, Write::Patch, true)
}

/// The write's field validation (`?fieldValidation=`): an error under `Strict`, the warning
/// texts under `Warn`.
fn validate(query: &Query, r: Resource, body: &Value, write: Write) -> Result<Vec<String>> {
    let directive = FieldValidation::parse(query.get("fieldValidation"), write)?;
    if write != Write::Patch {
        super::schema::check_types(r, body)?;
    }
    super::schema::check(r, body, directive, write)
}

/// A JSON patch is decoded as the object it makes: the fields its operations write (and only
/// those: the rest is the stored object) are checked.
fn validate_json_patch(
    app: &Arc<App>,
    query: &Query,
    r: Resource,
    ns: &str,
    name: &str,
    ops: &Value,
) -> Result<Vec<String>> {
    let directive = FieldValidation::parse(query.get("fieldValidation"), Write::Patch)?;
    let Some(mut patched) = writes::current(app, r, ns, name)? else {
        return Ok(Vec::new()); // the kind's handler answers the missing object
    };
    if super::json_patch::apply(&mut patched, ops).is_err() {
        return Ok(Vec::new()); // and the failed operation
    }
    let written: Vec<String> = ops
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|op| op["path"].as_str())
        .map(super::schema::pointer_path)
        .collect();
    let subject = super::schema::Subject::Only(&written);
    super::schema::check_fields(r, &patched, directive, Write::Patch, subject)
}

/// Adds a `Warning` header per text, as kube-apiserver reports warnings (kubectl prints them
/// as `Warning: <text>`).
fn warned(mut resp: Response, warnings: &[String]) -> Response {
    for w in warnings {
        if let Ok(v) = axum::http::HeaderValue::from_str(&super::schema::warning_header(w)) {
            resp.headers_mut().append("warning", v);
        }
    }
    resp
}

/// A subresource: `log`, `eviction`, `scale`, `status`.
async fn subresource(app: &Arc<App>, c: Call, name: &str, sub: &str) -> Result<Response> {
    let Call {
        target,
        method,
        headers,
        query,
        acc,
        body,
    } = c;
    match (target.resource, sub) {
        (Resource::Pods, "eviction") => {
            if method != Method::POST {
                return Err(KubeError::method_not_allowed());
            }
            // Its name is checked when the body is JSON; client-go may send protobuf.
            let bytes = read_body(&headers, body).await?;
            let eviction: Option<Value> = serde_json::from_slice(&bytes).ok();
            let ns = target.namespace.as_deref().unwrap_or_default();
            let status = super::eviction::evict(app, ns, name, eviction.as_ref())?;
            Ok(created(&status))
        }
        (Resource::Pods, "log") => {
            if method != Method::GET {
                return Err(KubeError::method_not_allowed());
            }
            pod_log(app, &target, name, &query)
        }
        (r @ (Resource::Deployments | Resource::MachineDeployments), "scale") => {
            let ns = target.namespace.as_deref().unwrap_or_default();
            let write = match method {
                Method::GET => return Ok(json_ok(&scale::read(app, r, ns, name)?)),
                Method::PATCH => ScaleWrite::Patch(read_patch(&headers, body).await?),
                Method::PUT => ScaleWrite::Put(read_json(&headers, body).await?),
                _ => return Err(KubeError::method_not_allowed()),
            };
            let options = match write {
                ScaleWrite::Patch(_) => Write::Patch,
                ScaleWrite::Put(_) => Write::Update,
            };
            let writer = writer(&query, &headers, options)?.on("scale");
            Ok(json_ok(&scale::write(app, (r, ns, name), write, &writer)?))
        }
        // `…/status` reads as the object itself; writing status is the controllers' job.
        (
            Resource::Pods
            | Resource::Nodes
            | Resource::Deployments
            | Resource::ReplicaSets
            | Resource::Namespaces
            | Resource::MachineDeployments,
            "status",
        ) => {
            if method == Method::GET {
                get(app, &target, name, &query, &acc)
            } else {
                Err(KubeError::method_not_allowed())
            }
        }
        _ => Err(KubeError::unknown_path()),
    }
}

/// `GET .../pods/{name}/log`: the pod as served, then the kubelet's answer.
fn pod_log(app: &Arc<App>, target: &Target, name: &str, query: &Query) -> Result<Response> {
    let ns = target.namespace.as_deref().unwrap_or_default();
    let pod = {
        let view = app.store.sync(&app.live);
        view.get(Resource::Pods, ns, name)
            .ok_or_else(|| KubeError::not_found("", "pods", name))?
            .value()?
    };
    let opts = super::kubelet::LogOptions {
        container: query
            .get("container")
            .filter(|c| !c.is_empty())
            .map(str::to_string),
        previous: query.flag("previous")?,
        follow: query.flag("follow")?,
        tail_lines: query.uint("tailLines")?,
        since_seconds: query.uint("sinceSeconds")?,
        timestamps: query.flag("timestamps")?,
        limit_bytes: query.uint("limitBytes")?,
    };
    super::kubelet::log(&app.live, &pod, &opts, app.shutdown.clone())
}

fn filter_of(target: &Target, query: &Query) -> Result<Filter> {
    let fields = FieldSelector::parse(target.resource, query.get("fieldSelector").unwrap_or(""))
        .map_err(KubeError::bad_request)?;
    let labels = LabelSelector::parse(query.get("labelSelector").unwrap_or(""))
        .map_err(KubeError::bad_request)?;
    Ok(Filter {
        resource: target.resource,
        namespace: target.namespace.clone(),
        fields,
        labels,
    })
}

fn include_of(query: &Query) -> Result<IncludeObject> {
    IncludeObject::parse(query.get("includeObject")).map_err(KubeError::bad_request)
}

fn list(app: &Arc<App>, target: &Target, query: &Query, acc: &Accept) -> Result<Response> {
    let filter = filter_of(target, query)?;
    let include = include_of(query)?;
    if query.flag("watch")? {
        let timeout = match query.uint("timeoutSeconds")? {
            None | Some(0) => app.watch_timeout,
            Some(s) => Duration::from_secs(s.min(MAX_WATCH_TIMEOUT_SECONDS)),
        };
        let resource_version = query.uint("resourceVersion")?;
        return Ok(watch::start(
            app.live.clone(),
            app.store.clone(),
            WatchRequest {
                filter,
                resource_version,
                timeout,
                table: acc.table,
                include,
                send_initial_events: query.flag("sendInitialEvents")?,
            },
            app.shutdown.clone(),
        ));
    }
    let limit = query.uint("limit")?.filter(|&l| l > 0);
    let token = match query.get("continue") {
        None | Some("") => None,
        Some(t) => {
            if query.get("resourceVersion").is_some_and(|v| !v.is_empty()) {
                return Err(KubeError::bad_request(
                    "specifying resource version is not allowed when using continue",
                ));
            }
            Some(paging::Continue::decode(t)?)
        }
    };
    // resourceVersion=0 reads kube-apiserver 1.30's watch cache, which does not page.
    let limit = match (limit, query.get("resourceVersion")) {
        (Some(_), Some("0")) if token.is_none() => None,
        (l, _) => l,
    };
    let mut view = app.store.sync(&app.live);
    let (rv, after) = match &token {
        Some(t) => (t.rv, Some(t.start_key(target.resource)?)),
        None => (view.rv(), None),
    };
    let limit = limit.map_or(usize::MAX, |l| usize::try_from(l).unwrap_or(usize::MAX));
    let page = view.page(&filter, rv, after.as_ref(), limit).map_err(
        |store::PageError::Expired { .. }| KubeError::new(410, "Expired", paging::EXPIRED_CONTINUE),
    )?;
    let clock = Clock::new(view.epoch(), view.now());
    // The page's objects are shared: the body is written without holding the store.
    drop(view);
    let mut metadata = serde_json::Map::new();
    metadata.insert("resourceVersion".into(), page.rv.to_string().into());
    if let Some(last) = &page.next {
        metadata.insert(
            "continue".into(),
            paging::Continue::after(page.rv, last).encode().into(),
        );
    }
    // The store counts what is left only for lists without selectors, as kube-apiserver.
    if let Some(remaining) = page.remaining {
        metadata.insert("remainingItemCount".into(), remaining.into());
    }
    if acc.table {
        let items = page
            .items
            .iter()
            .map(Doc::value)
            .collect::<std::result::Result<Vec<Value>, _>>()?;
        let rv = page.rv.to_string();
        let mut t = table::table(target.resource, &items, &rv, &clock, include);
        t["metadata"] = Value::Object(metadata);
        return Ok(json_ok(&t));
    }
    Ok(bytes_ok(store::list_body(
        target.resource,
        &metadata,
        &page.items,
    )))
}

fn get(
    app: &Arc<App>,
    target: &Target,
    name: &str,
    query: &Query,
    acc: &Accept,
) -> Result<Response> {
    let include = include_of(query)?;
    let view = app.store.sync(&app.live);
    let ns = target.namespace.as_deref().unwrap_or_default();
    let obj = view.get(target.resource, ns, name).ok_or_else(|| {
        KubeError::not_found(target.resource.group(), target.resource.plural(), name)
    })?;
    if acc.table {
        let clock = Clock::new(view.epoch(), view.now());
        return Ok(json_ok(&table::table(
            target.resource,
            &[obj.value()?],
            &obj.rv().to_string(),
            &clock,
            include,
        )));
    }
    Ok(doc_ok(&obj))
}

fn delete_pod(app: &Arc<App>, target: &Target, name: &str) -> Result<Response> {
    let ns = target.namespace.clone().unwrap_or_default();
    let before = app
        .store
        .sync(&app.live)
        .get(Resource::Pods, &ns, name)
        .ok_or_else(|| KubeError::not_found("", "pods", name))?;
    let r = app.live.mutate(|e| {
        e.apply(
            Operation::DeletePod {
                namespace: ns.clone(),
                name: name.to_string(),
            },
            None,
        )
    });
    if r.status == 404 {
        return Err(KubeError::not_found("", "pods", name));
    }
    app.store.sync(&app.live);
    Ok(doc_ok(&before))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_parse() {
        let t = parse_target("/api/v1/namespaces/default/pods/x").unwrap();
        assert_eq!(t.resource, Resource::Pods);
        assert_eq!(t.namespace.as_deref(), Some("default"));
        assert_eq!(t.name.as_deref(), Some("x"));
        let t = parse_target("/apis/apps/v1/namespaces/default/deployments/d/scale").unwrap();
        assert_eq!(t.subresource.as_deref(), Some("scale"));
        assert!(parse_target("/api/v1/pods").is_some());
        assert!(parse_target("/api/v1/namespaces/default").is_some());
        assert!(parse_target("/api/v1/foos").is_none());
        assert!(parse_target("/api/v1/pods/x").is_none());
        assert!(parse_target("/api/v1/namespaces/default/nodes").is_none());
        assert!(parse_target("/apis/apps/v1/pods").is_none());
        let t = parse_target(
            "/apis/cluster.x-k8s.io/v1beta1/namespaces/magnum-x/machinedeployments/md/scale",
        )
        .unwrap();
        assert_eq!(
            (t.resource, t.subresource.as_deref()),
            (Resource::MachineDeployments, Some("scale"))
        );
        assert!(parse_target("/apis/cluster.x-k8s.io/v1/machinedeployments").is_none());
    }

    #[test]
    fn query_decoding() {
        let q = Query::parse(Some(
            "&fieldSelector=involvedObject.name%3Dp%2Creason%3DX&labelSelector=a+in+%28b%29&limit=500",
        ));
        assert_eq!(
            q.get("fieldSelector"),
            Some("involvedObject.name=p,reason=X")
        );
        assert_eq!(q.get("labelSelector"), Some("a in (b)"));
        assert_eq!(decode("%zz%4"), "%zz%4");
        assert!(q.flag("watch").is_ok_and(|w| !w));
        assert!(Query::parse(Some("watch=yes")).flag("watch").is_err());
    }
}
