//! Recording mode: a proxy in front of a real cloud that writes what the cloud answered as a
//! replay [`Recording`] (`mocks/recordings/README.md`).
//!
//! [`Recorder::start`] listens on loopback for the upstream Keystone and forwards every request
//! to it. When Keystone answers with a service catalog (a token, or `GET /v3/auth/catalog`),
//! the recorder opens one more loopback listener per upstream `scheme://host:port` in the
//! catalog, each forwarding to its real endpoint, and rewrites every upstream URL in the
//! answers (catalog, version documents, `Location`, `WWW-Authenticate`) to the local one, so a
//! client pointed at the local Keystone sends all its calls through the recorder. With a
//! Kubernetes upstream, a further listener forwards to the Kubernetes API.
//!
//! Every answered exchange of a service the replay format knows (the catalog types `identity`,
//! `container-infra`, `orchestration`, `compute`, plus `kubernetes`) is kept, with upstream
//! URLs turned into `{{service}}` placeholders; after each one the whole recording is redacted
//! ([`crate::recording::redact_with`], with the request tokens seen) and written to
//! `<out>/recording.json` (through a temporary file and a rename), so a crash loses nothing and
//! no credential touches disk. Unredacted exchanges live only in memory.

use crate::error_shape::error_text;
use crate::recording::{self, Exchange, RecordedResponse, Recording, RequestMatcher};
use crate::Service;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use reqwest::Url;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// The file written into the output directory.
pub const FILE_NAME: &str = "recording.json";

/// Largest request body forwarded (larger ones get `413` in the service's error shape).
const MAX_REQUEST_BYTES: usize = 16 << 20;

/// Errors starting or saving a recording.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("{url}: {reason}")]
    BadUrl { url: String, reason: String },
    #[error("cannot listen on 127.0.0.1:{port}")]
    Listen { port: u16, source: std::io::Error },
    #[error("{what}: cannot be read")]
    Tls {
        what: &'static str,
        source: reqwest::Error,
    },
    #[error("{what}: no PEM certificate found")]
    NoCertificates { what: &'static str },
    #[error("building the HTTP client: {0}")]
    Client(reqwest::Error),
    #[error("cannot write {file}")]
    Write {
        file: String,
        source: std::io::Error,
    },
}

/// What to record.
#[derive(Clone, Debug)]
pub struct Options {
    /// The upstream Keystone endpoint, e.g. `https://js2.jetstream-cloud.org:5000/v3/`.
    pub upstream: String,
    /// The upstream Kubernetes API, e.g. `https://149.165.150.10:6443`.
    pub kube_upstream: Option<String>,
    /// Directory receiving [`FILE_NAME`] (created if missing).
    pub out: PathBuf,
    /// Local port of the Keystone listener (0: any free port).
    pub port: u16,
    /// Extra trusted CA certificates (PEM) for the OpenStack endpoints.
    pub ca_pem: Option<Vec<u8>>,
    /// Trusted CA certificates (PEM) for the Kubernetes API (a Magnum cluster's own CA).
    pub kube_ca_pem: Option<Vec<u8>>,
    /// Client certificate and key (PEM) presented to the Kubernetes API.
    pub kube_identity_pem: Option<Vec<u8>>,
    /// Bearer token sent to the Kubernetes API when the client sends none (kubectl sends no
    /// token over plain http, which is what it talks to the recorder with).
    pub kube_token: Option<String>,
    /// Per-request upstream timeout.
    pub timeout: Duration,
}

impl Options {
    pub fn new(upstream: impl Into<String>, out: impl Into<PathBuf>) -> Options {
        Options {
            upstream: upstream.into(),
            kube_upstream: None,
            out: out.into(),
            port: 0,
            ca_pem: None,
            kube_ca_pem: None,
            kube_identity_pem: None,
            kube_token: None,
            timeout: Duration::from_secs(120),
        }
    }
}

/// One upstream `scheme://host[:port]` and the local listener forwarding to it.
#[derive(Clone, Debug)]
struct Origin {
    /// `Url::origin().ascii_serialization()`: default ports omitted.
    upstream: String,
    /// Other spellings of the same origin in answers (`https://h:443`).
    aliases: Vec<String>,
    local: String,
    /// Catalog endpoints here: path prefix (no trailing slash) → service (`None`: a catalog
    /// type the replay format has no service for, forwarded but not recorded).
    prefixes: Vec<(String, Option<Service>, String)>,
    /// The service of paths matching no prefix (version discovery at `/`).
    default: Option<Service>,
    default_type: String,
    kube: bool,
}

