//! Redaction: the one routine that removes credentials from a [`Recording`] before it is
//! written (used by [`super::Journal::to_recording`] and by the recording proxy,
//! [`crate::record`]), and [`find_secrets`], which says whether a recording still holds any.
//!
//! What counts as a credential:
//! - headers: `X-Auth-Token`, `X-Subject-Token`, `X-Service-Token`, `Authorization`,
//!   `Proxy-Authorization`, `Cookie`, `Set-Cookie` (request headers are never recorded at all);
//! - keys naming a credential ([`is_secret_key`]), compared as words ([`key_words`]: case,
//!   `_`, `-`, `.` and camelCase do not matter, so `OS_PASSWORD` = `osPassword`): a last word
//!   `password`, `passwd`, `passphrase`, `secret`, `token`, `authorization`, `cookie`,
//!   `credential(s)` (or a word ending in one: `adminpassword`), `private_key`, `client_key`,
//!   `client_key_data`, `api_key`, `access_key`, `secret_key`, `trust_id`, ..., and `blob`
//!   (Keystone credentials). JSON keys at any depth (string or number values), query
//!   parameters and response headers;
//! - ids by context: `id` inside a `token` object (the `token` auth method) and inside
//!   `OS-TRUST:trust`, `trust` or a `trusts` list (trust ids);
//! - Kubernetes `Secret` objects' `data` and `stringData` values;
//! - env-style pairs: `value` beside a `name` (or `key`) that is a secret name, in JSON and in
//!   text (`valueFrom` is a reference and stays);
//! - argument lists: the item after a secret-named flag (`["--os-password", "..."]`);
//! - inside every string (ConfigMap data, event messages, args, scripts, notes, plain-text
//!   bodies): JSON embedded in it, redacted as JSON; else `[export ]KEY=value` and
//!   `--flag=value` (to the next blank), `key: value` and `key = value` (to the end of the
//!   line), `--flag value` and YAML block scalars, wherever the key is a secret name;
//! - the body of every Keystone `POST .../auth/tokens` (so any credentials get the recorded
//!   token on replay);
//! - afterwards, every occurrence of any removed value (at least [`MIN_SCRUB_LEN`] long)
//!   anywhere else in the recording: paths, queries, headers, bodies, notes.

use super::Recording;
use crate::journal::trim;
use crate::Service;
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

/// Whether a header's value is a credential (the list above, or a secret-named header such
/// as `X-Registry-Token`).
pub fn is_secret_header(name: &str) -> bool {
    SECRET_HEADERS.iter().any(|h| h.eq_ignore_ascii_case(name)) || is_secret_key(name)
}

/// The lower-case words of a key: split at every non-alphanumeric character and at camelCase
/// boundaries, an upper-case run being one word, so `OS_PASSWORD`, `os-password`,
/// `osPassword` and `OSPassword` all give `[os, password]`.
pub fn key_words(key: &str) -> Vec<String> {
    let mut words = Vec::new();
    for part in key.split(|c: char| !c.is_ascii_alphanumeric()) {
        let c: Vec<char> = part.chars().collect();
        let mut word = String::new();
        for i in 0..c.len() {
            let prev = i.checked_sub(1).map(|p| c[p]);
            let next = c.get(i + 1);
            let boundary = c[i].is_ascii_uppercase()
                && prev.is_some_and(|p| {
                    p.is_ascii_lowercase()
                        || p.is_ascii_digit()
                        || (p.is_ascii_uppercase() && next.is_some_and(|n| n.is_ascii_lowercase()))
                });
            if boundary && !word.is_empty() {
                words.push(std::mem::take(&mut word));
            }
            word.push(c[i].to_ascii_lowercase());
        }
        if !word.is_empty() {
            words.push(word);
        }
    }
    words
}

/// Last words naming a credential; a last word merely ending in one (`adminpassword`) counts
/// too, whole words only (`tokenizer`, `passwordless` and `password_expires_at` do not).
const SECRET_WORDS: [&str; 10] = [
    "password",
    "passwd",
    "passphrase",
    "secret",
    "token",
    "authorization",
    "cookie",
    "credential",
    "credentials",
    "apikey",
];

