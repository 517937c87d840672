//! Field selectors (`status.phase!=Running,spec.nodeName=n`) and label selectors
//! (`app=x`, `tier!=db`, `env in (a,b)`, `!canary`), applied to rendered objects.

use super::discovery::Resource;
use serde_json::Value;

#[derive(Clone, Debug, PartialEq, Eq)]
struct FieldReq {
    field: String,
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

/// Fields each resource can be selected by (besides `metadata.name` / `metadata.namespace`).
fn fields(resource: Resource) -> &'static [&'static str] {
    match resource {
        Resource::Pods => &[
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
        Resource::Nodes => &["spec.unschedulable"],
        Resource::Namespaces => &["status.phase"],
        Resource::ReplicaSets => &["status.replicas"],
        Resource::Jobs => &["status.successful"],
        _ => &[],
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
            if field != "metadata.name"
                && field != "metadata.namespace"
                && !fields(resource).contains(&field)
            {
                return Err(format!("field label not supported: {field}"));
            }
            reqs.push(FieldReq {
                field: field.to_string(),
                equal,
                value: value.trim().to_string(),
            });
        }
        Ok(FieldSelector { reqs })
    }

    pub fn matches(&self, resource: Resource, obj: &Value) -> bool {
        self.reqs
            .iter()
            .all(|r| (field_value(resource, obj, &r.field) == r.value) == r.equal)
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

    pub fn matches(&self, obj: &Value) -> bool {
        let labels = obj["metadata"]["labels"].as_object();
        let get = |k: &str| labels.and_then(|l| l.get(k)).and_then(Value::as_str);
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn field_selectors() {
        let pod = json!({"metadata": {"name": "p"}, "spec": {"nodeName": "n1"}, "status": {"phase": "Running"}});
        let s = FieldSelector::parse(Resource::Pods, "status.phase!=Pending,spec.nodeName==n1")
            .unwrap();
        assert!(s.matches(Resource::Pods, &pod));
        let s = FieldSelector::parse(Resource::Pods, "status.phase=Pending").unwrap();
        assert!(!s.matches(Resource::Pods, &pod));
        let empty = FieldSelector::parse(Resource::Pods, "status.nominatedNodeName=").unwrap();
        assert!(empty.matches(Resource::Pods, &pod));
        assert_eq!(
            FieldSelector::parse(Resource::Events, "foo=bar").unwrap_err(),
            "field label not supported: foo"
        );
        let ev =
            json!({"source": {"component": "cluster-autoscaler"}, "reason": "NotTriggerScaleUp"});
        let s = FieldSelector::parse(
            Resource::Events,
            "source=cluster-autoscaler,reason=NotTriggerScaleUp",
        )
        .unwrap();
        assert!(s.matches(Resource::Events, &ev));
    }

    #[test]
    fn label_selectors() {
        let o = json!({"metadata": {"labels": {"app": "high-memory", "tier": "web"}}});
        for (sel, want) in [
            ("app=high-memory", true),
            ("app==high-memory,tier=web", true),
            ("app!=high-memory", false),
            ("app in (a,high-memory)", true),
            ("app notin (a,high-memory)", false),
            ("tier", true),
            ("!tier", false),
            ("!canary", true),
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
