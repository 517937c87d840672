//! `magsim serve` driven by the real clients: kubectl and the pinned python-openstackclient
//! from `.venv` (scripts/venv.sh). In CI a missing client fails the test; locally it skips
//! with the reason printed.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::Duration;

#[path = "support/kubectl.rs"]
mod kubectl;
#[path = "support/ports.rs"]
mod ports;

const PENDING_POD: &str = "high-memory-deployment-844964899f-4md88";

/// A running `magsim serve`, killed on drop.
struct Serve {
    child: Child,
    stdin: ChildStdin,
    lines: Receiver<String>,
    dir: PathBuf,
    /// serve's stderr: its request log and warnings.
    log: PathBuf,
}

impl Serve {
    fn start(name: &str, args: &[&str]) -> Serve {
        let dir = std::env::temp_dir().join(format!("magsim-serve-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let log = dir.with_extension("log");
        let mut child = Command::new(env!("CARGO_BIN_EXE_magsim"))
            .arg("serve")
            .arg("--dir")
            .arg(&dir)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).expect("serve's log file"))
            .spawn()
            .expect("magsim serve starts");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut s = Serve {
            child,
            stdin,
            lines,
            dir,
            log,
        };
        s.wait_for("export ");
        s
    }

    /// Waits (at most a minute) for a stdout line containing `text`; returns it.
    fn wait_for(&mut self, text: &str) -> String {
        loop {
            match self.lines.recv_timeout(Duration::from_secs(60)) {
                Ok(l) if l.contains(text) => return l,
                Ok(_) => continue,
                Err(e) => panic!("magsim serve never printed {text:?}: {e}"),
            }
        }
    }

    /// Presses Enter in step mode and waits until virtual time reads `now`.
    fn step_to(&mut self, now: &str) {
        loop {
            writeln!(self.stdin).expect("step");
            if self.wait_for("virtual time ").ends_with(&format!(" {now}")) {
                return;
            }
        }
    }

    fn file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
        let _ = std::fs::remove_file(&self.log);
    }
}

