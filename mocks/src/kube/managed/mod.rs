//! Field ownership, `metadata.managedFields`, as kube-apiserver keeps it: every write through
//! the API records which manager (`?fieldManager=`, or the User-Agent up to its first `/`)
//! owns which fields, with the operation (`Apply` for server-side apply, `Update` for the
//! rest), the API version and the subresource (`scale`). An update takes the fields it
//! changes from everyone; an apply that would change a field another manager owns is refused
//! with upstream's 409 (`Apply failed with 1 conflict: conflict with "kubectl" with
//! subresource "scale" using apps/v1: .spec.replicas`) unless forced, and a field applied
//! with the value it already has is shared.
//!
//! The record is kept beside the object (`World::stored` under `managed/<kind>`) with the
//! object as the last write left it, so that a change the engine made meanwhile (the
//! simulated autoscaler resizing a MachineDeployment) is owned by the controller that made it.
//! Objects never written through the API (pods, events, what a scenario declares) carry none.

mod fields;

pub use fields::{duplicates, item_text, remove};

/// A field's path, as structured-merge-diff writes it.
pub type FieldPath = Vec<Element>;

use super::discovery::Resource;
use super::objects::ObjKey;
use super::schema::Write;
use super::server::App;
use super::status::KubeError;
use fields::{Element, Fields, PathText};
use magsim_sim::engine::{Engine, Operation};
use magsim_sim::world::StoredKey;
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::sync::Arc;

type Result<T> = std::result::Result<T, KubeError>;

/// kube-apiserver's limit on a manager's name, in bytes.
const MAX_MANAGER: usize = 128;

/// Who writes: the manager and, for `kubectl scale` and the autoscalers, the subresource.
#[derive(Clone, Debug)]
pub struct Writer {
    pub manager: String,
    pub subresource: &'static str,
}

impl Writer {
    /// The manager a request names: `fieldManager`, else the User-Agent's product (what
    /// kube-apiserver falls back to), checked as `options` (`PatchOptions`, ...) validates it.
    /// Server-side apply must name one.
    pub fn of_request(
        field_manager: Option<&str>,
        user_agent: Option<&str>,
        options: Write,
        apply: bool,
    ) -> Result<Writer> {
        let invalid = |detail: &str| {
            KubeError::invalid(options.options(), "", &format!("fieldManager: {detail}"))
        };
        let manager = match field_manager.filter(|m| !m.is_empty()) {
            Some(m) if m.len() > MAX_MANAGER => {
                return Err(invalid(&format!(
                    "Too long: may not be longer than {MAX_MANAGER}"
                )))
            }
            Some(m) => m.to_string(),
            None if apply => return Err(invalid("Required value: is required for apply patch")),
            None => product(user_agent.unwrap_or_default()),
        };
        Ok(Writer {
            manager,
            subresource: "",
        })
    }

    pub fn on(self, subresource: &'static str) -> Writer {
        Writer {
            subresource,
            ..self
        }
    }
}

/// `?force=`: only server-side apply takes it.
pub fn force(value: Option<&str>, apply: bool) -> Result<bool> {
    match value {
        Some(_) if !apply => Err(KubeError::invalid(
            Write::Patch.options(),
            "",
            "force: Forbidden: may not be specified for non-apply patch",
        )),
        Some(v) => Ok(v == "true" || v == "1"),
        None => Ok(false),
    }
}

/// A User-Agent's product: what precedes the first `/`, printable characters only, cut at
/// [`MAX_MANAGER`] bytes.
fn product(user_agent: &str) -> String {
    let mut out = String::new();
    for c in user_agent.split('/').next().unwrap_or_default().chars() {
        if c.is_control() {
            continue;
        }
        if out.len() + c.len_utf8() > MAX_MANAGER {
            break;
        }
        out.push(c);
    }
    out
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Op {
    Apply,
    Update,
}

impl Op {
    fn as_str(self) -> &'static str {
        match self {
            Op::Apply => "Apply",
            Op::Update => "Update",
        }
    }
}

/// One `managedFields` entry.
#[derive(Clone, Debug, PartialEq)]
struct Entry {
    manager: String,
    op: Op,
    api_version: String,
    time: String,
    subresource: String,
    fields: Fields,
}

