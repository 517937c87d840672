//! `magsim record` as a process: it proxies a cloud (here the live mock), writes the recording
//! after every exchange, and on Ctrl-C writes it once more and says where.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::mpsc::channel;
use std::time::{Duration, Instant};

/// One HTTP/1.1 request with `Connection: close`; the whole response as text.
fn http(url: &str, method: &str, path: &str, body: &str) -> String {
    let host = url.trim_start_matches("http://").trim_end_matches('/');
    let host = host.split('/').next().unwrap();
    let mut s = TcpStream::connect(host).expect("recorder listens");
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).expect("response");
    out
}

/// Polls `f` every 50 ms for at most 30 s.
fn eventually<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "timed out: {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn record_writes_as_it_goes_and_stops_on_ctrl_c() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (file, text) = magsim_scenario::builtin()[0];
    let scenario = magsim_scenario::parse(file, text).unwrap();
    let cloud = rt
        .block_on(magsim_mocks::MockCloud::start(&scenario, None))
        .unwrap();
    let out = std::env::temp_dir().join(format!("magsim-record-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let mut child = Command::new(env!("CARGO_BIN_EXE_magsim"))
        .args(["record", "--upstream", &cloud.openstack.auth_url(), "--out"])
        .arg(&out)
        .stdout(Stdio::piped())
        .spawn()
        .expect("magsim record starts");
    let (tx, lines) = channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for l in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(l).is_err() {
                break;
            }
        }
    });
    let wait_for = |text: &str| loop {
        match lines.recv_timeout(Duration::from_secs(60)) {
            Ok(l) if l.contains(text) => return l,
            Ok(_) => continue,
            Err(e) => panic!("magsim record never printed {text:?}: {e}"),
        }
    };
    let auth = wait_for("export OS_AUTH_URL=");
    let auth = auth.split('=').nth(1).unwrap().to_string();
    assert!(
        auth.starts_with("http://127.0.0.1:") && auth.ends_with("/v3/"),
        "{auth}"
    );

    let c = &cloud.openstack.credentials;
    let body = serde_json::json!({"auth": {"identity": {"methods": ["application_credential"],
        "application_credential": {"id": c.application_credential_id, "secret": c.application_credential_secret}}}})
    .to_string();
    let resp = http(&auth, "POST", "/v3/auth/tokens", &body);
    assert!(resp.starts_with("HTTP/1.1 201"), "{resp}");
    assert!(
        !resp.contains(&cloud.openstack.urls.magnum),
        "the catalog points at the recorder: {resp}"
    );

    let path = out.join("recording.json");
    eventually("the exchange is on disk before Ctrl-C", || {
        let r = magsim_mocks::recording::Recording::load(&path).ok()?;
        (r.exchanges.len() == 1).then_some(())
    });
    assert_eq!(
        wait_for("identity POST"),
        "     1  identity POST /v3/auth/tokens -> 201",
        "each exchange is reported as it is written"
    );
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(kill.success());
    let status = eventually("magsim record exits", || child.try_wait().ok().flatten());
    assert!(status.success(), "{status}");
    assert!(wait_for("wrote ").starts_with("wrote 1 exchanges to "));
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(!text.contains(&c.application_credential_secret));
    assert!(text.contains("\"x-subject-token\": \"REDACTED\""), "{text}");
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn record_refuses_a_bad_upstream() {
    let o = Command::new(env!("CARGO_BIN_EXE_magsim"))
        .args(["record", "--upstream", "js2.example:5000", "--out"])
        .arg(std::env::temp_dir().join("magsim-record-never"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("--upstream js2.example:5000"), "{err}");
}
