//! Upstream's cluster-autoscaler 1.30.2 binaries for tests that run the real thing against the
//! mocks (`/work/shared/tools/cluster-autoscaler-1.30.2/README.md` says how they were built).
//!
//! Include with `#[path = "<relative>/tests/support/ca.rs"] mod ca;` and call
//! [`binary`]: `MAGSIM_CA_CLUSTERAPI` / `MAGSIM_CA_MAGNUM` first, then an unpacked copy in
//! `<target>/ca/`, then the shipped `.gz` next to the workspace (unpacked into
//! `<target>/ca/`). With none of them a test skips (the reason on stderr), except under `CI`,
//! where it panics: CI must run the real binary.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The workspace root: the nearest ancestor of this crate holding `Cargo.lock`.
pub fn workspace_root() -> PathBuf {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    here.ancestors()
        .find(|d| d.join("Cargo.lock").is_file())
        .unwrap_or(&here)
        .to_path_buf()
}

fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
}

/// The cluster-autoscaler binary for `provider` (`"clusterapi"` or `"magnum"`), or `None`
/// (after printing why) when there is none and `CI` is unset.
pub fn binary(provider: &str) -> Option<PathBuf> {
    match find(provider) {
        Ok(p) => Some(p),
        Err(why) if std::env::var_os("CI").is_some() => {
            panic!("CI runs the real cluster-autoscaler ({provider}): {why}")
        }
        Err(why) => {
            eprintln!("skipped: no cluster-autoscaler-{provider} binary: {why}");
            None
        }
    }
}

fn find(provider: &str) -> Result<PathBuf, String> {
    let var = format!("MAGSIM_CA_{}", provider.to_ascii_uppercase());
    if let Some(p) = std::env::var_os(&var) {
        let p = PathBuf::from(p);
        return if p.is_file() {
            Ok(p)
        } else {
            Err(format!("{var}={} is not a file", p.display()))
        };
    }
    let root = workspace_root();
    let name = format!("cluster-autoscaler-{provider}");
    let unpacked = target_dir(&root).join("ca").join(&name);
    if unpacked.is_file() {
        return Ok(unpacked);
    }
    let gz = root
        .join("../shared/tools/cluster-autoscaler-1.30.2")
        .join(format!("{name}.gz"));
    if !gz.is_file() {
        return Err(format!(
            "set {var}, or put {} or {} in place (build: `go build -tags {provider} .` in upstream's cluster-autoscaler/ at tag cluster-autoscaler-1.30.2)",
            unpacked.display(),
            gz.display()
        ));
    }
    unpack(&gz, &unpacked)?;
    Ok(unpacked)
}

/// `gzip -dc GZ > DEST && chmod +x DEST`, through a temporary file so tests running at once
/// never see half a binary.
fn unpack(gz: &Path, dest: &Path) -> Result<(), String> {
    let dir = dest.parent().ok_or("no parent directory")?;
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    // Unique per call: tests of one binary (one pid) may unpack at once.
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let tmp = dir.join(format!(
        ".{}.{}.{}",
        dest.file_name().and_then(|n| n.to_str()).unwrap_or("ca"),
        std::process::id(),
        CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    let out = std::fs::File::create(&tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
    let status = std::process::Command::new("gzip")
        .arg("-dc")
        .arg(gz)
        .stdout(out)
        .status()
        .map_err(|e| format!("gzip: {e}"))?;
    if !status.success() {
        let _ = std::fs::remove_file(&tmp);
        return Err(format!("gzip -dc {} failed: {status}", gz.display()));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o755))
            .map_err(|e| format!("chmod: {e}"))?;
    }
    std::fs::rename(&tmp, dest).map_err(|e| format!("{}: {e}", dest.display()))
}
