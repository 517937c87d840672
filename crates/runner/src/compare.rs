//! `magsim compare`: a real cluster-autoscaler binary against the mocks of a scenario, side
//! by side with the engine's run of the same scenario.
//!
//! The real side: the scenario's mock cloud with its simulated autoscalers off and virtual
//! time zero anchored to now, the binary started with the flags the scenario's autoscaler has
//! (its duration flags, and the defaults it leaves, divided by the speed), the scenario's
//! steps performed at their virtual times while the clock runs at `speed` times the wall
//! clock. The engine side: the scenario in memory, its autoscaler modelled as the binary's
//! release (read from its start-up line), not the image tag the scenario names, and with its
//! hard-coded wall-clock timers (new-pod buffers, the 15-minute start-up allowance, magnum's
//! 1-minute discovery refresh) `speed` times longer in virtual time, as the real binary's are
//! in a world that runs `speed` times faster than its clock.
//!
//! Both sides are read the same way from their engine's world at the end: the autoscaler's
//! events (object, reason, message; counts and times are left out), its status ConfigMap
//! (timestamps normalised) and the size of every node group.

use crate::api::Api;
use magsim_mocks::MockCloud;
use magsim_scenario::Scenario;
use magsim_sim::engine::{ApiResponse, Engine, Operation};
use magsim_sim::time::{SimDuration, SimTime};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::MutexGuard;
use std::time::{Duration, Instant};

/// The autoscaler to compare and how to run it.
#[derive(Clone, Debug)]
pub struct CompareOptions {
    pub binary: PathBuf,
    /// Flags added after the ones the scenario gives.
    pub extra_args: Vec<String>,
    /// Virtual seconds per wall second.
    pub speed: f64,
    pub seed: Option<u64>,
    /// Where the client files and the autoscaler's log go.
    pub dir: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum CompareError {
    #[error("{0} has no autoscaler to compare (its `autoscalers:` list is empty)")]
    NoAutoscaler(String),
    #[error("--speed {0}: expected a number of virtual seconds per second above 0")]
    Speed(f64),
    #[error("could not start the async runtime: {0}")]
    Runtime(std::io::Error),
    #[error("could not start the mock servers: {0}")]
    Servers(std::io::Error),
    #[error("could not write into {dir}: {source}")]
    Dir {
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error("could not start {binary}: {source}")]
    Spawn {
        binary: PathBuf,
        source: std::io::Error,
    },
    #[error("{binary} exited before its first loop ({status}); its log: {log}")]
    Exited {
        binary: PathBuf,
        status: std::process::ExitStatus,
        log: PathBuf,
    },
    #[error("{binary} did not reach its first loop within {secs} s; its log: {log}")]
    NoLoop {
        binary: PathBuf,
        secs: u64,
        log: PathBuf,
    },
}

/// What one side's autoscaler did, as the world shows it at the end of the run.
#[derive(Clone, Debug, Default)]
pub struct Observed {
    /// `Kind namespace/name Reason: message`, each once; pods as `<replicaset>-*` with how
    /// many of them got it.
    pub events: BTreeSet<String>,
    /// The status ConfigMap's `status`, timestamps replaced by `<time>`.
    pub status: String,
    /// The same as written, for the files `compare` leaves in its `--dir`.
    pub raw_status: String,
    /// `group: size` for every MachineDeployment and Magnum nodegroup.
    pub sizes: Vec<String>,
    /// The fatal line the autoscaler exited with (`file.go:line] message`), if it did.
    pub fatal: Option<String>,
}

/// Both sides of one scenario.
#[derive(Clone, Debug)]
pub struct Comparison {
    pub scenario: String,
    pub file: String,
    pub binary: PathBuf,
    /// The release the binary printed at start-up (`1.30.2`), which the engine models.
    pub version: String,
    pub speed: f64,
    pub engine: Observed,
    pub real: Observed,
    pub log: PathBuf,
}

impl Comparison {
    /// Events, exit, sizes and the normalised status are equal (the raw status is not
    /// compared: its timestamps differ by construction).
    pub fn agrees(&self) -> bool {
        let key = |o: &Observed| {
            (
                o.events.clone(),
                o.fatal.clone(),
                o.sizes.clone(),
                o.status.clone(),
            )
        };
        key(&self.engine) == key(&self.real)
    }