impl Origin {
    /// The service a request path (or the path part of a URL in an answer) belongs to.
    fn classify(&self, path: &str) -> (Option<Service>, &str) {
        self.prefixes
            .iter()
            .filter(|(p, _, _)| {
                p.is_empty()
                    || path == p
                    || path
                        .strip_prefix(p.as_str())
                        .is_some_and(|r| r.starts_with('/'))
            })
            .max_by_key(|(p, _, _)| p.len())
            .map(|(_, s, t)| (*s, t.as_str()))
            .unwrap_or((self.default, self.default_type.as_str()))
    }

    fn spellings(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.upstream.as_str()).chain(self.aliases.iter().map(String::as_str))
    }
}

/// What the recorder has seen (memory only; never written unredacted).
#[derive(Default)]
struct Log {
    exchanges: Vec<Exchange>,
    /// Request credentials (`X-Auth-Token`, `Authorization`, ...) to scrub from answers.
    secrets: BTreeSet<String>,
    /// Catalog types forwarded but not recorded, with counts.
    skipped: BTreeMap<String, usize>,
}

struct Shared {
    client: reqwest::Client,
    kube_client: reqwest::Client,
    kube_token: Option<String>,
    file: PathBuf,
    description: String,
    origins: Mutex<Vec<Origin>>,
    log: Mutex<Log>,
    /// Serializes catalog registration, so concurrent token answers open one listener per
    /// origin.
    registering: Mutex<()>,
    shutdown: tokio::sync::watch::Sender<bool>,
    /// How many exchanges are on disk, and the last one (redacted) as one line.
    progress: tokio::sync::watch::Sender<(usize, String)>,
    tasks: Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The running recorder.
pub struct Recorder {
    shared: Arc<Shared>,
    auth_url: String,
    kube_url: Option<String>,
}

fn parse_upstream(flag: &str, url: &str) -> Result<Url, RecordError> {
    let bad = |reason: &str| RecordError::BadUrl {
        url: format!("{flag} {url}"),
        reason: reason.to_string(),
    };
    let u = Url::parse(url).map_err(|e| bad(&e.to_string()))?;
    if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none() {
        return Err(bad("expected an http:// or https:// URL with a host"));
    }
    if !u.username().is_empty() || u.password().is_some() {
        return Err(bad("credentials in the URL are not supported"));
    }
    Ok(u)
}

/// The certificates of a PEM bundle; none at all is an error (a wrong file, not a choice).
fn certificates(what: &'static str, pem: &[u8]) -> Result<Vec<reqwest::Certificate>, RecordError> {
    let certs = reqwest::Certificate::from_pem_bundle(pem)
        .map_err(|source| RecordError::Tls { what, source })?;
    if certs.is_empty() {
        return Err(RecordError::NoCertificates { what });
    }
    Ok(certs)
}

fn is_loopback(u: &Url) -> bool {
    match u.host_str() {
        Some("localhost") => true,
        Some(h) => h
            .trim_matches(['[', ']'])
            .parse::<std::net::IpAddr>()
            .is_ok_and(|a| a.is_loopback()),
        None => false,
    }
}

fn aliases(u: &Url) -> Vec<String> {
    match (u.port(), u.port_or_known_default(), u.host_str()) {
        (None, Some(p), Some(h)) => vec![format!("{}://{h}:{p}", u.scheme())],
        _ => Vec::new(),
    }
}

impl Recorder {
    /// Starts the Keystone (and Kubernetes) listeners and writes an empty recording, so an
    /// unwritable output directory is reported now rather than after the first request.
    pub async fn start(o: Options) -> Result<Recorder, RecordError> {
        let upstream = parse_upstream("--upstream", &o.upstream)?;
        let kube = o
            .kube_upstream
            .as_deref()
            .map(|k| parse_upstream("--kube-upstream", k))
            .transpose()?;
        // Proxy settings in the environment (HTTPS_PROXY) apply to a remote cloud, never to
        // a cloud on loopback (a mock in a test).
        let builder = |u: &Url| {
            let b = reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(o.timeout);
            if is_loopback(u) {
                b.no_proxy()
            } else {
                b
            }
        };
        let mut os = builder(&upstream);
        if let Some(pem) = &o.ca_pem {
            for c in certificates("CA certificates", pem)? {
                os = os.add_root_certificate(c);
            }
        }
        let mut kb = builder(kube.as_ref().unwrap_or(&upstream));
        if let Some(pem) = &o.kube_ca_pem {
            for c in certificates("Kubernetes CA certificates", pem)? {
                kb = kb.add_root_certificate(c);
            }
        }
        if let Some(pem) = &o.kube_identity_pem {
            let id = reqwest::Identity::from_pem(pem).map_err(|source| RecordError::Tls {
                what: "Kubernetes client certificate and key",
                source,
            })?;
            kb = kb.identity(id);
        }
        let description = format!(
            "Recorded by `magsim record` from {}{}",
            upstream.origin().ascii_serialization(),
            kube.as_ref()
                .map(|k| format!(" and {}", k.origin().ascii_serialization()))
                .unwrap_or_default()
        );
        std::fs::create_dir_all(&o.out).map_err(|source| RecordError::Write {
            file: o.out.display().to_string(),
            source,
        })?;
        let mut log = Log::default();
        log.secrets.extend(o.kube_token.iter().cloned());
        let shared = Arc::new(Shared {
            client: os.build().map_err(RecordError::Client)?,
            kube_client: kb.build().map_err(RecordError::Client)?,
            kube_token: o.kube_token.clone(),
            file: o.out.join(FILE_NAME),
            description,
            origins: Mutex::new(Vec::new()),
            log: Mutex::new(log),
            registering: Mutex::new(()),
            shutdown: tokio::sync::watch::channel(false).0,
            progress: tokio::sync::watch::channel((0, String::new())).0,
            tasks: Mutex::new(Vec::new()),
        });
        shared.save()?;
        let keystone = Origin {
            upstream: upstream.origin().ascii_serialization(),
            aliases: aliases(&upstream),
            local: String::new(),
            prefixes: Vec::new(),
            default: Some(Service::Identity),
            default_type: "identity".into(),
            kube: false,
        };
        let local = listen(&shared, keystone, o.port)?;
        let auth_url = format!("{local}{}", upstream.path().trim_end_matches('/'));
        let auth_url = if upstream.path().ends_with('/') {
            format!("{auth_url}/")
        } else {
            auth_url
        };
        // From here on, dropping the recorder (on an error too) stops the listeners.
        let mut recorder = Recorder {
            shared: shared.clone(),
            auth_url,
            kube_url: None,
        };
        if let Some(k) = kube {
            let origin = Origin {
                upstream: k.origin().ascii_serialization(),
                aliases: aliases(&k),
                local: String::new(),
                prefixes: Vec::new(),
                default: Some(Service::Kubernetes),
                default_type: "kubernetes".into(),
                kube: true,
            };
            recorder.kube_url = Some(listen(&shared, origin, 0)?);
        }
        Ok(recorder)
    }

