//! Every file shipped in `mocks/recordings/` is scanned for credentials: recordings must be
//! left unchanged by redaction ([`recording::find_secrets`]) and no file may hold a token-looking
//! value ([`recording::redact::token_like`]).

use magsim_mocks::recording::{self, redact::token_like, Recording, REDACTED};
use magsim_mocks::replay;
use std::path::Path;

/// Problems in one file: recordings are checked as recordings, every file as text.
fn problems(path: &Path) -> Vec<String> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => return vec![format!("unreadable: {e}")],
    };
    let mut out = Vec::new();
    if let Some(t) = token_like(&text) {
        out.push(t);
    }
    if path.extension().is_some_and(|e| e == "json") {
        match Recording::from_json(&path.display().to_string(), &text) {
            Ok(r) => out.extend(recording::find_secrets(&r)),
            Err(e) => out.push(format!("not a recording: {e}")),
        }
    }
    out
}

#[test]
fn shipped_recordings_hold_no_secrets() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("recordings");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("mocks/recordings")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(
        files
            .iter()
            .any(|p| p.extension().is_some_and(|e| e == "json")),
        "no recordings found in {}",
        dir.display()
    );
    let found: Vec<String> = files
        .iter()
        .flat_map(|p| {
            problems(p)
                .into_iter()
                .map(move |m| format!("{}: {m}", p.display()))
        })
        .collect();
    assert!(found.is_empty(), "{}", found.join("\n"));
}

/// The scan finds what it is meant to find (so a clean result means something).
#[test]
fn the_scan_flags_each_kind_of_secret() {
    let base =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(replay::incident::FILE))
            .expect("incident recording");
    let dir = std::env::temp_dir().join(format!("magsim-scan-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let fernet = "gAAAAABpXkZ3Qm9xR1l6d0VfN2FjYnF4dGx0ZWhLb0xqT0pQcEpXa2x5dUZkQ3Z";
    let tampered = [
        (
            "subject-token",
            base.replacen(
                &format!("\"X-Subject-Token\": \"{REDACTED}\""),
                "\"X-Subject-Token\": \"abc123def456\"",
                1,
            ),
        ),
        (
            "password",
            base.replacen(
                "\"methods\": [",
                "\"password\": \"hunter2hunter2\", \"methods\": [",
                1,
            ),
        ),
        (
            "trust",
            base.replacen(
                "\"methods\": [",
                "\"OS-TRUST:trust\": {\"id\": \"0a1b2c3d4e5f\"}, \"methods\": [",
                1,
            ),
        ),
        (
            "upper-case key",
            base.replacen(
                "\"methods\": [",
                "\"OS_PASSWORD\": \"hunter2hunter2\", \"methods\": [",
                1,
            ),
        ),
        (
            "export line",
            base.replacen(
                "\"methods\": [",
                "\"openrc\": \"export OS_APPLICATION_CREDENTIAL_SECRET=rEaqvJka48mpv\", \"methods\": [",
                1,
            ),
        ),
        (
            "fernet",
            base.replacen(
                "\"Vary\": \"X-Auth-Token\"",
                &format!("\"Vary\": \"{fernet}\""),
                1,
            ),
        ),
    ];
    for (name, text) in tampered {
        assert_ne!(text, base, "{name}: the tampering applies");
        let p = dir.join(format!("{name}.json"));
        std::fs::write(&p, &text).unwrap();
        assert!(!problems(&p).is_empty(), "{name} not flagged");
    }
    let readme = dir.join("README.md");
    std::fs::write(&readme, "curl -H 'Authorization: Bearer eyJhbGciOi.x.y'").unwrap();
    assert!(!problems(&readme).is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}
