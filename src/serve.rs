//! `magsim serve`: the mock cloud of one scenario (or a recording) until stopped, with the
//! client files written and virtual time advancing.

use anyhow::{Context, Result};
use magsim_mocks::cloud::CLOUD_NAME;
use magsim_mocks::openstack;
use magsim_mocks::recording::Recording;
use magsim_mocks::{replay, Service};
use magsim_mocks::{Listen, Live, MockCloud};
use magsim_sim::time::{SimDuration, SimTime};
use std::path::PathBuf;

pub struct Options {
    pub scenario: Option<PathBuf>,
    pub dir: PathBuf,
    pub seed: Option<u64>,
    /// Virtual seconds per wall second.
    pub speed: f64,
    /// Advance by this much on each line read from stdin instead of with the wall clock.
    pub step: Option<SimDuration>,
    pub replay: Option<PathBuf>,
    /// Bind address, port layout and advertised host of the live servers.
    pub listen: Listen,
    /// The scenario's simulated autoscalers do not run: the user's autoscaler is the only one.
    pub no_autoscaler: bool,
    /// Keep the scenario's own start date instead of anchoring virtual time zero to now.
    pub scenario_clock: bool,
    /// Serve the Kubernetes API over plain http to anyone (default: TLS and a token).
    pub insecure_kube: bool,
    /// The bearer token the Kubernetes API requires (default: a random one).
    pub kube_token: Option<String>,
}

const TICK: std::time::Duration = std::time::Duration::from_millis(100);

pub fn run(o: Options) -> Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(async {
        match &o.replay {
            Some(path) => serve_replay(path, &o).await,
            None => serve_live(&o).await,
        }
    })
}

async fn serve_live(o: &Options) -> Result<()> {
    let scenarios = magsim::collect(o.scenario.as_slice())?;
    let serving = magsim_mocks::Serving {
        no_autoscaler: o.no_autoscaler,
        scenario_clock: o.scenario_clock,
    };
    let given = scenarios.first().context("no scenario")?;
    let scenario = serving.apply(given.clone());
    let scenario = &scenario;
    let options = magsim_mocks::CloudOptions {
        listen: o.listen.clone(),
        secure_kube: !o.insecure_kube,
        kube_token: o.kube_token.clone(),
    };
    let cloud = MockCloud::start_with(scenario, o.seed, &options)
        .await
        .context("starting the mock servers")?;
    cloud
        .live
        .set_event_ttl(Some(magsim_mocks::live::EVENT_TTL));
    let files = cloud
        .write_client_files(&o.dir)
        .with_context(|| format!("writing client files into {}", o.dir.display()))?;
    println!("magsim serve: {} ({})", scenario.name, scenario.file);
    if o.no_autoscaler {
        println!("  the scenario's simulated autoscalers are off (--no-autoscaler)");
    }
    let os = &cloud.openstack;
    for (name, url) in [
        ("identity (Keystone)", os.auth_url()),
        ("container-infra (Magnum)", os.magnum_url()),
        ("orchestration (Heat)", os.heat_url()),
        ("compute (Nova)", os.urls.nova.clone()),
        ("Kubernetes API", cloud.kube.url.clone()),
    ] {
        println!("  {name:<26} {url}");
    }
    print_listen(&o.listen);
    println!(
        "  clouds.yaml                {}",
        files.clouds_yaml.display()
    );
    println!("  openrc.sh                  {}", files.openrc.display());
    println!(
        "  kubeconfig                 {}",
        files.kubeconfig.display()
    );
    println!(
        "  cloud-config (autoscaler)  {}",
        files.cloud_config.display()
    );
    for (name, path) in own_cloud_configs(&cloud, given, &o.dir)? {
        println!("  cloud-config ({name})  {}", path.display());
    }
    println!();
    println!("{}", files.exports());
    println!();
    advance(cloud.live.clone(), o);
    // Nobody reads the journal here: keep it flat (the servers keep nothing per request).
    cloud.openstack.journal.set_enabled(false);
    stopped().await?;
    println!("stopped at virtual {}", at(&cloud.live));
    Ok(())
}

/// Writes `cloud-config-<autoscaler>` for each autoscaler of the scenario that mounts its own
/// (a trust, say), pointed at the mock Keystone: what a user's binary standing in for that
/// autoscaler reads.
fn own_cloud_configs(
    cloud: &MockCloud,
    scenario: &magsim_scenario::Scenario,
    dir: &std::path::Path,
) -> Result<Vec<(String, std::path::PathBuf)>> {
    // Read under the engine's lock: a copy of the world would cost its every pod.
    let engine = cloud.live.engine();
    let mut written = Vec::new();
    for spec in &scenario.autoscalers {
        let Some(text) = magsim_mocks::cloud_config::of_autoscaler(cloud, spec, &engine.world)
        else {
            continue;
        };
        let path = dir.join(format!("cloud-config-{}", spec.name));
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
        written.push((spec.name.clone(), path));
    }
    Ok(written)
}

