//! The bounds magsim puts on its inputs, one constant each, shared by the scenario loader,
//! the engine and the mock servers so that all three refuse at the same point.
//!
//! Each is far above anything a real scenario needs (the incident has 6 nodes and 10 pods;
//! the largest benchmark 1,000 nodes and 30,000 pods) and low enough that a run inside the
//! limits finishes in minutes with memory to spare. Past one, the loader answers a located
//! error, the engine a refused API call, never an overflow, a hang or an abort.

use crate::time::SimDuration;

/// Pods per scenario: the sum of every Deployment's replicas and the bare pods. At the cap a
/// run holds ~200,000 pod objects (hundreds of MB); `replicas: 1000000` took 53 s and 4.9 GB,
/// and `1000000000` aborted on allocation.
pub const MAX_PODS: u32 = 200_000;

/// Nodes per nodegroup (`node_count`, `max_node_count`, a resize's count, a
/// MachineDeployment's replicas) and per scenario (the sum over nodegroups): every node is
/// simulated, with its own object and scheduler state.
pub const MAX_NODES: u32 = 10_000;

/// The shortest `--scan-interval` a simulated autoscaler may run with. Each loop is a full
/// RunOnce over the world; at `0s` the virtual clock never moves past the loop (the run never
/// ends) and at `1ms` a 16-minute scenario already takes seconds. 100 ms is ten times faster
/// than any production setting upstream documents (default 10 s) yet keeps a week-long run
/// at most ~6 million loops.
pub const MIN_SCAN_INTERVAL: SimDuration = SimDuration::from_millis(100);

/// The longest run on the virtual clock: 7 days. A scenario's `duration`, every step's `at`
/// and every other duration it writes must fit in it (`duration: 99999999h` would run for
/// years of loops); together with [`MIN_SCAN_INTERVAL`] it bounds the number of loops.
pub const MAX_DURATION: SimDuration = SimDuration::from_millis(7 * 24 * 3_600_000);

/// Largest scenario file read, in bytes (4 MiB); checked before parsing.
pub const MAX_SCENARIO_BYTES: usize = 4 << 20;

/// Deepest nesting of mappings, sequences and flow collections in a scenario file, checked
/// by a scan of indentation and brackets before the YAML parser runs (a 200 KB file nested
/// 100,000 deep took 24-39 s to parse). Real scenarios nest under 10 deep.
pub const MAX_YAML_DEPTH: usize = 64;
