//! The real clients against the mocks: python-openstackclient 9.0.0 with python-magnumclient
//! 4.8.1 from `.venv` (made by `scripts/venv.sh`). Every `openstack` command of the incident's
//! Key Commands Reference, plus `coe cluster show k8s` and `coe cluster resize`, in live mode
//! and against the shipped recording, asserting on what the CLI prints; nodegroup create and
//! delete (`nodegroups`) and python-heatclient 4.3.0's `stack` commands (`heat`).
//!
//! Without `.venv/bin/openstack` the tests fail when `CI` is set and are skipped otherwise.

mod heat;
mod nodegroups;

use magsim_mocks::recording::Recording;
use magsim_mocks::replay::incident::{FILE, LABELS_REQUEST_ID};
use magsim_mocks::Live;
use magsim_mocks::{replay, Service};
use std::path::{Path, PathBuf};
use std::process::Command;

fn openstack_cli() -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/openstack");
    if path.exists() {
        return Some(path);
    }
    if std::env::var_os("CI").is_some() {
        panic!(
            "{} is missing: run `bash scripts/venv.sh` (CI must run the real client tests)",
            path.display()
        );
    }
    eprintln!(
        "skipping: {} is missing (run `bash scripts/venv.sh`)",
        path.display()
    );
    None
}

struct Output {
    code: i32,
    stdout: String,
    stderr: String,
}

