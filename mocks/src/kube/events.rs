//! Event writes: client-go's recorder creates an Event (`POST .../events`) and, for a repeat
//! it aggregated itself, patches the one the server answered with. Both become one
//! [`Operation::RecordEvent`] at the engine's current virtual time, so repeats aggregate
//! (`count`, `lastTimestamp`) server-side exactly as the in-memory components' events do. The
//! client's name, timestamps and count are not kept: the stored event is named and timed by
//! the engine, and the answer is that event as a GET renders it.

use super::discovery::Resource;
use super::server::App;
use super::status::KubeError;
use magsim_sim::engine::Operation;
use magsim_sim::kube::{EventType, ObjectRef};
use serde_json::{Map, Value};
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

type Result<T> = std::result::Result<T, KubeError>;

/// Distinct texts [`intern`] keeps at most: kinds, reasons and sources are a client's small
/// vocabulary, so a flood of distinct ones is refused rather than leaked.
pub const MAX_INTERNED: usize = 4096;

static INTERNED: Mutex<BTreeSet<&'static str>> = Mutex::new(BTreeSet::new());

/// The `&'static str` the event log keeps for `s`: each distinct text is leaked once, then
/// shared by every later event that uses it. `None` past [`MAX_INTERNED`] texts.
pub fn intern(s: &str) -> Option<&'static str> {
    let mut set = INTERNED.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(&known) = set.get(s) {
        return Some(known);
    }
    if set.len() >= MAX_INTERNED {
        return None;
    }
    let leaked: &'static str = Box::leak(s.to_owned().into_boxed_str());
    set.insert(leaked);
    Some(leaked)
}

fn interned(s: &str) -> Result<&'static str> {
    intern(s).ok_or_else(|| {
        KubeError::bad_request(format!(
            "more than {MAX_INTERNED} distinct event kinds, reasons and sources"
        ))
    })
}

/// What one event write records.
struct Recorded {
    object: ObjectRef,
    event_type: EventType,
    reason: &'static str,
    message: String,
    source: &'static str,
}

fn str_field<'a>(v: &'a Value, path: &str) -> Result<&'a str> {
    match path.split('.').try_fold(v, |v, p| v.get(p)) {
        None | Some(Value::Null) => Ok(""),
        Some(Value::String(s)) => Ok(s),
        Some(other) => Err(KubeError::bad_request(format!(
            "error decoding request body: {path}: expected a string, got {other}"
        ))),
    }
}

fn event_type(name: &str, ty: &str) -> Result<EventType> {
    match ty {
        "Normal" => Ok(EventType::Normal),
        "Warning" => Ok(EventType::Warning),
        other => Err(KubeError::invalid(
            "Event",
            name,
            &format!(
                "type: Unsupported value: \"{other}\": supported values: \"Normal\", \"Warning\""
            ),
        )),
    }
}

/// The fields of a core/v1 Event body, validated as the API server's legacy event validation
/// does (the event lives in its object's namespace, or `default` for cluster-scoped ones).
fn parse(body: &Map<String, Value>, namespace: &str) -> Result<Recorded> {
    let v = Value::Object(body.clone());
    let meta_ns = str_field(&v, "metadata.namespace")?;
    if !meta_ns.is_empty() && meta_ns != namespace {
        return Err(KubeError::bad_request(
            "the namespace of the provided object does not match the namespace sent on the request",
        ));
    }
    let name = str_field(&v, "metadata.name")?;
    if name.is_empty() && str_field(&v, "metadata.generateName")?.is_empty() {
        return Err(KubeError::invalid(
            "Event",
            name,
            "metadata.name: Required value: name or generateName is required",
        ));
    }
    let kind = str_field(&v, "involvedObject.kind")?;
    let object_name = str_field(&v, "involvedObject.name")?;
    let object_ns = str_field(&v, "involvedObject.namespace")?;
    for (field, value) in [("kind", kind), ("name", object_name)] {
        if value.is_empty() {
            return Err(KubeError::invalid(
                "Event",
                name,
                &format!("involvedObject.{field}: Required value"),
            ));
        }
    }
    let agrees = if object_ns.is_empty() {
        namespace == "default"
    } else {
        object_ns == namespace
    };
    if !agrees {
        return Err(KubeError::invalid(
            "Event",
            name,
            &format!("involvedObject.namespace: Invalid value: \"{object_ns}\": does not match event.namespace"),
        ));
    }
    let event_type = event_type(name, str_field(&v, "type")?)?;
    let mut source = str_field(&v, "source.component")?;
    if source.is_empty() {
        source = str_field(&v, "reportingComponent")?;
    }
    Ok(Recorded {
        object: ObjectRef::new(interned(kind)?, object_ns, object_name),
        event_type,
        reason: interned(str_field(&v, "reason")?)?,
        message: str_field(&v, "message")?.to_string(),
        source: interned(source)?,
    })
}

