//! Redaction: the one routine that removes credentials from a [`Recording`] before it is
//! written (used by [`super::Journal::to_recording`] and by the recording proxy,
//! [`crate::record`]), and [`find_secrets`], which says whether a recording still holds any.
//!
//! What counts as a credential:
//! - headers: `X-Auth-Token`, `X-Subject-Token`, `X-Service-Token`, `Authorization`,
//!   `Proxy-Authorization`, `Cookie`, `Set-Cookie` (request headers are never recorded at all);
//! - JSON keys, at any depth, whose string value is a credential: `password`, `secret`,
//!   `token`, `trust_id`, `blob` (Keystone credentials), `private_key`, `client_key_data`, and any
//!   key ending in `_password`, `_secret`, `_token`, `trust_id` or `private_key`
//!   (camelCase keys are compared in snake_case, `-` as `_`);
//! - ids by context: `id` inside a `token` object (the `token` auth method) and inside
//!   `OS-TRUST:trust`, `trust` or a `trusts` list (trust ids);
//! - Kubernetes `Secret` objects' `data` and `stringData` values;
//! - in multi-line strings (an embedded kubeconfig or cloud-config), the value of each
//!   `key: value` or `key = value` line whose key is one of the keys above;
//! - the body of every Keystone `POST .../auth/tokens` (so any credentials get the recorded
//!   token on replay);
//! - afterwards, every occurrence of any removed value (at least [`MIN_SCRUB_LEN`] long)
//!   anywhere else in the recording: paths, queries, headers, bodies, notes.

use super::{trim, Recording, Service};
use serde_json::Value;
use std::collections::BTreeSet;

/// What secrets are replaced with.
pub const REDACTED: &str = "REDACTED";

/// Removed values shorter than this are not searched for elsewhere in the recording: a short
/// password such as `secret` would otherwise clobber ordinary words.
pub const MIN_SCRUB_LEN: usize = 8;

const SECRET_HEADERS: [&str; 7] = [
    "x-auth-token",
    "x-subject-token",
    "x-service-token",
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
];

/// Whether a header's value is a credential.
pub fn is_secret_header(name: &str) -> bool {
    SECRET_HEADERS.iter().any(|h| h.eq_ignore_ascii_case(name))
}

/// `fooBarBaz` / `foo-bar` → `foo_bar_baz` / `foo_bar`.
fn snake(key: &str) -> String {
    let mut out = String::with_capacity(key.len() + 4);
    for (i, c) in key.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 && !out.ends_with('_') {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else if c == '-' {
            out.push('_');
        } else {
            out.push(c);
        }
    }
    out
}

/// Whether a JSON key (or query parameter) holds a credential when its value is a string.
pub fn is_secret_key(key: &str) -> bool {
    let k = snake(key);
    matches!(
        k.as_str(),
        "password"
            | "passwd"
            | "secret"
            | "token"
            | "trust_id"
            | "blob"
            | "private_key"
            | "client_key_data"
    ) || ["_password", "_secret", "_token", "trust_id", "private_key"]
        .iter()
        .any(|s| k.ends_with(s))
}

/// Secrets found so far, to be scrubbed everywhere else.
#[derive(Default)]
struct Found(BTreeSet<String>);

impl Found {
    fn add(&mut self, value: &str) {
        if value.len() >= MIN_SCRUB_LEN && value != REDACTED {
            self.0.insert(value.to_string());
        }
    }

    /// A header value, and for `Bearer x` / `Basic x` also the credential alone.
    fn add_header(&mut self, value: &str) {
        self.add(value);
        if let Some((_, cred)) = value.split_once(' ') {
            self.add(cred.trim());
        }
    }

    fn scrub(&self, s: &mut String) {
        // Longest first, so a secret containing another is removed whole.
        let mut secrets: Vec<&String> = self.0.iter().collect();
        secrets.sort_by_key(|x| std::cmp::Reverse(x.len()));
        for secret in secrets {
            if s.contains(secret.as_str()) {
                *s = s.replace(secret.as_str(), REDACTED);
            }
        }
    }
}

/// Replaces `v`'s string with [`REDACTED`], remembering the old value.
fn take(v: &mut Value, found: &mut Found) {
    if let Value::String(s) = v {
        if s != REDACTED {
            found.add(s);
            *s = REDACTED.into();
        }
    }
}

