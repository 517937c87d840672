//! Replay mode: recorded exchanges served exactly, and the [`Journal`] of what clients asked.
//!
//! A [`Recording`] (JSON, documented in `mocks/recordings/README.md`) is a list of
//! [`Exchange`]s, each a request matcher and the response to send. [`serve`] starts one
//! [`crate::http::Server`] per service present in the recording ([`serve_on`]: where a [`Listen`]
//! says, as live mode does). A request is answered by the first matching exchange not yet
//! used, in file order; once every match has been used, the last one repeats. So the same GET
//! recorded before and after an update gets the two recorded answers in order. A request that
//! matches nothing gets a `404` in that service's own error shape whose message names the
//! nearest recorded request and how it differs.
//!
//! Recorded bodies and headers may contain `{{identity}}`, `{{container-infra}}`,
//! `{{orchestration}}`, `{{compute}}` and `{{kubernetes}}`: they are replaced by the base URL
//! clients use for the replay server of that service (`http://127.0.0.1:<port>`, or what
//! [`Listen::advertise`] names), so a recorded Keystone catalog points clients at the replay
//! servers, also from outside a container.

pub mod incident;
pub mod redact;

pub use redact::{find_secrets, redact, redact_with, REDACTED};

use crate::http::{Handler, Reply, Server};
use crate::listen::Listen;
use crate::openstack::Wire;
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use wiremock::Request;

pub use magsim_sim::cloud::faults::Service;

/// OpenStack services are Python: their JSON is written as `json.dumps` writes it.
fn python_json(service: Service) -> bool {
    service != Service::Kubernetes
}

/// A recording: what a cloud answered, in the order it answered.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Recording {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub exchanges: Vec<Exchange>,
}

/// One request and its answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Exchange {
    pub service: Service,
    /// What this exchange is (for people reading the file and for error messages).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub request: RequestMatcher,
    pub response: RecordedResponse,
}

/// What a request must look like to get this exchange's response.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RequestMatcher {
    pub method: String,
    /// Compared without a trailing slash.
    pub path: String,
    /// When present, the request's query parameters must be exactly these.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<BTreeMap<String, String>>,
    /// When present, the request body must be this JSON value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
}

/// The recorded answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecordedResponse {
    pub status: u16,
    #[serde(default)]
    pub headers: IndexMap<String, String>,
    /// A JSON body; OpenStack services serve it as Python's `json.dumps` writes it
    /// (`", "` and `": "` separators), Kubernetes as compact JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
    /// A body served byte for byte (instead of `body`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_text: Option<String>,
}

/// Errors loading a recording.
#[derive(Debug, thiserror::Error)]
pub enum RecordingError {
    #[error("cannot read {file}: {source}")]
    Io {
        file: String,
        source: std::io::Error,
    },
    #[error("{file}: {source}")]
    Parse {
        file: String,
        source: serde_json::Error,
    },
    #[error("{file}: exchange {index}: {message}")]
    Invalid {
        file: String,
        index: usize,
        message: String,
    },
}

/// Why a recorded response cannot be sent: a status outside 100–999 or a header that is not
/// valid HTTP.
fn response_problem(r: &RecordedResponse) -> Option<String> {
    if !(100..=999).contains(&r.status) {
        return Some(format!("status {} is not an HTTP status", r.status));
    }
    r.headers.iter().find_map(|(k, v)| {
        let name_ok = wiremock::http::HeaderName::from_bytes(k.as_bytes()).is_ok();
        let value_ok = wiremock::http::HeaderValue::from_str(v).is_ok();
        (!name_ok || !value_ok).then(|| format!("header {k:?}: {v:?} is not valid HTTP"))
    })
}

impl Recording {
    /// Parses a recording and checks every response can be sent.
    pub fn from_json(file: &str, text: &str) -> Result<Recording, RecordingError> {
        let r: Recording = serde_json::from_str(text).map_err(|source| RecordingError::Parse {
            file: file.to_string(),
            source,
        })?;
        for (index, e) in r.exchanges.iter().enumerate() {
            if let Some(message) = response_problem(&e.response) {
                return Err(RecordingError::Invalid {
                    file: file.to_string(),
                    index,
                    message,
                });
            }
        }
        Ok(r)
    }

