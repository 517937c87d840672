//! `kubectl apply -f` manifests: the Deployments, Secrets and RBAC objects a step applies.
//! A Deployment whose image is cluster-autoscaler becomes an autoscaler deployment.

use magsim_sim::deploy::{AutoscalerSpec, Placement, SecretMount};
use magsim_sim::engine::Operation;
use magsim_sim::kube::{
    Deployment, Labels, NodeAffinity, NodeSelectorRequirement, NodeSelectorTerm, PodSpec,
    SelectorOp, TaintEffect, Toleration, TolerationOp,
};
use magsim_sim::resources::{parse_bytes, parse_cpu, Resources};
use magsim_sim::world::Secret;
use serde::Deserialize;
use serde_yaml_ng::Value;
use std::collections::BTreeMap;

/// One applied object: the operation plus kubectl's `kind/name` for its output line.
#[derive(Clone, Debug, PartialEq)]
pub struct Applied {
    pub op: Option<Operation>,
    /// `deployment.apps/cluster-autoscaler`, `secret/x`, `clusterrole.rbac.authorization.k8s.io/x`.
    pub object: String,
}

/// Reads a (multi-document) manifest. `hash` names generated ReplicaSets deterministically.
pub fn parse(
    text: &str,
    delete: bool,
    hash: &mut dyn FnMut() -> String,
) -> Result<Vec<Applied>, String> {
    let mut out = Vec::new();
    for (i, doc) in serde_yaml_ng::Deserializer::from_str(text).enumerate() {
        let v = Value::deserialize(doc).map_err(|e| format!("manifest document {}: {e}", i + 1))?;
        if v.is_null() {
            continue;
        }
        out.push(
            object(&v, delete, hash).map_err(|e| format!("manifest document {}: {e}", i + 1))?,
        );
    }
    Ok(out)
}

fn s<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(v, |v, k| v.get(*k))
}

fn text(v: &Value, path: &[&str]) -> Option<String> {
    s(v, path).and_then(|v| match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    })
}

fn object(v: &Value, delete: bool, hash: &mut dyn FnMut() -> String) -> Result<Applied, String> {
    let kind = text(v, &["kind"]).ok_or("missing kind")?;
    let name = text(v, &["metadata", "name"]).ok_or("missing metadata.name")?;
    let namespace = text(v, &["metadata", "namespace"]).unwrap_or_else(|| "default".into());
    let group = |g: &str| format!("{}.{g}/{name}", kind.to_lowercase());
    Ok(match kind.as_str() {
        "Deployment" => {
            let image = container(v).ok().and_then(|c| text(c, &["image"])).unwrap_or_default();
            let op = if delete {
                if image.contains("cluster-autoscaler") {
                    Operation::RemoveAutoscaler { name: name.clone() }
                } else {
                    Operation::DeleteDeployment { namespace, name: name.clone() }
                }
            } else if image.contains("cluster-autoscaler") {
                let spec = autoscaler(v, name.clone(), namespace)?;
                check_selector(v)?;
                Operation::DeployAutoscaler(spec)
            } else {
                let d = deployment(v, name.clone(), namespace, hash)?;
                check_selector(v)?;
                Operation::ApplyDeployment(d)
            };
            Applied { op: Some(op), object: format!("deployment.apps/{name}") }
        }
        "Secret" => {
            let mut data = BTreeMap::new();
            if let Some(Value::Mapping(m)) = s(v, &["data"]) {
                for (k, val) in m {
                    let (Some(k), Some(val)) = (k.as_str(), val.as_str()) else { continue };
                    let bytes = base64(val).ok_or_else(|| format!("data.{k}: not valid base64"))?;
                    data.insert(k.to_string(), String::from_utf8_lossy(&bytes).into_owned());
                }
            }
            if let Some(Value::Mapping(m)) = s(v, &["stringData"]) {
                for (k, val) in m {
                    if let (Some(k), Some(val)) = (k.as_str(), val.as_str()) {
                        data.insert(k.to_string(), val.to_string());
                    }
                }
            }
            let op = if delete {
                Operation::DeleteSecret { namespace, name: name.clone() }
            } else {
                Operation::ApplySecret(Secret { namespace, name: name.clone(), data })
            };
            Applied { op: Some(op), object: format!("secret/{name}") }
        }
        "ServiceAccount" | "ConfigMap" => Applied { op: None, object: format!("{}/{name}", kind.to_lowercase()) },
        "ClusterRole" | "ClusterRoleBinding" | "Role" | "RoleBinding" => Applied { op: None, object: group("rbac.authorization.k8s.io") },
        other => return Err(format!("unsupported kind {other}: magsim applies Deployment, Secret, ServiceAccount, ConfigMap and RBAC objects")),
    })
}