/// In a multi-line string (an embedded kubeconfig, cloud-config or YAML), the value of every
/// `key: value` / `key = value` line whose key is a secret key.
fn redact_lines(s: &mut String, found: &mut Found) {
    if !s.contains('\n') {
        return;
    }
    let mut changed = false;
    let lines: Vec<String> = s
        .split('\n')
        .map(|line| {
            let Some(i) = line.find([':', '=']) else {
                return line.to_string();
            };
            let key = line[..i]
                .trim()
                .trim_start_matches("- ")
                .trim_matches(['"', '\'']);
            let value = line[i + 1..].trim().trim_matches(['"', '\'']);
            if key.is_empty() || value.is_empty() || value == REDACTED || !is_secret_key(key) {
                return line.to_string();
            }
            found.add(value);
            changed = true;
            format!("{} {REDACTED}", &line[..=i])
        })
        .collect();
    if changed {
        *s = lines.join("\n");
    }
}

/// Every string under `v` (a Secret's data values).
fn take_all(v: &mut Value, found: &mut Found) {
    match v {
        Value::String(_) => take(v, found),
        Value::Array(a) => a.iter_mut().for_each(|x| take_all(x, found)),
        Value::Object(o) => o.values_mut().for_each(|x| take_all(x, found)),
        _ => {}
    }
}

/// Key- and context-based redaction of one JSON value; `parent` is the key `v` sits under.
fn redact_value(v: &mut Value, parent: Option<&str>, found: &mut Found) {
    match v {
        Value::String(text) => redact_lines(text, found),
        Value::Array(a) => a.iter_mut().for_each(|x| {
            // Items of a `trusts` list are trusts.
            let p = (parent == Some("trusts")).then_some("trust");
            redact_value(x, p, found)
        }),
        Value::Object(o) => {
            let id_is_secret = matches!(parent, Some("token" | "OS-TRUST:trust" | "trust"));
            let is_secret_object = o.get("kind").and_then(Value::as_str) == Some("Secret");
            let is_secret_list = o.get("kind").and_then(Value::as_str) == Some("SecretList");
            for (k, x) in o.iter_mut() {
                if (id_is_secret && k == "id") || (x.is_string() && is_secret_key(k)) {
                    take(x, found);
                } else if let Value::String(text) = x {
                    redact_lines(text, found);
                } else if is_secret_object && matches!(k.as_str(), "data" | "stringData") {
                    take_all(x, found);
                } else if is_secret_list && k == "items" {
                    if let Value::Array(items) = x {
                        for item in items.iter_mut().filter_map(Value::as_object_mut) {
                            for (ik, iv) in item.iter_mut() {
                                if matches!(ik.as_str(), "data" | "stringData") {
                                    take_all(iv, found);
                                }
                            }
                        }
                    }
                    redact_value(x, Some(k), found);
                } else {
                    redact_value(x, Some(k), found);
                }
            }
        }
        _ => {}
    }
}

fn scrub_value(v: &mut Value, found: &Found) {
    match v {
        Value::String(s) => found.scrub(s),
        Value::Array(a) => a.iter_mut().for_each(|x| scrub_value(x, found)),
        Value::Object(o) => o.values_mut().for_each(|x| scrub_value(x, found)),
        _ => {}
    }
}

/// Whether an exchange is a Keystone token request (its body holds credentials).
fn is_token_request(e: &super::Exchange) -> bool {
    e.service == Service::Identity && trim(&e.request.path).ends_with("/auth/tokens")
}

/// Removes credentials before a recording touches disk (see the module documentation for the
/// list). Values removed are also searched for, and replaced, everywhere else.
pub fn redact(rec: &mut Recording) {
    redact_with(rec, &[]);
}