/// The client's path, or `None` (locally) after saying why; in CI a missing client fails.
fn client(path: &str, what: &str) -> Option<PathBuf> {
    let found = Command::new(path)
        .arg("--help")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if found {
        return Some(PathBuf::from(path));
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{what} ({path}) is missing in CI: scripts/test.sh installs it"
    );
    eprintln!("skipping: {what} not found at {path} (run scripts/venv.sh)");
    None
}

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(program: &Path, args: &[&str], env: &[(&str, &std::ffi::OsStr)]) -> Out {
    let mut c = Command::new(program);
    c.args(args).env_remove("OS_CLOUD").env_remove("KUBECONFIG");
    for (k, v) in env {
        c.env(k, v);
    }
    let o = c.output().expect("client runs");
    Out {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

fn openstack(s: &Serve, os: &Path, args: &[&str]) -> Out {
    let clouds = s.file("clouds.yaml");
    run(
        os,
        args,
        &[
            ("OS_CLIENT_CONFIG_FILE", clouds.as_os_str()),
            ("OS_CLOUD", "jetstream2".as_ref()),
        ],
    )
}

fn kubectl(s: &Serve, kc: &Path, args: &[&str]) -> Out {
    run(
        kc,
        args,
        &[("KUBECONFIG", s.file("kubeconfig").as_os_str())],
    )
}

/// The status ConfigMap's text, as `kubectl ... -o jsonpath='{.data.status}'` prints it.
fn autoscaler_status(s: &Serve, kc: &Path) -> String {
    let args = [
        "-n",
        "kube-system",
        "get",
        "configmap",
        "cluster-autoscaler-status",
        "-o",
        "jsonpath={.data.status}",
    ];
    kubectl(s, kc, &args).stdout
}

#[test]
fn serve_answers_the_incident_commands_with_real_clients() {
    let (Some(kc), Some(os)) = (
        client("kubectl", "kubectl"),
        client(".venv/bin/openstack", "python-openstackclient"),
    ) else {
        return;
    };
    let mut s = Serve::start("live", &["--step", "10s"]);

    let nodes = kubectl(&s, &kc, &["get", "nodes"]);
    assert_eq!(nodes.code, 0, "{}", nodes.stderr);
    assert_eq!(
        nodes.stdout.matches(" Ready ").count(),
        5,
        "{}",
        nodes.stdout
    );

    s.step_to("20s");
    let pods = kubectl(&s, &kc, &["get", "pods", "-A", "-o", "wide"]);
    assert!(
        pods.stdout
            .lines()
            .any(|l| l.contains(PENDING_POD) && l.contains("Pending")),
        "{}",
        pods.stdout
    );
    let describe = kubectl(&s, &kc, &["describe", "pod", PENDING_POD]);
    assert!(
        describe.stdout.contains("NotTriggerScaleUp")
            && describe
                .stdout
                .contains("pod didn't trigger scale-up: 1 max node group size reached"),
        "{}",
        describe.stdout
    );
    let status = autoscaler_status(&s, &kc);
    assert!(status.contains("maxSize: 5"), "{status}");

    let labels = openstack(
        &s,
        &os,
        &[
            "coe",
            "cluster",
            "update",
            "k8s",
            "replace",
            "labels/max_node_count=6",
        ],
    );
    assert_eq!(labels.code, 1);
    assert!(
        labels
            .stderr
            .starts_with("cannot change cluster property(ies) labels (HTTP 400) (Request-ID: req-"),
        "{}",
        labels.stderr
    );
    let update = openstack(
        &s,
        &os,
        &[
            "coe",
            "nodegroup",
            "update",
            "k8s",
            "default-worker",
            "replace",
            "max_node_count=6",
        ],
    );
    assert_eq!(update.code, 0, "{}", update.stderr);
    let show = openstack(
        &s,
        &os,
        &[
            "coe",
            "nodegroup",
            "show",
            "k8s",
            "default-worker",
            "-c",
            "max_node_count",
            "-f",
            "value",
        ],
    );
    assert_eq!(show.stdout.trim(), "6", "{}", show.stderr);

    // The label still says 5: the managed autoscaler keeps maxSize 5 and the pod stays Pending.
    s.step_to("1m30s");
    let status = autoscaler_status(&s, &kc);
    assert!(status.contains("maxSize: 5"), "{status}");
    let pod = kubectl(
        &s,
        &kc,
        &["get", "pod", PENDING_POD, "-o", "jsonpath={.status.phase}"],
    );
    assert_eq!(pod.stdout, "Pending");
}

#[test]
fn serve_replays_the_incident_recording() {
    let Some(os) = client(".venv/bin/openstack", "python-openstackclient") else {
        return;
    };
    let s = Serve::start(
        "replay",
        &["--replay", "mocks/recordings/incident-2025-11-10.json"],
    );
    let labels = openstack(
        &s,
        &os,
        &[
            "coe",
            "cluster",
            "update",
            "k8s",
            "replace",
            "labels/max_node_count=6",
        ],
    );
    assert_eq!(labels.code, 1);
    assert_eq!(
        labels.stderr.trim_end(),
        "cannot change cluster property(ies) labels (HTTP 400) (Request-ID: req-0a1e8dc8-1d3b-459f-8539-5241f0f854f9)"
    );
}

#[test]
fn serve_refuses_a_bad_speed() {
    let o = Command::new(env!("CARGO_BIN_EXE_magsim"))
        .args(["serve", "--speed=-1"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--speed"));
}

#[test]
fn serve_binds_a_fixed_layout_and_advertises_the_given_host() {
    let Some(kc) = client("kubectl", "kubectl") else {
        return;
    };
    let ports = ports::claim(20_000, 2_000);
    let base = ports.base;
    let port = base.to_string();
    let mut s = Serve::start(
        "layout",
        &[
            "--bind",
            "0.0.0.0",
            "--port",
            &port,
            "--advertise",
            "localhost",
        ],
    );
    // The API server speaks TLS with serve's own CA, for the advertised host.
    let kubeconfig = std::fs::read_to_string(s.file("kubeconfig")).unwrap();
    assert!(
        kubeconfig.contains(&format!(
            "server: https://localhost:{}\n    certificate-authority-data: ",
            base + 4
        )),
        "{kubeconfig}"
    );
    let clouds = std::fs::read_to_string(s.file("clouds.yaml")).unwrap();
    assert!(
        clouds.contains(&format!("auth_url: \"http://localhost:{base}/v3/\"")),
        "{clouds}"
    );
    let nodes = kubectl(&s, &kc, &["get", "nodes"]);
    assert_eq!(nodes.code, 0, "{}", nodes.stderr);
    assert_eq!(
        nodes.stdout.matches(" Ready ").count(),
        5,
        "{}",
        nodes.stdout
    );
    // ...and admits only the kubeconfig's bearer token.
    let token = kubeconfig
        .lines()
        .find(|l| l.trim_start().starts_with("token: "))
        .expect("a token user");
    assert!(
        token.len() > "    token: ".len() + 30,
        "a random token: {token}"
    );
    let guessed = s.file("kubeconfig-guessed");
    std::fs::write(&guessed, kubeconfig.replace(token, "    token: guessed")).unwrap();
    let refused = run(
        &kc,
        &["get", "nodes"],
        &[("KUBECONFIG", guessed.as_os_str())],
    );
    assert_eq!(refused.code, 1, "{}", refused.stdout);
    kubectl::assert_unauthorized(&refused.stderr);
    // The catalog is followed by a real client: Magnum at the advertised base+1.
    if let Some(os) = client(".venv/bin/openstack", "python-openstackclient") {
        let show = openstack(
            &s,
            &os,
            &[
                "coe",
                "cluster",
                "show",
                "k8s",
                "-c",
                "node_count",
                "-f",
                "value",
            ],
        );
        assert_eq!(show.stdout.trim(), "5", "{}", show.stderr);
    }
    // SIGTERM (what `docker stop` sends PID 1) stops it cleanly.
    let pid = s.child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    s.wait_for("stopped at virtual ");
    let status = s.child.wait().unwrap();
    assert!(status.success(), "{status}");
}

#[test]
fn serve_refuses_impossible_listen_options() {
    for (args, text) in [
        (&["--port", "65533"][..], "--port 65533: port 65533"),
        (
            &["--advertise", "localhost:9000"][..],
            "--advertise localhost:9000: advertised port 9000 needs a fixed port layout",
        ),
        (
            &["--advertise", "a b"][..],
            "--advertise a b: advertise \"a b\": expected HOST or HOST:PORT",
        ),
        (&["--bind", "localhost"][..], "--bind"),
        (
            &["--kube-token", "a b"][..],
            "--kube-token: expected a token",
        ),
        (
            &["--insecure-kube", "--kube-token", "t"][..],
            "cannot be used with",
        ),
        (
            &[
                "--replay",
                "mocks/recordings/incident-2025-11-10.json",
                "--advertise",
                "localhost:9000",
            ][..],
            "--advertise localhost:9000: advertised port 9000 needs a fixed port layout",
        ),
    ] {
        let o = Command::new(env!("CARGO_BIN_EXE_magsim"))
            .arg("serve")
            .args(args)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(text), "{args:?}: {stderr}");
    }
}

/// POSTs JSON over plain HTTP/1.1 and returns the status and the body as JSON (no HTTP client
/// among this crate's dependencies; the replay answers with a Content-Length).
fn post_json(addr: &str, path: &str, body: &str) -> (u16, serde_json::Value) {
    use std::io::Read;
    let mut tcp = std::net::TcpStream::connect(addr).expect("connects");
    write!(
        tcp,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut text = String::new();
    tcp.read_to_string(&mut text).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").expect("an HTTP response");
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok());
    (
        status.expect("a status"),
        serde_json::from_str(body).expect("JSON"),
    )
}

/// Linux only: it binds 127.0.0.2 (all of 127/8 is loopback there) so a server left on the
/// default 127.0.0.1 could not be reached.
#[cfg(target_os = "linux")]
#[test]
fn serve_replay_binds_a_fixed_layout_and_advertises_the_given_host() {
    let ports = ports::claim(20_000, 2_000);
    let base = ports.base;
    let port = base.to_string();
    let s = Serve::start(
        "replay-layout",
        &[
            "--replay",
            "mocks/recordings/incident-2025-11-10.json",
            "--bind",
            "127.0.0.2",
            "--port",
            &port,
            "--advertise",
            "localhost",
        ],
    );
    let clouds = std::fs::read_to_string(s.file("clouds.yaml")).unwrap();
    assert!(
        clouds.contains(&format!("auth_url: \"http://localhost:{base}/v3/\"")),
        "{clouds}"
    );
    let openrc = std::fs::read_to_string(s.file("openrc.sh")).unwrap();
    assert!(
        openrc.contains(&format!("export OS_AUTH_URL=http://localhost:{base}/v3/\n")),
        "{openrc}"
    );
    let kubeconfig = std::fs::read_to_string(s.file("kubeconfig")).unwrap();
    assert!(
        kubeconfig.contains(&format!("server: http://localhost:{}\n", base + 4)),
        "{kubeconfig}"
    );
    // Keystone answers on the bound address; the recorded catalog names the advertised host
    // with the layout's ports (mapped 1:1).
    let (status, token) = post_json(
        &format!("127.0.0.2:{base}"),
        "/v3/auth/tokens",
        r#"{"auth": {"identity": {"methods": ["application_credential"], "application_credential": {"id": "x", "secret": "y"}}}}"#,
    );
    assert_eq!(status, 201, "{token}");
    let magnum = token["token"]["catalog"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["type"] == "container-infra")
        .expect("magnum in the catalog");
    assert_eq!(
        magnum["endpoints"][0]["url"],
        format!("http://localhost:{}/v1", base + 1),
        "{magnum}"
    );
    std::net::TcpStream::connect(("127.0.0.2", base + 4)).expect("Kubernetes at PORT+4");
}

const MD_NS: &str = "magnum-83bd0e70b4ba4cd092c2fb82b1ce06fb";
const MD: &str = "k8s-wamiv264xiet-default-worker";

/// `--no-autoscaler`: nothing but a client writes the status; kubectl annotates the bound the
/// clusterapi provider reads; every request is logged; ages are today's, not the scenario's.
#[test]
fn serve_without_its_autoscaler_logs_requests_and_takes_kubectl_annotate() {
    let Some(kc) = client("kubectl", "kubectl") else {
        return;
    };
    let mut s = Serve::start(
        "no-autoscaler",
        &[
            "--no-autoscaler",
            "--step",
            "10s",
            "--kube-token",
            "chosen-token",
        ],
    );
    assert!(s.file("cloud-config").is_file());
    let kubeconfig = std::fs::read_to_string(s.file("kubeconfig")).unwrap();
    assert!(
        kubeconfig.contains("    token: chosen-token\n"),
        "{kubeconfig}"
    );
    s.step_to("30s");
    let status = kubectl(
        &s,
        &kc,
        &[
            "-n",
            "kube-system",
            "get",
            "configmap",
            "cluster-autoscaler-status",
        ],
    );
    assert_ne!(
        status.code, 0,
        "no simulated autoscaler wrote it: {}",
        status.stdout
    );
    assert!(status.stderr.contains("NotFound"), "{}", status.stderr);
    let annotate = kubectl(
        &s,
        &kc,
        &[
            "-n",
            MD_NS,
            "annotate",
            "machinedeployment",
            MD,
            "cluster.x-k8s.io/cluster-api-autoscaler-node-group-max-size=6",
            "--overwrite",
        ],
    );
    assert_eq!(annotate.code, 0, "{}", annotate.stderr);
    assert!(annotate.stdout.contains("annotated"), "{}", annotate.stdout);
    let max = kubectl(
        &s,
        &kc,
        &[
            "-n",
            MD_NS,
            "get",
            "machinedeployment",
            MD,
            "-o",
            "jsonpath={.metadata.annotations.cluster\\.x-k8s\\.io/cluster-api-autoscaler-node-group-max-size}",
        ],
    );
    assert_eq!(max.stdout, "6", "{}", max.stderr);
    let nodes = kubectl(&s, &kc, &["get", "nodes", "--no-headers"]);
    for line in nodes.stdout.lines() {
        let age = line.split_whitespace().nth(3).unwrap_or_default();
        assert!(
            age.ends_with('s') || age.ends_with('m'),
            "an age from today: {line}"
        );
    }
    let log = std::fs::read_to_string(&s.log).unwrap();
    let patch = format!(
        "kubernetes PATCH /apis/cluster.x-k8s.io/v1beta1/namespaces/{MD_NS}/machinedeployments/{MD} 200"
    );
    assert!(log.contains(&patch), "{log}");
    assert!(
        log.contains("kubernetes GET /api/v1/namespaces/kube-system/configmaps/cluster-autoscaler-status 404"),
        "{log}"
    );
}

/// Sends `bytes` and reads until serve closes the connection (after half-closing, when the
/// request is incomplete); the status, or `None` when closed unanswered.
fn raw_status(addr: &str, bytes: &[u8]) -> Option<u16> {
    use std::io::Read;
    let mut tcp = std::net::TcpStream::connect(addr).expect("connects");
    tcp.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    tcp.write_all(bytes).unwrap();
    if !bytes.ends_with(b"\r\n\r\n") {
        tcp.shutdown(std::net::Shutdown::Write).unwrap();
    }
    let mut out = Vec::new();
    let _ = tcp.read_to_end(&mut out);
    String::from_utf8_lossy(&out)
        .get(9..12)
        .and_then(|s| s.parse().ok())
}

/// Issue 12: malformed bodies, aborted uploads and `CONNECT` get `400` from serve's Keystone,
/// which then still hands out tokens; the request log has the real statuses and serve's
/// stderr no panic.
#[test]
fn serve_answers_malformed_requests_400_without_a_panic() {
    let s = Serve::start("malformed", &["--step", "10s"]);
    let clouds = std::fs::read_to_string(s.file("clouds.yaml")).unwrap();
    let addr = clouds
        .split("auth_url: \"http://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .expect("auth_url in clouds.yaml")
        .to_string();
    let post = |framing: &str, body: &str| {
        format!("POST /v3/auth/tokens HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n{framing}\r\n{body}")
    };
    for (what, bytes) in [
        (
            "truncated chunked body",
            post("Transfer-Encoding: chunked\r\n", "10\r\n{\"auth\": "),
        ),
        (
            "invalid chunk size",
            post("Transfer-Encoding: chunked\r\n", "zz\r\n{}\r\n0\r\n\r\n"),
        ),
        (
            "aborted upload",
            post("Content-Length: 100\r\n", "{\"auth\": "),
        ),
        (
            "CONNECT",
            "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\nConnection: close\r\n\r\n"
                .to_string(),
        ),
    ] {
        assert_eq!(raw_status(&addr, bytes.as_bytes()), Some(400), "{what}");
        let creds = std::fs::read_to_string(s.file("openrc.sh")).unwrap();
        let field = |name: &str| {
            creds
                .lines()
                .find_map(|l| l.strip_prefix(&format!("export {name}=")))
                .expect(name)
                .to_string()
        };
        let auth = format!(
            r#"{{"auth": {{"identity": {{"methods": ["application_credential"], "application_credential": {{"id": "{}", "secret": "{}"}}}}}}}}"#,
            field("OS_APPLICATION_CREDENTIAL_ID"),
            field("OS_APPLICATION_CREDENTIAL_SECRET")
        );
        assert_eq!(post_json(&addr, "/v3/auth/tokens", &auth).0, 201, "after {what}");
    }
    let log = std::fs::read_to_string(&s.log).unwrap();
    assert!(log.contains("identity CONNECT / 400"), "{log}");
    assert!(log.contains("identity POST /v3/auth/tokens 400"), "{log}");
    assert!(log.contains("identity POST /v3/auth/tokens 201"), "{log}");
    assert!(!log.contains("panicked"), "{log}");
}
