//! `magsim run --real-clients`: the scenario against the mock servers, as `--wire` runs it,
//! but every `run:` step executed by the real `openstack` or `kubectl` found on `PATH` (its
//! `manifest:` on stdin), with the same expectations checked against what the client printed
//! and its exit status.
//!
//! Virtual time stands still while a client runs. A Magnum request that pins no id answers
//! with the step's `request_id:`, or with the one id the model would have drawn for the step
//! ([`magsim_mocks::Live::pin_request_id`]), so the engine's random stream, and so every name
//! it draws later, is the in-memory run's however many requests the client makes.

use crate::cli::{draws_request_id, Outcome};
use crate::wire::{Wire, WireRunError};
use crate::ScenarioReport;
use magsim_mocks::cloud::CLOUD_NAME;
use magsim_mocks::journal::JournalEntry;
use magsim_mocks::{ClientFiles, CloudOptions, Listen};
use magsim_scenario::{Command, Scenario, Step};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;

/// Keystone's port in the layout the model's client output names (Magnum at +1: 9511).
pub const PORTS: u16 = 9510;

/// Where a real-client run keeps the clients' configuration and caches.
pub(crate) struct Clients {
    dir: PathBuf,
    files: ClientFiles,
}

impl Drop for Clients {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Runs one scenario with the real clients and checks its expectations.
pub fn run_real_clients(
    scenario: &Scenario,
    seed: Option<u64>,
) -> Result<ScenarioReport, WireRunError> {
    // The ports the model prints (`MAGNUM_ENDPOINT`): a client's `--debug` output names them.
    let options = CloudOptions {
        listen: Listen {
            port: PORTS,
            ..Listen::default()
        },
        // Plain http, as `--wire` serves it: the simulated autoscalers' own client needs it.
        ..CloudOptions::default()
    };
    crate::wire::with_cloud(scenario, seed, &options, |cloud| {
        let dir = client_dir(scenario);
        let files = cloud
            .write_client_files(&dir)
            .map_err(WireRunError::Servers)?;
        Ok(Some(Clients { dir, files }))
    })
}

fn client_dir(scenario: &Scenario) -> PathBuf {
    static RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let stem = Path::new(&scenario.file)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    std::env::temp_dir().join(format!("magsim-real-{}-{n}-{stem}", std::process::id()))
}

impl Clients {
    /// Runs the step's command line with the real client, as a shell would.
    pub(crate) fn perform(
        &self,
        wire: &mut Wire<'_>,
        step: &Step,
        line: &str,
        command: &Command,
        manifest: Option<&str>,
    ) -> Outcome {
        let cloud = wire.cloud();
        let pinned = match command {
            Command::Openstack { call, .. } if draws_request_id(call) => Some(
                step.request_id
                    .clone()
                    .unwrap_or_else(|| cloud.live.mutate(|e| e.next_request_id())),
            ),
            _ => step.request_id.clone(),
        };
        cloud.live.pin_request_id(pinned.clone());
        let journal = &cloud.openstack.journal;
        let before = journal.len();
        let output = self.run(line, manifest);
        cloud.live.pin_request_id(None);
        let magnum: Vec<JournalEntry> = journal
            .entries_since(before)
            .into_iter()
            .filter(|e| e.service == magsim_mocks::Service::ContainerInfra)
            .collect();
        let last = magnum.last();
        match output {
            Ok(o) => Outcome {
                stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
                stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
                exit_code: o.status.code().unwrap_or(-1),
                status: last.map(|e| e.status),
                title: last.and_then(error_title),
                request_id: pinned.filter(|_| last.is_some()),
            },
            Err(e) => Outcome {
                stderr: format!("magsim: could not run `{line}`: {e}\n"),
                exit_code: 127,
                ..Default::default()
            },
        }
    }

    fn run(&self, line: &str, manifest: Option<&str>) -> std::io::Result<std::process::Output> {
        let mut c = std::process::Command::new("sh");
        c.arg("-c").arg(line);
        // Only the mock cloud: no credentials or kubeconfig from the caller's shell.
        for (k, _) in std::env::vars_os() {
            if k.to_string_lossy().starts_with("OS_") {
                c.env_remove(&k);
            }
        }
        c.env("OS_CLIENT_CONFIG_FILE", &self.files.clouds_yaml)
            .env("OS_CLOUD", CLOUD_NAME)
            .env("KUBECONFIG", &self.files.kubeconfig)
            // kubectl's discovery cache and the CLI's own caches, per run.
            .env("HOME", &self.dir)
            .env_remove("KUBECTL_EXTERNAL_DIFF")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = c.spawn()?;
        if let Some(mut stdin) = child.stdin.take() {
            if let Some(m) = manifest {
                // A client that exits before reading all of it is answered by its output.
                let _ = stdin.write_all(m.as_bytes());
            }
        }
        child.wait_with_output()
    }
}

/// The `title` of a Magnum error body (`{"errors": [{"title": ...}]}`).
fn error_title(e: &JournalEntry) -> Option<String> {
    let body = e.response.as_ref()?.body.as_ref()?;
    body["errors"][0]["title"].as_str().map(str::to_string)
}
