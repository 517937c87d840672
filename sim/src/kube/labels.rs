//! Labels, node selectors and required node affinity.

use std::collections::BTreeMap;

/// Object labels; ordered so that anything printed from them is deterministic.
pub type Labels = BTreeMap<String, String>;

/// A `nodeSelectorTerm` match expression operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SelectorOp {
    In,
    NotIn,
    Exists,
    DoesNotExist,
    Gt,
    Lt,
}

impl SelectorOp {
    pub fn parse(s: &str) -> Option<SelectorOp> {
        Some(match s {
            "In" => SelectorOp::In,
            "NotIn" => SelectorOp::NotIn,
            "Exists" => SelectorOp::Exists,
            "DoesNotExist" => SelectorOp::DoesNotExist,
            "Gt" => SelectorOp::Gt,
            "Lt" => SelectorOp::Lt,
            _ => return None,
        })
    }
}

/// One `matchExpressions` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeSelectorRequirement {
    pub key: String,
    pub op: SelectorOp,
    pub values: Vec<String>,
}

impl NodeSelectorRequirement {
    pub fn matches(&self, labels: &Labels) -> bool {
        let value = labels.get(&self.key);
        match self.op {
            SelectorOp::In => value.is_some_and(|v| self.values.contains(v)),
            SelectorOp::NotIn => value.is_none_or(|v| !self.values.contains(v)),
            SelectorOp::Exists => value.is_some(),
            SelectorOp::DoesNotExist => value.is_none(),
            SelectorOp::Gt | SelectorOp::Lt => {
                let (Some(v), Some(bound)) = (value, self.values.first()) else {
                    return false;
                };
                match (v.parse::<i64>(), bound.parse::<i64>()) {
                    (Ok(v), Ok(b)) if self.op == SelectorOp::Gt => v > b,
                    (Ok(v), Ok(b)) => v < b,
                    _ => false,
                }
            }
        }
    }
}

/// A node selector term: all expressions must match.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeSelectorTerm {
    pub match_expressions: Vec<NodeSelectorRequirement>,
}

/// `requiredDuringSchedulingIgnoredDuringExecution`: any term may match.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeAffinity {
    pub required_terms: Vec<NodeSelectorTerm>,
}

impl NodeAffinity {
    pub fn matches(&self, labels: &Labels) -> bool {
        self.required_terms.is_empty()
            || self
                .required_terms
                .iter()
                .any(|t| t.match_expressions.iter().all(|r| r.matches(labels)))
    }
}

/// True when every `nodeSelector` pair is present on the node.
pub fn selector_matches(selector: &Labels, labels: &Labels) -> bool {
    selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn affinity_terms_or_expressions_and() {
        let node = labels(&[("gpu", "a100"), ("zone", "iu")]);
        let req = |key: &str, op, values: &[&str]| NodeSelectorRequirement {
            key: key.into(),
            op,
            values: values.iter().map(|s| s.to_string()).collect(),
        };
        let aff = NodeAffinity {
            required_terms: vec![
                NodeSelectorTerm {
                    match_expressions: vec![req("gpu", SelectorOp::In, &["h100"])],
                },
                NodeSelectorTerm {
                    match_expressions: vec![
                        req("gpu", SelectorOp::Exists, &[]),
                        req("zone", SelectorOp::NotIn, &["tacc"]),
                    ],
                },
            ],
        };
        assert!(aff.matches(&node));
        assert!(!aff.matches(&labels(&[("zone", "iu")])));
        assert!(req("n", SelectorOp::Gt, &["3"]).matches(&labels(&[("n", "4")])));
        assert!(!req("n", SelectorOp::Lt, &["3"]).matches(&labels(&[("n", "4")])));
        assert!(selector_matches(&labels(&[("gpu", "a100")]), &node));
        assert!(!selector_matches(&labels(&[("gpu", "h100")]), &node));
    }
}