impl Entry {
    /// Whether this is the entry `manager` writes with `op` on `subresource` (appliers are one
    /// entry whatever the version they apply at).
    fn is(&self, manager: &str, op: Op, subresource: &str, api_version: &str) -> bool {
        self.manager == manager
            && self.op == op
            && self.subresource == subresource
            && (op == Op::Apply || self.api_version == api_version)
    }

    /// The manager as upstream names it in a conflict: `"kubectl"`, `"kubectl" with
    /// subresource "scale" using apps/v1`.
    fn printed(&self) -> String {
        let mut s = Value::from(self.manager.as_str()).to_string();
        if !self.subresource.is_empty() {
            s.push_str(&format!(
                " with subresource {}",
                Value::from(self.subresource.as_str())
            ));
        }
        if self.op == Op::Update {
            s.push_str(&format!(" using {}", self.api_version));
        }
        s
    }

    /// Upstream's manager identifier (the entry without fields and time; an applier without
    /// its version): conflicts are grouped and ordered by it.
    fn identifier(&self) -> String {
        let mut m = Map::new();
        m.insert("manager".into(), self.manager.clone().into());
        m.insert("operation".into(), self.op.as_str().into());
        if self.op == Op::Update {
            m.insert("apiVersion".into(), self.api_version.clone().into());
        }
        if !self.subresource.is_empty() {
            m.insert("subresource".into(), self.subresource.clone().into());
        }
        Value::Object(m).to_string()
    }

    fn to_json(&self) -> Value {
        let mut v = json!({
            "manager": self.manager,
            "operation": self.op.as_str(),
            "apiVersion": self.api_version,
            "time": self.time,
            "fieldsType": "FieldsV1",
            "fieldsV1": self.fields.to_json(),
        });
        if !self.subresource.is_empty() {
            v["subresource"] = self.subresource.clone().into();
        }
        v
    }

    fn from_json(v: &Value) -> Option<Entry> {
        let text = |f: &str| v.get(f).and_then(Value::as_str).map(str::to_string);
        let op = match v.get("operation")?.as_str()? {
            "Apply" => Op::Apply,
            "Update" => Op::Update,
            _ => return None,
        };
        Some(Entry {
            manager: text("manager").unwrap_or_default(),
            op,
            api_version: text("apiVersion").unwrap_or_default(),
            time: text("time").unwrap_or_default(),
            subresource: text("subresource").unwrap_or_default(),
            fields: Fields::from_json(v.get("fieldsV1")?)?,
        })
    }
}

/// Upstream's order: by operation, time, manager, version, subresource.
fn sorted(mut entries: Vec<Entry>) -> Vec<Entry> {
    entries.retain(|e| !e.fields.is_empty());
    entries.sort_by(|a, b| {
        (a.op, &a.time, &a.manager, &a.api_version, &a.subresource).cmp(&(
            b.op,
            &b.time,
            &b.manager,
            &b.api_version,
            &b.subresource,
        ))
    });
    entries
}

/// What a write does to an object: `before` (`None`: it creates it) becomes `after`.
pub enum Change<'a> {
    Update {
        writer: &'a Writer,
        before: Option<&'a Value>,
        after: &'a Value,
    },
    Apply {
        writer: &'a Writer,
        force: bool,
        before: Option<&'a Value>,
        config: &'a Value,
        after: &'a Value,
    },
}

/// Kinds whose ownership is recorded: every kind a client writes but pods, events and
/// ReplicaSets, which only the engine makes.
fn tracked(r: Resource) -> bool {
    !matches!(r, Resource::Pods | Resource::Events | Resource::ReplicaSets)
}

/// Where the record of an object's managers is kept.
pub fn key(r: Resource, namespace: &str, name: &str) -> StoredKey {
    (
        format!("managed/{}", r.stored_name()),
        namespace.to_string(),
        name.to_string(),
    )
}

