//! The pod an in-cluster autoscaler runs in: its Deployment's template (as applied, or made
//! from the scenario's spec) and the names the controllers give it, derived, never drawn, so
//! the Kubernetes mock and the runner's model of kubectl name the same pod.

use super::{AutoscalerSpec, Placement};
use crate::ids::derived_uid;
use crate::world::World;
use serde_json::{json, Value};

/// The store key `kubectl apply` keeps an autoscaler's Deployment under (`World::stored`).
pub const STORED_DEPLOYMENTS: &str = "deployments.apps";

/// An in-cluster autoscaler's pod, by name.
#[derive(Clone, Debug, PartialEq)]
pub struct AutoscalerPod {
    pub namespace: String,
    pub deployment: String,
    /// The Deployment's pod template.
    pub template: Value,
    /// Declared by the scenario, not applied: no Deployment was written for it.
    pub declared: bool,
    /// `pod-template-hash`: the ReplicaSet is `<deployment>-<hash>`.
    pub hash: String,
    pub name: String,
    pub uid: String,
}

impl AutoscalerPod {
    /// The pod of `spec`, if it is deployed in the cluster.
    pub fn of(spec: &AutoscalerSpec, world: &World) -> Option<AutoscalerPod> {
        let Placement::InCluster {
            namespace,
            deployment,
        } = &spec.placement
        else {
            return None;
        };
        let stored = world.stored.get(&(
            STORED_DEPLOYMENTS.to_string(),
            namespace.clone(),
            deployment.clone(),
        ));
        let template = stored
            .map(|d| d["spec"]["template"].clone())
            .filter(|t| t["spec"]["containers"].is_array())
            .unwrap_or_else(|| declared_template(spec, deployment));
        // From what the process runs, not the template's text: an applied manifest reaches the
        // engine from YAML in memory and from kubectl's JSON over the wire, one pod either way.
        let hash = pod_template_hash(namespace, deployment, &identity(spec));
        let suffix = pod_suffix(&derived_uid(&[
            "autoscaler-pod",
            namespace,
            deployment,
            &hash,
        ]));
        let name = format!("{deployment}-{hash}-{suffix}");
        let uid = derived_uid(&["pod", namespace, &name]);
        Some(AutoscalerPod {
            namespace: namespace.clone(),
            deployment: deployment.clone(),
            template,
            declared: stored.is_none(),
            hash,
            name,
            uid,
        })
    }

    /// The container the autoscaler runs in: the one whose image is cluster-autoscaler's,
    /// else the first.
    pub fn container(&self) -> Value {
        let containers = self.template["spec"]["containers"].as_array();
        containers
            .and_then(|cs| {
                cs.iter()
                    .find(|c| {
                        c["image"]
                            .as_str()
                            .is_some_and(|i| i.contains("cluster-autoscaler"))
                    })
                    .or_else(|| cs.first())
            })
            .cloned()
            .unwrap_or_else(|| json!({"name": "cluster-autoscaler"}))
    }

    /// The node it runs on: the first live node (by name) its `nodeSelector` matches. The
    /// engine runs the process whether or not one matches (a scenario's world often leaves
    /// out the control-plane nodes a manifest selects), so with none it is the first live node.
    pub fn node(&self, world: &World) -> Option<crate::kube::NodeId> {
        let selector = self.template["spec"]["nodeSelector"].as_object();
        let matches = |labels: &crate::kube::Labels| {
            selector.is_none_or(|s| {
                s.iter()
                    .all(|(k, v)| labels.get(k).map(String::as_str) == v.as_str())
            })
        };
        let first = |only_matching: bool| {
            world
                .live_nodes()
                .filter(|(_, n)| !only_matching || matches(&n.labels))
                .min_by(|a, b| a.1.name.cmp(&b.1.name))
                .map(|(id, _)| id)
        };
        first(true).or_else(|| first(false))
    }

    /// Its address in the pod range, from the autoscaler's index in the engine.
    pub fn ip(&self, index: usize) -> String {
        format!("10.100.255.{}", index % 250 + 2)
    }

    pub fn container_name(&self) -> String {
        self.container()["name"]
            .as_str()
            .unwrap_or("cluster-autoscaler")
            .to_string()
    }
}

/// What makes one pod template differ from the next: image, command line and mounts.
fn identity(spec: &AutoscalerSpec) -> String {
    let mut s = spec.image.clone();
    for a in &spec.args {
        s.push('\0');
        s.push_str(a);
    }
    for m in &spec.mounts {
        s.push('\n');
        s.push_str(&m.mount_path);
        s.push('=');
        s.push_str(&m.secret);
    }
    s
}

/// The template of a scenario-declared autoscaler's Deployment.
fn declared_template(spec: &AutoscalerSpec, deployment: &str) -> Value {
    let command: Vec<String> = std::iter::once("./cluster-autoscaler".to_string())
        .chain(spec.args.iter().cloned())
        .collect();
    json!({
        "metadata": {"labels": {"app": deployment}},
        "spec": {"containers": [{
            "name": "cluster-autoscaler",
            "image": spec.image,
            "command": command,
        }]},
    })
}

/// Kubernetes' name alphabet (no vowels, no look-alikes).
const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// A `pod-template-hash` for a Deployment's template (its JSON text), as the controller
/// derives one: 10 characters of the alphabet.
pub fn pod_template_hash(namespace: &str, name: &str, template: &str) -> String {
    let uid = derived_uid(&["pod-template", namespace, name, template]);
    uid.bytes()
        .filter(u8::is_ascii_hexdigit)
        .take(10)
        .enumerate()
        .map(|(i, b)| ALPHABET[(usize::from(b) * 7 + i) % ALPHABET.len()] as char)
        .collect()
}

/// A ReplicaSet pod's 5-character suffix, derived from `uid`.
fn pod_suffix(uid: &str) -> String {
    uid.bytes()
        .filter(u8::is_ascii_hexdigit)
        .take(5)
        .enumerate()
        .map(|(i, b)| ALPHABET[(usize::from(b) * 11 + i * 3) % ALPHABET.len()] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(placement: Placement) -> AutoscalerSpec {
        AutoscalerSpec {
            placement,
            ..crate::deploy::test_spec(
                "registry.k8s.io/autoscaling/cluster-autoscaler:v1.18.3",
                &["--cloud-provider=magnum"],
            )
        }
    }

    #[test]
    fn a_declared_autoscaler_s_pod_is_named_from_its_template() {
        let s = spec(Placement::InCluster {
            namespace: "kube-system".into(),
            deployment: "cluster-autoscaler".into(),
        });
        let pod = AutoscalerPod::of(&s, &World::default()).unwrap();
        assert!(pod.declared);
        let parts: Vec<&str> = pod.name.rsplitn(3, '-').collect();
        assert_eq!((parts[0].len(), parts[1].len()), (5, 10), "{}", pod.name);
        assert!(pod.name.starts_with("cluster-autoscaler-"));
        assert_eq!(pod.container_name(), "cluster-autoscaler");
        assert_eq!(AutoscalerPod::of(&s, &World::default()), Some(pod));
        assert_eq!(
            AutoscalerPod::of(&spec(Placement::Managed), &World::default()),
            None
        );
    }
}