/// apps/v1's `ValidateDeploymentSpec` of the selector, in kube-apiserver's words: it is
/// required (apps/v1 defaults none from the template), not empty, and it selects the
/// template's labels.
fn check_selector(v: &Value) -> Result<(), String> {
    let labels = s(v, &["spec", "template", "metadata", "labels"]).filter(|l| !l.is_null());
    let shown = match labels {
        None => "map[string]string(nil)".to_string(),
        Some(l) => {
            let pairs: Vec<String> = string_map(Some(l))
                .iter()
                .map(|(k, v)| format!("{k:?}:{v:?}"))
                .collect();
            format!("map[string]string{{{}}}", pairs.join(", "))
        }
    };
    let mismatch = format!(
        "spec.template.metadata.labels: Invalid value: {shown}: `selector` does not match template `labels`"
    );
    let Some(selector) = s(v, &["spec", "selector"]).filter(|s| !s.is_null()) else {
        return Err(format!("[spec.selector: Required value, {mismatch}]"));
    };
    let match_labels = string_map(selector.get("matchLabels"));
    let expressions = selector
        .get("matchExpressions")
        .and_then(Value::as_sequence)
        .cloned()
        .unwrap_or_default();
    if match_labels.is_empty() && expressions.is_empty() {
        return Err("spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for deployment".into());
    }
    let labels = string_map(labels);
    let matches = match_labels.iter().all(|(k, v)| labels.get(k) == Some(v))
        && expressions.iter().all(|e| {
            let key = text(e, &["key"]).unwrap_or_default();
            let values = strings(e.get("values"));
            let value = labels.get(&key);
            match text(e, &["operator"]).as_deref() {
                Some("In") => value.is_some_and(|v| values.contains(v)),
                Some("NotIn") => value.is_none_or(|v| !values.contains(v)),
                Some("Exists") => value.is_some(),
                Some("DoesNotExist") => value.is_none(),
                _ => false,
            }
        });
    if matches {
        Ok(())
    } else {
        Err(mismatch)
    }
}

fn container(v: &Value) -> Result<&Value, String> {
    s(v, &["spec", "template", "spec", "containers"])
        .and_then(|c| c.get(0))
        .ok_or_else(|| "spec.template.spec.containers[0] is missing".to_string())
}

fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Sequence(items)) => items
            .iter()
            .filter_map(|i| i.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

fn autoscaler(v: &Value, name: String, namespace: String) -> Result<AutoscalerSpec, String> {
    let c = container(v)?;
    let mut args: Vec<String> = strings(c.get("command"))
        .into_iter()
        .filter(|a| a.starts_with('-'))
        .collect();
    args.extend(strings(c.get("args")));
    let volumes = s(v, &["spec", "template", "spec", "volumes"])
        .and_then(Value::as_sequence)
        .cloned()
        .unwrap_or_default();
    let mut mounts = Vec::new();
    for m in c
        .get("volumeMounts")
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
    {
        let (Some(vol), Some(path)) = (text(m, &["name"]), text(m, &["mountPath"])) else {
            continue;
        };
        let secret = volumes
            .iter()
            .find(|x| text(x, &["name"]).as_deref() == Some(vol.as_str()))
            .and_then(|x| text(x, &["secret", "secretName"]));
        if let Some(secret) = secret {
            mounts.push(SecretMount {
                mount_path: path,
                secret,
            });
        }
    }
    Ok(AutoscalerSpec {
        name: name.clone(),
        placement: Placement::InCluster {
            namespace,
            deployment: name,
        },
        image: text(c, &["image"]).unwrap_or_default(),
        args,
        mounts,
        files: BTreeMap::new(),
        legacy_status: false,
        timer_scale: 1,
    })
}

fn deployment(
    v: &Value,
    name: String,
    namespace: String,
    hash: &mut dyn FnMut() -> String,
) -> Result<Deployment, String> {
    let c = container(v)?;
    let q = |key: &str| text(c, &["resources", "requests", key]);
    let mut requests = Resources {
        pods: 1,
        ..Resources::ZERO
    };
    if let Some(cpu) = q("cpu") {
        requests.milli_cpu = parse_cpu(&cpu).map_err(|e| e.to_string())?;
    }
    if let Some(m) = q("memory") {
        requests.memory = parse_bytes(&m).map_err(|e| e.to_string())?;
    }
    if let Some(g) = q("nvidia.com/gpu") {
        requests.gpus = g
            .parse()
            .map_err(|_| format!("invalid nvidia.com/gpu request {g:?}"))?;
    }
    let pod = s(v, &["spec", "template", "spec"])
        .cloned()
        .unwrap_or(Value::Null);
    let labels = string_map(s(v, &["spec", "template", "metadata", "labels"]));
    let mut spec = PodSpec {
        requests,
        node_selector: string_map(pod.get("nodeSelector")),
        container: text(c, &["name"]).unwrap_or_else(|| "app".into()),
        image: text(c, &["image"]).unwrap_or_default(),
        node_name: text(&pod, &["nodeName"]),
        ..Default::default()
    };
    for t in pod
        .get("tolerations")
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
    {
        spec.tolerations.push(Toleration {
            key: text(t, &["key"]).unwrap_or_default(),
            op: if text(t, &["operator"]).as_deref() == Some("Exists") {
                TolerationOp::Exists
            } else {
                TolerationOp::Equal
            },
            value: text(t, &["value"]).unwrap_or_default(),
            effect: text(t, &["effect"]).and_then(|e| TaintEffect::parse(&e)),
        });
    }
    let terms = s(
        &pod,
        &[
            "affinity",
            "nodeAffinity",
            "requiredDuringSchedulingIgnoredDuringExecution",
            "nodeSelectorTerms",
        ],
    );
    for term in terms.and_then(Value::as_sequence).into_iter().flatten() {
        let mut t = NodeSelectorTerm::default();
        for e in term
            .get("matchExpressions")
            .and_then(Value::as_sequence)
            .into_iter()
            .flatten()
        {
            let op = text(e, &["operator"]).unwrap_or_default();
            t.match_expressions.push(NodeSelectorRequirement {
                key: text(e, &["key"]).unwrap_or_default(),
                op: SelectorOp::parse(&op)
                    .ok_or_else(|| format!("unknown node affinity operator {op:?}"))?,
                values: strings(e.get("values")),
            });
        }
        spec.affinity = NodeAffinity {
            required_terms: {
                let mut r = spec.affinity.required_terms.clone();
                r.push(t);
                r
            },
        };
    }
    for p in c
        .get("ports")
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
    {
        if let Some(hp) = p.get("hostPort").and_then(Value::as_u64) {
            spec.host_ports.push(hp as u16);
        }
    }
    let replicas = s(v, &["spec", "replicas"])
        .and_then(Value::as_u64)
        .unwrap_or(1);
    let max = magsim_sim::limits::MAX_PODS;
    let replicas = u32::try_from(replicas)
        .ok()
        .filter(|&r| r <= max)
        .ok_or_else(|| {
            format!("spec.replicas: {replicas}: expected at most {max} (magsim's limit on pods per scenario)")
        })?;
    Ok(Deployment {
        name,
        namespace,
        replicas,
        labels,
        spec: spec.into(),
        template_hash: hash(),
        pinned_pod_names: Vec::new(),
    })
}

fn string_map(v: Option<&Value>) -> Labels {
    let mut out = Labels::new();
    if let Some(Value::Mapping(m)) = v {
        for (k, val) in m {
            if let Some(k) = k.as_str() {
                let val = match val {
                    Value::String(s) => s.clone(),
                    other => serde_yaml_ng::to_string(other)
                        .unwrap_or_default()
                        .trim()
                        .to_string(),
                };
                out.insert(k.to_string(), val);
            }
        }
    }
    out
}

/// Standard base64 (Secret `data`), padding optional, whitespace ignored.
fn base64(text: &str) -> Option<Vec<u8>> {
    let mut bits = 0u32;
    let mut n = 0;
    let mut out = Vec::new();
    for c in text
        .bytes()
        .filter(|c| !c.is_ascii_whitespace() && *c != b'=')
    {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32;
        bits = (bits << 6) | v;
        n += 6;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
            bits &= (1 << n) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_decodes() {
        assert_eq!(base64("aGVsbG8=").unwrap(), b"hello");
        assert_eq!(base64("W0dsb2JhbF0K").unwrap(), b"[Global]\n");
        assert!(base64("!!").is_none());
    }

    #[test]
    fn a_deployment_s_selector_is_checked_as_apps_v1_does() {
        let doc = |spec: &str| {
            format!("apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web}}\nspec:\n{spec}  template:\n    metadata: {{labels: {{app: web, tier: a}}}}\n    spec: {{containers: [{{name: c, image: nginx}}]}}\n")
        };
        let err = |spec: &str| parse(&doc(spec), false, &mut || "h".into()).unwrap_err();
        assert_eq!(
            err(""),
            "manifest document 1: [spec.selector: Required value, spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"web\", \"tier\":\"a\"}: `selector` does not match template `labels`]"
        );
        assert_eq!(
            err("  selector: {matchLabels: {app: db}}\n"),
            "manifest document 1: spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"web\", \"tier\":\"a\"}: `selector` does not match template `labels`"
        );
        assert!(err("  selector: {}\n").ends_with("empty selector is invalid for deployment"));
        assert!(parse(
            &doc("  selector: {matchExpressions: [{key: tier, operator: In, values: [a]}]}\n"),
            false,
            &mut || "h".into()
        )
        .is_ok());
    }

    #[test]
    fn autoscaler_manifest_becomes_a_spec() {
        let m = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: cluster-autoscaler, namespace: kube-system}
spec:
  selector: {matchLabels: {app: cluster-autoscaler}}
  template:
    metadata: {labels: {app: cluster-autoscaler}}
    spec:
      containers:
      - name: cluster-autoscaler
        image: registry.k8s.io/autoscaling/cluster-autoscaler:v1.18.3
        command: [./cluster-autoscaler, --cloud-provider=magnum, --nodes=1:6:DefaultNodeGroup]
        volumeMounts: [{name: cloud-config, mountPath: /config}]
      volumes:
      - name: cloud-config
        secret: {secretName: cluster-autoscaler-cloud-config}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: cluster-autoscaler, namespace: kube-system}
"#;
        let out = parse(m, false, &mut || "abc".into()).unwrap();
        assert_eq!(out[1].object, "serviceaccount/cluster-autoscaler");
        let Some(Operation::DeployAutoscaler(spec)) = &out[0].op else {
            panic!("not an autoscaler")
        };
        assert_eq!(
            spec.args,
            ["--cloud-provider=magnum", "--nodes=1:6:DefaultNodeGroup"]
        );
        assert_eq!(spec.mounts[0].mount_path, "/config");
        assert!(
            parse("kind: Gizmo\nmetadata: {name: x}\n", false, &mut || "h"
                .into())
            .unwrap_err()
            .contains("unsupported kind Gizmo")
        );
    }
}