    /// The local Keystone URL to give clients (`OS_AUTH_URL`): the upstream URL's path on the
    /// local listener.
    pub fn auth_url(&self) -> &str {
        &self.auth_url
    }

    /// The local Kubernetes API URL, with a Kubernetes upstream.
    pub fn kube_url(&self) -> Option<&str> {
        self.kube_url.as_deref()
    }

    /// Where the recording is written.
    pub fn file(&self) -> &Path {
        &self.shared.file
    }

    /// `(upstream, local)` of every listener, in the order they were opened.
    pub fn listeners(&self) -> Vec<(String, String)> {
        lock(&self.shared.origins)
            .iter()
            .map(|o| (o.upstream.clone(), o.local.clone()))
            .collect()
    }

    /// The recording so far, redacted (what the file holds).
    pub fn recording(&self) -> Recording {
        self.shared.redacted(&lock(&self.shared.log))
    }

    /// Follows the file: how many exchanges it holds and the last one as a line
    /// (`container-infra PATCH /v1/clusters/k8s -> 400`), from the redacted recording.
    pub fn progress(&self) -> tokio::sync::watch::Receiver<(usize, String)> {
        self.shared.progress.subscribe()
    }

    /// Catalog types whose requests were forwarded but not recorded, with counts.
    pub fn skipped(&self) -> BTreeMap<String, usize> {
        lock(&self.shared.log).skipped.clone()
    }