/// [`redact`], also scrubbing `known` secrets (such as request `X-Auth-Token` values, which a
/// recording does not hold but a response might echo) wherever they appear.
pub fn redact_with(rec: &mut Recording, known: &[String]) {
    let mut found = Found::default();
    for k in known {
        found.add_header(k);
    }
    for e in &mut rec.exchanges {
        if is_token_request(e) {
            if let Some(mut b) = e.request.body.take() {
                redact_value(&mut b, None, &mut found);
            }
        }
        if let Some(b) = e.request.body.as_mut() {
            redact_value(b, None, &mut found);
        }
        if let Some(q) = e.request.query.as_mut() {
            for (k, v) in q.iter_mut() {
                if is_secret_key(k) && v != REDACTED {
                    found.add(v);
                    *v = REDACTED.into();
                }
            }
        }
        for (k, v) in e.response.headers.iter_mut() {
            if is_secret_header(k) && v != REDACTED {
                found.add_header(v);
                *v = REDACTED.into();
            }
        }
        if let Some(b) = e.response.body.as_mut() {
            redact_value(b, None, &mut found);
        }
        // A body kept byte for byte is redacted as JSON when it is JSON and holds a secret
        // (its exact bytes are lost then, never the secret kept).
        if let Some(text) = &e.response.body_text {
            if let Ok(mut v) = serde_json::from_str::<Value>(text) {
                let before = v.clone();
                redact_value(&mut v, None, &mut found);
                if v != before {
                    e.response.body = Some(v);
                    e.response.body_text = None;
                }
            }
        }
    }
    if found.0.is_empty() {
        return;
    }
    if let Some(d) = rec.description.as_mut() {
        found.scrub(d);
    }
    for e in &mut rec.exchanges {
        if let Some(n) = e.note.as_mut() {
            found.scrub(n);
        }
        found.scrub(&mut e.request.path);
        if let Some(q) = e.request.query.as_mut() {
            for v in q.values_mut() {
                found.scrub(v);
            }
        }
        if let Some(b) = e.request.body.as_mut() {
            scrub_value(b, &found);
        }
        for v in e.response.headers.values_mut() {
            found.scrub(v);
        }
        if let Some(b) = e.response.body.as_mut() {
            scrub_value(b, &found);
        }
        if let Some(t) = e.response.body_text.as_mut() {
            found.scrub(t);
        }
    }
}

/// A token-looking or key-looking piece of `text`, if any: a Fernet token (`gAAAAA` and 40 or
/// more URL-safe base64 characters), a JSON Web Token (service-account tokens), a PEM private
/// key, or a `Bearer` credential other than [`REDACTED`].
pub fn token_like(text: &str) -> Option<String> {
    let b64 = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '=';
    for (i, _) in text.match_indices("gAAAAA") {
        let run: String = text[i..].chars().take_while(|c| b64(*c)).collect();
        if run.len() >= 46 {
            return Some(format!("Fernet token {}...", &run[..12]));
        }
    }
    for (i, _) in text.match_indices("eyJ") {
        let run: String = text[i..]
            .chars()
            .take_while(|c| b64(*c) || *c == '.')
            .collect();
        let parts: Vec<&str> = run.split('.').collect();
        if parts.len() == 3 && parts.iter().all(|p| p.len() >= 8) {
            return Some(format!("JSON Web Token {}...", &run[..12]));
        }
    }
    if let Some(i) = text.find("PRIVATE KEY-----") {
        return Some(format!(
            "PEM private key at byte {}",
            text[..i].rfind("-----BEGIN").unwrap_or(i)
        ));
    }
    for (i, m) in text.match_indices("Bearer ") {
        let cred: String = text[i + m.len()..]
            .chars()
            .take_while(|c| b64(*c) || *c == '.')
            .collect();
        if !cred.is_empty() && cred != REDACTED {
            return Some(format!("Bearer credential at byte {i}"));
        }
    }
    None
}

