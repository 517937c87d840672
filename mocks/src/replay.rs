//! Replay mode: a [`Recording`]'s exchanges served exactly, each request kept in the
//! [`Journal`]. [`serve`] starts one
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

use crate::error_shape::error_text;
use crate::http::{Handler, Reply, Server};
use crate::journal::{trim, Journal, JournalEntry};
use crate::listen::Listen;
use crate::openstack::Wire;
use crate::recording::{
    python_json, response_problem, RecordedResponse, Recording, RequestMatcher,
};
use crate::Service;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use wiremock::Request;

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