    pub fn load(path: &std::path::Path) -> Result<Recording, RecordingError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| RecordingError::Io {
            file: file.clone(),
            source,
        })?;
        Recording::from_json(&file, &text)
    }

    /// The file's text: pretty JSON with a final newline.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }

    /// Services that have at least one exchange, in [`Service::ALL`] order.
    pub fn services(&self) -> Vec<Service> {
        Service::ALL
            .into_iter()
            .filter(|s| self.exchanges.iter().any(|e| e.service == *s))
            .collect()
    }
}

/// One request a server received.
#[derive(Clone, Debug, PartialEq)]
pub struct JournalEntry {
    pub service: Service,
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    /// The request body when it was JSON.
    pub body: Option<Value>,
    /// The recorded exchange that answered (replay mode), by index in the recording.
    pub exchange: Option<usize>,
    pub status: u16,
    /// What was sent back (live mode, and replay answers from the recording).
    pub response: Option<RecordedResponse>,
}

/// The shared, ordered list of requests the servers received. Cheap to clone. It grows with
/// every request (responses included) until [`Journal::clear`]; a long-running server that
/// needs no journal turns it off with [`Journal::set_enabled`].
#[derive(Clone, Debug, Default)]
pub struct Journal {
    entries: Arc<Mutex<Vec<JournalEntry>>>,
    disabled: Arc<std::sync::atomic::AtomicBool>,
}

impl Journal {
    fn lock(&self) -> MutexGuard<'_, Vec<JournalEntry>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Appends an entry (unless the journal is turned off).
    pub fn push(&self, e: JournalEntry) {
        if !self.disabled.load(std::sync::atomic::Ordering::Relaxed) {
            self.lock().push(e);
        }
    }