/// Records `write` and runs `perform`, the write itself; a refused write leaves the record as
/// it was. The answer carries the new `managedFields`.
pub fn track(
    app: &Arc<App>,
    (r, namespace, name): (Resource, &str, &str),
    write: Change<'_>,
    perform: impl FnOnce() -> Result<Value>,
) -> Result<Value> {
    if !tracked(r) {
        return perform();
    }
    let key = key(r, namespace, name);
    let (previous, now, resized) = {
        let e = app.live.engine();
        let now = e.epoch.at(e.now()).rfc3339();
        (
            e.world.stored.get(&key).cloned(),
            now,
            resize_time(&e, (r, namespace, name)),
        )
    };
    let record = next(r, previous.as_ref(), &write, (&now, resized.as_deref()))?;
    let entries = record["entries"].clone();
    let whole = match &write {
        Change::Update { writer, .. } | Change::Apply { writer, .. } => {
            writer.subresource.is_empty()
        }
    };
    let keep = Operation::PutStored {
        key: key.clone(),
        object: record,
    };
    app.live.stage(keep);
    let done = perform();
    let unapplied = app.live.unstage();
    match done {
        Ok(mut v) => {
            // A write that changed nothing applied nothing: the record goes on its own.
            for op in unapplied {
                mutation(app, r, op);
            }
            // A Scale carries its own view of the managers; magsim answers it without.
            if let Some(meta) = v
                .get_mut("metadata")
                .and_then(Value::as_object_mut)
                .filter(|_| whole)
            {
                meta.insert("managedFields".into(), entries);
            }
            Ok(v)
        }
        Err(e) if unapplied.is_empty() => {
            // Refused in the engine, after the record landed: put the old one back.
            let op = match previous {
                Some(object) => Operation::PutStored { key, object },
                None => Operation::DeleteStored { key },
            };
            mutation(app, r, op);
            Err(e)
        }
        Err(e) => Err(e),
    }
}

/// Applies `op`, a record of `r`'s, on its own.
fn mutation(app: &Arc<App>, r: Resource, op: Operation) {
    // The kinds the engine renders are re-rendered only by a broad change.
    if r.is_stored() || matches!(r, Resource::ConfigMaps | Resource::Secrets) {
        app.live.mutate_narrow(|e| e.apply(op, None));
    } else {
        app.live.mutate(|e| e.apply(op, None));
    }
}

/// When the simulated autoscaler last resized a MachineDeployment in memory (`None`: never,
/// or another kind).
fn resize_time(e: &Engine, (r, namespace, name): (Resource, &str, &str)) -> Option<String> {
    if r != Resource::MachineDeployments {
        return None;
    }
    let md = e
        .world
        .machine_deployments
        .iter()
        .find(|m| m.namespace == namespace && m.name == name)?;
    md.autoscaled_at.map(|t| e.epoch.at(t).rfc3339())
}

/// The record after `write` at `now`: `{entries, seen}`.
fn next(
    r: Resource,
    previous: Option<&Value>,
    write: &Change<'_>,
    (now, resized): (&str, Option<&str>),
) -> Result<Value> {
    let (before, after) = match write {
        Change::Update { before, after, .. } | Change::Apply { before, after, .. } => {
            (*before, *after)
        }
    };
    let live = before.map_or_else(|| skeleton(r), stripped);
    let mut entries = match before {
        Some(_) => entries_now(r, previous, &live, resized),
        None => Vec::new(),
    };
    if let Some(given) = given(before, after) {
        entries = given;
    }
    let api_version = r.api_version();
    let made = stripped(after);
    let entries = match write {
        Change::Update { writer, .. } => {
            let only = (writer.subresource == "scale").then(replicas_path);
            updated(
                entries,
                writer,
                &api_version,
                now,
                (&live, &made),
                only.as_deref(),
            )
        }
        Change::Apply {
            writer,
            force,
            config,
            ..
        } => applied(
            entries,
            writer,
            *force,
            &api_version,
            now,
            &live,
            &stripped(config),
        )?,
    };
    let entries: Vec<Value> = sorted(entries).iter().map(Entry::to_json).collect();
    Ok(json!({"entries": entries, "seen": made}))
}

