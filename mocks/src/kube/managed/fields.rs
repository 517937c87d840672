//! Field sets as structured-merge-diff builds them: which fields of an object a manager owns,
//! serialized as `fieldsV1` (`f:spec: {f:replicas: {}}`), read from an applied configuration
//! (every leaf, every list item) or from what an update changed (what it added, including
//! the maps and list items it made, `.: {}`, and the leaves whose values it changed).
//!
//! magsim has no schema per field, so list and map shapes come from the field's name: the
//! associative lists of the core kinds and their keys, `finalizers` as a set, a label selector
//! as one atomic value, every other list atomic.

use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::fmt;

/// One step of a field path, in structured-merge-diff's order: fields, then list items by
/// key, then set items by value, then by index.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Element {
    Field(String),
    /// An associative list's item: its key fields' names and JSON values, sorted by name.
    Key(Vec<(String, String)>),
    /// A set's item, as JSON.
    Value(String),
    Index(usize),
}

impl Element {
    /// The `fieldsV1` key (`f:replicas`, `k:{"name":"nginx"}`, `v:"kubernetes"`).
    fn encode(&self) -> String {
        match self {
            Element::Field(f) => format!("f:{f}"),
            Element::Key(k) => {
                let fields: Vec<String> = k
                    .iter()
                    .map(|(n, v)| format!("{}:{v}", Value::from(n.as_str())))
                    .collect();
                format!("k:{{{}}}", fields.join(","))
            }
            Element::Value(v) => format!("v:{v}"),
            Element::Index(i) => format!("i:{i}"),
        }
    }

    fn decode(s: &str) -> Option<Element> {
        let (kind, rest) = s.split_once(':')?;
        match kind {
            "f" => Some(Element::Field(rest.to_string())),
            "v" => Some(Element::Value(rest.to_string())),
            "i" => rest.parse().ok().map(Element::Index),
            "k" => match serde_json::from_str::<Value>(rest).ok()? {
                Value::Object(m) => {
                    let mut key: Vec<(String, String)> =
                        m.into_iter().map(|(n, v)| (n, v.to_string())).collect();
                    key.sort();
                    Some(Element::Key(key))
                }
                _ => None,
            },
            _ => None,
        }
    }
}

/// A path as structured-merge-diff prints it in a conflict (`.spec.replicas`,
/// `.spec.template.spec.containers[name="nginx"].image`).
pub struct PathText<'a>(pub &'a [Element]);

impl fmt::Display for PathText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for e in self.0 {
            match e {
                Element::Field(n) => write!(f, ".{n}")?,
                Element::Key(k) => {
                    let fields: Vec<String> = k.iter().map(|(n, v)| format!("{n}={v}")).collect();
                    write!(f, "[{}]", fields.join(","))?;
                }
                Element::Value(v) => write!(f, "[={v}]")?,
                Element::Index(i) => write!(f, "[{i}]")?,
            }
        }
        Ok(())
    }
}

/// A set of field paths, as a tree: a node is a `member` when its path itself is in the set.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Fields {
    member: bool,
    children: BTreeMap<Element, Fields>,
}

impl Fields {
    pub fn is_empty(&self) -> bool {
        !self.member && self.children.values().all(Fields::is_empty)
    }

    fn child(&mut self, e: Element) -> &mut Fields {
        self.children.entry(e).or_default()
    }

    fn at(&self, path: &[Element]) -> Option<&Fields> {
        path.iter().try_fold(self, |node, e| node.children.get(e))
    }

    /// Whether `path` itself is in the set.
    pub fn contains(&self, path: &[Element]) -> bool {
        self.at(path).is_some_and(|n| n.member)
    }

    /// Every member path, in order.
    pub fn paths(&self) -> Vec<Vec<Element>> {
        let mut out = Vec::new();
        self.collect(&mut Vec::new(), &mut out);
        out
    }

    fn collect(&self, prefix: &mut Vec<Element>, out: &mut Vec<Vec<Element>>) {
        if self.member && !prefix.is_empty() {
            out.push(prefix.clone());
        }
        for (e, c) in &self.children {
            prefix.push(e.clone());
            c.collect(prefix, out);
            prefix.pop();
        }
    }

