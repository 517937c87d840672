//! `POST .../pods/{name}/eviction` (policy/v1 `Eviction`), what `kubectl drain` sends for each
//! pod: the pod goes as a delete does, unless a PodDisruptionBudget selecting it has no
//! disruption left (429, kube-apiserver's words), or more than one selects it (500).

use super::discovery::Resource;
use super::server::App;
use super::status::KubeError;
use magsim_sim::engine::Operation;
use magsim_sim::kube::Labels;
use serde_json::{json, Value};
use std::sync::Arc;

type Result<T> = std::result::Result<T, KubeError>;

/// A budget's `spec.selector` (`matchLabels` and `matchExpressions`) against `labels`; an
/// empty selector selects every pod of the namespace, as for policy/v1.
fn selects(selector: &Value, labels: &Labels) -> bool {
    let match_labels = selector["matchLabels"].as_object();
    let labels_ok = match_labels.is_none_or(|m| {
        m.iter()
            .all(|(k, v)| labels.get(k).map(String::as_str) == v.as_str())
    });
    let exprs_ok = selector["matchExpressions"]
        .as_array()
        .into_iter()
        .flatten()
        .all(|e| {
            let key = e["key"].as_str().unwrap_or_default();
            let values: Vec<&str> = e["values"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            let v = labels.get(key).map(String::as_str);
            match e["operator"].as_str() {
                Some("In") => v.is_some_and(|v| values.contains(&v)),
                Some("NotIn") => v.is_none_or(|v| !values.contains(&v)),
                Some("Exists") => v.is_some(),
                Some("DoesNotExist") => v.is_none(),
                _ => false,
            }
        });
    labels_ok && exprs_ok
}

/// `minAvailable` / `maxUnavailable` as a count of `expected` pods (a percentage rounds up,
/// as `GetScaledValueFromIntOrPercent` does for a budget).
fn scaled(v: &Value, expected: usize) -> Option<usize> {
    match v {
        Value::Number(n) => n.as_u64().and_then(|n| usize::try_from(n).ok()),
        Value::String(s) => {
            let pct: usize = s.strip_suffix('%')?.parse().ok()?;
            Some((pct * expected).div_ceil(100))
        }
        _ => None,
    }
}

/// Evicts the pod, or answers why not.
pub fn evict(app: &Arc<App>, namespace: &str, name: &str, body: Option<&Value>) -> Result<Value> {
    if let Some(named) = body.and_then(|b| b["metadata"]["name"].as_str()) {
        if named != name {
            return Err(KubeError::bad_request(
                "name in URL does not match name in Eviction object",
            ));
        }
    }
    let engine = app.live.engine();
    let id = engine
        .world
        .find_pod(namespace, name)
        .ok_or_else(|| KubeError::not_found("", "pods", name))?;
    let pod = engine.world.pod(id);
    let healthy = pod.phase == magsim_sim::kube::PodPhase::Running;
    let budgets: Vec<(&String, &Value)> = engine
        .world
        .stored
        .iter()
        .filter(|((r, ns, _), _)| {
            *r == Resource::PodDisruptionBudgets.stored_name() && ns == namespace
        })
        .map(|((_, _, n), v)| (n, v))
        .filter(|(_, v)| selects(&v["spec"]["selector"], &pod.labels))
        .collect();
    if budgets.len() > 1 {
        return Err(KubeError::new(
            500,
            "InternalError",
            "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.",
        ));
    }
    if let (Some((budget, pdb)), true) = (budgets.first(), healthy) {
        let selected: Vec<bool> = engine
            .world
            .live_pods()
            .filter(|(_, p)| {
                &*p.namespace == namespace && selects(&pdb["spec"]["selector"], &p.labels)
            })
            .map(|(_, p)| p.phase == magsim_sim::kube::PodPhase::Running)
            .collect();
        let expected = selected.len();
        let current = selected.iter().filter(|h| **h).count();
        let desired = match (
            scaled(&pdb["spec"]["minAvailable"], expected),
            scaled(&pdb["spec"]["maxUnavailable"], expected),
        ) {
            (Some(min), _) => min,
            (None, Some(max)) => expected.saturating_sub(max),
            (None, None) => expected,
        };
        if current <= desired {
            return Err(KubeError::new(
                429,
                "TooManyRequests",
                "Cannot evict pod as it would violate the pod's disruption budget.",
            )
            .with_cause(
                "DisruptionBudget",
                format!(
                    "The disruption budget {budget} needs {desired} healthy pods and has {current} currently"
                ),
            ));
        }
    }
    drop(engine);
    let op = Operation::DeletePod {
        namespace: namespace.to_string(),
        name: name.to_string(),
    };
    app.live.mutate(|e| e.apply(op, None));
    Ok(json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "code": 201,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budgets_scale_percentages_up_and_select_by_expression() {
        assert_eq!(scaled(&json!("50%"), 3), Some(2));
        assert_eq!(scaled(&json!(1), 3), Some(1));
        let labels: Labels = [("app".to_string(), "web".to_string())].into();
        assert!(selects(&json!({"matchLabels": {"app": "web"}}), &labels));
        assert!(selects(&json!({}), &labels));
        assert!(!selects(
            &json!({"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["web"]}]}),
            &labels
        ));
    }
}
