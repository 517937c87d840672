//! Field selectors (`status.phase!=Running,spec.nodeName=n`) and label selectors
//! (`app=x`, `tier!=db`, `env in (a,b)`, `!canary`), applied to an object's [`Selectable`]
//! projection, taken once when the store keeps the object, so lists and watches select
//! without parsing the stored JSON.

use super::discovery::Resource;
use super::objects::ObjKey;
use serde_json::Value;

#[derive(Clone, Debug, PartialEq, Eq)]
struct FieldReq {
    /// The field's position in [`fields`] of the selector's resource.
    field: usize,
    equal: bool,
    value: String,
}

/// A parsed `fieldSelector`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldSelector {
    reqs: Vec<FieldReq>,
}

impl FieldSelector {
    pub fn is_empty(&self) -> bool {
        self.reqs.is_empty()
    }
}

/// Fields each resource can be selected by; every resource has `metadata.name` and
/// `metadata.namespace`, first.
fn fields(resource: Resource) -> &'static [&'static str] {
    match resource {
        Resource::Pods => &[
            "metadata.name",
            "metadata.namespace",
            "spec.nodeName",
            "spec.restartPolicy",
            "spec.schedulerName",
            "spec.serviceAccountName",
            "spec.hostNetwork",
            "status.phase",
            "status.podIP",
            "status.nominatedNodeName",
        ],
        Resource::Events => &[
            "metadata.name",
            "metadata.namespace",
            "involvedObject.kind",
            "involvedObject.namespace",
            "involvedObject.name",
            "involvedObject.uid",
            "involvedObject.apiVersion",
            "involvedObject.resourceVersion",
            "involvedObject.fieldPath",
            "reason",
            "reportingComponent",
            "source",
            "type",
        ],
        Resource::Nodes => &["metadata.name", "metadata.namespace", "spec.unschedulable"],
        Resource::Namespaces => &["metadata.name", "metadata.namespace", "status.phase"],
        Resource::ReplicaSets => &["metadata.name", "metadata.namespace", "status.replicas"],
        Resource::Jobs => &["metadata.name", "metadata.namespace", "status.successful"],
        _ => &["metadata.name", "metadata.namespace"],
    }
}

fn json_path<'a>(obj: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(obj, |v, part| v.get(part))
}

/// The string value of `field` on `obj` (`""` when absent), as the API server compares it.
fn field_value(resource: Resource, obj: &Value, field: &str) -> String {
    let path = match (resource, field) {
        (Resource::Events, "source") => "source.component",
        _ => field,
    };
    match json_path(obj, path) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Bool(b)) => b.to_string(),
        Some(Value::Number(n)) => n.to_string(),
        Some(_) => String::new(),
        None if path == "spec.hostNetwork" || path == "spec.unschedulable" => "false".into(),
        None => String::new(),
    }
}

impl FieldSelector {
    /// Parses a selector for `resource`; an unsupported field is the API server's
    /// `field label not supported: <field>`.
    pub fn parse(resource: Resource, text: &str) -> Result<FieldSelector, String> {
        let mut reqs = Vec::new();
        for part in text.split(',').filter(|p| !p.trim().is_empty()) {
            let (field, equal, value) = if let Some((f, v)) = part.split_once("!=") {
                (f, false, v)
            } else if let Some((f, v)) = part.split_once("==") {
                (f, true, v)
            } else if let Some((f, v)) = part.split_once('=') {
                (f, true, v)
            } else {
                return Err(format!(
                    "invalid selector: '{text}'; can't understand '{part}'"
                ));
            };
            let field = field.trim();
            let Some(field) = fields(resource).iter().position(|f| *f == field) else {
                return Err(format!("field label not supported: {field}"));
            };
            reqs.push(FieldReq {
                field,
                equal,
                value: value.trim().to_string(),
            });
        }
        Ok(FieldSelector { reqs })
    }

