//! Deployments and the Kubernetes-style names of their ReplicaSets and pods.

use super::{Labels, PodSpec};

/// A Deployment with one ReplicaSet (`<name>-<pod-template-hash>`); pods are named
/// `<name>-<hash>-<5 chars>`.
#[derive(Clone, Debug, PartialEq)]
pub struct Deployment {
    pub name: String,
    pub namespace: String,
    pub replicas: u32,
    pub labels: Labels,
    pub spec: std::sync::Arc<PodSpec>,
    pub template_hash: String,
    /// Names to give the first pods created, in order (a scenario may pin
    /// `high-memory-deployment-844964899f-4md88`).
    pub pinned_pod_names: Vec<String>,
}

impl Deployment {
    pub fn replica_set_name(&self) -> String {
        format!("{}-{}", self.name, self.template_hash)
    }

    /// Splits a pinned pod name into its template hash when it has the
    /// `<deployment>-<hash>-<suffix>` shape.
    pub fn hash_from_pod_name(deployment: &str, pod: &str) -> Option<String> {
        let rest = pod.strip_prefix(deployment)?.strip_prefix('-')?;
        let (hash, suffix) = rest.split_once('-')?;
        (!hash.is_empty() && !suffix.is_empty() && !suffix.contains('-')).then(|| hash.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_read_from_pinned_names() {
        assert_eq!(
            Deployment::hash_from_pod_name(
                "high-memory-deployment",
                "high-memory-deployment-844964899f-4md88"
            ),
            Some("844964899f".into())
        );
        assert_eq!(Deployment::hash_from_pod_name("web", "web-abc"), None);
        assert_eq!(Deployment::hash_from_pod_name("web", "other-1-2"), None);
    }
}
