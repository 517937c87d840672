//! magsim: an offline simulator and test harness for Kubernetes cluster autoscaling on
//! OpenStack Magnum clouds such as Jetstream2.
//!
//! This crate is the thin facade over the workspace: [`sim`] (the deterministic engine),
//! [`scenario`] (the scenario file format) and [`runner`] (running scenarios and reporting),
//! plus [`collect`], which finds scenario files the way `magsim run` does.
//!
//! ```
//! let scenarios = magsim::collect(&[]).unwrap();
//! let report = magsim::runner::run(&scenarios[0], None);
//! assert!(report.passed());
//! ```

pub mod lines;

pub use magsim_runner as runner;
pub use magsim_scenario as scenario;
pub use magsim_sim as sim;

use magsim_scenario::{LoadError, Scenario};
use std::path::{Path, PathBuf};

/// Loads the scenarios at `paths` (files, or folders searched recursively for `.yaml`/`.yml`,
/// in name order); with no paths, the built-in incident scenarios.
pub fn collect(paths: &[PathBuf]) -> Result<Vec<Scenario>, LoadError> {
    if paths.is_empty() {
        return magsim_scenario::builtin()
            .into_iter()
            .map(|(f, t)| magsim_scenario::parse(f, t))
            .collect();
    }
    let mut files = Vec::new();
    for p in paths {
        gather(p, &mut files)?;
    }
    files.iter().map(|f| magsim_scenario::load(f)).collect()
}

fn gather(path: &Path, out: &mut Vec<PathBuf>) -> Result<(), LoadError> {
    let io = |e: std::io::Error| LoadError::Io {
        file: path.display().to_string(),
        message: e.to_string(),
    };
    if !path.is_dir() {
        if !path.exists() {
            return Err(LoadError::Io {
                file: path.display().to_string(),
                message: "no such file or directory".into(),
            });
        }
        out.push(path.to_path_buf());
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(io)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for e in entries {
        if e.is_dir() {
            gather(&e, out)?;
        } else if matches!(e.extension().and_then(|x| x.to_str()), Some("yaml" | "yml")) {
            out.push(e);
        }
    }
    Ok(())
}