    /// Stops every listener and writes the recording one last time.
    pub async fn stop(self) -> Result<Recording, RecordError> {
        let _ = self.shared.shutdown.send(true);
        let tasks = std::mem::take(&mut *lock(&self.shared.tasks));
        for t in tasks {
            // A listener still busy (a long-running watch) after a bounded wait is aborted.
            let abort = t.abort_handle();
            if tokio::time::timeout(Duration::from_secs(5), t)
                .await
                .is_err()
            {
                tracing::warn!("a listener did not stop in time; aborted");
                abort.abort();
            }
        }
        self.shared.save()?;
        Ok(self.recording())
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        let _ = self.shared.shutdown.send(true);
    }
}

/// Opens a loopback listener forwarding to `origin` and registers it; returns its base URL.
/// Synchronous (a std bind handed to tokio) so the handler, which opens listeners for a
/// catalog, is not a recursive future.
fn listen(shared: &Arc<Shared>, mut origin: Origin, port: u16) -> Result<String, RecordError> {
    let err = |source| RecordError::Listen { port, source };
    let std_listener = std::net::TcpListener::bind(("127.0.0.1", port)).map_err(err)?;
    std_listener.set_nonblocking(true).map_err(err)?;
    let listener = tokio::net::TcpListener::from_std(std_listener).map_err(err)?;
    let addr = listener.local_addr().map_err(err)?;
    origin.local = format!("http://{addr}");
    let local = origin.local.clone();
    let index = {
        let mut origins = lock(&shared.origins);
        origins.push(origin.clone());
        origins.len() - 1
    };
    tracing::info!(upstream = %origin.upstream, local = %local, "listening");
    let ctx = Ctx {
        shared: shared.clone(),
        index,
    };
    let app = axum::Router::new().fallback(handle).with_state(ctx);
    let mut stop = shared.shutdown.subscribe();
    let task = tokio::spawn(async move {
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stop.wait_for(|s| *s).await;
            })
            .await;
        if let Err(e) = served {
            tracing::warn!("listener {local} stopped: {e}");
        }
    });
    lock(&shared.tasks).push(task);
    Ok(origin.local)
}

#[derive(Clone)]
struct Ctx {
    shared: Arc<Shared>,
    /// Which origin this listener forwards to.
    index: usize,
}

/// Request headers that describe the connection to the recorder, not the request.
const HOP_BY_HOP: [&str; 10] = [
    "host",
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "content-length",
    // Asked for identity encoding so answers can be rewritten and recorded as text.
    "accept-encoding",
];

fn hop_by_hop(name: &str) -> bool {
    HOP_BY_HOP.iter().any(|h| h.eq_ignore_ascii_case(name))
}

/// kubectl may ask for protobuf; the replay format holds text, so only JSON is asked for.
fn json_only_accept(v: &str) -> String {
    let kept: Vec<&str> = v
        .split(',')
        .map(str::trim)
        .filter(|p| !p.contains("protobuf"))
        .collect();
    if kept.is_empty() {
        "application/json".into()
    } else {
        kept.join(",")
    }
}

