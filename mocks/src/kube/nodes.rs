//! Node writes as kubectl makes them: `cordon`/`uncordon` (`spec.unschedulable`), `label`
//! (`metadata.labels`) and `taint` (`spec.taints`): the patched object is read back into the
//! engine, whose scheduler places pending pods against the node as it now is. The taints the
//! node lifecycle controller derives (not-ready, unschedulable) stay the controller's.

use super::discovery::Resource;
use super::server::App;
use super::status::KubeError;
use super::writes::Patch;
use magsim_sim::engine::Operation;
use magsim_sim::kube::{Labels, Taint, TaintEffect};
use serde_json::Value;
use std::sync::Arc;

type Result<T> = std::result::Result<T, KubeError>;

/// Taint keys the node lifecycle controller owns.
const DERIVED: [&str; 3] = [
    "node.kubernetes.io/not-ready",
    "node.kubernetes.io/unreachable",
    "node.kubernetes.io/unschedulable",
];

fn current(app: &Arc<App>, name: &str) -> Result<Value> {
    app.store
        .sync(&app.live)
        .get(Resource::Nodes, "", name)
        .ok_or_else(|| KubeError::not_found("", "nodes", name))?
        .value()
        .map_err(Into::into)
}

fn labels(v: &Value) -> Result<Labels> {
    let mut out = Labels::new();
    for (k, v) in v.as_object().into_iter().flatten() {
        let v = v.as_str().ok_or_else(|| {
            KubeError::bad_request(format!(
                "error decoding patch: metadata.labels.{k}: expected a string, got {v}"
            ))
        })?;
        out.insert(k.clone(), v.to_string());
    }
    Ok(out)
}

fn taints(v: &Value, name: &str) -> Result<Vec<Taint>> {
    let mut out = Vec::new();
    for t in v.as_array().into_iter().flatten() {
        let key = t["key"].as_str().unwrap_or_default();
        if DERIVED.contains(&key) {
            continue;
        }
        let effect = t["effect"].as_str().unwrap_or_default();
        let effect = TaintEffect::parse(effect).ok_or_else(|| {
            KubeError::invalid(
                "Node",
                name,
                &format!(
                    "spec.taints[0].effect: Unsupported value: {effect:?}: supported values: \"NoSchedule\", \"PreferNoSchedule\", \"NoExecute\""
                ),
            )
        })?;
        out.push(Taint::new(
            key,
            t["value"].as_str().unwrap_or_default(),
            effect,
        ));
    }
    Ok(out)
}

/// `PATCH /api/v1/nodes/{name}`.
pub fn patch(app: &Arc<App>, name: &str, patch: &Patch) -> Result<Value> {
    let before = current(app, name)?;
    let mut next = before.clone();
    patch.apply(&mut next)?;
    let unschedulable = match &next["spec"]["unschedulable"] {
        Value::Bool(b) => *b,
        Value::Null => false,
        other => {
            return Err(KubeError::bad_request(format!(
                "error decoding patch: spec.unschedulable: expected a boolean, got {other}"
            )))
        }
    };
    let new_labels = labels(&next["metadata"]["labels"])?;
    let new_taints = taints(&next["spec"]["taints"], name)?;
    let relabel = new_labels != labels(&before["metadata"]["labels"])?
        || new_taints != taints(&before["spec"]["taints"], name)?;
    let cordon = unschedulable != (before["spec"]["unschedulable"] == Value::Bool(true));
    app.live.mutate(|e| {
        if relabel {
            e.apply(
                Operation::SetNodeLabelsAndTaints {
                    node: name.to_string(),
                    labels: new_labels,
                    taints: new_taints,
                },
                None,
            );
        }
        if cordon {
            e.apply(
                Operation::Cordon {
                    node: name.to_string(),
                    unschedulable,
                },
                None,
            );
        }
    });
    current(app, name)
}
