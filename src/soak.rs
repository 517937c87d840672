//! `magsim bench soak`: the mock cloud of the incident under a steady mixed load on loopback
//! for a bounded time, reporting per interval what a server that holds must keep flat:
//! throughput, p50/p99 latency, errors and resident memory.
//!
//! The load is what a cluster-autoscaler and an operator put on a cluster, offered at a fixed
//! rate (open loop: a slow server is not given fewer requests): Kubernetes lists, gets and
//! field-selected pod lists, event posts (most repeat, as an autoscaler's per-loop events do;
//! some are new and live until the 1 h event TTL), status ConfigMap reads, Keystone logins,
//! Magnum cluster and nodegroup reads, a Deployment scaled now and then, and one watch that
//! re-watches when it ends. Virtual time runs at 60x, so ten minutes cover ten virtual hours.

use anyhow::{bail, Context, Result};
use magsim_mocks::cloud::MockCloud;
use magsim_sim::time::SimDuration;
use serde_json::json;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub struct Options {
    pub seconds: u64,
    /// Requests offered per second, over all workers.
    pub rate: u64,
    /// Seconds per report line.
    pub interval: u64,
    pub json: Option<std::path::PathBuf>,
}

/// Concurrent request loops: enough that one slow answer does not stall the offered rate.
const WORKERS: u64 = 16;
/// Virtual seconds per wall second.
const SPEED: u64 = 60;

/// One kind of request in the mix.
#[derive(Clone, Copy, Debug)]
enum Op {
    ListPods,
    ListNodes,
    PendingPods,
    GetPod,
    RepeatEvent,
    NewEvent,
    StatusConfigMap,
    ListEvents,
    Login,
    Cluster,
    Nodegroups,
    Scale,
}

/// The mix, one entry per request in a round (weights by repetition).
const MIX: [Op; 20] = [
    Op::ListPods,
    Op::PendingPods,
    Op::RepeatEvent,
    Op::GetPod,
    Op::ListNodes,
    Op::RepeatEvent,
    Op::Cluster,
    Op::StatusConfigMap,
    Op::NewEvent,
    Op::Nodegroups,
    Op::PendingPods,
    Op::RepeatEvent,
    Op::ListEvents,
    Op::Login,
    Op::GetPod,
    Op::RepeatEvent,
    Op::Cluster,
    Op::ListPods,
    Op::NewEvent,
    Op::Scale,
];

/// What one interval saw.
#[derive(Default)]
struct Bucket {
    latencies_us: Vec<u64>,
    errors: u64,
    missed: u64,
}

struct Shared {
    start: Instant,
    interval: Duration,
    buckets: Mutex<Vec<Bucket>>,
    stop: AtomicBool,
    sequence: AtomicU64,
    /// Failed requests by kind, with the last answer's status (0: no answer).
    failures: Mutex<std::collections::BTreeMap<String, (u64, u16)>>,
}

impl Shared {
    fn bucket(&self, at: Instant) -> usize {
        (at.duration_since(self.start).as_secs_f64() / self.interval.as_secs_f64()) as usize
    }

    fn note(&self, at: Instant, f: impl FnOnce(&mut Bucket)) {
        let i = self.bucket(at);
        let mut b = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if b.len() <= i {
            b.resize_with(i + 1, Bucket::default);
        }
        f(&mut b[i]);
    }
}

struct Target {
    kube: String,
    keystone: String,
    magnum: String,
    login: serde_json::Value,
    token: Mutex<String>,
}