    /// The comparison as text: each section `same` or its differing lines, then the verdict.
    pub fn render(&self) -> String {
        let mut out = format!(
            "magsim compare: {} ({})\n  autoscaler {} (cluster-autoscaler {}), {}x; log {}\n",
            self.scenario,
            self.file,
            self.binary.display(),
            self.version,
            self.speed,
            self.log.display()
        );
        let mut differences = 0;
        let mut section = |title: &str, engine: Vec<String>, real: Vec<String>| {
            if engine == real {
                out.push_str(&format!("{title}: same ({} lines)\n", engine.len()));
                for l in &engine {
                    out.push_str(&format!("  = {l}\n"));
                }
                return;
            }
            out.push_str(&format!("{title}: differ (- engine only, + real only)\n"));
            for (mark, l) in diff(&engine, &real) {
                differences += usize::from(mark != '=');
                out.push_str(&format!("  {mark} {l}\n"));
            }
        };
        section(
            "events",
            self.engine.events.iter().cloned().collect(),
            self.real.events.iter().cloned().collect(),
        );
        section(
            "autoscaler exit",
            self.engine.fatal.iter().cloned().collect(),
            self.real.fatal.iter().cloned().collect(),
        );
        section(
            "node group sizes",
            self.engine.sizes.clone(),
            self.real.sizes.clone(),
        );
        let lines = |s: &str| s.lines().map(str::to_string).collect::<Vec<_>>();
        section(
            "status ConfigMap",
            lines(&self.engine.status),
            lines(&self.real.status),
        );
        if differences == 0 {
            out.push_str("verdict: the engine and the real autoscaler agree\n");
        } else {
            out.push_str(&format!(
                "verdict: {differences} lines differ between the engine and the real autoscaler\n"
            ));
        }
        out
    }
}

/// A line diff (longest common subsequence): `=` both, `-` only `a`, `+` only `b`, in order.
fn diff<'a>(a: &'a [String], b: &'a [String]) -> Vec<(char, &'a str)> {
    let (n, m) = (a.len(), b.len());
    let mut lcs = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, Vec::new());
    while i < n || j < m {
        if i < n && j < m && a[i] == b[j] {
            out.push(('=', a[i].as_str()));
            (i, j) = (i + 1, j + 1);
        } else if j == m || (i < n && lcs[i + 1][j] >= lcs[i][j + 1]) {
            out.push(('-', a[i].as_str()));
            i += 1;
        } else {
            out.push(('+', b[j].as_str()));
            j += 1;
        }
    }
    out
}

/// Duration flags whose value (given or default) is divided by the speed, with upstream
/// 1.30.2's defaults.
const DURATION_FLAGS: [(&str, &str); 11] = [
    ("scan-interval", "10s"),
    ("max-node-provision-time", "15m"),
    ("scale-down-delay-after-add", "10m"),
    ("scale-down-delay-after-failure", "3m"),
    ("scale-down-unneeded-time", "10m"),
    ("scale-down-unready-time", "20m"),
    ("initial-node-group-backoff-duration", "5m"),
    ("max-node-group-backoff-duration", "30m"),
    ("max-inactivity", "10m"),
    ("max-failing-time", "15m"),
    ("unremovable-node-recheck-timeout", "5m"),
];

/// Flags magsim sets itself for the mocks.
const OWN_FLAGS: [&str; 5] = ["cloud-config", "kubeconfig", "namespace", "address", "v"];

fn flag_name(arg: &str) -> Option<(&str, Option<&str>)> {
    let a = arg.strip_prefix("--").or_else(|| arg.strip_prefix('-'))?;
    Some(match a.split_once('=') {
        Some((n, v)) => (n, Some(v)),
        None => (a, None),
    })
}

fn scaled(value: &str, speed: f64) -> Option<String> {
    let d = SimDuration::parse(value).ok()?;
    Some(format!(
        "{}ms",
        ((d.as_millis() as f64) / speed).round().max(1.0) as u64
    ))
}