/// The entries of `previous` (a record) for the object as it is now, `live`: with the
/// engine's resize since, if there was one (`resized`: when).
fn entries_now(
    r: Resource,
    previous: Option<&Value>,
    live: &Map<String, Value>,
    resized: Option<&str>,
) -> Vec<Entry> {
    let Some(p) = previous else {
        return Vec::new();
    };
    let entries: Vec<Entry> = p["entries"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Entry::from_json)
        .collect();
    match (p["seen"].as_object(), resized) {
        (Some(seen), Some(at)) => drifted(entries, seen, live, (r, at)),
        _ => entries,
    }
}

/// What server-side apply takes out of the object (`before`) when `writer` applies `config`:
/// the fields it applied last time and applies no more, unless another manager owns them too.
pub fn removals(
    app: &Arc<App>,
    (r, namespace, name): (Resource, &str, &str),
    writer: &Writer,
    config: &Value,
    before: Option<&Value>,
) -> Vec<FieldPath> {
    let Some(before) = before.filter(|_| tracked(r)) else {
        return Vec::new();
    };
    let live = stripped(before);
    let entries = {
        let e = app.live.engine();
        let previous = e.world.stored.get(&key(r, namespace, name));
        entries_now(
            r,
            previous,
            &live,
            resize_time(&e, (r, namespace, name)).as_deref(),
        )
    };
    let api_version = r.api_version();
    let (mut gone, mut others) = (Fields::default(), Fields::default());
    for e in &entries {
        if e.is(&writer.manager, Op::Apply, "", &api_version) {
            gone.union(&e.fields);
        } else {
            others.union(&e.fields);
        }
    }
    gone.subtract(&fields::of_config(&stripped(config)));
    gone.subtract(&others);
    gone.paths()
}

/// `managedFields` a request sets itself (upstream takes them as given; `[{}]` clears them).
fn given(before: Option<&Value>, after: &Value) -> Option<Vec<Entry>> {
    let mine = after.pointer("/metadata/managedFields")?.as_array()?;
    if mine.is_empty()
        || Some(after["metadata"]["managedFields"].clone())
            == before.map(|b| b["metadata"]["managedFields"].clone())
    {
        return None;
    }
    Some(mine.iter().filter_map(Entry::from_json).collect())
}

fn replicas_path() -> Vec<Element> {
    vec![
        Element::Field("spec".into()),
        Element::Field("replicas".into()),
    ]
}

/// The object without what no manager owns: its identity, what the server sets, and status
/// (written only through `…/status`).
fn stripped(v: &Value) -> Map<String, Value> {
    let mut m = v.as_object().cloned().unwrap_or_default();
    for f in ["apiVersion", "kind", "status"] {
        m.shift_remove(f);
    }
    if let Some(meta) = m.get_mut("metadata").and_then(Value::as_object_mut) {
        for f in [
            "name",
            "namespace",
            "uid",
            "resourceVersion",
            "generation",
            "creationTimestamp",
            "managedFields",
            "selfLink",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
        ] {
            meta.shift_remove(f);
        }
    }
    if m.get("metadata")
        .and_then(Value::as_object)
        .is_some_and(Map::is_empty)
    {
        m.shift_remove("metadata"); // what is left of it is no field of anyone's
    }
    m
}

/// What an object is before its first write: a built-in kind's structs that are always
/// there (so a create does not own `spec` itself); a custom resource has only metadata.
fn skeleton(r: Resource) -> Map<String, Value> {
    let v = match r {
        Resource::Deployments => json!({"metadata": {}, "spec": {
            "template": {"metadata": {}, "spec": {}}, "strategy": {},
        }}),
        Resource::ConfigMaps | Resource::Secrets => json!({"metadata": {}}),
        _ if r.group().ends_with("x-k8s.io") => json!({"metadata": {}}),
        _ => json!({"metadata": {}, "spec": {}}),
    };
    v.as_object().cloned().unwrap_or_default()
}

