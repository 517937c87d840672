//! `magsim record`: a proxy in front of a real cloud that writes what it answered, redacted,
//! as a replay recording (`magsim_mocks::record`).

use anyhow::{Context, Result};
use magsim_mocks::record::{self, Recorder};
use std::path::PathBuf;

pub struct Options {
    pub upstream: String,
    pub out: PathBuf,
    pub kube_upstream: Option<String>,
    pub port: u16,
    pub cacert: Option<PathBuf>,
    pub kube_ca: Option<PathBuf>,
    pub kube_identity: Option<PathBuf>,
    pub kube_token_file: Option<PathBuf>,
}

fn read(flag: &str, path: &Option<PathBuf>) -> Result<Option<Vec<u8>>> {
    path.as_ref()
        .map(|p| std::fs::read(p).with_context(|| format!("{flag} {}", p.display())))
        .transpose()
}

pub fn run(o: Options) -> Result<()> {
    let mut opts = record::Options::new(&o.upstream, &o.out);
    opts.kube_upstream = o.kube_upstream.clone();
    opts.port = o.port;
    opts.ca_pem = read("--cacert", &o.cacert)?;
    opts.kube_ca_pem = read("--kube-ca", &o.kube_ca)?;
    opts.kube_identity_pem = read("--kube-identity", &o.kube_identity)?;
    opts.kube_token = read("--kube-token-file", &o.kube_token_file)?
        .map(|b| String::from_utf8_lossy(&b).trim().to_string());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(async {
        let recorder = Recorder::start(opts)
            .await
            .context("starting the recorder")?;
        // Follow the file from before the first line a client could act on: an exchange
        // written before a later subscription would be taken as already seen.
        let mut progress = recorder.progress();
        println!(
            "magsim record: {} -> {}",
            o.upstream,
            recorder.file().display()
        );
        for (upstream, local) in recorder.listeners() {
            println!("  {local:<26} -> {upstream}");
        }
        println!("  (one more listener opens for each endpoint host in the first catalog)");
        println!();
        println!("Keep your credentials and point the client at the recorder's Keystone:");
        println!("  export OS_AUTH_URL={}", recorder.auth_url());
        println!(
            "  or in clouds.yaml: auth: {{auth_url: \"{}\"}}",
            recorder.auth_url()
        );
        if let Some(url) = recorder.kube_url() {
            // kubectl talks plain http to the recorder; the recorder authenticates upstream.
            let p = o.out.join("kubeconfig");
            std::fs::write(&p, magsim_mocks::kube::kubeconfig(url))
                .with_context(|| format!("writing {}", p.display()))?;
            println!("  export KUBECONFIG={}", p.display());
        }
        println!();
        println!("recording (written after every exchange, credentials redacted); Ctrl-C stops");
        let ctrl_c = tokio::signal::ctrl_c();
        tokio::pin!(ctrl_c);
        loop {
            tokio::select! {
                stopped = &mut ctrl_c => {
                    stopped.context("waiting for Ctrl-C")?;
                    break;
                }
                changed = progress.changed() => {
                    if changed.is_err() {
                        break;
                    }
                    let (n, line) = progress.borrow_and_update().clone();
                    println!("  {n:>4}  {line}");
                }
            }
        }
        let skipped = recorder.skipped();
        let file = recorder.file().to_path_buf();
        let rec = recorder.stop().await?;
        println!(
            "wrote {} exchanges to {}",
            rec.exchanges.len(),
            file.display()
        );
        for (kind, n) in skipped {
            println!("  not recorded: {n} requests to {kind} (not a replay service)");
        }
        println!("replay it: magsim serve --replay {}", file.display());
        Ok(())
    })
}
