//! The `magsim` command line.

mod bench;
mod record;
mod serve;
mod soak;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use magsim_mocks::listen::ListenError;
use magsim_sim::time::{SimDuration, SimTime};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

#[global_allocator]
static ALLOC: bench::CountingAlloc = bench::CountingAlloc;

#[derive(Parser)]
#[command(
    name = "magsim",
    version,
    about = "Offline simulation of cluster autoscaling on OpenStack Magnum (Jetstream2)"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run scenarios (files or folders; none = the built-in incident scenarios) and check them.
    Run {
        paths: Vec<PathBuf>,
        /// Override every scenario's seed.
        #[arg(long)]
        seed: Option<u64>,
        /// Write JUnit XML (one test case per scenario).
        #[arg(long, value_name = "FILE")]
        junit: Option<PathBuf>,
        /// Write a JSON report.
        #[arg(long, value_name = "FILE")]
        json: Option<PathBuf>,
        /// Print only the summary and failures.
        #[arg(long, short)]
        quiet: bool,
        /// Print wall-clock time per scenario on stderr.
        #[arg(long)]
        timings: bool,
        /// Run over the wire: steps and the simulated autoscalers talk HTTP to the mock
        /// Keystone, Magnum and Kubernetes servers (the timeline is the in-memory one).
        #[arg(long)]
        wire: bool,
        /// Run every `run:` step with the real `openstack` or `kubectl` on PATH against the
        /// mock servers (its manifest on stdin), checking what it printed.
        #[arg(long, conflicts_with = "wire")]
        real_clients: bool,
    },
    /// Run a real cluster-autoscaler binary against a scenario's mocks (its simulated
    /// autoscalers off) and print its events, status ConfigMap and node group sizes beside the
    /// engine's run of the same scenario; exits 1 when they differ.
    Compare {
        scenario: PathBuf,
        /// The cluster-autoscaler binary (e.g. upstream's, built with `-tags clusterapi` or
        /// `-tags magnum`).
        #[arg(long, value_name = "BINARY")]
        autoscaler: PathBuf,
        /// Virtual seconds per wall second; the autoscaler's duration flags are divided by it.
        #[arg(long, default_value_t = 10.0)]
        speed: f64,
        #[arg(long)]
        seed: Option<u64>,
        /// Where the client files and the autoscaler's log are written.
        #[arg(long, default_value = "magsim-compare")]
        dir: PathBuf,
        /// Flags passed to the autoscaler after the scenario's.
        #[arg(last = true, value_name = "EXTRA_FLAGS")]
        extra: Vec<String>,
    },
    /// Time the benchmark workloads (upstream-binpacking, upstream-filter, run-once, scheduler,
    /// incident, mock-http), or `soak`: the mock cloud under a steady mixed load.
    Bench {
        /// Workloads to run (default: all), or `soak` alone.
        workloads: Vec<String>,
        /// soak: how long to run, in seconds.
        #[arg(long, default_value_t = 600)]
        seconds: u64,
        /// soak: requests offered per second.
        #[arg(long, default_value_t = 1000)]
        rate: u64,
        /// soak: seconds per report line.
        #[arg(long, default_value_t = 60)]
        interval: u64,
        /// Sizes, comma-separated, repeatable: e.g. `--size 1000,30,1000` for run-once.
        #[arg(long = "size", value_delimiter = ';')]
        sizes: Vec<String>,
        /// Timed iterations per workload and size.
        #[arg(long, default_value_t = 20)]
        iterations: usize,
        #[arg(long, value_name = "FILE")]
        csv: Option<PathBuf>,
        #[arg(long, value_name = "FILE")]
        json: Option<PathBuf>,
        /// An SVG plot of median latency against cluster size.
        #[arg(long, value_name = "FILE.svg")]
        plot: Option<PathBuf>,
    },
    /// Serve the mock cloud (Keystone, Magnum, Heat, Nova, Kubernetes) of a scenario (default:
    /// the incident as it happened) on loopback until Ctrl-C.
    Serve {
        scenario: Option<PathBuf>,
        /// Where to write clouds.yaml, openrc.sh and kubeconfig.
        #[arg(long, default_value = "magsim-cloud")]
        dir: PathBuf,
        #[arg(long)]
        seed: Option<u64>,
        /// Virtual seconds per wall-clock second.
        #[arg(long, default_value_t = 1.0)]
        speed: f64,
        /// Advance virtual time by this much per line on stdin (e.g. 10s) instead of by the clock.
        #[arg(long, value_name = "DURATION")]
        step: Option<String>,
        /// Serve a recording (mocks/recordings/*.json) instead of a live scenario, on the same
        /// --bind/--port/--advertise.
        #[arg(long, value_name = "RECORDING", conflicts_with = "scenario")]
        replay: Option<PathBuf>,
        /// Address every server binds (0.0.0.0 in a container).
        #[arg(long, default_value = "127.0.0.1")]
        bind: std::net::IpAddr,
        /// First of five consecutive ports: Keystone PORT, Magnum PORT+1, Heat PORT+2, Nova
        /// PORT+3, Kubernetes PORT+4 (0: each server an ephemeral port). A replay binds the
        /// slots of the services its recording has.
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// Where clients reach the servers, written into Keystone's catalog, clouds.yaml,
        /// openrc.sh and kubeconfig: HOST (ports mapped 1:1) or HOST:PORT (Keystone's mapped
        /// port; the others follow at +1..+4). Default: the bound address (loopback for 0.0.0.0).
        /// A replay writes it in place of the recording's {{service}} placeholders.
        #[arg(long, value_name = "HOST[:PORT]")]
        advertise: Option<String>,
        /// Do not run the scenario's simulated autoscalers: every status ConfigMap and
        /// autoscaler event then comes from the autoscaler you run against the mocks.
        #[arg(long)]
        no_autoscaler: bool,
        /// Keep the scenario's own start date (default: virtual time zero is now, so real
        /// clients see today's timestamps).
        #[arg(long)]
        scenario_clock: bool,
        /// Serve the Kubernetes API over plain http and admit any request (default: https
        /// with a certificate of the server's own CA, and only the kubeconfig's bearer token).
        #[arg(long, conflicts_with = "kube_token")]
        insecure_kube: bool,
        /// The bearer token the Kubernetes API requires (default: a random one, written into
        /// the kubeconfig).
        #[arg(long, value_name = "TOKEN")]
        kube_token: Option<String>,
    },
    /// Record a real cloud: proxy its Keystone (and the endpoints in its catalog, and
    /// optionally a Kubernetes API) on loopback and write every exchange, credentials redacted,
    /// to DIR/recording.json in the replay format, until Ctrl-C.
    Record {
        /// The upstream Keystone URL, e.g. https://js2.jetstream-cloud.org:5000/v3/
        #[arg(long, value_name = "URL")]
        upstream: String,
        /// Directory receiving recording.json (and a kubeconfig with --kube-upstream).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Also proxy and record this Kubernetes API (e.g. https://149.165.150.10:6443).
        #[arg(long, value_name = "URL")]
        kube_upstream: Option<String>,
        /// Local port for the Keystone listener (default: any free port).
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// Extra CA certificates (PEM) trusted for the OpenStack endpoints.
        #[arg(long, value_name = "PEM")]
        cacert: Option<PathBuf>,
        /// CA certificates (PEM) of the Kubernetes API (certificate-authority-data, decoded).
        #[arg(long, value_name = "PEM")]
        kube_ca: Option<PathBuf>,
        /// Client certificate and key (one PEM file) for the Kubernetes API.
        #[arg(long, value_name = "PEM")]
        kube_identity: Option<PathBuf>,
        /// A file holding a bearer token for the Kubernetes API.
        #[arg(long, value_name = "FILE")]
        kube_token_file: Option<PathBuf>,
    },
    /// Explain, for each pending pod at a time, why it is pending and what the autoscaler decides.
    Explain {
        scenario: PathBuf,
        /// Virtual time, e.g. 90s or 15m.
        #[arg(long)]
        at: String,
        #[arg(long)]
        seed: Option<u64>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // serve shows its request log and warnings unless MAGSIM_LOG says otherwise.
    let default = match cli.command {
        Cmd::Serve { .. } => "warn,magsim::request=info",
        _ => "error",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("MAGSIM_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .init();
    match real_main(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("magsim: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn real_main(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Cmd::Run {
            paths,
            seed,
            junit,
            json,
            quiet,
            timings,
            wire,
            real_clients,
        } => run(
            &paths,
            seed,
            RunOptions {
                junit,
                json,
                quiet,
                timings,
                via: match (wire, real_clients) {
                    (_, true) => Via::RealClients,
                    (true, false) => Via::Wire,
                    (false, false) => Via::Memory,
                },
            },
        ),
        Cmd::Bench {
            workloads,
            seconds,
            rate,
            interval,
            sizes,
            iterations,
            csv,
            json,
            plot,
        } => {
            if workloads.iter().any(|w| w == "soak") {
                if workloads.len() > 1 {
                    anyhow::bail!("soak runs alone: drop the other workloads");
                }
                soak::run(soak::Options {
                    seconds,
                    rate,
                    interval,
                    json,
                })?;
                return Ok(ExitCode::SUCCESS);
            }
            let sizes = sizes
                .iter()
                .map(|s| {
                    s.split(',')
                        .map(|n| {
                            n.trim()
                                .parse::<u64>()
                                .with_context(|| format!("--size {s}"))
                        })
                        .collect()
                })
                .collect::<Result<Vec<Vec<u64>>>>()?;
            bench::run(bench::Options {
                workloads,
                sizes,
                iterations: iterations.max(1),
                csv,
                json,
                plot,
            })?;
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Serve {
            scenario,
            dir,
            seed,
            speed,
            step,
            replay,
            bind,
            port,
            advertise,
            no_autoscaler,
            scenario_clock,
            insecure_kube,
            kube_token,
        } => {
            if kube_token
                .as_deref()
                .is_some_and(|t| t.is_empty() || !t.bytes().all(|b| b.is_ascii_graphic()))
            {
                anyhow::bail!(
                    "--kube-token: expected a token of printable characters without spaces"
                );
            }
            let listen = magsim_mocks::Listen {
                bind,
                port,
                advertise: advertise
                    .as_deref()
                    .map(|a| a.parse().with_context(|| format!("--advertise {a}")))
                    .transpose()?,
            };
            listen.check().map_err(|e| {
                // Name the flag to change: only a base port past the range is --port's fault.
                let flag = match e {
                    ListenError::PortRange(_) => format!("--port {port}"),
                    _ => format!("--advertise {}", advertise.as_deref().unwrap_or_default()),
                };
                anyhow::Error::new(e).context(flag)
            })?;
            if !(speed.is_finite() && speed >= 0.0) {
                anyhow::bail!(
                    "--speed {speed}: expected a number of virtual seconds per second, 0 or more"
                );
            }
            let step = step
                .map(|s| SimDuration::parse(&s).with_context(|| format!("--step {s}")))
                .transpose()?;
            serve::run(serve::Options {
                scenario,
                dir,
                seed,
                speed,
                step,
                replay,
                listen,
                no_autoscaler,
                scenario_clock,
                insecure_kube,
                kube_token,
            })?;
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Record {
            upstream,
            out,
            kube_upstream,
            port,
            cacert,
            kube_ca,
            kube_identity,
            kube_token_file,
        } => {
            record::run(record::Options {
                upstream,
                out,
                kube_upstream,
                port,
                cacert,
                kube_ca,
                kube_identity,
                kube_token_file,
            })?;
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Compare {
            scenario,
            autoscaler,
            speed,
            seed,
            dir,
            extra,
        } => {
            let scenarios = magsim::collect(&[scenario])?;
            let s = scenarios.first().context("no scenario")?;
            eprintln!(
                "magsim compare: running {} against {} ({} virtual, about {} s at {speed}x)",
                autoscaler.display(),
                s.file,
                s.end.since(SimTime::ZERO),
                (s.end.since(SimTime::ZERO).as_millis() as f64 / 1000.0 / speed).ceil()
            );
            let options = magsim_runner::CompareOptions {
                binary: autoscaler,
                extra_args: extra,
                speed,
                seed,
                dir,
            };
            let c = magsim_runner::compare(s, &options)?;
            print!("{}", c.render());
            Ok(if c.agrees() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Cmd::Explain { scenario, at, seed } => {
            let at = SimDuration::parse(&at).with_context(|| format!("--at {at}"))?;
            let scenarios = magsim::collect(&[scenario])?;
            let s = scenarios.first().context("no scenario")?;
            print!("{}", magsim_runner::explain(s, seed, SimTime::ZERO + at));
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// How `magsim run` runs and reports.
struct RunOptions {
    junit: Option<PathBuf>,
    json: Option<PathBuf>,
    quiet: bool,
    timings: bool,
    via: Via,
}

/// Where a run's steps and autoscalers meet the cloud.
#[derive(Clone, Copy)]
enum Via {
    /// The engine itself.
    Memory,
    /// The mock servers, steps sent as the clients' requests.
    Wire,
    /// The mock servers, steps run by the real clients.
    RealClients,
}

fn run(paths: &[PathBuf], seed: Option<u64>, o: RunOptions) -> Result<ExitCode> {
    let RunOptions {
        junit,
        json,
        quiet,
        timings,
        via,
    } = o;
    let scenarios = magsim::collect(paths)?;
    tracing::info!(count = scenarios.len(), "running scenarios");
    let mut reports = Vec::new();
    let mut stdout = std::io::stdout().lock();
    let progress = std::io::stderr().is_terminal() && scenarios.len() > 1;
    for (i, s) in scenarios.iter().enumerate() {
        if progress {
            eprint!("\r\x1b[2K[{}/{}] {}", i + 1, scenarios.len(), s.file);
        }
        let started = timings.then(std::time::Instant::now);
        let r = match via {
            Via::Memory => magsim_runner::run(s, seed),
            Via::Wire => magsim_runner::run_wire(s, seed)
                .with_context(|| format!("{}: over the wire", s.file))?,
            Via::RealClients => magsim_runner::run_real_clients(s, seed)
                .with_context(|| format!("{}: with the real clients", s.file))?,
        };
        if let Some(t) = started {
            eprintln!("{}: {:.3} ms", s.file, t.elapsed().as_secs_f64() * 1000.0);
        }
        if !quiet || !r.passed() {
            writeln!(stdout, "{}", r.timeline_text())?;
        }
        reports.push(r);
    }
    if progress {
        eprint!("\r\x1b[2K");
    }
    let failed = reports.iter().filter(|r| !r.passed()).count();
    for r in reports.iter().filter(|r| !r.passed()) {
        writeln!(stdout, "FAILED {} ({})", r.name, r.file)?;
    }
    writeln!(stdout, "{} passed, {failed} failed", reports.len() - failed)?;
    if let Some(p) = junit {
        std::fs::write(&p, magsim_runner::junit_xml(&reports))
            .with_context(|| format!("writing {}", p.display()))?;
    }
    if let Some(p) = json {
        let text = serde_json::to_string_pretty(&magsim_runner::json_report(&reports))?;
        std::fs::write(&p, text + "\n").with_context(|| format!("writing {}", p.display()))?;
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