/// Waits for Ctrl-C or SIGTERM: as a container's PID 1 there is no default SIGTERM action,
/// so without a handler `docker stop` would wait out its timeout and kill.
async fn stopped() -> Result<()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate()).context("handling SIGTERM")?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r.context("waiting for Ctrl-C")?,
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    tokio::signal::ctrl_c()
        .await
        .context("waiting for Ctrl-C")?;
    Ok(())
}

/// Moves virtual time: `--speed` times the wall clock, or `--step` per line on stdin.
fn advance(live: Live, o: &Options) {
    match o.step {
        Some(step) => {
            println!("step mode: press Enter to advance virtual time by {step}; Ctrl-C stops");
            std::thread::spawn(move || {
                use magsim::lines::{BoundedLines, Line, MAX_LINE_BYTES};
                let mut lines = BoundedLines::new(std::io::stdin().lock(), MAX_LINE_BYTES);
                loop {
                    match lines.next_line() {
                        Ok(Line::Text(_)) => {
                            live.advance(step);
                            println!("virtual time {}", at(&live));
                        }
                        Ok(Line::TooLong) => eprintln!(
                            "magsim serve: stdin line longer than {MAX_LINE_BYTES} bytes ignored (press Enter to step)"
                        ),
                        Ok(Line::Eof) | Err(_) => break,
                    }
                }
            });
        }
        None => {
            let per_tick = SimDuration::from_millis((TICK.as_millis() as f64 * o.speed) as u64);
            println!("virtual time runs at {}x; Ctrl-C stops", o.speed);
            tokio::spawn(async move {
                let mut t = tokio::time::interval(TICK);
                loop {
                    t.tick().await;
                    live.advance(per_tick);
                }
            });
        }
    }
}

fn at(live: &Live) -> String {
    live.engine().now().since(SimTime::ZERO).to_string()
}

/// The bind address and port layout, when not the default (the URLs above say the rest).
fn print_listen(listen: &Listen) {
    if listen.is_default() {
        return;
    }
    let port = match listen.port {
        0 => "ephemeral ports".to_string(),
        p => format!("ports {p}-{}", p.saturating_add(4)),
    };
    println!("  {:<26} {} {port}", "listening on", listen.bind);
}

async fn serve_replay(path: &std::path::Path, o: &Options) -> Result<()> {
    let recording = Recording::load(path)?;
    let replay = replay::serve_on(recording, &o.listen)
        .await
        .context("starting the replay servers")?;
    println!("magsim serve --replay {}", path.display());
    for service in Service::ALL {
        if let Some(url) = replay.url(service) {
            println!("  {:<26} {url}", service.as_str());
        }
    }
    print_listen(&o.listen);
    std::fs::create_dir_all(&o.dir).with_context(|| format!("creating {}", o.dir.display()))?;
    let write = |name: &str, text: String| -> Result<PathBuf> {
        let p = o.dir.join(name);
        std::fs::write(&p, text).with_context(|| format!("writing {}", p.display()))?;
        println!("  {name:<26} {}", p.display());
        Ok(p)
    };
    let mut exports = Vec::new();
    if let Some(url) = replay.url(Service::Identity) {
        // A replay does not check credentials (its token exchange matches any body), so the
        // files name a placeholder application credential.
        let auth_url = format!("{url}/v3/");
        let clouds = openstack::clouds_yaml(CLOUD_NAME, &auth_url, "replay", "replay");
        let openrc = openstack::openrc(&auth_url, "replay", "replay");
        let p = write("clouds.yaml", clouds)?;
        write("openrc.sh", openrc)?;
        exports.push(format!(
            "OS_CLIENT_CONFIG_FILE={} OS_CLOUD={CLOUD_NAME}",
            p.display()
        ));
    }
    if let Some(url) = replay.url(Service::Kubernetes) {
        let p = write("kubeconfig", magsim_mocks::kube::kubeconfig(&url))?;
        exports.push(format!("KUBECONFIG={}", p.display()));
    }
    if !exports.is_empty() {
        println!();
        println!("export {}", exports.join(" "));
    }
    println!();
    println!("serving recorded exchanges in order; Ctrl-C stops");
    stopped().await?;
    let uses = replay.uses();
    println!(
        "served {} of {} recorded exchanges",
        uses.iter().filter(|n| **n > 0).count(),
        uses.len()
    );
    Ok(())
}