async fn handle(State(ctx): State<Ctx>, req: axum::extract::Request) -> Response {
    let origin = lock(&ctx.shared.origins)[ctx.index].clone();
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_string();
    let query = parts.uri.query().map(str::to_string);
    let (service, kind) = origin.classify(&path);
    let kind = kind.to_string();
    let err_service = service.unwrap_or(Service::Identity);
    let Ok(body) = axum::body::to_bytes(body, MAX_REQUEST_BYTES).await else {
        return error_response(
            err_service,
            413,
            &format!("magsim record: request body larger than {MAX_REQUEST_BYTES} bytes"),
        );
    };
    let mut url = format!("{}{path}", origin.upstream);
    if let Some(q) = &query {
        url.push('?');
        url.push_str(q);
    }
    let client = if origin.kube {
        &ctx.shared.kube_client
    } else {
        &ctx.shared.client
    };
    let mut headers = HeaderMap::new();
    for (k, v) in &parts.headers {
        if hop_by_hop(k.as_str()) {
            continue;
        }
        if recording::redact::is_secret_header(k.as_str()) {
            if let Ok(s) = v.to_str() {
                lock(&ctx.shared.log).secrets.insert(s.to_string());
            }
        }
        if origin.kube && k == "accept" {
            if let Ok(v) = HeaderValue::from_str(&json_only_accept(v.to_str().unwrap_or(""))) {
                headers.append(k.clone(), v);
            }
            continue;
        }
        headers.append(k.clone(), v.clone());
    }
    if origin.kube && !headers.contains_key("authorization") {
        if let Some(t) = &ctx.shared.kube_token {
            if let Ok(v) = HeaderValue::from_str(&format!("Bearer {t}")) {
                headers.insert("authorization", v);
            }
        }
    }
    let sent = client
        .request(parts.method.clone(), &url)
        .headers(headers)
        .body(body.clone())
        .send()
        .await;
    let upstream = match sent {
        Ok(r) => r,
        Err(e) => {
            let status = if e.is_timeout() { 504 } else { 502 };
            let message = format!(
                "magsim record: no answer from {}{path}: {}",
                origin.upstream,
                error_chain(&e)
            );
            tracing::warn!("{message}");
            return error_response(err_service, status, &message);
        }
    };
    let status = upstream.status();
    let up_headers = upstream.headers().clone();
    let bytes = match upstream.bytes().await {
        Ok(b) => b,
        Err(e) => {
            let message = format!(
                "magsim record: reading the answer of {}{path}: {}",
                origin.upstream,
                error_chain(&e)
            );
            tracing::warn!("{message}");
            return error_response(err_service, 502, &message);
        }
    };
    tracing::info!(
        "{} {}{path} -> {} ({})",
        parts.method,
        origin.upstream,
        status.as_u16(),
        service.map(Service::as_str).unwrap_or(&kind)
    );
    let text = std::str::from_utf8(&bytes).ok();
    // A Keystone catalog names more upstreams: open their listeners before rewriting the
    // answer.
    if let Some(v) = text
        .filter(|_| !origin.kube)
        .and_then(|t| serde_json::from_str::<Value>(t).ok())
    {
        let endpoints = catalog_endpoints(&v);
        if !endpoints.is_empty() {
            ctx.shared.register(endpoints);
        }
    }
    let origins = lock(&ctx.shared.origins).clone();
    let to_local = |s: &str| rewrite(s, &origins, |o, _| Some(o.local.clone()));
    let mut response = Response::builder().status(status);
    for (k, v) in &up_headers {
        if hop_by_hop(k.as_str()) {
            continue;
        }
        let value = match v.to_str() {
            Ok(s) => HeaderValue::from_str(&to_local(s)).unwrap_or_else(|_| v.clone()),
            Err(_) => v.clone(),
        };
        response = response.header(k, value);
    }
    let client_body = match text {
        Some(t) => Body::from(to_local(t)),
        None => Body::from(bytes.clone()),
    };
    match service {
        Some(service) => ctx.shared.keep(Kept {
            service,
            method: parts.method.as_str(),
            path: &path,
            query: query.as_deref(),
            body: &body,
            status: status.as_u16(),
            headers: &up_headers,
            text,
            origins: &origins,
        }),
        None => {
            *lock(&ctx.shared.log).skipped.entry(kind).or_default() += 1;
        }
    }
    response
        .body(client_body)
        .unwrap_or_else(|e| error_response(err_service, 502, &format!("magsim record: {e}")))
}

/// An error's message with its sources (reqwest's own message is only the outermost).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

fn error_response(service: Service, status: u16, message: &str) -> Response {
    let mut r = Response::new(Body::from(error_text(service, status, message)));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
    r.headers_mut().insert(
        HeaderName::from_static("content-type"),
        HeaderValue::from_static("application/json"),
    );
    r
}

/// `(type, url)` of every endpoint in a token's catalog (`/token/catalog`) or a catalog
/// listing (`/catalog`).
fn catalog_endpoints(v: &Value) -> Vec<(String, String)> {
    let catalog = v
        .pointer("/token/catalog")
        .or_else(|| v.get("catalog"))
        .and_then(Value::as_array);
    catalog
        .into_iter()
        .flatten()
        .flat_map(|svc| {
            let kind = svc.get("type").and_then(Value::as_str).unwrap_or_default();
            svc.get("endpoints")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(move |e| {
                    let url = e.get("url").and_then(Value::as_str)?;
                    Some((kind.to_string(), url.to_string()))
                })
        })
        .collect()
}

fn service_of_type(kind: &str) -> Option<Service> {
    Service::ALL
        .into_iter()
        .find(|s| *s != Service::Kubernetes && s.as_str() == kind)
}