    /// Whether an object of the selector's resource matches.
    pub fn matches(&self, obj: &Selectable) -> bool {
        self.reqs
            .iter()
            .all(|r| (obj.field(r.field) == r.value) == r.equal)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum LabelReq {
    Eq(String, String),
    NotEq(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
}

/// A parsed `labelSelector`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LabelSelector {
    reqs: Vec<LabelReq>,
}

impl LabelSelector {
    pub fn is_empty(&self) -> bool {
        self.reqs.is_empty()
    }
}

/// Splits on commas outside parentheses.
fn split_top(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut start) = (0i32, 0);
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&text[start..]);
    out
}

fn valid_key(k: &str) -> bool {
    !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
}

fn set_values(rest: &str) -> Option<Vec<String>> {
    let inner = rest.trim().strip_prefix('(')?.strip_suffix(')')?;
    Some(
        inner
            .split(',')
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .collect(),
    )
}

impl LabelSelector {
    pub fn parse(text: &str) -> Result<LabelSelector, String> {
        let bad = |part: &str| format!("unable to parse requirement: found '{part}'");
        let mut reqs = Vec::new();
        for part in split_top(text) {
            let p = part.trim();
            if p.is_empty() {
                continue;
            }
            let req = if let Some(k) = p.strip_prefix('!') {
                LabelReq::NotExists(k.trim().to_string())
            } else if let Some((k, v)) = p.split_once("!=") {
                LabelReq::NotEq(k.trim().to_string(), v.trim().to_string())
            } else if let Some((k, v)) = p.split_once("==") {
                LabelReq::Eq(k.trim().to_string(), v.trim().to_string())
            } else if let Some((k, v)) = p.split_once('=') {
                LabelReq::Eq(k.trim().to_string(), v.trim().to_string())
            } else if let Some((k, rest)) = p.split_once(" notin ") {
                LabelReq::NotIn(
                    k.trim().to_string(),
                    set_values(rest).ok_or_else(|| bad(p))?,
                )
            } else if let Some((k, rest)) = p.split_once(" in ") {
                LabelReq::In(
                    k.trim().to_string(),
                    set_values(rest).ok_or_else(|| bad(p))?,
                )
            } else {
                LabelReq::Exists(p.to_string())
            };
            let key = match &req {
                LabelReq::Eq(k, _)
                | LabelReq::NotEq(k, _)
                | LabelReq::In(k, _)
                | LabelReq::NotIn(k, _)
                | LabelReq::Exists(k)
                | LabelReq::NotExists(k) => k,
            };
            if !valid_key(key) {
                return Err(bad(p));
            }
            reqs.push(req);
        }
        Ok(LabelSelector { reqs })
    }

    pub fn matches(&self, obj: &Selectable) -> bool {
        let get = |k: &str| obj.label(k);
        self.reqs.iter().all(|r| match r {
            LabelReq::Eq(k, v) => get(k) == Some(v.as_str()),
            LabelReq::NotEq(k, v) => get(k) != Some(v.as_str()),
            LabelReq::In(k, vs) => get(k).is_some_and(|x| vs.iter().any(|v| v == x)),
            LabelReq::NotIn(k, vs) => get(k).is_none_or(|x| !vs.iter().any(|v| v == x)),
            LabelReq::Exists(k) => get(k).is_some(),
            LabelReq::NotExists(k) => get(k).is_none(),
        })
    }
}

/// What selectors read of one object: its labels and the values of the fields its resource
/// can be selected by. Taken when the store keeps the object (a few short strings beside its
/// JSON), so selecting never parses the stored bytes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Selectable {
    /// `metadata.labels` with string values, in the object's order.
    labels: Box<[(Box<str>, Box<str>)]>,
    /// The values of [`fields`] of the object's resource, in that order.
    fields: Box<[Box<str>]>,
}

impl Selectable {
    /// The projection of `obj`, an object of `resource`.
    pub fn of(resource: Resource, obj: &Value) -> Selectable {
        let labels = obj["metadata"]["labels"]
            .as_object()
            .into_iter()
            .flatten()
            .filter_map(|(k, v)| Some((k.as_str().into(), v.as_str()?.into())))
            .collect();
        let fields = fields(resource)
            .iter()
            .map(|f| field_value(resource, obj, f).into_boxed_str())
            .collect();
        Selectable { labels, fields }
    }