    pub fn union(&mut self, other: &Fields) {
        self.member |= other.member;
        for (e, c) in &other.children {
            self.child(e.clone()).union(c);
        }
    }

    /// Takes the members of `other` out of this set.
    pub fn subtract(&mut self, other: &Fields) {
        if other.member {
            self.member = false;
        }
        for (e, c) in &other.children {
            if let Some(mine) = self.children.get_mut(e) {
                mine.subtract(c);
            }
        }
        self.prune();
    }

    /// Takes out everything at and below each member path of `gone` (fields that no longer
    /// exist have no owner).
    pub fn remove_under(&mut self, gone: &Fields) {
        for (e, c) in &gone.children {
            if c.member {
                self.children.remove(e);
            } else if let Some(mine) = self.children.get_mut(e) {
                mine.remove_under(c);
            }
        }
        self.prune();
    }

    /// The set holding only `path`.
    pub fn single(path: &[Element]) -> Fields {
        let mut out = Fields::default();
        let mut slot = &mut out;
        for e in path {
            slot = slot.child(e.clone());
        }
        slot.member = true;
        out
    }

    /// Keeps only what lies at or below `path`.
    pub fn only(&self, path: &[Element]) -> Fields {
        let mut out = Fields::default();
        if let Some(node) = self.at(path) {
            let mut slot = &mut out;
            for e in path {
                slot = slot.child(e.clone());
            }
            *slot = node.clone();
        }
        out
    }

    fn prune(&mut self) {
        self.children.retain(|_, c| {
            c.prune();
            !c.is_empty()
        });
    }

    /// The `fieldsV1` object.
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        if self.member && !self.children.is_empty() {
            m.insert(".".into(), Value::Object(Map::new()));
        }
        for (e, c) in &self.children {
            m.insert(e.encode(), c.to_json());
        }
        Value::Object(m)
    }

    /// Reads a `fieldsV1` object (`None`: not one).
    pub fn from_json(v: &Value) -> Option<Fields> {
        let m = v.as_object()?;
        let mut out = Fields {
            member: m.is_empty(),
            children: BTreeMap::new(),
        };
        for (k, c) in m {
            if k == "." {
                out.member = true;
            } else {
                out.children
                    .insert(Element::decode(k)?, Fields::from_json(c)?);
            }
        }
        Some(out)
    }
}

/// How the list under a field merges (its `x-kubernetes-list-type`).
enum ListKind {
    /// Items are identified by these fields.
    Map(&'static [&'static str]),
    Set,
    Atomic,
}

fn list_kind(field: &str) -> ListKind {
    match field {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "volumes"
        | "env"
        | "imagePullSecrets"
        | "resourceClaims" => ListKind::Map(&["name"]),
        "volumeMounts" => ListKind::Map(&["mountPath"]),
        "volumeDevices" => ListKind::Map(&["devicePath"]),
        "ports" => ListKind::Map(&["containerPort", "protocol"]),
        "hostAliases" => ListKind::Map(&["ip"]),
        "conditions" => ListKind::Map(&["type"]),
        "ownerReferences" => ListKind::Map(&["uid"]),
        "topologySpreadConstraints" => ListKind::Map(&["topologyKey", "whenUnsatisfiable"]),
        "finalizers" => ListKind::Set,
        _ => ListKind::Atomic,
    }
}

/// Maps owned as one value (`+structType=atomic` / `+mapType=atomic`).
fn atomic_map(field: &str) -> bool {
    matches!(field, "selector" | "labelSelector" | "namespaceSelector")
}

/// An associative list item's key (`None`: the item is not an object). A container port's
/// protocol is keyed as its default, TCP, when absent.
fn key_of(item: &Value, field: &str, keys: &[&str]) -> Option<Element> {
    let m = item.as_object()?;
    let mut key: Vec<(String, String)> = keys
        .iter()
        .filter_map(|k| match (m.get(*k), *k) {
            (Some(v), _) => Some((k.to_string(), v.to_string())),
            (None, "protocol") if field == "ports" => Some((k.to_string(), "\"TCP\"".into())),
            _ => None,
        })
        .collect();
    key.sort();
    Some(Element::Key(key))
}

