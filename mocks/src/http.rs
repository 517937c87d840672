//! The OpenStack mocks' own HTTP/1 server (live and replay): it owns the listener and, per
//! request, reads the body (up to [`MAX_BODY_BYTES`](crate::openstack::MAX_BODY_BYTES) and
//! one byte, so the services still answer their own `413`), builds a [`wiremock::Request`] and
//! sends what the service's [`Handler`] answers. It keeps nothing per request (wiremock's
//! `MockServer` keeps a copy of every request a mock matched, for as long as the mock is
//! mounted), and a body that cannot be read (malformed chunks, an upload cut short) or a
//! method no service serves (`CONNECT`) gets a `400` in the service's own error shape instead
//! of a panic.

use crate::openstack::{Wire, MAX_BODY_BYTES};
use crate::Service;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use wiremock::http::{HeaderName, HeaderValue, Method, Url};

/// What a request gets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Reply {
    /// This response, after `delay`.
    Send { wire: Wire, delay: Duration },
    /// No answer: the connection closes without a byte written.
    Drop,
}

impl From<Wire> for Reply {
    fn from(wire: Wire) -> Reply {
        Reply::Send {
            wire,
            delay: Duration::ZERO,
        }
    }
}

/// One service behind a [`Server`].
pub(crate) trait Handler: Send + Sync + 'static {
    fn service(&self) -> Service;
    /// The answer to a well-formed request.
    fn answer(&self, req: &wiremock::Request) -> Reply;
    /// A `400` in the service's own error shape for a request that cannot be served as sent
    /// (`req` has what could be read: method, path, headers, no body).
    fn bad_request(&self, req: &wiremock::Request, why: &str) -> Wire;
}

/// A running server; dropping it stops accepting and closes idle connections.
pub struct Server {
    addr: SocketAddr,
    stop: tokio::sync::watch::Sender<()>,
}

impl Server {
    /// The address the listener is bound to.
    pub fn address(&self) -> &SocketAddr {
        &self.addr
    }

    /// Serves `handler` on `listener` (call inside a tokio runtime).
    pub(crate) fn start(
        listener: std::net::TcpListener,
        handler: Arc<dyn Handler>,
    ) -> std::io::Result<Server> {
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let listener = tokio::net::TcpListener::from_std(listener)?;
        let (stop, stopped) = tokio::sync::watch::channel(());
        tokio::spawn(accept(listener, handler, stopped));
        Ok(Server { addr, stop })
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.send_replace(());
    }
}

async fn accept(
    listener: tokio::net::TcpListener,
    handler: Arc<dyn Handler>,
    mut stopped: tokio::sync::watch::Receiver<()>,
) {
    loop {
        let stream = tokio::select! {
            biased;
            _ = stopped.changed() => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                // Out of descriptors and the like: try again shortly rather than spin.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
        };
        let handler = handler.clone();
        let mut stopped = stopped.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| handle(handler.clone(), req));
            // A client that closes its writing half (an upload cut short) still reads the
            // answer.
            let conn = hyper::server::conn::http1::Builder::new()
                .half_close(true)
                .serve_connection(TokioIo::new(stream), service);
            tokio::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => {}
                _ = stopped.changed() => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
        });
    }
}

/// The largest request head (target and headers) served: eventlet refuses any line over
/// 8 KiB, so no real client sends more.
const MAX_HEAD_BYTES: usize = 64 * 1024;

/// Returned to hyper for [`Reply::Drop`]: hyper closes the connection unanswered.
#[derive(Debug)]
struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by a fault")
    }
}

impl std::error::Error for Dropped {}

async fn handle(
    handler: Arc<dyn Handler>,
    req: hyper::Request<Incoming>,
) -> Result<hyper::Response<Full<Bytes>>, Dropped> {
    let start = Instant::now();
    let (parts, body) = req.into_parts();
    // Origin-form (and absolute-form) targets keep their path and query; `CONNECT`'s
    // authority-form has neither.
    let target = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let parsed = Url::parse(&format!("http://localhost{target}"));
    let mut request = wiremock::Request {
        url: parsed
            .clone()
            .unwrap_or_else(|_| Url::parse("http://localhost/").expect("a valid URL")),
        method: parts.method,
        headers: parts.headers,
        body: Vec::new(),
    };
    let head_bytes = target.len()
        + request
            .headers
            .iter()
            .map(|(k, v)| k.as_str().len() + v.len() + 4)
            .sum::<usize>();
    let bad = if request.method == Method::CONNECT {
        Some("CONNECT is not served")
    } else if head_bytes > MAX_HEAD_BYTES {
        // hyper refuses a head past its buffer only when it arrives in pieces; one that
        // arrives whole is parsed. Refused here either way, as eventlet refuses long lines.
        Some("the request head is too large")
    } else if parsed.is_err() {
        Some("the request target is not a path")
    } else {
        match read_body(body).await {
            Ok(bytes) => {
                request.body = bytes;
                None
            }
            Err(_) => Some("the request body could not be read"),
        }
    };
    let reply = match bad {
        Some(why) => handler.bad_request(&request, why).into(),
        None => handler.answer(&request),
    };
    let service = handler.service().as_str();
    let (method, path) = (request.method.as_str(), request.url.path());
    match reply {
        Reply::Drop => {
            crate::request_log::dropped(service, method, path, start.elapsed());
            Err(Dropped)
        }
        Reply::Send { wire, delay } => {
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            crate::request_log::answered(service, method, path, wire.status, start.elapsed());
            crate::request_log::error_body(service, wire.status, wire.body.as_bytes());
            Ok(response(wire))
        }
    }
}

/// The body, or as much of it as shows it is too large ([`MAX_BODY_BYTES`] + 1 bytes; the
/// rest is left unread, and hyper closes the connection after the answer).
async fn read_body(mut body: Incoming) -> Result<Vec<u8>, hyper::Error> {
    let mut out = Vec::new();
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame?.into_data() {
            out.extend_from_slice(&data);
            if out.len() > MAX_BODY_BYTES {
                out.truncate(MAX_BODY_BYTES + 1);
                break;
            }
        }
    }
    Ok(out)
}

/// `wire` as hyper's response: its headers (those that are not valid HTTP skipped),
/// Content-Length from the body.
fn response(wire: Wire) -> hyper::Response<Full<Bytes>> {
    let mut r = hyper::Response::new(Full::new(Bytes::from(wire.body.into_bytes())));
    *r.status_mut() = hyper::StatusCode::from_u16(wire.status)
        .unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    let headers = r.headers_mut();
    for (k, v) in &wire.headers {
        if k.eq_ignore_ascii_case("content-length") {
            continue;
        }
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(v),
        ) {
            headers.insert(name, value);
        }
    }
    r
}