    /// Whether new requests are recorded (building an entry is not free: skip it when not).
    pub fn is_enabled(&self) -> bool {
        !self.disabled.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Turns recording of new requests on (the default) or off.
    pub fn set_enabled(&self, on: bool) {
        self.disabled
            .store(!on, std::sync::atomic::Ordering::Relaxed);
    }

    /// Every request so far, in arrival order.
    pub fn entries(&self) -> Vec<JournalEntry> {
        self.lock().clone()
    }

    /// `"METHOD path"` of every request to `service`, in order (for sequence assertions).
    pub fn calls(&self, service: Service) -> Vec<String> {
        self.lock()
            .iter()
            .filter(|e| e.service == service)
            .map(|e| format!("{} {}", e.method, e.path))
            .collect()
    }

    /// How many requests had this method and path (trailing slash ignored).
    pub fn count(&self, method: &str, path: &str) -> usize {
        self.lock()
            .iter()
            .filter(|e| e.method == method && trim(&e.path) == trim(path))
            .count()
    }

    pub fn clear(&self) {
        self.lock().clear();
    }
}

impl Journal {
    /// The answered requests as a recording, in arrival order: each base URL in `urls` becomes
    /// its service's placeholder (so the recording replays on any port), then [`redact()`] runs.
    /// Entries without a response (none in live mode) are left out.
    pub fn to_recording(&self, urls: &[(Service, String)]) -> Recording {
        let placeholders = |text: &str| {
            urls.iter().fold(text.to_string(), |t, (s, url)| {
                t.replace(url.as_str(), &format!("{{{{{}}}}}", s.as_str()))
            })
        };
        let exchanges = self
            .lock()
            .iter()
            .filter_map(|e| {
                let mut response = e.response.clone()?;
                for v in response.headers.values_mut() {
                    *v = placeholders(v);
                }
                if let Some(b) = response.body.as_mut() {
                    map_strings(b, &placeholders);
                }
                response.body_text = response.body_text.as_deref().map(placeholders);
                let query = e.query.as_deref().map(|q| {
                    wiremock::http::Url::parse(&format!("http://q/?{q}"))
                        .map(|u| {
                            u.query_pairs()
                                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                                .collect()
                        })
                        .unwrap_or_default()
                });
                Some(Exchange {
                    service: e.service,
                    note: None,
                    request: RequestMatcher {
                        method: e.method.clone(),
                        path: e.path.clone(),
                        query,
                        body: e.body.clone(),
                    },
                    response,
                })
            })
            .collect();
        let mut rec = Recording {
            description: None,
            exchanges,
        };
        redact(&mut rec);
        rec
    }
}

fn map_strings(v: &mut Value, f: &impl Fn(&str) -> String) {
    match v {
        Value::String(s) => *s = f(s),
        Value::Array(a) => a.iter_mut().for_each(|x| map_strings(x, f)),
        Value::Object(o) => o.values_mut().for_each(|x| map_strings(x, f)),
        _ => {}
    }
}

/// An error answer in `service`'s own shape, as bytes on the wire (Keystone `{"error": ...}`,
/// Magnum `{"errors": [...]}` with the whole message as `title`, Heat's fault, Nova's
/// `itemNotFound`/`computeFault`, a Kubernetes `Status`). Used for replay misses and by the
/// recording proxy when the upstream cannot be reached.
pub(crate) fn error_text(service: Service, status: u16, message: &str) -> String {
    let (title, k8s_reason) = match status {
        400 => ("Bad Request", "BadRequest"),
        404 => ("Not Found", "NotFound"),
        413 => ("Request Entity Too Large", "RequestEntityTooLarge"),
        502 => ("Bad Gateway", "InternalError"),
        504 => ("Gateway Timeout", "Timeout"),
        _ => ("Error", "InternalError"),
    };
    let body = match service {
        Service::Kubernetes => serde_json::json!({
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": k8s_reason, "details": {}, "code": status,
        }),
        Service::Identity => crate::openstack::keystone::error_body(status, title, message),
        Service::ContainerInfra => {
            // Magnum's title is the text before the first period: keep the whole message.
            let mut b = magsim_sim::cloud::ApiError::new(status, message).body();
            if let Some(t) = b.pointer_mut("/errors/0/title") {
                *t = Value::String(message.to_string());
            }
            b
        }
        Service::Orchestration => {
            let explanation = if status == 404 {
                "The resource could not be found."
            } else {
                "The server could not complete the request."
            };
            crate::openstack::heat::fault_body(
                status,
                title,
                explanation,
                message,
                &title.replace(' ', ""),
            )
        }
        Service::Compute if status == 404 => {
            serde_json::json!({"itemNotFound": {"code": status, "message": message}})
        }
        Service::Compute => {
            serde_json::json!({"computeFault": {"code": status, "message": message}})
        }
    };
    if python_json(service) {
        crate::python_json(&body)
    } else {
        body.to_string()
    }
}

fn trim(path: &str) -> &str {
    match path.trim_end_matches('/') {
        "" => "/",
        p => p,
    }
}

/// The running replay servers.
pub struct Replay {
    /// One server per service present in the recording.
    pub servers: BTreeMap<Service, Server>,
    pub journal: Journal,
    state: Arc<ReplayState>,
}

impl Replay {
    /// Base URL clients use for a service's server (`http://127.0.0.1:<port>` unless
    /// advertised otherwise): what its placeholder becomes.
    pub fn url(&self, service: Service) -> Option<String> {
        self.state.urls.get(&service).cloned()
    }

