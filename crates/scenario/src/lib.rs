//! magsim's scenario files: what an operator writes to ask "will this change unblock my
//! pending pods, and when?".
//!
//! A scenario declares the cloud (cluster, labels, driver, nodegroups, flavors, boot delay),
//! the autoscalers (how they are deployed, their flags and cloud-config), the workload, and a
//! timeline of steps. Steps are command lines exactly as typed (`openstack coe nodegroup
//! update k8s default-worker replace max_node_count=6`, `kubectl scale ...`) or structured
//! operations, each with expectations. [`load`] reads a file into a [`Scenario`] ready to run;
//! any mistake is reported with file, line, column, the field and what was expected.
//!
//! ```
//! let text = r#"
//! name: tiny
//! cloud:
//!   cluster:
//!     name: k8s
//!     nodegroups:
//!       - {name: default-worker, flavor: m3.small, node_count: 1}
//! "#;
//! let scenario = magsim_scenario::parse("tiny.yaml", text).unwrap();
//! assert_eq!(scenario.name, "tiny");
//! ```

pub mod command;
mod error;
mod faults;
mod format;
pub mod manifest;
mod model;
mod prescan;
mod testprovider;
mod values;

pub use command::{Command, KubectlCall, LogsTarget, OsCall};
pub use error::LoadError;
pub use format::{EventExpect, Expect, NodeExpect, PodExpect, ScaleUpExpect, StatusExpect};
pub use manifest::Applied;
pub use model::{Scenario, Step, StepAction};

use std::path::Path;

/// Reads and validates one scenario file.
pub fn load(path: &Path) -> Result<Scenario, LoadError> {
    use std::io::Read;
    let file = path.display().to_string();
    let io = |e: std::io::Error| LoadError::Io {
        file: file.clone(),
        message: e.to_string(),
    };
    // Read at most one byte past the limit, so a huge file (or /dev/zero) is never buffered.
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .map_err(io)?
        .take(magsim_sim::limits::MAX_SCENARIO_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() > magsim_sim::limits::MAX_SCENARIO_BYTES {
        return Err(prescan::too_big(&file, bytes.len()));
    }
    let text = String::from_utf8(bytes).map_err(|e| LoadError::Io {
        file: file.clone(),
        message: format!("not UTF-8 text: {e}"),
    })?;
    parse(&file, &text)
}

/// Parses scenario text; `file` names it in errors.
pub fn parse(file: &str, text: &str) -> Result<Scenario, LoadError> {
    prescan::check(file, text)?;
    let raw = format::from_yaml(file, text)?;
    model::build(file, text, raw)
}

/// The scenarios built into the binary: the 2025-11-10 incident and its variations.
pub fn builtin() -> Vec<(&'static str, &'static str)> {
    vec![
        (
            "scenarios/incident/01-as-it-happened.yaml",
            include_str!("../../../scenarios/incident/01-as-it-happened.yaml"),
        ),
        (
            "scenarios/incident/02-jetstream2-raises-bound.yaml",
            include_str!("../../../scenarios/incident/02-jetstream2-raises-bound.yaml"),
        ),
        (
            "scenarios/incident/03-manual-resize.yaml",
            include_str!("../../../scenarios/incident/03-manual-resize.yaml"),
        ),
        (
            "scenarios/incident/04-in-cluster-autoscaler-crashloops.yaml",
            include_str!("../../../scenarios/incident/04-in-cluster-autoscaler-crashloops.yaml"),
        ),
        (
            "scenarios/incident/05-in-cluster-trust-config.yaml",
            include_str!("../../../scenarios/incident/05-in-cluster-trust-config.yaml"),
        ),
        (
            "scenarios/incident/06-driver-1.0.0.yaml",
            include_str!("../../../scenarios/incident/06-driver-1.0.0.yaml"),
        ),
    ]
}
