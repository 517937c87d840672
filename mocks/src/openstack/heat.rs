//! Heat v1 (orchestration), kept small: the version document and the stack calls the
//! cluster-autoscaler's Magnum provider makes for a Heat-driver cluster's stack
//! (`GET /v1/<project>/stacks`, `GET .../stacks/<name or id>` → `302` to
//! `.../stacks/<name>/<id>`, `GET .../stacks/<name>/<id>`). A Cluster API (magnum-capi-helm)
//! cluster has no Heat stack: its `stack_id` is a Helm release name, and Heat answers `404`.
//! Errors use Heat's fault body (`explanation`, `code`, `error{message, traceback, type}`, `title`).

use super::{json_response, segments, unauthorized, State, MAX_BODY_BYTES};
use crate::replay::Service;
use magsim_sim::cloud::Cluster;
use serde_json::{json, Value};
use std::sync::Arc;
use wiremock::{Request, Respond, ResponseTemplate};

/// The catch-all responder of the Heat server.
pub struct Heat(pub(crate) Arc<State>);

/// Heat's fault body.
pub fn fault_body(code: u16, title: &str, explanation: &str, message: &str, kind: &str) -> Value {
    json!({"explanation": explanation, "code": code,
           "error": {"message": message, "traceback": null, "type": kind}, "title": title})
}

fn not_found(message: &str, kind: &str) -> (u16, Value) {
    (
        404,
        fault_body(
            404,
            "Not Found",
            "The resource could not be found.",
            message,
            kind,
        ),
    )
}

/// The stack name Magnum's Heat driver gives a cluster's stack: `<name>-<12 chars>`.
pub fn stack_name(c: &Cluster) -> String {
    let short: String = c
        .stack_id
        .chars()
        .filter(|ch| *ch != '-')
        .take(12)
        .collect();
    format!("{}-{short}", c.name)
}

impl Respond for Heat {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let id = self.0.request_id();
        let wire = match self.answer(req) {
            Ok((status, body, location)) => {
                let mut t = json_response(status, &body);
                if let Some(l) = location {
                    t = t.insert_header("Location", &l);
                }
                t.insert_header("x-openstack-request-id", &id)
            }
            Err(()) => unauthorized(&self.0).insert_header("x-openstack-request-id", &id),
        };
        self.0.record(Service::Orchestration, req, wire)
    }
}

type Answer = Result<(u16, Value, Option<String>), ()>;

impl Heat {
    fn answer(&self, req: &Request) -> Answer {
        if req.body.len() > MAX_BODY_BYTES {
            return Ok((
                413,
                fault_body(
                    413,
                    "Request Entity Too Large",
                    "Request is too large.",
                    "Request is too large.",
                    "RequestLimitExceeded",
                ),
                None,
            ));
        }
        let base = &self.0.urls.heat;
        let segs = segments(req.url.path());
        if segs.is_empty() {
            let body = json!({"versions": [{"status": "CURRENT", "id": "v1.0",
                "links": [{"href": format!("{base}/v1/"), "rel": "self"}]}]});
            return Ok((300, body, None));
        }
        if self.0.check_token(super::auth_token(req)).is_err() {
            return Err(());
        }
        let project = self.0.credentials.project_id.as_str();
        let (status, body) = match (req.method.as_str(), segs.as_slice()) {
            ("GET", ["v1", p, "stacks"]) if *p == project => (200, self.list()),
            ("GET", ["v1", p, "stacks", ident]) if *p == project => {
                return Ok(match self.find(ident) {
                    Some((name, id, _)) => (
                        302,
                        json!({}),
                        Some(format!("{base}/v1/{project}/stacks/{name}/{id}")),
                    ),
                    None => with_none(not_found(
                        &format!("The Stack ({ident}) could not be found."),
                        "EntityNotFound",
                    )),
                })
            }
            ("GET", ["v1", p, "stacks", name, id]) if *p == project => {
                match self.find(id).filter(|(n, _, _)| n == name) {
                    Some((_, _, stack)) => (200, json!({ "stack": stack })),
                    None => not_found(
                        &format!("The Stack ({name}) could not be found."),
                        "EntityNotFound",
                    ),
                }
            }
            _ => not_found("The resource could not be found.", "HTTPNotFound"),
        };
        Ok((status, body, None))
    }

    /// The Heat-driver cluster's stack: `(name, id, full stack object)`.
    fn find(&self, ident: &str) -> Option<(String, String, Value)> {
        let e = self.0.live.engine();
        let c = e.world.cluster.as_ref().filter(|c| !c.driver.is_capi())?;
        let name = stack_name(c);
        if ident != c.stack_id && ident != name {
            return None;
        }
        let created = e.epoch.at(magsim_sim::time::SimTime::ZERO).rfc3339();
        Some((
            name.clone(),
            c.stack_id.clone(),
            self.stack(c, &name, &created),
        ))
    }

    fn stack(&self, c: &Cluster, name: &str, created: &str) -> Value {
        let project = &self.0.credentials.project_id;
        let base = &self.0.urls.heat;
        json!({
            "parent": null,
            "disable_rollback": true,
            "description": "This template will boot a Kubernetes cluster with one or more minions (as specified by the number_of_minions parameter, which defaults to 1).",
            "parameters": {
                "number_of_minions": c.node_count().to_string(),
                "number_of_masters": c.master_count().to_string(),
                "OS::stack_id": c.stack_id,
                "OS::stack_name": name,
                "OS::project_id": project,
            },
            "deletion_time": null,
            "stack_name": name,
            "stack_user_project_id": project,
            "stack_status_reason": format!("Stack {} completed successfully", c.status.trim_end_matches("_COMPLETE").trim_end_matches("_FAILED").trim_end_matches("_IN_PROGRESS")),
            "creation_time": created,
            "links": [{"href": format!("{base}/v1/{project}/stacks/{name}/{}", c.stack_id), "rel": "self"}],
            "capabilities": [],
            "notification_topics": [],
            "tags": null,
            "timeout_mins": c.create_timeout,
            "stack_status": c.status,
            "stack_owner": null,
            "updated_time": null,
            "id": c.stack_id,
            "outputs": [],
            "template_description": "This template will boot a Kubernetes cluster with one or more minions (as specified by the number_of_minions parameter, which defaults to 1).",
        })
    }

    fn list(&self) -> Value {
        let items: Vec<Value> = self
            .find_all()
            .into_iter()
            .map(|stack| {
                let mut m = serde_json::Map::new();
                for k in [
                    "creation_time",
                    "deletion_time",
                    "description",
                    "id",
                    "links",
                    "parent",
                    "stack_name",
                    "stack_owner",
                    "stack_status",
                    "stack_status_reason",
                    "stack_user_project_id",
                    "tags",
                    "updated_time",
                ] {
                    if let Some(v) = stack.get(k) {
                        m.insert(k.into(), v.clone());
                    }
                }
                Value::Object(m)
            })
            .collect();
        json!({ "stacks": items })
    }

    fn find_all(&self) -> Vec<Value> {
        let id = {
            let e = self.0.live.engine();
            e.world
                .cluster
                .as_ref()
                .filter(|c| !c.driver.is_capi())
                .map(|c| c.stack_id.clone())
        };
        id.and_then(|id| self.find(&id))
            .map(|(_, _, s)| s)
            .into_iter()
            .collect()
    }
}

fn with_none((status, body): (u16, Value)) -> (u16, Value, Option<String>) {
    (status, body, None)
}
