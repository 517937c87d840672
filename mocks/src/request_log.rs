//! The request log: one `tracing` event per answered request, under the target
//! [`TARGET`], with the service, method, path, status and how long the answer took; error
//! bodies at debug. `magsim serve` shows it by default, so a user sees what their
//! autoscaler and clients asked and got.

use std::time::Duration;

/// The `tracing` target of request lines (`MAGSIM_LOG=magsim::request=debug` adds bodies).
pub const TARGET: &str = "magsim::request";

/// Logs one answered request.
pub fn answered(service: &str, method: &str, path: &str, status: u16, took: Duration) {
    let ms = took.as_secs_f64() * 1000.0;
    tracing::info!(target: TARGET, "{service} {method} {path} {status} {ms:.1}ms");
}

/// Logs a request whose connection was closed unanswered (an injected or declared `Drop`).
pub fn dropped(service: &str, method: &str, path: &str, took: Duration) {
    let ms = took.as_secs_f64() * 1000.0;
    tracing::info!(target: TARGET, "{service} {method} {path} dropped {ms:.1}ms");
}

/// Logs the body of an error answer, at debug.
pub fn error_body(service: &str, status: u16, body: &[u8]) {
    if status >= 400 && tracing::enabled!(target: TARGET, tracing::Level::DEBUG) {
        let text = String::from_utf8_lossy(&body[..body.len().min(4096)]);
        tracing::debug!(target: TARGET, "{service} {status} body: {text}");
    }
}
