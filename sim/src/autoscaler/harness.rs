//! Upstream's own scale-up unit-test set-up (`core/scaleup/orchestrator/orchestrator_test.go`
//! at cluster-autoscaler 1.30.2), so a scenario can mirror one of its cases exactly.
//!
//! Those tests differ from a production `RunOnce` in ways that change the answer: the test
//! calls `ScaleUp` once, directly, on the pods it lists as pending (no kube-scheduler pass, no
//! filter-out-schedulable, no new-pod delay, no cluster health gate); its estimator has no
//! node-count thresholds; and its expander is a mock that picks a named option
//! (`ExpansionOptionToChoose`). [`Harness`] names each difference so a scenario states which
//! one it follows.

/// How a scenario mirrors an upstream unit test.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Harness {
    /// `ExpansionOptionToChoose`: the mock expander picks the option of this group with this
    /// node count (`None`: the autoscaler's own expander, seeded).
    pub choose: Option<(String, u32)>,
    /// Run the production estimator thresholds (`--max-nodes-per-scaleup`, the group's and
    /// the cluster's headroom). Upstream's orchestrator tests run without them; its estimator
    /// tests use a fixed node limit, which a scenario gives as `--max-nodes-per-scaleup`.
    pub estimator_limits: bool,
}

/// A node group of upstream's test cloud provider (`cloudprovider/test`): bounds and a target
/// size with nothing behind them; `IncreaseSize` only moves the target (the test's
/// `onScaleUp` records it).
#[derive(Clone, Debug, PartialEq)]
pub struct TestGroup {
    pub name: String,
    pub min: u32,
    pub max: u32,
    pub target: u32,
    /// The template for a group with no Ready node (`NewTestAutoprovisioningCloudProvider`'s
    /// machine templates); groups with nodes use their first Ready node, as upstream does.
    pub template: Option<crate::world::NodeShape>,
}