    /// How many times each exchange has been served, by index.
    pub fn uses(&self) -> Vec<u32> {
        self.state.uses().clone()
    }
}

struct ReplayState {
    recording: Recording,
    urls: BTreeMap<Service, String>,
    uses: Mutex<Vec<u32>>,
    journal: Journal,
}

impl ReplayState {
    fn uses(&self) -> MutexGuard<'_, Vec<u32>> {
        self.uses.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn substitute(&self, text: &str) -> String {
        let mut out = text.to_string();
        for (s, url) in &self.urls {
            out = out.replace(&format!("{{{{{}}}}}", s.as_str()), url);
        }
        out
    }
}

/// Starts one server per service in `recording`, answering from it, on loopback.
///
/// # Panics
///
/// When no loopback port can be bound.
pub async fn serve(recording: Recording) -> Replay {
    match serve_on(recording, &Listen::default()).await {
        Ok(replay) => replay,
        Err(e) => panic!("replay servers: {e}"),
    }
}

/// [`serve`] on the addresses of `listen`, with placeholders (Keystone's catalog) replaced by
/// the advertised URLs. Only the recording's services bind their slots of a fixed layout. An
/// impossible layout is an `InvalidInput` error.
pub async fn serve_on(recording: Recording, listen: &Listen) -> std::io::Result<Replay> {
    listen.check()?;
    let mut listeners = BTreeMap::new();
    for s in recording.services() {
        listeners.insert(s, listen.bind(s)?);
    }
    let mut urls = BTreeMap::new();
    for (s, l) in &listeners {
        urls.insert(*s, listen.url(*s, l.local_addr()?));
    }
    let journal = Journal::default();
    let uses = vec![0; recording.exchanges.len()];
    let state = Arc::new(ReplayState {
        recording,
        urls,
        uses: Mutex::new(uses),
        journal: journal.clone(),
    });
    let mut servers = BTreeMap::new();
    for (s, listener) in listeners {
        let replayer = Replayer {
            service: s,
            state: state.clone(),
        };
        servers.insert(s, Server::start(listener, Arc::new(replayer))?);
    }
    Ok(Replay {
        servers,
        journal,
        state,
    })
}

struct Replayer {
    service: Service,
    state: Arc<ReplayState>,
}

/// How a request differs from a recorded one.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Difference {
    parts: Vec<String>,
    score: usize,
}

