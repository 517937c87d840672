//! Error answers in each service's own shape, as bytes on the wire: for replay misses and for
//! the recording proxy when the upstream cannot be reached.

use crate::recording::python_json;
use crate::Service;
use serde_json::Value;

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