/// Ownership after an update from `live` to `made`: what it changed is the writer's and no
/// one else's; what it removed is no one's. `only` limits it to one field (a Scale write).
fn updated(
    mut entries: Vec<Entry>,
    writer: &Writer,
    api_version: &str,
    now: &str,
    (live, made): (&Map<String, Value>, &Map<String, Value>),
    only: Option<&[Element]>,
) -> Vec<Entry> {
    let mut change = fields::changed(live, made);
    if let Some(path) = only {
        change.set = change.set.only(path);
        change.removed = change.removed.only(path);
    }
    if change.set.is_empty() && change.removed.is_empty() {
        return entries;
    }
    let (manager, sub) = (writer.manager.as_str(), writer.subresource);
    for e in &mut entries {
        e.fields.remove_under(&change.removed);
        if !e.is(manager, Op::Update, sub, api_version) {
            e.fields.subtract(&change.set);
        }
    }
    match entries
        .iter_mut()
        .find(|e| e.is(manager, Op::Update, sub, api_version))
    {
        Some(mine) => {
            mine.fields.union(&change.set);
            mine.time = now.to_string();
        }
        None => entries.push(Entry {
            manager: manager.to_string(),
            op: Op::Update,
            api_version: api_version.to_string(),
            time: now.to_string(),
            subresource: sub.to_string(),
            fields: change.set,
        }),
    }
    entries
}

/// Ownership after `writer` applies `config` over `live`: the applier owns exactly what it
/// applied; a field it would change that another manager owns is a conflict (taken from
/// that manager when forced).
fn applied(
    mut entries: Vec<Entry>,
    writer: &Writer,
    force: bool,
    api_version: &str,
    now: &str,
    live: &Map<String, Value>,
    config: &Map<String, Value>,
) -> Result<Vec<Entry>> {
    let set = fields::of_config(config);
    let (config_v, live_v) = (Value::Object(config.clone()), Value::Object(live.clone()));
    let mine = |e: &Entry| e.is(&writer.manager, Op::Apply, "", api_version);
    let mut conflicts: Vec<(usize, Vec<Element>)> = Vec::new();
    for path in set.paths() {
        if matches!(path.last(), Some(Element::Key(_) | Element::Value(_))) {
            continue; // an item's presence is no value to disagree on
        }
        if fields::value_at(&config_v, &path) == fields::value_at(&live_v, &path) {
            continue;
        }
        for (i, e) in entries.iter().enumerate() {
            if !mine(e) && e.fields.contains(&path) {
                conflicts.push((i, path.clone()));
            }
        }
    }
    if !conflicts.is_empty() && !force {
        return Err(conflict(&entries, &conflicts));
    }
    for (i, path) in &conflicts {
        entries[*i].fields.subtract(&Fields::single(path));
    }
    let changed = match entries.iter_mut().find(|e| mine(e)) {
        Some(e) => {
            let changed = e.fields != set || live != config;
            e.fields = set;
            e.api_version = api_version.to_string();
            changed.then_some(e)
        }
        None => {
            entries.push(Entry {
                manager: writer.manager.clone(),
                op: Op::Apply,
                api_version: api_version.to_string(),
                time: String::new(),
                subresource: String::new(),
                fields: set,
            });
            entries.last_mut()
        }
    };
    if let Some(e) = changed {
        e.time = now.to_string();
    }
    Ok(entries)
}

/// Upstream's 409 for an apply that conflicts.
fn conflict(entries: &[Entry], conflicts: &[(usize, Vec<Element>)]) -> KubeError {
    let message = if let [(i, path)] = conflicts {
        format!(
            "Apply failed with 1 conflict: conflict with {}: {}",
            entries[*i].printed(),
            PathText(path)
        )
    } else {
        let mut by_manager: Vec<(String, &Entry, Vec<&[Element]>)> = Vec::new();
        for (i, path) in conflicts {
            let e = &entries[*i];
            match by_manager.iter_mut().find(|(id, ..)| *id == e.identifier()) {
                Some((.., paths)) => paths.push(path),
                None => by_manager.push((e.identifier(), e, vec![path])),
            }
        }
        by_manager.sort_by(|a, b| a.0.cmp(&b.0));
        let mut lines = Vec::new();
        for (_, e, paths) in &by_manager {
            lines.push(format!("conflicts with {}:", e.printed()));
            lines.extend(paths.iter().map(|p| format!("- {}", PathText(p))));
        }
        format!(
            "Apply failed with {} conflicts: {}",
            conflicts.len(),
            lines.join("\n")
        )
    };
    let mut err = KubeError::new(409, "Conflict", message);
    for (i, path) in conflicts {
        err = err.with_field_cause(
            "FieldManagerConflict",
            format!("conflict with {}", entries[*i].printed()),
            PathText(path).to_string(),
        );
    }
    err
}