/// The items of a list, by the element each is found under.
fn items<'a>(field: &str, list: &'a [Value]) -> Vec<(Element, &'a Value)> {
    list.iter()
        .enumerate()
        .map(|(i, item)| {
            let e = match list_kind(field) {
                ListKind::Map(keys) => key_of(item, field, keys).unwrap_or(Element::Index(i)),
                ListKind::Set => Element::Value(item.to_string()),
                ListKind::Atomic => Element::Index(i),
            };
            (e, item)
        })
        .collect()
}

/// How a list item is written in a path: `[name="nginx"]` for a keyed list's, `[="x"]` for a
/// set's, else `[i]`.
pub fn item_text(field: &str, item: &Value, index: usize) -> String {
    let e = match list_kind(field) {
        ListKind::Map(keys) => key_of(item, field, keys).unwrap_or(Element::Index(index)),
        ListKind::Set => Element::Value(item.to_string()),
        ListKind::Atomic => Element::Index(index),
    };
    PathText(&[e]).to_string()
}

/// structured-merge-diff's refusal of a keyed list with two items of one key, per such list
/// (`.spec.template.spec.containers[name="app"].env: duplicate entries for key [name="A"]`).
pub fn duplicates(config: &Map<String, Value>) -> Vec<String> {
    let mut out = Vec::new();
    duplicates_in(config, "", &mut out);
    out
}

fn duplicates_in(m: &Map<String, Value>, path: &str, out: &mut Vec<String>) {
    for (k, v) in m {
        let here = format!("{path}.{k}");
        match v {
            Value::Object(inner) => duplicates_in(inner, &here, out),
            Value::Array(list) => {
                let keyed = matches!(list_kind(k), ListKind::Map(_));
                let mut seen: Vec<Element> = Vec::new();
                for (e, item) in items(k, list) {
                    if keyed && seen.contains(&e) {
                        out.push(format!(
                            "{here}: duplicate entries for key {}",
                            PathText(std::slice::from_ref(&e))
                        ));
                    }
                    if let Value::Object(inner) = item {
                        duplicates_in(
                            inner,
                            &format!("{here}{}", PathText(std::slice::from_ref(&e))),
                            out,
                        );
                    }
                    seen.push(e);
                }
            }
            _ => {}
        }
    }
}

/// The fields an applied configuration (a map) sets.
pub fn of_config(config: &Map<String, Value>) -> Fields {
    let mut f = Fields::default();
    walk_map(config, &mut f);
    f
}

fn walk_map(m: &Map<String, Value>, into: &mut Fields) {
    for (k, v) in m {
        insert(k, v, into.child(Element::Field(k.clone())));
    }
}

/// `v`, found under `field`, into `node`: a leaf, an empty or atomic map, an atomic list is a
/// member; a map's fields and a list's items are walked (each item a member).
fn insert(field: &str, v: &Value, node: &mut Fields) {
    match v {
        Value::Object(m) if !m.is_empty() && !atomic_map(field) => walk_map(m, node),
        Value::Array(list) if !matches!(list_kind(field), ListKind::Atomic) => {
            for (e, item) in items(field, list) {
                let child = node.child(e);
                child.member = true;
                if let Value::Object(m) = item {
                    walk_map(m, child);
                }
            }
        }
        _ => node.member = true,
    }
}

/// What an update from `old` to `new` (both maps) changed: the fields it added or whose values
/// it changed, and the fields it removed.
#[derive(Default)]
pub struct Change {
    pub set: Fields,
    pub removed: Fields,
}

pub fn changed(old: &Map<String, Value>, new: &Map<String, Value>) -> Change {
    let mut c = Change::default();
    diff_map(old, new, &mut c.set, &mut c.removed);
    c.set.prune();
    c.removed.prune();
    c
}

