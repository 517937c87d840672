//! Taints and tolerations.

use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum TaintEffect {
    NoSchedule,
    PreferNoSchedule,
    NoExecute,
}

impl TaintEffect {
    pub fn parse(s: &str) -> Option<TaintEffect> {
        Some(match s {
            "NoSchedule" => TaintEffect::NoSchedule,
            "PreferNoSchedule" => TaintEffect::PreferNoSchedule,
            "NoExecute" => TaintEffect::NoExecute,
            _ => return None,
        })
    }
}

impl fmt::Display for TaintEffect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TaintEffect::NoSchedule => "NoSchedule",
            TaintEffect::PreferNoSchedule => "PreferNoSchedule",
            TaintEffect::NoExecute => "NoExecute",
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Taint {
    pub key: String,
    pub value: String,
    pub effect: TaintEffect,
}

impl Taint {
    pub fn new(key: &str, value: &str, effect: TaintEffect) -> Taint {
        Taint {
            key: key.to_string(),
            value: value.to_string(),
            effect,
        }
    }

    /// Parses `key=value:Effect` or `key:Effect` (kubectl's and CAPI's taint syntax).
    pub fn parse(s: &str) -> Option<Taint> {
        let (kv, effect) = s.rsplit_once(':')?;
        let effect = TaintEffect::parse(effect)?;
        let (key, value) = kv.split_once('=').unwrap_or((kv, ""));
        (!key.is_empty()).then(|| Taint::new(key, value, effect))
    }

    /// The taint the node lifecycle controller puts on a NotReady node.
    pub fn not_ready() -> Taint {
        Taint::new("node.kubernetes.io/not-ready", "", TaintEffect::NoSchedule)
    }

    /// The taint that matches `spec.unschedulable` (cordon).
    pub fn unschedulable() -> Taint {
        Taint::new(
            "node.kubernetes.io/unschedulable",
            "",
            TaintEffect::NoSchedule,
        )
    }
}

impl fmt::Display for Taint {
    /// kube-scheduler's rendering inside `node(s) had untolerated taint {key: value}`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{{{}: {}}}", self.key, self.value)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TolerationOp {
    Equal,
    Exists,
}

/// A pod toleration; an empty key with `Exists` tolerates everything.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Toleration {
    pub key: String,
    pub op: TolerationOp,
    pub value: String,
    pub effect: Option<TaintEffect>,
}

impl Toleration {
    pub fn tolerates(&self, taint: &Taint) -> bool {
        if self.effect.is_some_and(|e| e != taint.effect) {
            return false;
        }
        if self.key.is_empty() {
            return self.op == TolerationOp::Exists;
        }
        self.key == taint.key
            && match self.op {
                TolerationOp::Exists => true,
                TolerationOp::Equal => self.value == taint.value,
            }
    }
}

/// The first NoSchedule/NoExecute taint no toleration covers (scheduler filter semantics:
/// PreferNoSchedule never blocks).
pub fn first_untolerated<'a>(taints: &'a [Taint], tolerations: &[Toleration]) -> Option<&'a Taint> {
    taints.iter().find(|t| {
        t.effect != TaintEffect::PreferNoSchedule && !tolerations.iter().any(|tol| tol.tolerates(t))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toleration_matching() {
        let gpu = Taint::parse("nvidia.com/gpu=present:NoSchedule").unwrap();
        assert_eq!(gpu.to_string(), "{nvidia.com/gpu: present}");
        let exists = Toleration {
            key: "nvidia.com/gpu".into(),
            op: TolerationOp::Exists,
            value: String::new(),
            effect: None,
        };
        let wrong = Toleration {
            key: "nvidia.com/gpu".into(),
            op: TolerationOp::Equal,
            value: "absent".into(),
            effect: None,
        };
        assert!(exists.tolerates(&gpu));
        assert!(!wrong.tolerates(&gpu));
        assert_eq!(
            first_untolerated(std::slice::from_ref(&gpu), &[wrong]),
            Some(&gpu)
        );
        let soft = Taint::parse("x:PreferNoSchedule").unwrap();
        assert_eq!(first_untolerated(&[soft], &[]), None);
        assert_eq!(
            Taint::not_ready().to_string(),
            "{node.kubernetes.io/not-ready: }"
        );
        assert!(Taint::parse("=v:NoSchedule").is_none());
        assert!(Taint::parse("k=v:Never").is_none());
    }
}
