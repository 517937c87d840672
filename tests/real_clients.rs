//! `magsim run --real-clients`: each `run:` step executed by the real `openstack`
//! (python-openstackclient from `.venv`, made by `scripts/venv.sh`) and `kubectl` (on `PATH`)
//! against the mock servers, the scenario's expectations checked against what they printed.
//!
//! Without the clients the test prints why and passes, unless `CI` is set: then it fails.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `PATH` with the pinned clients first, or `None` (after saying why) when one is missing.
fn client_path() -> Option<std::ffi::OsString> {
    let venv = root().join(".venv/bin");
    let path = std::env::join_paths(std::iter::once(venv.clone()).chain(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    )))
    .expect("PATH joins");
    let on_path = |bin: &str| std::env::split_paths(&path).any(|d| d.join(bin).is_file());
    let missing: Vec<&str> = ["openstack", "kubectl"]
        .into_iter()
        .filter(|b| !on_path(b))
        .collect();
    if missing.is_empty() {
        return Some(path);
    }
    let why = format!(
        "{} not found on PATH or in {} (run `bash scripts/venv.sh`; kubectl 1.32 on PATH)",
        missing.join(" and "),
        venv.display()
    );
    assert!(
        std::env::var_os("CI").is_none(),
        "CI runs the real clients: {why}"
    );
    eprintln!("skipped: {why}");
    None
}

fn magsim(path: &std::ffi::OsStr, args: &[&Path]) -> (i32, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_magsim"))
        .arg("run")
        .arg("--real-clients")
        .args(args)
        .env("PATH", path)
        .output()
        .expect("magsim runs");
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr),
    )
}

/// One test: a real-client run holds the fixed port layout the model prints (9510..9514).
#[test]
fn the_incident_s_commands_pass_as_the_real_clients_run_them() {
    let Some(path) = client_path() else {
        return;
    };
    let (code, out) = magsim(&path, &[&root().join("scenarios/incident")]);
    assert_eq!(code, 0, "{out}");
    assert!(out.ends_with("6 passed, 0 failed\n"), "{out}");
    // What the real client printed is what is checked: a wrong expectation fails, and the
    // report shows kubectl's own output.
    let text = std::fs::read_to_string(
        root().join("scenarios/incident/04-in-cluster-autoscaler-crashloops.yaml"),
    )
    .unwrap()
    .replace(
        "CrashLoopBackOff   3 (30s ago)",
        "CrashLoopBackOff   9 (30s ago)",
    );
    let dir = std::env::temp_dir().join(format!("magsim-real-clients-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("04-altered.yaml");
    std::fs::write(&file, text).unwrap();
    let (code, out) = magsim(&path, &[&file]);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("FAIL stdout") && out.contains("CrashLoopBackOff   3 (30s ago)   60s"),
        "{out}"
    );
}