/// The binary's command line: the scenario's flags with durations scaled, the defaults it
/// leaves scaled too, and the mocks' files and addresses.
pub fn autoscaler_args(
    scenario_args: &[String],
    speed: f64,
    kubeconfig: &Path,
    cloud_config: &Path,
    address: &str,
) -> Vec<String> {
    let mut out = Vec::new();
    let mut given = BTreeSet::new();
    for arg in scenario_args {
        let Some((name, value)) = flag_name(arg) else {
            out.push(arg.clone());
            continue;
        };
        given.insert(name.to_string());
        if OWN_FLAGS.contains(&name) {
            continue;
        }
        match (DURATION_FLAGS.iter().any(|(f, _)| *f == name), value) {
            (true, Some(v)) => match scaled(v, speed) {
                Some(s) => out.push(format!("--{name}={s}")),
                None => out.push(arg.clone()),
            },
            _ => out.push(arg.clone()),
        }
    }
    for (name, default) in DURATION_FLAGS {
        if !given.contains(name) {
            if let Some(s) = scaled(default, speed) {
                out.push(format!("--{name}={s}"));
            }
        }
    }
    let provider = scenario_args
        .iter()
        .find_map(|a| a.strip_prefix("--cloud-provider="))
        .unwrap_or_default();
    out.push(format!("--kubeconfig={}", kubeconfig.display()));
    if provider == "magnum" {
        out.push(format!("--cloud-config={}", cloud_config.display()));
    }
    out.extend([
        "--namespace=kube-system".to_string(),
        format!("--address={address}"),
        "--v=4".to_string(),
        // Loops at speed must not wait on client-side throttling (upstream's default is 5).
        "--kube-client-qps=200".to_string(),
        "--kube-client-burst=400".to_string(),
    ]);
    out
}

/// Whether `word` is a Go duration (`15m0s`, `45s`, `1h30m`, `1.5s`).
fn is_duration(word: &str) -> bool {
    let mut rest = word;
    let mut units = 0;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if digits == 0 || !rest.as_bytes()[0].is_ascii_digit() {
            return false;
        }
        rest = &rest[digits..];
        let unit = ["ms", "us", "µs", "ns", "h", "m", "s"]
            .into_iter()
            .find(|u| rest.starts_with(u));
        match unit {
            Some(u) => rest = &rest[u.len()..],
            None => return false,
        }
        units += 1;
    }
    units > 0
}

