//! Streaming watches (`?watch=true`): newline-delimited `{"type":…,"object":…}` events over a
//! chunked response that stays open until `timeoutSeconds`, the client disconnects or the
//! server stops. New changes are noticed through [`crate::Live::subscribe`].
//!
//! Without a resourceVersion (or with `0`) the watch starts with a synthetic `ADDED` for every
//! matching object; with one it replays the kept changes after it (`410 Expired` in an `ERROR`
//! event when that is too old). Selectors apply to events: a modification that makes an
//! object leave (enter) the selection is sent as `DELETED` (`ADDED`).

use super::discovery::Resource;
use super::select::{FieldSelector, LabelSelector};
use super::status::KubeError;
use super::store::{with_rv, Change, ChangeType, Store};
use super::table::{table, Clock, IncludeObject};
use crate::Live;
use axum::body::{Body, Bytes};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use serde_json::{json, Value};
use std::convert::Infallible;
use std::time::Duration;
use tokio::sync::{mpsc, watch};

/// Which objects a list or watch covers.
#[derive(Clone, Debug)]
pub struct Filter {
    pub resource: Resource,
    pub namespace: Option<String>,
    pub fields: FieldSelector,
    pub labels: LabelSelector,
}

impl Filter {
    pub fn matches(&self, obj: &Value) -> bool {
        self.fields.matches(self.resource, obj) && self.labels.matches(obj)
    }

    /// No field or label selector: every object of the resource (and namespace) matches.
    pub fn is_everything(&self) -> bool {
        self.fields.is_empty() && self.labels.is_empty()
    }

    fn covers(&self, c: &Change) -> bool {
        c.key.resource == self.resource
            && self
                .namespace
                .as_deref()
                .is_none_or(|ns| ns == c.key.namespace)
    }
}

/// How a watch was asked for.
#[derive(Clone, Debug)]
pub struct WatchRequest {
    pub filter: Filter,
    pub resource_version: Option<u64>,
    pub timeout: Duration,
    pub table: bool,
    pub include: IncludeObject,
    pub send_initial_events: bool,
}

fn line(kind: &str, object: Value) -> Bytes {
    let mut s = json!({"type": kind, "object": object}).to_string();
    s.push('\n');
    Bytes::from(s)
}

struct Encoder {
    table: bool,
    include: IncludeObject,
    resource: Resource,
}

impl Encoder {
    fn event(&self, kind: &str, obj: &Value, rv: u64, clock: &Clock) -> Bytes {
        let obj = with_rv(obj, rv);
        if self.table {
            let t = table(
                self.resource,
                std::slice::from_ref(&obj),
                &rv.to_string(),
                clock,
                self.include,
            );
            line(kind, t)
        } else {
            line(kind, obj)
        }
    }
}

/// The events `changes` produce for `filter`.
fn encode_changes(filter: &Filter, enc: &Encoder, changes: &[Change], clock: &Clock) -> Vec<Bytes> {
    let mut out = Vec::new();
    for c in changes.iter().filter(|c| filter.covers(c)) {
        let now_in = filter.matches(&c.object);
        let kind = match c.change {
            ChangeType::Added if now_in => ChangeType::Added,
            ChangeType::Deleted if now_in => ChangeType::Deleted,
            ChangeType::Modified => {
                let was_in = c.previous.as_deref().is_some_and(|p| filter.matches(p));
                match (was_in, now_in) {
                    (true, true) => ChangeType::Modified,
                    (false, true) => ChangeType::Added,
                    (true, false) => ChangeType::Deleted,
                    (false, false) => continue,
                }
            }
            _ => continue,
        };
        out.push(enc.event(kind.as_str(), &c.object, c.rv, clock));
    }
    out
}