/// Records `r` and answers with the stored event.
fn record(app: &Arc<App>, r: Recorded) -> Result<Value> {
    let id = app.live.mutate_narrow(|e| {
        let resp = e.apply(
            Operation::RecordEvent {
                object: r.object,
                event_type: r.event_type,
                reason: r.reason,
                message: r.message,
                source: r.source,
            },
            None,
        );
        resp.body["id"].as_u64()
    });
    let view = app.store.sync(&app.live);
    let stored = id
        .and_then(|id| view.event(id))
        .and_then(|key| view.get(Resource::Events, &key.namespace, &key.name))
        .ok_or_else(|| KubeError::internal("the recorded event was not found"))?;
    Ok(stored.value()?)
}

fn require_namespace(app: &Arc<App>, namespace: &str) -> Result<()> {
    match app
        .store
        .sync(&app.live)
        .get(Resource::Namespaces, "", namespace)
    {
        Some(_) => Ok(()),
        None => Err(KubeError::not_found("", "namespaces", namespace)),
    }
}

/// `POST /api/v1/namespaces/{namespace}/events`.
pub fn create(app: &Arc<App>, namespace: &str, body: Value) -> Result<Value> {
    let body = super::body::object(body)?;
    let r = parse(&body, namespace)?;
    require_namespace(app, namespace)?;
    record(app, r)
}

/// `PATCH /api/v1/namespaces/{namespace}/events/{name}`: one more occurrence of the stored
/// event (the recorder's aggregation patch); a new `message` in the patch is recorded as its
/// own event, as the log keys events by message.
pub fn patch(app: &Arc<App>, namespace: &str, name: &str, patch: &Value) -> Result<Value> {
    let stored = app
        .store
        .sync(&app.live)
        .get(Resource::Events, namespace, name)
        .ok_or_else(|| KubeError::not_found("", "events", name))?
        .value()?;
    let mut body = stored.as_object().cloned().unwrap_or_default();
    if let Some(m) = patch.get("message") {
        body.insert("message".into(), m.clone());
    }
    let r = parse(&body, namespace)?;
    record(app, r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interning_shares_one_copy_per_text() {
        let a = intern("ScaledUpGroup-test").unwrap();
        let b = intern(&String::from("ScaledUpGroup-test")).unwrap();
        assert!(std::ptr::eq(a, b));
        assert_eq!(a, "ScaledUpGroup-test");
    }

    #[test]
    fn bodies_are_validated_as_the_api_server_does() {
        let body = |v: Value| v.as_object().cloned().unwrap();
        let ok = body(serde_json::json!({
            "metadata": {"name": "n.1", "namespace": "default"},
            "involvedObject": {"kind": "Node", "name": "n"},
            "reason": "R", "message": "m", "type": "Warning",
            "source": {"component": "cluster-autoscaler"},
        }));
        let r = parse(&ok, "default").unwrap();
        assert_eq!(
            (r.object.kind, r.event_type, r.source),
            ("Node", EventType::Warning, "cluster-autoscaler")
        );
        let e = parse(&ok, "kube-system").err().unwrap();
        assert_eq!(e.code, 400);
        let mut other_ns = ok.clone();
        other_ns.remove("metadata");
        other_ns.insert("metadata".into(), serde_json::json!({"name": "x"}));
        let e = parse(&other_ns, "kube-system").err().unwrap();
        assert_eq!(
            e.message,
            "Event \"x\" is invalid: involvedObject.namespace: Invalid value: \"\": does not match event.namespace"
        );
        let mut bad_type = ok.clone();
        bad_type.insert("type".into(), "Info".into());
        assert_eq!(parse(&bad_type, "default").err().unwrap().code, 422);
        let mut bad_reason = ok;
        bad_reason.insert("reason".into(), 7.into());
        assert_eq!(parse(&bad_reason, "default").err().unwrap().code, 400);
    }
}