/// Ownership after the engine changed the object since the last write: the simulated
/// autoscaler's resize of a MachineDeployment (at `at`) is `cluster-autoscaler`'s, through
/// `scale`, as the real one's would be.
fn drifted(
    entries: Vec<Entry>,
    seen: &Map<String, Value>,
    live: &Map<String, Value>,
    (r, at): (Resource, &str),
) -> Vec<Entry> {
    let path = replicas_path();
    let (seen_v, live_v) = (Value::Object(seen.clone()), Value::Object(live.clone()));
    let was = fields::value_at(&seen_v, &path);
    if was.is_none() || was == fields::value_at(&live_v, &path) {
        return entries;
    }
    let autoscaler = Writer {
        manager: "cluster-autoscaler".into(),
        subresource: "scale",
    };
    updated(
        entries,
        &autoscaler,
        &r.api_version(),
        at,
        (seen, live),
        Some(&path),
    )
}

/// The `managedFields` a record gives the object as rendered now: with the engine's resize
/// since the last write, if any.
fn rendered(engine: &Engine, key: &StoredKey, record: &Value, object: &Value) -> Value {
    let r = key
        .0
        .strip_prefix("managed/")
        .and_then(Resource::from_stored);
    let resized = r.and_then(|r| resize_time(engine, (r, &key.1, &key.2)));
    match (r, resized) {
        (Some(r), Some(at)) => {
            let entries = entries_now(r, Some(record), &stripped(object), Some(&at));
            Value::Array(sorted(entries).iter().map(Entry::to_json).collect())
        }
        _ => record["entries"].clone(),
    }
}