/// What in `rec` is still a credential: each exchange that [`redact`] would change, and each
/// token-looking value ([`token_like`]); empty when the recording is clean.
pub fn find_secrets(rec: &Recording) -> Vec<String> {
    let mut again = rec.clone();
    redact(&mut again);
    let mut problems = Vec::new();
    if again.description != rec.description {
        problems.push("the description holds a credential".to_string());
    }
    for (i, (e, r)) in rec.exchanges.iter().zip(&again.exchanges).enumerate() {
        let what = format!("exchange {i} ({} {})", e.request.method, e.request.path);
        if is_token_request(e) && e.request.body.is_some() {
            problems.push(format!(
                "{what}: a token request keeps its body (credentials)"
            ));
        } else if e != r {
            problems.push(format!("{what}: holds a credential that redaction removes"));
        }
        let text = serde_json::to_string(e).unwrap_or_default();
        if let Some(t) = token_like(&text) {
            problems.push(format!("{what}: {t}"));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replay::{Exchange, RecordedResponse, RequestMatcher};
    use serde_json::json;

    fn exchange(service: Service, method: &str, path: &str) -> Exchange {
        Exchange {
            service,
            note: None,
            request: RequestMatcher {
                method: method.into(),
                path: path.into(),
                query: None,
                body: None,
            },
            response: RecordedResponse {
                status: 200,
                headers: Default::default(),
                body: None,
                body_text: None,
            },
        }
    }

    fn recording(exchanges: Vec<Exchange>) -> Recording {
        Recording {
            description: None,
            exchanges,
        }
    }

    const FERNET: &str = "gAAAAABpXkZ3Qm9xR1l6d0VfN2FjYnF4dGx0ZWhLb0xqT0pQcEpXa2x5dUZkQ3Z";

    #[test]
    fn token_request_bodies_and_subject_tokens_go() {
        let mut e = exchange(Service::Identity, "POST", "/identity/v3/auth/tokens/");
        e.request.body = Some(json!({"auth": {"identity": {"methods": ["password"],
            "password": {"user": {"name": "demo", "password": "hunter2-long-pass"}}}}}));
        e.response
            .headers
            .insert("X-Subject-Token".into(), FERNET.into());
        e.response.body = Some(json!({"token": {"methods": ["password"]}}));
        let mut rec = recording(vec![e]);
        assert!(!find_secrets(&rec).is_empty());
        redact(&mut rec);
        assert_eq!(rec.exchanges[0].request.body, None);
        assert_eq!(
            rec.exchanges[0].response.headers["X-Subject-Token"],
            REDACTED
        );
        assert!(find_secrets(&rec).is_empty(), "{:?}", find_secrets(&rec));
    }

    #[test]
    fn request_auth_tokens_given_as_known_are_scrubbed_everywhere() {
        let mut e = exchange(Service::ContainerInfra, "GET", "/v1/clusters");
        e.response.body = Some(json!({"echo": format!("token was {FERNET}")}));
        e.response.body_text = None;
        let mut rec = recording(vec![e]);
        redact_with(&mut rec, &[FERNET.to_string()]);
        let text = rec.to_json();
        assert!(!text.contains(FERNET), "{text}");
        assert!(text.contains("token was REDACTED"));
    }

    #[test]
    fn x_auth_token_and_authorization_response_headers_go() {
        let mut e = exchange(Service::Kubernetes, "GET", "/api");
        e.response
            .headers
            .insert("X-Auth-Token".into(), "abcdefgh12345678".into());
        e.response.headers.insert(
            "Authorization".into(),
            "Bearer eyJhbGciOiJSUzI1NiJ9.e30.c2ln".into(),
        );
        e.response.body_text = Some("you sent eyJhbGciOiJSUzI1NiJ9.e30.c2ln".into());
        let mut rec = recording(vec![e]);
        redact(&mut rec);
        let r = &rec.exchanges[0].response;
        assert_eq!(r.headers["X-Auth-Token"], REDACTED);
        assert_eq!(r.headers["Authorization"], REDACTED);
        assert_eq!(r.body_text.as_deref(), Some("you sent REDACTED"));
    }

    #[test]
    fn token_ids_in_bodies_go() {
        let mut e = exchange(Service::Identity, "POST", "/v3/OS-TRUST/trusts");
        e.request.body =
            Some(json!({"auth": {"identity": {"methods": ["token"], "token": {"id": FERNET}}}}));
        let mut rec = recording(vec![e]);
        redact(&mut rec);
        assert_eq!(
            rec.exchanges[0].request.body.as_ref().unwrap()["auth"]["identity"]["token"]["id"],
            REDACTED
        );
    }

    #[test]
    fn passwords_go_at_any_depth_and_spelling() {
        let mut e = exchange(Service::Orchestration, "GET", "/v1/p/stacks/k8s/abc");
        e.response.body = Some(json!({"stack": {"parameters": {
            "trustee_password": "Tru5teePassw0rd",
            "admin_password": "x",
            "password_expires_at": null,
            "keypair": "mykey",
        }}}));
        let mut rec = recording(vec![e]);
        redact(&mut rec);
        let p = &rec.exchanges[0].response.body.as_ref().unwrap()["stack"]["parameters"];
        assert_eq!(p["trustee_password"], REDACTED);
        assert_eq!(p["admin_password"], REDACTED);
        assert_eq!(p["password_expires_at"], Value::Null);
        assert_eq!(p["keypair"], "mykey");
    }

    #[test]
    fn application_credential_secrets_go() {
        let mut e = exchange(
            Service::Identity,
            "POST",
            "/v3/users/u/application_credentials",
        );
        e.request.body =
            Some(json!({"application_credential": {"name": "k8s", "secret": "rEaqvJka48mpv"}}));
        e.response.body = Some(
            json!({"application_credential": {"id": "423f", "name": "k8s", "secret": "rEaqvJka48mpv"}}),
        );
        e.note = Some("created with secret rEaqvJka48mpv".into());
        let mut rec = recording(vec![e]);
        redact(&mut rec);
        let text = rec.to_json();
        assert!(!text.contains("rEaqvJka48mpv"), "{text}");
        assert_eq!(
            rec.exchanges[0].response.body.as_ref().unwrap()["application_credential"]["id"],
            "423f",
            "ids of application credentials are not secrets"
        );
    }

    #[test]
    fn trust_ids_go() {
        let trust = "0a1b2c3d4e5f40718293a4b5c6d7e8f9";
        let mut e = exchange(Service::Identity, "POST", "/v3/auth/tokens");
        e.response.body =
            Some(json!({"token": {"OS-TRUST:trust": {"id": trust, "impersonation": true}}}));
        let mut list = exchange(Service::Identity, "GET", "/v3/OS-TRUST/trusts");
        list.response.body = Some(json!({"trusts": [{"id": trust, "project_id": "p"}]}));
        let mut get = exchange(
            Service::Identity,
            "GET",
            &format!("/v3/OS-TRUST/trusts/{trust}"),
        );
        get.response.body = Some(json!({"trust": {"id": trust}}));
        let mut heat = exchange(Service::Orchestration, "GET", "/v1/p/stacks/s");
        heat.response.body = Some(json!({"stack": {"parameters": {"trust_id": trust}}}));
        let mut rec = recording(vec![e, list, get, heat]);
        assert_eq!(find_secrets(&rec).len(), 4, "{:?}", find_secrets(&rec));
        redact(&mut rec);
        assert!(!rec.to_json().contains(trust));
        assert_eq!(
            rec.exchanges[2].request.path,
            "/v3/OS-TRUST/trusts/REDACTED"
        );
        assert!(find_secrets(&rec).is_empty());
    }

    #[test]
    fn kubernetes_secrets_and_kubeconfig_credentials_go() {
        let mut s = exchange(Service::Kubernetes, "GET", "/api/v1/namespaces/d/secrets/x");
        s.response.body = Some(json!({"kind": "Secret", "apiVersion": "v1",
            "metadata": {"name": "x"}, "data": {"cloud-config": "W0dsb2JhbF0K"}, "type": "Opaque"}));
        let mut list = exchange(Service::Kubernetes, "GET", "/api/v1/secrets");
        list.response.body = Some(json!({"kind": "SecretList",
            "items": [{"metadata": {"name": "y"}, "data": {"ca.crt": "LS0tLS1CRUdJTg=="}}]}));
        let mut cfg = exchange(
            Service::Kubernetes,
            "GET",
            "/api/v1/namespaces/d/configmaps/k",
        );
        cfg.response.body = Some(
            json!({"users": [{"user": {"token": "kube-bearer-0123456789",
            "client-key-data": "LS0tLS1CRUdJTiBSU0E=", "clientCertificateData": "cert"}}]}),
        );
        let mut rec = recording(vec![s, list, cfg]);
        redact(&mut rec);
        let b = |i: usize| rec.exchanges[i].response.body.clone().unwrap();
        assert_eq!(b(0)["data"]["cloud-config"], REDACTED);
        assert_eq!(b(0)["metadata"]["name"], "x");
        assert_eq!(b(1)["items"][0]["data"]["ca.crt"], REDACTED);
        assert_eq!(b(2)["users"][0]["user"]["token"], REDACTED);
        assert_eq!(b(2)["users"][0]["user"]["client-key-data"], REDACTED);
        assert_eq!(b(2)["users"][0]["user"]["clientCertificateData"], "cert");
    }

    #[test]
    fn kubeconfigs_and_cloud_configs_inside_strings_are_redacted_by_line() {
        let mut e = exchange(
            Service::Kubernetes,
            "GET",
            "/api/v1/namespaces/kube-public/configmaps/c",
        );
        e.response.body = Some(json!({"kind": "ConfigMap", "data": {
            "kubeconfig": "users:\n- name: admin\n  user:\n    token: kube-admin-token-123456\n    client-key-data: LS0tLS1CRUdJTiBSU0EK\n",
            "cloud-config": "[Global]\nauth-url=https://js2:5000/v3\napplication-credential-secret = rEaqvJka48mpv\n",
            "note": "password: single lines are left alone",
        }}));
        let mut rec = recording(vec![e]);
        redact(&mut rec);
        let d = &rec.exchanges[0].response.body.as_ref().unwrap()["data"];
        assert_eq!(
            d["kubeconfig"],
            "users:\n- name: admin\n  user:\n    token: REDACTED\n    client-key-data: REDACTED\n"
        );
        assert_eq!(
            d["cloud-config"],
            "[Global]\nauth-url=https://js2:5000/v3\napplication-credential-secret = REDACTED\n"
        );
        assert_eq!(d["note"], "password: single lines are left alone");
    }

    #[test]
    fn json_kept_as_text_is_redacted_as_json() {
        let mut e = exchange(Service::Kubernetes, "GET", "/x");
        e.response.body_text = Some("{\"token\":\"abcdefghijkl\"}\n".into());
        let mut plain = exchange(Service::Kubernetes, "GET", "/y");
        plain.response.body_text = Some("{\"kind\":\"Status\"}\n".into());
        let mut rec = recording(vec![e, plain]);
        redact(&mut rec);
        assert_eq!(rec.exchanges[0].response.body_text, None);
        assert_eq!(
            rec.exchanges[0].response.body,
            Some(json!({"token": REDACTED}))
        );
        assert_eq!(
            rec.exchanges[1].response.body_text.as_deref(),
            Some("{\"kind\":\"Status\"}\n"),
            "a body without secrets keeps its bytes"
        );
    }

    #[test]
    fn secret_query_parameters_go() {
        let mut e = exchange(Service::Kubernetes, "GET", "/x");
        e.request.query = Some([("access_token".to_string(), "qwertyuiop".to_string())].into());
        let mut rec = recording(vec![e]);
        redact(&mut rec);
        assert_eq!(
            rec.exchanges[0].request.query.as_ref().unwrap()["access_token"],
            REDACTED
        );
    }

    #[test]
    fn token_like_finds_fernet_pem_and_bearer() {
        assert!(token_like(&format!("x {FERNET} y")).is_some());
        assert!(token_like("-----BEGIN RSA PRIVATE KEY-----\nMII").is_some());
        assert!(token_like(
            "\"eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ.eyJpc3MiOiJrdWJlcm5ldGVzIn0.c2lnbmF0dXJlLXNpZw\""
        )
        .is_some());
        assert_eq!(token_like("eyJhbGciOiJIUzI1NiJ9 alone"), None);
        assert!(token_like("Authorization: Bearer abc.def").is_some());
        assert_eq!(token_like("Bearer REDACTED; gAAAAABredacted"), None);
        assert_eq!(token_like("-----BEGIN CERTIFICATE-----"), None);
    }

    #[test]
    fn keys_are_compared_in_snake_case() {
        for k in [
            "password",
            "userPassword",
            "client-key-data",
            "bearerToken",
            "trust_id",
            "trustId",
            "OS-TRUST:trust_id",
            "clientSecret",
        ] {
            assert!(is_secret_key(k), "{k}");
        }
        for k in [
            "password_expires_at",
            "keypair",
            "id",
            "name",
            "secretName",
            "serviceAccountName",
            "public_key",
        ] {
            assert!(!is_secret_key(k), "{k}");
        }
    }
}
