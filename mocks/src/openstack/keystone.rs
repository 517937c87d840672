//! Keystone v3: version discovery (`GET /` → 300, `GET /v3` → 200) and `POST /v3/auth/tokens`
//! for the `password`, `application_credential` and `token` methods (project, or trust scope),
//! answering `201` with `X-Subject-Token` and a catalog in region `IU` that points at the other
//! mock servers. Errors use Keystone's `{"error": {"code", "title", "message"}}` body.

use super::{content_type, json_response, segments, State, Token, Wire, MAX_BODY_BYTES, REGION};
use crate::Service;
use serde_json::{json, Value};
use std::sync::Arc;
use wiremock::Request;

/// The catch-all responder of the Keystone server.
pub struct Keystone(pub(crate) Arc<State>);

/// Keystone's error body.
pub fn error_body(code: u16, title: &str, message: &str) -> Value {
    json!({"error": {"code": code, "title": title, "message": message}})
}

/// The `expires_at` tokens show clients unless [`super::Options::virtual_expires_at`] is set.
pub const CLIENT_EXPIRES_AT: &str = "9999-12-31T23:59:59.000000Z";

const UNAUTHORIZED: &str = "The request you have made requires authentication.";

fn validation(attribute: &str, target: &str) -> String {
    format!("Expecting to find {attribute} in {target}. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.")
}