fn query_map(req: &Request) -> BTreeMap<String, String> {
    req.url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn compare(m: &RequestMatcher, req: &Request, body: Option<&Value>) -> Difference {
    let mut parts = Vec::new();
    let mut score = 0;
    let method = req.method.as_str();
    if !m.method.eq_ignore_ascii_case(method) {
        parts.push(format!(
            "method differs (recorded {}, got {method})",
            m.method
        ));
        score += 3;
    }
    let (rp, gp) = (trim(&m.path), trim(req.url.path()));
    if rp != gp {
        parts.push(format!("path differs (recorded {rp}, got {gp})"));
        // Paths sharing a longer prefix are nearer.
        let common = rp
            .split('/')
            .zip(gp.split('/'))
            .take_while(|(a, b)| a == b)
            .count();
        score += 4 + rp.split('/').count().max(gp.split('/').count()) - common;
    }
    if let Some(q) = &m.query {
        let got = query_map(req);
        if *q != got {
            parts.push(format!(
                "query differs (recorded {}, got {})",
                show_query(q),
                show_query(&got)
            ));
            score += 2;
        }
    }
    if let Some(b) = &m.body {
        if Some(b) != body {
            let got = body
                .map(|v| v.to_string())
                .unwrap_or_else(|| "no JSON body".into());
            parts.push(format!("body differs (recorded {b}, got {got})"));
            score += 2;
        }
    }
    Difference { parts, score }
}

fn show_query(q: &BTreeMap<String, String>) -> String {
    if q.is_empty() {
        return "none".into();
    }
    q.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

impl Handler for Replayer {
    fn service(&self) -> Service {
        self.service
    }

    fn answer(&self, req: &Request) -> Reply {
        self.respond(req).into()
    }

    /// Journaled as a miss (no exchange), in the service's error shape.
    fn bad_request(&self, req: &Request, why: &str) -> Wire {
        let wire = json_wire(400, error_text(self.service, 400, why));
        self.journal(req, None, None, 400);
        wire
    }
}

/// A JSON answer.
fn json_wire(status: u16, body: String) -> Wire {
    Wire {
        status,
        headers: vec![("Content-Type".into(), "application/json".into())],
        body,
    }
}

impl Replayer {
    fn journal(&self, req: &Request, body: Option<Value>, chosen: Option<usize>, status: u16) {
        let ex = &self.state.recording.exchanges;
        self.state.journal.push(JournalEntry {
            service: self.service,
            method: req.method.to_string(),
            path: req.url.path().to_string(),
            query: req.url.query().map(str::to_string),
            body,
            exchange: chosen,
            status,
            response: chosen.map(|i| ex[i].response.clone()),
        });
    }

    fn respond(&self, req: &Request) -> Wire {
        let body: Option<Value> = serde_json::from_slice(&req.body).ok();
        let ex = &self.state.recording.exchanges;
        let candidates: Vec<usize> = (0..ex.len())
            .filter(|&i| {
                ex[i].service == self.service
                    && compare(&ex[i].request, req, body.as_ref()).parts.is_empty()
            })
            .collect();
        let chosen = {
            let mut uses = self.state.uses();
            let pick = candidates
                .iter()
                .copied()
                .find(|&i| uses[i] == 0)
                .or_else(|| candidates.last().copied());
            if let Some(i) = pick {
                uses[i] += 1;
            }
            pick
        };
        let (status, wire) = match chosen {
            Some(i) => (ex[i].response.status, self.render(&ex[i].response)),
            None => self.no_match(req, body.as_ref()),
        };
        self.journal(req, body, chosen, status);
        wire
    }

    fn render(&self, r: &RecordedResponse) -> Wire {
        // A recording built in code skips `from_json`'s checks: never panic on it.
        if let Some(problem) = response_problem(r) {
            tracing::warn!("recorded response cannot be sent: {problem}");
            return Wire {
                status: 500,
                headers: vec![("Content-Type".into(), "text/plain".into())],
                body: problem,
            };
        }
        let mut content_type = "application/json".to_string();
        let mut headers = Vec::new();
        for (k, v) in &r.headers {
            if k.eq_ignore_ascii_case("content-type") {
                content_type = v.clone();
            } else if !k.eq_ignore_ascii_case("content-length") {
                headers.push((k.clone(), self.state.substitute(v)));
            }
        }
        let body = match (&r.body_text, &r.body) {
            (Some(text), _) => Some(text.clone()),
            (None, Some(v)) if python_json(self.service) => Some(crate::python_json(v)),
            (None, Some(v)) => Some(v.to_string()),
            (None, None) => None,
        };
        let body = match body {
            Some(b) => {
                headers.insert(0, ("Content-Type".into(), content_type));
                self.state.substitute(&b)
            }
            None => String::new(),
        };
        Wire {
            status: r.status,
            headers,
            body,
        }
    }

    /// The `404` for a request no exchange matches, naming the nearest recorded request.
    fn no_match(&self, req: &Request, body: Option<&Value>) -> (u16, Wire) {
        let ex = &self.state.recording.exchanges;
        let nearest = (0..ex.len())
            .filter(|&i| ex[i].service == self.service)
            .map(|i| (compare(&ex[i].request, req, body), i))
            .min_by_key(|(d, i)| (d.score, *i));
        let mut message = format!(
            "no recorded {} exchange matches {} {}",
            self.service.as_str(),
            req.method,
            req.url.path()
        );
        match nearest {
            Some((d, i)) => message.push_str(&format!(
                "; nearest is exchange {i} ({} {}): {}",
                ex[i].request.method,
                ex[i].request.path,
                d.parts.join(", ")
            )),
            None => message.push_str("; the recording has no exchange for this service"),
        }
        let text = error_text(self.service, 404, &message);
        (404, json_wire(404, text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn services_serialize_as_catalog_types() {
        assert_eq!(
            serde_json::to_string(&Service::ContainerInfra).unwrap(),
            "\"container-infra\""
        );
        for s in Service::ALL {
            assert_eq!(
                serde_json::to_value(s).unwrap(),
                Value::String(s.as_str().into())
            );
        }
    }

    #[test]
    fn a_disabled_journal_keeps_nothing() {
        let j = Journal::default();
        let entry = JournalEntry {
            service: Service::Identity,
            method: "GET".into(),
            path: "/v3/".into(),
            query: None,
            body: None,
            exchange: None,
            status: 200,
            response: None,
        };
        j.push(entry.clone());
        j.set_enabled(false);
        j.push(entry.clone());
        assert_eq!(j.entries().len(), 1);
        j.set_enabled(true);
        j.push(entry);
        assert_eq!(j.count("GET", "/v3"), 2);
        j.clear();
        assert!(j.entries().is_empty());
    }

    #[test]
    fn trailing_slashes_do_not_matter() {
        assert_eq!(trim("/v1/clusters/"), "/v1/clusters");
        assert_eq!(trim("/"), "/");
        assert_eq!(trim(""), "/");
    }
}