/// Replaces each upstream origin found in `text` (as a whole origin: not followed by more of a
/// host or port) by `f(origin, rest of the text)`, or leaves it when `f` says `None`.
fn rewrite(text: &str, origins: &[Origin], f: impl Fn(&Origin, &str) -> Option<String>) -> String {
    let mut spellings: Vec<(&str, &Origin)> = origins
        .iter()
        .flat_map(|o| o.spellings().map(move |s| (s, o)))
        .collect();
    spellings.sort_by_key(|(s, _)| std::cmp::Reverse(s.len()));
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while let Some(off) = text[i..].find("http") {
        let at = i + off;
        out.push_str(&text[i..at]);
        let rest = &text[at..];
        let hit = spellings.iter().find_map(|(s, o)| {
            let after = rest.strip_prefix(s)?;
            let whole = !after
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | ':' | '-' | '_'));
            let before_ok = !text[..at]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_ascii_alphanumeric());
            (whole && before_ok)
                .then(|| f(o, after).map(|r| (r, s.len())))
                .flatten()
        });
        match hit {
            Some((replacement, len)) => {
                out.push_str(&replacement);
                i = at + len;
            }
            None => {
                out.push_str("http");
                i = at + 4;
            }
        }
    }
    out.push_str(&text[i..]);
    out
}

/// The path at the start of `rest` (up to a quote, space, query or fragment).
fn leading_path(rest: &str) -> &str {
    let end = rest
        .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '?' | '#' | ',' | '<' | '>'))
        .unwrap_or(rest.len());
    &rest[..end]
}

/// Upstream URLs → `{{service}}` placeholders (the service of the endpoint the URL is under);
/// URLs of services the format does not know are left as they are.
fn placeholders(text: &str, origins: &[Origin]) -> String {
    rewrite(text, origins, |o, rest| {
        o.classify(leading_path(rest))
            .0
            .map(|s| format!("{{{{{}}}}}", s.as_str()))
    })
}

/// One answered exchange, as the handler saw it.
struct Kept<'a> {
    service: Service,
    method: &'a str,
    path: &'a str,
    query: Option<&'a str>,
    body: &'a [u8],
    status: u16,
    headers: &'a HeaderMap,
    text: Option<&'a str>,
    origins: &'a [Origin],
}

impl Shared {
    /// Opens listeners for catalog origins not seen yet and records each endpoint's path
    /// prefix and service on its origin.
    fn register(self: &Arc<Self>, endpoints: Vec<(String, String)>) {
        let _one_at_a_time = lock(&self.registering);
        for (kind, url) in endpoints {
            let Ok(u) = Url::parse(&url) else {
                tracing::warn!("catalog endpoint {url:?} ({kind}) is not a URL; not proxied");
                continue;
            };
            if !matches!(u.scheme(), "http" | "https") {
                continue;
            }
            let upstream = u.origin().ascii_serialization();
            let prefix = u.path().trim_end_matches('/').to_string();
            let service = service_of_type(&kind);
            let known = {
                let mut origins = lock(&self.origins);
                match origins.iter_mut().find(|o| o.upstream == upstream) {
                    Some(o) => {
                        if !o.prefixes.iter().any(|(p, _, _)| *p == prefix) {
                            o.prefixes.push((prefix.clone(), service, kind.clone()));
                        }
                        true
                    }
                    None => false,
                }
            };
            if known {
                continue;
            }
            let origin = Origin {
                upstream,
                aliases: aliases(&u),
                local: String::new(),
                prefixes: vec![(prefix, service, kind.clone())],
                default: service,
                default_type: kind,
                kube: false,
            };
            if let Err(e) = listen(self, origin, 0) {
                tracing::warn!("cannot proxy {url}: {e}");
            }
        }
    }