/// Every Go duration in `text` as `<duration>`: the real autoscaler's durations are the
/// scaled flags (`failed to register within 45s` for 15m at 20x).
fn normalise_durations(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        if is_duration(word) {
            out.push_str("<duration>");
        } else {
            out.push_str(word);
        }
        word.clear();
    };
    for c in text.chars() {
        if c.is_alphanumeric() || c == '.' || c == 'µ' {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

/// A `NotTriggerScaleUp` message with its reasons in the engine's order (count descending,
/// then text): upstream joins them in Go map order (`ReasonsMessage`,
/// `processors/status/scale_up_status_processor.go`), different from run to run.
fn canonical_reasons(message: &str) -> String {
    const PREFIX: &str = "pod didn't trigger scale-up: ";
    let Some(list) = message.strip_prefix(PREFIX) else {
        return message.to_string();
    };
    // Each reason starts with its count; a reason may itself hold ", " (limits).
    let mut reasons: Vec<&str> = Vec::new();
    let mut start = 0;
    for (i, _) in list.match_indices(", ") {
        if list[i + 2..].starts_with(|c: char| c.is_ascii_digit()) {
            reasons.push(&list[start..i]);
            start = i + 2;
        }
    }
    reasons.push(&list[start..]);
    let count = |r: &str| {
        r.split(' ')
            .next()
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or(0)
    };
    reasons.sort_by(|a, b| count(b).cmp(&count(a)).then(a.cmp(b)));
    format!("{PREFIX}{}", reasons.join(", "))
}

/// `Kind namespace/name Reason: message` of every autoscaler event.
fn events(engine: &Engine) -> BTreeSet<String> {
    // Pods of one ReplicaSet are counted, not named: among equal pending pods upstream picks
    // the ones a capped scale-up helps in lister and unstable-sort order (`sort.Slice` by
    // priority in the orchestrator), so which replica gets the event differs from run to run.
    let mut counted: std::collections::BTreeMap<String, BTreeSet<&str>> = Default::default();
    for e in engine
        .world
        .events
        .all()
        .iter()
        .filter(|e| e.source == "cluster-autoscaler" && e.reason != "LeaderElection")
    {
        let name: &str = &e.object.name;
        let (shown, pod) = match (e.object.kind, name.rsplit_once('-')) {
            ("Pod", Some((set, _))) => (format!("{set}-*"), Some(name)),
            _ => (name.to_string(), None),
        };
        let key = format!(
            "{} {}/{} {}: {}",
            e.object.kind,
            e.object.namespace,
            shown,
            e.reason,
            normalise_durations(&canonical_reasons(&e.message))
        );
        let pods = counted.entry(key).or_default();
        pods.extend(pod);
    }
    counted
        .into_iter()
        .map(|(key, pods)| match pods.len() {
            0 => key,
            n => format!("{key} ({n} pods)"),
        })
        .collect()
}

/// The status with every timestamp as `<time>`, and its node groups in name order: upstream
/// lists them in `cloudProvider.NodeGroups()` order (`clusterstate/clusterstate.go`,
/// `GetStatus`), which for the clusterapi provider is an informer cache's map order, different
/// from run to run; the engine lists them by name.
fn normalise_status(text: &str) -> String {
    let lines: Vec<String> = text
        .lines()
        .map(|l| {
            let t = l.trim_start();
            for key in [
                "time:",
                "lastProbeTime:",
                "lastTransitionTime:",
                "Cluster-autoscaler status at ",
            ] {
                if t.starts_with(key) {
                    let indent = &l[..l.len() - t.len()];
                    return format!("{indent}{key} <time>");
                }
            }
            l.to_string()
        })
        .collect();
    let lines: Vec<String> = lines.iter().map(|l| normalise_durations(l)).collect();
    let Some(start) = lines.iter().position(|l| l == "nodeGroups:") else {
        return lines.join("\n");
    };
    let mut groups: Vec<Vec<String>> = Vec::new();
    let mut rest = Vec::new();
    for l in &lines[start + 1..] {
        if l.starts_with("- name: ") {
            groups.push(vec![l.clone()]);
        } else if l.starts_with(' ') && !groups.is_empty() {
            if let Some(g) = groups.last_mut() {
                g.push(l.clone());
            }
        } else {
            rest.push(l.clone());
        }
    }
    groups.sort();
    let mut out = lines[..=start].to_vec();
    out.extend(groups.into_iter().flatten());
    out.extend(rest);
    out.join("\n")
}

fn status_text(engine: &Engine) -> String {
    engine
        .world
        .configmaps
        .iter()
        .find(|((_, name), _)| name == "cluster-autoscaler-status")
        .and_then(|(_, d)| d.data().get("status").cloned())
        .unwrap_or_else(|| "(no status ConfigMap)".to_string())
}

fn sizes(engine: &Engine) -> Vec<String> {
    let w = &engine.world;
    let mut out: Vec<String> = w
        .machine_deployments
        .iter()
        .map(|md| {
            format!(
                "MachineDeployment {}/{}: {}",
                md.namespace, md.name, md.replicas
            )
        })
        .collect();
    if let Some(c) = &w.cluster {
        out.extend(
            c.nodegroups
                .iter()
                .map(|ng| format!("nodegroup {}: node_count {}", ng.name, ng.node_count)),
        );
    }
    out
}

/// What `engine`'s autoscaler did, read from its world.
pub fn observe(engine: &Engine) -> Observed {
    let fatal = engine.autoscalers.iter().find_map(|a| match &a.phase {
        magsim_sim::autoscaler::Phase::CrashLoopBackOff { fatal, .. } => Some(format!(
            "{}] {}",
            fatal.location.unwrap_or("main.go"),
            fatal.message
        )),
        _ => None,
    });
    let raw_status = status_text(engine);
    Observed {
        events: events(engine),
        status: normalise_status(&raw_status),
        raw_status,
        sizes: sizes(engine),
        fatal,
    }
}

/// The fatal line of a klog log (`F1201 21:47:32.987370   20637 file.go:374] message`) as
/// `file.go:374] message`.
fn fatal_in_log(log: &str) -> Option<String> {
    let line = log.lines().rev().find(|l| l.starts_with('F'))?;
    let (head, message) = line.split_once("] ")?;
    let location = head.rsplit(' ').next()?;
    Some(format!("{location}] {message}"))
}

/// The release a cluster-autoscaler log starts with (`Cluster Autoscaler 1.30.2`).
pub fn version_in_log(log: &str) -> Option<String> {
    let (_, rest) = log.split_once("Cluster Autoscaler ")?;
    let v: String = rest
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    (v.split('.').count() == 3).then_some(v)
}

/// The engine's run of `scenario` with its autoscalers modelled as release `version`, their
/// hard-coded timers running `speed` times slower than the world, as the real binary's do.
pub fn engine_side(scenario: &Scenario, version: &str, speed: f64, seed: Option<u64>) -> Observed {
    let mut s = scenario.clone();
    for a in &mut s.autoscalers {
        let repo = a
            .image
            .rsplit_once(':')
            .map_or(a.image.as_str(), |(r, _)| r);
        a.image = format!("{repo}:v{version}");
        a.legacy_status = false;
        a.timer_scale = speed.round().max(1.0) as u32;
    }
    let mut engine = s.engine(seed);
    crate::drive(&mut engine, &s, seed);
    observe(&engine)
}

/// The real side: virtual time follows the wall clock at `speed`.
struct Real<'a> {
    cloud: &'a MockCloud,
    speed: f64,
    guard: Option<MutexGuard<'a, Engine>>,
    /// Wall instant and virtual time the pacing counts from.
    origin: (Instant, SimTime),
}

impl Api for Real<'_> {
    fn engine(&mut self) -> &mut Engine {
        let cloud = self.cloud;
        self.guard.get_or_insert_with(|| cloud.live.engine())
    }

    fn apply(&mut self, op: Operation, request_id: Option<String>) -> ApiResponse {
        self.guard = None;
        self.cloud.live.mutate(|e| e.apply(op, request_id))
    }

    fn run_until(&mut self, t: SimTime) {
        self.guard = None;
        let live = &self.cloud.live;
        loop {
            let now = live.engine().now();
            if now >= t {
                return;
            }
            std::thread::sleep(PACE);
            let (wall, virt) = self.origin;
            let due = virt
                + SimDuration::from_millis(
                    (wall.elapsed().as_secs_f64() * 1000.0 * self.speed) as u64,
                );
            let to = due.min(t);
            if to > now {
                live.advance(to.since(now));
            }
        }
    }

    fn faults_here(&self) -> bool {
        true
    }
}

