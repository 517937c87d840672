//! The [`Journal`]: the shared, ordered list of requests every server (live and replay)
//! received and what it answered, for sequence assertions and for saving a live run as a
//! [`Recording`].

use crate::recording::{redact, Exchange, RecordedResponse, Recording, RequestMatcher};
use crate::Service;
use serde_json::Value;
use std::sync::{Arc, Mutex, MutexGuard};

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

    /// How many requests it holds.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    /// The requests after the first `n`, in arrival order.
    pub fn entries_since(&self, n: usize) -> Vec<JournalEntry> {
        self.lock()
            .get(n..)
            .map(<[JournalEntry]>::to_vec)
            .unwrap_or_default()
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

/// A path without its trailing slash (`/` stays).
pub(crate) fn trim(path: &str) -> &str {
    match path.trim_end_matches('/') {
        "" => "/",
        p => p,
    }
}