    fn keep(&self, k: Kept<'_>) {
        let text = k.text.map(|t| placeholders(t, k.origins));
        let mut headers = indexmap::IndexMap::new();
        for (name, v) in k.headers {
            if hop_by_hop(name.as_str()) || name == "content-encoding" {
                continue;
            }
            let v = placeholders(&String::from_utf8_lossy(v.as_bytes()), k.origins);
            headers
                .entry(name.as_str().to_string())
                .and_modify(|old: &mut String| {
                    old.push_str(", ");
                    old.push_str(&v);
                })
                .or_insert(v);
        }
        let (body, body_text) = match text {
            None => {
                tracing::warn!(
                    "{} {}: the answer is not UTF-8 text; recorded without its body",
                    k.method,
                    k.path
                );
                (None, None)
            }
            Some(t) if t.is_empty() => (None, None),
            Some(t) => match serde_json::from_str::<Value>(&t) {
                // Kept as JSON when the replay server writes the same bytes back.
                Ok(v) if canonical(k.service, &v) == t => (Some(v), None),
                _ => (None, Some(t)),
            },
        };
        let query = k.query.map(|q| {
            Url::parse(&format!("http://q/?{q}"))
                .map(|u| {
                    u.query_pairs()
                        .map(|(a, b)| (a.into_owned(), b.into_owned()))
                        .collect()
                })
                .unwrap_or_default()
        });
        let exchange = Exchange {
            service: k.service,
            note: None,
            request: RequestMatcher {
                method: k.method.to_string(),
                path: k.path.to_string(),
                query,
                body: serde_json::from_slice(k.body).ok(),
            },
            response: RecordedResponse {
                status: k.status,
                headers,
                body,
                body_text,
            },
        };
        let mut log = lock(&self.log);
        log.exchanges.push(exchange);
        if let Err(e) = self.write(&log) {
            // The cause is the error's source: print the chain.
            let cause = std::error::Error::source(&e).map(|c| format!(": {c}"));
            tracing::error!("{e}{}", cause.unwrap_or_default());
        }
    }

    fn redacted(&self, log: &Log) -> Recording {
        let mut rec = Recording {
            description: Some(self.description.clone()),
            exchanges: log.exchanges.clone(),
        };
        let known: Vec<String> = log.secrets.iter().cloned().collect();
        recording::redact_with(&mut rec, &known);
        rec
    }

    fn save(&self) -> Result<(), RecordError> {
        self.write(&lock(&self.log))
    }

    /// Writes the redacted recording through a temporary file and a rename, so the file is
    /// always a whole recording. The caller holds the log's lock, which also keeps two writes
    /// from interleaving.
    fn write(&self, log: &Log) -> Result<(), RecordError> {
        let rec = self.redacted(log);
        let text = rec.to_json();
        let tmp = self.file.with_extension("json.tmp");
        let err = |source| RecordError::Write {
            file: self.file.display().to_string(),
            source,
        };
        std::fs::write(&tmp, text).map_err(err)?;
        std::fs::rename(&tmp, &self.file).map_err(err)?;
        if let Some(e) = rec.exchanges.last() {
            let line = format!(
                "{} {} {} -> {}",
                e.service.as_str(),
                e.request.method,
                e.request.path,
                e.response.status
            );
            self.progress.send_replace((rec.exchanges.len(), line));
        }
        Ok(())
    }
}

