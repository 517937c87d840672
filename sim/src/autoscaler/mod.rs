//! cluster-autoscaler 1.30's scale-up loop (`RunOnce`), its events and its status ConfigMap.
//!
//! [`Autoscaler`] is one deployed autoscaler process: it starts (or crash-loops) from its
//! [`AutoscalerSpec`](crate::deploy::AutoscalerSpec), then every scan interval reads its node
//! groups through its [`provider`], decides with the [`orchestrator`], acts on the world and
//! writes events and status.

pub mod clusterstate;
pub mod container;
pub mod equivalence;
pub mod estimator;
pub mod expander;
pub mod gophercloud;
pub mod harness;
pub mod klog;
pub mod options;
pub mod orchestrator;
pub mod outside;
pub mod provider;
pub mod reasons;
pub mod spread;
pub mod status;

mod run;

pub use harness::{Harness, TestGroup};
pub use orchestrator::{Decision, GroupVerdict, Outcome};
pub use run::{Autoscaler, LoopReport, Phase, Running};