/// Starts a watch; the response body streams until the timeout, a client disconnect or
/// `shutdown` turning true.
pub fn start(
    live: Live,
    store: Store,
    req: WatchRequest,
    mut shutdown: watch::Receiver<bool>,
) -> Response {
    // Subscribe before reading so no change between the read and the loop is missed.
    let mut changed = live.subscribe();
    let enc = Encoder {
        table: req.table,
        include: req.include,
        resource: req.filter.resource,
    };
    let mut first: Vec<Bytes> = Vec::new();
    let mut cursor;
    {
        let view = store.sync(&live);
        let clock = Clock::new(view.epoch(), view.now());
        cursor = view.rv();
        // With sendInitialEvents the current state is sent whatever the resourceVersion
        // (`resourceVersionMatch=NotOlderThan`: nothing here is older than the request's).
        let initial = match req.resource_version {
            None | Some(0) => None,
            Some(_) if req.send_initial_events => None,
            Some(n) => Some(n),
        };
        match initial {
            None => {
                for obj in view.list(req.filter.resource, req.filter.namespace.as_deref()) {
                    if req.filter.matches(&obj) {
                        let rv = obj["metadata"]["resourceVersion"]
                            .as_str()
                            .and_then(|s| s.parse().ok())
                            .unwrap_or(cursor);
                        first.push(enc.event("ADDED", &obj, rv, &clock));
                    }
                }
                if req.send_initial_events {
                    let r = req.filter.resource;
                    first.push(line(
                        "BOOKMARK",
                        json!({
                            "kind": r.kind(),
                            "apiVersion": r.api_version(),
                            "metadata": {
                                "resourceVersion": cursor.to_string(),
                                "annotations": {"k8s.io/initial-events-end": "true"},
                            },
                        }),
                    ));
                }
            }
            Some(n) => match view.changes_since(n) {
                Ok(changes) => {
                    first.extend(encode_changes(&req.filter, &enc, &changes, &clock));
                    cursor = cursor.max(n);
                }
                Err(oldest) => {
                    first.push(line("ERROR", KubeError::expired(n, oldest).to_json()));
                    let body = Body::from(first.concat());
                    return json_response(body);
                }
            },
        }
    }
    let (tx, mut rx) = mpsc::channel::<Bytes>(256);
    let filter = req.filter.clone();
    let timeout = req.timeout;
    tokio::spawn(async move {
        let end = tokio::time::Instant::now() + timeout;
        // A client that stops reading cannot hold the task past the deadline.
        let send = |tx: &mpsc::Sender<Bytes>, b: Bytes| {
            let tx = tx.clone();
            async move { matches!(tokio::time::timeout_at(end, tx.send(b)).await, Ok(Ok(()))) }
        };
        for b in first {
            if !send(&tx, b).await {
                return;
            }
        }
        let deadline = tokio::time::sleep_until(end);
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                _ = &mut deadline => return,
                _ = tx.closed() => return,
                r = shutdown.changed() => {
                    if r.is_err() || *shutdown.borrow() {
                        return;
                    }
                }
                r = changed.changed() => {
                    if r.is_err() {
                        return;
                    }
                    let (lines, expired) = {
                        let view = store.sync(&live);
                        let clock = Clock::new(view.epoch(), view.now());
                        let out = match view.changes_since(cursor) {
                            Ok(changes) => (encode_changes(&filter, &enc, &changes, &clock), false),
                            Err(oldest) => (vec![line("ERROR", KubeError::expired(cursor, oldest).to_json())], true),
                        };
                        cursor = cursor.max(view.rv());
                        out
                    };
                    for b in lines {
                        if !send(&tx, b).await {
                            return;
                        }
                    }
                    // A real server ends the watch after an ERROR event.
                    if expired {
                        return;
                    }
                }
            }
        }
    });
    let stream = futures_util::stream::poll_fn(move |cx| {
        rx.poll_recv(cx).map(|o| o.map(Ok::<Bytes, Infallible>))
    });
    json_response(Body::from_stream(stream))
}

fn json_response(body: Body) -> Response {
    let mut r = Response::new(body);
    *r.status_mut() = StatusCode::OK;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}