pub fn run(o: Options) -> Result<()> {
    if o.seconds == 0 || o.seconds > 24 * 3600 {
        bail!("--seconds {}: expected 1 to 86400", o.seconds);
    }
    if o.rate == 0 || o.rate > 100_000 {
        bail!(
            "--rate {}: expected 1 to 100000 requests per second",
            o.rate
        );
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(soak(o))
}

async fn soak(o: Options) -> Result<()> {
    let (file, text) = magsim_scenario::builtin()[0];
    let scenario = magsim_scenario::parse(file, text).map_err(anyhow::Error::msg)?;
    let scenario = magsim_mocks::Serving {
        no_autoscaler: false,
        scenario_clock: false,
    }
    .apply(scenario);
    let cloud = MockCloud::start(&scenario, None)
        .await
        .context("starting the mock servers")?;
    cloud
        .live
        .set_event_ttl(Some(magsim_mocks::live::EVENT_TTL));
    // As serve: nobody reads the journal, which would keep every exchange.
    cloud.openstack.journal.set_enabled(false);
    let c = &cloud.openstack.credentials;
    let target = Arc::new(Target {
        kube: cloud.kube.url.clone(),
        keystone: cloud.openstack.urls.keystone.clone(),
        magnum: cloud.openstack.urls.magnum.clone(),
        login: json!({"auth": {"identity": {"methods": ["application_credential"],
            "application_credential": {"id": c.application_credential_id,
                "secret": c.application_credential_secret}}}}),
        token: Mutex::new(String::new()),
    });
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(WORKERS as usize * 2)
        .build()?;
    login(&http, &target).await?;
    let shared = Arc::new(Shared {
        start: Instant::now(),
        interval: Duration::from_secs(o.interval.max(1)),
        buckets: Mutex::new(Vec::new()),
        stop: AtomicBool::new(false),
        sequence: AtomicU64::new(0),
        failures: Mutex::new(Default::default()),
    });
    let live = cloud.live.clone();
    let clock = tokio::spawn(async move {
        let mut t = tokio::time::interval(Duration::from_millis(100));
        loop {
            t.tick().await;
            live.advance(SimDuration(SPEED * 100));
        }
    });
    let mut tasks = Vec::new();
    let period = Duration::from_secs_f64(WORKERS as f64 / o.rate as f64);
    for w in 0..WORKERS {
        let (http, target, shared) = (http.clone(), target.clone(), shared.clone());
        tasks.push(tokio::spawn(async move {
            // Staggered so the workers' requests interleave evenly.
            tokio::time::sleep(period.mul_f64(w as f64 / WORKERS as f64)).await;
            let mut t = tokio::time::interval(period);
            t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
            while !shared.stop.load(Ordering::Relaxed) {
                let due = t.tick().await.into_std();
                if due.elapsed() > period {
                    shared.note(due, |b| b.missed += 1);
                }
                let n = shared.sequence.fetch_add(1, Ordering::Relaxed);
                let op = MIX[(n % MIX.len() as u64) as usize];
                let sent = Instant::now();
                let status = request(&http, &target, op, n).await;
                let ok = (200..300).contains(&status);
                if !ok {
                    let mut f = shared.failures.lock().unwrap_or_else(|p| p.into_inner());
                    let e = f.entry(format!("{op:?}")).or_default();
                    *e = (e.0 + 1, status);
                }
                let us = sent.elapsed().as_micros() as u64;
                shared.note(sent, |b| {
                    b.latencies_us.push(us);
                    b.errors += u64::from(!ok);
                });
            }
        }));
    }
    let watcher = {
        let (http, target, shared) = (http.clone(), target.clone(), shared.clone());
        tokio::spawn(async move {
            while !shared.stop.load(Ordering::Relaxed) {
                watch_once(&http, &target).await;
            }
        })
    };
    println!("soak: {} s at {} req/s offered ({WORKERS} workers, a watch loop), virtual time at {SPEED}x",
        o.seconds, o.rate);
    println!(
        "{:>6} {:>9} {:>8} {:>9} {:>9} {:>7} {:>7} {:>8}",
        "t(s)", "requests", "req/s", "p50(ms)", "p99(ms)", "errors", "missed", "RSS(MB)"
    );
    let mut rows = Vec::new();
    let mut reported = 0;
    let end = shared.start + Duration::from_secs(o.seconds);
    loop {
        let next = shared.start + shared.interval * (reported as u32 + 1);
        tokio::time::sleep_until(next.min(end).into()).await;
        if Instant::now() >= end {
            break;
        }
        rows.push(report(&shared, reported, &o));
        reported += 1;
    }
    shared.stop.store(true, Ordering::Relaxed);
    clock.abort();
    watcher.abort();
    for t in tasks {
        t.abort();
    }
    for (op, (n, status)) in shared
        .failures
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
    {
        println!(
            "failed: {op} x{n} (last answer: {})",
            if *status == 0 {
                "none".to_string()
            } else {
                status.to_string()
            }
        );
    }
    if let Some(path) = &o.json {
        std::fs::write(path, serde_json::to_string_pretty(&rows)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// Prints and returns the report of interval `i`.
fn report(shared: &Shared, i: usize, o: &Options) -> serde_json::Value {
    let mut buckets = shared.buckets.lock().unwrap_or_else(|p| p.into_inner());
    if buckets.len() <= i {
        buckets.resize_with(i + 1, Bucket::default);
    }
    let b = &mut buckets[i];
    b.latencies_us.sort_unstable();
    let pct = |p: f64| -> f64 {
        if b.latencies_us.is_empty() {
            return 0.0;
        }
        let k = ((b.latencies_us.len() as f64 * p).ceil() as usize).clamp(1, b.latencies_us.len());
        b.latencies_us[k - 1] as f64 / 1000.0
    };
    let n = b.latencies_us.len();
    let secs = o.interval.max(1);
    let rss = rss_mb();
    let (p50, p99) = (pct(0.50), pct(0.99));
    println!(
        "{:>6} {:>9} {:>8.0} {:>9.2} {:>9.2} {:>7} {:>7} {:>8.1}",
        (i as u64 + 1) * secs,
        n,
        n as f64 / secs as f64,
        p50,
        p99,
        b.errors,
        b.missed,
        rss
    );
    // Keep only the summary: a long soak must not grow the harness itself.
    b.latencies_us = Vec::new();
    json!({"t": (i as u64 + 1) * secs, "requests": n, "throughput": n as f64 / secs as f64,
        "p50_ms": p50, "p99_ms": p99, "errors": b.errors, "missed": b.missed, "rss_mb": rss})
}

/// This process's resident set, in MB (Linux; 0 elsewhere).
fn rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

async fn login(http: &reqwest::Client, t: &Target) -> Result<()> {
    let r = http
        .post(format!("{}/v3/auth/tokens", t.keystone))
        .header("Content-Type", "application/json")
        .body(t.login.to_string())
        .send()
        .await?;
    if r.status() != 201 {
        bail!("Keystone login answered {}", r.status());
    }
    let token = r
        .headers()
        .get("X-Subject-Token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    *t.token.lock().unwrap_or_else(|p| p.into_inner()) = token;
    Ok(())
}

/// One request of the mix; the status it got, 0 for no (whole) answer.
async fn request(http: &reqwest::Client, t: &Target, op: Op, n: u64) -> u16 {
    let kube = &t.kube;
    let pod = "high-memory-deployment-844964899f-4md88";
    let token = t.token.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let event = |message: String| {
        json!({"metadata": {"generateName": "soak.", "namespace": "default"},
            "involvedObject": {"kind": "Pod", "namespace": "default", "name": pod},
            "reason": "NotTriggerScaleUp", "message": message, "type": "Normal",
            "source": {"component": "cluster-autoscaler"}})
        .to_string()
    };
    let req = match op {
        Op::ListPods => http.get(format!("{kube}/api/v1/pods")),
        Op::ListNodes => http.get(format!("{kube}/api/v1/nodes")),
        Op::PendingPods => http.get(format!(
            "{kube}/api/v1/pods?fieldSelector=spec.nodeName%3D%2Cstatus.phase%21%3DSucceeded"
        )),
        Op::GetPod => http.get(format!("{kube}/api/v1/namespaces/default/pods/{pod}")),
        Op::RepeatEvent => http
            .post(format!("{kube}/api/v1/namespaces/default/events"))
            .header("Content-Type", "application/json")
            .body(event(format!(
                "pod didn't trigger scale-up: repeat {}",
                n % 4
            ))),
        Op::NewEvent => http
            .post(format!("{kube}/api/v1/namespaces/default/events"))
            .header("Content-Type", "application/json")
            .body(event(format!("soak event {n}"))),
        Op::StatusConfigMap => http.get(format!(
            "{kube}/api/v1/namespaces/kube-system/configmaps/cluster-autoscaler-status"
        )),
        Op::ListEvents => http.get(format!("{kube}/api/v1/namespaces/default/events?limit=50")),
        Op::Login => {
            return if login(http, t).await.is_ok() { 201 } else { 0 };
        }
        Op::Cluster => http
            .get(format!("{}/v1/clusters/k8s", t.magnum))
            .header("X-Auth-Token", token),
        Op::Nodegroups => http
            .get(format!("{}/v1/clusters/k8s/nodegroups", t.magnum))
            .header("OpenStack-API-Version", "container-infra latest")
            .header("X-Auth-Token", token),
        // A scale now and then (one in 400 requests): each one adds or removes a pod, and the
        // engine keeps every pod it ever made.
        Op::Scale if n % 400 != MIX.len() as u64 - 1 => {
            http.get(format!("{kube}/api/v1/namespaces/default/pods/{pod}"))
        }
        Op::Scale => http
            .patch(format!(
                "{kube}/apis/apps/v1/namespaces/default/deployments/high-memory-deployment/scale"
            ))
            .header("Content-Type", "application/merge-patch+json")
            .body(json!({"spec": {"replicas": 6 + (n / 400) % 2}}).to_string()),
    };
    match req.send().await {
        Ok(r) => {
            let status = r.status().as_u16();
            // Read the whole body: a client that hangs up early measures less than a real one.
            if r.bytes().await.is_ok() {
                status
            } else {
                0
            }
        }
        Err(_) => 0,
    }
}

/// One watch of pods until the server ends it (30 s) or it fails.
async fn watch_once(http: &reqwest::Client, t: &Target) {
    let url = format!("{}/api/v1/pods?watch=true&timeoutSeconds=30", t.kube);
    let Ok(mut r) = http.get(url).send().await else {
        tokio::time::sleep(Duration::from_millis(100)).await;
        return;
    };
    while let Ok(Some(_)) = r.chunk().await {}
}
