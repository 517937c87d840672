//! How a run reaches the cloud: the engine itself in memory, or the mock servers over the
//! wire ([`crate::wire`]). The runner, the client renderings and the checks see one
//! interface either way.

use crate::cli::Outcome;
use magsim_scenario::{Command, Step};
use magsim_sim::engine::{ApiResponse, Engine, Operation};
use magsim_sim::time::SimTime;

/// The status of an answer that never came (the connection closed): nginx's
/// `444 No Response`, a code no API here uses.
pub const DROPPED: u16 = 444;

pub(crate) trait Api {
    /// The engine, to read what clients render and checks assert, and for what no API
    /// reaches.
    fn engine(&mut self) -> &mut Engine;

    /// An operation as a client sends it.
    fn apply(&mut self, op: Operation, request_id: Option<String>) -> ApiResponse;

    /// Runs virtual time to `t`, with every autoscaler loop on the way.
    fn run_until(&mut self, t: SimTime);

    /// Whether the caller asks the scenario's faults (in memory) or the servers do (wire).
    fn faults_here(&self) -> bool;

    /// A `run:` step performed by a real client, when this run has them (`None`: the
    /// runner's model of the client performs it).
    fn command(
        &mut self,
        _step: &Step,
        _line: &str,
        _command: &Command,
        _manifest: Option<&str>,
    ) -> Option<Outcome> {
        None
    }
}

impl Api for Engine {
    fn engine(&mut self) -> &mut Engine {
        self
    }

    fn apply(&mut self, op: Operation, request_id: Option<String>) -> ApiResponse {
        Engine::apply(self, op, request_id)
    }

    fn run_until(&mut self, t: SimTime) {
        Engine::run_until(self, t)
    }

    fn faults_here(&self) -> bool {
        true
    }
}
