//! Streaming watches (`?watch=true`): newline-delimited `{"type":…,"object":…}` events over a
//! chunked response that stays open until `timeoutSeconds`, the client disconnects or the
//! server stops. New changes are noticed through [`crate::Live::subscribe`].
//!
//! Without a resourceVersion (or with `0`) the watch starts with a synthetic `ADDED` for every
//! matching object; with one it replays the kept changes after it (`410 Expired` in an `ERROR`
//! event when that is too old). Selectors apply to events: a modification that makes an
//! object leave (enter) the selection is sent as `DELETED` (`ADDED`).

use super::discovery::Resource;
use super::select::Filter;
use super::status::KubeError;
use super::store::{Change, ChangeType, Doc, Store};
use super::table::{table, Clock, IncludeObject};
use crate::Live;
use axum::body::{Body, Bytes};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use serde_json::{json, Value};
use std::convert::Infallible;
use std::time::Duration;
use tokio::sync::{mpsc, watch};

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
    /// One event line with `obj` at resourceVersion `rv`: the stored bytes as they are, or a
    /// one-row Table of the object parsed.
    fn event(&self, kind: ChangeType, obj: &Doc, rv: u64, clock: &Clock) -> Bytes {
        if !self.table {
            let mut out = Vec::with_capacity(obj.json().len() + 32);
            out.extend_from_slice(b"{\"type\":\"");
            out.extend_from_slice(kind.as_str().as_bytes());
            out.extend_from_slice(b"\",\"object\":");
            obj.write_at(&mut out, rv);
            out.extend_from_slice(b"}\n");
            return Bytes::from(out);
        }
        let mut at = Vec::new();
        obj.write_at(&mut at, rv);
        match serde_json::from_slice::<Value>(&at) {
            Ok(v) => {
                let t = table(
                    self.resource,
                    std::slice::from_ref(&v),
                    &rv.to_string(),
                    clock,
                    self.include,
                );
                line(kind.as_str(), t)
            }
            Err(e) => line("ERROR", KubeError::internal(&e.to_string()).to_json()),
        }
    }
}

/// The events `changes` produce for `filter`.
fn encode_changes(filter: &Filter, enc: &Encoder, changes: &[Change], clock: &Clock) -> Vec<Bytes> {
    let mut out = Vec::new();
    for c in changes.iter().filter(|c| filter.covers(&c.key)) {
        let now_in = filter.matches(c.object.select());
        let kind = match c.change {
            ChangeType::Added if now_in => ChangeType::Added,
            ChangeType::Deleted if now_in => ChangeType::Deleted,
            ChangeType::Modified => {
                let was_in = c
                    .previous
                    .as_ref()
                    .is_some_and(|p| filter.matches(p.select()));
                match (was_in, now_in) {
                    (true, true) => ChangeType::Modified,
                    (false, true) => ChangeType::Added,
                    (true, false) => ChangeType::Deleted,
                    (false, false) => continue,
                }
            }
            _ => continue,
        };
        out.push(enc.event(kind, &c.object, c.rv, clock));
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
                    if req.filter.matches(obj.select()) {
                        first.push(enc.event(ChangeType::Added, &obj, obj.rv(), &clock));
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