/// The bytes [`crate::replay::serve`] writes for a JSON body of `service`.
fn canonical(service: Service, v: &Value) -> String {
    if service == Service::Kubernetes {
        v.to_string()
    } else {
        crate::python_json(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin(upstream: &str, local: &str, prefixes: &[(&str, Option<Service>)]) -> Origin {
        Origin {
            upstream: upstream.into(),
            aliases: Vec::new(),
            local: local.into(),
            prefixes: prefixes
                .iter()
                .map(|(p, s)| (p.to_string(), *s, String::new()))
                .collect(),
            default: prefixes.first().and_then(|p| p.1),
            default_type: String::new(),
            kube: false,
        }
    }

    #[test]
    fn rewrite_replaces_whole_origins_only() {
        let o = [origin("http://127.0.0.1:5000", "http://127.0.0.1:1", &[])];
        let local = |t: &str| rewrite(t, &o, |o, _| Some(o.local.clone()));
        assert_eq!(
            local("\"http://127.0.0.1:5000/v3/\""),
            "\"http://127.0.0.1:1/v3/\""
        );
        assert_eq!(
            local("http://127.0.0.1:50001/v3"),
            "http://127.0.0.1:50001/v3"
        );
        assert_eq!(local("http://127.0.0.1:5000"), "http://127.0.0.1:1");
        assert_eq!(local("xhttp://127.0.0.1:5000"), "xhttp://127.0.0.1:5000");
        let h = [origin("https://js2.example", "L", &[])];
        assert_eq!(
            rewrite(
                "https://js2.example.org https://js2.example:9511 https://js2.example/x",
                &h,
                |o, _| Some(o.local.clone())
            ),
            "https://js2.example.org https://js2.example:9511 L/x"
        );
    }

    #[test]
    fn placeholders_follow_the_catalog_path_of_a_shared_origin() {
        let o = [origin(
            "https://cloud.example",
            "http://127.0.0.1:1",
            &[
                ("/identity", Some(Service::Identity)),
                ("/compute/v2.1", Some(Service::Compute)),
                ("/network", None),
            ],
        )];
        assert_eq!(
            placeholders("{\"a\": \"https://cloud.example/compute/v2.1/flavors\", \"b\": \"https://cloud.example/identity/v3\", \"c\": \"https://cloud.example/network\"}", &o),
            "{\"a\": \"{{compute}}/compute/v2.1/flavors\", \"b\": \"{{identity}}/identity/v3\", \"c\": \"https://cloud.example/network\"}"
        );
        assert_eq!(o[0].classify("/").0, Some(Service::Identity), "default");
        assert_eq!(o[0].classify("/compute/v2.1x").0, Some(Service::Identity));
    }

    #[test]
    fn catalog_endpoints_come_from_tokens_and_catalog_listings() {
        let token = serde_json::json!({"token": {"catalog": [
            {"type": "container-infra", "endpoints": [{"url": "https://h:9511/v1", "interface": "public"}]},
            {"type": "network", "endpoints": [{"url": "https://h:9696"}]},
        ]}});
        assert_eq!(
            catalog_endpoints(&token),
            [
                (
                    "container-infra".to_string(),
                    "https://h:9511/v1".to_string()
                ),
                ("network".to_string(), "https://h:9696".to_string())
            ]
        );
        let listing = serde_json::json!({"catalog": [{"type": "compute", "endpoints": [{"url": "https://h:8774/v2.1"}]}]});
        assert_eq!(catalog_endpoints(&listing).len(), 1);
        assert!(catalog_endpoints(&serde_json::json!({"token": {}})).is_empty());
        assert_eq!(
            service_of_type("orchestration"),
            Some(Service::Orchestration)
        );
        assert_eq!(service_of_type("kubernetes"), None);
        assert_eq!(service_of_type("network"), None);
    }

    #[test]
    fn kubernetes_accept_headers_drop_protobuf() {
        assert_eq!(
            json_only_accept("application/vnd.kubernetes.protobuf, */*"),
            "*/*"
        );
        assert_eq!(
            json_only_accept("application/vnd.kubernetes.protobuf"),
            "application/json"
        );
        assert_eq!(
            json_only_accept("application/json;as=Table;v=v1;g=meta.k8s.io,application/json"),
            "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
        );
    }

    #[test]
    fn loopback_upstreams_bypass_environment_proxies() {
        for (u, loopback) in [
            ("http://127.0.0.1:5000", true),
            ("http://localhost/", true),
            ("http://[::1]:5000/", true),
            ("https://js2.jetstream-cloud.org:5000/v3/", false),
        ] {
            assert_eq!(is_loopback(&Url::parse(u).unwrap()), loopback, "{u}");
        }
    }

    #[test]
    fn errors_keep_their_cause_as_the_source_and_print_it_once() {
        let e = RecordError::Write {
            file: "out/recording.json".into(),
            source: std::io::Error::new(std::io::ErrorKind::PermissionDenied, "denied"),
        };
        assert_eq!(e.to_string(), "cannot write out/recording.json");
        assert_eq!(chain(&e), "cannot write out/recording.json: denied");
    }

    /// What anyhow's `{:#}` prints: the error, then each source.
    fn chain(e: &dyn std::error::Error) -> String {
        let mut out = e.to_string();
        let mut next = e.source();
        while let Some(c) = next {
            out.push_str(&format!(": {c}"));
            next = c.source();
        }
        out
    }

    #[test]
    fn a_ca_file_without_certificates_is_an_error() {
        let Err(e) = certificates("CA certificates", b"not a certificate\n") else {
            panic!("a file without certificates is accepted");
        };
        assert!(e.to_string().starts_with("CA certificates: "), "{e}");
    }

    #[test]
    fn bad_upstreams_are_clear_errors() {
        for (url, why) in [
            ("js2.example:5000", "http:// or https://"),
            ("/v3/", "relative URL"),
            ("ftp://h/", "http:// or https://"),
            ("https://u:p@h/", "credentials"),
        ] {
            let e = parse_upstream("--upstream", url).unwrap_err().to_string();
            assert!(e.contains(why) && e.contains(url), "{e}");
        }
    }
}