/// Last two words naming a credential (`client_key_data` is `client` + these).
const SECRET_PAIRS: [[&str; 2]; 9] = [
    ["private", "key"],
    ["client", "key"],
    ["api", "key"],
    ["access", "key"],
    ["secret", "key"],
    ["signing", "key"],
    ["encryption", "key"],
    ["session", "key"],
    ["trust", "id"],
];

/// Whether a key (JSON key, query parameter, environment variable, flag, header or
/// `key: value` name) names a credential. Compared by [`key_words`], so case, `_`, `-` and
/// camelCase do not matter.
pub fn is_secret_key(key: &str) -> bool {
    let w = key_words(key);
    let Some(last) = w.last().map(String::as_str) else {
        return false;
    };
    let n = w.len();
    let pair = |a: &str, b: &str| n >= 2 && w[n - 2] == a && last == b;
    SECRET_WORDS.iter().any(|s| last.ends_with(s))
        || last.ends_with("privatekey")
        || SECRET_PAIRS.iter().any(|[a, b]| pair(a, b))
        || (n >= 3 && w[n - 3] == "client" && pair("key", "data"))
        || (n == 1 && last == "blob")
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

/// Values that are never credentials (`automountServiceAccountToken: false`).
fn is_plain_value(v: &str) -> bool {
    v.is_empty() || v == REDACTED || matches!(v, "true" | "false" | "null" | "~")
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.')
}

fn skip_blanks(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && matches!(b[i], b' ' | b'\t') {
        i += 1;
    }
    i
}

fn line_end(b: &[u8], i: usize) -> usize {
    b[i..]
        .iter()
        .position(|c| *c == b'\n')
        .map_or(b.len(), |p| i + p)
}

/// The value starting at `i`: inside quotes if quoted (to the end of the line when the quote
/// never closes), else to the end of the line (`rest`) or to the first blank, `&` or quote.
fn value_span(b: &[u8], i: usize, rest: bool) -> (usize, usize) {
    let eol = line_end(b, i);
    if let Some(q @ (b'"' | b'\'')) = b.get(i).copied() {
        let mut j = i + 1;
        while j < eol && b[j] != q {
            j += if b[j] == b'\\' { 2 } else { 1 };
        }
        return (i + 1, j.min(eol));
    }
    if rest {
        let mut end = eol;
        while end > i && b[end - 1].is_ascii_whitespace() {
            end -= 1;
        }
        return (i, end);
    }
    let mut j = i;
    while j < eol && !matches!(b[j], b' ' | b'\t' | b'\r' | b'&' | b'"' | b'\'') {
        j += if b[j] == b'\\' { 2 } else { 1 };
    }
    (i, j.min(eol))
}

/// Indentation of the line holding byte `i`.
fn indent_of(b: &[u8], i: usize) -> usize {
    let start = b[..i]
        .iter()
        .rposition(|c| *c == b'\n')
        .map_or(0, |p| p + 1);
    skip_blanks(b, start) - start
}

/// After a `key: |` (or `key:` alone) line ending at `eol`: the span of the following lines
/// indented deeper than `indent`, when they are a scalar (`block`) or one plain scalar line.
fn nested_span(b: &[u8], eol: usize, indent: usize, block: bool) -> Option<(usize, usize)> {
    let mut i = eol + 1;
    let mut span: Option<(usize, usize)> = None;
    while i < b.len() {
        let end = line_end(b, i);
        let text = skip_blanks(b, i);
        let blank = b[text..end].iter().all(u8::is_ascii_whitespace);
        if !blank && text - i <= indent {
            break;
        }
        if !blank {
            if !block {
                let line = &b[text..end];
                let mapping = line.windows(2).any(|w| w == b": ") || line.ends_with(b":");
                if mapping || line.starts_with(b"- ") {
                    return None;
                }
            }
            span = Some((span.map_or(text, |s| s.0), end));
            if !block {
                break;
            }
        }
        i = end + 1;
    }
    span
}

/// Redacts credentials inside free text (ConfigMap data, event messages, container args,
/// scripts, logs): `[export ]KEY=value`, `key: value`, `key = value` (to the end of the line),
/// `--flag=value`, `--flag value`, YAML block scalars, and an env-style `name: KEY` followed by
/// `value: ...`, wherever KEY is a secret name ([`is_secret_key`]). `None` when unchanged.
fn redact_text(s: &str, found: &mut Found) -> Option<String> {
    let b = s.as_bytes();
    let mut out = String::new();
    let mut copied = 0;
    let mut replace = |from: usize, to: usize, found: &mut Found, out: &mut String| {
        found.add(&s[from..to]);
        out.push_str(&s[copied..from]);
        out.push_str(REDACTED);
        copied = to;
    };
    // The previous pair was `name: <secret name>` (an env var), so `value` is a secret.
    let mut env_pending = false;
    let mut i = 0;
    while i < b.len() {
        if !is_name_byte(b[i]) || (i > 0 && is_name_byte(b[i - 1])) {
            i += 1;
            continue;
        }
        let start = i;
        let mut end = i;
        while end < b.len() && is_name_byte(b[end]) {
            end += 1;
        }
        let name = &s[start..end];
        let mut j = end;
        // A quoted name (`"password":`), also escaped (`\"password\":`).
        if start > 0 && matches!(b[start - 1], b'"' | b'\'') {
            if b.get(j) == Some(&b[start - 1]) {
                j += 1;
            } else if b.get(j) == Some(&b'\\') && b.get(j + 1) == Some(&b[start - 1]) {
                j += 2;
            }
        }
        let k = skip_blanks(b, j);
        let secret_name = is_secret_key(name);
        if let Some(sep @ (b'=' | b':')) = b.get(k).copied() {
            let v0 = skip_blanks(b, k + 1);
            let spaced = k > j || v0 > k + 1;
            let (vs, ve) = value_span(b, v0, spaced);
            let value = &s[vs..ve];
            let secret = secret_name || (env_pending && name.eq_ignore_ascii_case("value"));
            env_pending = (name.eq_ignore_ascii_case("name") || name.eq_ignore_ascii_case("key"))
                && is_secret_key(value);
            if secret && sep == b':' && (value.starts_with('{') || value.starts_with('[')) {
                // A nested structure: its own keys are scanned.
                i = end;
                continue;
            }
            let block = value.starts_with('|') || value.starts_with('>');
            if secret && sep == b':' && (block || value.is_empty()) {
                let eol = line_end(b, v0);
                if let Some((from, to)) = nested_span(b, eol, indent_of(b, start), block) {
                    if s[from..to].trim() != REDACTED {
                        replace(from, to, found, &mut out);
                    }
                    i = to;
                    continue;
                }
                i = end;
                continue;
            }
            if secret && !is_plain_value(value) {
                replace(vs, ve, found, &mut out);
                i = ve;
                continue;
            }
            i = end;
            continue;
        }
        // `--password value` (also across a `\` line continuation).
        if secret_name && name.starts_with('-') && k > j {
            let mut v0 = k;
            if b.get(v0) == Some(&b'\\') && b.get(v0 + 1) == Some(&b'\n') {
                v0 = skip_blanks(b, v0 + 2);
            }
            let (vs, ve) = value_span(b, v0, false);
            let value = &s[vs..ve];
            if !value.starts_with("--") && !is_plain_value(value) {
                replace(vs, ve, found, &mut out);
                i = ve;
                continue;
            }
        }
        i = end;
    }
    if copied == 0 {
        return None;
    }
    out.push_str(&s[copied..]);
    Some(out)
}

/// Redacts a string in place: JSON embedded in it (`last-applied-configuration`) as JSON,
/// anything else as text ([`redact_text`]).
fn redact_string(s: &mut String, found: &mut Found) {
    let t = s.trim_start();
    if t.starts_with('{') || t.starts_with('[') {
        if let Ok(mut v) = serde_json::from_str::<Value>(s) {
            let before = v.clone();
            redact_value(&mut v, None, found);
            if v != before {
                let newline = if s.ends_with('\n') { "\n" } else { "" };
                *s = format!("{v}{newline}");
            }
            return;
        }
    }
    if let Some(r) = redact_text(s, found) {
        *s = r;
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

/// Whether an argument is a secret-named flag whose value is the next argument
/// (`["--os-password", "..."]`).
fn is_secret_flag(arg: &str) -> bool {
    arg.starts_with('-') && !arg.contains('=') && is_secret_key(arg)
}

/// Key- and context-based redaction of one JSON value; `parent` is the key `v` sits under.
fn redact_value(v: &mut Value, parent: Option<&str>, found: &mut Found) {
    match v {
        Value::String(text) => redact_string(text, found),
        Value::Array(a) => {
            for i in 1..a.len() {
                let flag = a[i - 1].as_str().is_some_and(is_secret_flag);
                if flag && a[i].as_str().is_some_and(|x| !x.starts_with("--")) {
                    take(&mut a[i], found);
                }
            }
            a.iter_mut().for_each(|x| {
                // Items of a `trusts` list are trusts.
                let p = (parent == Some("trusts")).then_some("trust");
                redact_value(x, p, found)
            })
        }
        Value::Object(o) => {
            let id_is_secret = matches!(parent, Some("token" | "OS-TRUST:trust" | "trust"));
            let is_secret_object = o.get("kind").and_then(Value::as_str) == Some("Secret");
            let is_secret_list = o.get("kind").and_then(Value::as_str) == Some("SecretList");
            // An env-style pair: `{"name": "OS_PASSWORD", "value": "..."}` (`valueFrom` is a
            // reference, not the secret).
            let env_secret = ["name", "key"]
                .iter()
                .any(|k| o.get(*k).and_then(Value::as_str).is_some_and(is_secret_key));
            for (k, x) in o.iter_mut() {
                let secret_key = is_secret_key(k);
                if (id_is_secret && k == "id")
                    || (x.is_string() && secret_key)
                    || (env_secret && k == "value" && x.is_string())
                {
                    take(x, found);
                } else if secret_key && x.is_number() {
                    // A numeric PIN or password is a credential too.
                    found.add(&x.to_string());
                    *x = Value::String(REDACTED.into());
                } else if let Value::String(text) = x {
                    redact_string(text, found);
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
    if let Some(d) = rec.description.as_mut() {
        redact_string(d, &mut found);
    }
    for e in &mut rec.exchanges {
        if let Some(n) = e.note.as_mut() {
            redact_string(n, &mut found);
        }
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
                } else {
                    redact_string(v, &mut found);
                }
            }
        }
        for (k, v) in e.response.headers.iter_mut() {
            if is_secret_header(k) && v != REDACTED {
                found.add_header(v);
                *v = REDACTED.into();
            } else if let Some(r) = redact_text(v, &mut found) {
                *v = r;
            }
        }
        if let Some(b) = e.response.body.as_mut() {
            redact_value(b, None, &mut found);
        }
        // A body kept byte for byte is redacted as JSON when it is JSON and holds a secret
        // (its exact bytes are lost then, never the secret kept).
        if let Some(text) = e.response.body_text.as_mut() {
            if let Ok(mut v) = serde_json::from_str::<Value>(text) {
                let before = v.clone();
                redact_value(&mut v, None, &mut found);
                if v != before {
                    e.response.body = Some(v);
                    e.response.body_text = None;
                }
            } else if let Some(r) = redact_text(text, &mut found) {
                // Logs and other plain text.
                *text = r;
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
    use crate::recording::{Exchange, RecordedResponse, RequestMatcher};
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
            "note": "password: single lines too",
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
        assert_eq!(d["note"], "password: REDACTED");
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

    /// `text` as a ConfigMap value, redacted.
    fn redacted_text(text: &str) -> String {
        let mut e = exchange(Service::Kubernetes, "GET", "/api/v1/configmaps");
        e.response.body = Some(json!({"kind": "ConfigMap", "data": {"x": text}}));
        let mut rec = recording(vec![e]);
        assert!(!find_secrets(&rec).is_empty(), "not flagged: {text:?}");
        redact(&mut rec);
        assert!(find_secrets(&rec).is_empty(), "{:?}", find_secrets(&rec));
        rec.exchanges[0].response.body.as_ref().unwrap()["data"]["x"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// `text` as a ConfigMap value: unchanged by redaction and not flagged.
    fn kept(text: &str) {
        let mut e = exchange(Service::Kubernetes, "GET", "/api/v1/configmaps");
        e.response.body = Some(json!({"kind": "ConfigMap", "data": {"x": text}}));
        let rec = recording(vec![e]);
        assert!(
            find_secrets(&rec).is_empty(),
            "{text:?}: {:?}",
            find_secrets(&rec)
        );
    }

    #[test]
    fn keys_split_into_words_whatever_the_spelling() {
        for k in [
            "OS_PASSWORD",
            "os-password",
            "osPassword",
            "OSPassword",
            "os.password",
        ] {
            assert_eq!(key_words(k), ["os", "password"], "{k}");
        }
        assert_eq!(key_words("X-Auth-Token"), ["x", "auth", "token"]);
        assert_eq!(key_words("client-key-data"), ["client", "key", "data"]);
        assert_eq!(key_words("v3Token"), ["v3", "token"]);
        assert_eq!(key_words("TOKEN"), ["token"]);
    }

    #[test]
    fn upper_case_and_header_style_keys_are_secret() {
        for k in [
            "OS_PASSWORD",
            "OS_APPLICATION_CREDENTIAL_SECRET",
            "applicationCredentialSecret",
            "application_credential_secret",
            "TOKEN",
            "token",
            "secret",
            "X-Auth-Token",
            "X-Subject-Token",
            "OS_TOKEN",
            "OS_TRUST_ID",
            "adminpassword",
            "ssh_private_key",
            "privateKey",
            "client-key-data",
            "clientKeyData",
            "--os-password",
            "AWS_SECRET_ACCESS_KEY",
            "api-key",
        ] {
            assert!(is_secret_key(k), "{k}");
        }
        for k in [
            "OS_AUTH_URL",
            "OS_REGION_NAME",
            "OS_USERNAME",
            "OS_APPLICATION_CREDENTIAL_ID",
            "node_count",
            "tokenizer",
            "passwordless",
            "password_expires_at",
            "secretName",
            "token_file",
            "--token-file",
            "client-certificate-data",
            "",
        ] {
            assert!(!is_secret_key(k), "{k}");
        }
    }

    #[test]
    fn upper_case_config_map_keys_go() {
        let mut e = exchange(
            Service::Kubernetes,
            "GET",
            "/api/v1/namespaces/d/configmaps/c",
        );
        e.response.body = Some(json!({"kind": "ConfigMap", "data": {
            "OS_PASSWORD": "pw-0123456789",
            "OS_APPLICATION_CREDENTIAL_SECRET": "acs-0123456789",
            "TOKEN": "tok-0123456789",
            "OS_AUTH_URL": "https://js2:5000/v3",
            "OS_REGION_NAME": "IU",
            "node_count": "3",
        }}));
        let mut rec = recording(vec![e]);
        assert_eq!(find_secrets(&rec).len(), 1, "{:?}", find_secrets(&rec));
        redact(&mut rec);
        let d = &rec.exchanges[0].response.body.as_ref().unwrap()["data"];
        for k in ["OS_PASSWORD", "OS_APPLICATION_CREDENTIAL_SECRET", "TOKEN"] {
            assert_eq!(d[k], REDACTED, "{k}");
        }
        assert_eq!(d["OS_AUTH_URL"], "https://js2:5000/v3");
        assert_eq!(d["OS_REGION_NAME"], "IU");
        assert_eq!(d["node_count"], "3");
    }

    #[test]
    fn openrc_export_lines_go() {
        assert_eq!(
            redacted_text(
                "#!/bin/sh\nexport OS_AUTH_URL=https://js2:5000/v3\nexport OS_PASSWORD=hunter2-xyz\nexport OS_REGION_NAME=IU\nexport OS_APPLICATION_CREDENTIAL_SECRET='a b c'\n"
            ),
            "#!/bin/sh\nexport OS_AUTH_URL=https://js2:5000/v3\nexport OS_PASSWORD=REDACTED\nexport OS_REGION_NAME=IU\nexport OS_APPLICATION_CREDENTIAL_SECRET='REDACTED'\n"
        );
        assert_eq!(redacted_text("TOKEN=abc"), "TOKEN=REDACTED");
    }

    #[test]
    fn key_value_pairs_in_one_line_strings_go() {
        assert_eq!(
            redacted_text("password: my pass phrase"),
            "password: REDACTED",
            "to the end of the line"
        );
        assert_eq!(
            redacted_text("secret = s3cr3t value\nnode_count = 3"),
            "secret = REDACTED\nnode_count = 3"
        );
        assert_eq!(
            redacted_text("Keystone said no: password=hunter2 for user demo"),
            "Keystone said no: password=REDACTED for user demo"
        );
        assert_eq!(
            redacted_text("GET /x?user=demo&token=abc123&limit=5"),
            "GET /x?user=demo&token=REDACTED&limit=5"
        );
        assert_eq!(
            redacted_text("X-Auth-Token: gAAAAAB-short"),
            "X-Auth-Token: REDACTED"
        );
    }

    #[test]
    fn secret_flags_go_with_either_spelling() {
        assert_eq!(
            redacted_text("openstack --os-password=hunter2 --os-username demo server list"),
            "openstack --os-password=REDACTED --os-username demo server list"
        );
        assert_eq!(
            redacted_text("magnum-client --password \"two words\" --debug"),
            "magnum-client --password \"REDACTED\" --debug"
        );
        assert_eq!(
            redacted_text("run --token \\\n  abcdef --x"),
            "run --token \\\n  REDACTED --x"
        );
        // A flag without a value keeps the next flag.
        kept("run --no-password --verbose");
    }

    #[test]
    fn secret_flags_in_argument_lists_go() {
        let mut e = exchange(Service::Kubernetes, "GET", "/api/v1/pods");
        e.response.body = Some(json!({"spec": {"containers": [{"name": "ca",
            "command": ["./cluster-autoscaler", "--cloud-provider=magnum"],
            "args": ["--os-password", "hunter2-xyz", "--token=tok-abcdef", "--v", "4",
                     "--password", "--next-flag"]}]}}));
        let mut rec = recording(vec![e]);
        assert!(!find_secrets(&rec).is_empty());
        redact(&mut rec);
        let c = &rec.exchanges[0].response.body.as_ref().unwrap()["spec"]["containers"][0];
        assert_eq!(
            c["args"],
            json!([
                "--os-password",
                REDACTED,
                "--token=REDACTED",
                "--v",
                "4",
                "--password",
                "--next-flag"
            ])
        );
        assert_eq!(c["command"][1], "--cloud-provider=magnum");
    }

    #[test]
    fn env_style_pairs_go_and_references_stay() {
        let mut e = exchange(Service::Kubernetes, "GET", "/api/v1/pods");
        e.response.body = Some(json!({"env": [
            {"name": "OS_PASSWORD", "value": "hunter2-xyz"},
            {"name": "OS_AUTH_URL", "value": "https://js2:5000/v3"},
            {"name": "OS_APPLICATION_CREDENTIAL_SECRET",
             "valueFrom": {"secretKeyRef": {"name": "creds", "key": "secret"}}},
        ]}));
        let mut rec = recording(vec![e]);
        assert!(!find_secrets(&rec).is_empty());
        redact(&mut rec);
        let env = &rec.exchanges[0].response.body.as_ref().unwrap()["env"];
        assert_eq!(env[0]["value"], REDACTED);
        assert_eq!(env[1]["value"], "https://js2:5000/v3");
        assert_eq!(
            env[2]["valueFrom"],
            json!({"secretKeyRef": {"name": "creds", "key": "secret"}})
        );
    }

    #[test]
    fn env_style_pairs_inside_text_go() {
        assert_eq!(
            redacted_text(
                "env:\n- name: OS_PASSWORD\n  value: hunter2-xyz\n- name: OS_REGION_NAME\n  value: IU\n- name: TOKEN\n  valueFrom:\n    secretKeyRef: {name: t, key: token}\n"
            ),
            "env:\n- name: OS_PASSWORD\n  value: REDACTED\n- name: OS_REGION_NAME\n  value: IU\n- name: TOKEN\n  valueFrom:\n    secretKeyRef: {name: t, key: token}\n"
        );
        assert_eq!(
            redacted_text(r#"pod spec had {"name": "OS_PASSWORD", "value": "hunter2"} in it"#),
            r#"pod spec had {"name": "OS_PASSWORD", "value": "REDACTED"} in it"#
        );
    }

    #[test]
    fn json_embedded_in_strings_is_redacted_as_json() {
        let applied = "{\"apiVersion\":\"v1\",\"data\":{\"OS_PASSWORD\":\"hunter2-xyz\",\"OS_REGION_NAME\":\"IU\"},\"kind\":\"ConfigMap\"}\n";
        let out = redacted_text(applied);
        assert_eq!(
            out,
            "{\"apiVersion\":\"v1\",\"data\":{\"OS_PASSWORD\":\"REDACTED\",\"OS_REGION_NAME\":\"IU\"},\"kind\":\"ConfigMap\"}\n"
        );
    }

    #[test]
    fn yaml_block_scalars_under_secret_keys_go() {
        assert_eq!(
            redacted_text("a: 1\nprivate_key: |\n  -----BEGIN KEY-----\n  MIIabc\nname: x\n"),
            "a: 1\nprivate_key: |\n  REDACTED\nname: x\n"
        );
        assert_eq!(
            redacted_text("token:\n  plain-scalar-on-its-own-line\nname: x"),
            "token:\n  REDACTED\nname: x"
        );
        // A nested mapping under a secret-named key is scanned, not swallowed.
        kept("password:\n  user: demo\n  domain: Default\n");
    }

    #[test]
    fn events_with_credentials_in_their_message_go() {
        let mut e = exchange(Service::Kubernetes, "GET", "/api/v1/events");
        e.response.body = Some(json!({"kind": "EventList", "items": [{
            "reason": "FailedMount", "involvedObject": {"name": "ca"},
            "message": "auth failed for demo with password=hunter2-xyz (HTTP 401)"}]}));
        let mut rec = recording(vec![e]);
        assert!(!find_secrets(&rec).is_empty());
        redact(&mut rec);
        assert_eq!(
            rec.exchanges[0].response.body.as_ref().unwrap()["items"][0]["message"],
            "auth failed for demo with password=REDACTED (HTTP 401)"
        );
    }

    #[test]
    fn plain_text_bodies_are_scanned() {
        let mut e = exchange(
            Service::Kubernetes,
            "GET",
            "/api/v1/namespaces/d/pods/p/log",
        );
        e.response.body_text = Some("I1110 starting\nOS_PASSWORD=hunter2-xyz\n".into());
        let mut rec = recording(vec![e]);
        assert!(!find_secrets(&rec).is_empty());
        redact(&mut rec);
        assert_eq!(
            rec.exchanges[0].response.body_text.as_deref(),
            Some("I1110 starting\nOS_PASSWORD=REDACTED\n")
        );
    }

    #[test]
    fn numeric_secrets_go() {
        let mut e = exchange(Service::Orchestration, "GET", "/v1/p/stacks/s");
        e.response.body = Some(json!({"parameters": {"db_password": 12345678, "node_count": 3}}));
        let mut rec = recording(vec![e]);
        redact(&mut rec);
        let p = &rec.exchanges[0].response.body.as_ref().unwrap()["parameters"];
        assert_eq!(p["db_password"], REDACTED);
        assert_eq!(p["node_count"], 3);
    }

    #[test]
    fn what_recordings_need_stays() {
        for text in [
            "export OS_AUTH_URL=https://js2.jetstream-cloud.org:5000/v3/\nexport OS_REGION_NAME=IU\nexport OS_USERNAME=demo\n",
            "node_count: 3\nmax_node_count: 5\nname: default-worker\n",
            "tokenizer: wordpiece",
            "passwordless: false",
            "automountServiceAccountToken: false",
            "password_expires_at: null",
            "secretName: creds",
            "[Global]\nauth-url=https://js2:5000/v3\nregion=IU\n",
            "POST /v3/auth/tokens (application credential; secret not recorded)",
            "Cluster-autoscaler status at 2025-11-10 16:40:05: Health: Healthy",
            "the password was wrong",
            "password: REDACTED",
            "--os-password=REDACTED",
        ] {
            kept(text);
        }
    }

    #[test]
    fn redaction_is_idempotent() {
        let text = "export OS_PASSWORD=hunter2-xyz\npassword: a b c\n--token x\ntoken: |\n  abc\n- name: TOKEN\n  value: v\n{\\\"password\\\":\\\"p\\\"}";
        let mut e = exchange(Service::Kubernetes, "GET", "/x");
        e.response.body = Some(json!({"kind": "ConfigMap", "data": {"x": text}}));
        e.note = Some("sent password=hunter2-xyz".into());
        let mut rec = recording(vec![e]);
        redact(&mut rec);
        let once = rec.clone();
        redact(&mut rec);
        assert_eq!(rec, once);
        assert!(!rec.to_json().contains("hunter2-xyz"));
    }
}