/// The version object of `GET /` and `GET /v3`.
pub fn version_object(base: &str) -> Value {
    json!({
        "id": "v3.14",
        "status": "stable",
        "updated": "2020-04-07T00:00:00Z",
        "links": [{"rel": "self", "href": format!("{base}/v3/")}],
        "media-types": [{"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}],
    })
}

impl Keystone {
    /// The service's answer to `req` (journaled).
    pub(crate) fn respond(&self, req: &Request) -> Wire {
        let (_, resp) = self.answer(req);
        let resp = resp.insert_header("x-openstack-request-id", &self.0.request_id());
        self.0.record(Service::Identity, req, resp)
    }
}

impl Keystone {
    fn error(&self, code: u16, title: &str, message: &str) -> (u16, Wire) {
        (
            code,
            json_response(code, &error_body(code, title, message))
                .insert_header("Vary", "X-Auth-Token"),
        )
    }

    fn unauthorized(&self) -> (u16, Wire) {
        let mut body = error_body(401, "Unauthorized", UNAUTHORIZED);
        body["error"]["identity"] =
            json!({"methods": ["password", "token", "application_credential"]});
        (
            401,
            json_response(401, &body)
                .insert_header(
                    "WWW-Authenticate",
                    &format!("Keystone uri=\"{}/v3\"", self.0.urls.keystone),
                )
                .insert_header("Vary", "X-Auth-Token"),
        )
    }

    fn answer(&self, req: &Request) -> (u16, Wire) {
        if req.body.len() > MAX_BODY_BYTES {
            return self.error(413, "Request Entity Too Large", "Request is too large.");
        }
        let base = &self.0.urls.keystone;
        let method = req.method.as_str();
        match (method, segments(req.url.path()).as_slice()) {
            ("GET", []) => (
                300,
                json_response(
                    300,
                    &json!({"versions": {"values": [version_object(base)]}}),
                )
                .insert_header("Location", &format!("{base}/v3/")),
            ),
            ("GET", ["v3"]) => (
                200,
                json_response(200, &json!({"version": version_object(base)})),
            ),
            ("POST", ["v3", "auth", "tokens"]) => self.authenticate(req),
            ("GET" | "HEAD" | "DELETE", ["v3", "auth", "tokens"]) => self.subject(req, method),
            (_, [] | ["v3"] | ["v3", "auth", "tokens"]) => self.error(
                405,
                "Method Not Allowed",
                "The method is not allowed for the requested URL.",
            ),
            _ => self.error(404, "Not Found", "The resource could not be found."),
        }
    }

    fn authenticate(&self, req: &Request) -> (u16, Wire) {
        match content_type(req).as_deref() {
            Some("application/json") | None => {}
            Some(_) => {
                return self.error(
                    400,
                    "Bad Request",
                    &validation("application/json", "Content-Type header"),
                )
            }
        }
        let Ok(body) = serde_json::from_slice::<Value>(&req.body) else {
            return self.error(
                400,
                "Bad Request",
                &validation("valid JSON", "request body"),
            );
        };
        let auth = match body.get("auth") {
            Some(a) if a.is_object() => a,
            _ => {
                return self.error(
                    400,
                    "Bad Request",
                    "Invalid input for field 'auth': 'auth' is a required property",
                )
            }
        };
        let Some(identity) = auth.get("identity").filter(|i| i.is_object()) else {
            return self.error(
                400,
                "Bad Request",
                "Invalid input for field 'identity': 'identity' is a required property",
            );
        };
        let methods: Vec<String> =
            match identity.get("methods").and_then(Value::as_array) {
                Some(m) if !m.is_empty() && m.iter().all(Value::is_string) => m
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect(),
                _ => return self.error(
                    400,
                    "Bad Request",
                    "Invalid input for field 'identity/methods': 'methods' is a required property",
                ),
            };
        let c = &self.0.credentials;
        let mut app_cred = false;
        for m in &methods {
            let ok = match m.as_str() {
                "password" => identity.pointer("/password/user").is_some_and(|u| {
                    (self.user_matches(u) && str_at(u, "/password") == Some(&c.password))
                        || self.cloud_config_user(u)
                }),
                "application_credential" => {
                    app_cred = true;
                    identity.get("application_credential").is_some_and(|a| {
                        let by_id = str_at(a, "/id") == Some(&c.application_credential_id);
                        let by_name = str_at(a, "/name") == Some(&c.application_credential_name)
                            && a.get("user").is_some_and(|u| self.user_matches(u));
                        (by_id || by_name)
                            && str_at(a, "/secret") == Some(&c.application_credential_secret)
                    })
                }
                "token" => {
                    let id = str_at(identity, "/token/id");
                    self.0.check_token(id).is_ok()
                }
                _ => false,
            };
            if !ok {
                return self.unauthorized();
            }
        }
        // Scope: application credentials imply the project; otherwise the request says.
        let scope = auth.get("scope");
        let trust = scope
            .and_then(|s| s.pointer("/OS-TRUST:trust/id"))
            .and_then(Value::as_str);
        if let Some(id) = trust {
            if let Err(refused) = self.check_trust(id, identity) {
                return refused;
            }
        }
        let scoped = match scope {
            _ if app_cred => {
                if scope.is_some() {
                    return self.unauthorized();
                }
                true
            }
            None => false,
            Some(s) if trust.is_some() => s.is_object(),
            Some(s) => match s.get("project") {
                Some(p) => {
                    let by_id = str_at(p, "/id") == Some(&c.project_id);
                    let by_name = str_at(p, "/name") == Some(&c.project_name)
                        && (str_at(p, "/domain/id") == Some(&c.project_domain_id)
                            || str_at(p, "/domain/name") == Some("Default"));
                    if !(by_id || by_name) {
                        return self.unauthorized();
                    }
                    true
                }
                None => return self.unauthorized(),
            },
        };
        let trustee = match (
            str_at(identity, "/password/user/id"),
            str_at(identity, "/password/user/name"),
        ) {
            (Some(id), _) => id,
            (None, Some(name)) if name == c.user_name => c.user_id.as_str(),
            _ => "",
        };
        let token = self.0.issue_token(super::Grant {
            methods,
            application_credential: app_cred,
            scoped,
            trust: trust.map(|id| (id.to_string(), trustee.to_string())),
        });
        (201, self.token_reply(201, &token, true))
    }

    /// A token document with the token's id in `X-Subject-Token` (issue and validate).
    fn token_reply(&self, code: u16, token: &super::Token, catalog: bool) -> Wire {
        json_response(code, &self.token_body(token, catalog))
            .insert_header("X-Subject-Token", &token.id)
            .insert_header("Vary", "X-Auth-Token")
    }

    /// `GET`, `HEAD` and `DELETE /v3/auth/tokens`: validate, check and revoke the token in
    /// `X-Subject-Token` for a caller holding a valid `X-Auth-Token` (all tokens are the one
    /// user's, so the owner-or-admin policy always holds).
    fn subject(&self, req: &Request, method: &str) -> (u16, Wire) {
        if self.0.check_token(super::auth_token(req)).is_err() {
            return self.unauthorized();
        }
        let Some(id) = super::subject_token(req) else {
            return self.error(404, "Not Found", "No token in the request");
        };
        let token = match self.0.check_token(Some(id)) {
            Ok(t) => t,
            Err(super::TokenError::Unknown | super::TokenError::Missing) => {
                return self.error(404, "Not Found", "Could not recognize Fernet token")
            }
            Err(super::TokenError::Expired | super::TokenError::Revoked) => {
                return self.error(404, "Not Found", "Failed to validate token")
            }
        };
        match method {
            "DELETE" => {
                let _ = self.0.revoke_token(id);
                (204, Wire::empty(204).insert_header("Vary", "X-Auth-Token"))
            }
            "HEAD" => (
                200,
                Wire::empty(200)
                    .insert_header("X-Subject-Token", &token.id)
                    .insert_header("Vary", "X-Auth-Token"),
            ),
            _ => {
                let nocatalog = req
                    .url
                    .query_pairs()
                    .any(|(k, v)| k == "nocatalog" && v != "0" && !v.eq_ignore_ascii_case("false"));
                (200, self.token_reply(200, &token, !nocatalog))
            }
        }
    }

    /// A user and password that a cloud-config in the scenario's Secrets holds (an
    /// autoscaler's trustee): Keystone knows the users the scenario's autoscalers log in as.
    fn cloud_config_user(&self, u: &Value) -> bool {
        let Some(password) = str_at(u, "/password") else {
            return false;
        };
        self.cloud_configs().iter().any(|g| {
            let named = match (str_at(u, "/id"), str_at(u, "/name")) {
                (Some(id), _) => g.user_id.as_deref() == Some(id),
                (None, Some(name)) => g.username.as_deref() == Some(name),
                _ => false,
            };
            named && g.password.as_deref() == Some(password)
        })
    }

    /// A trust scope names a trust that a cloud-config of the scenario holds, and the caller
    /// is its trustee: else Keystone's `TrustNotFound` (404) or "User is not a trustee."
    /// (403), as `keystone/models/token_model.py` and `trust/core.py` answer.
    fn check_trust(&self, id: &str, identity: &Value) -> Result<(), (u16, Wire)> {
        let trusts: Vec<_> = self
            .cloud_configs()
            .into_iter()
            .filter(|g| g.trust_id.as_deref() == Some(id))
            .collect();
        if trusts.is_empty() {
            return Err(self.error(404, "Not Found", &format!("Could not find trust: {id}.")));
        }
        let user = identity.pointer("/password/user");
        let trustee = |g: &magsim_sim::deploy::cloud_config::GlobalConfig| {
            user.is_some_and(|u| match (str_at(u, "/id"), str_at(u, "/name")) {
                (Some(id), _) => g.user_id.as_deref() == Some(id),
                (None, Some(name)) => g.username.as_deref() == Some(name),
                _ => false,
            })
        };
        if !trusts.iter().any(trustee) {
            return Err(self.error(403, "Forbidden", "User is not a trustee."));
        }
        Ok(())
    }

    /// The `[Global]` sections of every cloud-config the scenario's Secrets hold.
    fn cloud_configs(&self) -> Vec<magsim_sim::deploy::cloud_config::GlobalConfig> {
        let engine = self.0.live.engine();
        engine
            .world
            .secrets
            .iter()
            .flat_map(|s| s.data.values())
            .filter(|text| text.contains("[Global]"))
            .filter_map(|text| magsim_sim::deploy::cloud_config::parse_cloud_config(text).ok())
            .map(|c| c.global)
            .collect()
    }

    /// A user reference (`{"id"}` or `{"name", "domain": {"id"|"name"}}`) naming our user.
    fn user_matches(&self, u: &Value) -> bool {
        let c = &self.0.credentials;
        str_at(u, "/id") == Some(&c.user_id)
            || (str_at(u, "/name") == Some(&c.user_name)
                && (str_at(u, "/domain/name") == Some(&c.user_domain_name)
                    || str_at(u, "/domain/id") == Some(&c.project_domain_id)))
    }

    fn token_body(&self, token: &Token, with_catalog: bool) -> Value {
        let epoch = self.0.live.engine().epoch;
        let catalog = (token.scoped && with_catalog)
            .then(|| catalog(&self.0.urls, &self.0.credentials.project_id));
        token_body(
            &self.0.credentials,
            token,
            epoch,
            catalog,
            self.0.options.virtual_expires_at,
        )
    }
}

/// A token document (`{"token": {...}}`) in Keystone's key order: project-scoped when the
/// token is (with `catalog` when given: `?nocatalog` leaves it out); trust-scoped,
/// impersonating the trustor as Magnum's trusts do, when the token is; `expires_at` is the virtual expiry when `virtual_expiry`, else
/// [`CLIENT_EXPIRES_AT`].
pub fn token_body(
    c: &super::Credentials,
    token: &Token,
    epoch: magsim_sim::time::Epoch,
    catalog: Option<Value>,
    virtual_expiry: bool,
) -> Value {
    let issued = keystone_time(epoch, token.issued);
    let expires = if virtual_expiry {
        keystone_time(epoch, token.expires)
    } else {
        CLIENT_EXPIRES_AT.to_string()
    };
    let domain = json!({"id": "default", "name": "Default"});
    let mut t = serde_json::Map::new();
    t.insert("methods".into(), json!(token.methods));
    t.insert(
        "user".into(),
        json!({"domain": domain, "id": c.user_id, "name": c.user_name, "password_expires_at": null}),
    );
    t.insert("audit_ids".into(), json!([audit_id(&token.id)]));
    t.insert("expires_at".into(), json!(expires));
    t.insert("issued_at".into(), json!(issued));
    if token.scoped {
        t.insert(
            "project".into(),
            json!({"domain": domain, "id": c.project_id, "name": c.project_name}),
        );
        t.insert("is_domain".into(), json!(false));
        t.insert(
            "roles".into(),
            json!([
                {"id": hex_id("role:member"), "name": "member"},
                {"id": hex_id("role:reader"), "name": "reader"},
            ]),
        );
        if let Some(catalog) = catalog {
            t.insert("catalog".into(), catalog);
        }
    }
    if let Some((trust, trustee)) = &token.trust {
        t.insert(
            "OS-TRUST:trust".into(),
            json!({"id": trust, "trustor_user": {"id": c.user_id}, "trustee_user": {"id": trustee}, "impersonation": true}),
        );
    }
    if token.application_credential {
        t.insert(
            "application_credential".into(),
            json!({"id": c.application_credential_id, "name": c.application_credential_name, "restricted": false}),
        );
    }
    json!({"token": Value::Object(t)})
}

fn str_at<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    v.pointer(pointer).and_then(Value::as_str)
}

/// `YYYY-MM-DDTHH:MM:SS.ffffffZ` on the engine's clock.
pub fn keystone_time(epoch: magsim_sim::time::Epoch, t: magsim_sim::time::SimTime) -> String {
    let ts = epoch.at(t);
    let secs = ts.rfc3339();
    let micros = ts.unix_millis.rem_euclid(1000) * 1000;
    format!("{}.{micros:06}Z", secs.trim_end_matches('Z'))
}

/// A stable 32-hex id for a name (endpoint, service and role ids).
pub fn hex_id(name: &str) -> String {
    let h = |salt: u8| {
        magsim_sim::ids::Fnv::new()
            .bytes(name.as_bytes())
            .byte(salt)
            .finish()
    };
    format!("{:016x}{:016x}", h(1), h(2))
}

fn audit_id(token: &str) -> String {
    // 22 url-safe characters, like keystone's base64 audit ids.
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let hex = hex_id(token);
    let mut n = u128::from_str_radix(&hex, 16).unwrap_or(0);
    (0..22)
        .map(|_| {
            let c = A[(n % 64) as usize] as char;
            n /= 64;
            c
        })
        .collect()
}

/// The service catalog: identity, container-infra (`.../v1`), orchestration
/// (`.../v1/<project>`) and compute, each with public, internal and admin endpoints in `IU`.
pub fn catalog(u: &super::Urls, project_id: &str) -> Value {
    let services = [
        ("identity", "keystone", format!("{}/v3/", u.keystone)),
        ("container-infra", "magnum", format!("{}/v1", u.magnum)),
        (
            "orchestration",
            "heat",
            format!("{}/v1/{project_id}", u.heat),
        ),
        ("compute", "nova", format!("{}/v2.1", u.nova)),
    ];
    Value::Array(
        services
            .iter()
            .map(|(kind, name, url)| {
                let endpoints: Vec<Value> = ["public", "internal", "admin"]
                    .iter()
                    .map(|i| {
                        json!({"id": hex_id(&format!("{kind}:{i}")), "interface": i, "region_id": REGION, "url": url, "region": REGION})
                    })
                    .collect();
                json!({"endpoints": endpoints, "id": hex_id(kind), "type": kind, "name": name})
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_have_microseconds_and_z() {
        let epoch = magsim_sim::time::Epoch::parse_rfc3339("2025-11-10T14:00:00Z").unwrap();
        assert_eq!(
            keystone_time(epoch, magsim_sim::time::SimTime(1500)),
            "2025-11-10T14:00:01.500000Z"
        );
    }

    #[test]
    fn ids_are_stable_hex() {
        assert_eq!(hex_id("x"), hex_id("x"));
        assert_ne!(hex_id("x"), hex_id("y"));
        assert_eq!(hex_id("x").len(), 32);
        assert_eq!(audit_id("t").len(), 22);
    }
}