/// A private directory holding `clouds.yaml` (and serving as `HOME`).
fn cloud_dir(name: &str, clouds_yaml: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("magsim-cli-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::fs::write(dir.join("clouds.yaml"), clouds_yaml).expect("clouds.yaml");
    dir
}

/// Runs `openstack <args>` with `OS_CLOUD=mock` and a clean environment, off the runtime's
/// threads so the servers keep serving.
async fn run(cli: &Path, dir: &Path, args: &[&str]) -> Output {
    let env = [
        (
            "OS_CLIENT_CONFIG_FILE",
            dir.join("clouds.yaml").display().to_string(),
        ),
        ("OS_CLOUD", "mock".to_string()),
    ];
    run_env(cli, dir, &env, args).await
}

/// Runs `openstack <args>` with only `env` (plus `HOME` and `PATH`) in its environment.
async fn run_env(cli: &Path, dir: &Path, env: &[(&str, String)], args: &[&str]) -> Output {
    let mut cmd = Command::new(cli);
    cmd.env_clear()
        .env("HOME", dir)
        .env("PATH", "/usr/bin:/bin")
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .args(args);
    output(cmd).await
}

/// Runs `cmd` off the runtime's threads, so the servers keep serving.
async fn output(mut cmd: Command) -> Output {
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .expect("join")
        .expect("the client runs");
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn request_id_of(line: &str) -> &str {
    line.rsplit("(Request-ID: ")
        .next()
        .unwrap_or_default()
        .trim_end()
        .trim_end_matches(')')
}

const LABELS_ROW: &str = "| labels               | {'auto_scaling_enabled': 'true', 'min_node_count': '1', 'max_node_count': '5'} |";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incident_commands_against_the_live_mock() {
    let Some(cli) = openstack_cli() else { return };
    let (file, text) = magsim_scenario::builtin()[0];
    let scenario = magsim_scenario::parse(file, text).expect("scenario");
    let mock = magsim_mocks::openstack::start(Live::new(&scenario, None)).await;
    let dir = cloud_dir("live", &mock.clouds_yaml("mock"));
    let magnum = mock.magnum_url();

    let out = run(&cli, &dir, &["coe", "cluster", "show", "k8s"]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains(LABELS_ROW), "{}", out.stdout);
    assert!(
        out.stdout.starts_with("+----------------------+"),
        "{}",
        out.stdout
    );
    assert!(out
        .stdout
        .contains("| uuid                 | c8fd0bc7-cf71-40fb-b901-c309d405d627 "));
    assert!(out
        .stdout
        .contains("| stack_id             | k8s-wamiv264xiet "));
    assert!(out.stdout.contains("| node_count           | 5 "));
    assert!(out.stdout.contains("| keypair              | None "));

    let out = run(
        &cli,
        &dir,
        &["coe", "nodegroup", "show", "k8s", "default-worker"],
    )
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains("| max_node_count     | 6 "),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("| min_node_count     | 1 "),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("| is_default         | True "),
        "{}",
        out.stdout
    );

    let out = run(
        &cli,
        &dir,
        &[
            "coe",
            "nodegroup",
            "update",
            "k8s",
            "default-worker",
            "replace",
            "max_node_count=6",
        ],
    )
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.stdout,
        "Request to update nodegroup default-worker has been accepted.\n"
    );

    let out = run(
        &cli,
        &dir,
        &[
            "coe",
            "cluster",
            "update",
            "k8s",
            "replace",
            "labels/max_node_count=6",
        ],
    )
    .await;
    assert_eq!(out.code, 1);
    assert_eq!(out.stdout, "");
    let line = out.stderr.trim_end();
    assert!(!line.contains('\n'), "one line: {}", out.stderr);
    assert!(
        line.starts_with("cannot change cluster property(ies) labels (HTTP 400) (Request-ID: req-"),
        "{line}"
    );
    let id = request_id_of(line);
    assert_eq!(id.len(), 40, "{id}");

    let out = run(
        &cli,
        &dir,
        &[
            "--debug",
            "coe",
            "cluster",
            "update",
            "k8s",
            "replace",
            "labels/max_node_count=6",
        ],
    )
    .await;
    assert_eq!(out.code, 1);
    assert!(
        out.stderr
            .contains(&format!("REQ: curl -g -i -X PATCH {magnum}/clusters/k8s"))
            || out
                .stderr
                .contains(&format!("-X PATCH {magnum}/clusters/k8s")),
        "{}",
        out.stderr
    );
    assert!(out
        .stderr
        .contains(r#"-d '[{"op": "replace", "path": "/labels/max_node_count", "value": 6}]'"#));
    assert!(out.stderr.contains(r#"RESP BODY: {"errors": [{"request_id": "", "code": "client", "status": 400, "title": "cannot change cluster property(ies) labels", "detail": "cannot change cluster property(ies) labels.", "links": []}]}"#), "{}", out.stderr);
    // hyper writes header names in lower case (Magnum's Python stack keeps their case).
    assert!(
        out.stderr
            .contains("openstack-api-version: container-infra 1.11 vary: OpenStack-API-Version"),
        "{}",
        out.stderr
    );
    assert!(out
        .stderr
        .contains("cannot change cluster property(ies) labels (HTTP 400) (Request-ID: req-"));
    assert!(out.stderr.contains("END return value: 1"));

    mock.journal.clear();
    let out = run(
        &cli,
        &dir,
        &[
            "coe",
            "cluster",
            "resize",
            "--nodegroup",
            "default-worker",
            "k8s",
            "6",
        ],
    )
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.stdout,
        "Request to resize cluster k8s has been accepted.\n"
    );
    assert_eq!(
        mock.journal.calls(Service::Identity),
        ["POST /v3/auth/tokens"]
    );
    assert_eq!(
        mock.journal.calls(Service::ContainerInfra),
        [
            "GET /v1/clusters/k8s".to_string(),
            "POST /v1/clusters/c8fd0bc7-cf71-40fb-b901-c309d405d627/actions/resize".to_string()
        ]
    );
    let count = mock
        .live()
        .engine()
        .world
        .cluster
        .as_ref()
        .and_then(|c| c.nodegroup("default-worker").ok().map(|n| n.node_count));
    assert_eq!(count, Some(6));

    let out = run(&cli, &dir, &["coe", "cluster", "show", "nope"]).await;
    assert_eq!(out.code, 1);
    assert!(
        out.stderr
            .starts_with("Cluster nope could not be found (HTTP 404) (Request-ID: req-"),
        "{}",
        out.stderr
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incident_commands_against_the_recording() {
    let Some(cli) = openstack_cli() else { return };
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(FILE);
    let rp = replay::serve(Recording::load(&path).expect("recording")).await;
    let identity = rp.url(Service::Identity).expect("identity");
    let clouds = format!(
        "clouds:\n  mock:\n    auth_type: v3applicationcredential\n    auth:\n      auth_url: \"{identity}/v3/\"\n      application_credential_id: \"423f19a4ac1e4f48bbb4180756e6eb6c\"\n      application_credential_secret: \"redacted\"\n    region_name: IU\n    interface: public\n    identity_api_version: 3\n"
    );
    let dir = cloud_dir("replay", &clouds);

    let out = run(&cli, &dir, &["coe", "cluster", "show", "k8s"]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains(LABELS_ROW), "{}", out.stdout);

    let out = run(
        &cli,
        &dir,
        &["coe", "nodegroup", "show", "k8s", "default-worker"],
    )
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains("| max_node_count     | 6 "),
        "{}",
        out.stdout
    );

    let out = run(
        &cli,
        &dir,
        &[
            "coe",
            "cluster",
            "update",
            "k8s",
            "replace",
            "labels/max_node_count=6",
        ],
    )
    .await;
    assert_eq!(out.code, 1);
    assert_eq!(out.stdout, "");
    assert_eq!(
        out.stderr,
        format!("cannot change cluster property(ies) labels (HTTP 400) (Request-ID: {LABELS_REQUEST_ID})\n")
    );

    let out = run(
        &cli,
        &dir,
        &[
            "coe",
            "nodegroup",
            "update",
            "k8s",
            "default-worker",
            "replace",
            "max_node_count=6",
        ],
    )
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.stdout,
        "Request to update nodegroup default-worker has been accepted.\n"
    );

    // The incident's --debug run: the recorded request id, as Jetstream2 gave it.
    let magnum = rp.url(Service::ContainerInfra).expect("magnum");
    let out = run(
        &cli,
        &dir,
        &[
            "--debug",
            "coe",
            "cluster",
            "update",
            "k8s",
            "replace",
            "labels/max_node_count=6",
        ],
    )
    .await;
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains(&format!(
            "PATCH call to container-infra for {magnum}/v1/clusters/k8s used request id {LABELS_REQUEST_ID}"
        )),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains(&format!(
        "cannot change cluster property(ies) labels (HTTP 400) (Request-ID: {LABELS_REQUEST_ID})"
    )));

    // A command the incident never ran gets the replay's explanation.
    let out = run(&cli, &dir, &["coe", "cluster", "show", "k9s"]).await;
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("no recorded container-infra exchange matches GET /v1/clusters/k9s; nearest is exchange 1 (GET /v1/clusters/k8s): path differs"),
        "{}",
        out.stderr
    );

    let magnum_calls = rp.journal.calls(Service::ContainerInfra);
    assert_eq!(
        magnum_calls,
        [
            "GET /v1/clusters/k8s",
            "GET /v1/clusters/k8s/nodegroups/default-worker",
            "PATCH /v1/clusters/k8s",
            "PATCH /v1/clusters/k8s/nodegroups/default-worker",
            "PATCH /v1/clusters/k8s",
            "GET /v1/clusters/k9s",
        ]
    );
    // One token per command: the token's expires_at keeps keystoneauth from asking again.
    assert_eq!(rp.journal.count("POST", "/v3/auth/tokens"), 6);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_auth_with_discovery_and_lists() {
    let Some(cli) = openstack_cli() else { return };
    let (file, text) = magsim_scenario::builtin()[0];
    let scenario = magsim_scenario::parse(file, text).expect("scenario");
    let mock = magsim_mocks::openstack::start(Live::new(&scenario, None)).await;
    let dir = cloud_dir("password", "clouds: {}\n");
    let c = &mock.credentials;
    // OS_* variables, generic password plugin: keystoneauth discovers the version first.
    let env = [
        ("OS_AUTH_URL", format!("{}/v3", mock.urls.keystone)),
        ("OS_USERNAME", c.user_name.clone()),
        ("OS_PASSWORD", c.password.clone()),
        ("OS_PROJECT_NAME", c.project_name.clone()),
        ("OS_USER_DOMAIN_NAME", c.user_domain_name.clone()),
        ("OS_PROJECT_DOMAIN_ID", c.project_domain_id.clone()),
        ("OS_REGION_NAME", "IU".to_string()),
        ("OS_INTERFACE", "public".to_string()),
        ("OS_IDENTITY_API_VERSION", "3".to_string()),
        (
            "OS_CLIENT_CONFIG_FILE",
            dir.join("clouds.yaml").display().to_string(),
        ),
    ];
    let out = run_env(
        &cli,
        &dir,
        &env,
        &[
            "coe",
            "cluster",
            "list",
            "-f",
            "value",
            "-c",
            "name",
            "-c",
            "node_count",
            "-c",
            "status",
        ],
    )
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout, "k8s 5 CREATE_COMPLETE\n");
    assert_eq!(
        mock.journal.calls(Service::Identity),
        ["GET /v3", "POST /v3/auth/tokens"]
    );

    let out = run_env(
        &cli,
        &dir,
        &env,
        &[
            "coe",
            "nodegroup",
            "list",
            "k8s",
            "-f",
            "value",
            "-c",
            "name",
            "-c",
            "node_count",
            "-c",
            "role",
        ],
    )
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout, "default-worker 5 worker\n");
    assert_eq!(
        mock.journal
            .calls(Service::ContainerInfra)
            .last()
            .map(String::as_str),
        Some("GET /v1/clusters/k8s/nodegroups/")
    );

    // A wrong password: Keystone's 401, as the client reports it.
    let mut bad = env.clone();
    bad[2].1 = "wrong".into();
    let out = run_env(&cli, &dir, &bad, &["coe", "cluster", "list"]).await;
    assert_eq!(out.code, 1);
    assert!(
        out.stderr
            .contains("The request you have made requires authentication. (HTTP 401)"),
        "{}",
        out.stderr
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_tokens_are_refused_after_one_reauthentication() {
    let Some(cli) = openstack_cli() else { return };
    let (file, text) = magsim_scenario::builtin()[0];
    let scenario = magsim_scenario::parse(file, text).expect("scenario");
    // Every token is already expired on the virtual clock when it is issued.
    let mock = magsim_mocks::openstack::start_with(
        Live::new(&scenario, None),
        magsim_mocks::openstack::Options {
            token_lifetime: magsim_sim::time::SimDuration::from_secs(0),
            ..Default::default()
        },
    )
    .await;
    let dir = cloud_dir("expired", &mock.clouds_yaml("mock"));
    let out = run(&cli, &dir, &["coe", "cluster", "show", "k8s"]).await;
    assert_eq!(out.code, 1);
    assert_eq!(out.stdout, "");
    // magnumclient shows keystonemiddleware's title.
    assert!(
        out.stderr
            .starts_with("Unauthorized (HTTP 401) (Request-ID: req-"),
        "{}",
        out.stderr
    );
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    // keystoneauth invalidates the token on the 401 and tries once more with a new one.
    assert_eq!(
        mock.journal
            .entries()
            .iter()
            .map(|e| format!("{} {} {}", e.method, e.path, e.status))
            .collect::<Vec<_>>(),
        [
            "POST /v3/auth/tokens 201",
            "GET /v1/clusters/k8s 401",
            "POST /v3/auth/tokens 201",
            "GET /v1/clusters/k8s 401",
        ]
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_injected_magnum_failure_is_what_the_cli_prints() {
    use magsim_mocks::openstack::{Fault, FaultKind};
    let Some(cli) = openstack_cli() else { return };
    let (file, text) = magsim_scenario::builtin()[0];
    let scenario = magsim_scenario::parse(file, text).expect("scenario");
    let mock = magsim_mocks::openstack::start(Live::new(&scenario, None)).await;
    let dir = cloud_dir("fault", &mock.clouds_yaml("mock"));
    mock.inject(
        Fault::new(Service::ContainerInfra, FaultKind::Error(503))
            .on(
                "POST",
                "/v1/clusters/c8fd0bc7-cf71-40fb-b901-c309d405d627/actions/resize",
            )
            .times(1),
    )
    .await
    .unwrap();
    let resize = [
        "coe",
        "cluster",
        "resize",
        "--nodegroup",
        "default-worker",
        "k8s",
        "6",
    ];
    let out = run(&cli, &dir, &resize).await;
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(
        out.stderr
            .starts_with("Service Unavailable (HTTP 503) (Request-ID: req-"),
        "{}",
        out.stderr
    );
    // A dropped connection, in keystoneauth's words (what the in-memory run prints too).
    mock.inject(
        Fault::new(Service::ContainerInfra, FaultKind::Drop)
            .on(
                "POST",
                "/v1/clusters/c8fd0bc7-cf71-40fb-b901-c309d405d627/actions/resize",
            )
            .times(1),
    )
    .await
    .unwrap();
    let out = run(&cli, &dir, &resize).await;
    assert_eq!(out.code, 1, "{}", out.stdout);
    let url = format!(
        "{}/v1/clusters/c8fd0bc7-cf71-40fb-b901-c309d405d627/actions/resize",
        mock.urls.magnum
    );
    assert_eq!(
        out.stderr,
        format!("Unable to establish connection to {url}: ('Connection aborted.', RemoteDisconnected('Remote end closed connection without response'))\n")
    );
    let out = run(&cli, &dir, &resize).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.stdout,
        "Request to resize cluster k8s has been accepted.\n"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A scenario's declared faults, served live, print what the in-memory run prints.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn declared_faults_print_what_the_in_memory_run_prints() {
    let Some(cli) = openstack_cli() else { return };
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/faults/operator-resize-503.yaml");
    let scenario = magsim_scenario::load(&path).expect("scenario");
    let mock = magsim_mocks::openstack::start(Live::new(&scenario, None)).await;
    let dir = cloud_dir("declared", &mock.clouds_yaml("mock"));
    let resize = [
        "coe",
        "cluster",
        "resize",
        "--nodegroup",
        "default-worker",
        "k8s",
        "6",
    ];
    mock.live()
        .advance(magsim_sim::time::SimDuration::from_secs(60));
    let out = run(&cli, &dir, &resize).await;
    assert_eq!(out.code, 1, "{}", out.stdout);
    let id = request_id_of(out.stderr.trim_end()).to_string();
    assert!(id.starts_with("req-"), "{}", out.stderr);
    // The file pins step 1's request id; the live server numbers its own.
    let in_memory =
        "Service Unavailable (HTTP 503) (Request-ID: req-5e1f0c2a-8b7d-4e3f-9a6b-1c2d3e4f5a6b)\n";
    assert_eq!(
        out.stderr,
        in_memory.replace("req-5e1f0c2a-8b7d-4e3f-9a6b-1c2d3e4f5a6b", &id)
    );
    let show = ["coe", "nodegroup", "show", "k8s", "default-worker"];
    let out = run(&cli, &dir, &show).await;
    assert_eq!(out.code, 1);
    assert!(
        out.stderr
            .starts_with("Internal Server Error (HTTP 500) (Request-ID: req-"),
        "{}",
        out.stderr
    );
    mock.live()
        .advance(magsim_sim::time::SimDuration::from_secs(60));
    let out = run(&cli, &dir, &resize).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.stdout,
        "Request to resize cluster k8s has been accepted.\n"
    );
    let out = run(&cli, &dir, &show).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Validates tokens with python-keystoneclient (`tokens.validate`, as keystonemiddleware
/// does), authenticated by `auth`: one line per subject, its project id or the error.
const VALIDATE_PY: &str = r#"
import sys
from keystoneauth1 import session, token_endpoint
from keystoneclient.v3 import client
url, auth = sys.argv[1], sys.argv[2]
ks = client.Client(session=session.Session(auth=token_endpoint.Token(url, auth)))
for subject in sys.argv[3:]:
    try:
        print("valid", ks.tokens.validate(subject).project_id)
    except Exception as e:
        print(type(e).__name__, e)
"#;

async fn validate(url: &str, auth: &str, subjects: &[&str]) -> Vec<String> {
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/python");
    let mut cmd = Command::new(python);
    cmd.env_clear()
        .env("PATH", "/usr/bin:/bin")
        .args(["-c", VALIDATE_PY, url, auth])
        .args(subjects);
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .expect("join")
        .expect("python runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.split(" (Request-ID").next().unwrap_or(l).to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_are_unguessable_and_validate_and_revoke() {
    let Some(cli) = openstack_cli() else { return };
    let (file, text) = magsim_scenario::builtin()[0];
    let scenario = magsim_scenario::parse(file, text).expect("scenario");
    let mock = magsim_mocks::openstack::start(Live::new(&scenario, None)).await;
    let dir = cloud_dir("tokens", &mock.clouds_yaml("mock"));
    let issue = ["token", "issue", "-f", "value", "-c", "id"];
    let (a, b) = (run(&cli, &dir, &issue).await, run(&cli, &dir, &issue).await);
    assert_eq!((a.code, b.code), (0, 0), "{}{}", a.stderr, b.stderr);
    let (a, b) = (a.stdout.trim().to_string(), b.stdout.trim().to_string());
    assert_ne!(a, b, "two issues, two ids");
    for id in [&a, &b] {
        assert_eq!(id.len(), 183, "Fernet-sized: {id}");
        assert!(id.starts_with("gAAAAAB"), "{id}");
    }
    let url = format!("{}/v3", mock.urls.keystone);
    let project = &mock.credentials.project_id;
    assert_eq!(
        validate(&url, &b, &[&a, "gAAAAABnot-a-token"]).await,
        [
            format!("valid {project}"),
            "NotFound Could not recognize Fernet token (HTTP 404)".to_string(),
        ]
    );
    // `token revoke` deletes it; validating or revoking it again is Keystone's 404.
    let out = run(&cli, &dir, &["token", "revoke", &a]).await;
    assert_eq!((out.code, out.stdout.as_str()), (0, ""), "{}", out.stderr);
    assert_eq!(
        validate(&url, &b, &[&a]).await,
        ["NotFound Failed to validate token (HTTP 404)"]
    );
    let out = run(&cli, &dir, &["token", "revoke", &a]).await;
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("Failed to validate token (HTTP 404)"),
        "{}",
        out.stderr
    );
    // A revoked token no longer authenticates its holder.
    assert_eq!(
        validate(&url, &a, &[&b]).await,
        ["Unauthorized The request you have made requires authentication. (HTTP 401)"]
    );
    let _ = std::fs::remove_dir_all(&dir);
}

fn json_of(out: &Output) -> serde_json::Value {
    assert_eq!(out.code, 0, "{}", out.stderr);
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", out.stdout))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nova_servers_and_flavors_as_an_operator_lists_them() {
    let Some(cli) = openstack_cli() else { return };
    let (file, text) = magsim_scenario::builtin()[0];
    let scenario = magsim_scenario::parse(file, text).expect("scenario");
    let live = Live::new(&scenario, None);
    let mock = magsim_mocks::openstack::start(live.clone()).await;
    let dir = cloud_dir("nova", &mock.clouds_yaml("mock"));

    // Flavors: the Jetstream2 list, and one shown with its (empty) properties.
    let flavor = json_of(&run(&cli, &dir, &["flavor", "show", "m3.small", "-f", "json"]).await);
    assert_eq!(
        (
            &flavor["name"],
            &flavor["vcpus"],
            &flavor["ram"],
            &flavor["disk"]
        ),
        (&"m3.small".into(), &2.into(), &6144.into(), &20.into()),
        "{flavor}"
    );
    let names = run(&cli, &dir, &["flavor", "list", "-f", "value", "-c", "Name"]).await;
    let names: Vec<&str> = names.stdout.lines().collect();
    assert!(
        names.contains(&"m3.small") && names.contains(&"g3.large"),
        "{names:?}"
    );
    let missing = run(&cli, &dir, &["flavor", "show", "m9.huge"]).await;
    assert_eq!(
        (missing.code, missing.stderr.trim()),
        (1, "No Flavor found for m9.huge")
    );

    // Servers: the incident's five nodes, ACTIVE at their InternalIPs.
    let nodes: Vec<(String, String)> = {
        let e = live.engine();
        e.world
            .machines
            .iter()
            .filter_map(|m| {
                m.node
                    .map(|id| (m.name.clone(), magsim_mocks::kube::objects::node_ip(id)))
            })
            .collect()
    };
    assert_eq!(nodes.len(), 5);
    let list = json_of(&run(&cli, &dir, &["server", "list", "-f", "json"]).await);
    let list = list.as_array().expect("a list");
    assert_eq!(list.len(), 5, "{list:?}");
    for (name, ip) in &nodes {
        let s = list
            .iter()
            .find(|s| s["Name"] == name.as_str())
            .expect("listed");
        assert_eq!(s["Status"], "ACTIVE");
        assert_eq!(s["Flavor"], "m3.small");
        assert_eq!(s["Networks"], serde_json::json!({"private": [ip]}));
    }

    // The report's mitigation: a sixth server builds, then is ACTIVE once it is a node.
    let resize = run(
        &cli,
        &dir,
        &[
            "coe",
            "cluster",
            "resize",
            "--nodegroup",
            "default-worker",
            "k8s",
            "6",
        ],
    )
    .await;
    assert_eq!(resize.code, 0, "{}", resize.stderr);
    live.advance(magsim_sim::time::SimDuration::from_secs(30));
    let list = json_of(&run(&cli, &dir, &["server", "list", "-f", "json"]).await);
    let new = &list[0];
    assert_eq!(list.as_array().map(Vec::len), Some(6), "{list}");
    assert_eq!(
        (&new["Status"], &new["Networks"]),
        (&"BUILD".into(), &serde_json::json!({})),
        "the newest first: {list}"
    );
    let name = new["Name"].as_str().unwrap().to_string();
    live.advance(magsim_sim::time::SimDuration::from_mins(10));
    let shown = json_of(&run(&cli, &dir, &["server", "show", &name, "-f", "json"]).await);
    assert_eq!(shown["status"], "ACTIVE", "{shown}");
    assert_eq!(shown["flavor"]["original_name"], "m3.small", "{shown}");
    let ip = shown["addresses"]["private"][0]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let node = {
        let e = live.engine();
        let m = e
            .world
            .machines
            .iter()
            .find(|m| m.name == name)
            .expect("its machine");
        m.node.map(magsim_mocks::kube::objects::node_ip)
    };
    assert_eq!(Some(ip), node, "the node's InternalIP");
    let missing = run(&cli, &dir, &["server", "show", "nope"]).await;
    assert_eq!(
        (missing.code, missing.stderr.trim()),
        (1, "No Server found for nope")
    );
    let _ = std::fs::remove_dir_all(&dir);
}

const KUBECTL: &str = "/usr/bin/kubectl";

fn kubectl() -> Option<PathBuf> {
    let path = PathBuf::from(KUBECTL);
    if path.exists() {
        return Some(path);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{KUBECTL} is missing and CI is set: the real-client tests must run in CI"
    );
    eprintln!("skipping: {KUBECTL} not found (set up kubectl 1.32 to run this test)");
    None
}

/// Runs `kubectl --kubeconfig <config> <args>` with an empty HOME.
async fn kubectl_with(kubectl: &Path, home: &Path, config: &Path, args: &[&str]) -> Output {
    let mut cmd = Command::new(kubectl);
    cmd.env_clear()
        .env("HOME", home)
        .arg("--kubeconfig")
        .arg(config)
        .args(args);
    output(cmd).await
}

/// How a user gets a kubeconfig: `coe cluster template list|show`, then `coe cluster config`
/// (the cluster, its template, Magnum's CA and a client certificate it signs from the
/// client's CSR), and kubectl with that file against the secure Kubernetes mock.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_config_writes_a_kubeconfig_kubectl_uses() {
    let Some(cli) = openstack_cli() else { return };
    let Some(kubectl) = kubectl() else { return };
    let (file, text) = magsim_scenario::builtin()[0];
    let scenario = magsim_scenario::parse(file, text).expect("scenario");
    let options = magsim_mocks::CloudOptions {
        secure_kube: true,
        ..Default::default()
    };
    let cloud = magsim_mocks::MockCloud::start_with(&scenario, None, &options)
        .await
        .expect("cloud starts");
    let dir = cloud_dir("config", &cloud.openstack.clouds_yaml("mock"));
    let shell = [
        (
            "OS_CLIENT_CONFIG_FILE",
            dir.join("clouds.yaml").display().to_string(),
        ),
        ("OS_CLOUD", "mock".to_string()),
        // magnumclient reads it to choose `export` or `setenv`.
        ("SHELL", "/bin/bash".to_string()),
    ];

    let out = run(&cli, &dir, &["coe", "cluster", "template", "list"]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let rows: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(rows.len(), 5, "{}", out.stdout);
    assert!(
        rows[1].starts_with("| uuid ")
            && rows[1].contains("| name ")
            && rows[1].contains("| tags |")
    );
    assert!(
        rows[3].contains("| kubernetes-1-30-jammy | None |"),
        "{}",
        out.stdout
    );

    let out = run(
        &cli,
        &dir,
        &[
            "coe",
            "cluster",
            "template",
            "show",
            "kubernetes-1-30-jammy",
        ],
    )
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    for row in [
        "| coe                   | kubernetes ",
        "| tls_disabled          | False ",
        "| public                | True ",
        "| server_type           | vm ",
        "| external_network_id   | - ",
        "| name                  | kubernetes-1-30-jammy ",
    ] {
        assert!(out.stdout.contains(row), "{row}\n{}", out.stdout);
    }
    let out = run(&cli, &dir, &["coe", "cluster", "template", "show", "nope"]).await;
    assert_eq!(out.code, 1);
    assert!(
        out.stderr
            .contains("ClusterTemplate nope could not be found"),
        "{}",
        out.stderr
    );

    // The cluster's api_address is the API server the kubeconfig will name.
    let out = run(
        &cli,
        &dir,
        &[
            "coe",
            "cluster",
            "show",
            "k8s",
            "-c",
            "api_address",
            "-f",
            "value",
        ],
    )
    .await;
    assert_eq!(out.stdout.trim(), cloud.kube.url, "{}", out.stderr);

    let conf = dir.join("conf");
    std::fs::create_dir_all(&conf).expect("conf dir");
    let conf_arg = conf.display().to_string();
    let config_args = ["coe", "cluster", "config", "k8s", "--dir", &conf_arg];
    let out = run_env(&cli, &dir, &shell, &config_args).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let config = conf.join("config");
    assert_eq!(
        out.stdout,
        format!("export KUBECONFIG={}\n\n", config.display())
    );
    let written = std::fs::read_to_string(&config).expect("config written");
    assert!(
        written.contains(&format!("    server: {}\n", cloud.kube.url)),
        "{written}"
    );
    assert!(
        written.contains("    client-certificate-data: "),
        "{written}"
    );
    assert!(
        !written.contains("token"),
        "a certificate, no token: {written}"
    );

    // kubectl authenticates with the signed client certificate alone.
    let out = kubectl_with(&kubectl, &dir, &config, &["get", "nodes", "-o", "name"]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout.lines().count(), 5, "{}", out.stdout);

    // Again without --force: magnumclient refuses to overwrite.
    let out = run_env(&cli, &dir, &shell, &config_args).await;
    assert_eq!(out.code, 1);
    assert!(
        out.stderr
            .contains(&format!("File {} exists, aborting.", config.display())),
        "{}",
        out.stderr
    );

    // A certificate another CA signed is refused in the TLS handshake.
    let other = magsim_mocks::MockCloud::start_with(&scenario, None, &options)
        .await
        .expect("second cloud");
    let other_dir = cloud_dir("config-other", &other.openstack.clouds_yaml("mock"));
    let other_shell = [
        (
            "OS_CLIENT_CONFIG_FILE",
            other_dir.join("clouds.yaml").display().to_string(),
        ),
        shell[1].clone(),
        shell[2].clone(),
    ];
    let other_arg = other_dir.display().to_string();
    let out = run_env(
        &cli,
        &other_dir,
        &other_shell,
        &["coe", "cluster", "config", "k8s", "--dir", &other_arg],
    )
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    // The first cluster's CA and server, the second one's client certificate and key.
    let second = std::fs::read_to_string(other_dir.join("config")).expect("second config");
    let user = |text: &str| text[text.find("- name: admin").expect("user")..].to_string();
    let foreign = written.replace(&user(&written), &user(&second));
    assert_ne!(foreign, written);
    let foreign_path = other_dir.join("foreign");
    std::fs::write(&foreign_path, foreign).expect("foreign config");
    let out = kubectl_with(&kubectl, &other_dir, &foreign_path, &["get", "nodes"]).await;
    assert_ne!(out.code, 0, "{}", out.stdout);
    assert!(
        !out.stderr
            .contains("certificate signed by unknown authority"),
        "{}",
        out.stderr
    );
}
