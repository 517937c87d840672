//! `magsim run --wire`: the scenario against the mock servers. Steps go as the HTTP requests
//! `openstack` and `kubectl` send ([`magsim_mocks::wire::WireClient`]), every autoscaler loop
//! runs against the mock APIs ([`magsim_mocks::wire::AutoscalerClient`]), and the timeline
//! must be the in-memory one, byte for byte.

use crate::api::{Api, DROPPED};
use crate::cli::Outcome;
use crate::real::Clients;
use crate::ScenarioReport;
use magsim_mocks::wire::{over_the_wire, AutoscalerClient, WireClient, WireError};
use magsim_mocks::{CloudOptions, MockCloud};
use magsim_scenario::{Command, Scenario, Step};
use magsim_sim::cloud::ApiError;
use magsim_sim::engine::{ApiResponse, Engine, Operation};
use magsim_sim::time::SimTime;
use std::sync::MutexGuard;

/// Why a wire run could not start.
#[derive(Debug, thiserror::Error)]
pub enum WireRunError {
    #[error("could not start the async runtime")]
    Runtime(#[source] std::io::Error),
    #[error("could not start the mock servers")]
    Servers(#[source] std::io::Error),
    #[error(transparent)]
    Client(#[from] WireError),
}

/// Runs one scenario over the wire with `seed` (or its own) and checks its expectations.
pub fn run_wire(scenario: &Scenario, seed: Option<u64>) -> Result<ScenarioReport, WireRunError> {
    with_cloud(scenario, seed, &CloudOptions::default(), |_| Ok(None))
}

/// Starts the mock cloud of `scenario` and drives it, its `run:` steps performed by the
/// real clients when `clients` gives them a place.
pub(crate) fn with_cloud(
    scenario: &Scenario,
    seed: Option<u64>,
    options: &CloudOptions,
    clients: impl FnOnce(&MockCloud) -> Result<Option<Clients>, WireRunError>,
) -> Result<ScenarioReport, WireRunError> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(WireRunError::Runtime)?;
    let cloud = rt
        .block_on(MockCloud::start_with(scenario, seed, options))
        .map_err(WireRunError::Servers)?;
    let clients = clients(&cloud)?;
    let steps = {
        let _enter = rt.enter();
        WireClient::new(&cloud)?
    };
    let mut api = Wire {
        rt: &rt,
        cloud: &cloud,
        steps,
        autoscalers: AutoscalerClient::new(&cloud),
        guard: None,
        clients,
    };
    Ok(crate::drive(&mut api, scenario, seed))
}

pub(crate) struct Wire<'a> {
    rt: &'a tokio::runtime::Runtime,
    cloud: &'a MockCloud,
    steps: WireClient,
    autoscalers: AutoscalerClient,
    /// The engine, locked while the runner reads it; released before any request.
    guard: Option<MutexGuard<'a, Engine>>,
    /// With `--real-clients`: where the clients run.
    clients: Option<Clients>,
}

impl<'a> Wire<'a> {
    /// The servers (the engine's lock released first).
    pub(crate) fn cloud(&mut self) -> &'a MockCloud {
        self.guard = None;
        self.cloud
    }
}

impl Api for Wire<'_> {
    fn engine(&mut self) -> &mut Engine {
        let cloud = self.cloud;
        self.guard.get_or_insert_with(|| cloud.live.engine())
    }

    fn apply(&mut self, op: Operation, request_id: Option<String>) -> ApiResponse {
        self.guard = None;
        let live = &self.cloud.live;
        if !over_the_wire(&op) {
            return live.mutate(|e| e.apply(op, request_id));
        }
        // The id is drawn here, where memory draws it, and pinned on the request.
        let request_id = match op.is_magnum() {
            true => Some(request_id.unwrap_or_else(|| live.mutate(|e| e.next_request_id()))),
            false => request_id,
        };
        match self.rt.block_on(self.steps.apply(op, request_id)) {
            Ok(r) => r,
            Err(e) => {
                let status = match e {
                    WireError::NotJson { status, .. } => status,
                    _ => DROPPED,
                };
                let e = ApiError::new(status, e.to_string());
                ApiResponse {
                    status,
                    request_id: None,
                    body: e.body(),
                    error: Some(e),
                }
            }
        }
    }

    fn run_until(&mut self, t: SimTime) {
        self.guard = None;
        self.autoscalers.run_until(self.rt, t);
    }

    fn faults_here(&self) -> bool {
        false
    }

    fn command(
        &mut self,
        step: &Step,
        line: &str,
        command: &Command,
        manifest: Option<&str>,
    ) -> Option<Outcome> {
        let clients = self.clients.take()?;
        let o = clients.perform(self, step, line, command, manifest);
        self.clients = Some(clients);
        Some(o)
    }
}
