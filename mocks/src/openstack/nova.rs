//! Nova (compute), only what the autoscaler's Magnum provider asks for a node template:
//! `GET /v2.1/flavors/{id}` from the engine's Jetstream2 flavors. Errors use Nova's
//! `{"itemNotFound": {"code", "message"}}` shape.

use super::{json_response, segments, unauthorized, State, Wire};
use crate::Service;
use serde_json::json;
use std::sync::Arc;
use wiremock::Request;

/// The catch-all responder of the Nova server.
pub struct Nova(pub(crate) Arc<State>);

impl Nova {
    /// The service's answer to `req` (journaled).
    pub(crate) fn respond(&self, req: &Request) -> Wire {
        let id = self.0.request_id();
        if self.0.check_token(super::auth_token(req)).is_err() {
            let wire = unauthorized(&self.0).insert_header("x-openstack-request-id", &id);
            return self.0.record(Service::Compute, req, wire);
        }
        let (status, body) = match (req.method.as_str(), segments(req.url.path()).as_slice()) {
            ("GET", ["v2.1", "flavors", name]) => {
                let e = self.0.live.engine();
                match e.world.flavors.get(*name) {
                    Some(f) => (
                        200,
                        json!({"flavor": {"id": f.name, "name": f.name, "ram": f.ram_gib * 1024,
                            "disk": f.disk_gb, "swap": 0, "OS-FLV-EXT-DATA:ephemeral": 0,
                            "OS-FLV-DISABLED:disabled": false, "vcpus": f.vcpus,
                            "os-flavor-access:is_public": true, "rxtx_factor": 1.0}}),
                    ),
                    None => (
                        404,
                        json!({"itemNotFound": {"code": 404, "message": format!("Flavor {name} could not be found.")}}),
                    ),
                }
            }
            _ => (
                404,
                json!({"itemNotFound": {"code": 404, "message": "The resource could not be found."}}),
            ),
        };
        let wire = json_response(status, &body).insert_header("x-openstack-request-id", &id);
        self.0.record(Service::Compute, req, wire)
    }
}