fn diff_map(
    old: &Map<String, Value>,
    new: &Map<String, Value>,
    set: &mut Fields,
    gone: &mut Fields,
) {
    for (k, nv) in new {
        let e = Element::Field(k.clone());
        match old.get(k) {
            None => added(k, nv, set.child(e)),
            Some(ov) if ov == nv => {}
            Some(ov) => diff_value(k, ov, nv, set.child(e.clone()), gone.child(e)),
        }
    }
    for k in old.keys().filter(|k| !new.contains_key(*k)) {
        gone.child(Element::Field(k.clone())).member = true;
    }
}

/// A field that was not there: it and what it holds are the updater's (a non-atomic list
/// itself is not a member, its items are).
fn added(field: &str, v: &Value, node: &mut Fields) {
    let list_of_items =
        matches!(v, Value::Array(_)) && !matches!(list_kind(field), ListKind::Atomic);
    node.member = !list_of_items;
    insert(field, v, node);
}

fn diff_value(field: &str, old: &Value, new: &Value, set: &mut Fields, gone: &mut Fields) {
    match (old, new) {
        (Value::Object(o), Value::Object(n)) if !atomic_map(field) => diff_map(o, n, set, gone),
        (Value::Array(o), Value::Array(n)) if !matches!(list_kind(field), ListKind::Atomic) => {
            let before: BTreeMap<Element, &Value> = items(field, o).into_iter().collect();
            let after = items(field, n);
            for (e, item) in &after {
                match before.get(e) {
                    None => {
                        let child = set.child(e.clone());
                        child.member = true;
                        if let Value::Object(m) = item {
                            walk_map(m, child);
                        }
                    }
                    Some(prev) if prev == item => {}
                    Some(prev) => match (prev, item) {
                        (Value::Object(pm), Value::Object(im)) => {
                            diff_map(pm, im, set.child(e.clone()), gone.child(e.clone()));
                        }
                        _ => set.child(e.clone()).member = true,
                    },
                }
            }
            for e in before.keys().filter(|e| after.iter().all(|(a, _)| a != *e)) {
                gone.child(e.clone()).member = true;
            }
        }
        _ => set.member = true,
    }
}

/// Takes each of `paths` out of `target` (a field, or a keyed list's or a set's item); a map
/// this leaves empty goes with it.
pub fn remove(target: &mut Value, paths: &[Vec<Element>]) {
    for p in paths {
        remove_in(target, p);
    }
}

/// Removes `path` under map `v`; whether that emptied it.
fn remove_in(v: &mut Value, path: &[Element]) -> bool {
    let (Some((Element::Field(f), rest)), Some(m)) = (path.split_first(), v.as_object_mut()) else {
        return false;
    };
    let removed = match (rest, m.get_mut(f)) {
        (_, None) => false,
        ([], Some(_)) => m.shift_remove(f).is_some(),
        ([item, deeper @ ..], Some(Value::Array(list))) => {
            let at = items(f, list).iter().position(|(e, _)| e == item);
            match (at, deeper) {
                (Some(i), []) => {
                    list.remove(i);
                    false // an emptied list stays, as the applier's `[]` would
                }
                (Some(i), deeper) => {
                    remove_in(&mut list[i], deeper);
                    false
                }
                (None, _) => false,
            }
        }
        (rest, Some(child)) => {
            let emptied = remove_in(child, rest);
            emptied && m.shift_remove(f).is_some()
        }
    };
    removed && m.is_empty()
}