fn free_address() -> String {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_or_else(|_| "127.0.0.1:0".to_string(), |a| a.to_string())
}

/// Kills the autoscaler when the comparison ends, however it ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// How often the real side's virtual clock moves: every move re-renders the API's objects.
const PACE: Duration = Duration::from_millis(50);

/// How long the binary may take to reach its first loop.
const START_LIMIT: Duration = Duration::from_secs(90);

fn wait_for_first_loop(
    child: &mut Running,
    o: &CompareOptions,
    log: &Path,
) -> Result<String, CompareError> {
    let start = Instant::now();
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        // main.go logs this right before it waits one scan interval for the first loop, as
        // the engine's autoscaler does from time zero: virtual time starts here.
        if text.contains("Registered cleanup signal handler") || text.contains("Starting main loop")
        {
            return Ok(text);
        }
        if let Ok(Some(status)) = child.0.try_wait() {
            return Err(CompareError::Exited {
                binary: o.binary.clone(),
                status,
                log: log.to_path_buf(),
            });
        }
        if start.elapsed() > START_LIMIT {
            return Err(CompareError::NoLoop {
                binary: o.binary.clone(),
                secs: START_LIMIT.as_secs(),
                log: log.to_path_buf(),
            });
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Runs the real autoscaler against `scenario`'s mocks, then the engine, and compares.
pub fn compare(scenario: &Scenario, o: &CompareOptions) -> Result<Comparison, CompareError> {
    if !(o.speed.is_finite() && o.speed > 0.0) {
        return Err(CompareError::Speed(o.speed));
    }
    let spec = scenario
        .autoscalers
        .first()
        .ok_or_else(|| CompareError::NoAutoscaler(scenario.file.clone()))?;
    let served = magsim_mocks::Serving {
        no_autoscaler: true,
        scenario_clock: false,
    }
    .apply(scenario.clone());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(CompareError::Runtime)?;
    let cloud = rt
        .block_on(MockCloud::start(&served, o.seed))
        .map_err(CompareError::Servers)?;
    let dir_error = |source| CompareError::Dir {
        dir: o.dir.clone(),
        source,
    };
    let files = cloud.write_client_files(&o.dir).map_err(dir_error)?;
    // The binary reads the file the scenario's autoscaler mounts (a trust stays a trust).
    let own = magsim_mocks::cloud_config::of_autoscaler(&cloud, spec, &cloud.live.engine().world);
    if let Some(text) = own {
        std::fs::write(&files.cloud_config, text).map_err(dir_error)?;
    }
    let log = o.dir.join("cluster-autoscaler.log");
    let out = std::fs::File::create(&log).map_err(dir_error)?;
    let err = out.try_clone().map_err(dir_error)?;
    let mut args = autoscaler_args(
        &spec.args,
        o.speed,
        &files.kubeconfig,
        &files.cloud_config,
        &free_address(),
    );
    args.extend(o.extra_args.iter().cloned());
    tracing::info!(binary = %o.binary.display(), ?args, "starting the autoscaler");
    let child = Command::new(&o.binary)
        .args(&args)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .map_err(|source| CompareError::Spawn {
            binary: o.binary.clone(),
            source,
        })?;
    let mut child = Running(child);
    let (started, exited) = match wait_for_first_loop(&mut child, o, &log) {
        Ok(text) => (text, false),
        // An autoscaler that dies at start-up is an answer too: its fatal line is compared.
        Err(CompareError::Exited { .. }) => {
            (std::fs::read_to_string(&log).unwrap_or_default(), true)
        }
        Err(e) => return Err(e),
    };
    let version = version_in_log(&started).unwrap_or_else(|| "1.30.2".to_string());
    if !exited {
        let mut api = Real {
            cloud: &cloud,
            speed: o.speed,
            guard: None,
            origin: (Instant::now(), SimTime::ZERO),
        };
        crate::drive(&mut api, scenario, o.seed);
    }
    let mut real = observe(&cloud.live.engine());
    drop(child);
    real.fatal = fatal_in_log(&std::fs::read_to_string(&log).unwrap_or_default());
    let engine = engine_side(scenario, &version, o.speed, o.seed);
    for (name, side) in [("status-engine.yaml", &engine), ("status-real.yaml", &real)] {
        std::fs::write(o.dir.join(name), &side.raw_status).map_err(dir_error)?;
    }
    Ok(Comparison {
        scenario: scenario.name.clone(),
        file: scenario.file.clone(),
        binary: o.binary.clone(),
        version,
        speed: o.speed,
        engine,
        real,
        log,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_scaled_and_own_flags_replaced() {
        let args: Vec<String> = [
            "--cloud-provider=magnum",
            "--scan-interval=10s",
            "--cloud-config=/config/cloud-config",
            "--nodes=1:6:default-worker",
        ]
        .map(String::from)
        .to_vec();
        let a = autoscaler_args(&args, 10.0, Path::new("/k"), Path::new("/c"), "127.0.0.1:1");
        assert!(a.contains(&"--scan-interval=1000ms".to_string()), "{a:?}");
        assert!(a.contains(&"--max-node-provision-time=90000ms".to_string()));
        assert!(a.contains(&"--cloud-config=/c".to_string()));
        assert!(!a.iter().any(|x| x.contains("/config/cloud-config")));
        assert!(a.contains(&"--nodes=1:6:default-worker".to_string()));
        assert_eq!(
            a.iter()
                .filter(|x| x.starts_with("--scan-interval"))
                .count(),
            1
        );
    }

    #[test]
    fn only_timestamps_are_normalised() {
        let s = "time: 2026-12-01 21:18:31.34 +0000 UTC\nautoscalerStatus: Running\n  lastProbeTime: \"2026-12-01T21:18:31Z\"";
        assert_eq!(
            normalise_status(s),
            "time: <time>\nautoscalerStatus: Running\n  lastProbeTime: <time>"
        );
        assert_eq!(
            normalise_durations("failed to register within 15m0s; 1->2 (max: 2) m3.small 1.5s"),
            "failed to register within <duration>; 1->2 (max: 2) m3.small <duration>"
        );
        assert_eq!(
            canonical_reasons("pod didn't trigger scale-up: 1 node(s) didn't match, 1 in backoff, 2 max cluster cpu, memory limit reached"),
            "pod didn't trigger scale-up: 2 max cluster cpu, memory limit reached, 1 in backoff, 1 node(s) didn't match"
        );
        let groups = "nodeGroups:\n- name: b\n  x: 1\n- name: a\n  x: 2";
        assert_eq!(
            normalise_status(groups),
            "nodeGroups:\n- name: a\n  x: 2\n- name: b\n  x: 1"
        );
        assert_eq!(
            fatal_in_log(
                "I1201 x\nF1201 21:47:32.987370   20637 magnum_cloud_provider.go:374] could not\n"
            ),
            Some("magnum_cloud_provider.go:374] could not".into())
        );
        assert_eq!(
            version_in_log("I1201 main.go:649] Cluster Autoscaler 1.30.2\n"),
            Some("1.30.2".into())
        );
    }
}