    fn label(&self, key: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(k, _)| &**k == key)
            .map(|(_, v)| &**v)
    }

    fn field(&self, i: usize) -> &str {
        self.fields.get(i).map_or("", |v| v)
    }
}

/// Which objects a list or watch covers: a resource (in a namespace) and its selectors.
#[derive(Clone, Debug)]
pub struct Filter {
    pub resource: Resource,
    pub namespace: Option<String>,
    pub fields: FieldSelector,
    pub labels: LabelSelector,
}

impl Filter {
    /// Every object of `resource` (in `namespace`).
    pub fn all(resource: Resource, namespace: Option<&str>) -> Filter {
        Filter {
            resource,
            namespace: namespace.map(str::to_string),
            fields: FieldSelector::default(),
            labels: LabelSelector::default(),
        }
    }

    /// Whether a covered object is selected.
    pub fn matches(&self, obj: &Selectable) -> bool {
        self.fields.matches(obj) && self.labels.matches(obj)
    }

    /// No field or label selector: every object of the resource (and namespace) matches.
    pub fn is_everything(&self) -> bool {
        self.fields.is_empty() && self.labels.is_empty()
    }

    /// Whether the object under `key` is of the resource (and namespace).
    pub fn covers(&self, key: &ObjKey) -> bool {
        key.resource == self.resource
            && self
                .namespace
                .as_deref()
                .is_none_or(|ns| ns == key.namespace)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn field_selectors() {
        let pod = Selectable::of(
            Resource::Pods,
            &json!({"metadata": {"name": "p"}, "spec": {"nodeName": "n1"}, "status": {"phase": "Running"}}),
        );
        let s = FieldSelector::parse(Resource::Pods, "status.phase!=Pending,spec.nodeName==n1")
            .unwrap();
        assert!(s.matches(&pod));
        let s = FieldSelector::parse(Resource::Pods, "status.phase=Pending").unwrap();
        assert!(!s.matches(&pod));
        let empty = FieldSelector::parse(Resource::Pods, "status.nominatedNodeName=").unwrap();
        assert!(empty.matches(&pod));
        let host = FieldSelector::parse(Resource::Pods, "spec.hostNetwork=false").unwrap();
        assert!(host.matches(&pod), "an absent hostNetwork reads false");
        let name = FieldSelector::parse(Resource::Pods, "metadata.name=p").unwrap();
        assert!(name.matches(&pod));
        assert!(!FieldSelector::parse(Resource::Pods, "metadata.name!=p")
            .unwrap()
            .matches(&pod));
        assert_eq!(
            FieldSelector::parse(Resource::Events, "foo=bar").unwrap_err(),
            "field label not supported: foo"
        );
        let ev = Selectable::of(
            Resource::Events,
            &json!({"source": {"component": "cluster-autoscaler"}, "reason": "NotTriggerScaleUp"}),
        );
        let s = FieldSelector::parse(
            Resource::Events,
            "source=cluster-autoscaler,reason=NotTriggerScaleUp",
        )
        .unwrap();
        assert!(s.matches(&ev));
    }

    #[test]
    fn label_selectors() {
        let o = Selectable::of(
            Resource::Pods,
            &json!({"metadata": {"labels": {"app": "high-memory", "tier": "web", "n": 1}}}),
        );
        for (sel, want) in [
            ("app=high-memory", true),
            ("app==high-memory,tier=web", true),
            ("app!=high-memory", false),
            ("app in (a,high-memory)", true),
            ("app notin (a,high-memory)", false),
            ("tier", true),
            ("!tier", false),
            ("!canary", true),
            ("n", false),
            ("", true),
        ] {
            assert_eq!(
                LabelSelector::parse(sel).unwrap().matches(&o),
                want,
                "{sel}"
            );
        }
        assert!(LabelSelector::parse("app in a").is_err());
        assert!(LabelSelector::parse("a b").is_err());
    }
}