/// The value at `path` in `v` (`None`: there is none).
pub fn value_at<'a>(v: &'a Value, path: &[Element]) -> Option<&'a Value> {
    let mut field = "";
    let mut here = v;
    for e in path {
        here = match e {
            Element::Field(f) => {
                field = f;
                here.get(f.as_str())?
            }
            Element::Index(i) => here.get(*i)?,
            e => {
                let list = here.as_array()?;
                let (_, item) = items(field, list).into_iter().find(|(k, _)| k == e)?;
                item
            }
        };
    }
    Some(here)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn an_applied_configuration_owns_its_leaves_and_items() {
        let config = obj(json!({
            "metadata": {"labels": {"app": "web"}},
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {"spec": {"containers": [{"name": "nginx", "image": "nginx:1.27"}]}},
            },
        }));
        assert_eq!(
            of_config(&config).to_json(),
            json!({
                "f:metadata": {"f:labels": {"f:app": {}}},
                "f:spec": {
                    "f:replicas": {},
                    "f:selector": {},
                    "f:template": {"f:spec": {"f:containers": {
                        "k:{\"name\":\"nginx\"}": {".": {}, "f:image": {}, "f:name": {}},
                    }}},
                },
            })
        );
    }

    #[test]
    fn an_update_owns_what_it_made_and_changed() {
        let old = obj(json!({"metadata": {}, "spec": {"replicas": 1, "template": {"spec": {}}}}));
        let new = obj(json!({
            "metadata": {"labels": {"app": "web"}},
            "spec": {"replicas": 3, "template": {"spec": {"containers": [
                {"name": "nginx", "ports": [{"containerPort": 80}]},
            ]}}},
        }));
        let c = changed(&old, &new);
        assert_eq!(
            c.set.to_json(),
            json!({
                "f:metadata": {"f:labels": {".": {}, "f:app": {}}},
                "f:spec": {
                    "f:replicas": {},
                    "f:template": {"f:spec": {"f:containers": {"k:{\"name\":\"nginx\"}": {
                        ".": {},
                        "f:name": {},
                        "f:ports": {"k:{\"containerPort\":80,\"protocol\":\"TCP\"}": {
                            ".": {},
                            "f:containerPort": {},
                        }},
                    }}}},
                },
            })
        );
        assert!(c.removed.is_empty());
        let back = changed(&new, &old);
        assert!(back.removed.contains(&[
            Element::Field("metadata".into()),
            Element::Field("labels".into())
        ]));
    }

    #[test]
    fn fields_v1_reads_back_and_paths_print_as_upstream() {
        let f = of_config(&obj(json!({"spec": {"template": {"spec": {"containers": [
            {"name": "nginx", "image": "nginx"},
        ]}}}})));
        assert_eq!(Fields::from_json(&f.to_json()), Some(f.clone()));
        let texts: Vec<String> = f.paths().iter().map(|p| PathText(p).to_string()).collect();
        assert_eq!(
            texts,
            [
                ".spec.template.spec.containers[name=\"nginx\"]",
                ".spec.template.spec.containers[name=\"nginx\"].image",
                ".spec.template.spec.containers[name=\"nginx\"].name",
            ]
        );
    }

    #[test]
    fn removal_takes_fields_and_items_and_the_maps_they_emptied() {
        let mut v = json!({"metadata": {"labels": {"a": "1"}}, "spec": {"containers": [
            {"name": "ca", "image": "x", "volumeMounts": [{"mountPath": "/config"}, {"mountPath": "/keep"}]}]}});
        let f = |n: &str| Element::Field(n.into());
        let k = |n: &str, v: &str| Element::Key(vec![(n.into(), Value::from(v).to_string())]);
        let paths = [
            vec![f("metadata"), f("labels"), f("a")],
            vec![
                f("spec"),
                f("containers"),
                k("name", "ca"),
                f("volumeMounts"),
                k("mountPath", "/config"),
            ],
        ];
        remove(&mut v, &paths);
        assert_eq!(
            v,
            json!({"spec": {"containers": [{"name": "ca", "image": "x", "volumeMounts": [{"mountPath": "/keep"}]}]}})
        );
    }

    #[test]
    fn set_algebra() {
        let replicas = [
            Element::Field("spec".into()),
            Element::Field("replicas".into()),
        ];
        let mut a = of_config(&obj(json!({"spec": {"replicas": 1, "paused": false}})));
        let b = of_config(&obj(json!({"spec": {"replicas": 2}})));
        a.subtract(&b);
        assert!(!a.contains(&replicas));
        assert!(a.contains(&[
            Element::Field("spec".into()),
            Element::Field("paused".into())
        ]));
        let only = b.only(&replicas);
        assert_eq!(only, b);
        let v = json!({"spec": {"replicas": 2}});
        assert_eq!(value_at(&v, &replicas), Some(&json!(2)));
    }
}