/// Sets `metadata.managedFields` on every rendered object that has a record.
pub fn lay_over(engine: &Engine, out: &mut [(ObjKey, Value)]) {
    let records: Vec<(&StoredKey, &Value)> = engine
        .world
        .stored
        .range::<StoredKey, _>(("managed/".to_string(), String::new(), String::new())..)
        .take_while(|(k, _)| k.0.starts_with("managed/"))
        .collect();
    if records.is_empty() {
        return;
    }
    let index: HashMap<(Resource, &str, &str), usize> = out
        .iter()
        .enumerate()
        .map(|(i, (k, _))| ((k.resource, k.namespace.as_str(), k.name.as_str()), i))
        .collect();
    let mut at = Vec::new();
    for (key, record) in records {
        let r = key
            .0
            .strip_prefix("managed/")
            .and_then(Resource::from_stored);
        if let Some(&i) = r.and_then(|r| index.get(&(r, key.1.as_str(), key.2.as_str()))) {
            at.push((i, rendered(engine, key, record, &out[i].1)));
        }
    }
    for (i, entries) in at {
        if let Some(meta) = out[i].1.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.insert("managedFields".into(), entries);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn writer(m: &str) -> Writer {
        Writer {
            manager: m.into(),
            subresource: "",
        }
    }

    #[test]
    fn a_manager_is_named_or_is_the_user_agent_s_product() {
        let agent = Some("kubectl/v1.32.4 (linux/amd64) kubernetes/4ac2e66");
        let w = Writer::of_request(None, agent, Write::Patch, false).unwrap();
        assert_eq!(w.manager, "kubectl");
        let named = Writer::of_request(Some("team-b"), agent, Write::Patch, true).unwrap();
        assert_eq!(named.manager, "team-b");
        let e = Writer::of_request(None, agent, Write::Patch, true).unwrap_err();
        assert_eq!(
            (e.code, e.message.as_str()),
            (422, "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch")
        );
        let long = "m".repeat(MAX_MANAGER + 1);
        let e = Writer::of_request(Some(&long), None, Write::Create, false).unwrap_err();
        assert_eq!(
            e.message,
            "CreateOptions.meta.k8s.io \"\" is invalid: fieldManager: Too long: may not be longer than 128"
        );
        assert_eq!(product(&"é".repeat(100)).len(), 128, "cut on a character");
        assert_eq!(product("bell\u{7}/1"), "bell");
        let e = force(Some("true"), false).unwrap_err();
        assert!(e
            .message
            .ends_with("force: Forbidden: may not be specified for non-apply patch"));
        assert!(force(Some("true"), true).unwrap());
        assert!(!force(None, true).unwrap());
    }

    #[test]
    fn an_update_takes_what_it_changes_and_an_apply_then_conflicts_unless_forced() {
        let replicas = replicas_path();
        let config = stripped(&json!({"spec": {"replicas": 2, "paused": false}}));
        let ops = writer("ops");
        let entries = applied(
            Vec::new(),
            &ops,
            false,
            "apps/v1",
            "t1",
            &Map::new(),
            &config,
        )
        .unwrap();
        let scaled = stripped(&json!({"spec": {"replicas": 5, "paused": false}}));
        let hpa = writer("hpa").on("scale");
        let entries = updated(
            entries,
            &hpa,
            "apps/v1",
            "t2",
            (&config, &scaled),
            Some(&replicas),
        );
        assert!(
            !entries[0].fields.contains(&replicas),
            "taken from the applier"
        );
        assert!(entries[1].fields.contains(&replicas));

        let err = applied(
            entries.clone(),
            &ops,
            false,
            "apps/v1",
            "t3",
            &scaled,
            &config,
        )
        .unwrap_err();
        assert_eq!((err.code, err.reason), (409, "Conflict"));
        assert_eq!(
            err.message,
            "Apply failed with 1 conflict: conflict with \"hpa\" with subresource \"scale\" using apps/v1: .spec.replicas"
        );
        assert_eq!(
            err.to_json()["details"]["causes"][0],
            json!({
                "reason": "FieldManagerConflict",
                "message": "conflict with \"hpa\" with subresource \"scale\" using apps/v1",
                "field": ".spec.replicas",
            })
        );

        let shared = applied(
            entries.clone(),
            &ops,
            false,
            "apps/v1",
            "t3",
            &scaled,
            &scaled,
        )
        .unwrap();
        assert!(
            shared.iter().all(|e| e.fields.contains(&replicas)),
            "the same value is shared"
        );

        let forced =
            sorted(applied(entries, &ops, true, "apps/v1", "t3", &scaled, &config).unwrap());
        assert_eq!(
            forced.len(),
            1,
            "the scaler owned only replicas: {forced:?}"
        );
        assert_eq!(
            (forced[0].manager.as_str(), forced[0].time.as_str()),
            ("ops", "t3")
        );
        assert!(forced[0].fields.contains(&replicas));
    }

    #[test]
    fn conflicts_with_several_managers_are_grouped_in_identifier_order() {
        let mine = stripped(&json!({"data": {"a": "1", "b": "1"}}));
        let theirs = stripped(&json!({"data": {"a": "2", "b": "2"}}));
        let mut entries = Vec::new();
        for (m, field) in [("zed", "a"), ("abe", "b")] {
            let only = stripped(&json!({"data": {field: "2"}}));
            entries = updated(entries, &writer(m), "v1", "t", (&Map::new(), &only), None);
        }
        let err = applied(entries, &writer("me"), false, "v1", "t", &theirs, &mine).unwrap_err();
        assert_eq!(
            err.message,
            "Apply failed with 2 conflicts: conflicts with \"abe\" using v1:\n- .data.b\nconflicts with \"zed\" using v1:\n- .data.a"
        );
    }

    #[test]
    fn managed_fields_a_request_writes_are_taken_as_given() {
        let before = json!({"metadata": {"managedFields": [{
            "manager": "a", "operation": "Update", "apiVersion": "v1",
            "fieldsType": "FieldsV1", "fieldsV1": {"f:data": {"f:x": {}}},
        }]}});
        assert!(
            given(Some(&before), &before).is_none(),
            "unchanged: ownership as computed"
        );
        let mut after = before.clone();
        after["metadata"]["managedFields"][0]["manager"] = "b".into();
        assert_eq!(given(Some(&before), &after).unwrap()[0].manager, "b");
        after["metadata"]["managedFields"] = json!([{}]);
        assert_eq!(
            given(Some(&before), &after).unwrap(),
            Vec::new(),
            "[{{}}] clears them"
        );
    }
}
